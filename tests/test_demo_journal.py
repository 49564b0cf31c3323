"""The demo exchange-v1 journal: change feed, HTTP server, generated school, ticker."""
from __future__ import annotations

import asyncio
import random
import re
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp
import pytest
import pytest_asyncio

from services.demo.feed import BadCursor, ChangeFeed
from services.demo.journal import DemoJournal, populate_feed
from services.demo.school import demo_guardians, generate_school, guardian_phones
from services.demo.server import JournalServer
from services.demo.ticker import make_new_mark

TZ = ZoneInfo("Asia/Yekaterinburg")
TODAY = date(2026, 11, 25)  # a Wednesday of the second quarter
T0 = datetime(2026, 11, 25, 9, 15, tzinfo=TZ)

# ---------------------------------------------------------------------------- contract
# A validator written from the contract's entity table (section 4), independent of the
# service's code: (required?, check) per field; no other fields are allowed here.

DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CLOCK_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$")
E164_RU = re.compile(r"^\+79\d{9}$")
MARK_VALUES = {"1", "2", "3", "4", "5", "зач", "незач", "н/а", "осв"}


def is_str(v):
    return isinstance(v, str) and v != ""


def is_date(v):
    if not (isinstance(v, str) and DATE_RE.match(v)):
        return False
    date.fromisoformat(v)
    return True


def is_clock(v):
    return isinstance(v, str) and bool(CLOCK_RE.match(v))


def is_time(v):
    return isinstance(v, str) and bool(RFC3339_RE.match(v)) and datetime.fromisoformat(v).tzinfo


def is_int(lo, hi=None):
    return lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= lo and (hi is None or v <= hi)


def enum(*values):
    return lambda v: v in values


def ref(entity):
    def check(v):
        return isinstance(v, str) and v != ""
    check.ref = entity
    return check


def ref_list(entity):
    def check(v):
        return isinstance(v, list) and all(isinstance(x, str) and x for x in v)
    check.ref_list = entity
    return check


def is_tz(v):
    try:
        ZoneInfo(v)
        return True
    except Exception:  # noqa: BLE001
        return False


def is_moved_from(v):
    return isinstance(v, dict) and set(v) == {"date", "number"} and is_date(v["date"]) and is_int(1)(v["number"])


def is_attachments(v):
    return isinstance(v, list) and all(
        isinstance(a, dict) and set(a) == {"name", "url"} and is_str(a["name"])
        and isinstance(a["url"], str) and a["url"].startswith("https://example.org/")
        for a in v
    )


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0


