"""`apply`: one page of exchange-v1 changes → mirror rows, events, outbox rows and the cursor,
in one transaction.

Idempotent: a change whose `seq` is not newer than the stored row's is skipped, and an upsert
whose data equals the stored row changes nothing and notifies nobody. A malformed change is
quarantined with its reason; the rest of the page is applied.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.sync import fanout
from services.sync.records import APPLY_ORDER, ENTITIES, Malformed, normalize, optional_timestamp, ref, references
from storage.models import MIRROR_MODELS, Event, QuarantinedRecord, SyncState, utcnow

log = logging.getLogger(__name__)

_CHUNK = 500


@dataclass(frozen=True)
class Page:
    """One answer of the change feed (contract section 2)."""

    changes: list[Any]
    next_cursor: str | None
    has_more: bool


@dataclass(frozen=True)
class Change:
    seq: int
    entity: str
    op: str
    id: str
    occurred_at: datetime | None
    data: Any
    raw: dict[str, Any]


@dataclass
class ApplyReport:
    received: int = 0
    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    stale: int = 0
    quarantined: int = 0
    outbox: int = 0
    by_entity: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def events(self) -> int:
        return self.created + self.updated + self.deleted


def parse_envelope(raw: Any) -> Change:
    """The change's envelope, or `Malformed`."""
    if not isinstance(raw, dict):
        raise Malformed("change must be an object")
    seq = raw.get("seq")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        raise Malformed("missing or invalid 'seq'")
    entity = raw.get("entity")
    if entity not in ENTITIES:
        raise Malformed(f"unknown entity {entity!r}")
    op = raw.get("op")
    if op not in ("upsert", "delete"):
        raise Malformed(f"unknown op {op!r}")
    try:
        record_id = ref(raw.get("id"))
        occurred_at = optional_timestamp(raw.get("occurred_at"))
    except Malformed as exc:
        raise Malformed(f"envelope: {exc}") from None
    data = raw.get("data")
    if op == "upsert" and not isinstance(data, dict):
        raise Malformed("upsert without a 'data' object")
    return Change(seq, entity, op, record_id, occurred_at, data, raw)


def _quarantine(session: AsyncSession, source: str, raw: Any, reason: str) -> None:
    info = raw if isinstance(raw, dict) else {}
    seq = info.get("seq") if isinstance(info.get("seq"), int) and not isinstance(info.get("seq"), bool) else None
    session.add(
        QuarantinedRecord(
            source=source,
            seq=seq,
            entity=str(info["entity"])[:64] if info.get("entity") is not None else None,
            external_id=str(info["id"])[:255] if info.get("id") is not None else None,
            raw=raw if isinstance(raw, dict) else {"value": repr(raw)[:10000]},
            reason=reason,
        )
    )
    log.warning("quarantined journal change seq=%s entity=%s: %s", seq, info.get("entity"), reason)


async def _load_rows(session: AsyncSession, source: str, entity: str, ids: set[str]) -> dict[str, Any]:
    model = MIRROR_MODELS[entity]
    rows: dict[str, Any] = {}
    id_list = sorted(ids)
    for i in range(0, len(id_list), _CHUNK):
        chunk = id_list[i : i + _CHUNK]
        result = await session.scalars(select(model).where(model.source == source, model.external_id.in_(chunk)))
        rows.update({row.external_id: row for row in result})
    return rows


async def _load_known(session: AsyncSession, source: str, entity: str, ids: set[str]) -> set[str]:
    model = MIRROR_MODELS[entity]
    known: set[str] = set()
    id_list = sorted(ids)
    for i in range(0, len(id_list), _CHUNK):
        chunk = id_list[i : i + _CHUNK]
        result = await session.scalars(
            select(model.external_id).where(
                model.source == source, model.external_id.in_(chunk), model.deleted_at.is_(None)
            )
        )
        known.update(result)
    return known


def _snapshot(row: Any, entity: str) -> dict[str, Any]:
    return {spec.target: getattr(row, spec.target) for spec in ENTITIES[entity]}


