"""Contacts and the agreed delivery form (issue 6).

Parents: `/email` shows the delivery form with toggles and asks for an address; the address
gets a 6-digit code by e-mail, which the parent types here. Admins: `/contacts CLASS_ID`
(parents, forms, application data), `/contact_set` (a written application), `/paper CLASS_ID`,
`/paper_pupil PUPIL_ID` and `/paper_queue` (PDF extracts sent as documents).
Every refusal names its reason; values typed by people are escaped by `t()`.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from bot.callbacks import EmailFormCb
from bot.handlers.common import (
    edit_markup,
    require_admin,
    send,
    send_chunks,
    send_consent_prompt,
)
from bot.middlewares import ConsentGate
from bot.render import split_message
from bot.texts import t
from services.contacts import (
    EMAIL,
    FORMS,
    TELEGRAM,
    ApplicationInvalid,
    EmailInvalid,
    EmailSendFailed,
    EmailUnavailable,
    TooManyCodes,
    mask_email,
)
from services.errors import NotFound

if TYPE_CHECKING:
    from services.accounts import AccountView
    from services.contacts import ContactView
    from services.container import Services

log = logging.getLogger(__name__)


class EmailFlow(StatesGroup):
    address = State()
    code = State()


INVALID_KEYS = {"too_long": "email_too_long", "forbidden_chars": "email_forbidden_chars", "format": "email_bad_format"}
CODE_KEYS = {"wrong": "email_code_wrong", "used": "email_code_used", "expired": "email_code_expired",
             "locked": "email_code_locked", "none": "email_code_none", "format": "email_code_format"}
APPLICATION_KEYS = {"forms": "contact_set_bad_forms", "number": "contact_set_bad_number",
                    "date": "contact_set_bad_date", "email": "contact_set_need_email",
                    "telegram": "contact_set_no_telegram"}

#: Free text in a flow state, not a command.
NOT_COMMAND = F.text & ~F.text.startswith("/")


# --------------------------------------------------------------------------- parent


def _forms_line(lang: str, forms: frozenset[str]) -> str:
    names = [t(lang, f"form_{f}") for f in FORMS if f in forms]
    return ", ".join(names) if names else t(lang, "forms_nothing")


def _status_text(lang: str, view: ContactView) -> str:
    if view.email is None:
        email = t(lang, "email_none")
    elif view.email_bounced:
        email = t(lang, "email_bounced", email=view.email)
    elif view.email_confirmed:
        email = view.email
    else:
        email = t(lang, "email_unconfirmed", email=view.email)
    return t(lang, "email_status", forms=_forms_line(lang, view.forms), email=email) + "\n" + t(lang, "email_status_hint")


def _status_keyboard(lang: str, view: ContactView) -> InlineKeyboardMarkup:
    toggles = [
        InlineKeyboardButton(text=("✅ " if f in view.forms else "▫️ ") + t(lang, f"form_{f}"),
                             callback_data=EmailFormCb(action="toggle", form=f).pack())
        for f in FORMS
    ]
    rows = [[b] for b in toggles]
    rows.append([InlineKeyboardButton(text=t(lang, "btn_email_set"), callback_data=EmailFormCb(action="set").pack())])
    if view.email:
        rows.append([InlineKeyboardButton(text=t(lang, "btn_email_stop"),
                                          callback_data=EmailFormCb(action="stop").pack())])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _cancel_keyboard(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(
        text=t(lang, "btn_cancel"), callback_data=EmailFormCb(action="cancel").pack())]])


async def _ask_address(bot: Bot, chat_id: int, lang: str, state: FSMContext) -> None:
    await state.set_state(EmailFlow.address)
    await send(bot, chat_id, t(lang, "email_ask"), _cancel_keyboard(lang))


async def on_email(message: Message, bot: Bot, account: AccountView, services: Services, lang: str,
                   state: FSMContext) -> None:
    view = await services.contacts.get(account.id)
    if view.email is None and view.forms == frozenset({TELEGRAM}):
        await _ask_address(bot, message.chat.id, lang, state)
        return
    await state.clear()
    await send(bot, message.chat.id, _status_text(lang, view), _status_keyboard(lang, view))


async def on_address(message: Message, bot: Bot, account: AccountView, services: Services, lang: str,
                     state: FSMContext) -> None:
    try:
        sent = await services.contacts.request_code(account.id, message.text or "")
    except EmailInvalid as exc:
        await send(bot, message.chat.id, t(lang, INVALID_KEYS.get(exc.reason, "email_bad_format")),
                   _cancel_keyboard(lang))
        return
    except EmailUnavailable:
        await state.clear()
        await send(bot, message.chat.id, t(lang, "email_unavailable"))
        return
    except TooManyCodes:
        await state.clear()
        await send(bot, message.chat.id, t(lang, "email_too_many_codes"))
        return
    except EmailSendFailed:
        await state.clear()
        await send(bot, message.chat.id, t(lang, "email_send_failed"))
        return
    await state.set_state(EmailFlow.code)
    await send(bot, message.chat.id, t(lang, "email_code_sent", email=mask_email(sent.email), minutes=sent.minutes),
               _cancel_keyboard(lang))


async def on_code(message: Message, bot: Bot, account: AccountView, services: Services, lang: str,
                  state: FSMContext) -> None:
    result = await services.contacts.confirm(account.id, message.text or "")
    if result.status == "confirmed":
        await state.clear()
        await send(bot, message.chat.id, t(lang, "email_confirmed", email=result.email or ""))
        return
    if result.status in ("expired", "locked", "none"):
        await state.clear()
    await send(bot, message.chat.id, t(lang, CODE_KEYS[result.status], left=result.attempts_left))


async def on_form_button(query: CallbackQuery, callback_data: EmailFormCb, bot: Bot, account: AccountView,
                         services: Services, lang: str, state: FSMContext) -> None:
    chat_id = query.message.chat.id if query.message else query.from_user.id
    action = callback_data.action
    if action == "cancel":
        await state.clear()
        await query.answer()
        if isinstance(query.message, Message):
            await edit_markup(bot, query.message, None)
        await send(bot, chat_id, t(lang, "email_cancelled"))
        return
    if action == "set":
        await query.answer()
        await _ask_address(bot, chat_id, lang, state)
        return
    if action == "stop":
        view = await services.contacts.stop_email(account.id)
        await state.clear()
        await query.answer(t(lang, "email_stopped"))
    elif action == "toggle" and callback_data.form in FORMS:
        current = await services.contacts.get(account.id)
        chosen = set(current.forms) ^ {callback_data.form}
        try:
            view = await services.contacts.set_forms(account.id, chosen)
        except ApplicationInvalid as exc:
            await query.answer(t(lang, "forms_need_email" if exc.reason == "email" else "forms_need_one"),
                               show_alert=True)
            if exc.reason == "email" and callback_data.form == EMAIL:
                await _ask_address(bot, chat_id, lang, state)
            return
        await query.answer(t(lang, "forms_updated", forms=_forms_line(lang, view.forms)))
    else:
        await query.answer(t(lang, "stale_button"), show_alert=True)
        return
    if isinstance(query.message, Message):
        try:
            await bot.edit_message_text(_status_text(lang, view), chat_id=chat_id,
                                        message_id=query.message.message_id, parse_mode="HTML",
                                        reply_markup=_status_keyboard(lang, view))
        except Exception:  # noqa: BLE001 - an old message that cannot be edited: send anew
            await send(bot, chat_id, _status_text(lang, view), _status_keyboard(lang, view))


# --------------------------------------------------------------------------- admins


def _int_arg(command: CommandObject) -> int | None:
    arg = (command.args or "").strip()
    return int(arg) if arg.isdigit() and len(arg) <= 12 else None


async def on_contacts(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                      services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    class_id = _int_arg(command)
    if class_id is None:
        await send(bot, message.chat.id, t(lang, "contacts_usage"))
        return
    try:
        data = await services.contacts.class_contacts(account.telegram_id, class_id)
    except NotFound:
        await send(bot, message.chat.id, t(lang, "class_not_found"))
        return
    lines = [t(lang, "contacts_header", class_name=data.class_name, school=data.school_name)]
    for pupil in data.pupils:
        paper = t(lang, "contacts_paper_mark") if pupil.on_paper else ""
        lines.append("")
        lines.append(t(lang, "contacts_pupil", name=pupil.name, id=pupil.student_id, paper=paper))
        if not pupil.parents:
            lines.append(t(lang, "contacts_no_parents"))
        for parent in pupil.parents:
            forms = _forms_line(lang, parent.forms) if parent.forms else t(lang, "contacts_unknown_form")
            email = f"; {parent.email}" + ("" if parent.email_confirmed else " (?)") if parent.email else ""
            application = ""
            if parent.application_no:
                day = parent.application_date.strftime("%d.%m.%Y") if parent.application_date else "—"
                application = t(lang, "contacts_application", no=parent.application_no, date=day)
            lines.append(t(lang, "contacts_parent", parent_key=parent.key, name=parent.name,
                           tg=t(lang, "contacts_tg") if parent.has_telegram else "", forms=forms,
                           email=email, application=application))
    await send_chunks(bot, message.chat.id, split_message("\n".join(lines)))


async def on_contact_set(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                         services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    args = (command.args or "").split()
    if len((command.args or "")) > 600 or len(args) not in (4, 5):
        await send(bot, message.chat.id, t(lang, "contact_set_usage"))
        return
    key, forms, number, day = args[:4]
    email = args[4] if len(args) == 5 else None
    try:
        view = await services.contacts.enter_application(account.telegram_id, key, forms, number, day, email)
    except ApplicationInvalid as exc:
        await send(bot, message.chat.id, t(lang, APPLICATION_KEYS.get(exc.reason, "contact_set_usage")))
        return
    except EmailInvalid as exc:
        await send(bot, message.chat.id, t(lang, INVALID_KEYS.get(exc.reason, "email_bad_format")))
        return
    except NotFound:
        await send(bot, message.chat.id, t(lang, "contact_set_not_found"))
        return
    text = t(lang, "contact_set_done", no=view.application_no or number,
             date=view.application_date.strftime("%d.%m.%Y") if view.application_date else day,
             forms=_forms_line(lang, view.forms))
    if EMAIL in view.forms and not view.has_account:
        text += "\n" + t(lang, "contact_set_no_bot")
    await send(bot, message.chat.id, text)


async def _send_pdf(bot: Bot, chat_id: int, pdf: bytes, filename: str, caption: str) -> None:
    await bot.send_document(chat_id, BufferedInputFile(pdf, filename=filename), caption=caption, parse_mode="HTML")


async def on_paper(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                   services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    class_id = _int_arg(command)
    if class_id is None:
        await send(bot, message.chat.id, t(lang, "paper_usage"))
        return
    try:
        doc = await services.paper.class_extracts(account.telegram_id, class_id)
    except NotFound:
        await send(bot, message.chat.id, t(lang, "class_not_found"))
        return
    if doc.pdf is None:
        await send(bot, message.chat.id, t(lang, "paper_none", class_name=doc.class_name))
        return
    await _send_pdf(bot, message.chat.id, doc.pdf, doc.filename,
                    t(lang, "paper_caption", class_name=doc.class_name, count=len(doc.student_ids)))


async def on_paper_pupil(message: Message, command: CommandObject, bot: Bot, account: AccountView,
                         services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    student_id = _int_arg(command)
    if student_id is None:
        await send(bot, message.chat.id, t(lang, "paper_pupil_usage"))
        return
    try:
        doc = await services.paper.pupil_extract(account.telegram_id, student_id)
    except NotFound:
        await send(bot, message.chat.id, t(lang, "pupil_not_found"))
        return
    assert doc.pdf is not None
    await _send_pdf(bot, message.chat.id, doc.pdf, doc.filename,
                    t(lang, "paper_pupil_caption", name=doc.student_names[0]))


async def on_paper_queue(message: Message, bot: Bot, account: AccountView, services: Services, lang: str) -> None:
    if not await require_admin(message, bot, services, lang):
        return
    doc = await services.paper.drain_queue(account.telegram_id)
    if doc.pdf is None:
        await send(bot, message.chat.id, t(lang, "paper_queue_empty"))
        return
    await _send_pdf(bot, message.chat.id, doc.pdf, doc.filename,
                    t(lang, "paper_queue_caption", count=len(doc.student_ids)))


def router() -> Router:
    r = Router(name="contacts")
    parents = Router(name="contacts-parent")
    gate = ConsentGate(send_consent_prompt)
    parents.message.middleware(gate)
    parents.callback_query.middleware(gate)
    parents.message.register(on_email, Command("email"))
    parents.message.register(on_address, StateFilter(EmailFlow.address), NOT_COMMAND)
    parents.message.register(on_code, StateFilter(EmailFlow.code), NOT_COMMAND)
    parents.callback_query.register(on_form_button, EmailFormCb.filter())
    r.message.register(on_contacts, Command("contacts"))
    r.message.register(on_contact_set, Command("contact_set"))
    r.message.register(on_paper, Command("paper"))
    r.message.register(on_paper_pupil, Command("paper_pupil"))
    r.message.register(on_paper_queue, Command("paper_queue"))
    r.include_router(parents)
    return r
