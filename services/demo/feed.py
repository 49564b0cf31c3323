"""In-memory state and change log of an exchange-v1 journal provider.

`ChangeFeed` keeps every record's latest change and serves the pull semantics of
``GET /v1/changes`` (contract journal-exchange-v1, section 2):

* the cursor is the last ``seq`` delivered, as a decimal string;
* without a cursor the feed replays the current state: for every live record its latest
  change as an upsert, in ``seq`` order (deleted records are omitted);
* with a cursor it returns, for every record changed after the cursor, only its latest
  change (deletes included), in ``seq`` order.

The log is a list ordered by ``seq``; a dict maps each record to the ``seq`` of its latest
change, so superseded entries are skipped while paging and compacted away once they make up
most of the log. Paging through the whole feed is linear in its size.
"""
from __future__ import annotations

import asyncio
import bisect
import logging
from collections.abc import Callable, Hashable, Iterator
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

__all__ = ["BadCursor", "ChangeFeed", "MAX_LIMIT", "DEFAULT_LIMIT", "format_time"]

log = logging.getLogger(__name__)

DEFAULT_LIMIT = 500
MAX_LIMIT = 1000
_COMPACT_MIN = 1024


class BadCursor(ValueError):
    """The cursor is not a decimal integer or lies beyond the last ``seq``."""


def format_time(moment: datetime, tz: tzinfo) -> str:
    """RFC 3339 with an offset, seconds precision; a naive time is taken as local to ``tz``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.isoformat(timespec="seconds")


def _copy_json(value):
    """A deep copy of JSON-like data (dicts, lists, scalars), faster than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: _copy_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy_json(v) for v in value]
    if isinstance(value, tuple):
        return [_copy_json(v) for v in value]
    return value


def _copy_change(change: dict) -> dict:
    out = dict(change)
    if "data" in out:
        out["data"] = _copy_json(out["data"])
    return out


