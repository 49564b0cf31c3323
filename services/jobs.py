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
    return [
        # term results (issue 5): weekly and at-risk forecast pushes, due in each school's time
        JobSpec("forecast-pushes", _forecast_pushes(services, wake_dispatcher), "interval",
                {"minutes": services.settings.forecast_check_minutes}),
        # contacts, e-mail, paper (issue 6): new final grades of pupils on paper → the paper queue
        JobSpec("paper-queue", services.paper.queue_final_grades, "interval", {"minutes": 10}, True),
        # one-day rule (issue 5): settle result deliveries, alarm admins once about overdue results
        JobSpec("delivery-check", _delivery_check(services, wake_dispatcher), "interval",
                {"seconds": services.settings.delivery_check_seconds}),
        # consent lifecycle (issue 6): re-ask after a new consent text; reminders and erasures
        JobSpec("consent-reask", _waking(services.consent.reask_outdated, wake_dispatcher), "interval",
                {"hours": 1}, True),
        JobSpec("privacy-erasure", _erasure_round(services, wake_dispatcher), "interval", {"minutes": 10}, True),
    ]


def _waking(func: Callable[[], Awaitable[int]], wake_dispatcher: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """Run `func`; wake the dispatcher when it wrote messages (returned a positive count)."""

    async def run() -> None:
        if await func():
            wake_dispatcher()

    return run


def _erasure_round(services: Any, wake_dispatcher: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """Erasure reminders, due erasures and expired proofs (services/erasure.py)."""

    async def run() -> None:
        report = await services.erasure.run_due()
        if report.reminded:
            wake_dispatcher()

    return run


def _delivery_check(services: Any, wake_dispatcher: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """The one-day rule's round (services/delivery.py); wakes the dispatcher for alarms."""

    async def run() -> None:
        report = await services.delivery.check()
        if report.alarm_messages:
            wake_dispatcher()

    return run


def _forecast_pushes(services: Any, wake_dispatcher: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """Forecast pushes due now (services/forecast_push.py); wakes the dispatcher when any were written."""

    async def run() -> None:
        if await services.forecast_push.run_due():
            wake_dispatcher()

    return run