R, O = True, False  # required, optional (may be null or absent)
CONTRACT = {
    "school": {"name": (R, is_str), "timezone": (R, is_tz), "address": (O, is_str)},
    "period": {"school_id": (R, ref("school")),
               "kind": (R, enum("quarter", "trimester", "half", "year")),
               "name": (R, is_str), "starts_on": (R, is_date), "ends_on": (R, is_date)},
    "class": {"school_id": (R, ref("school")), "name": (R, is_str), "grade": (R, is_int(1, 11))},
    "subject": {"school_id": (R, ref("school")), "name": (R, is_str)},
    "teacher": {"school_id": (R, ref("school")), "full_name": (R, is_str)},
    "student": {"school_id": (R, ref("school")), "class_id": (R, ref("class")),
                "full_name": (R, is_str), "birth_date": (O, is_date),
                "groups": (O, lambda v: isinstance(v, list) and all(is_str(x) for x in v)),
                "individual_plan": (O, lambda v: isinstance(v, bool))},
    "guardian": {"school_id": (R, ref("school")), "full_name": (R, is_str),
                 "phone": (O, lambda v: isinstance(v, str) and bool(E164_RU.match(v))),
                 "email": (O, lambda v: isinstance(v, str) and "@" in v),
                 "student_ids": (R, ref_list("student"))},
    "assignment": {"class_id": (R, ref("class")), "subject_id": (O, ref("subject")),
                   "teacher_id": (R, ref("teacher")),
                   "role": (R, enum("subject_teacher", "class_teacher")),
                   "group": (O, is_str), "student_id": (O, ref("student"))},
    "curriculum": {"class_id": (R, ref("class")), "subject_id": (R, ref("subject")),
                   "period_id": (R, ref("period")), "planned_lessons": (R, is_int(0))},
    "lesson": {"class_id": (R, ref("class")), "subject_id": (R, ref("subject")),
               "teacher_id": (R, ref("teacher")), "date": (R, is_date), "number": (R, is_int(1)),
               "starts_at": (R, is_clock), "ends_at": (R, is_clock), "room": (O, is_str),
               "topic": (O, is_str),
               "kind": (R, enum("regular", "test", "lab", "excursion", "other")),
               "status": (R, enum("planned", "held", "cancelled")), "group": (O, is_str),
               "substitute_teacher_id": (O, ref("teacher")), "moved_from": (O, is_moved_from)},
    "assessment": {"class_id": (R, ref("class")), "subject_id": (R, ref("subject")),
                   "date": (R, is_date), "lesson_number": (O, is_int(1)), "title": (R, is_str),
                   "kind": (R, enum("control", "test", "vpr", "other"))},
    "homework": {"class_id": (R, ref("class")), "subject_id": (R, ref("subject")),
                 "lesson_id": (O, ref("lesson")), "assigned_on": (R, is_date),
                 "due_on": (R, is_date), "text": (R, is_str), "attachments": (R, is_attachments)},
    "mark": {"student_id": (R, ref("student")), "subject_id": (R, ref("subject")),
             "date": (R, is_date), "value": (R, enum(*MARK_VALUES)), "weight": (R, is_number),
             "kind": (R, enum("answer", "test", "control", "homework", "other")),
             "teacher_id": (O, ref("teacher")), "lesson_id": (O, ref("lesson")),
             "comment": (O, is_str)},
    "final_grade": {"student_id": (R, ref("student")), "subject_id": (R, ref("subject")),
                    "period_id": (O, ref("period")),
                    "kind": (R, enum("period", "year", "exam", "certificate")),
                    "title": (O, is_str), "value": (O, lambda v: v in MARK_VALUES or is_str(v)),
                    "status": (R, enum("final", "deferred")), "deferred_until": (O, is_date),
                    "set_at": (R, is_time)},
    "holiday": {"school_id": (R, ref("school")), "name": (R, is_str), "starts_on": (R, is_date),
                "ends_on": (R, is_date), "class_ids": (O, ref_list("class"))},
    "recommendation": {"student_id": (R, ref("student")), "subject_id": (O, ref("subject")),
                       "teacher_id": (R, ref("teacher")), "date": (R, is_date),
                       "text": (R, is_str)},
}
ENTITY_ORDER = list(CONTRACT)


def contract_errors(records) -> list[str]:
    """Field, enum and format errors, plus references that do not resolve to an earlier record."""
    errors = []
    seen: dict[str, set[str]] = defaultdict(set)
    for entity, rid, data in records:
        where = f"{entity} {rid}"
        if entity not in CONTRACT:
            errors.append(f"{where}: unknown entity")
            continue
        if not is_str(rid):
            errors.append(f"{where}: id must be a non-empty string")
        if rid in seen[entity]:
            errors.append(f"{where}: duplicate id")
        spec = CONTRACT[entity]
        for name in data:
            if name not in spec:
                errors.append(f"{where}: field {name} is not in the contract")
        for name, (required, check) in spec.items():
            value = data.get(name)
            if value is None:
                if required:
                    errors.append(f"{where}: {name} is required")
                continue
            if not check(value):
                errors.append(f"{where}: bad {name}={value!r}")
                continue
            targets = [value] if hasattr(check, "ref") else value if hasattr(check, "ref_list") else []
            target_entity = getattr(check, "ref", None) or getattr(check, "ref_list", None)
            for target in targets:
                if target not in seen[target_entity]:
                    errors.append(f"{where}: {name} -> {target_entity} {target} does not resolve")
        seen[entity].add(rid)
    return errors


def by_entity(records) -> dict[str, dict[str, dict]]:
    out: dict[str, dict[str, dict]] = defaultdict(dict)
    for entity, rid, data in records:
        out[entity][rid] = data
    return out


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def school():
    return generate_school(TODAY, seed=2026)


@pytest.fixture
def feed():
    return ChangeFeed(clock=lambda: T0)