class ChangeFeed:
    """The provider's records and change log.

    ``tz`` is the zone used for ``occurred_at`` when none is given (the current time there)
    and for naive datetimes. ``clock`` returns "now" (aware); tests may replace it.
    ``on_change`` holds callables invoked synchronously with every appended change.
    """

    def __init__(
        self,
        *,
        tz: str | tzinfo = "Asia/Yekaterinburg",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.tz: tzinfo = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.clock: Callable[[], datetime] = clock or (lambda: datetime.now(self.tz))
        self.on_change: list[Callable[[dict], object]] = []
        self._seqs: list[int] = []  # ascending
        self._changes: list[dict] = []  # parallel to _seqs
        self._keys: list[Hashable] = []  # parallel to _seqs
        self._latest_seq: dict[Hashable, int] = {}  # record key -> seq of its latest change
        self._latest: dict[str, dict[str, dict]] = {}  # entity -> id -> latest change
        self._superseded = 0
        self._last_seq = 0
        self._waiters: list[asyncio.Future] = []

    # ------------------------------------------------------------------ writing

    def upsert(
        self, entity: str, id: str, data: dict, *, occurred_at: datetime | str | None = None
    ) -> dict:
        """Store the whole record ``data`` and append an upsert; return the envelope."""
        if not isinstance(data, dict):
            raise TypeError("data must be a dict")
        change = {
            "seq": self._last_seq + 1,
            "entity": entity,
            "op": "upsert",
            "id": id,
            "occurred_at": self._occurred_at(occurred_at),
            "data": _copy_json(data),
        }
        self._append(change)
        return _copy_change(change)

    def delete(self, entity: str, id: str, *, occurred_at: datetime | str | None = None) -> dict:
        """Append a delete (no ``data``) for the record; return the envelope."""
        change = {
            "seq": self._last_seq + 1,
            "entity": entity,
            "op": "delete",
            "id": id,
            "occurred_at": self._occurred_at(occurred_at),
        }
        self._append(change)
        return _copy_change(change)

    def append_raw(self, change: dict) -> dict:
        """Append ``change`` verbatim (it may be malformed), assigning ``seq`` if missing.

        A given ``seq`` must be an int greater than the last one. A change whose ``entity``
        and ``id`` are strings supersedes earlier changes of that record; anything else is
        a record of its own and is always delivered.
        """
        if not isinstance(change, dict):
            raise TypeError("change must be a dict")
        change = _copy_json(change)
        if "seq" not in change:
            change = {"seq": self._last_seq + 1, **change}
        seq = change["seq"]
        if isinstance(seq, bool) or not isinstance(seq, int) or seq <= self._last_seq:
            raise ValueError(f"seq must be an int greater than {self._last_seq}, got {seq!r}")
        self._append(change)
        return _copy_change(change)

    def _occurred_at(self, occurred_at: datetime | str | None) -> str:
        if occurred_at is None:
            occurred_at = self.clock()
        if isinstance(occurred_at, str):
            return occurred_at
        return format_time(occurred_at, self.tz)

    def _append(self, change: dict) -> None:
        seq = change["seq"]
        entity, rid = change.get("entity"), change.get("id")
        well_formed = isinstance(entity, str) and isinstance(rid, str)
        key: Hashable = (entity, rid) if well_formed else ("\0raw", seq)
        previous = self._latest_seq.get(key)
        if previous is not None:
            self._superseded += 1
        self._latest_seq[key] = seq
        if well_formed:
            self._latest.setdefault(entity, {})[rid] = change
        self._seqs.append(seq)
        self._changes.append(change)
        self._keys.append(key)
        self._last_seq = seq
        if self._superseded >= _COMPACT_MIN and self._superseded * 2 > len(self._seqs):
            self._compact()
        self._notify(change)

    def _compact(self) -> None:
        keep = [
            i for i, (seq, key) in enumerate(zip(self._seqs, self._keys))
            if self._latest_seq.get(key) == seq
        ]
        self._seqs = [self._seqs[i] for i in keep]
        self._changes = [self._changes[i] for i in keep]
        self._keys = [self._keys[i] for i in keep]
        self._superseded = 0

    def _notify(self, change: dict) -> None:
        for callback in list(self.on_change):
            try:
                callback(_copy_change(change))
            except Exception:  # noqa: BLE001 - a listener must not break the feed
                log.exception("on_change callback failed")
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                loop = fut.get_loop()
                if loop.is_closed():
                    continue
                loop.call_soon_threadsafe(_resolve, fut)

    # ------------------------------------------------------------------ reading

    @property
    def last_seq(self) -> int:
        """The ``seq`` of the last appended change (0 for an empty feed)."""
        return self._last_seq

    def __len__(self) -> int:
        """The number of records whose latest change is not a delete."""
        return sum(
            1 for changes in self._latest.values() for c in changes.values()
            if c.get("op") != "delete"
        )

    def get(self, entity: str, id: str) -> dict | None:
        """The current data of a record, or None when it is unknown or deleted."""
        change = self._latest.get(entity, {}).get(id)
        if change is None or change.get("op") != "upsert" or not isinstance(change.get("data"), dict):
            return None
        return _copy_json(change["data"])

    def records(self, entity: str) -> dict[str, dict]:
        """Current data of every live record of ``entity``, by id, in order of last change."""
        items = [
            (c["seq"], rid, c["data"]) for rid, c in self._latest.get(entity, {}).items()
            if c.get("op") == "upsert" and isinstance(c.get("data"), dict)
        ]
        items.sort(key=lambda item: item[0])
        return {rid: _copy_json(data) for _, rid, data in items}

    def known_ids(self, entity: str) -> set[str]:
        """Every id ever used for ``entity``, deleted ones included (never reuse them)."""
        return set(self._latest.get(entity, {}))

    def entities(self) -> list[str]:
        return list(self._latest)

    def page(self, cursor: str | None, limit: int = DEFAULT_LIMIT) -> dict:
        """One page of the pull API: ``{"changes", "next_cursor", "has_more"}``."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise ValueError(f"limit must be an integer in 1..{MAX_LIMIT}")
        after = self.parse_cursor(cursor)
        replay = after is None
        start = 0 if replay else bisect.bisect_right(self._seqs, after)
        picked: list[dict] = []
        has_more = False
        for change in self._iter_latest(start):
            if replay and change.get("op") == "delete":
                continue
            if len(picked) == limit:
                has_more = True
                break
            picked.append(change)
        if picked:
            next_cursor = str(picked[-1]["seq"])
        else:
            next_cursor = "0" if after is None else str(after)
        return {
            "changes": [_copy_change(c) for c in picked],
            "next_cursor": next_cursor,
            "has_more": has_more,
        }

    def parse_cursor(self, cursor: str | None) -> int | None:
        """The seq a cursor stands for (None for "from the beginning"); BadCursor if invalid."""
        if cursor is None or cursor == "":
            return None
        if (
            not isinstance(cursor, str) or not cursor.isascii() or not cursor.isdigit()
            or len(cursor) > 30
        ):
            raise BadCursor(f"cursor must be a decimal integer, got {cursor!r}")
        value = int(cursor)
        if value > self._last_seq:
            raise BadCursor(f"cursor {cursor} is beyond the last seq {self._last_seq}")
        return value

    def _iter_latest(self, start: int) -> Iterator[dict]:
        seqs, keys, changes, latest = self._seqs, self._keys, self._changes, self._latest_seq
        for i in range(start, len(seqs)):
            if latest.get(keys[i]) == seqs[i]:
                yield changes[i]

    # ------------------------------------------------------------------ waiting

    async def wait_for_change(self, after_seq: int, timeout: float) -> bool:
        """Wait until a change with ``seq > after_seq`` exists; False on timeout."""
        if self._last_seq > after_seq:
            return True
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        try:
            await asyncio.wait_for(fut, timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            if fut in self._waiters:
                self._waiters.remove(fut)
        return self._last_seq > after_seq


def _resolve(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)
