"""The sandbox's teacher: new marks in the demo journal that a visitor will actually see.

The demo journal's own ticker marks a random pupil of about eighty, so a parent in the page
would wait an hour for news. This one marks the pupils whose guardian's phone was shared in
the page (any pupil until then), every ``every_seconds`` and on request ("a mark now").
It uses the demo's own `make_new_mark`, shown a feed in which only those pupils exist.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Iterable
from typing import Any

from services.demo.feed import ChangeFeed
from services.demo.journal import DemoJournal
from services.demo.ticker import make_new_mark

log = logging.getLogger(__name__)


class _PupilsView:
    """The feed as it is, except that ``records("student")`` holds only ``pupils``."""

    def __init__(self, feed: ChangeFeed, pupils: frozenset[str]) -> None:
        self._feed = feed
        self._pupils = pupils

    def records(self, entity: str, *args: Any, **kwargs: Any) -> dict:
        found = self._feed.records(entity, *args, **kwargs)
        if entity != "student":
            return found
        return {rid: data for rid, data in found.items() if rid in self._pupils}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._feed, name)


class SandboxTeacher:
    def __init__(self, journal: DemoJournal, every_seconds: float | None, *, seed: str = "sandbox") -> None:
        self._journal = journal
        self.every_seconds = every_seconds or None
        self._rng = random.Random(f"sandbox-marks:{seed}")
        self._focus: set[str] = set()
        self._task: asyncio.Task | None = None

    @property
    def focus(self) -> frozenset[str]:
        return frozenset(self._focus)

    def focus_on(self, student_ids: Iterable[str]) -> None:
        """From now on new marks go to these pupils too (their guardian's phone was shared)."""
        self._focus.update(student_ids)

    def save_mark(self) -> dict:
        """One new mark now; returns the change envelope (``id``, ``data`` ...)."""
        feed = self._journal.feed
        view = _PupilsView(feed, frozenset(self._focus)) if self._focus else feed
        change = make_new_mark(view, self._rng, self._journal.now())  # type: ignore[arg-type]
        log.info("sandbox: the teacher saved mark %s", change.get("id"))
        return change

    def start(self) -> None:
        if self.every_seconds and self._task is None:
            self._task = asyncio.create_task(self._loop(), name="sandbox-teacher")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self) -> None:
        assert self.every_seconds
        while True:
            await asyncio.sleep(self.every_seconds)
            try:
                self.save_mark()
            except Exception:  # noqa: BLE001 - the demo goes on
                log.exception("sandbox: could not save a new mark")
