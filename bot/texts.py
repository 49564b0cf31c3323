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
    # ---------------------------------------------------------------- consent lifecycle, erasure, audit (issue 6, items 1, 2, 6)
    "btn_forget_confirm": "🗑 Да, удалить мои данные",
    "btn_audit_older": "◀ Раньше",
    "btn_audit_newer": "Позже ▶",
    "cmd_forget": "Удалить мои данные",
    "help_privacy_parent": "\n\n/forget — удалить мои данные из сервиса",
    "help_privacy_admin": (
        "\n/audit [N] — журнал аудита (страница N)\n"
        "/parents ID_КЛАССА — родители класса и их решения о согласии\n"
        "/paper_consent КТО РЕШЕНИЕ НОМЕР ДАТА — внести решение с бумажного бланка\n"
        "/consent_history КТО — история решений о согласии (PDF)"
    ),
    "erasure_note_withdrawn": (
        "Ваши данные в сервисе будут уничтожены {date} (акт № <code>{reference}</code>). До этого "
        "дня можно передумать и снова дать согласие — /consent. Удалить данные сразу — /forget."
    ),
    "erasure_note_refused": (
        "Сведения, которые бот получил при обращении к нему (идентификатор и имя в Telegram), будут "
        "уничтожены {date} (акт № <code>{reference}</code>); запись об отказе сохранится без них. "
        "Удалить сразу — /forget."
    ),
    "consent_status_outdated": (
        "Текст согласия обновился: вы давали согласие на редакцию {version} ({date}). Пока вы не "
        "ответите на новую редакцию, сведения о детях не присылаются."
    ),
    "consent_status_erasure": "Ваши данные будут уничтожены {date} (акт № <code>{reference}</code>).",
    "forget_ask": (
        "<b>Удалить ваши данные из сервиса «Электронный дневник»?</b>\n\n"
        "Сразу будут уничтожены: ваша учётная запись в боте (идентификатор, имя и имя пользователя "
        "в Telegram, номер телефона), привязки к детям и запросы на привязку, контакты и способ "
        "доставки, все сообщения в очереди. Согласие, если оно дано, будет отозвано.\n\n"
        "Сохранятся: записи ваших решений о согласии — без имени и идентификатора, с ключом, по "
        "которому их можно показать только вам по вашему запросу (до {years} лет), и акт об "
        "уничтожении без персональных данных.\n\n"
        "Сведения об успеваемости ребёнка по-прежнему можно получить в школе на бумаге."
    ),
    "forget_done": (
        "Ваши данные удалены. Номер акта об уничтожении: <code>{reference}</code>.\n\n"
        "Если захотите снова пользоваться ботом, отправьте /start."
    ),
    "forget_cancelled": "Хорошо, ничего не удалено.",
    "forget_stale": "Эта кнопка устарела: данные уже удалены.",
    "notice_consent_reask": (
        "📄 Текст согласия на обработку персональных данных обновился (редакция {version}). Пока вы "
        "не ответите, сведения о детях не присылаются. Прочитайте новую редакцию: /consent"
    ),
    "notice_erasure_scheduled_withdrawal": (
        "Школа внесла ваш письменный отзыв согласия на обработку персональных данных. Электронная "
        "доставка сведений прекращена. Ваши данные в сервисе будут уничтожены {date} (акт № "
        "<code>{reference}</code>). До этого дня можно снова дать согласие — /consent; удалить "
        "сразу — /forget."
    ),
    "notice_erasure_scheduled_refusal": (
        "Школа внесла ваш письменный отказ от обработки персональных данных. Электронная доставка "
        "сведений прекращена. Ваши данные в сервисе будут уничтожены {date} (акт № "
        "<code>{reference}</code>). Удалить сразу — /forget."
    ),
    "notice_erasure_reminder": (
        "⏳ Напоминание: {date} ваши данные в сервисе «Электронный дневник» будут уничтожены (акт № "
        "<code>{reference}</code>), потому что согласия на их обработку нет. Если хотите снова "
        "получать сведения о ребёнке, дайте согласие до этого дня: /consent."
    ),
    "audit_usage": "Использование: <code>/audit</code> или <code>/audit N</code> (N — страница, 1 — самые новые записи)",
    "audit_header": "<b>Журнал аудита</b> — страница {page} из {pages}, записей: {total} (новые сверху)",
    "audit_none": "Записей нет.",
    "audit_actor": "админ {id}",
    "audit_system": "система",
    "audit_school": "школа {id}",
    "consent_parents_usage": "Использование: <code>/parents ID_КЛАССА</code> (список классов: /classes)",
    "consent_parents_header": (
        "<b>Родители: {class_name}, {school}</b>\n"
        "Для команд: <code>g:…</code> — законный представитель из журнала, <code>tg:…</code> — пользователь бота."
    ),
    "consent_parents_none": "В классе нет учеников.",
    "consent_parents_nobody": "   — нет сведений о представителях",
    "consent_parents_link_approved": "привязка подтверждена",
    "consent_parents_link_pending": "привязка ожидает",
    "consent_state_none": "нет решения",
    "consent_state_granted": "согласие ({version})",
    "consent_state_refused": "отказ",
    "consent_state_withdrawn": "согласие отозвано",
    "consent_state_outdated": "согласие на прежнюю редакцию ({version})",
    "consent_decision_granted": "согласие",
    "consent_decision_refused": "отказ",
    "consent_decision_withdrawn": "отзыв согласия",
    "paper_consent_usage": (
        "Использование: <code>/paper_consent КТО РЕШЕНИЕ НОМЕР ДАТА</code>\n"
        "КТО — <code>g:ID</code> (законный представитель из журнала) или <code>tg:ID</code> "
        "(пользователь бота), см. /parents\n"
        "РЕШЕНИЕ — <code>grant</code> (согласие), <code>refuse</code> (отказ), <code>withdraw</code> (отзыв)\n"
        "НОМЕР — регистрационный номер бланка, ДАТА — дата подписи ДД.ММ.ГГГГ\n"
        "Например: <code>/paper_consent g:g-1 grant 15/2026 01.12.2026</code>"
    ),
    "paper_consent_done": "Записано: {decision} по бланку № {number} от {date}, редакция {version}.",
    "paper_consent_accounts": "Согласие отозвано и у пользователей бота, привязанных по телефону этого представителя: {count}.",
    "paper_consent_erasure": "Данные этого человека в сервисе будут уничтожены {date}.",
    "paper_consent_nothing": "Отзывать нечего: согласие не было дано. Внесите отказ (<code>refuse</code>).",
    "paper_consent_bad_date": "Дата подписи — в виде ДД.ММ.ГГГГ, не позже сегодняшней.",
    "paper_consent_bad_number": "Номер бланка — до 32 символов: буквы, цифры, «/», «-», «.».",
    "consent_person_not_found": "Человек не найден или недоступен вам.",
    "consent_history_usage": "Использование: <code>/consent_history КТО</code> (КТО — <code>g:ID</code> или <code>tg:ID</code>, см. /parents)",
    "consent_history_caption": "История решений о согласии: записей {count}. Выгрузка записана в журнал аудита.",
    # ---------------------------------------------------------------- notification settings and news pushes (issue 4, items 2-4)
    "btn_settings": "⚙️ Настройки",
    "cmd_settings": "Настройки уведомлений",
    "ns_title": "⚙️ <b>Настройки уведомлений</b>",
    "ns_types_header": "Что присылать (нажмите, чтобы включить или выключить):",
    "ns_type_marks": "Оценки",
    "ns_type_schedule": "Замены, отмены и переносы уроков",
    "ns_type_homework": "Новые домашние задания",
    "ns_type_recommendations": "Рекомендации учителей",
    "ns_type_assessments": "Контрольные работы в календаре",
    "ns_type_line": "{mark} {name}",
    "ns_quiet_line": "🌙 Тихие часы: {value}",
    "ns_quiet_none": "нет",
    "ns_quiet_default": "{range} (по умолчанию)",
    "ns_digest_line": "📬 Доставка: {value}",
    "ns_digest_instant": "сразу (события за пару минут — одним сообщением)",
    "ns_digest_at": "одной сводкой в день, в {time}",
    "ns_lang_line": "🌐 Язык: {value}",
    "ns_lang_ru": "русский",
    "ns_lang_en": "English",
    "ns_note": (
        "<i>Время указано по часовому поясу школы ({tz}). Что придёт в тихие часы, не теряется: "
        "вы получите это сразу после них.</i>"
    ),
    "ns_btn_quiet": "🌙 Тихие часы",
    "ns_btn_digest": "📬 Сводка раз в день",
    "ns_btn_lang": "🌐 English",
    "ns_btn_back": "⬅️ Назад",
    "ns_quiet_pick": (
        "🌙 <b>Тихие часы</b>\n"
        "В это время уведомления не приходят; всё, что случится, придёт одним сообщением после. "
        "Сейчас: {value}. Выберите:"
    ),
    "ns_quiet_off_btn": "Без тихих часов",
    "ns_digest_pick": (
        "📬 <b>Сводка раз в день</b>\n"
        "Вместо отдельных сообщений — одна сводка в выбранное время. Сейчас: {value}. Выберите:"
    ),
    "ns_digest_instant_btn": "Сразу, без сводки",
    "ns_saved": "Сохранено",
    "ns_lang_changed": "Язык переключён: русский.",
    "nf_lesson_changed": "🔔 <b>Изменение в расписании</b>",
    "nf_lesson_when": "{date}, {number} урок ({start}–{end})",
    "nf_lesson_cancelled": "❌ урок отменён",
    "nf_lesson_substitute": "🔁 замена: {substitute}",
    "nf_lesson_substitute_for": "🔁 замена: {substitute} (вместо: {teacher})",
    "nf_lesson_moved": "↪️ перенесён с {date}, {number} урок",
    "nf_lesson_moved_nonumber": "↪️ перенесён с {date}",
    "nf_lesson_group": "группа: {group}",
    "nf_lesson_room": "каб. {room}",
    "nf_homework_new": "📚 <b>Новое домашнее задание</b>",
    "nf_homework_due": "к {date}",
    "nf_recommendation_new": "💡 <b>Рекомендация учителя</b>",
    "nf_teacher": "Учитель: {teacher}",
    "nf_no_subject": "без предмета",
    "nf_assessment_new": "📝 <b>Контрольная работа в календаре</b>",
    "nf_assessment_when": "{date}, {number} урок",
    "nf_assessment_kind_control": "контрольная работа",
    "nf_assessment_kind_test": "тест",
    "nf_assessment_kind_vpr": "ВПР",
    "nf_assessment_kind_other": "проверочная работа",
    "nf_digest_header": "📬 <b>Сводка</b> — новостей: {count}",
    "nf_digest_student": "👤 <b>{name}</b>",
    "nf_digest_other": "• ещё одно уведомление",
    "nf_d_deleted": "удалена",
    "nf_d_cancelled": "отменён",
    "nf_d_substitute": "замена: {substitute}",
    "nf_d_moved": "перенесён с {date}",
    # ---------------------------------------------------------------- contacts, e-mail, paper (issue 6)
    "email_ask": (
        "Пришлите адрес электронной почты одним сообщением, например <code>ivanova@mail.ru</code>. "
        "На него придёт код из 6 цифр для подтверждения."
    ),
    "email_too_long": (
        "Слишком длинно: адрес электронной почты — не больше 254 символов. Пришлите только адрес."
    ),
    "email_forbidden_chars": (
        "В адресе есть недопустимые символы: перевод строки, пробел, кавычки, скобки, запятая "
        "или точка с запятой. Пришлите один адрес без них, например <code>ivanova@mail.ru</code>."
    ),
    "email_bad_format": "Это не похоже на адрес электронной почты. Пример: <code>ivanova@mail.ru</code>.",
    "email_unavailable": (
        "Доставка по электронной почте пока не настроена. Обратитесь к администратору школы."
    ),
    "email_too_many_codes": "Сегодня уже отправлено 5 кодов. Попробуйте завтра.",
    "email_send_failed": "Не удалось отправить письмо. Проверьте адрес или попробуйте позже: /email",
    "email_code_sent": (
        "Код отправлен на {email}. Введите 6 цифр из письма. Код действует {minutes} минут "
        "и подходит один раз."
    ),
    "email_confirmed": "✅ Адрес {email} подтверждён. Уведомления будут приходить и на почту.",
    "email_code_wrong": "Неверный код. Осталось попыток: {left}.",
    "email_code_used": (
        "Этот код уже использован или заменён новым. Введите код из последнего письма "
        "или запросите новый: /email"
    ),
    "email_code_expired": "Срок действия кода истёк. Запросите новый: /email",
    "email_code_locked": "Слишком много неверных попыток, код больше не действует. Запросите новый: /email",
    "email_code_none": "Нет действующего кода. Запросите новый: /email",
    "email_code_format": "Код — это 6 цифр из письма. Введите его ещё раз.",
    "email_status": "<b>Способ доставки</b>: {forms}\nЭлектронная почта: {email}",
    "email_status_hint": "Нажмите на способ, чтобы включить или выключить его.",
    "email_none": "не указана",
    "email_unconfirmed": "{email} (не подтверждён)",
    "email_bounced": "{email} (письма не доходят — укажите адрес заново)",
    "form_telegram": "Telegram",
    "form_email": "электронная почта",
    "form_paper": "бумажная выписка в школе",
    "forms_nothing": "не выбран",
    "btn_email_set": "✉️ Указать адрес почты",
    "btn_email_stop": "Удалить адрес почты",
    "email_stopped": "Адрес почты удалён, письма больше не придут.",
    "email_cancelled": "Хорошо, ничего не меняю.",
    "forms_updated": "Способ доставки: {forms}.",
    "forms_need_email": "Сначала укажите и подтвердите адрес почты.",
    "forms_need_one": "Нужен хотя бы один способ доставки.",
    "contacts_usage": "Использование: <code>/contacts ID_КЛАССА</code> (список классов: /classes)",
    "contacts_header": (
        "<b>Контакты и способ доставки: {class_name}, {school}</b>\n"
        "Ключ родителя (g… или a…) — для <code>/contact_set</code>; 📄 — выписки на бумаге."
    ),
    "contacts_pupil": "<b>{name}</b> (id <code>{id}</code>){paper}",
    "contacts_paper_mark": " — 📄",
    "contacts_parent": "  <code>{parent_key}</code> {name}{tg}: {forms}{email}{application}",
    "contacts_tg": " (Telegram)",
    "contacts_application": "; заявл. № {no} от {date}",
    "contacts_unknown_form": "форма не выбрана",
    "contacts_no_parents": "  родители не указаны",
    "contact_set_usage": (
        "Использование: <code>/contact_set КЛЮЧ ФОРМЫ №_ЗАЯВЛЕНИЯ ДАТА [ПОЧТА]</code>\n"
        "ФОРМЫ — telegram, email, paper через запятую. Ключи родителей: /contacts ID_КЛАССА.\n"
        "Пример: <code>/contact_set g17 paper,email 45 20.11.2026 ivanova@mail.ru</code>"
    ),
    "contact_set_done": "Записано по заявлению № {no} от {date}: {forms}.",
    "contact_set_no_bot": (
        "Родитель не пользуется ботом: письма ему пока не отправляются, выписки — на бумаге "
        "(/paper ID_КЛАССА)."
    ),
    "contact_set_bad_forms": "Неизвестная форма доставки. Допустимо: telegram, email, paper (через запятую).",
    "contact_set_bad_number": "Номер заявления: до 32 символов, буквы, цифры, «-», «/», «.», «№».",
    "contact_set_bad_date": "Дата заявления: ДД.ММ.ГГГГ, не позже сегодняшней.",
    "contact_set_need_email": "Для формы «email» укажите адрес почты из заявления последним словом.",
    "contact_set_no_telegram": (
        "Форма «telegram» возможна, только когда родитель сам вошёл в бот и привязал ребёнка."
    ),
    "contact_set_not_found": "Родитель не найден. Ключи — в списке /contacts ID_КЛАССА.",
    "paper_usage": "Использование: <code>/paper ID_КЛАССА</code> (список классов: /classes)",
    "paper_none": "В классе {class_name} нет учеников, чьи родители получают сведения на бумаге.",
    "paper_caption": "Выписки: {class_name}, учеников: {count}. Распечатайте, подпишите и передайте родителям.",
    "paper_pupil_usage": "Использование: <code>/paper_pupil ID_УЧЕНИКА</code> (id — в /contacts ID_КЛАССА)",
    "paper_pupil_caption": "Выписка: {name}.",
    "pupil_not_found": "Ученик не найден или недоступен вам.",
    "paper_queue_empty": "Очередь бумажных выписок пуста.",
    "paper_queue_caption": (
        "Новые итоговые оценки учеников на бумажной доставке: {count}. Передайте выписки классным "
        "руководителям сегодня."
    ),
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
        "/schedule — расписание уроков, замены и переносы\n"
        "/homework — домашнее задание\n"
        "/more — все разделы: контрольные, учителя, каникулы, рекомендации\n"
        "/works — график контрольных работ\n"
        "/teachers — учителя класса\n"
        "/holidays — каникулы\n"
        "/recommendations — рекомендации учителей\n"
        "/forecast — прогноз итоговых оценок\n"
        "/finals — итоговые оценки и экзамены\n"
        "/children — дети и выбор ребёнка\n"
        "/settings — уведомления, тихие часы, язык\n"
        "/forecast_push — рассылка прогнозов\n"
        "/email — электронная почта и форма доставки\n"
        "/code КОД — привязать ребёнка по коду приглашения от школы\n"
        "/consent — согласие на обработку данных\n"
        "/help — эта справка\n\n"
        "Чтобы привязать ребёнка, нажмите «📱 Привязать ребёнка» или отправьте код приглашения."
    ),
    "help_admin": (
        "\n\n<b>Для администраторов</b>\n"
        "/pending — запросы на привязку\n"
        "/classes — ваши классы\n"
        "/invite ID_КЛАССА — коды приглашения для класса\n"
        "/contacts ID_КЛАССА — контакты и формы доставки родителей\n"
        "/contact_set — внести контакты по письменному заявлению\n"
        "/paper ID_КЛАССА — бумажные выписки класса (PDF)\n"
        "/paper_pupil ID_УЧЕНИКА — выписка одного ученика\n"
        "/paper_queue — выписки с итоговыми оценками к печати"
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
    # ---------------------------------------------------------------- diary views (issue 4, item 1)
    "btn_more": "☰ Ещё…",
    "btn_menu": "☰ Все разделы",
    "btn_by_subject": "📚 По предметам",
    "btn_by_day": "🗓 По дням",
    "btn_all_subjects": "⬅️ Все предметы",
    "btn_view_grades": "📊 Оценки",
    "btn_view_schedule": "🗓 Расписание",
    "btn_view_homework": "📚 ДЗ по дням",
    "btn_view_hwsubj": "📚 ДЗ по предметам",
    "btn_view_works": "📝 Контрольные работы",
    "btn_view_teachers": "👩‍🏫 Учителя",
    "btn_view_holidays": "🌴 Каникулы",
    "btn_view_recs": "💬 Рекомендации",
    "menu_header": "☰ <b>{name}</b> — {class_name}, {school}\nВыберите раздел:",
    "title_today": "{day} (сегодня)",
    "title_tomorrow": "{day} (завтра)",
    "title_yesterday": "{day} (вчера)",
    "title_week": "неделя {start}–{end}",
    "title_this_week": "неделя {start}–{end} (текущая)",
    "grades_hint": "<i>Нажмите на предмет, чтобы увидеть все его оценки.</i>",
    "subject_marks_header": "📊 <b>{subject}: {name}</b>",
    "subject_marks_average": "Средний балл: <b>{average}</b> (оценок в среднем: {count})",
    "subject_marks_none": "Оценок по этому предмету за период пока нет.",
    "mark_kind_answer": "ответ на уроке",
    "mark_kind_test": "проверочная",
    "mark_kind_control": "контрольная",
    "mark_kind_homework": "домашняя работа",
    "mark_kind_other": "другое",
    "mark_weight": "вес {weight}",
    "mark_comment": "💬 {comment}",
    "homework_subjects_header": "📚 <b>Домашнее задание по предметам: {name}</b>\n{start}–{end}",
    "homework_subjects_none": "Заданий на ближайшие {days} дн. нет.",
    "homework_subject_nothing": "ближайших заданий нет",
    "homework_subjects_hint": "<i>Нажмите на предмет, чтобы увидеть все его задания за период.</i>",
    "homework_due": "к {date}",
    "homework_assigned": "задано {date}",
    "subject_homework_header": "📚 <b>{subject}: {name}</b>",
    "subject_homework_none": "Заданий по этому предмету за период нет.",
    "works_header": "📝 <b>Контрольные работы: {name}</b>",
    "works_none": "В этом периоде контрольных работ нет.",
    "works_legend": "<i>📌 — предстоящие, ▫️ — прошедшие.</i>",
    "work_kind_control": "контрольная работа",
    "work_kind_test": "проверочная работа",
    "work_kind_vpr": "ВПР",
    "work_kind_other": "работа",
    "work_lesson": "{number} урок",
    "work_today": "сегодня",
    "work_tomorrow": "завтра",
    "teachers_header": "👩‍🏫 <b>Учителя: {name}</b>, {class_name}",
    "teachers_class_teacher": "Классный руководитель: <b>{teacher}</b>",
    "teachers_none": "Сведений об учителях пока нет.",
    "teachers_no_subject": "Другое",
    "teacher_individual": "индивидуальный план",
    "holidays_header": "🌴 <b>Каникулы и праздники: {name}</b>",
    "holidays_now": "<b>Сейчас:</b>",
    "holidays_next": "<b>Впереди:</b>",
    "holidays_none_now": "Сейчас каникул нет.",
    "holidays_none_next": "Предстоящих каникул в журнале пока нет.",
    "holiday_left": "ещё {days} дн.",
    "holiday_in": "через {days} дн.",
    "holiday_class_only": "для класса",
    "recs_header": "💬 <b>Рекомендации учителей: {name}</b>",
    "recs_none": "Рекомендаций пока нет.",
    "recs_more": "<i>Показаны последние {shown} из {total}.</i>",
    "lesson_substitute_for": "замена: {teacher} (по расписанию — {planned})",
    "lesson_moved_to": "↪️ перенесён на {date}, {number} урок",
    "cmd_more": "Все разделы",
    "cmd_works": "Контрольные работы",
    "cmd_teachers": "Учителя",
    "cmd_holidays": "Каникулы",
    "cmd_recommendations": "Рекомендации учителей",
    # ---------------------------------------------------------------- term results: forecasts, finals (issue 5)
    "fc_header": "🔮 <b>Прогноз: {name}</b>",
    "fc_period": "{period} ({start}–{end})",
    "fc_days_left": ", осталось дней: {days}",
    "fc_half_n": "{n} полугодие",
    "fc_rule": "Правило школы: «5» от {t5}, «4» от {t4}, «3» от {t3}; нужно не меньше {min} оценок.",
    "fc_line": "<b>{subject}</b>: ср. {average} ({count}) → {mark}",
    "fc_line_pass": "<b>{subject}</b>: {mark}",
    "fc_line_exempt": "<b>{subject}</b>: освобождение",
    "fc_line_none": "<b>{subject}</b>: оценок нет",
    "fc_pass": "зачтено",
    "fc_fail": "не зачтено",
    "fc_risk_failing": "❗",
    "fc_risk_too_few": "⚠️ мало оценок: {count} из {min} — риск «не аттестован»",
    "fc_up_1": "ещё одна пятёрка — и будет {result}",
    "fc_up_2": "ещё две пятёрки — и будет {result}",
    "fc_up_3": "ещё три пятёрки — и будет {result}",
    "fc_up_4": "ещё четыре пятёрки — и будет {result}",
    "fc_up_many": "ещё {n} пятёрок — и будет {result}",
    "fc_down_1": "одна двойка — и будет {result}",
    "fc_down_2": "две двойки — и будет {result}",
    "fc_down_3": "три двойки — и будет {result}",
    "fc_down_4": "четыре двойки — и будет {result}",
    "fc_down_many": "{n} двоек — и будет {result}",
    "fc_none": "Оценок за этот период пока нет.",
    "fc_no_period": "В журнале нет такого периода.",
    "fc_footer": "<i>Прогноз — по текущим оценкам и правилу школы; итоговую оценку выставляет учитель.</i>",
    "btn_fc_term": "Четверть",
    "btn_fc_term_quarter": "Четверть",
    "btn_fc_term_trimester": "Триместр",
    "btn_fc_term_half": "Полугодие",
    "btn_fc_half": "Полугодие",
    "btn_fc_year": "Год",
    "btn_fc_push": "🔔 Рассылка прогнозов",
    "fn_header": "🎓 <b>Итоговые оценки: {name}</b>",
    "fn_none": "Итоговых оценок пока нет.",
    "fn_group_exam": "Экзамены",
    "fn_group_cert": "Аттестат",
    "fn_group_other": "Другие",
    "fn_line": "{subject} — {value}",
    "fn_line_titled": "{subject}, {title} — {value}",
    "fn_deferred": "⏳ отложена до {date}",
    "fn_deferred_nodate": "⏳ отложена",
    "fn_deferred_note": "<i>Отложенная оценка выставляется позже (например, после болезни); о ней придёт сообщение.</i>",
    "fp_header": "🔔 <b>Рассылка прогнозов</b>",
    "fp_now_off": "Сейчас: выключена.",
    "fp_now_weekly": "Сейчас: раз в неделю ({when}).",
    "fp_now_biweekly": "Сейчас: раз в две недели ({when}).",
    "fp_when": "по {day} в {time}",
    "fp_day_1": "понедельникам",
    "fp_day_2": "вторникам",
    "fp_day_3": "средам",
    "fp_day_4": "четвергам",
    "fp_day_5": "пятницам",
    "fp_day_6": "субботам",
    "fp_day_7": "воскресеньям",
    "fp_note": "Если рассылка не выключена, за {days} дн. до конца четверти придёт отдельное сообщение о предметах с риском.",
    "fp_saved": "Сохранено.",
    "btn_fp_weekly": "Раз в неделю",
    "btn_fp_biweekly": "Раз в две недели",
    "btn_fp_off": "Выключить",
    "fr_header": "📏 <b>Правило прогноза: {school}</b> (код <code>{ref}</code>)",
    "fr_thresholds": "«5» — от {t5}, «4» — от {t4}, «3» — от {t3}",
    "fr_rounding": "Среднее округляется до {digits} знаков после запятой",
    "fr_no_rounding": "Среднее не округляется",
    "fr_min_marks": "Для аттестации нужно не меньше {min} оценок за период",
    "fr_weights": "Веса: {weights} (остальные — из журнала)",
    "fr_weights_journal": "Веса оценок — из журнала",
    "fr_kind_answer": "ответ",
    "fr_kind_test": "тест",
    "fr_kind_control": "контрольная",
    "fr_kind_homework": "домашняя работа",
    "fr_kind_other": "другое",
    "fr_default": "<i>Правило по умолчанию.</i>",
    "fr_changed": "<i>Изменено {when}, администратор {by}.</i>",
    "fr_how": (
        "Изменить: <code>/forecast_rule {ref} thresholds=4.6/3.6/2.6 min_marks=3 control=2 rounding=2</code>\n"
        "<code>control=journal</code> или <code>weights=journal</code> — веса из журнала, "
        "<code>rounding=none</code> — без округления, <code>reset</code> — правило по умолчанию."
    ),
    "fr_saved": "✅ Правило сохранено.",
    "fr_error": "Правило не изменено: {reason}",
    "fr_school_required": "Укажите код школы: <code>/forecast_rule КОД_ШКОЛЫ</code> (коды школ: /schools).",
    "fr_school_not_found": "Школа не найдена или недоступна вам.",
    "rule_err_bad_thresholds": "пороги — три числа по убыванию, от 5 до 1 (например, 4.6/3.6/2.6)",
    "rule_err_bad_min_marks": "минимум оценок — целое число от 0 до 50",
    "rule_err_bad_rounding": "округление — 0, 1, 2, 3 знака или none",
    "rule_err_bad_kind": "вид оценки — answer, test, control, homework или other",
    "rule_err_bad_weight": "вес — число больше 0 и не больше 10",
    "rule_err_bad_number": "ожидалось число",
    "rule_err_bad_setting": "неизвестная настройка",
    "rule_err_bad_value": "неверное значение",
    "fr_round_usage": "Использование: <code>/forecast_round ID_КЛАССА</code> (список классов: /classes)",
    "fr_round_done": "📨 Прогнозы на «{period}» для класса {class_name}: сообщений родителям — {messages} (учеников в классе: {pupils}).",
    "fr_round_no_period": "Для класса {class_name} в журнале нет четверти — прогнозы не отправлены.",
    "fgn_new_period": "🎓 Итоговая оценка",
    "fgn_new_year": "🎓 Годовая оценка",
    "fgn_new_exam": "📝 Результат экзамена",
    "fgn_new_certificate": "📜 Оценка в аттестат",
    "fgn_changed_period": "✏️ Итоговая оценка изменена",
    "fgn_changed_year": "✏️ Годовая оценка изменена",
    "fgn_changed_exam": "✏️ Результат экзамена изменён",
    "fgn_changed_certificate": "✏️ Оценка в аттестат изменена",
    "fgn_deferred_period": "⏳ Итоговая оценка отложена",
    "fgn_deferred_year": "⏳ Годовая оценка отложена",
    "fgn_deferred_exam": "⏳ Экзамен перенесён",
    "fgn_deferred_certificate": "⏳ Оценка в аттестат отложена",
    "fgn_set_period": "🎓 Выставлена отложенная итоговая оценка",
    "fgn_set_year": "🎓 Выставлена отложенная годовая оценка",
    "fgn_set_exam": "📝 Результат перенесённого экзамена",
    "fgn_set_certificate": "📜 Выставлена отложенная оценка в аттестат",
    "fgn_deleted": "🗑 Итоговая оценка отменена",
    "fgn_was_now": "было {old}, стало {new}",
    "fcn_header": "🔮 <b>Прогноз на «{period}»: {name}</b>",
    "fcn_risk_header": "⚠️ <b>До конца «{period}» осталось дней: {days}. Предметы с риском: {name}</b>",
    "fcn_more": "…и ещё предметов: {count} — /forecast",
    "fcn_footer": "<i>Прогноз — по текущим оценкам и правилу школы. Подробно: /forecast, рассылка: /forecast_push.</i>",
    "btn_fcn_open": "🔮 Открыть прогноз",
    "help_results_admin": (
        "\n/forecast_rule [КОД_ШКОЛЫ] — правило прогноза школы\n"
        "/forecast_round ID_КЛАССА — разослать прогнозы родителям класса сейчас"
    ),
    "cmd_forecast": "Прогноз итоговых оценок",
    "cmd_finals": "Итоговые оценки",
    "cmd_forecast_push": "Рассылка прогнозов",
    # ---------------------------------------------------------------- reports and the one-day rule (issue 5, items 4-5)
    "rp_usage": (
        "<b>Отчёты для администратора</b> (файлом, PDF или XLSX)\n"
        "/report summary ID_КЛАССА [pdf|xlsx] — сводная ведомость итоговых отметок за учебный год\n"
        "/report plan ID_КЛАССА [ID_ПЕРИОДА] [pdf|xlsx] — выполнение учебного плана\n"
        "/report stats ID_КЛАССА [ID_ПЕРИОДА] [pdf|xlsx] — статистика результатов: средний балл, "
        "успеваемость, качество, СОУ\n"
        "/report periods ID_КЛАССА — учебные периоды школы с их ID\n"
        "/delivery [ДНЕЙ] — доставка итоговых отметок родителям (правило одних суток)\n\n"
        "Без периода берётся текущий; формат по умолчанию — PDF. ID классов: /classes"
    ),
    "rp_caption_summary": "📄 Сводная ведомость: {class_name}, {year} учебный год\n{school}",
    "rp_caption_plan": "📄 Выполнение учебного плана: {class_name}, {period}\n{school}",
    "rp_caption_stats": "📄 Статистика результатов: {class_name}, {period}\n{school}",
    "rp_period_unknown": "У школы этого класса нет такого периода. Выберите период:",
    "rp_no_periods": "У школы этого класса в журнале нет учебных периодов.",
    "rp_periods_header": "<b>Учебные периоды: {class_name}</b> (ID — период, даты):",
    "rp_period_line": "<code>{id}</code> — {name} ({start}–{end}){current}",
    "rp_period_current": " · текущий",
    "rp_pick_period": "Нажмите период, чтобы получить отчёт «{report}»:",
    "rp_name_plan": "выполнение учебного плана",
    "rp_name_stats": "статистика результатов",
    "dl_usage": "Использование: <code>/delivery [ДНЕЙ]</code> — за сколько последних дней (1–365, по умолчанию 7).",
    "dl_header": (
        "📬 <b>Доставка итоговых отметок родителям</b> за {days} дн.\n"
        "⚠️ — не доставлено дольше {warning}, 🚨 — дольше {alarm} (тревога администраторам)."
    ),
    "dl_nothing": "Ни в одной из ваших школ за этот срок итоговых отметок не было.",
    "dl_school": "<b>{school}</b>",
    "dl_unknown_school": "школа не определена",
    "dl_delivered": (
        "Доставлено: {count}; медиана {p50}, 90% — не дольше {p90}, максимум {max}; "
        "в течение часа: {hour}, в течение суток: {day}."
    ),
    "dl_delivered_none": "Доставок за этот срок не было.",
    "dl_open": "Ждут доставки: {waiting}; ⚠️ {warning}; 🚨 {alarm}.",
    "dl_open_none": "Недоставленных нет ✅",
    "dl_item": "{icon} {class_name} · {subject} · {pupil} · {result} — {age}",
    "dl_more": "… и ещё {count}",
    "dl_res_year": "годовая",
    "dl_res_exam": "экзамен",
    "dl_res_exam_titled": "экзамен «{title}»",
    "dl_res_certificate": "итоговая (аттестат)",
    "dl_via_paper": "на бумаге",
    "dl_unit_s": "{n} с",
    "dl_unit_m": "{n} мин",
    "dl_unit_h": "{n} ч",
    "dl_unit_d": "{n} д",
    "dl_alarm": (
        "🚨 <b>Итоговые отметки не доставлены родителям дольше {hours} ч</b>\n"
        "{school}\n"
        "Не доставлено: {count}; самая давняя ждёт {oldest} ч. Сообщите родителям или выдайте "
        "выписку на бумаге, чтобы уложиться в сутки."
    ),
    "dl_alarm_tail": "Подробнее: /delivery",
    "help_reports_admin": (
        "\n/report — отчёты файлом: сводная ведомость, выполнение учебного плана, статистика результатов\n"
        "/delivery — доставка итоговых отметок родителям (правило одних суток)"
    ),
}

