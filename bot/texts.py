"""Every text the handlers send, in Russian (the default) and complete English.

``t(lang, key, **values)`` formats a text; each value is HTML-escaped unless it is wrapped in
:class:`Html` (markup the caller built itself, already escaped). Parse mode is HTML.
"""
from __future__ import annotations

import html
from typing import Any

DEFAULT_LANG = "ru"


class Html(str):
    """A string of ready markup: ``t()`` inserts it without escaping."""


def lang_of(language_code: str | None) -> str:
    """The language of the texts for a Telegram ``language_code`` (Russian unless English)."""
    return "en" if (language_code or "").lower().startswith("en") else DEFAULT_LANG


RU: dict[str, str] = {
    # ---------------------------------------------------------------- menu buttons
    "btn_grades": "📊 Оценки",
    "btn_homework": "📚 Домашнее задание",
    "btn_schedule": "🗓 Расписание",
    "btn_children": "👨‍👩‍👧 Дети",
    "btn_share_phone": "📱 Привязать ребёнка (поделиться телефоном)",
    "btn_consent": "✅ Согласие",
    "btn_help": "❓ Помощь",
    # ---------------------------------------------------------------- inline buttons
    "btn_agree": "✅ Согласен",
    "btn_disagree": "❌ Не согласен",
    "btn_grant": "✅ Дать согласие",
    "btn_withdraw": "Отозвать согласие",
    "btn_withdraw_confirm": "Да, отозвать согласие",
    "btn_cancel": "Отмена",
    "btn_today": "Сегодня",
    "btn_tomorrow": "Завтра",
    "btn_week": "Неделя",
    "btn_refresh": "🔄 Обновить",
    "btn_other_child": "👤 другой ребёнок",
    "btn_approve": "✅ Подтвердить",
    "btn_reject": "❌ Отклонить",
    # ---------------------------------------------------------------- start and consent
    "start_intro": (
        "Здравствуйте! Это бот электронного дневника школ Югры. Он сообщает родителям "
        "(законным представителям) оценки, домашние задания и расписание их детей из "
        "школьного электронного журнала.\n\n"
        "Чтобы получать эти сведения в Telegram, нужно ваше согласие на обработку "
        "персональных данных. Прочитайте его текст и выберите ответ под ним."
    ),
    "consent_text_header": "<b>Согласие на обработку персональных данных</b> (редакция {version})",
    "consent_outdated": (
        "Текст согласия обновился. Прочитайте, пожалуйста, новую редакцию и ответьте ещё раз."
    ),
    "welcome_back": "С возвращением, {name}! Выберите раздел в меню ниже.",
    "welcome_back_noname": "С возвращением! Выберите раздел в меню ниже.",
    "consent_granted": (
        "Спасибо, согласие записано (редакция {version}).\n\n"
        "Теперь привяжите ребёнка одним из способов:\n"
        "• нажмите кнопку «📱 Привязать ребёнка (поделиться телефоном)» — если ваш номер есть "
        "в школьном журнале, администратор школы подтвердит привязку;\n"
        "• или отправьте сюда код приглашения от школы (например, <code>ABCD-EFGH</code>).\n\n"
        "Отозвать согласие можно в любой момент: /consent."
    ),
    "consent_refused": (
        "Ваш отказ записан. Мы ничего не будем присылать вам в электронном виде.\n\n"
        "Сведения об успеваемости ребёнка вы можете получить на бумаге в школе — у классного "
        "руководителя или в канцелярии.\n\n"
        "Если передумаете, отправьте /consent — там можно дать согласие."
    ),
    "consent_withdraw_ask": (
        "Отозвать согласие на обработку персональных данных?\n\n"
        "Доставка сведений в Telegram прекратится сразу, обработка ваших данных в этом сервисе "
        "будет прекращена. Школа по-прежнему выдаёт сведения на бумаге."
    ),
    "consent_withdrawn": (
        "Согласие отозвано. Электронная доставка сведений прекращена сразу, обработка ваших "
        "персональных данных в этом сервисе прекращается. Сведения об успеваемости вы можете "
        "получить на бумаге в школе — у классного руководителя или в канцелярии.\n\n"
        "Если передумаете, отправьте /consent."
    ),
    "consent_cancelled": "Хорошо, согласие остаётся в силе.",
    "consent_status_granted": "Ваше решение: <b>согласие дано</b> {date}, редакция {version}.",
    "consent_status_refused": "Ваше решение: <b>отказ</b> {date}, редакция {version}.",
    "consent_status_withdrawn": "Ваше решение: <b>согласие отозвано</b> {date}, редакция {version}.",
    "consent_status_none": "Вы ещё не принимали решения о согласии на обработку персональных данных.",
    "consent_required": (
        "Сведения о детях доступны только после согласия на обработку персональных данных. "
        "Прочитайте текст согласия ниже."
    ),
    "consent_already": "Это решение уже записано.",
    # ---------------------------------------------------------------- menu and help
    "menu": "Меню ниже 👇",
    "help_parent": (
        "<b>Что умеет бот</b>\n"
        "/grades — оценки за текущий период\n"
        "/homework — домашнее задание\n"
        "/schedule — расписание уроков\n"
        "/children — дети и выбор ребёнка\n"
        "/code КОД — привязать ребёнка по коду приглашения от школы\n"
        "/consent — согласие на обработку данных\n"
        "/help — эта справка\n\n"
        "Чтобы привязать ребёнка, нажмите «📱 Привязать ребёнка» или отправьте код приглашения."
    ),
    "help_admin": (
        "\n\n<b>Для администраторов</b>\n"
        "/pending — запросы на привязку\n"
        "/classes — ваши классы\n"
        "/invite ID_КЛАССА — коды приглашения для класса"
    ),
    "help_region_admin": (
        "\n/schools — школы\n"
        "/admin_add TELEGRAM_ID ШКОЛА — назначить администратора школы\n"
        "/admin_remove TELEGRAM_ID ШКОЛА — снять администратора школы"
    ),
    "unknown": "Не понимаю эту команду. Отправьте /help, чтобы увидеть список команд.",
    "stale_button": "Кнопка устарела, откройте меню заново.",
    "no_access": "Нет доступа.",
    "error": "Что-то пошло не так. Попробуйте ещё раз чуть позже.",
    "not_found": "Не найдено.",
    "account_inactive": "Ваша учётная запись отключена. Обратитесь в школу.",
    # ---------------------------------------------------------------- linking
    "contact_not_own": (
        "Пожалуйста, поделитесь <b>своим</b> номером — кнопкой «📱 Привязать ребёнка "
        "(поделиться телефоном)» в меню."
    ),
    "link_requested": (
        "Запрос отправлен администратору школы ({count}). Мы сообщим о решении."
    ),
    "link_already": "Ваши дети уже привязаны: {names}.",
    "link_already_pending": "Запрос уже отправлен администратору школы, ждём решения.",
    "link_no_match": (
        "Мы не нашли ваш номер в школьном журнале.\n\n"
        "Попросите в школе (у классного руководителя) код приглашения и отправьте его сюда, "
        "например: <code>ABCD-EFGH</code>."
    ),
    "code_requested": (
        "Код принят. Запрос на привязку ребёнка ({name}) отправлен администратору школы, "
        "мы сообщим о решении."
    ),
    "code_linked": "Код принят, ребёнок привязан: {name}.",
    "code_invalid": (
        "Код не подошёл: он неверный, уже использован или устарел. Проверьте код или попросите "
        "новый у классного руководителя."
    ),
    "code_usage": "Отправьте код приглашения так: <code>/code ABCD-EFGH</code>",
    # ---------------------------------------------------------------- children and views
    "no_children": (
        "Ни один ребёнок ещё не привязан.\n\n"
        "Нажмите «📱 Привязать ребёнка (поделиться телефоном)» или отправьте код приглашения "
        "от школы (например, <code>ABCD-EFGH</code>)."
    ),
    "children_header": "<b>Ваши дети</b> (нажмите, чтобы выбрать):",
    "children_pick": "Выберите ребёнка:",
    "child_line": "{mark} {name} — {class_name}, {school}",
    "child_selected": "Выбран ребёнок: {name}.",
    "grades_header": "📊 <b>Оценки: {name}</b>",
    "grades_period": "{period} ({start}–{end})",
    "grades_none": "Оценок за этот период пока нет.",
    "grades_line": "{subject}: {marks} — ср. {average} ({count})",
    "grades_line_noavg": "{subject}: {marks}",
    "grades_legend": "<i>Жирным — оценки с весом больше 1.</i>",
    "homework_header": "📚 <b>Домашнее задание: {name}</b> — {range}",
    "homework_none": "Заданий нет.",
    "homework_day_none": "заданий нет",
    "schedule_header": "🗓 <b>Расписание: {name}</b> — {range}",
    "schedule_none": "Уроков нет.",
    "schedule_day_none": "уроков нет",
    "holiday": "🌴 {name}",
    "lesson_substitute": "замена: {teacher}",
    "lesson_cancelled": "❌ отменён",
    "lesson_moved": "перенесён с {date}, {number} урок",
    "lesson_moved_nonumber": "перенесён с {date}",
    "lesson_group": "группа: {group}",
    "lesson_room": "каб. {room}",
    "lesson_kind_test": "📝 контрольная",
    "lesson_kind_lab": "🔬 лабораторная",
    "lesson_kind_excursion": "🚌 экскурсия",
    "range_today": "сегодня",
    "range_tomorrow": "завтра",
    "range_week": "неделя",
    "truncated": "…",
    # ---------------------------------------------------------------- admin
    "admin_only": "Команда доступна только администраторам.",
    "region_admin_only": "Команда доступна только администраторам региона.",
    "pending_none": "Нет запросов на привязку.",
    "pending_header": "Запросов на привязку: {count}.",
    "pending_more": "Показаны первые {shown}. Решите их и отправьте /pending снова.",
    "pending_item": (
        "🔗 <b>Запрос на привязку</b>\n"
        "Ребёнок: {student}, {class_name}, {school}\n"
        "Родитель: {parent}\n"
        "Способ: {method}\n"
        "Создан: {created}"
    ),
    "method_phone": "по телефону",
    "method_code": "по коду приглашения",
    "decision_approved": "✅ Подтверждено ({who}, {when})",
    "decision_rejected": "❌ Отклонено ({who}, {when})",
    "already_decided": "Уже решено.",
    "link_not_found": "Запрос не найден.",
    "classes_none": "Классов нет.",
    "classes_header": "<b>Ваши классы</b> (ID — класс, школа, учеников):",
    "class_line": "<code>{id}</code> — {name}, {school}, {pupils}",
    "invite_usage": "Использование: <code>/invite ID_КЛАССА</code> (список классов: /classes)",
    "invite_header": "<b>Коды приглашения: {class_name}</b>\nКаждый код одноразовый, действует {days} дн.",
    "invite_line": "{name} — <code>{code}</code>",
    "invite_none": "В этом классе нет учеников.",
    "class_not_found": "Класс не найден или недоступен вам.",
    "schools_none": "Школ нет.",
    "schools_header": "<b>Школы</b> (код — название):",
    "school_line": "<code>{ref}</code> — {name}",
    "admin_add_usage": "Использование: <code>/admin_add TELEGRAM_ID КОД_ШКОЛЫ</code> (коды: /schools; <code>*</code> — весь регион)",
    "admin_remove_usage": "Использование: <code>/admin_remove TELEGRAM_ID КОД_ШКОЛЫ</code>",
    "admin_added": "Администратор {telegram_id} назначен для школы {school}.",
    "admin_removed": "Администратор {telegram_id} снят со школы {school}.",
    "school_not_found": "Школа не найдена.",
    "region_scope": "весь регион",
    "admin_not_found": "Такого назначения нет.",
    # ---------------------------------------------------------------- command descriptions
    "cmd_start": "Начать",
    "cmd_grades": "Оценки",
    "cmd_homework": "Домашнее задание",
    "cmd_schedule": "Расписание",
    "cmd_children": "Дети",
    "cmd_code": "Привязать ребёнка по коду",
    "cmd_consent": "Согласие на обработку данных",
    "cmd_help": "Помощь",
}

