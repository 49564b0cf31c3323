"""What a school admin needs to handle consent on paper: the parents of a class with their
consent state (to find whom a signed form concerns), and a person's consent history as a PDF
(on the person's or an authority's request). Both show personal data: both are audited.
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.admins import admin_school_ids, audit, require_school_admin
from services.config import Settings
from services.consent import PersonKey, entry_of, guardian_states, resolve_person
from services.consent_log import proof_key, proof_secret, telegram_identity
from services.consent_text import consent_text
from services.documents import pdf
from services.errors import NotAdmin, NotFound
from storage.models import Account, ConsentRecord, Guardian, Link, School, SchoolClass, Student, utcnow
from storage.privacy import ConsentText


@dataclass(frozen=True)
class ParentEntry:
    telegram_id: int | None  # a bot user
    guardian_ref: str | None  # or a guardian of the journal
    name: str | None
    username: str | None
    consent_state: str  # none | granted | refused | withdrawn | outdated
    consent_version: str | None
    link_status: str | None  # accounts: approved | pending


@dataclass(frozen=True)
class PupilParents:
    student_id: int
    student_name: str
    parents: tuple[ParentEntry, ...]  # guardians first, then bot accounts


@dataclass(frozen=True)
class ClassParents:
    class_name: str
    school_name: str
    pupils: tuple[PupilParents, ...]


@dataclass(frozen=True)
class ExportedDocument:
    filename: str
    content: bytes
    entries: int


_DECISION_RU = {"granted": "согласие дано", "refused": "отказ", "withdrawn": "согласие отозвано"}
_CHANNEL_RU = {"telegram": "в боте (Telegram)", "paper": "бумажный бланк"}


def _when(value: datetime, tz: str) -> str:
    try:
        value = value.astimezone(ZoneInfo(tz))
    except Exception:  # noqa: BLE001
        pass
    return value.strftime("%d.%m.%Y %H:%M")


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=False)


class ConsentExport:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    # ---- the parents of a class

    async def parents(self, actor_tg: int, class_id: int) -> ClassParents:
        """Pupils of a class with their guardians (journal) and linked bot accounts, and each
        one's consent state. Admins of the class's school only (NotAdmin / NotFound); audited."""
        async with self._sessions.begin() as s:
            scope = await admin_school_ids(s, self._settings, actor_tg)
            if scope is not None and not scope:
                raise NotAdmin(f"telegram id {actor_tg} is not an admin")
            cls = await s.scalar(select(SchoolClass).where(SchoolClass.id == class_id, SchoolClass.deleted_at.is_(None)))
            if cls is None:
                raise NotFound(f"class {class_id}")
            school = await s.scalar(select(School).where(School.source == cls.source,
                                                         School.external_id == cls.school_ref))
            try:
                await require_school_admin(s, self._settings, actor_tg, school.id if school else None)
            except NotAdmin:
                raise NotFound(f"class {class_id}") from None
            pupils = list(await s.scalars(select(Student).where(
                Student.source == cls.source, Student.class_ref == cls.external_id, Student.deleted_at.is_(None)
            ).order_by(Student.full_name, Student.id)))
            refs = {p.external_id: p for p in pupils}
            guardians = list(await s.scalars(select(Guardian).where(
                Guardian.source == cls.source, Guardian.school_ref == cls.school_ref, Guardian.deleted_at.is_(None)
            ).order_by(Guardian.full_name, Guardian.id)))
            states = await guardian_states(s, cls.source, [g.external_id for g in guardians])
            by_pupil: dict[int, list[ParentEntry]] = {p.id: [] for p in pupils}
            for g in guardians:
                st = states.get(g.external_id)
                for ref in g.student_refs or []:
                    pupil = refs.get(str(ref))
                    if pupil is not None:
                        by_pupil[pupil.id].append(ParentEntry(
                            telegram_id=None, guardian_ref=g.external_id, name=g.full_name, username=None,
                            consent_state=st.state if st else "none", consent_version=st.version if st else None,
                            link_status=None))
            if pupils:
                rows = (await s.execute(
                    select(Link.student_id, Link.status, Account)
                    .join(Account, Account.id == Link.account_id)
                    .where(Link.student_id.in_([p.id for p in pupils]), Link.status.in_(("approved", "pending")))
                    .order_by(Account.id)
                )).all()
                for student_id, status, a in rows:
                    by_pupil[student_id].append(ParentEntry(
                        telegram_id=a.telegram_id, guardian_ref=None, name=a.first_name, username=a.username,
                        consent_state=a.consent_state, consent_version=a.consent_version, link_status=status))
            audit(s, actor=actor_tg, action="parents.view", target_type="class", target_id=cls.id,
                  details={"school_id": school.id if school else None, "pupils": len(pupils)})
            return ClassParents(
                class_name=cls.name, school_name=school.name if school else "",
                pupils=tuple(PupilParents(student_id=p.id, student_name=p.full_name,
                                          parents=tuple(by_pupil[p.id])) for p in pupils))

    # ---- a person's consent history

    async def history_pdf(self, actor_tg: int, person: PersonKey) -> ExportedDocument:
        """The person's consent history as a PDF (A4): every decision with its version, language,
        channel and paper form, and the exact text of every version referenced. Audited.

        A Telegram id whose account was erased finds its pseudonymised proof (region admins
        only: no school is known any more). NotAdmin / NotFound otherwise."""
        async with self._sessions.begin() as s:
            try:
                target = await resolve_person(s, self._settings, actor_tg, person)
            except NotFound:
                if person.telegram_id is None:
                    raise
                return await self._proof_pdf(s, actor_tg, person.telegram_id)
            tz = self._settings.default_timezone
            if target.account is not None:
                a = target.account
                records = await s.scalars(select(ConsentRecord).where(ConsentRecord.account_id == a.id)
                                          .order_by(ConsentRecord.decided_at, ConsentRecord.id))
                subject = [f"Пользователь бота: Telegram id {a.telegram_id}"
                           + (f", имя в Telegram: {a.first_name}" if a.first_name else "")
                           + (f", @{a.username}" if a.username else "")]
                kind, target_id, stem = "account", a.id, f"tg{a.telegram_id}"
            else:
                g = target.guardian
                assert g is not None
                school = await s.scalar(select(School).where(School.source == g.source, School.external_id == g.school_ref))
                if school is not None and school.timezone:
                    tz = school.timezone
                records = await s.scalars(select(ConsentRecord).where(
                    ConsentRecord.guardian_source == g.source, ConsentRecord.guardian_ref == g.external_id
                ).order_by(ConsentRecord.decided_at, ConsentRecord.id))
                subject = [f"Законный представитель (по электронному журналу): {g.full_name}, "
                           f"идентификатор {g.external_id}" + (f", {school.name}" if school else "")]
                kind, target_id, stem = "guardian", g.external_id, f"g-{g.external_id}"
            rows = list(records)
            content = await self._render(s, rows, subject, tz, actor_tg)
            audit(s, actor=actor_tg, action="consent.export", target_type=kind, target_id=target_id,
                  details={"school_id": target.audit_school_id, "entries": len(rows)})
            return ExportedDocument(filename=_filename(stem), content=content, entries=len(rows))

    async def _proof_pdf(self, s: AsyncSession, actor_tg: int, telegram_id: int) -> ExportedDocument:
        if await admin_school_ids(s, self._settings, actor_tg) is not None:
            raise NotFound("person")
        configured = self._settings.privacy_proof_key
        secret = await proof_secret(s, configured.get_secret_value() if configured else None)
        key = proof_key(secret, telegram_identity(telegram_id))
        rows = list(await s.scalars(select(ConsentRecord).where(
            ConsentRecord.proof_key == key, ConsentRecord.account_id.is_(None)
        ).order_by(ConsentRecord.decided_at, ConsentRecord.id)))
        if not rows:
            raise NotFound("person")
        subject = [f"Данные пользователя уничтожены; записи найдены по ключу доказательства "
                   f"для Telegram id {telegram_id} (ключ {key[:16]}…)"]
        content = await self._render(s, rows, subject, self._settings.default_timezone, actor_tg)
        audit(s, actor=actor_tg, action="consent.export", target_type="proof", target_id=key[:16],
              details={"entries": len(rows)})
        return ExportedDocument(filename=_filename("proof"), content=content, entries=len(rows))

    async def _render(self, s: AsyncSession, rows: list[ConsentRecord], subject: list[str], tz: str,
                      actor_tg: int) -> bytes:
        now = utcnow()
        story: list = [
            pdf.p("История решений о согласии на обработку персональных данных", "title"),
            *[pdf.p(_esc(line)) for line in subject],
            pdf.p(f"Сформировано {_when(now, tz)} ({_esc(tz)}) по запросу администратора "
                  f"(Telegram id {actor_tg}). Выгрузка записана в журнал аудита.", "small"),
            pdf.Spacer(1, 4 * pdf.mm),
        ]
        table = [["№", "Дата и время", "Решение", "Редакция", "Язык", "Способ", "Бланк: №, дата", "Внёс"]]
        for i, r in enumerate(rows, 1):
            e = entry_of(r)
            form = ""
            if e.form_number:
                form = f"№ {e.form_number}" + (f" от {e.form_date.strftime('%d.%m.%Y')}" if e.form_date else "")
            table.append([str(i), _when(e.decided_at, tz), _DECISION_RU.get(e.decision, e.decision), e.version,
                          e.language or "—", _CHANNEL_RU.get(e.channel, e.channel), form or "—",
                          str(e.entered_by) if e.entered_by else "—"])
        if len(table) == 1:
            story.append(pdf.p("Решений нет."))
        else:
            story.append(pdf.table(table, col_widths=[8 * pdf.mm, 28 * pdf.mm, 30 * pdf.mm, 22 * pdf.mm,
                                                      11 * pdf.mm, 28 * pdf.mm, 30 * pdf.mm, 23 * pdf.mm]))
        shown = sorted({(r.text_version, r.language or "ru") for r in rows})
        for version, language in shown:
            stored = await s.get(ConsentText, (version, language))
            body = stored.body if stored is not None else consent_text(version, language)
            story.append(pdf.PageBreak())
            story.append(pdf.p(f"Текст согласия: редакция {_esc(version)}, язык {_esc(language)}"
                               + (f", SHA-256 {stored.sha256}" if stored is not None else ""), "heading"))
            for paragraph in body.split("\n\n"):
                story.append(pdf.p(_esc(paragraph).replace("\n", "<br/>")))
                story.append(pdf.Spacer(1, 2 * pdf.mm))
        return pdf.render(story, title="История решений о согласии")


def _filename(stem: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in stem)[:40]
    return f"consent-history-{safe}-{datetime.now(timezone.utc):%Y%m%d}.pdf"
