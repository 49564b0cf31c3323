"""A running demo journal: the generated school behind an exchange-v1 HTTP server, with a
teacher who keeps saving new marks.

    journal = DemoJournal(mark_every_seconds=60)
    url = await journal.start()      # JOURNAL_URL; JOURNAL_TOKEN is journal.token
    ...
    await journal.stop()

``python -m services.demo.journal [--port 8081]`` runs one until interrupted and prints the
URL, the token and the guardians' phones to link with.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from .feed import ChangeFeed
from .school import DEFAULT_TZ, demo_guardians, generate_school, occurred_times
from .server import JournalServer
from .ticker import make_new_mark

__all__ = ["DemoJournal", "populate_feed"]

log = logging.getLogger(__name__)


def populate_feed(
    feed: ChangeFeed, records: list[tuple[str, str, dict]], *, now: datetime, tz: str = DEFAULT_TZ
) -> None:
    """Upsert generated records in order, each with a plausible historical ``occurred_at``."""
    for (entity, rid, data), moment in zip(records, occurred_times(records, now=now, tz=tz)):
        feed.upsert(entity, rid, data, occurred_at=moment)


class DemoJournal:
    """The demo school served over HTTP on ``host`` (loopback) and a random port.

    ``today`` pins the demo's date (its clock then runs from that date at the current time
    of day); by default it is today in the school's zone. ``mark_every_seconds`` 0 or None
    disables the background marks.
    """

    def __init__(
        self,
        *,
        today: date | None = None,
        seed: int = 2026,
        mark_every_seconds: float | None = 180.0,
        token: str = "demo-token",
        tz: str = DEFAULT_TZ,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.seed = seed
        self.mark_every_seconds = mark_every_seconds
        self.tz = tz
        self._zone = ZoneInfo(tz)
        self._token = token
        self._host, self._port = host, port
        real_now = datetime.now(self._zone)
        self._offset = timedelta(0)
        if today is not None:
            self._offset = datetime.combine(today, real_now.timetz()) - real_now
        self._feed = ChangeFeed(tz=self._zone, clock=self.now)
        self._server = JournalServer(self._feed, token=token)
        self._rng = random.Random(f"ticker:{seed}")
        self._task: asyncio.Task | None = None
        self._url: str | None = None
        self.records: list[tuple[str, str, dict]] = []

    def now(self) -> datetime:
        """The demo's clock: aware, in the school's zone."""
        return datetime.now(self._zone) + self._offset

    @property
    def url(self) -> str | None:
        return self._url

    @property
    def token(self) -> str:
        return self._token

    @property
    def feed(self) -> ChangeFeed:
        return self._feed

    @property
    def server(self) -> JournalServer:
        return self._server

    def guardians(self) -> list[dict]:
        """Guardians with phones and children (see `school.demo_guardians`)."""
        return demo_guardians(self.records)

    async def start(self) -> str:
        if self._url is not None:
            return self._url
        now = self.now()
        self.records = await asyncio.to_thread(
            generate_school, now.date(), seed=self.seed, tz=self.tz,
            as_of=now.time().replace(tzinfo=None),
        )
        populate_feed(self._feed, self.records, now=now, tz=self.tz)
        self._url = await self._server.start(self._host, self._port)
        if self.mark_every_seconds:
            self._task = asyncio.create_task(self._tick_loop(), name="demo-journal-marks")
        return self._url

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._server.stop()
        self._url = None

    async def __aenter__(self) -> "DemoJournal":
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self.stop()

    async def _tick_loop(self) -> None:
        interval = float(self.mark_every_seconds or 0)
        while True:
            await asyncio.sleep(interval)
            try:
                change = make_new_mark(self._feed, self._rng, self.now())
            except Exception:  # noqa: BLE001 - the demo goes on
                log.exception("demo journal: could not make a new mark")
            else:
                log.debug("demo journal: new mark %s", change["id"])


async def _serve(args: argparse.Namespace) -> None:
    journal = DemoJournal(
        seed=args.seed, mark_every_seconds=args.every, token=args.token, host=args.host,
        port=args.port, today=date.fromisoformat(args.today) if args.today else None,
    )
    url = await journal.start()
    print(f"JOURNAL_URL={url}\nJOURNAL_TOKEN={journal.token}")
    print(f"{len(journal.feed)} records, last seq {journal.feed.last_seq}; guardians:")
    for g in journal.guardians():
        kids = ", ".join(f"{c['student_id']} {c['full_name']} ({c['class_name']})" for c in g["children"])
        print(f"  {g['phone']}  {g['full_name']}: {kids}")
    try:
        await asyncio.Event().wait()
    finally:
        await journal.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the exchange-v1 demo journal.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--token", default="demo-token")
    parser.add_argument("--every", type=float, default=180.0, help="seconds between new marks")
    parser.add_argument("--today", help="pin the demo date, YYYY-MM-DD")
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(parser.parse_args()))


if __name__ == "__main__":
    main()
