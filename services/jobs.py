"""Scheduled jobs of the service (APScheduler), registered in one place.

Each job is an async callable built from the services; `register_jobs` adds them to the
scheduler that `bot/app.py` starts. Jobs log ids only, never personal data.
"""
from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)


@dataclass
class JobSpec:
    """One job: `trigger` and `trigger_args` as APScheduler takes them (e.g. "interval", {"seconds": 60})."""

    id: str
    func: Callable[[], Awaitable[Any]]
    trigger: str
    trigger_args: dict[str, Any] = field(default_factory=dict)
    run_at_start: bool = False


def _guarded(spec: JobSpec) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        try:
            await spec.func()
        except Exception:  # noqa: BLE001 - a failed run is retried at the next trigger
            log.exception("scheduled job %s failed", spec.id)

    return run


def register_jobs(scheduler: AsyncIOScheduler, specs: list[JobSpec]) -> None:
    from datetime import datetime, timezone

    for spec in specs:
        extra: dict[str, Any] = {}
        if spec.run_at_start:
            extra["next_run_time"] = datetime.now(timezone.utc)
        scheduler.add_job(
            _guarded(spec), spec.trigger, id=spec.id, max_instances=1, coalesce=True,
            misfire_grace_time=300, **spec.trigger_args, **extra,
        )


def service_jobs(services: Any, *, wake_dispatcher: Callable[[], None]) -> list[JobSpec]:
    """The features' periodic jobs (the journal sync is added by the wiring itself).

    Add one entry per job; `services` is `services.container.Services`."""
    return []
