"""The e-mail channel end to end: fan-out writes e-mail rows for parents who agreed to e-mail,
a dispatcher of channel "email" sends them through a real SMTP server on loopback (aiosmtpd),
and SMTP answers become the dispatcher's outcomes (4xx retried, 5xx recipient refused)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from services.contacts import Contacts
from services.notify.channel import PermanentError, Recipient, TransientError
from services.notify.dispatcher import Dispatcher
from services.notify.email_channel import EmailChannel, Mailer, RecipientRefused
from services.notify.email_render import build_message, render_email
from services.notify.ratelimit import RateLimiter
from services.sync import fanout
from storage.contacts import ContactProfile
from storage.models import Event, OutboxMessage, utcnow
from tests import seed
from tests.smtp_sink import SmtpSink, parts

ADDRESS = "maria.ivanova@example.org"


def smtp_settings(port: int, **kw):
    return seed.make_settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="Дневник <noreply@school.example>",
                              smtp_starttls=False, smtp_timeout_seconds=5,
                              notify_quiet_hours="off",  # the dispatcher below runs an hour ahead of the clock
                              **kw)


async def parent_with_email(db, *, forms: str = "telegram,email", language: str = "ru"):
    async with db.sessions.begin() as s:
        school = await seed.add_school(s)
        cls = await seed.add_class(s, school)
        student = await seed.add_student(s, cls, "Иванов Иван Петрович")
        subject = await seed.add_subject(s, school, "Алгебра")
        account = await seed.add_account(s, language=language)
        await seed.add_link(s, account, student)
        s.add(ContactProfile(account_id=account.id, forms=forms, email=ADDRESS, email_confirmed_at=utcnow(),
                             email_confirmed_by="code"))
        return account.id, student, subject


async def new_mark_event(db, student, subject, value="5", comment="Отличная работа") -> int:
    async with db.sessions.begin() as s:
        mark = await seed.add_mark(s, student, subject, date.today(), value=value, weight=2, kind="control",
                                   comment=comment)
        event = Event(source=seed.SOURCE, entity="mark", external_id=mark.external_id, seq=mark.last_seq,
                      kind="created", changes=None, occurred_at=utcnow())
        s.add(event)
        await s.flush()
        return await fanout.on_event(s, seed.SOURCE, "mark", event, mark, None)


def email_dispatcher(db, settings, contacts: Contacts) -> Dispatcher:
    channel = EmailChannel(Mailer.from_settings(settings), contacts.email_address_for, on_bounce=contacts.mark_bounced)
    # a clock an hour ahead: rows held back for a correction grace period are due too
    return Dispatcher(db.sessions, channel, settings, limiter=RateLimiter(1000, 0),
                      clock=lambda: utcnow() + timedelta(hours=1))


async def rows(db) -> list[OutboxMessage]:
    async with db.sessions() as s:
        return list(await s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


async def test_mark_reaches_the_parent_by_email_through_smtp(db):
    async with SmtpSink() as sink:
        settings = smtp_settings(sink.port)
        contacts = Contacts(db.sessions, settings, mailer=Mailer.from_settings(settings))
        account_id, student, subject = await parent_with_email(db)
        assert await new_mark_event(db, student, subject) == 2
        written = await rows(db)
        assert sorted(r.channel for r in written) == ["email", "telegram"]
        assert all(r.account_id == account_id and r.kind == "mark_new" for r in written)

        dispatcher = email_dispatcher(db, settings, contacts)
        assert await dispatcher.run_once() == 1
        [message] = await sink.wait_for(1)
        assert message["To"] == ADDRESS
        assert sink.envelopes[0] == ("noreply@school.example", [ADDRESS])
        assert str(message["Subject"]) == "Новая оценка: Иван — Алгебра: 5"
        assert "=?utf-8?" in message.as_string().split("\n\n", 1)[0].lower() or "utf-8" in message.as_string()
        assert message.get_content_type() == "multipart/alternative"
        text, html = parts(message)
        assert "Иван — Алгебра: 5 (контрольная, вес 2)" in text
        assert "Комментарий: Отличная работа" in text
        assert "<b>5</b>" in html and "Алгебра" in html and "Отличная работа" in html
        by_channel = {r.channel: r.status for r in await rows(db)}
        assert by_channel == {"email": "sent", "telegram": "pending"}  # each dispatcher claims its own channel


async def test_email_only_parent_gets_no_telegram_row_and_english_mail(db):
    async with SmtpSink() as sink:
        settings = smtp_settings(sink.port)
        contacts = Contacts(db.sessions, settings, mailer=Mailer.from_settings(settings))
        await parent_with_email(db, forms="email", language="en")
        await new_mark_event(db, *((await _student_subject(db))))
        assert [r.channel for r in await rows(db)] == ["email"]
        await email_dispatcher(db, settings, contacts).run_once()
        [message] = await sink.wait_for(1)
        assert str(message["Subject"]).startswith("New mark: Иван — Алгебра")
        text, _html = parts(message)
        assert "control work, weight 2" in text


async def _student_subject(db):
    from storage.models import Student, Subject

    async with db.sessions() as s:
        return (await s.scalar(select(Student))), (await s.scalar(select(Subject)))


async def test_unconfirmed_or_paper_only_parents_get_no_email_rows(db):
    account_id, student, subject = await parent_with_email(db, forms="paper")
    await new_mark_event(db, student, subject)
    assert await rows(db) == []  # paper only: nothing electronic
    async with db.sessions.begin() as s:
        profile = await s.scalar(select(ContactProfile).where(ContactProfile.account_id == account_id))
        profile.forms, profile.email_confirmed_at = "telegram,email", None
    await new_mark_event(db, student, subject, value="4")
    assert [r.channel for r in await rows(db)] == ["telegram"]


async def test_temporary_smtp_refusal_is_retried_and_permanent_refusal_bounces(db):
    async with SmtpSink() as sink:
        settings = smtp_settings(sink.port)
        contacts = Contacts(db.sessions, settings, mailer=Mailer.from_settings(settings))
        account_id, student, subject = await parent_with_email(db, forms="email")
        await new_mark_event(db, student, subject)
        dispatcher = email_dispatcher(db, settings, contacts)

        sink.rcpt_answers.append("450 4.2.1 mailbox busy, try later")
        assert await dispatcher.run_once() == 0
        [row] = await rows(db)
        assert (row.status, row.attempts, row.last_error) == ("pending", 1, "recipient deferred (450)")

        async with db.sessions.begin() as s:  # the backoff has passed
            (await s.get(OutboxMessage, row.id)).next_attempt_at = utcnow()
        sink.rcpt_answers.append("550 5.1.1 no such mailbox")
        assert await dispatcher.run_once() == 1
        [row] = await rows(db)
        assert (row.status, row.last_error) == ("failed", "recipient refused (550)")
        assert sink.messages == []
        async with db.sessions() as s:
            profile = await s.scalar(select(ContactProfile).where(ContactProfile.account_id == account_id))
            account = await s.get(__import__("storage.models", fromlist=["Account"]).Account, account_id)
        assert profile.email_bounced_at is not None
        assert account.is_active  # a bounced address does not switch off the parent's Telegram
        await new_mark_event(db, student, subject, value="3")
        assert len(await rows(db)) == 1  # no more e-mail rows to a bounced address


async def test_smtp_errors_map_to_channel_outcomes():
    async with SmtpSink() as sink:
        mailer = Mailer(host="127.0.0.1", port=sink.port, sender="noreply@school.example", starttls=False,
                        timeout=5)
        message = build_message(render_email("link_decision", {"student_name": "Иван", "approved": True}),
                                sender=mailer.sender, to=ADDRESS)
        sink.data_answers.append("554 5.7.1 message refused")
        with pytest.raises(PermanentError) as refused:
            await mailer.send(message)
        assert not isinstance(refused.value, RecipientRefused)
        sink.data_answers.append("451 4.3.0 local error")
        with pytest.raises(TransientError):
            await mailer.send(message)
        sink.rcpt_answers.append("553 5.1.3 bad address")
        with pytest.raises(RecipientRefused):
            await mailer.send(message)
        await mailer.send(message)
        [received] = await sink.wait_for(1)
        assert str(received["Subject"]) == "Доступ к электронному дневнику подтверждён: Иван"
        port = sink.port
    closed = Mailer(host="127.0.0.1", port=port, sender="noreply@school.example", starttls=False, timeout=5)
    with pytest.raises(TransientError):  # nobody listens any more: connection refused
        await closed.send(message)


async def test_channel_refuses_rows_of_a_parent_who_dropped_email():
    sent = []

    class FakeMailer:
        sender = "noreply@school.example"

        async def send(self, message):
            sent.append(message)

    async def no_address(_account_id):
        return None

    channel = EmailChannel(FakeMailer(), no_address)  # type: ignore[arg-type]
    with pytest.raises(PermanentError):
        await channel.send(Recipient(1, 1), "mark_new", {"student_name": "Иван", "subject": "Алгебра", "value": "5"})
    assert sent == []


def test_final_grades_and_exam_results_render_as_email():
    base = {"student_id": 1, "student_name": "Иван", "subject": "Алгебра", "period_name": "2 четверть",
            "kind": "period", "title": None, "value": "5", "status": "final", "deferred_until": None,
            "set_at": None, "change": "new", "old_value": None}
    final = render_email("final_grade", base, "ru")
    assert final.subject.startswith("Итоговая оценка: Иван — Алгебра: 5")
    assert "2 четверть" in final.text and "<b>5</b>" in final.html
    exam = render_email("final_grade", dict(base, kind="exam", title="ОГЭ", value="4", period_name=None), "en")
    assert exam.subject.startswith("Exam result") and "ОГЭ" in exam.text
    deferred = render_email("final_grade", dict(base, value=None, status="deferred", deferred_until="2026-12-20"), "ru")
    assert "перенесена до 20.12.2026" in deferred.text
    changed = render_email("final_grade", dict(base, change="changed", old_value="4"), "ru")
    assert "было 4, стало 5" in changed.text
    gone = render_email("final_grade_deleted", base, "ru")
    assert gone.subject.startswith("Итоговая оценка отменена") and "<s>5</s>" in gone.html


def test_rendering_strips_header_injection_and_escapes_html():
    rendered = render_email("mark_new", {"student_id": 1, "student_name": "Иван\r\nBcc: evil@example.org",
                                         "subject": "<script>", "value": "5"})
    assert "\r" not in rendered.subject and "\n" not in rendered.subject
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    message = build_message(rendered, sender="noreply@school.example", to=ADDRESS)
    head = message.as_string().split("\n\n", 1)[0]
    assert "\nBcc:" not in head
    with pytest.raises(PermanentError):
        render_email("no_such_kind", {})