async def apply_changes(
    session: AsyncSession, source: str, raw_changes: list[Any], *, notify: bool
) -> ApplyReport:
    """Apply changes inside the caller's transaction. `notify=False` during the first full sync."""
    report = ApplyReport(received=len(raw_changes))
    parsed: list[tuple[Change, dict[str, Any] | None]] = []
    for raw in raw_changes:
        try:
            change = parse_envelope(raw)
            values = normalize(change.entity, change.data) if change.op == "upsert" else None
        except Malformed as exc:
            _quarantine(session, source, raw, str(exc))
            report.quarantined += 1
            continue
        parsed.append((change, values))
    # References first: a page may carry a pupil after their marks.
    parsed.sort(key=lambda cv: (APPLY_ORDER[cv[0].entity], cv[0].seq))

    ids: dict[str, set[str]] = defaultdict(set)
    referenced: dict[str, set[str]] = defaultdict(set)
    for change, values in parsed:
        ids[change.entity].add(change.id)
        if values is not None:
            for _field, entity, ref_id in references(change.entity, values):
                referenced[entity].add(ref_id)
    rows = {entity: await _load_rows(session, source, entity, s) for entity, s in ids.items()}
    known = {entity: await _load_known(session, source, entity, s) for entity, s in referenced.items()}

    now = utcnow()
    for change, values in parsed:
        model = MIRROR_MODELS[change.entity]
        entity_rows = rows[change.entity]
        row = entity_rows.get(change.id)
        if row is not None and row.last_seq >= change.seq:
            report.stale += 1
            continue

        if change.op == "delete":
            if row is None or row.deleted_at is not None:
                if row is not None:
                    row.last_seq = change.seq
                report.unchanged += 1
                continue
            before = _snapshot(row, change.entity)
            row.deleted_at, row.last_seq, row.occurred_at = now, change.seq, change.occurred_at
            known.get(change.entity, set()).discard(change.id)
            report.deleted += 1
            report.by_entity[change.entity] += 1
            if notify:
                event = _event(session, source, change, "deleted", {"before": _jsonable(before)})
                await session.flush()
                report.outbox += await fanout.on_event(session, source, change.entity, event, row, before)
            continue

        assert values is not None
        missing = [
            (fname, entity, ref_id)
            for fname, entity, ref_id in references(change.entity, values)
            if ref_id not in known.setdefault(entity, set())
        ]
        if missing:
            fname, entity, ref_id = missing[0]
            _quarantine(session, source, change.raw, f"unknown {entity} {ref_id!r} in field '{fname}'")
            report.quarantined += 1
            continue

        before: dict[str, Any] | None
        if row is None:
            row = model(source=source, external_id=change.id, last_seq=change.seq, occurred_at=change.occurred_at, **values)
            session.add(row)
            entity_rows[change.id] = row
            kind, changes, before = "created", None, None
        elif row.deleted_at is not None:
            for column, value in values.items():
                setattr(row, column, value)
            row.deleted_at, row.last_seq, row.occurred_at = None, change.seq, change.occurred_at
            kind, changes, before = "created", None, None
        else:
            before = _snapshot(row, change.entity)
            diff = {c: v for c, v in values.items() if getattr(row, c) != v}
            row.last_seq = change.seq
            if not diff:
                report.unchanged += 1
                known.setdefault(change.entity, set()).add(change.id)
                continue
            for column, value in diff.items():
                setattr(row, column, value)
            row.occurred_at = change.occurred_at
            kind = "updated"
            changes = {c: [_jsonable(before.get(c)), _jsonable(v)] for c, v in diff.items()}
        known.setdefault(change.entity, set()).add(change.id)
        setattr(report, kind, getattr(report, kind) + 1)
        report.by_entity[change.entity] += 1
        if notify:  # the first full sync is history: no events, no messages
            event = _event(session, source, change, kind, changes)
            await session.flush()
            report.outbox += await fanout.on_event(session, source, change.entity, event, row, before)
    return report


def _event(session: AsyncSession, source: str, change: Change, kind: str, changes: dict | None) -> Event:
    event = Event(
        source=source,
        entity=change.entity,
        external_id=change.id,
        seq=change.seq,
        kind=kind,
        changes=changes,
        occurred_at=change.occurred_at,
    )
    session.add(event)
    return event


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


async def lock_state(session: AsyncSession, source: str) -> SyncState:
    """The source's sync state, locked for this transaction (PostgreSQL) so that pages of one
    source (pull and push) are applied one at a time."""
    state = await session.scalar(select(SyncState).where(SyncState.source == source).with_for_update())
    if state is None:
        state = SyncState(source=source, pages_applied=0, changes_applied=0)
        session.add(state)
        await session.flush()
    return state


async def apply(
    sessions: async_sessionmaker[AsyncSession], source: str, page: Page
) -> ApplyReport:
    """Apply one pulled page and store its cursor, in one transaction.

    Until the first full sync has reached the end of the feed (`has_more` false), nothing is
    notified: that is history, not news."""
    async with sessions.begin() as session:
        state = await lock_state(session, source)
        report = await apply_changes(session, source, page.changes, notify=state.bootstrapped_at is not None)
        now = utcnow()
        if page.next_cursor is not None:
            state.cursor = page.next_cursor
        if not page.has_more and state.bootstrapped_at is None:
            state.bootstrapped_at = now
        state.pages_applied += 1
        state.changes_applied += report.received
        state.last_success_at = now
        state.last_error = None
    return report
