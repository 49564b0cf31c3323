"""The simulated people of the sandbox: who they are (role, language) and their Telegram ids.

The bot knows only Telegram ids; roles here are labels for the page. Rights come from the
service as in production: region admins are the ids in ADMIN_TELEGRAM_IDS (the sandbox adds
:data:`REGION_ADMIN_IDS` to them), a school admin is appointed by a region admin with
``/admin_add <id> <school>``.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from bot.sandbox.telegram_server import LocalBotApi

ROLES = ("parent", "school_admin", "region_admin")

#: Ids reserved for region admins: the sandbox adds all of them to ADMIN_TELEGRAM_IDS, so a
#: region admin created in the page is one from the start.
REGION_ADMIN_IDS = tuple(range(9001, 9010))
#: Where ids of people created in the page start, per role.
_FIRST_ID = {"parent": 1001, "school_admin": 2001}
MAX_PEOPLE = 30
MAX_NAME = 40


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    role: str
    lang: str

    def as_json(self) -> dict:
        return asdict(self)


#: Who is there when the page opens: two parents, a school admin (to be appointed), a region admin.
PRESETS: tuple[tuple[str, str, str], ...] = (
    ("Мария Иванова", "parent", "ru"),
    ("Алексей Иванов", "parent", "ru"),
    ("Ольга Петровна (завуч)", "school_admin", "ru"),
    ("Региональный админ", "region_admin", "ru"),
)


class People:
    """The registry of simulated people; each one is also a user of the local Bot API."""

    def __init__(self, api: LocalBotApi) -> None:
        self._api = api
        self._people: dict[int, Person] = {}

    def add_presets(self) -> None:
        for name, role, lang in PRESETS:
            self.create(name, role, lang)

    def all(self) -> list[Person]:
        return list(self._people.values())

    def get(self, person_id: int) -> Person | None:
        return self._people.get(person_id)

    def create(self, name: str, role: str, lang: str = "ru") -> Person:
        """A new person with the next free id of the role; ValueError on bad input."""
        name = " ".join((name or "").split())
        if not name:
            raise ValueError("a name is needed")
        if len(name) > MAX_NAME:
            raise ValueError(f"a name has at most {MAX_NAME} characters")
        if role not in ROLES:
            raise ValueError(f"role is one of {', '.join(ROLES)}")
        if lang not in ("ru", "en"):
            raise ValueError("lang is ru or en")
        if len(self._people) >= MAX_PEOPLE:
            raise ValueError(f"at most {MAX_PEOPLE} people")
        person = Person(self._next_id(role), name, role, lang)
        first, _, last = name.partition(" ")
        self._api.add_user(person.id, first, last or None, language_code=lang)
        self._people[person.id] = person
        return person

    def _next_id(self, role: str) -> int:
        taken = {u["id"] for u in self._api.users}
        if role == "region_admin":
            for candidate in REGION_ADMIN_IDS:
                if candidate not in taken:
                    return candidate
            raise ValueError(f"at most {len(REGION_ADMIN_IDS)} region admins")
        candidate = _FIRST_ID[role]
        while candidate in taken:
            candidate += 1
        return candidate