EN: dict[str, str] = {
    "btn_grades": "📊 Marks",
    "btn_homework": "📚 Homework",
    "btn_schedule": "🗓 Timetable",
    "btn_children": "👨‍👩‍👧 Children",
    "btn_share_phone": "📱 Link a child (share phone number)",
    "btn_consent": "✅ Consent",
    "btn_help": "❓ Help",
    "btn_agree": "✅ I agree",
    "btn_disagree": "❌ I disagree",
    "btn_grant": "✅ Give consent",
    "btn_withdraw": "Withdraw consent",
    "btn_withdraw_confirm": "Yes, withdraw consent",
    "btn_cancel": "Cancel",
    "btn_today": "Today",
    "btn_tomorrow": "Tomorrow",
    "btn_week": "Week",
    "btn_refresh": "🔄 Refresh",
    "btn_other_child": "👤 another child",
    "btn_approve": "✅ Approve",
    "btn_reject": "❌ Reject",
    "start_intro": (
        "Hello! This is the electronic school diary bot of Yugra schools. It tells parents "
        "(legal representatives) their children's marks, homework and timetable from the "
        "school's electronic journal.\n\n"
        "To receive this information in Telegram we need your consent to the processing of "
        "personal data. Please read it and choose an answer below."
    ),
    "consent_text_header": "<b>Consent to the processing of personal data</b> (version {version})",
    "consent_outdated": "The consent text has been updated. Please read the new version and answer again.",
    "welcome_back": "Welcome back, {name}! Choose a section in the menu below.",
    "welcome_back_noname": "Welcome back! Choose a section in the menu below.",
    "consent_granted": (
        "Thank you, your consent is recorded (version {version}).\n\n"
        "Now link your child in one of two ways:\n"
        "• press «📱 Link a child (share phone number)» — if your number is in the school "
        "journal, the school admin will confirm the link;\n"
        "• or send the school's invite code here (for example <code>ABCD-EFGH</code>).\n\n"
        "You can withdraw your consent at any time: /consent."
    ),
    "consent_refused": (
        "Your refusal is recorded. We will send you nothing electronically.\n\n"
        "You can get your child's progress on paper at school — from the class teacher or "
        "the school office.\n\n"
        "If you change your mind, send /consent — you can give consent there."
    ),
    "consent_withdraw_ask": (
        "Withdraw your consent to the processing of personal data?\n\n"
        "Delivery to Telegram stops at once and the processing of your data in this service "
        "stops. The school still provides the information on paper."
    ),
    "consent_withdrawn": (
        "Consent withdrawn. Electronic delivery stopped at once and the processing of your "
        "personal data in this service stops. You can get your child's progress on paper at "
        "school — from the class teacher or the school office.\n\n"
        "If you change your mind, send /consent."
    ),
    "consent_cancelled": "All right, your consent stays in force.",
    "consent_status_granted": "Your decision: <b>consent given</b> {date}, version {version}.",
    "consent_status_refused": "Your decision: <b>refused</b> {date}, version {version}.",
    "consent_status_withdrawn": "Your decision: <b>consent withdrawn</b> {date}, version {version}.",
    "consent_status_none": "You have not yet decided on consent to the processing of personal data.",
    "consent_required": (
        "Information about children is available only after consent to the processing of "
        "personal data. Please read the consent text below."
    ),
    "consent_already": "This decision is already recorded.",
    "menu": "Menu below 👇",
    "help_parent": (
        "<b>What the bot can do</b>\n"
        "/grades — marks for the current period\n"
        "/homework — homework\n"
        "/schedule — timetable\n"
        "/children — children and choosing a child\n"
        "/code CODE — link a child with the school's invite code\n"
        "/consent — consent to data processing\n"
        "/help — this help\n\n"
        "To link a child, press «📱 Link a child» or send an invite code."
    ),
    "help_admin": (
        "\n\n<b>For admins</b>\n"
        "/pending — link requests\n"
        "/classes — your classes\n"
        "/invite CLASS_ID — invite codes for a class"
    ),
    "help_region_admin": (
        "\n/schools — schools\n"
        "/admin_add TELEGRAM_ID SCHOOL — appoint a school admin\n"
        "/admin_remove TELEGRAM_ID SCHOOL — remove a school admin"
    ),
    "unknown": "I don't understand this. Send /help to see the list of commands.",
    "stale_button": "This button is out of date, please open the menu again.",
    "no_access": "No access.",
    "error": "Something went wrong. Please try again a little later.",
    "not_found": "Not found.",
    "account_inactive": "Your account is disabled. Please contact the school.",
    "contact_not_own": (
        "Please share <b>your own</b> number — with the «📱 Link a child (share phone number)» "
        "button in the menu."
    ),
    "link_requested": "The request was sent to the school admin ({count}). We will tell you the decision.",
    "link_already": "Your children are already linked: {names}.",
    "link_already_pending": "The request has already been sent to the school admin; waiting for the decision.",
    "link_no_match": (
        "We did not find your number in the school journal.\n\n"
        "Ask the school (the class teacher) for an invite code and send it here, "
        "for example: <code>ABCD-EFGH</code>."
    ),
    "code_requested": (
        "Code accepted. The request to link your child ({name}) was sent to the school admin; "
        "we will tell you the decision."
    ),
    "code_linked": "Code accepted, child linked: {name}.",
    "code_invalid": (
        "This code did not work: it is wrong, already used or expired. Check the code or ask "
        "the class teacher for a new one."
    ),
    "code_usage": "Send the invite code like this: <code>/code ABCD-EFGH</code>",
    "no_children": (
        "No child is linked yet.\n\n"
        "Press «📱 Link a child (share phone number)» or send the school's invite code "
        "(for example <code>ABCD-EFGH</code>)."
    ),
    "children_header": "<b>Your children</b> (press to choose):",
    "children_pick": "Choose a child:",
    "child_line": "{mark} {name} — {class_name}, {school}",
    "child_selected": "Selected child: {name}.",
    "grades_header": "📊 <b>Marks: {name}</b>",
    "grades_period": "{period} ({start}–{end})",
    "grades_none": "No marks for this period yet.",
    "grades_line": "{subject}: {marks} — avg {average} ({count})",
    "grades_line_noavg": "{subject}: {marks}",
    "grades_legend": "<i>Bold: marks with a weight above 1.</i>",
    "homework_header": "📚 <b>Homework: {name}</b> — {range}",
    "homework_none": "No homework.",
    "homework_day_none": "no homework",
    "schedule_header": "🗓 <b>Timetable: {name}</b> — {range}",
    "schedule_none": "No lessons.",
    "schedule_day_none": "no lessons",
    "holiday": "🌴 {name}",
    "lesson_substitute": "substitute: {teacher}",
    "lesson_cancelled": "❌ cancelled",
    "lesson_moved": "moved from {date}, lesson {number}",
    "lesson_moved_nonumber": "moved from {date}",
    "lesson_group": "group: {group}",
    "lesson_room": "room {room}",
    "lesson_kind_test": "📝 test",
    "lesson_kind_lab": "🔬 lab work",
    "lesson_kind_excursion": "🚌 excursion",
    "range_today": "today",
    "range_tomorrow": "tomorrow",
    "range_week": "week",
    "truncated": "…",
    "admin_only": "This command is available to admins only.",
    "region_admin_only": "This command is available to region admins only.",
    "pending_none": "No link requests.",
    "pending_header": "Link requests: {count}.",
    "pending_more": "The first {shown} are shown. Decide them and send /pending again.",
    "pending_item": (
        "🔗 <b>Link request</b>\n"
        "Child: {student}, {class_name}, {school}\n"
        "Parent: {parent}\n"
        "Method: {method}\n"
        "Created: {created}"
    ),
    "method_phone": "by phone number",
    "method_code": "by invite code",
    "decision_approved": "✅ Approved ({who}, {when})",
    "decision_rejected": "❌ Rejected ({who}, {when})",
    "already_decided": "Already decided.",
    "link_not_found": "Request not found.",
    "classes_none": "No classes.",
    "classes_header": "<b>Your classes</b> (ID — class, school, pupils):",
    "class_line": "<code>{id}</code> — {name}, {school}, {pupils}",
    "invite_usage": "Usage: <code>/invite CLASS_ID</code> (list of classes: /classes)",
    "invite_header": "<b>Invite codes: {class_name}</b>\nEach code is one-time, valid for {days} days.",
    "invite_line": "{name} — <code>{code}</code>",
    "invite_none": "There are no pupils in this class.",
    "class_not_found": "Class not found or not available to you.",
    "schools_none": "No schools.",
    "schools_header": "<b>Schools</b> (code — name):",
    "school_line": "<code>{ref}</code> — {name}",
    "admin_add_usage": "Usage: <code>/admin_add TELEGRAM_ID SCHOOL_CODE</code> (codes: /schools; <code>*</code> — the whole region)",
    "admin_remove_usage": "Usage: <code>/admin_remove TELEGRAM_ID SCHOOL_CODE</code>",
    "admin_added": "Admin {telegram_id} appointed for school {school}.",
    "admin_removed": "Admin {telegram_id} removed from school {school}.",
    "school_not_found": "School not found.",
    "region_scope": "the whole region",
    "admin_not_found": "There is no such appointment.",
    "cmd_start": "Start",
    "cmd_grades": "Marks",
    "cmd_homework": "Homework",
    "cmd_schedule": "Timetable",
    "cmd_children": "Children",
    "cmd_code": "Link a child with a code",
    "cmd_consent": "Consent to data processing",
    "cmd_help": "Help",
}

TEXTS: dict[str, dict[str, str]] = {"ru": RU, "en": EN}
LANGUAGES = tuple(TEXTS)

#: Short weekday names, Monday first.
WEEKDAYS: dict[str, tuple[str, ...]] = {
    "ru": ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс"),
    "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}


def _escape(value: Any) -> str:
    if isinstance(value, Html):
        return str(value)
    return html.escape(str(value), quote=False)


def t(lang: str | None, key: str, **values: Any) -> str:
    """The text ``key`` in ``lang`` (Russian if unknown), with escaped ``values`` inserted."""
    table = TEXTS.get(lang or DEFAULT_LANG, RU)
    template = table.get(key) or RU[key]
    if not values:
        return template
    return template.format(**{name: _escape(value) for name, value in values.items()})


def variants(key: str) -> frozenset[str]:
    """The text ``key`` in every language: to match reply-keyboard buttons whatever the language."""
    return frozenset(table[key] for table in TEXTS.values())