@pytest_asyncio.fixture
async def served(feed):
    server = JournalServer(feed, token="t0ken")
    url = await server.start()
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer t0ken"}) as session:
        yield server, url, session
    await server.stop()


def apply(state: dict, changes: list[dict]) -> None:
    for change in changes:
        key = (change["entity"], change["id"])
        if change["op"] == "upsert":
            state[key] = change["data"]
        else:
            state.pop(key, None)


def current_state(feed: ChangeFeed) -> dict:
    return {
        (entity, rid): data for entity in feed.entities() for rid, data in feed.records(entity).items()
    }


def read_all(feed: ChangeFeed, cursor=None, limit=500):
    """All pages from ``cursor``; returns (changes, final cursor)."""
    changes = []
    while True:
        page = feed.page(cursor, limit)
        changes.extend(page["changes"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            return changes, cursor


# ---------------------------------------------------------------------------- feed


def test_upsert_and_delete_envelopes(feed):
    change = feed.upsert("mark", "m-1", {"value": "5"})
    assert change == {"seq": 1, "entity": "mark", "op": "upsert", "id": "m-1",
                      "occurred_at": "2026-11-25T09:15:00+05:00", "data": {"value": "5"}}
    deleted = feed.delete("mark", "m-1", occurred_at=datetime(2026, 11, 25, 4, 16, 10, tzinfo=ZoneInfo("UTC")))
    assert deleted == {"seq": 2, "entity": "mark", "op": "delete", "id": "m-1",
                       "occurred_at": "2026-11-25T04:16:10+00:00"}
    assert feed.get("mark", "m-1") is None and feed.last_seq == 2
    data = {"value": "4", "nested": {"a": [1]}}
    feed.upsert("mark", "m-2", data)
    data["nested"]["a"].append(2)  # the caller's dict is copied
    assert feed.get("mark", "m-2") == {"value": "4", "nested": {"a": [1]}}


def test_replay_omits_deleted_and_superseded(feed):
    feed.upsert("mark", "m-1", {"value": "3"})
    feed.upsert("mark", "m-2", {"value": "4"})
    feed.upsert("mark", "m-1", {"value": "5"})  # supersedes seq 1
    feed.delete("mark", "m-2")
    feed.upsert("student", "s-1", {"full_name": "Иванов Иван Иванович"})
    page = feed.page(None)
    assert [(c["seq"], c["id"], c["op"]) for c in page["changes"]] == [(3, "m-1", "upsert"), (5, "s-1", "upsert")]
    assert page["changes"][0]["data"] == {"value": "5"}
    assert page["next_cursor"] == "5" and page["has_more"] is False


def test_cursor_returns_latest_change_per_record_including_deletes(feed):
    feed.upsert("mark", "m-1", {"value": "3"})  # 1
    feed.upsert("mark", "m-2", {"value": "4"})  # 2
    feed.upsert("mark", "m-3", {"value": "4"})  # 3
    feed.upsert("mark", "m-1", {"value": "5"})  # 4
    feed.delete("mark", "m-2")                  # 5
    feed.upsert("mark", "m-1", {"value": "2"})  # 6
    page = feed.page("2")
    assert [(c["seq"], c["id"], c["op"]) for c in page["changes"]] == [
        (3, "m-3", "upsert"), (5, "m-2", "delete"), (6, "m-1", "upsert")]
    assert "data" not in page["changes"][1]
    assert page["changes"][2]["data"] == {"value": "2"}
    assert feed.page("6") == {"changes": [], "next_cursor": "6", "has_more": False}
    assert ChangeFeed().page(None) == {"changes": [], "next_cursor": "0", "has_more": False}


def test_limit_has_more_next_cursor(feed):
    for i in range(1, 8):
        feed.upsert("mark", f"m-{i}", {"value": "5"})
    feed.upsert("mark", "m-2", {"value": "4"})  # seq 8; m-2's seq 2 is superseded
    first = feed.page(None, limit=3)
    assert [c["seq"] for c in first["changes"]] == [1, 3, 4]
    assert first["next_cursor"] == "4" and first["has_more"] is True
    second = feed.page(first["next_cursor"], limit=3)
    assert [c["seq"] for c in second["changes"]] == [5, 6, 7]
    assert second["has_more"] is True
    third = feed.page(second["next_cursor"], limit=3)
    assert [c["seq"] for c in third["changes"]] == [8]
    assert third["next_cursor"] == "8" and third["has_more"] is False
    exact = feed.page("5", limit=3)  # exactly the rest: no more after it
    assert [c["seq"] for c in exact["changes"]] == [6, 7, 8] and exact["has_more"] is False
    for bad in (0, 1001, "10", 1.5, True):
        with pytest.raises(ValueError):
            feed.page(None, limit=bad)
    assert len(feed.page(None, limit=1000)["changes"]) == 7


@pytest.mark.parametrize("cursor", ["abc", "-1", "1.5", "+1", " 1", "4", "99999999999999999999", "٣"])
def test_bad_cursor(feed, cursor):
    for i in range(3):
        feed.upsert("mark", f"m-{i}", {})
    with pytest.raises(BadCursor):
        feed.page(cursor)


def test_cursor_zero_and_last_are_valid(feed):
    assert feed.page("0")["changes"] == []
    feed.upsert("mark", "m-1", {})
    feed.delete("mark", "m-1")
    assert [c["op"] for c in feed.page("0")["changes"]] == ["delete"]
    assert feed.page(None)["changes"] == []
    assert feed.page("2")["changes"] == []


def test_pages_from_scratch_reproduce_the_state():
    feed = ChangeFeed(clock=lambda: T0)
    rng = random.Random(7)
    consumer: dict = {}
    cursor = None
    for round_ in range(6):
        for _ in range(700):
            rid = f"r-{rng.randrange(300)}"
            if rng.random() < 0.2:
                feed.delete("mark", rid)
            else:
                feed.upsert("mark", rid, {"v": rng.randrange(100), "round": round_})
        # a fresh consumer from scratch, and a long-lived one continuing from its cursor
        fresh: dict = {}
        changes, _ = read_all(feed, None, limit=rng.choice([1, 7, 50, 1000]))
        apply(fresh, changes)
        assert fresh == current_state(feed)
        seqs = [c["seq"] for c in changes]
        assert seqs == sorted(seqs) and len(set((c["entity"], c["id"]) for c in changes)) == len(changes)
        changes, cursor = read_all(feed, cursor, limit=rng.choice([3, 64, 500]))
        apply(consumer, changes)
        assert consumer == current_state(feed)
        assert cursor == str(feed.last_seq)


def test_append_raw_is_delivered_verbatim(feed):
    feed.upsert("mark", "m-1", {"value": "5"})
    bad = feed.append_raw({"entity": "mark", "op": "upsert", "id": "m-2",
                           "occurred_at": "yesterday", "data": {"value": "11"}})
    assert bad["seq"] == 2
    feed.append_raw({"seq": 10, "entity": "mark", "op": "frobnicate", "id": 17})
    feed.append_raw({"entity": "mark", "op": "upsert", "id": 17})  # not a string id: its own record
    assert feed.last_seq == 11
    replay = feed.page(None)["changes"]
    assert [c["seq"] for c in replay] == [1, 2, 10, 11]
    assert replay[1] == {"seq": 2, "entity": "mark", "op": "upsert", "id": "m-2",
                         "occurred_at": "yesterday", "data": {"value": "11"}}
    assert feed.page("1")["changes"][1] == {"seq": 10, "entity": "mark", "op": "frobnicate", "id": 17}
    with pytest.raises(ValueError):
        feed.append_raw({"seq": 5, "entity": "mark", "op": "delete", "id": "m-1"})


def test_large_feed_pages_quickly():
    feed = ChangeFeed(clock=lambda: T0)
    stamp = "2026-11-25T09:15:00+05:00"
    for i in range(100_000):
        feed.upsert("mark", f"m-{i % 20_000}", {"v": i}, occurred_at=stamp)
    changes, cursor = read_all(feed, None, limit=1000)
    assert len(changes) == 20_000 and cursor == "100000"
    assert changes[0]["data"] == {"v": 80_000}
    tail, _ = read_all(feed, "99990", limit=1000)
    assert [c["seq"] for c in tail] == list(range(99_991, 100_001))


async def test_wait_for_change_wakes_up(feed):
    waiter = asyncio.create_task(feed.wait_for_change(0, 5))
    await asyncio.sleep(0.01)
    feed.upsert("mark", "m-1", {})
    assert await asyncio.wait_for(waiter, 1) is True
    assert await feed.wait_for_change(1, 0.01) is False


# ---------------------------------------------------------------------------- server


async def test_server_requires_bearer_token(served):
    server, url, _ = served
    async with aiohttp.ClientSession() as anonymous:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic t0ken"}):
            async with anonymous.get(f"{url}/v1/changes", headers=headers) as resp:
                assert resp.status == 401
                assert await resp.json() == {"error": "unauthorized"}
    assert [r.status for r in server.requests] == [401, 401, 401]


async def test_server_rejects_bad_cursor_and_limit(served, feed):
    server, url, session = served
    feed.upsert("mark", "m-1", {"value": "5"})
    for query in ("cursor=abc", "cursor=2", "limit=0", "limit=1001", "limit=x", "cursor=1&wait=99"):
        async with session.get(f"{url}/v1/changes?{query}") as resp:
            assert resp.status == 400, query
            body = await resp.json()
            assert isinstance(body["error"], str) and body["error"]
    assert server.requests[0] == ("abc", None, 400)
    assert server.requests[2] == (None, 0, 400)
    assert server.requests[4] == (None, "x", 400)


async def test_server_fault_injection(served, feed):
    server, url, session = served
    feed.upsert("mark", "m-1", {"value": "5"})
    server.fail_next(429, retry_after=2)
    server.fail_next(503, times=2)
    server.fail_next(500, body="<html>oops</html>")
    async with session.get(f"{url}/v1/changes") as resp:
        assert resp.status == 429 and resp.headers["Retry-After"] == "2"
        assert "error" in await resp.json()
    for _ in range(2):
        async with session.get(f"{url}/v1/changes?cursor=0&limit=5") as resp:
            assert resp.status == 503 and "Retry-After" not in resp.headers
    async with session.get(f"{url}/v1/changes") as resp:
        assert resp.status == 500 and await resp.text() == "<html>oops</html>"
    server.delay_next(0.1)
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with session.get(f"{url}/v1/changes") as resp:
        assert resp.status == 200
        assert [c["id"] for c in (await resp.json())["changes"]] == ["m-1"]
    assert loop.time() - started >= 0.09
    assert [tuple(r) for r in server.requests] == [
        (None, None, 429), ("0", 5, 503), ("0", 5, 503), (None, None, 500), (None, None, 200)]


async def test_paging_over_http(served, feed):
    _, url, session = served
    populate_feed(feed, generate_school(TODAY, seed=11), now=T0)
    feed.delete("student", "s-1")
    state: dict = {}
    cursor, pages = None, 0
    while True:
        params = {"limit": "1000"} if cursor is None else {"cursor": cursor, "limit": "1000"}
        async with session.get(f"{url}/v1/changes", params=params) as resp:
            assert resp.status == 200
            assert resp.content_type == "application/json"
            page = await resp.json()
        pages += 1
        apply(state, page["changes"])
        cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert pages > 3 and state == current_state(feed)
    assert ("student", "s-1") not in state and cursor == str(feed.last_seq)
    feed.delete("student", "s-2")
    feed.upsert("student", "s-3", {**feed.get("student", "s-3"), "individual_plan": True})
    async with session.get(f"{url}/v1/changes", params={"cursor": cursor}) as resp:
        page = await resp.json()
    assert [(c["op"], c["id"]) for c in page["changes"]] == [("delete", "s-2"), ("upsert", "s-3")]
    assert page == {"changes": page["changes"], "next_cursor": str(feed.last_seq), "has_more": False}


async def test_long_poll_returns_on_new_change(served, feed):
    _, url, session = served
    feed.upsert("mark", "m-1", {})
    loop = asyncio.get_running_loop()
    loop.call_later(0.05, lambda: feed.upsert("mark", "m-2", {"value": "5"}))
    started = loop.time()
    async with session.get(f"{url}/v1/changes", params={"cursor": "1", "wait": "5"}) as resp:
        page = await resp.json()
    assert [c["id"] for c in page["changes"]] == ["m-2"]
    assert loop.time() - started < 2


async def test_server_context_manager():
    async with JournalServer(ChangeFeed()) as server:
        assert re.match(r"^http://127\.0\.0\.1:\d+$", server.url)
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{server.url}/v1/changes",
                                   headers={"Authorization": "Bearer demo-token"}) as resp:
                assert await resp.json() == {"changes": [], "next_cursor": "0", "has_more": False}
    assert server.url is None


# ---------------------------------------------------------------------------- generator


def test_generator_is_deterministic(school):
    assert generate_school(TODAY, seed=2026) == school
    assert generate_school(TODAY, seed=2027) != school


def test_generator_follows_the_contract(school):
    assert contract_errors(school) == []
    order = [ENTITY_ORDER.index(entity) for entity, _, _ in school]
    assert order == sorted(order), "records must come in dependency order"
    counts = Counter(entity for entity, _, _ in school)
    assert set(counts) == set(ENTITY_ORDER)
    assert counts["school"] == 1 and counts["class"] == 4 and 11 <= counts["teacher"] <= 14
    assert all(re.match(r"^[a-z]+-[0-9a-z-]+$", rid) for _, rid, _ in school)


def test_school_shape(school):
    rec = by_entity(school)
    (sch,) = rec["school"].values()
    assert sch["timezone"] == "Asia/Yekaterinburg" and "Сургут" in sch["address"]
    assert sorted(c["name"] for c in rec["class"].values()) == ["10А", "2А", "5Б", "7А"]
    kinds = Counter(p["kind"] for p in rec["period"].values())
    assert kinds == {"quarter": 4, "half": 2, "year": 1}
    current = [p for p in rec["period"].values() if p["kind"] == "quarter"
               and p["starts_on"] <= TODAY.isoformat() <= p["ends_on"]]
    assert [p["name"] for p in current] == ["2 четверть"]
    per_class = Counter(s["class_id"] for s in rec["student"].values())
    assert all(17 <= n <= 25 for n in per_class.values())
    name_re = re.compile(r"^[А-ЯЁ][а-яё-]+ [А-ЯЁ][а-яё]+ [А-ЯЁ][а-яё]+(вич|вна|ич|чна)$")
    for person in list(rec["student"].values()) + list(rec["teacher"].values()) + list(rec["guardian"].values()):
        assert name_re.match(person["full_name"]), person["full_name"]
    for s in rec["student"].values():  # gender-consistent patronymics
        surname, first, patronymic = s["full_name"].split()
        if patronymic.endswith("на"):
            assert surname.endswith(("а", "ая", "ко")), s["full_name"]
    class_teachers = {a["class_id"] for a in rec["assignment"].values() if a["role"] == "class_teacher"}
    assert class_teachers == set(rec["class"])
    assert any(a["student_id"] for a in rec["assignment"].values())
    assert any(s["individual_plan"] for s in rec["student"].values())
    # every class-subject of the curriculum has a subject teacher
    for c in rec["curriculum"].values():
        assert any(a["class_id"] == c["class_id"] and a["subject_id"] == c["subject_id"]
                   for a in rec["assignment"].values())
    assert any(g["status"] == "deferred" and g["deferred_until"] for g in rec["final_grade"].values())
    assert {g["period_id"] for g in rec["final_grade"].values()} == {"p-2026-q1"}
    assert len(rec["recommendation"]) >= 3
    names = {h["name"] for h in rec["holiday"].values()}
    assert {"Осенние каникулы", "Зимние каникулы", "Весенние каникулы", "Летние каникулы"} <= names


def test_guardians_and_phones(school):
    rec = by_entity(school)
    phones = [g["phone"] for g in rec["guardian"].values()]
    assert len(phones) == len(set(phones))
    assert all(re.match(r"^\+7900\d{7}$", p) for p in phones)
    per_student = Counter(sid for g in rec["guardian"].values() for sid in g["student_ids"])
    assert set(per_student) == set(rec["student"]) and set(per_student.values()) <= {1, 2}
    assert sum(len(g["student_ids"]) >= 2 for g in rec["guardian"].values()) >= 3
    listing = demo_guardians(school)
    assert len(listing) == len(rec["guardian"]) and listing[0]["children"][0]["class_name"]
    # phones depend on the seed only: stable from day to day
    assert {p: v["guardian_id"] for p, v in guardian_phones(2026).items()} == {
        g["phone"]: gid for gid, g in rec["guardian"].items()}


def test_timetable_of_the_current_week(school):
    rec = by_entity(school)
    monday = TODAY - timedelta(days=TODAY.weekday())
    week = {(monday + timedelta(days=i)).isoformat() for i in range(5)}
    lessons = [l for l in rec["lesson"].values() if l["date"] in week]
    assert any(l["substitute_teacher_id"] and l["substitute_teacher_id"] != l["teacher_id"] for l in lessons)
    assert any(l["status"] == "cancelled" for l in lessons)
    moved = [l for l in lessons if l["moved_from"]]
    assert moved and all((l["moved_from"]["date"], l["moved_from"]["number"]) != (l["date"], l["number"]) for l in moved)
    for l in rec["lesson"].values():
        if l["status"] != "cancelled":
            expected = "held" if l["date"] < TODAY.isoformat() else None
            if expected:
                assert l["status"] == expected
            elif l["date"] > TODAY.isoformat():
                assert l["status"] == "planned"
        assert date.fromisoformat(l["date"]).weekday() < 5
    per_day = Counter((l["class_id"], l["date"]) for l in lessons if not l["group"] or l["group"].endswith("1"))
    assert max(per_day.values()) <= 7 and min(per_day.values()) >= 4
    starts = {l["number"]: (l["starts_at"], l["ends_at"]) for l in lessons}
    assert starts[1] == ("08:00", "08:40") and starts[2] == ("08:50", "09:30")
    # nobody is in two places at once
    busy = Counter((l["substitute_teacher_id"] or l["teacher_id"], l["date"], l["number"])
                   for l in rec["lesson"].values() if l["status"] != "cancelled")
    assert max(busy.values()) == 1
    slots = Counter((l["class_id"], l["date"], l["number"], l["group"]) for l in rec["lesson"].values())
    assert max(slots.values()) == 1
    # homework for this week's lessons, some with attachments; assessments in the quarter
    homework = [h for h in rec["homework"].values() if h["assigned_on"] in week]
    assert homework and any(h["attachments"] for h in homework)
    assert all(h["due_on"] > h["assigned_on"] for h in rec["homework"].values())
    assert all("2026-11-05" <= a["date"] <= "2026-12-28" for a in rec["assessment"].values())
    assert Counter(a["class_id"] for a in rec["assessment"].values()).keys() == rec["class"].keys()


def test_marks_are_realistic(school):
    rec = by_entity(school)
    holidays = [(h["starts_on"], h["ends_on"]) for h in rec["holiday"].values()]
    marks = list(rec["mark"].values())
    assert marks
    for m in marks:
        assert "2026-09-01" <= m["date"] <= TODAY.isoformat()
        assert date.fromisoformat(m["date"]).weekday() < 6
        assert not any(a <= m["date"] <= b for a, b in holidays)
        assert m["weight"] == (2 if m["kind"] in ("control", "test") else 1)
        if m["lesson_id"]:
            lesson = rec["lesson"][m["lesson_id"]]
            assert lesson["status"] == "held" and lesson["date"] == m["date"]
            assert lesson["subject_id"] == m["subject_id"]
            assert m["teacher_id"] == (lesson["substitute_teacher_id"] or lesson["teacher_id"])
            assert rec["student"][m["student_id"]]["class_id"] == lesson["class_id"]
    values = Counter(m["value"] for m in marks)
    assert (values["4"] + values["5"]) / len(marks) > 0.7 and values["2"] > 0
    assert {m["kind"] for m in marks} >= {"answer", "homework", "control"}
    # ~1–2 marks per pupil per subject per week
    weeks = (TODAY - date(2026, 11, 5)).days / 7
    per_pair = Counter((m["student_id"], m["subject_id"]) for m in marks)
    assert 0.6 <= sum(per_pair.values()) / len(per_pair) / weeks <= 2.2


@pytest.mark.parametrize("today", [
    date(2024, 9, 1),    # a Sunday, the first day of the year
    date(2025, 10, 29),  # autumn break
    date(2026, 1, 12),   # the first day of the third quarter
    date(2026, 3, 25),   # spring break
    date(2026, 5, 26),   # the last day of the year
    date(2026, 7, 15),   # summer
])
def test_generator_on_awkward_dates(today):
    records = generate_school(today, seed=5)
    assert contract_errors(records) == []
    rec = by_entity(records)
    year_start = date(today.year if today.month >= 9 else today.year - 1, 9, 1).isoformat()
    assert all(year_start <= m["date"] <= today.isoformat() for m in rec["mark"].values())
    assert all(g["set_at"][:10] < today.isoformat() for g in rec["final_grade"].values())
    assert rec["lesson"]
    if today.month in (6, 7, 8):
        assert any(g["kind"] == "year" for g in rec["final_grade"].values())


# ---------------------------------------------------------------------------- ticker and journal


def test_ticker_makes_a_valid_new_mark(school):
    feed = ChangeFeed(clock=lambda: T0)
    populate_feed(feed, school, now=T0)
    before = feed.last_seq
    now = datetime(2026, 11, 25, 14, 3, tzinfo=TZ)
    changes = [make_new_mark(feed, random.Random(1), now) for _ in range(20)]
    assert [c["seq"] for c in changes] == list(range(before + 1, before + 21))
    ids = [c["id"] for c in changes]
    assert len(set(ids)) == 20 and not set(ids) & {rid for e, rid, _ in school if e == "mark"}
    records = school + [("mark", c["id"], c["data"]) for c in changes]
    assert contract_errors(records) == []
    rec = by_entity(records)
    for c in changes:
        assert c["op"] == "upsert" and c["occurred_at"] == "2026-11-25T14:03:00+05:00"
        mark = c["data"]
        assert mark["date"] == "2026-11-25"
        class_id = rec["student"][mark["student_id"]]["class_id"]
        assert any(a["class_id"] == class_id and a["subject_id"] == mark["subject_id"]
                   and a["teacher_id"] in (mark["teacher_id"],
                                           rec["lesson"].get(mark["lesson_id"] or "", {}).get("teacher_id"))
                   for a in rec["assignment"].values())
    again = ChangeFeed(clock=lambda: T0)
    populate_feed(again, school, now=T0)
    assert make_new_mark(again, random.Random(1), now) == changes[0]


def test_historical_times_are_in_the_past(school):
    feed = ChangeFeed(clock=lambda: T0)
    populate_feed(feed, school, now=T0)
    times = [datetime.fromisoformat(c["occurred_at"]) for c in read_all(feed, None, 1000)[0]]
    assert len(times) == len(school) and max(times) <= T0
    mark = next(c for c in read_all(feed, None, 1000)[0] if c["entity"] == "mark")
    assert mark["occurred_at"][:10] == mark["data"]["date"]


async def test_demo_journal_serves_and_ticks():
    journal = DemoJournal(today=TODAY, mark_every_seconds=0.05, token="demo")
    url = await journal.start()
    try:
        assert url == journal.url and url.startswith("http://127.0.0.1:")
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {journal.token}"}) as session:
            cursor = None
            while True:
                params = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
                async with session.get(f"{url}/v1/changes", params=params) as resp:
                    page = await resp.json()
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
            for _ in range(100):
                if journal.feed.last_seq > int(cursor):
                    break
                await asyncio.sleep(0.02)
            async with session.get(f"{url}/v1/changes", params={"cursor": cursor}) as resp:
                page = await resp.json()
        new = page["changes"]
        assert new and all(c["entity"] == "mark" and c["op"] == "upsert" for c in new)
        assert all(c["data"]["date"] == TODAY.isoformat() for c in new)
        assert journal.guardians()[0]["phone"].startswith("+7900")
    finally:
        await journal.stop()
    assert journal.url is None and journal._task is None
    seq = journal.feed.last_seq
    await asyncio.sleep(0.12)
    assert journal.feed.last_seq == seq  # the ticker is gone


async def test_demo_journal_without_ticker():
    async with DemoJournal(today=TODAY, mark_every_seconds=0) as journal:
        seq = journal.feed.last_seq
        await asyncio.sleep(0.05)
        assert journal.feed.last_seq == seq and journal._task is None