EN: dict[str, str] = {
    # ---------------------------------------------------------------- consent lifecycle, erasure, audit (issue 6, items 1, 2, 6)
    "btn_forget_confirm": "🗑 Yes, delete my data",
    "btn_audit_older": "◀ Older",
    "btn_audit_newer": "Newer ▶",
    "cmd_forget": "Delete my data",
    "help_privacy_parent": "\n\n/forget — delete my data from the service",
    "help_privacy_admin": (
        "\n/audit [N] — the audit log (page N)\n"
        "/parents CLASS_ID — the parents of a class and their consent decisions\n"
        "/paper_consent WHO DECISION NUMBER DATE — enter a decision from a signed paper form\n"
        "/consent_history WHO — a person's consent history (PDF)"
    ),
    "erasure_note_withdrawn": (
        "Your data in the service will be destroyed on {date} (act No. <code>{reference}</code>). Until "
        "then you can change your mind and give consent again — /consent. To delete it now — /forget."
    ),
    "erasure_note_refused": (
        "What the bot received when you wrote to it (your Telegram id and name) will be destroyed on "
        "{date} (act No. <code>{reference}</code>); the record of your refusal is kept without it. "
        "To delete it now — /forget."
    ),
    "consent_status_outdated": (
        "The consent text has changed: you consented to version {version} ({date}). Until you answer "
        "the new version, nothing about your children is sent."
    ),
    "consent_status_erasure": "Your data will be destroyed on {date} (act No. <code>{reference}</code>).",
    "forget_ask": (
        "<b>Delete your data from the \"Electronic diary\" service?</b>\n\n"
        "Destroyed at once: your account in the bot (Telegram id, name and username, phone number), "
        "your links to children and link requests, contacts and delivery form, every message in "
        "the queue. Your consent, if given, is withdrawn.\n\n"
        "Kept: the records of your consent decisions — without name or id, with a key that lets "
        "them be shown only to you at your request (up to {years} years), and the act of "
        "destruction, which holds no personal data.\n\n"
        "You can still get your child's progress on paper at school."
    ),
    "forget_done": (
        "Your data has been deleted. Number of the act of destruction: <code>{reference}</code>.\n\n"
        "If you want to use the bot again, send /start."
    ),
    "forget_cancelled": "All right, nothing was deleted.",
    "forget_stale": "This button is out of date: the data has already been deleted.",
    "notice_consent_reask": (
        "📄 The consent to the processing of personal data has a new text (version {version}). Until "
        "you answer, nothing about your children is sent. Read the new version: /consent"
    ),
    "notice_erasure_scheduled_withdrawal": (
        "The school has entered your written withdrawal of consent to the processing of personal "
        "data. Electronic delivery has stopped. Your data in the service will be destroyed on {date} "
        "(act No. <code>{reference}</code>). Until then you can give consent again — /consent; to "
        "delete it now — /forget."
    ),
    "notice_erasure_scheduled_refusal": (
        "The school has entered your written refusal of the processing of personal data. "
        "Electronic delivery has stopped. Your data in the service will be destroyed on {date} (act "
        "No. <code>{reference}</code>). To delete it now — /forget."
    ),
    "notice_erasure_reminder": (
        "⏳ Reminder: on {date} your data in the \"Electronic diary\" service will be destroyed (act "
        "No. <code>{reference}</code>) because there is no consent to its processing. To keep "
        "receiving your child's information, give consent before then: /consent."
    ),
    "audit_usage": "Usage: <code>/audit</code> or <code>/audit N</code> (N — the page, 1 — the newest entries)",
    "audit_header": "<b>Audit log</b> — page {page} of {pages}, {total} entries (newest first)",
    "audit_none": "No entries.",
    "audit_actor": "admin {id}",
    "audit_system": "system",
    "audit_school": "school {id}",
    "consent_parents_usage": "Usage: <code>/parents CLASS_ID</code> (list of classes: /classes)",
    "consent_parents_header": (
        "<b>Parents: {class_name}, {school}</b>\n"
        "For commands: <code>g:…</code> — a legal representative from the journal, <code>tg:…</code> — a bot user."
    ),
    "consent_parents_none": "There are no pupils in this class.",
    "consent_parents_nobody": "   — no representatives known",
    "consent_parents_link_approved": "link approved",
    "consent_parents_link_pending": "link pending",
    "consent_state_none": "no decision",
    "consent_state_granted": "consent ({version})",
    "consent_state_refused": "refused",
    "consent_state_withdrawn": "consent withdrawn",
    "consent_state_outdated": "consent to an earlier version ({version})",
    "consent_decision_granted": "consent",
    "consent_decision_refused": "refusal",
    "consent_decision_withdrawn": "withdrawal of consent",
    "paper_consent_usage": (
        "Usage: <code>/paper_consent WHO DECISION NUMBER DATE</code>\n"
        "WHO — <code>g:ID</code> (a legal representative from the journal) or <code>tg:ID</code> "
        "(a bot user), see /parents\n"
        "DECISION — <code>grant</code>, <code>refuse</code> or <code>withdraw</code>\n"
        "NUMBER — the form's registration number, DATE — the date it was signed, DD.MM.YYYY\n"
        "For example: <code>/paper_consent g:g-1 grant 15/2026 01.12.2026</code>"
    ),
    "paper_consent_done": "Recorded: {decision} from form No. {number} of {date}, version {version}.",
    "paper_consent_accounts": "Consent was also withdrawn for bot users linked through this representative's phone: {count}.",
    "paper_consent_erasure": "This person's data in the service will be destroyed on {date}.",
    "paper_consent_nothing": "Nothing to withdraw: no consent was given. Enter a refusal (<code>refuse</code>).",
    "paper_consent_bad_date": "The signing date must be DD.MM.YYYY and not later than today.",
    "paper_consent_bad_number": "The form number: up to 32 characters — letters, digits, «/», «-», «.».",
    "consent_person_not_found": "Person not found or not available to you.",
    "consent_history_usage": "Usage: <code>/consent_history WHO</code> (WHO — <code>g:ID</code> or <code>tg:ID</code>, see /parents)",
    "consent_history_caption": "Consent history: {count} entries. The export is recorded in the audit log.",
    # ---------------------------------------------------------------- notification settings and news pushes (issue 4, items 2-4)
    "btn_settings": "⚙️ Settings",
    "cmd_settings": "Notification settings",
    "ns_title": "⚙️ <b>Notification settings</b>",
    "ns_types_header": "What to send (press to turn on or off):",
    "ns_type_marks": "Marks",
    "ns_type_schedule": "Substitutions, cancelled and moved lessons",
    "ns_type_homework": "New homework",
    "ns_type_recommendations": "Teachers' recommendations",
    "ns_type_assessments": "Control works in the calendar",
    "ns_type_line": "{mark} {name}",
    "ns_quiet_line": "🌙 Quiet hours: {value}",
    "ns_quiet_none": "none",
    "ns_quiet_default": "{range} (default)",
    "ns_digest_line": "📬 Delivery: {value}",
    "ns_digest_instant": "at once (news within a couple of minutes come as one message)",
    "ns_digest_at": "one digest a day, at {time}",
    "ns_lang_line": "🌐 Language: {value}",
    "ns_lang_ru": "Russian",
    "ns_lang_en": "English",
    "ns_note": (
        "<i>Times are in the school's time zone ({tz}). Nothing that arrives during quiet hours is "
        "lost: you get it right after them.</i>"
    ),
    "ns_btn_quiet": "🌙 Quiet hours",
    "ns_btn_digest": "📬 Daily digest",
    "ns_btn_lang": "🌐 Русский",
    "ns_btn_back": "⬅️ Back",
    "ns_quiet_pick": (
        "🌙 <b>Quiet hours</b>\n"
        "No notifications during this time; whatever happens comes as one message afterwards. "
        "Now: {value}. Choose:"
    ),
    "ns_quiet_off_btn": "No quiet hours",
    "ns_digest_pick": (
        "📬 <b>Daily digest</b>\n"
        "Instead of separate messages, one digest at the chosen time. Now: {value}. Choose:"
    ),
    "ns_digest_instant_btn": "At once, no digest",
    "ns_saved": "Saved",
    "ns_lang_changed": "Language switched: English.",
    "nf_lesson_changed": "🔔 <b>Timetable change</b>",
    "nf_lesson_when": "{date}, lesson {number} ({start}–{end})",
    "nf_lesson_cancelled": "❌ lesson cancelled",
    "nf_lesson_substitute": "🔁 substitute: {substitute}",
    "nf_lesson_substitute_for": "🔁 substitute: {substitute} (instead of {teacher})",
    "nf_lesson_moved": "↪️ moved from {date}, lesson {number}",
    "nf_lesson_moved_nonumber": "↪️ moved from {date}",
    "nf_lesson_group": "group: {group}",
    "nf_lesson_room": "room {room}",
    "nf_homework_new": "📚 <b>New homework</b>",
    "nf_homework_due": "due {date}",
    "nf_recommendation_new": "💡 <b>Teacher's recommendation</b>",
    "nf_teacher": "Teacher: {teacher}",
    "nf_no_subject": "no subject",
    "nf_assessment_new": "📝 <b>Control work in the calendar</b>",
    "nf_assessment_when": "{date}, lesson {number}",
    "nf_assessment_kind_control": "control work",
    "nf_assessment_kind_test": "test",
    "nf_assessment_kind_vpr": "national test (VPR)",
    "nf_assessment_kind_other": "assessment",
    "nf_digest_header": "📬 <b>Digest</b> — {count} updates",
    "nf_digest_student": "👤 <b>{name}</b>",
    "nf_digest_other": "• one more notification",
    "nf_d_deleted": "deleted",
    "nf_d_cancelled": "cancelled",
    "nf_d_substitute": "substitute: {substitute}",
    "nf_d_moved": "moved from {date}",
    # ---------------------------------------------------------------- contacts, e-mail, paper (issue 6)
    "email_ask": (
        "Send your e-mail address in one message, e.g. <code>ivanova@mail.ru</code>. "
        "A 6-digit code will be sent to it for confirmation."
    ),
    "email_too_long": "Too long: an e-mail address has at most 254 characters. Send the address only.",
    "email_forbidden_chars": (
        "The address contains forbidden characters: a line break, a space, quotes, brackets, a comma "
        "or a semicolon. Send one address without them, e.g. <code>ivanova@mail.ru</code>."
    ),
    "email_bad_format": "This does not look like an e-mail address. Example: <code>ivanova@mail.ru</code>.",
    "email_unavailable": "E-mail delivery is not set up yet. Please contact the school office.",
    "email_too_many_codes": "5 codes have been sent today already. Please try tomorrow.",
    "email_send_failed": "Could not send the e-mail. Check the address or try later: /email",
    "email_code_sent": (
        "The code was sent to {email}. Type the 6 digits from the e-mail. The code is valid for "
        "{minutes} minutes and works once."
    ),
    "email_confirmed": "✅ The address {email} is confirmed. Notifications will come by e-mail too.",
    "email_code_wrong": "Wrong code. Attempts left: {left}.",
    "email_code_used": (
        "This code was already used or replaced by a newer one. Type the code from the latest e-mail "
        "or ask for a new one: /email"
    ),
    "email_code_expired": "The code has expired. Ask for a new one: /email",
    "email_code_locked": "Too many wrong attempts; the code no longer works. Ask for a new one: /email",
    "email_code_none": "There is no valid code. Ask for a new one: /email",
    "email_code_format": "The code is the 6 digits from the e-mail. Please type it again.",
    "email_status": "<b>Delivery form</b>: {forms}\nE-mail: {email}",
    "email_status_hint": "Tap a form to turn it on or off.",
    "email_none": "not given",
    "email_unconfirmed": "{email} (not confirmed)",
    "email_bounced": "{email} (e-mails do not arrive — please give the address again)",
    "form_telegram": "Telegram",
    "form_email": "e-mail",
    "form_paper": "paper extract at school",
    "forms_nothing": "none",
    "btn_email_set": "✉️ Give an e-mail address",
    "btn_email_stop": "Remove the e-mail address",
    "email_stopped": "The e-mail address is removed; no more e-mails will be sent.",
    "email_cancelled": "OK, nothing changed.",
    "forms_updated": "Delivery form: {forms}.",
    "forms_need_email": "First give and confirm an e-mail address.",
    "forms_need_one": "At least one delivery form is needed.",
    "contacts_usage": "Usage: <code>/contacts CLASS_ID</code> (list of classes: /classes)",
    "contacts_header": (
        "<b>Contacts and delivery form: {class_name}, {school}</b>\n"
        "A parent's key (g… or a…) is for <code>/contact_set</code>; 📄 — extracts on paper."
    ),
    "contacts_pupil": "<b>{name}</b> (id <code>{id}</code>){paper}",
    "contacts_paper_mark": " — 📄",
    "contacts_parent": "  <code>{parent_key}</code> {name}{tg}: {forms}{email}{application}",
    "contacts_tg": " (Telegram)",
    "contacts_application": "; application No. {no} of {date}",
    "contacts_unknown_form": "no form chosen",
    "contacts_no_parents": "  no parents on record",
    "contact_set_usage": (
        "Usage: <code>/contact_set KEY FORMS APPLICATION_NO DATE [EMAIL]</code>\n"
        "FORMS: telegram, email, paper separated by commas. Parents' keys: /contacts CLASS_ID.\n"
        "Example: <code>/contact_set g17 paper,email 45 20.11.2026 ivanova@mail.ru</code>"
    ),
    "contact_set_done": "Recorded from application No. {no} of {date}: {forms}.",
    "contact_set_no_bot": (
        "This parent does not use the bot: no e-mails are sent to them yet; extracts go on paper "
        "(/paper CLASS_ID)."
    ),
    "contact_set_bad_forms": "Unknown delivery form. Allowed: telegram, email, paper (comma-separated).",
    "contact_set_bad_number": "Application number: up to 32 characters: letters, digits, «-», «/», «.», «№».",
    "contact_set_bad_date": "Application date: DD.MM.YYYY, not later than today.",
    "contact_set_need_email": "For the «email» form give the address from the application as the last word.",
    "contact_set_no_telegram": "The «telegram» form is possible only once the parent has linked a child in the bot.",
    "contact_set_not_found": "Parent not found. The keys are listed by /contacts CLASS_ID.",
    "paper_usage": "Usage: <code>/paper CLASS_ID</code> (list of classes: /classes)",
    "paper_none": "No pupil of {class_name} has parents who receive information on paper.",
    "paper_caption": "Extracts: {class_name}, pupils: {count}. Print, sign and hand them to the parents.",
    "paper_pupil_usage": "Usage: <code>/paper_pupil PUPIL_ID</code> (ids: /contacts CLASS_ID)",
    "paper_pupil_caption": "Extract: {name}.",
    "pupil_not_found": "Pupil not found or not available to you.",
    "paper_queue_empty": "The paper extract queue is empty.",
    "paper_queue_caption": (
        "New final grades of pupils on paper delivery: {count}. Hand the extracts to the class "
        "teachers today."
    ),
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
        "/schedule — timetable, substitutions and rescheduled lessons\n"
        "/homework — homework\n"
        "/more — all sections: control works, teachers, holidays, recommendations\n"
        "/works — calendar of control works\n"
        "/teachers — the class's teachers\n"
        "/holidays — school holidays\n"
        "/recommendations — teachers' recommendations\n"
        "/forecast — forecast of final grades\n"
        "/finals — final grades and exams\n"
        "/children — children and choosing a child\n"
        "/settings — notifications, quiet hours, language\n"
        "/forecast_push — forecast messages\n"
        "/email — e-mail and the delivery form\n"
        "/code CODE — link a child with the school's invite code\n"
        "/consent — consent to data processing\n"
        "/help — this help\n\n"
        "To link a child, press «📱 Link a child» or send an invite code."
    ),
    "help_admin": (
        "\n\n<b>For admins</b>\n"
        "/pending — link requests\n"
        "/classes — your classes\n"
        "/invite CLASS_ID — invite codes for a class\n"
        "/contacts CLASS_ID — parents' contacts and delivery forms\n"
        "/contact_set — enter contacts from a written application\n"
        "/paper CLASS_ID — paper extracts for a class (PDF)\n"
        "/paper_pupil PUPIL_ID — one pupil's extract\n"
        "/paper_queue — extracts with final grades to print"
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
    # ---------------------------------------------------------------- diary views (issue 4, item 1)
    "btn_more": "☰ More…",
    "btn_menu": "☰ All sections",
    "btn_by_subject": "📚 By subject",
    "btn_by_day": "🗓 By day",
    "btn_all_subjects": "⬅️ All subjects",
    "btn_view_grades": "📊 Marks",
    "btn_view_schedule": "🗓 Timetable",
    "btn_view_homework": "📚 Homework by day",
    "btn_view_hwsubj": "📚 Homework by subject",
    "btn_view_works": "📝 Control works",
    "btn_view_teachers": "👩‍🏫 Teachers",
    "btn_view_holidays": "🌴 Holidays",
    "btn_view_recs": "💬 Recommendations",
    "menu_header": "☰ <b>{name}</b> — {class_name}, {school}\nChoose a section:",
    "title_today": "{day} (today)",
    "title_tomorrow": "{day} (tomorrow)",
    "title_yesterday": "{day} (yesterday)",
    "title_week": "week {start}–{end}",
    "title_this_week": "week {start}–{end} (this week)",
    "grades_hint": "<i>Press a subject to see all its marks.</i>",
    "subject_marks_header": "📊 <b>{subject}: {name}</b>",
    "subject_marks_average": "Average: <b>{average}</b> (marks in the average: {count})",
    "subject_marks_none": "No marks in this subject for the period yet.",
    "mark_kind_answer": "answer in class",
    "mark_kind_test": "quiz",
    "mark_kind_control": "control work",
    "mark_kind_homework": "homework",
    "mark_kind_other": "other",
    "mark_weight": "weight {weight}",
    "mark_comment": "💬 {comment}",
    "homework_subjects_header": "📚 <b>Homework by subject: {name}</b>\n{start}–{end}",
    "homework_subjects_none": "No homework for the next {days} days.",
    "homework_subject_nothing": "nothing due soon",
    "homework_subjects_hint": "<i>Press a subject to see all its homework for the period.</i>",
    "homework_due": "due {date}",
    "homework_assigned": "set {date}",
    "subject_homework_header": "📚 <b>{subject}: {name}</b>",
    "subject_homework_none": "No homework in this subject for the period.",
    "works_header": "📝 <b>Control works: {name}</b>",
    "works_none": "No control works in this period.",
    "works_legend": "<i>📌 — upcoming, ▫️ — past.</i>",
    "work_kind_control": "control work",
    "work_kind_test": "test",
    "work_kind_vpr": "VPR (national test)",
    "work_kind_other": "work",
    "work_lesson": "lesson {number}",
    "work_today": "today",
    "work_tomorrow": "tomorrow",
    "teachers_header": "👩‍🏫 <b>Teachers: {name}</b>, {class_name}",
    "teachers_class_teacher": "Class teacher: <b>{teacher}</b>",
    "teachers_none": "No information about teachers yet.",
    "teachers_no_subject": "Other",
    "teacher_individual": "individual plan",
    "holidays_header": "🌴 <b>Holidays: {name}</b>",
    "holidays_now": "<b>Now:</b>",
    "holidays_next": "<b>Coming up:</b>",
    "holidays_none_now": "No holidays now.",
    "holidays_none_next": "No upcoming holidays in the journal yet.",
    "holiday_left": "{days} more days",
    "holiday_in": "in {days} days",
    "holiday_class_only": "for the class",
    "recs_header": "💬 <b>Teachers' recommendations: {name}</b>",
    "recs_none": "No recommendations yet.",
    "recs_more": "<i>The latest {shown} of {total} are shown.</i>",
    "lesson_substitute_for": "substitute: {teacher} (instead of {planned})",
    "lesson_moved_to": "↪️ moved to {date}, lesson {number}",
    "cmd_more": "All sections",
    "cmd_works": "Control works",
    "cmd_teachers": "Teachers",
    "cmd_holidays": "Holidays",
    "cmd_recommendations": "Teachers' recommendations",
    # ---------------------------------------------------------------- term results: forecasts, finals (issue 5)
    "fc_header": "🔮 <b>Forecast: {name}</b>",
    "fc_period": "{period} ({start}–{end})",
    "fc_days_left": ", days left: {days}",
    "fc_half_n": "Half-year {n}",
    "fc_rule": "School rule: «5» from {t5}, «4» from {t4}, «3» from {t3}; at least {min} marks needed.",
    "fc_line": "<b>{subject}</b>: avg {average} ({count}) → {mark}",
    "fc_line_pass": "<b>{subject}</b>: {mark}",
    "fc_line_exempt": "<b>{subject}</b>: exempt",
    "fc_line_none": "<b>{subject}</b>: no marks",
    "fc_pass": "pass",
    "fc_fail": "fail",
    "fc_risk_failing": "❗",
    "fc_risk_too_few": "⚠️ too few marks: {count} of {min} — risk of «not attested»",
    "fc_up_1": "one more 5 — and it will be {result}",
    "fc_up_2": "two more 5s — and it will be {result}",
    "fc_up_3": "three more 5s — and it will be {result}",
    "fc_up_4": "four more 5s — and it will be {result}",
    "fc_up_many": "{n} more 5s — and it will be {result}",
    "fc_down_1": "one 2 — and it will be {result}",
    "fc_down_2": "two 2s — and it will be {result}",
    "fc_down_3": "three 2s — and it will be {result}",
    "fc_down_4": "four 2s — and it will be {result}",
    "fc_down_many": "{n} 2s — and it will be {result}",
    "fc_none": "No marks for this period yet.",
    "fc_no_period": "The journal has no such period.",
    "fc_footer": "<i>A forecast from the current marks and the school's rule; the final mark is set by the teacher.</i>",
    "btn_fc_term": "Term",
    "btn_fc_term_quarter": "Quarter",
    "btn_fc_term_trimester": "Trimester",
    "btn_fc_term_half": "Half-year",
    "btn_fc_half": "Half-year",
    "btn_fc_year": "Year",
    "btn_fc_push": "🔔 Forecast messages",
    "fn_header": "🎓 <b>Final grades: {name}</b>",
    "fn_none": "No final grades yet.",
    "fn_group_exam": "Exams",
    "fn_group_cert": "Certificate",
    "fn_group_other": "Other",
    "fn_line": "{subject} — {value}",
    "fn_line_titled": "{subject}, {title} — {value}",
    "fn_deferred": "⏳ deferred until {date}",
    "fn_deferred_nodate": "⏳ deferred",
    "fn_deferred_note": "<i>A deferred grade is set later (e.g. after an illness); you will get a message.</i>",
    "fp_header": "🔔 <b>Forecast messages</b>",
    "fp_now_off": "Now: off.",
    "fp_now_weekly": "Now: every week ({when}).",
    "fp_now_biweekly": "Now: every two weeks ({when}).",
    "fp_when": "on {day} at {time}",
    "fp_day_1": "Mondays",
    "fp_day_2": "Tuesdays",
    "fp_day_3": "Wednesdays",
    "fp_day_4": "Thursdays",
    "fp_day_5": "Fridays",
    "fp_day_6": "Saturdays",
    "fp_day_7": "Sundays",
    "fp_note": "Unless they are off, {days} days before the term ends you also get a message about the subjects at risk.",
    "fp_saved": "Saved.",
    "btn_fp_weekly": "Every week",
    "btn_fp_biweekly": "Every two weeks",
    "btn_fp_off": "Turn off",
    "fr_header": "📏 <b>Forecast rule: {school}</b> (code <code>{ref}</code>)",
    "fr_thresholds": "«5» from {t5}, «4» from {t4}, «3» from {t3}",
    "fr_rounding": "The average is rounded to {digits} decimal places",
    "fr_no_rounding": "The average is not rounded",
    "fr_min_marks": "At least {min} marks in the period are needed for attestation",
    "fr_weights": "Weights: {weights} (others from the journal)",
    "fr_weights_journal": "Mark weights come from the journal",
    "fr_kind_answer": "answer",
    "fr_kind_test": "test",
    "fr_kind_control": "control work",
    "fr_kind_homework": "homework",
    "fr_kind_other": "other",
    "fr_default": "<i>The default rule.</i>",
    "fr_changed": "<i>Changed {when} by admin {by}.</i>",
    "fr_how": (
        "To change: <code>/forecast_rule {ref} thresholds=4.6/3.6/2.6 min_marks=3 control=2 rounding=2</code>\n"
        "<code>control=journal</code> or <code>weights=journal</code> — the journal's weights, "
        "<code>rounding=none</code> — no rounding, <code>reset</code> — the default rule."
    ),
    "fr_saved": "✅ Rule saved.",
    "fr_error": "The rule was not changed: {reason}",
    "fr_school_required": "Give the school code: <code>/forecast_rule SCHOOL_CODE</code> (codes: /schools).",
    "fr_school_not_found": "School not found or not available to you.",
    "rule_err_bad_thresholds": "thresholds are three decreasing numbers between 5 and 1 (e.g. 4.6/3.6/2.6)",
    "rule_err_bad_min_marks": "the minimum of marks is a whole number from 0 to 50",
    "rule_err_bad_rounding": "rounding is 0, 1, 2, 3 places or none",
    "rule_err_bad_kind": "a mark kind is answer, test, control, homework or other",
    "rule_err_bad_weight": "a weight is a number above 0 and at most 10",
    "rule_err_bad_number": "a number was expected",
    "rule_err_bad_setting": "unknown setting",
    "rule_err_bad_value": "invalid value",
    "fr_round_usage": "Usage: <code>/forecast_round CLASS_ID</code> (list of classes: /classes)",
    "fr_round_done": "📨 Forecasts for «{period}», class {class_name}: messages to parents — {messages} (pupils in the class: {pupils}).",
    "fr_round_no_period": "The journal has no term for class {class_name}: no forecasts were sent.",
    "fgn_new_period": "🎓 Final grade",
    "fgn_new_year": "🎓 Year grade",
    "fgn_new_exam": "📝 Exam result",
    "fgn_new_certificate": "📜 Certificate grade",
    "fgn_changed_period": "✏️ Final grade changed",
    "fgn_changed_year": "✏️ Year grade changed",
    "fgn_changed_exam": "✏️ Exam result changed",
    "fgn_changed_certificate": "✏️ Certificate grade changed",
    "fgn_deferred_period": "⏳ Final grade deferred",
    "fgn_deferred_year": "⏳ Year grade deferred",
    "fgn_deferred_exam": "⏳ Exam postponed",
    "fgn_deferred_certificate": "⏳ Certificate grade deferred",
    "fgn_set_period": "🎓 Deferred final grade set",
    "fgn_set_year": "🎓 Deferred year grade set",
    "fgn_set_exam": "📝 Result of the postponed exam",
    "fgn_set_certificate": "📜 Deferred certificate grade set",
    "fgn_deleted": "🗑 Final grade withdrawn",
    "fgn_was_now": "was {old}, now {new}",
    "fcn_header": "🔮 <b>Forecast for «{period}»: {name}</b>",
    "fcn_risk_header": "⚠️ <b>Days left in «{period}»: {days}. Subjects at risk: {name}</b>",
    "fcn_more": "…and more subjects: {count} — /forecast",
    "fcn_footer": "<i>A forecast from the current marks and the school's rule. Details: /forecast, messages: /forecast_push.</i>",
    "btn_fcn_open": "🔮 Open the forecast",
    "help_results_admin": (
        "\n/forecast_rule [SCHOOL_CODE] — the school's forecast rule\n"
        "/forecast_round CLASS_ID — send forecasts to a class's parents now"
    ),
    "cmd_forecast": "Forecast of final marks",
    "cmd_finals": "Final grades",
    "cmd_forecast_push": "Forecast messages",
    # ---------------------------------------------------------------- reports and the one-day rule (issue 5, items 4-5)
    "rp_usage": (
        "<b>Reports for admins</b> (as a file, PDF or XLSX)\n"
        "/report summary CLASS_ID [pdf|xlsx] — summary sheet of final grades for the school year\n"
        "/report plan CLASS_ID [PERIOD_ID] [pdf|xlsx] — study plan fulfilment\n"
        "/report stats CLASS_ID [PERIOD_ID] [pdf|xlsx] — results statistics: average mark, "
        "pass rate, quality, SOU\n"
        "/report periods CLASS_ID — the school's periods with their IDs\n"
        "/delivery [DAYS] — delivery of final grades to parents (the one-day rule)\n\n"
        "Without a period the current one is used; the default format is PDF. Class IDs: /classes"
    ),
    "rp_caption_summary": "📄 Summary sheet: {class_name}, school year {year}\n{school}",
    "rp_caption_plan": "📄 Study plan fulfilment: {class_name}, {period}\n{school}",
    "rp_caption_stats": "📄 Results statistics: {class_name}, {period}\n{school}",
    "rp_period_unknown": "The class's school has no such period. Choose a period:",
    "rp_no_periods": "The class's school has no periods in the journal.",
    "rp_periods_header": "<b>Periods: {class_name}</b> (ID — period, dates):",
    "rp_period_line": "<code>{id}</code> — {name} ({start}–{end}){current}",
    "rp_period_current": " · current",
    "rp_pick_period": "Press a period to get the «{report}» report:",
    "rp_name_plan": "study plan fulfilment",
    "rp_name_stats": "results statistics",
    "dl_usage": "Usage: <code>/delivery [DAYS]</code> — how many recent days (1–365, default 7).",
    "dl_header": (
        "📬 <b>Delivery of final grades to parents</b>, last {days} days\n"
        "⚠️ — undelivered for more than {warning}, 🚨 — more than {alarm} (admins alarmed)."
    ),
    "dl_nothing": "There were no final grades in your schools in this time.",
    "dl_school": "<b>{school}</b>",
    "dl_unknown_school": "school unknown",
    "dl_delivered": (
        "Delivered: {count}; median {p50}, 90% within {p90}, maximum {max}; "
        "within an hour: {hour}, within a day: {day}."
    ),
    "dl_delivered_none": "No deliveries in this time.",
    "dl_open": "Waiting: {waiting}; ⚠️ {warning}; 🚨 {alarm}.",
    "dl_open_none": "Nothing undelivered ✅",
    "dl_item": "{icon} {class_name} · {subject} · {pupil} · {result} — {age}",
    "dl_more": "… and {count} more",
    "dl_res_year": "year",
    "dl_res_exam": "exam",
    "dl_res_exam_titled": "exam «{title}»",
    "dl_res_certificate": "final (certificate)",
    "dl_via_paper": "on paper",
    "dl_unit_s": "{n} s",
    "dl_unit_m": "{n} min",
    "dl_unit_h": "{n} h",
    "dl_unit_d": "{n} d",
    "dl_alarm": (
        "🚨 <b>Final grades undelivered to parents for more than {hours} h</b>\n"
        "{school}\n"
        "Undelivered: {count}; the oldest has waited {oldest} h. Tell the parents or hand out a "
        "paper extract to keep within a day."
    ),
    "dl_alarm_tail": "Details: /delivery",
    "help_reports_admin": (
        "\n/report — reports as files: summary sheet, study plan fulfilment, results statistics\n"
        "/delivery — delivery of final grades to parents (the one-day rule)"
    ),
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
