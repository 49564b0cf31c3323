"""The consent to personal-data processing (152-FZ) a parent gives in the bot.

Each text is versioned: the version shown is recorded with every decision (ConsentRecord),
so the operator can prove what exactly was agreed to. Never edit a published version in
place: add a new one and move CURRENT_VERSION.

Publishing a new version (see docs/privacy.md): add its texts to ``_TEXTS`` and their digests
to ``PUBLISHED_SHA256``, then move ``CURRENT_VERSION``. Every parent who granted an older
version is asked again (``services.consent.Consent.reask_outdated``); until they answer their
consent does not count. The exact text shown with every decision is also stored in the
database (``storage.privacy.ConsentText``) the first time it is referenced.
"""
from __future__ import annotations

import hashlib

CURRENT_VERSION = "2026-11-29"

_RU_2026_11_29 = """\
СОГЛАСИЕ НА ОБРАБОТКУ ПЕРСОНАЛЬНЫХ ДАННЫХ (редакция {version})

Я, пользователь Telegram, принимающий это согласие в боте «Электронный дневник», действуя свободно, своей волей и в своём интересе, а также как законный представитель (родитель, усыновитель, опекун, попечитель) несовершеннолетнего обучающегося, в соответствии со ст. 9 Федерального закона от 27.07.2006 № 152-ФЗ «О персональных данных» даю согласие на обработку моих персональных данных и персональных данных моего ребёнка. Мои полномочия законного представителя подтверждаются сведениями образовательной организации, а при необходимости — документом, предъявленным в ней.

1. Операторы: образовательная организация, в которой обучается ребёнок, и региональный оператор сервиса «Электронный дневник». Их наименования и адреса размещены на сайте образовательной организации и сообщаются по запросу.

2. Цель: предоставление услуги электронного дневника — информирование меня о текущей успеваемости, домашних заданиях и расписании уроков ребёнка, подтверждение моей связи с ребёнком.

3. Перечень данных:
— мои: идентификатор, имя и имя пользователя в Telegram, номер телефона, язык интерфейса, сведения о связи с ребёнком и о моих решениях по настоящему согласию;
— ребёнка: фамилия, имя, отчество, образовательная организация, класс, учебные группы, отметки, итоговые оценки, домашние задания, расписание уроков, замены и отмены уроков, рекомендации учителей.

4. Действия: сбор, запись, систематизация, накопление, хранение, уточнение (обновление, изменение), извлечение, использование, предоставление доступа операторам, блокирование, удаление, уничтожение — с использованием средств автоматизации и без них. Сведения о ребёнке направляются только в мой чат после подтверждения связи администратором школы. Мне известно, что Telegram — иностранный мессенджер и сообщения доставляются через него по моему выбору.

5. Срок: согласие действует до его отзыва.

6. Отзыв: я могу отозвать согласие в любой момент командой /consent в боте или письменным заявлением в образовательную организацию. После отзыва обработка прекращается, а данные уничтожаются в течение 30 дней, если иное не предусмотрено законом.

7. Альтернатива: я вправе не давать согласие и получать сведения об успеваемости ребёнка на бумаге или иным способом, принятым в образовательной организации. Отказ не влияет на обучение ребёнка."""

_EN_2026_11_29 = """\
CONSENT TO THE PROCESSING OF PERSONAL DATA (version {version})

I, the Telegram user accepting this consent in the "Electronic diary" bot, acting freely, of my own will and in my own interest, and as the legal representative (parent, adoptive parent, guardian or custodian) of a minor pupil, under Article 9 of Federal Law No. 152-FZ of 27.07.2006 "On Personal Data", consent to the processing of my personal data and of my child's personal data. My authority as legal representative is confirmed by the records of the school and, if needed, by a document presented there.

1. Operators: the school the child attends and the regional operator of the "Electronic diary" service. Their names and addresses are published on the school's website and given on request.

2. Purpose: providing the electronic diary service — informing me of my child's current marks, homework and timetable, and confirming my link to the child.

3. Data:
— mine: Telegram id, name and username, phone number, interface language, my link to the child and my decisions on this consent;
— my child's: surname, first name, patronymic, school, class, study groups, marks, final grades, homework, timetable, substitutions and cancellations of lessons, teachers' recommendations.

4. Actions: collection, recording, systematisation, accumulation, storage, clarification (updating, changing), retrieval, use, giving access to the operators, blocking, deletion, destruction — with and without automation. Information about the child is sent only to my chat, after a school admin has confirmed my link to the child. I am aware that Telegram is a foreign messenger and that messages are delivered through it at my choice.

5. Term: this consent is valid until withdrawn.

6. Withdrawal: I may withdraw this consent at any time with the /consent command in the bot or by a written application to the school. After withdrawal the processing stops and the data are destroyed within 30 days unless the law requires otherwise.

7. Alternative: I may refuse consent and receive information about my child's progress on paper or in another way used by the school. Refusal does not affect my child's education."""

_TEXTS: dict[str, dict[str, str]] = {
    "2026-11-29": {"ru": _RU_2026_11_29, "en": _EN_2026_11_29},
}

#: Every version ever published; decisions may only reference one of these.
KNOWN_VERSIONS = frozenset(_TEXTS)

#: SHA-256 of every published text as shown (after formatting): a published text never
#: changes, and tests/test_consent_lifecycle.py fails if one does.
PUBLISHED_SHA256: dict[tuple[str, str], str] = {
    ("2026-11-29", "ru"): "136e3844cc7baff9b8ad3e3deb01da09c7877baa9a5cc02b712c7927e49c4e7f",
    ("2026-11-29", "en"): "e41d2d713eabe37bc19f09d2db006f18bbc956c8096b5e97e88e9206204ab174",
}

LANGUAGES = ("ru", "en")
#: Paper forms are printed in Russian.
PAPER_LANGUAGE = "ru"


def text_language(lang: str | None) -> str:
    """The language of the text a user with interface language `lang` is shown."""
    return "en" if (lang or "").lower().startswith("en") else "ru"


def consent_text(version: str = CURRENT_VERSION, lang: str = "ru") -> str:
    """The consent text of `version` in `lang` ("en"; anything else gives Russian).

    Raises KeyError for an unknown version."""
    texts = _TEXTS[version]
    return texts[text_language(lang)].format(version=version)


def text_digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
