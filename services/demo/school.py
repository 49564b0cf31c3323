"""A generated demo school in Yugra for the exchange-v1 demo journal.

`generate_school(today)` returns a realistic Russian school as ``(entity, id, data)``
records in dependency order, every field as in journal-exchange-v1 section 4:
МБОУ «Средняя школа № 3», г. Сургут (Asia/Yekaterinburg); the periods of the school year
that contains ``today`` (quarters for grades 1–9, halves for 10–11, the year); classes
2А, 5Б, 7А, 10А; teachers, pupils, guardians; the weekly timetable of the current quarter up
to the end of this week, with substitutions, cancellations and rescheduled lessons;
assessments, homework, marks, final grades of finished periods, holidays, recommendations.

Id conventions: ``sch-1``; periods ``p-<year>-q1..q4``, ``p-<year>-h1/h2``, ``p-<year>-year``;
classes ``c-2a``, ``c-5b``, ``c-7a``, ``c-10a``; subjects ``sub-math``, ``sub-rus``...;
teachers ``t-1``..``t-13``; students ``s-1``..; guardians ``g-1``..; assignments ``a-N``;
curriculum ``cu-N``; lessons ``l-N``; assessments ``as-N``; homework ``hw-N``; marks
``m-N``; final grades ``fg-N``; holidays ``hol-...``; recommendations ``rec-N``.

When ``today`` falls in a break, the "current" quarter is the one that has just ended
(its marks and final grades are what parents look at) and the timetable shown is its last
week; on 1 September falling on a weekend it is the first week of the quarter.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "generate_school", "demo_guardians", "guardian_phones", "occurred_times",
    "school_year_of", "slot_times", "ENTITY_ORDER", "SCHOOL_ID", "SUBJECTS", "CLASSES",
]

# Surnames in their masculine form; the feminine form adds "а" (Иванов → Иванова).
_OV_IN = """
Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов
Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов Степанов Николаев Орлов Андреев
Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев
Кузьмин Фролов Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин
Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов Филиппов Комаров Давыдов
Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов
Карпов Власов Мельников Денисов Гаврилов Тихонов Казаков Афанасьев Данилов Савельев
Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев
Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев
Кудрявцев Прохоров Наумов Потапов Журавлёв Овчинников Трофимов Леонов Соболев Ермаков
Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов Кириллов
Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Ерёмин Тихомиров
Галкин Лукьянов Михеев Скворцов Юдин Белоусов Нестеров Симонов Прокофьев Харитонов Князев
Цветков Левин Митрофанов Воронцов Зуев Лаптев Субботин Лыткин Шубин Носков Гуляев Рябов
Хабибуллин Гарипов Сафин Галиев Ахметов Исмагилов Зарипов Валиев Мухаметов Юсупов
""".split()
_SKY = "Вишневский Островский Березовский Покровский Жуковский Соколовский".split()
_INVARIANT = "Шевченко Коваленко Бондаренко Кравченко Ткаченко Мельниченко Савченко".split()


def _feminine(surname: str) -> str:
    if surname.endswith("ский"):
        return surname[:-2] + "ая"
    if surname.endswith("ко"):
        return surname
    return surname + "а"


SURNAMES: list[tuple[str, str]] = [(s, _feminine(s)) for s in _OV_IN + _SKY + _INVARIANT]

BOY_NAMES = """
Александр Максим Артём Михаил Даниил Иван Дмитрий Кирилл Андрей Егор Никита Илья Алексей
Матвей Тимофей Роман Владимир Ярослав Фёдор Георгий Константин Лев Марк Тимур Арсений Глеб
Степан Богдан Руслан Денис Сергей Павел Николай Артур Семён Демид Савелий Платон
""".split()

GIRL_NAMES = """
Анастасия Мария Анна Виктория Полина Елизавета Екатерина Дарья Софья Ксения Алиса
Александра Варвара Вероника Арина Валерия Ульяна Милана Ева Алёна Кира Василиса Диана Юлия
Таисия Есения Злата Амелия Камила Алина Маргарита Элина Мирослава Агата Вера
""".split()

# A father's first name and the patronymics it gives his son and daughter.
FATHERS: list[tuple[str, str, str]] = [
    ("Александр", "Александрович", "Александровна"),
    ("Сергей", "Сергеевич", "Сергеевна"),
    ("Андрей", "Андреевич", "Андреевна"),
    ("Алексей", "Алексеевич", "Алексеевна"),
    ("Дмитрий", "Дмитриевич", "Дмитриевна"),
    ("Евгений", "Евгеньевич", "Евгеньевна"),
    ("Владимир", "Владимирович", "Владимировна"),
    ("Михаил", "Михайлович", "Михайловна"),
    ("Игорь", "Игоревич", "Игоревна"),
    ("Олег", "Олегович", "Олеговна"),
    ("Николай", "Николаевич", "Николаевна"),
    ("Павел", "Павлович", "Павловна"),
    ("Роман", "Романович", "Романовна"),
    ("Денис", "Денисович", "Денисовна"),
    ("Максим", "Максимович", "Максимовна"),
    ("Иван", "Иванович", "Ивановна"),
    ("Виталий", "Витальевич", "Витальевна"),
    ("Вячеслав", "Вячеславович", "Вячеславовна"),
    ("Юрий", "Юрьевич", "Юрьевна"),
    ("Константин", "Константинович", "Константиновна"),
    ("Антон", "Антонович", "Антоновна"),
    ("Илья", "Ильич", "Ильинична"),
    ("Руслан", "Русланович", "Руслановна"),
    ("Ильдар", "Ильдарович", "Ильдаровна"),
    ("Виктор", "Викторович", "Викторовна"),
    ("Анатолий", "Анатольевич", "Анатольевна"),
    ("Валерий", "Валерьевич", "Валерьевна"),
    ("Эдуард", "Эдуардович", "Эдуардовна"),
    ("Марат", "Маратович", "Маратовна"),
    ("Тимур", "Тимурович", "Тимуровна"),
    ("Артём", "Артёмович", "Артёмовна"),
    ("Станислав", "Станиславович", "Станиславовна"),
]

# Patronymics of the parents' and teachers' generation (from their fathers' names).
OLDER_PATRONYMICS: list[tuple[str, str]] = [
    ("Александрович", "Александровна"), ("Владимирович", "Владимировна"),
    ("Николаевич", "Николаевна"), ("Сергеевич", "Сергеевна"), ("Викторович", "Викторовна"),
    ("Анатольевич", "Анатольевна"), ("Юрьевич", "Юрьевна"), ("Михайлович", "Михайловна"),
    ("Геннадьевич", "Геннадьевна"), ("Валерьевич", "Валерьевна"), ("Петрович", "Петровна"),
    ("Иванович", "Ивановна"), ("Васильевич", "Васильевна"), ("Борисович", "Борисовна"),
    ("Олегович", "Олеговна"), ("Игоревич", "Игоревна"), ("Рашидович", "Рашидовна"),
    ("Алексеевич", "Алексеевна"), ("Евгеньевич", "Евгеньевна"), ("Павлович", "Павловна"),
]

MOTHER_NAMES = """
Елена Ольга Наталья Татьяна Ирина Светлана Юлия Анна Екатерина Мария Анастасия Оксана
Марина Евгения Алёна Виктория Ксения Людмила Надежда Гульнара Альбина Лилия Дарья Кристина
Валентина Олеся Яна Эльвира
""".split()

GRANDMOTHER_NAMES = "Людмила Валентина Галина Нина Любовь Тамара Раиса".split()

TEACHER_WOMEN = """
Елена Ольга Наталья Татьяна Ирина Светлана Галина Людмила Марина Оксана Юлия Анна
Екатерина Лариса Надежда Гульнара Эльвира Валентина
""".split()

TEACHER_MEN = "Сергей Андрей Алексей Дмитрий Игорь Олег Владимир Евгений Рустам Виктор".split()

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}


def translit(text: str) -> str:
    """Latin letters for an e-mail address (simplified passport transliteration)."""
    return "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())

# ---------------------------------------------------------------------------- the school

SCHOOL_ID = "sch-1"
SCHOOL_NAME = "МБОУ «Средняя школа № 3»"
SCHOOL_ADDRESS = (
    "628400, Ханты-Мансийский автономный округ — Югра, г. Сургут, ул. Школьная, д. 3"
)
DEFAULT_TZ = "Asia/Yekaterinburg"

ENTITY_ORDER = (
    "school", "period", "class", "subject", "teacher", "student", "guardian", "assignment",
    "curriculum", "lesson", "assessment", "homework", "mark", "final_grade", "holiday",
    "recommendation",
)

SUBJECTS: dict[str, str] = {
    "sub-rus": "Русский язык",
    "sub-read": "Литературное чтение",
    "sub-lit": "Литература",
    "sub-eng": "Английский язык",
    "sub-math": "Математика",
    "sub-alg": "Алгебра",
    "sub-geom": "Геометрия",
    "sub-prob": "Вероятность и статистика",
    "sub-inf": "Информатика",
    "sub-world": "Окружающий мир",
    "sub-hist": "История",
    "sub-soc": "Обществознание",
    "sub-geo": "География",
    "sub-bio": "Биология",
    "sub-phys": "Физика",
    "sub-chem": "Химия",
    "sub-music": "Музыка",
    "sub-art": "Изобразительное искусство",
    "sub-tech": "Труд (технология)",
    "sub-pe": "Физическая культура",
    "sub-odnknr": "Основы духовно-нравственной культуры народов России",
    "sub-obzr": "Основы безопасности и защиты Родины",
    "sub-proj": "Индивидуальный проект",
}

ENGLISH_GROUPS = ("Англ. яз. гр. 1", "Англ. яз. гр. 2")


@dataclass(frozen=True)
class _ClassPlan:
    id: str
    name: str
    grade: int
    size: int
    room: str
    class_teacher: str
    days: tuple[int, ...]  # lessons per weekday, Mon..Fri
    hours: tuple[tuple[str, int], ...]  # weekly hours per subject


CLASSES: tuple[_ClassPlan, ...] = (
    _ClassPlan("c-2a", "2А", 2, 22, "105", "t-1", (5, 5, 5, 4, 4), (
        ("sub-rus", 5), ("sub-read", 4), ("sub-eng", 2), ("sub-math", 4), ("sub-world", 2),
        ("sub-music", 1), ("sub-art", 1), ("sub-tech", 1), ("sub-pe", 3))),
    _ClassPlan("c-5b", "5Б", 5, 21, "208", "t-2", (6, 6, 5, 5, 5), (
        ("sub-rus", 5), ("sub-lit", 3), ("sub-eng", 3), ("sub-math", 5), ("sub-hist", 2),
        ("sub-geo", 1), ("sub-bio", 1), ("sub-music", 1), ("sub-art", 1), ("sub-tech", 2),
        ("sub-pe", 2), ("sub-odnknr", 1))),
    _ClassPlan("c-7a", "7А", 7, 20, "305", "t-9", (6, 6, 6, 6, 6), (
        ("sub-rus", 4), ("sub-lit", 2), ("sub-eng", 3), ("sub-alg", 3), ("sub-geom", 2),
        ("sub-prob", 1), ("sub-inf", 1), ("sub-hist", 2), ("sub-soc", 1), ("sub-geo", 2),
        ("sub-bio", 1), ("sub-phys", 2), ("sub-music", 1), ("sub-art", 1), ("sub-tech", 2),
        ("sub-pe", 2))),
    _ClassPlan("c-10a", "10А", 10, 18, "214", "t-6", (7, 6, 6, 6, 6), (
        ("sub-rus", 2), ("sub-lit", 3), ("sub-eng", 3), ("sub-alg", 4), ("sub-geom", 3),
        ("sub-prob", 1), ("sub-inf", 1), ("sub-hist", 2), ("sub-soc", 2), ("sub-geo", 1),
        ("sub-bio", 1), ("sub-phys", 3), ("sub-chem", 1), ("sub-pe", 2), ("sub-obzr", 1),
        ("sub-proj", 1))),
)
_CLASS_BY_ID = {c.id: c for c in CLASSES}

# Teacher id -> (gender, room, what they teach: a note for readers of this file).
TEACHERS: dict[str, tuple[str, str, str]] = {
    "t-1": ("f", "105", "начальные классы (2А)"),
    "t-2": ("f", "208", "русский язык и литература"),
    "t-3": ("f", "212", "математика, алгебра, геометрия"),
    "t-4": ("f", "301", "английский язык, группа 1"),
    "t-5": ("f", "302", "английский язык, группа 2"),
    "t-6": ("f", "214", "история, обществознание, ОДНКНР"),
    "t-7": ("f", "310", "биология, химия"),
    "t-8": ("f", "216", "география"),
    "t-9": ("m", "305", "физика, информатика"),
    "t-10": ("m", "Спортзал", "физическая культура, ОБЗР"),
    "t-11": ("f", "118", "музыка, изобразительное искусство"),
    "t-12": ("m", "Мастерская", "труд (технология)"),
    "t-13": ("m", "210", "математика: геометрия 10А, вероятность и статистика, проект"),
}
_SUBJECT_ROOMS = {"sub-inf": "307", "sub-chem": "310", "sub-pe": "Спортзал"}
# A second-teacher story: one pupil of 7А studies algebra on an individual plan with t-13.
_INDIVIDUAL_CLASS, _INDIVIDUAL_SUBJECT, _INDIVIDUAL_TEACHER = "c-7a", "sub-alg", "t-13"
_PE_EXEMPT_CLASSES = ("c-7a", "c-10a")
_SPLIT_TEACHERS = {"sub-eng": (("t-4", ENGLISH_GROUPS[0]), ("t-5", ENGLISH_GROUPS[1]))}


def _subject_teacher(class_id: str, subject_id: str) -> str:
    if class_id == "c-2a" and subject_id in (
        "sub-rus", "sub-read", "sub-math", "sub-world", "sub-art", "sub-tech"
    ):
        return "t-1"
    if class_id == "c-10a" and subject_id == "sub-geom":
        return "t-13"
    return {
        "sub-rus": "t-2", "sub-lit": "t-2", "sub-math": "t-3", "sub-alg": "t-3",
        "sub-geom": "t-3", "sub-prob": "t-13", "sub-proj": "t-13", "sub-hist": "t-6",
        "sub-soc": "t-6", "sub-odnknr": "t-6", "sub-bio": "t-7", "sub-chem": "t-7",
        "sub-geo": "t-8", "sub-phys": "t-9", "sub-inf": "t-9", "sub-pe": "t-10",
        "sub-obzr": "t-10", "sub-music": "t-11", "sub-art": "t-11", "sub-tech": "t-12",
    }[subject_id]


def _units_teachers(class_id: str, subject_id: str) -> tuple[tuple[str, str | None], ...]:
    """(teacher, group) pairs that teach one timetable slot of the subject."""
    if subject_id in _SPLIT_TEACHERS:
        return _SPLIT_TEACHERS[subject_id]
    return ((_subject_teacher(class_id, subject_id), None),)


_TEACHER_SUBJECTS: dict[str, set[str]] = {}
for _plan in CLASSES:
    for _subject, _ in _plan.hours:
        for _teacher, _ in _units_teachers(_plan.id, _subject):
            _TEACHER_SUBJECTS.setdefault(_teacher, set()).add(_subject)


def slot_times(number: int) -> tuple[str, str]:
    """Clock times of lesson ``number``: 08:00–08:40, then 10-minute breaks."""
    start = 8 * 60 + (number - 1) * 50
    end = start + 40
    return f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}"


# ---------------------------------------------------------------------------- calendar

QUARTER_NAMES = ("1 четверть", "2 четверть", "3 четверть", "4 четверть")
HALF_NAMES = ("1 полугодие", "2 полугодие")
_QUARTER_WEEKS = (8, 8, 10, 8)
_HALF_WEEKS = (16, 18)
_YEAR_WEEKS = 34


@dataclass(frozen=True)
class _Period:
    id: str
    kind: str
    name: str
    starts_on: date
    ends_on: date
    weeks: int
    index: int


@dataclass
class _Calendar:
    year: int  # the calendar year in which the school year starts
    quarters: list[_Period]
    halves: list[_Period]
    school_year: _Period
    holidays: list[tuple[str, str, date, date]]  # id, name, starts_on, ends_on
    off_days: set[date]
    current_quarter: int  # index into quarters

    def is_school_day(self, day: date) -> bool:
        return (
            day.weekday() < 5
            and any(q.starts_on <= day <= q.ends_on for q in self.quarters)
            and day not in self.off_days
        )

    def periods_for(self, grade: int) -> list[_Period]:
        return (self.quarters if grade <= 9 else self.halves) + [self.school_year]

    def current_half(self) -> int:
        return 0 if self.current_quarter < 2 else 1


def school_year_of(today: date) -> int:
    """The calendar year in which the school year containing ``today`` began."""
    return today.year if today.month >= 9 else today.year - 1


def _calendar(today: date) -> _Calendar:
    y = school_year_of(today)
    n = y + 1
    qd = [
        (date(y, 9, 1), date(y, 10, 25)), (date(y, 11, 5), date(y, 12, 28)),
        (date(n, 1, 12), date(n, 3, 21)), (date(n, 3, 31), date(n, 5, 26)),
    ]
    quarters = [
        _Period(f"p-{y}-q{i + 1}", "quarter", QUARTER_NAMES[i], s, e, _QUARTER_WEEKS[i], i)
        for i, (s, e) in enumerate(qd)
    ]
    halves = [
        _Period(f"p-{y}-h1", "half", HALF_NAMES[0], qd[0][0], qd[1][1], _HALF_WEEKS[0], 0),
        _Period(f"p-{y}-h2", "half", HALF_NAMES[1], qd[2][0], qd[3][1], _HALF_WEEKS[1], 1),
    ]
    school_year = _Period(
        f"p-{y}-year", "year", f"{y}/{n} учебный год", qd[0][0], qd[3][1], _YEAR_WEEKS, 0
    )
    holidays = [
        (f"hol-{y}-autumn", "Осенние каникулы", date(y, 10, 26), date(y, 11, 4)),
        (f"hol-{y}-winter", "Зимние каникулы", date(y, 12, 29), date(n, 1, 11)),
        (f"hol-{n}-spring", "Весенние каникулы", date(n, 3, 22), date(n, 3, 30)),
        (f"hol-{n}-summer", "Летние каникулы", date(n, 5, 27), date(n, 8, 31)),
    ]
    for day, name in (
        (date(n, 2, 23), "День защитника Отечества"),
        (date(n, 3, 8), "Международный женский день"),
        (date(n, 5, 1), "Праздник Весны и Труда"),
        (date(n, 5, 9), "День Победы"),
    ):
        if day.weekday() < 5:
            holidays.append((f"hol-{day.isoformat()}", name, day, day))
    off_days: set[date] = set()
    for _, _, start, end in holidays:
        day = start
        while day <= end:
            off_days.add(day)
            day += timedelta(days=1)
    current = 0
    for i, q in enumerate(quarters):
        if q.starts_on <= today:
            current = i  # within a quarter, or in the break after it
    return _Calendar(y, quarters, halves, school_year, holidays, off_days, current)


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _timetable_week(cal: _Calendar, today: date) -> date:
    """Monday of the week whose timetable is "current"."""
    q = cal.quarters[cal.current_quarter]
    days = [q.starts_on + timedelta(days=i) for i in range((q.ends_on - q.starts_on).days + 1)]
    school_days = [d for d in days if cal.is_school_day(d)]
    monday = _monday(today)
    if any(monday <= d <= monday + timedelta(days=4) for d in school_days):
        return monday
    past = [d for d in school_days if d <= today]
    return _monday(past[-1] if past else school_days[0])


# ---------------------------------------------------------------------------- people


@dataclass
class _Pupil:
    id: str
    class_id: str
    surname: str
    name: str
    patronymic: str
    gender: str
    birth_offset: int  # days after 1 September of the birth window
    ability: int  # 0 strong .. 3 weak
    family: int
    groups: list[str] = field(default_factory=list)
    individual_plan: bool = False
    pe_exempt: bool = False

    @property
    def full_name(self) -> str:
        return f"{self.surname} {self.name} {self.patronymic}"


@dataclass
class _Guardian:
    id: str
    full_name: str
    phone: str
    email: str | None
    student_ids: list[str]


@dataclass
class _People:
    teachers: dict[str, str]  # id -> full name
    pupils: list[_Pupil]
    guardians: list[_Guardian]


def _people(seed: int) -> _People:
    """Teachers, pupils and guardians: depend on the seed only, so phones stay stable."""
    rng = random.Random(f"people:{seed}")
    surnames = SURNAMES[:]
    rng.shuffle(surnames)
    surname_iter = iter(surnames)

    teachers: dict[str, str] = {}
    used_first: set[str] = set()
    for tid, (gender, _, _) in TEACHERS.items():
        male, female = next(surname_iter)
        pool = TEACHER_MEN if gender == "m" else TEACHER_WOMEN
        first = rng.choice([n for n in pool if n not in used_first] or pool)
        used_first.add(first)
        pm, pf = rng.choice(OLDER_PATRONYMICS)
        teachers[tid] = f"{male if gender == 'm' else female} {first} {pm if gender == 'm' else pf}"

    # Families: a few have two children in different classes of the school.
    class_ids = [c.id for c in CLASSES]
    sibling_pairs = [
        ("c-2a", "c-5b"), ("c-2a", "c-7a"), ("c-5b", "c-10a"), ("c-7a", "c-10a"),
        ("c-2a", "c-10a"), ("c-5b", "c-7a"), ("c-2a", "c-5b"), ("c-7a", "c-10a"),
    ]
    slots = {c.id: c.size for c in CLASSES}
    families: list[dict] = []

    def new_family() -> dict:
        male, female = next(surname_iter)
        father, son_p, daughter_p = rng.choice(FATHERS)
        roll = rng.random()
        who = "both" if roll < 0.62 else "mother" if roll < 0.9 else "father" if roll < 0.96 else "grandmother"
        family = {
            "index": len(families), "male": male, "female": female, "father": father,
            "son_p": son_p, "daughter_p": daughter_p, "who": who,
            "father_p": rng.choice(OLDER_PATRONYMICS)[0],
            "mother": rng.choice(MOTHER_NAMES), "mother_p": rng.choice(OLDER_PATRONYMICS)[1],
            "children": [],
        }
        families.append(family)
        return family

    kids_by_class: dict[str, list[dict]] = {c: [] for c in class_ids}
    for pair in sibling_pairs:
        family = new_family()
        for class_id in pair:
            kids_by_class[class_id].append(family)
            slots[class_id] -= 1
    for class_id in class_ids:
        for _ in range(slots[class_id]):
            kids_by_class[class_id].append(new_family())

    pupils: list[_Pupil] = []
    used_names: set[str] = set()
    for plan in CLASSES:
        drafted = []
        for family in kids_by_class[plan.id]:
            gender = "m" if rng.random() < 0.5 else "f"
            while True:
                first = rng.choice(BOY_NAMES if gender == "m" else GIRL_NAMES)
                surname = family["male"] if gender == "m" else family["female"]
                patronymic = family["son_p"] if gender == "m" else family["daughter_p"]
                full = f"{surname} {first} {patronymic}"
                if full not in used_names and all(
                    first != other_first for other_first in family.get("names", [])
                ):
                    break
            used_names.add(full)
            family.setdefault("names", []).append(first)
            ability = rng.choices((0, 1, 2, 3), weights=(25, 40, 25, 10))[0]
            drafted.append(_Pupil(
                "", plan.id, surname, first, patronymic, gender, rng.randrange(365),
                ability, family["index"],
            ))
        drafted.sort(key=lambda p: (p.surname, p.name, p.patronymic))
        half = (len(drafted) + 1) // 2
        for i, pupil in enumerate(drafted):
            pupil.groups = [ENGLISH_GROUPS[0] if i < half else ENGLISH_GROUPS[1]]
        pupils.extend(drafted)
    for i, pupil in enumerate(pupils, start=1):
        pupil.id = f"s-{i}"
        families[pupil.family]["children"].append(pupil.id)

    by_class: dict[str, list[_Pupil]] = {}
    for pupil in pupils:
        by_class.setdefault(pupil.class_id, []).append(pupil)
    rng.choice(by_class[_INDIVIDUAL_CLASS]).individual_plan = True
    for class_id in _PE_EXEMPT_CLASSES:
        rng.choice([p for p in by_class[class_id] if not p.individual_plan]).pe_exempt = True

    guardians: list[_Guardian] = []
    phones: set[str] = set()
    emails: set[str] = set()

    def phone() -> str:
        while True:
            number = f"+7900{rng.randrange(10_000_000):07d}"
            if number not in phones:
                phones.add(number)
                return number

    def email(surname: str, first: str) -> str | None:
        if rng.random() < 0.45:
            return None
        base = f"{translit(surname)}.{translit(first)[0]}"
        address, k = f"{base}@example.org", 1
        while address in emails:
            k += 1
            address = f"{base}{k}@example.org"
        emails.add(address)
        return address

    ordered = sorted(families, key=lambda f: int(f["children"][0].split("-")[1]))
    for family in ordered:
        members = []
        if family["who"] in ("both", "mother"):
            members.append((family["female"], family["mother"], family["mother_p"]))
        if family["who"] in ("both", "father"):
            members.append((family["male"], family["father"], family["father_p"]))
        if family["who"] == "grandmother":
            members.append((family["female"], rng.choice(GRANDMOTHER_NAMES),
                            rng.choice(OLDER_PATRONYMICS)[1]))
        for surname, first, patronymic in members:
            guardians.append(_Guardian(
                f"g-{len(guardians) + 1}", f"{surname} {first} {patronymic}", phone(),
                email(surname, first), list(family["children"]),
            ))
    return _People(teachers, pupils, guardians)


def guardian_phones(seed: int = 2026) -> dict[str, dict]:
    """Phone -> {"guardian_id", "full_name", "student_ids"} of the demo school (any date)."""
    return {
        g.phone: {"guardian_id": g.id, "full_name": g.full_name, "student_ids": list(g.student_ids)}
        for g in _people(seed).guardians
    }


def demo_guardians(records: list[tuple[str, str, dict]]) -> list[dict]:
    """Guardians with phones and children, from generated records, for a sandbox listing.

    Each item: ``{"guardian_id", "full_name", "phone", "children": [{"student_id",
    "full_name", "class_id", "class_name"}]}``, in guardian id order.
    """
    students = {rid: data for entity, rid, data in records if entity == "student"}
    classes = {rid: data for entity, rid, data in records if entity == "class"}
    out = []
    for entity, rid, data in records:
        if entity != "guardian":
            continue
        children = []
        for sid in data.get("student_ids", []):
            student = students.get(sid, {})
            class_id = student.get("class_id")
            children.append({
                "student_id": sid, "full_name": student.get("full_name"), "class_id": class_id,
                "class_name": classes.get(class_id, {}).get("name"),
            })
        out.append({
            "guardian_id": rid, "full_name": data["full_name"], "phone": data.get("phone"),
            "children": children,
        })
    return out


# ---------------------------------------------------------------------------- timetable

_Template = dict[str, dict[tuple[int, int], str]]  # class -> (weekday, number) -> subject


def _build_template(seed: int, year: int) -> _Template:
    """A clash-free weekly timetable: no teacher in two places, a subject at most once a day
    (twice for subjects with more lessons than days)."""
    rng = random.Random(f"timetable:{seed}:{year}")
    load: dict[str, int] = {}
    for plan in CLASSES:
        for subject, hours in plan.hours:
            for teacher, _ in _units_teachers(plan.id, subject):
                load[teacher] = load.get(teacher, 0) + hours
    main = {"sub-rus", "sub-math", "sub-alg", "sub-geom", "sub-eng", "sub-phys", "sub-chem"}
    for _attempt in range(500):
        busy: set[tuple[str, int, int]] = set()
        template: _Template = {}
        failed = False
        for plan in sorted(CLASSES, key=lambda c: -sum(c.days)):
            units = []
            for subject, hours in plan.hours:
                teachers = [t for t, _ in _units_teachers(plan.id, subject)]
                units.extend([(subject, teachers)] * hours)
            rng.shuffle(units)
            units.sort(key=lambda u: -max(load[t] for t in u[1]))
            hours_of = dict(plan.hours)
            grid: dict[tuple[int, int], str] = {}
            per_day: dict[tuple[int, str], int] = {}
            cells = [(d, n) for d in range(5) for n in range(1, plan.days[d] + 1)]
            for subject, teachers in units:
                cap = 1 if hours_of[subject] <= 5 else 2
                options = [
                    c for c in cells
                    if c not in grid and per_day.get((c[0], subject), 0) < cap
                    and all((t, c[0], c[1]) not in busy for t in teachers)
                ]
                if not options:
                    failed = True
                    break
                if subject in main:  # main subjects prefer the first lessons of the day
                    early = [c for c in options if c[1] <= 4]
                    options = early if early and rng.random() < 0.8 else options
                cell = rng.choice(options)
                grid[cell] = subject
                per_day[(cell[0], subject)] = per_day.get((cell[0], subject), 0) + 1
                for t in teachers:
                    busy.add((t, cell[0], cell[1]))
            if failed:
                break
            template[plan.id] = grid
        if not failed:
            return template
    raise RuntimeError("could not build a clash-free timetable")


# ---------------------------------------------------------------------------- texts

_TOPICS: dict[str, dict[int, list[str]]] = {
    "sub-rus": {
        2: ["Язык и речь", "Текст. Признаки текста", "Предложение как единица речи",
            "Главные члены предложения", "Слово и его значение", "Однокоренные слова",
            "Корень слова", "Безударные гласные в корне", "Парные согласные в корне",
            "Разделительный мягкий знак", "Имя существительное", "Глагол",
            "Имя прилагательное", "Предлог"],
        5: ["Повторение изученного в начальной школе", "Орфограммы в корне слова",
            "Словосочетание", "Простое предложение. Грамматическая основа",
            "Однородные члены предложения", "Обращение", "Прямая речь",
            "Фонетика. Звуки речи", "Морфемика. Корень, суффикс, приставка",
            "Чередование гласных в корне", "Правописание приставок на з/с",
            "Буквы ы и и после ц", "Имя существительное как часть речи",
            "Склонение имён существительных"],
        7: ["Причастие как часть речи", "Причастный оборот",
            "Действительные и страдательные причастия", "Н и НН в суффиксах причастий",
            "Деепричастие как часть речи", "Деепричастный оборот", "Наречие как часть речи",
            "Степени сравнения наречий", "Слитное и раздельное написание не с наречиями",
            "Предлог как часть речи", "Союз", "Частица", "Правописание частиц не и ни"],
        10: ["Язык как система", "Лексика и фразеология", "Орфоэпические нормы",
             "Морфологические нормы", "Синтаксические нормы", "Правописание приставок",
             "Н и НН в разных частях речи", "Текст и его признаки",
             "Функциональные стили речи", "Сочинение-рассуждение по тексту",
             "Пунктуация в сложном предложении"],
    },
    "sub-read": {0: [
        "Устное народное творчество", "Русские народные сказки",
        "Люблю природу русскую. Осень", "А. С. Пушкин. Стихи о природе", "И. А. Крылов. Басни",
        "Л. Н. Толстой. Рассказы для детей", "О братьях наших меньших", "Из детских журналов",
        "Люблю природу русскую. Зима", "К. И. Чуковский. Сказки", "С. В. Михалков. Стихи"]},
    "sub-lit": {
        5: ["Устное народное творчество. Сказки", "Былина «Илья Муромец и Соловей-разбойник»",
            "И. А. Крылов. Басни", "А. С. Пушкин. «Сказка о мёртвой царевне и о семи богатырях»",
            "М. Ю. Лермонтов. «Бородино»", "Н. В. Гоголь. «Ночь перед Рождеством»",
            "И. С. Тургенев. «Муму»", "Н. А. Некрасов. «Крестьянские дети»",
            "Л. Н. Толстой. «Кавказский пленник»", "А. П. Чехов. «Хирургия»"],
        7: ["«Поучение» Владимира Мономаха", "М. В. Ломоносов. Ода",
            "А. С. Пушкин. «Станционный смотритель»", "А. С. Пушкин. «Полтава»",
            "Н. В. Гоголь. «Тарас Бульба»", "И. С. Тургенев. «Бирюк»",
            "Н. А. Некрасов. «Русские женщины»", "М. Е. Салтыков-Щедрин. Сказки",
            "Л. Н. Толстой. «Детство»", "А. П. Чехов. «Хамелеон»"],
        10: ["А. Н. Островский. «Гроза»", "И. А. Гончаров. «Обломов»",
             "И. С. Тургенев. «Отцы и дети»", "Ф. И. Тютчев. Лирика", "А. А. Фет. Лирика",
             "Н. А. Некрасов. «Кому на Руси жить хорошо»",
             "Ф. М. Достоевский. «Преступление и наказание»", "Л. Н. Толстой. «Война и мир»",
             "А. П. Чехов. «Вишнёвый сад»"],
    },
    "sub-eng": {
        2: ["Приветствие и знакомство", "Английский алфавит", "Моя семья", "Цвета",
            "Мои игрушки", "Числа от 1 до 10", "Животные", "Еда", "Мой дом", "Праздники"],
        5: ["School days", "That's me!", "My home, my castle", "Family ties", "World animals",
            "Round the clock", "In all weathers", "Special days", "Modern living"],
        7: ["Lifestyles", "Tale time", "Profiles", "In the news", "What the future holds",
            "Having fun", "In the spotlight", "Green issues", "Shopping time"],
        10: ["Strong ties", "Living and spending", "Schooldays and work", "Earth alert!",
             "Holidays", "Food and health", "Let's have fun", "Technology"],
    },
    "sub-math": {
        2: ["Числа от 1 до 100. Нумерация", "Сложение и вычитание двузначных чисел",
            "Единицы длины: сантиметр, дециметр, метр", "Задачи в два действия",
            "Выражения со скобками", "Периметр многоугольника",
            "Умножение как сложение одинаковых слагаемых", "Деление",
            "Таблица умножения на 2 и 3", "Единицы времени: час, минута"],
        5: ["Натуральные числа и шкалы", "Сложение и вычитание натуральных чисел",
            "Умножение и деление натуральных чисел", "Порядок выполнения действий",
            "Степень числа", "Площади и объёмы", "Обыкновенные дроби", "Сравнение дробей",
            "Сложение и вычитание дробей", "Смешанные числа", "Десятичные дроби"],
    },
    "sub-alg": {
        7: ["Выражения и их преобразования", "Линейное уравнение с одной переменной",
            "Решение задач с помощью уравнений", "Функция и её график", "Линейная функция",
            "Степень с натуральным показателем", "Одночлены", "Многочлены",
            "Умножение многочленов", "Формулы сокращённого умножения",
            "Разложение на множители", "Системы линейных уравнений"],
        10: ["Действительные числа", "Степень с рациональным показателем",
             "Степенная функция", "Иррациональные уравнения", "Показательная функция",
             "Показательные уравнения и неравенства", "Логарифмы и их свойства",
             "Логарифмическая функция", "Радианная мера угла",
             "Синус, косинус и тангенс числа", "Тригонометрические тождества"],
    },
    "sub-geom": {
        7: ["Начальные геометрические сведения", "Смежные и вертикальные углы", "Треугольники",
            "Признаки равенства треугольников", "Медианы, биссектрисы и высоты",
            "Равнобедренный треугольник", "Параллельные прямые", "Сумма углов треугольника",
            "Прямоугольные треугольники", "Окружность"],
        10: ["Аксиомы стереометрии", "Параллельность прямых в пространстве",
             "Скрещивающиеся прямые", "Параллельность прямой и плоскости",
             "Параллельность плоскостей", "Тетраэдр и параллелепипед",
             "Перпендикулярность прямой и плоскости", "Теорема о трёх перпендикулярах",
             "Двугранный угол", "Призма"],
    },
    "sub-prob": {0: [
        "Представление данных в таблицах и диаграммах", "Среднее арифметическое и медиана",
        "Случайная изменчивость", "Графы", "Вероятность и частота случайного события",
        "Элементарные события", "Операции над событиями", "Перестановки",
        "Сочетания. Треугольник Паскаля"]},
    "sub-inf": {
        7: ["Информация и информационные процессы", "Двоичный код",
            "Единицы измерения информации", "Устройство компьютера",
            "Программное обеспечение", "Файлы и файловая система", "Компьютерные сети",
            "Текстовые документы", "Компьютерная графика", "Мультимедийные презентации"],
        10: ["Информация и информационные процессы", "Системы счисления",
             "Кодирование текстов и изображений", "Логические операции",
             "Таблицы истинности", "Программирование на Python", "Ветвления", "Циклы",
             "Обработка массивов", "Электронные таблицы"],
    },
    "sub-world": {0: [
        "Что такое Родина?", "Наша планета Земля", "Неживая и живая природа",
        "Явления природы. Погода", "Звёздное небо", "Растения и животные Югры",
        "Дикие и домашние животные", "Красная книга", "Строение тела человека",
        "Если хочешь быть здоров", "Правила дорожного движения", "Город и село"]},
    "sub-hist": {
        5: ["Первобытность", "Древний Египет", "Древние цивилизации Месопотамии",
            "Финикия и Палестина", "Персидская держава", "Древняя Индия", "Древний Китай",
            "Древнейшая Греция", "Греческие полисы", "Древний Рим"],
        7: ["Великие географические открытия", "Реформация в Европе", "Абсолютизм",
            "Россия в XVI веке", "Правление Ивана IV", "Смутное время",
            "Россия при первых Романовых", "Освоение Сибири", "Культура России XVII века"],
        10: ["Россия накануне Первой мировой войны", "Первая мировая война",
             "Российская революция 1917 года", "Гражданская война",
             "Новая экономическая политика", "Образование СССР",
             "Индустриализация и коллективизация", "Великая Отечественная война 1941–1945 гг.",
             "Югра в годы Великой Отечественной войны"],
    },
    "sub-soc": {
        7: ["Человек и его социальное окружение", "Общение",
            "Конфликты в межличностных отношениях", "Экономика и её роль",
            "Производство — основа экономики", "Деньги и их функции", "Экономика семьи"],
        10: ["Общество как система", "Природа человека", "Деятельность человека", "Познание",
             "Духовная культура", "Экономика как сфера жизни общества",
             "Рынок и рыночные механизмы"],
    },
    "sub-geo": {
        5: ["Что изучает география", "Открытие Земли", "План местности", "Географическая карта",
            "Земля во Вселенной", "Литосфера", "Рельеф Земли"],
        7: ["Главные закономерности природы Земли", "Литосфера и рельеф Земли",
            "Атмосфера и климаты Земли", "Мировой океан", "Африка", "Австралия",
            "Южная Америка", "Антарктида"],
        10: ["Политическая карта мира", "Природные ресурсы мира", "Население мира",
             "Мировое хозяйство", "Топливно-энергетический комплекс",
             "Нефтегазовый комплекс Западной Сибири"],
    },
    "sub-bio": {
        5: ["Биология — наука о живой природе", "Методы изучения природы",
            "Увеличительные приборы", "Клетка — основа строения организмов",
            "Многообразие организмов", "Среды жизни", "Природные сообщества Югры"],
        7: ["Ботаника — наука о растениях", "Строение растительной клетки",
            "Органы цветкового растения", "Корень", "Побег. Лист", "Стебель",
            "Цветок и плод", "Размножение растений"],
        10: ["Биология как наука", "Уровни организации живой материи",
             "Химический состав клетки", "Белки", "Нуклеиновые кислоты", "Строение клетки",
             "Обмен веществ", "Фотосинтез"],
    },
    "sub-chem": {0: [
        "Предмет органической химии", "Теория строения органических соединений", "Алканы",
        "Алкены", "Алкадиены. Каучуки", "Алкины", "Арены", "Нефть и способы её переработки"]},
    "sub-phys": {
        7: ["Физика и её роль в познании", "Строение вещества", "Движение молекул",
            "Механическое движение", "Скорость", "Масса тела. Плотность вещества",
            "Сила. Сила тяжести", "Сила упругости. Вес тела", "Давление", "Архимедова сила"],
        10: ["Равномерное прямолинейное движение", "Равноускоренное движение",
             "Движение по окружности", "Законы Ньютона", "Силы в механике",
             "Закон сохранения импульса", "Работа и энергия",
             "Молекулярно-кинетическая теория", "Газовые законы"],
    },
    "sub-music": {0: ["Музыка в жизни человека", "Народная музыка", "Русские композиторы-классики",
                      "Музыкальные инструменты", "Музыка театра и кино", "Музыка народов Севера"]},
    "sub-art": {0: ["Рисунок с натуры", "Декоративно-прикладное искусство",
                    "Орнамент народов ханты и манси", "Пейзаж", "Портрет", "Натюрморт"]},
    "sub-tech": {0: ["Технологии вокруг нас", "Материалы и их свойства", "Работа с бумагой",
                     "Обработка древесины", "Текстильные материалы", "Робототехника",
                     "Проектная работа"]},
    "sub-pe": {0: ["Лёгкая атлетика. Бег", "Прыжки в длину", "Гимнастика", "Лыжная подготовка",
                   "Волейбол", "Баскетбол", "Подвижные игры", "Общая физическая подготовка"]},
    "sub-obzr": {0: ["Безопасность в быту", "Безопасность на транспорте",
                     "Основы обороны государства", "Первая помощь",
                     "Чрезвычайные ситуации природного характера"]},
    "sub-odnknr": {0: ["Наш дом — Россия", "Язык и история", "Традиции народов России",
                       "Культура народов Югры", "Семья — хранитель духовных ценностей"]},
    "sub-proj": {0: ["Выбор темы проекта", "Цель и задачи проекта",
                     "Работа с источниками информации", "Планирование проекта",
                     "Оформление проекта", "Подготовка к защите"]},
}


def _topics(subject: str, grade: int) -> list[str]:
    by_grade = _TOPICS[subject]
    return by_grade.get(grade) or by_grade.get(0) or next(iter(by_grade.values()))


_LAB_SUBJECTS = ("sub-phys", "sub-chem", "sub-bio")
# Subjects with an assessment calendar: (subject, works per quarter, assessment kind).
_ASSESSED = {
    "sub-rus": (2, "control"), "sub-math": (2, "control"), "sub-alg": (2, "control"),
    "sub-geom": (1, "control"), "sub-eng": (1, "control"), "sub-lit": (1, "control"),
    "sub-read": (1, "other"), "sub-world": (1, "test"), "sub-hist": (1, "test"),
    "sub-phys": (1, "control"), "sub-chem": (1, "control"), "sub-bio": (1, "test"),
    "sub-geo": (1, "test"), "sub-prob": (1, "test"), "sub-inf": (1, "test"),
    "sub-soc": (1, "test"),
}


def _assessment_title(subject: str, kind: str, number: int, topic: str) -> str:
    if kind == "vpr":
        return "ВПР по русскому языку" if subject == "sub-rus" else "ВПР по математике"
    if subject == "sub-read":
        return "Проверка техники чтения"
    if subject == "sub-rus" and number == 1:
        return "Контрольный диктант с грамматическим заданием"
    if subject == "sub-lit":
        return f"Контрольное сочинение: {topic}"
    if subject == "sub-eng":
        return f"Контрольная работа: модуль «{topic}»"
    if kind == "test":
        return f"Проверочная работа «{topic}»"
    return f"Контрольная работа № {number} «{topic}»"


def _homework_text(rng: random.Random, subject: str, grade: int, topic: str | None) -> str | None:
    p = rng.randrange(12, 180)
    n = rng.randrange(40, 420)
    par = rng.randrange(2, 28)
    if subject == "sub-rus":
        return rng.choice([
            f"Упр. {n}, с. {p}. Выучить правило на с. {p - 1}.",
            f"Упр. {n} и {n + 3}.",
            f"Словарные слова на с. {p} — выучить, упр. {n}.",
        ])
    if subject in ("sub-math", "sub-alg", "sub-geom", "sub-prob"):
        if grade <= 4:
            return f"С. {p}, № {rng.randrange(1, 8)}, {rng.randrange(8, 12)}; повторить таблицу умножения."
        return rng.choice([
            f"П. {par}, № {n}, {n + 2}, {n + 5}.",
            f"№ {n}–{n + 4} (чётные). Повторить п. {par}.",
            f"Решить вариант на карточке, № {n}.",
        ])
    if subject == "sub-read":
        return rng.choice([
            f"Выразительное чтение, с. {p}–{p + 3}.",
            f"Выучить стихотворение наизусть (с. {p}).",
            f"Прочитать, ответить на вопросы на с. {p}.",
        ])
    if subject == "sub-lit":
        work = topic or "произведение"
        return rng.choice([
            f"Прочитать: {work}. Ответить на вопросы 1–{rng.randrange(3, 7)} (с. {p}).",
            f"{work}: подготовить пересказ эпизода, выписать цитаты.",
        ])
    if subject == "sub-eng":
        return f"SB ex. {rng.randrange(1, 9)}, p. {p}; WB ex. {rng.randrange(1, 9)}, p. {p // 2}. Выучить новые слова."
    if subject == "sub-world":
        return f"Учебник с. {p}–{p + 3}, рабочая тетрадь с. {p // 2}."
    if subject in ("sub-hist", "sub-soc", "sub-geo", "sub-bio", "sub-chem", "sub-phys", "sub-inf"):
        extra = {
            "sub-geo": "задание в контурной карте",
            "sub-bio": "зарисовать схему в тетради",
            "sub-phys": f"упр. {rng.randrange(1, 30)} (1–3)",
            "sub-chem": f"задачи {rng.randrange(1, 6)}–{rng.randrange(6, 10)} после параграфа",
            "sub-inf": f"задание № {rng.randrange(1, 12)} в рабочей тетради",
        }.get(subject, f"вопросы 1–{rng.randrange(3, 6)} после параграфа")
        return f"§ {par}, {extra}."
    if subject in ("sub-odnknr", "sub-obzr", "sub-proj") and rng.random() < 0.4:
        return rng.choice(["Подготовить сообщение по теме урока.", f"§ {par}, прочитать."])
    if subject in ("sub-tech", "sub-art") and rng.random() < 0.3:
        return "Принести материалы для практической работы."
    return None


_RECOMMENDATIONS = {
    "sub-rus": "Повторить правописание безударных гласных и каждый день выполнять одно упражнение из раздела «Повторение».",
    "sub-math": "Много ошибок в вычислениях: ежедневно решать 3–4 примера на порядок действий, выполнить работу над ошибками.",
    "sub-alg": "Разобрать работу над ошибками к контрольной, повторить формулы сокращённого умножения.",
    "sub-geom": "Выучить формулировки признаков и теорем, без них трудно решать задачи.",
    "sub-eng": "Учить по 5–7 новых слов в день и читать вслух по 10 минут.",
    "sub-read": "Ежедневно читать вслух 15–20 минут: техника чтения пока ниже нормы.",
    "sub-lit": "Читать произведения полностью, а не в кратком изложении; вести читательский дневник.",
    "sub-phys": "Повторить единицы измерения и разобрать решение задач из § по теме.",
    "sub-hist": "Готовить устный ответ по плану параграфа, повторить основные даты.",
    "sub-world": "Понаблюдать за погодой и вести дневник наблюдений, как договаривались на уроке.",
    None: "Прошу связаться со мной: есть пропуски уроков, обсудим, как наверстать материал.",
}
_PRAISE = "Отлично работает на уроках: рекомендую участие в школьном этапе олимпиады."

_MARK_VALUES = ("5", "4", "3", "2")
_MARK_WEIGHTS = {
    0: (66, 29, 5, 0), 1: (36, 50, 13, 1), 2: (16, 46, 34, 4), 3: (6, 32, 50, 12),
}
_MARK_COMMENTS = {
    "2": ["Не выполнено домашнее задание", "Не готов к уроку", None],
    "5": ["Отличный ответ у доски", None, None, None],
}


# ---------------------------------------------------------------------------- generation


def _d(day: date) -> str:
    return day.isoformat()


def _pick_value(rng: random.Random, ability: int, grade: int) -> str:
    if grade <= 4:
        ability = max(0, ability - 1)
    return rng.choices(_MARK_VALUES, weights=_MARK_WEIGHTS[ability])[0]


def _final_value(rng: random.Random, ability: int) -> str:
    weights = {0: (88, 12, 0, 0), 1: (27, 63, 10, 0), 2: (5, 47, 48, 0), 3: (0, 12, 85, 3)}
    return rng.choices(_MARK_VALUES, weights=weights[ability])[0]


def generate_school(
    today: date,
    *,
    seed: int = 2026,
    tz: str = DEFAULT_TZ,
    as_of: time = time(12, 0),
) -> list[tuple[str, str, dict]]:
    """The demo school as ``(entity, id, data)`` records in dependency order.

    Deterministic for ``(today, seed, as_of)``; ``as_of`` is the local clock time of
    ``today`` at which lessons count as held (a lesson that has ended by then is held and
    may carry marks). People (names, phones) depend on ``seed`` only; the history of past
    days does not change when ``today`` moves on.
    """
    ZoneInfo(tz)  # fail early on an unknown zone
    cal = _calendar(today)
    people = _people(seed)
    template = _build_template(seed, cal.year)
    out: list[tuple[str, str, dict]] = []

    def add(entity: str, rid: str, data: dict) -> None:
        out.append((entity, rid, data))

    # -- structure
    add("school", SCHOOL_ID, {"name": SCHOOL_NAME, "timezone": tz, "address": SCHOOL_ADDRESS})
    for period in cal.quarters + cal.halves + [cal.school_year]:
        add("period", period.id, {
            "school_id": SCHOOL_ID, "kind": period.kind, "name": period.name,
            "starts_on": _d(period.starts_on), "ends_on": _d(period.ends_on),
        })
    for plan in CLASSES:
        add("class", plan.id, {"school_id": SCHOOL_ID, "name": plan.name, "grade": plan.grade})
    used_subjects = {s for plan in CLASSES for s, _ in plan.hours}
    for sid, name in SUBJECTS.items():
        if sid in used_subjects:
            add("subject", sid, {"school_id": SCHOOL_ID, "name": name})
    for tid, full_name in people.teachers.items():
        add("teacher", tid, {"school_id": SCHOOL_ID, "full_name": full_name})
    for pupil in people.pupils:
        grade = _CLASS_BY_ID[pupil.class_id].grade
        born = date(cal.year - 7 - grade, 9, 1) + timedelta(days=pupil.birth_offset)
        add("student", pupil.id, {
            "school_id": SCHOOL_ID, "class_id": pupil.class_id, "full_name": pupil.full_name,
            "birth_date": _d(born), "groups": list(pupil.groups),
            "individual_plan": pupil.individual_plan,
        })
    for guardian in people.guardians:
        add("guardian", guardian.id, {
            "school_id": SCHOOL_ID, "full_name": guardian.full_name, "phone": guardian.phone,
            "email": guardian.email, "student_ids": list(guardian.student_ids),
        })

    individual = next(p for p in people.pupils if p.individual_plan)
    n = 0
    for plan in CLASSES:
        n += 1
        add("assignment", f"a-{n}", {
            "class_id": plan.id, "subject_id": None, "teacher_id": plan.class_teacher,
            "role": "class_teacher", "group": None, "student_id": None,
        })
        for subject, _ in plan.hours:
            for teacher, group in _units_teachers(plan.id, subject):
                n += 1
                add("assignment", f"a-{n}", {
                    "class_id": plan.id, "subject_id": subject, "teacher_id": teacher,
                    "role": "subject_teacher", "group": group, "student_id": None,
                })
    n += 1
    add("assignment", f"a-{n}", {
        "class_id": _INDIVIDUAL_CLASS, "subject_id": _INDIVIDUAL_SUBJECT,
        "teacher_id": _INDIVIDUAL_TEACHER, "role": "subject_teacher", "group": None,
        "student_id": individual.id,
    })

    n = 0
    for plan in CLASSES:
        for period in cal.periods_for(plan.grade):
            for subject, hours in plan.hours:
                n += 1
                add("curriculum", f"cu-{n}", {
                    "class_id": plan.id, "subject_id": subject, "period_id": period.id,
                    "planned_lessons": hours * period.weeks,
                })

    # -- the current quarter: assessments, lessons, homework, marks
    quarter = cal.quarters[cal.current_quarter]
    week_monday = _timetable_week(cal, today)
    range_end = min(quarter.ends_on, week_monday + timedelta(days=4))
    dates = []
    day = quarter.starts_on
    while day <= range_end:
        if cal.is_school_day(day):
            dates.append(day)
        day += timedelta(days=1)
    quarter_days = []
    day = quarter.starts_on
    while day <= quarter.ends_on:
        if cal.is_school_day(day):
            quarter_days.append(day)
        day += timedelta(days=1)

    assessments = _assessments(seed, cal, quarter, quarter_days, template)
    assessed_slots = {(a["class_id"], a["date"], a["lesson_number"]): a for a in assessments}

    drafts: list[dict] = []
    for day in dates:
        for plan in CLASSES:
            for (weekday, number), subject in sorted(template[plan.id].items()):
                if weekday != day.weekday():
                    continue
                for teacher, group in _units_teachers(plan.id, subject):
                    drafts.append({
                        "class_id": plan.id, "subject_id": subject, "teacher_id": teacher,
                        "date": day, "number": number, "group": group, "status": "planned",
                        "substitute_teacher_id": None, "moved_from": None,
                        "protected": (plan.id, _d(day), number) in assessed_slots,
                    })
    weeks: dict[date, list[dict]] = {}
    for lesson in drafts:
        weeks.setdefault(_monday(lesson["date"]), []).append(lesson)
    for monday, week_lessons in sorted(weeks.items()):
        _modify_week(random.Random(f"week:{seed}:{monday}"), week_lessons)

    drafts.sort(key=lambda l: (l["date"], l["class_id"] != "c-2a", l["class_id"], l["number"],
                               l["group"] or ""))
    counters: dict[tuple, int] = {}
    lessons: list[tuple[str, dict, dict]] = []  # id, data, draft
    hours_of = {(plan.id, s): h for plan in CLASSES for s, h in plan.hours}
    for i, draft in enumerate(drafts, start=1):
        plan = _CLASS_BY_ID[draft["class_id"]]
        subject = draft["subject_id"]
        key = (plan.id, subject, draft["group"])
        k = counters.get(key, 0)
        counters[key] = k + 1
        topics = _topics(subject, plan.grade)
        topic = topics[(cal.current_quarter * 3 + k // 2) % len(topics)]
        if k % 2 == 1 and hours_of[(plan.id, subject)] >= 2:
            topic = f"{topic}. Закрепление"
        kind = "regular"
        slot = (plan.id, _d(draft["date"]), draft["number"])
        assessment = assessed_slots.get(slot) if draft["moved_from"] is None else None
        if assessment is not None:
            kind = "other" if assessment["kind"] == "other" else "test"
            topic = assessment["title"]
        elif subject in _LAB_SUBJECTS and plan.grade >= 7 and k % 4 == 3:
            kind = "lab"
            topic = f"Лабораторная работа № {k // 4 + 1}. {topic}"
        elif subject == "sub-world" and k == 7:
            kind = "excursion"
            topic = "Экскурсия в природный парк «Былина»"
        starts_at, ends_at = slot_times(draft["number"])
        status = draft["status"]
        if status != "cancelled":
            if draft["date"] < today or (
                draft["date"] == today and time.fromisoformat(ends_at) <= as_of
            ):
                status = "held"
            else:
                status = "planned"
        room = _SUBJECT_ROOMS.get(subject) or TEACHERS[draft["teacher_id"]][1]
        if plan.grade <= 4 and draft["teacher_id"] == "t-1":
            room = plan.room
        data = {
            "class_id": plan.id, "subject_id": subject, "teacher_id": draft["teacher_id"],
            "date": _d(draft["date"]), "number": draft["number"], "starts_at": starts_at,
            "ends_at": ends_at, "room": room, "topic": None if status == "cancelled" else topic,
            "kind": kind, "status": status, "group": draft["group"],
            "substitute_teacher_id": draft["substitute_teacher_id"],
            "moved_from": draft["moved_from"],
        }
        lessons.append((f"l-{i}", data, draft))
    for lid, data, _ in lessons:
        add("lesson", lid, data)

    for i, a in enumerate(assessments, start=1):
        add("assessment", f"as-{i}", a)

    # homework for every lesson that is not cancelled
    n = 0
    for lid, data, draft in lessons:
        if data["status"] == "cancelled":
            continue
        plan = _CLASS_BY_ID[data["class_id"]]
        rng = random.Random(f"hw:{seed}:{lid}:{data['date']}:{data['number']}")
        if plan.grade <= 4 and data["subject_id"] not in (
            "sub-rus", "sub-math", "sub-read", "sub-world", "sub-eng"
        ):
            continue
        text = _homework_text(rng, data["subject_id"], plan.grade, data["topic"])
        if text is None or (data["kind"] == "test" and rng.random() < 0.7):
            continue
        due = _next_lesson_day(cal, template, plan.id, data["subject_id"], draft["date"])
        if due is None:
            continue
        n += 1
        hid = f"hw-{n}"
        attachments = []
        if rng.random() < 0.25:
            name, slug = rng.choice([
                ("Карточка.pdf", "card.pdf"), ("Рабочий лист.pdf", "worksheet.pdf"),
                ("Презентация к уроку.pptx", "slides.pptx"), ("Образец оформления.jpg", "sample.jpg"),
            ])
            if data["subject_id"] == "sub-eng" and rng.random() < 0.5:
                name, slug = "Аудио к упражнению.mp3", "audio.mp3"
            attachments.append({"name": name, "url": f"https://example.org/ediary/demo/{hid}/{slug}"})
        add("homework", hid, {
            "class_id": plan.id, "subject_id": data["subject_id"], "lesson_id": lid,
            "assigned_on": data["date"], "due_on": _d(due), "text": text,
            "attachments": attachments,
        })

    marks = _marks(seed, cal, today, as_of, people, lessons, assessed_slots, individual, quarter_days)
    for i, mark in enumerate(marks, start=1):
        add("mark", f"m-{i}", mark)

    for i, grade in enumerate(_final_grades(seed, cal, today, people, tz), start=1):
        add("final_grade", f"fg-{i}", grade)

    for hid, name, start, end in cal.holidays:
        add("holiday", hid, {
            "school_id": SCHOOL_ID, "name": name, "starts_on": _d(start), "ends_on": _d(end),
            "class_ids": None,
        })

    for i, rec in enumerate(_recommendations(seed, cal, today, people, quarter_days), start=1):
        add("recommendation", f"rec-{i}", rec)
    return out


def _assessments(seed, cal, quarter, quarter_days, template) -> list[dict]:
    rng = random.Random(f"assess:{seed}:{cal.year}:{quarter.index}")
    result = []
    for plan in CLASSES:
        taken: set[date] = set()
        for subject, _ in plan.hours:
            if subject not in _ASSESSED:
                continue
            count, kind = _ASSESSED[subject]
            days = sorted({
                d for d in quarter_days
                if any(wd == d.weekday() for (wd, _), s in template[plan.id].items() if s == subject)
            })
            if not days:
                continue
            if count == 2:
                plans = [(kind, (0.35, 0.5)), (kind, (0.8, 0.95))]
            else:
                plans = [(kind, (0.6, 0.92))]
            if quarter.index == 3 and plan.grade in (5, 7) and subject in ("sub-rus", "sub-math", "sub-alg"):
                plans.append(("vpr", (0.3, 0.45)))
            for number, (akind, (lo, hi)) in enumerate(plans, start=1):
                free = [d for d in days[int(lo * len(days)):max(int(hi * len(days)), int(lo * len(days)) + 1)]
                        if d not in taken] or [d for d in days if d not in taken] or days
                day = rng.choice(free)
                taken.add(day)
                numbers = sorted(num for (wd, num), s in template[plan.id].items()
                                 if s == subject and wd == day.weekday())
                topics = _topics(subject, plan.grade)
                topic = topics[(quarter.index * 3 + rng.randrange(len(topics))) % len(topics)]
                title = _assessment_title(subject, akind, number, topic)
                result.append({
                    "class_id": plan.id, "subject_id": subject, "date": _d(day),
                    "lesson_number": numbers[0], "title": title, "kind": akind,
                })
    result.sort(key=lambda a: (a["date"], a["class_id"], a["lesson_number"]))
    return result


def _next_lesson_day(cal, template, class_id, subject, after: date) -> date | None:
    weekdays = {wd for (wd, _), s in template[class_id].items() if s == subject}
    day = after
    for _ in range(120):
        day += timedelta(days=1)
        if day.weekday() in weekdays and cal.is_school_day(day):
            return day
    return None


_HUMANITIES = ("t-2", "t-6", "t-4", "t-5", "t-11")
_SCIENCES = ("t-13", "t-3", "t-9", "t-7", "t-8")


def _substitutes(subject: str) -> list[str]:
    """Teachers to ask for a substitution, the closest to the subject first."""
    same = [t for t in TEACHERS if subject in _TEACHER_SUBJECTS.get(t, ())]
    near = _SCIENCES if subject in (
        "sub-math", "sub-alg", "sub-geom", "sub-prob", "sub-inf", "sub-phys", "sub-chem",
        "sub-bio", "sub-geo", "sub-world",
    ) else _HUMANITIES
    ordered = same + [t for t in near if t not in same]
    return ordered + [t for t in TEACHERS if t not in ordered]


def _max_lessons(lesson: dict) -> int:
    return 5 if _CLASS_BY_ID[lesson["class_id"]].grade <= 4 else 7


def _modify_week(rng: random.Random, week: list[dict]) -> None:
    """A substitution (a teacher ill for a day), a cancellation and a rescheduled lesson."""
    busy = {(l["teacher_id"], l["date"], l["number"]) for l in week}
    counts: dict[tuple[str, date], int] = {}
    for l in week:
        key = (l["class_id"], l["date"])
        counts[key] = max(counts.get(key, 0), l["number"])
    days = sorted({l["date"] for l in week})

    # 1. A teacher is ill for a day: every lesson they have that day gets a substitute.
    per_teacher_day: dict[tuple[str, date], list[dict]] = {}
    for l in week:
        if l["group"] is None and not l["protected"]:
            per_teacher_day.setdefault((l["teacher_id"], l["date"]), []).append(l)
    options = sorted(k for k, v in per_teacher_day.items() if len(v) >= 2)
    if options:
        teacher, day = rng.choice(options)
        for lesson in per_teacher_day[(teacher, day)]:
            for sub in _substitutes(lesson["subject_id"]):
                if sub != teacher and (sub, day, lesson["number"]) not in busy:
                    lesson["substitute_teacher_id"] = sub
                    busy.add((sub, day, lesson["number"]))
                    break

    def plain(l: dict) -> bool:
        return (l["group"] is None and not l["protected"] and l["status"] == "planned"
                and l["substitute_teacher_id"] is None and l["moved_from"] is None)

    # 2. One lesson is cancelled (a teacher away on a course, a lighter subject first).
    light = ("sub-music", "sub-art", "sub-tech", "sub-odnknr", "sub-obzr", "sub-proj", "sub-geo")
    pool = [l for l in week if plain(l) and l["subject_id"] in light] or [l for l in week if plain(l)]
    if pool:
        rng.choice(pool)["status"] = "cancelled"

    # 3. One lesson, the last of its day, moves to after the last lesson of another day.
    moves = []
    for l in week:
        if not plain(l) or l["number"] != counts[(l["class_id"], l["date"])]:
            continue
        for target in days:
            new_number = counts.get((l["class_id"], target), 0) + 1
            if target == l["date"] or new_number > _max_lessons(l) or new_number == 1:
                continue
            if (l["teacher_id"], target, new_number) in busy:
                continue
            moves.append((l, target, new_number))
    if not moves:  # a one-day week: move within the day
        for l in week:
            if plain(l) and l["number"] == counts[(l["class_id"], l["date"])]:
                new_number = l["number"] + 1
                if new_number <= _max_lessons(l) and (l["teacher_id"], l["date"], new_number) not in busy:
                    moves.append((l, l["date"], new_number))
    if moves:
        lesson, target, new_number = rng.choice(moves)
        busy.discard((lesson["teacher_id"], lesson["date"], lesson["number"]))
        lesson["moved_from"] = {"date": _d(lesson["date"]), "number": lesson["number"]}
        counts[(lesson["class_id"], lesson["date"])] -= 1
        lesson["date"], lesson["number"] = target, new_number
        counts[(lesson["class_id"], target)] = new_number
        busy.add((lesson["teacher_id"], target, new_number))


def _marks(seed, cal, today, as_of, people, lessons, assessed_slots, individual, quarter_days):
    pupils_by_class: dict[str, list[_Pupil]] = {}
    for pupil in people.pupils:
        pupils_by_class.setdefault(pupil.class_id, []).append(pupil)
    hours_of = {(plan.id, s): h for plan in CLASSES for s, h in plan.hours}
    marks: list[tuple[tuple, dict]] = []
    for order, (lid, data, _draft) in enumerate(lessons):
        if data["status"] != "held":
            continue
        plan = _CLASS_BY_ID[data["class_id"]]
        subject = data["subject_id"]
        rng = random.Random(f"marks:{seed}:{data['class_id']}:{data['date']}:{data['number']}:{data['group']}")
        teacher = data["substitute_teacher_id"] or data["teacher_id"]
        assessment = assessed_slots.get((plan.id, data["date"], data["number"]))
        if data["kind"] not in ("test", "other"):
            assessment = None
        for pupil in pupils_by_class[plan.id]:
            if data["group"] is not None and data["group"] not in pupil.groups:
                continue
            if subject == "sub-pe" and pupil.pe_exempt:
                continue
            if pupil.individual_plan and subject == _INDIVIDUAL_SUBJECT:
                continue
            comment = None
            if assessment is not None:
                if rng.random() >= 0.9:
                    continue  # absent
                kind = {"control": "control", "vpr": "control", "test": "test"}.get(
                    assessment["kind"], "other")
                weight = 2 if kind in ("control", "test") else 1
            elif data["kind"] == "lab":
                if rng.random() >= 0.5:
                    continue
                kind, weight, comment = "other", 1, "Лабораторная работа"
            else:
                p = 0.3 if subject == "sub-proj" else min(0.6, 1.25 / hours_of[(plan.id, subject)])
                if rng.random() >= p:
                    continue
                kind = rng.choices(("answer", "homework", "test"), weights=(68, 26, 6))[0]
                weight = 2 if kind == "test" else 1
            if subject == "sub-proj":
                value = "зач" if rng.random() < 0.95 else "незач"
                kind, weight = "other", 1
            else:
                value = _pick_value(rng, pupil.ability, plan.grade)
                if comment is None and value in _MARK_COMMENTS and kind in ("answer", "homework"):
                    comment = rng.choice(_MARK_COMMENTS[value])
                    if value == "2" and kind == "answer" and comment == "Не выполнено домашнее задание":
                        kind = "homework"
            marks.append(((data["date"], order, int(pupil.id[2:])), {
                "student_id": pupil.id, "subject_id": subject, "date": data["date"],
                "value": value, "weight": weight, "kind": kind, "teacher_id": teacher,
                "lesson_id": lid, "comment": comment,
            }))
    # The pupil on an individual plan studies algebra with another teacher, on Thursdays.
    rng = random.Random(f"individual:{seed}:{cal.year}:{cal.current_quarter}")
    for day in quarter_days:
        if day.weekday() != 3 or day > today or (day == today and as_of < time(15, 0)):
            continue
        marks.append(((_d(day), len(lessons), int(individual.id[2:])), {
            "student_id": individual.id, "subject_id": _INDIVIDUAL_SUBJECT, "date": _d(day),
            "value": _pick_value(rng, individual.ability, 7), "weight": 1,
            "kind": rng.choice(("answer", "homework")), "teacher_id": _INDIVIDUAL_TEACHER,
            "lesson_id": None, "comment": "Индивидуальное занятие",
        }))
    marks.sort(key=lambda item: item[0])
    return [mark for _, mark in marks]


def _final_grades(seed, cal, today, people, tz) -> list[dict]:
    zone = ZoneInfo(tz)
    finished_quarters = [q for q in cal.quarters if q.ends_on < today]
    latest = finished_quarters[-1] if finished_quarters else None
    special: dict[tuple[str, str], str] = {}
    if latest is not None:
        rng = random.Random(f"special:{seed}:{latest.id}")
        candidates = [p for p in people.pupils if p.class_id in ("c-5b", "c-7a")
                      and not p.individual_plan and not p.pe_exempt]
        deferred, not_attested = rng.sample(candidates, 2)
        special[(deferred.id, "sub-rus")] = "deferred"
        plan = _CLASS_BY_ID[not_attested.class_id]
        minor = [s for s, h in plan.hours if h == 1 and s not in ("sub-music", "sub-art")]
        special[(not_attested.id, rng.choice(minor))] = "н/а"
    out = []
    for plan in CLASSES:
        periods = [p for p in cal.periods_for(plan.grade) if p.ends_on < today]
        for period in periods:
            set_at = datetime.combine(period.ends_on, time(15, 0), tzinfo=zone)
            is_latest = latest is not None and period.id == latest.id
            for pupil in (p for p in people.pupils if p.class_id == plan.id):
                for subject, _ in plan.hours:
                    rng = random.Random(f"final:{seed}:{period.id}:{pupil.id}:{subject}")
                    grade = {
                        "student_id": pupil.id, "subject_id": subject, "period_id": period.id,
                        "kind": "year" if period.kind == "year" else "period", "title": None,
                        "value": _final_value(rng, pupil.ability), "status": "final",
                        "deferred_until": None, "set_at": set_at.isoformat(timespec="seconds"),
                    }
                    if subject == "sub-proj":
                        grade["value"] = "зач"
                    if subject == "sub-pe" and pupil.pe_exempt:
                        grade["value"] = "осв"
                    mark = special.get((pupil.id, subject)) if is_latest else None
                    if mark == "deferred":
                        until = max(period.ends_on + timedelta(days=21), today + timedelta(days=7))
                        grade.update(value=None, status="deferred", deferred_until=_d(until))
                    elif mark == "н/а":
                        grade["value"] = "н/а"
                    out.append(grade)
    return out


def _recommendations(seed, cal, today, people, quarter_days) -> list[dict]:
    past = [d for d in quarter_days if d <= today]
    if not past:
        return []
    rng = random.Random(f"rec:{seed}:{cal.year}:{cal.current_quarter}")
    out = []
    weak = [p for p in people.pupils if p.ability >= 2]
    for pupil in rng.sample(weak, min(6, len(weak))):
        plan = _CLASS_BY_ID[pupil.class_id]
        subjects = [s for s, _ in plan.hours if s in _RECOMMENDATIONS]
        subject = rng.choice(subjects)
        teacher = _units_teachers(plan.id, subject)[0][0]
        if subject in _SPLIT_TEACHERS:
            teacher = next(t for t, g in _SPLIT_TEACHERS[subject] if g in pupil.groups)
        day = rng.choice(past)
        out.append((day, {"student_id": pupil.id, "subject_id": subject, "teacher_id": teacher,
                          "date": _d(day), "text": _RECOMMENDATIONS[subject]}))
    absent = rng.choice([p for p in people.pupils if p.ability == 3] or people.pupils)
    strong = rng.choice([p for p in people.pupils if p.ability == 0] or people.pupils)
    for pupil, text in ((absent, _RECOMMENDATIONS[None]), (strong, _PRAISE)):
        day = rng.choice(past)
        out.append((day, {"student_id": pupil.id, "subject_id": None,
                          "teacher_id": _CLASS_BY_ID[pupil.class_id].class_teacher,
                          "date": _d(day), "text": text}))
    out.sort(key=lambda item: (item[0], item[1]["student_id"]))
    return [rec for _, rec in out]


# ---------------------------------------------------------------------------- history times


def occurred_times(
    records: list[tuple[str, str, dict]], *, now: datetime, tz: str = DEFAULT_TZ
) -> list[datetime]:
    """Plausible ``occurred_at`` for each generated record, never later than ``now``.

    Structure is set up a week before the school year; a held lesson, its homework and its
    marks at the lesson's end; the timetable of a week on the Friday before; a change of a
    lesson (substitution, cancellation, move) on the morning of its day; final grades at
    ``set_at``; recommendations in the afternoon of their date.
    """
    zone = ZoneInfo(tz)
    if now.tzinfo is None:
        now = now.replace(tzinfo=zone)
    lessons = {rid: data for entity, rid, data in records if entity == "lesson"}
    year_start = None
    for entity, _, data in records:
        if entity == "period" and data.get("kind") == "year":
            year_start = date.fromisoformat(data["starts_on"])
            break
    setup = datetime.combine((year_start or now.date()) - timedelta(days=7), time(10, 0), zone)

    def at(day: str, clock: str) -> datetime:
        return datetime.combine(date.fromisoformat(day), time.fromisoformat(clock), zone)

    result = []
    for entity, _, data in records:
        moment = setup
        if entity == "lesson":
            day = date.fromisoformat(data["date"])
            published = datetime.combine(_monday(day) - timedelta(days=3), time(15, 0), zone)
            if data["status"] == "held":
                moment = at(data["date"], data["ends_at"])
            elif data["status"] == "cancelled" or data.get("substitute_teacher_id") or data.get("moved_from"):
                moment = max(published, at(data["date"], "07:30") - timedelta(days=1))
            else:
                moment = published
            moment = max(moment, setup)
        elif entity == "assessment":
            moment = max(setup, at(data["date"], "12:00") - timedelta(days=21))
        elif entity in ("homework", "mark"):
            lesson = lessons.get(data.get("lesson_id") or "")
            day = data["assigned_on"] if entity == "homework" else data["date"]
            moment = at(day, lesson["ends_at"] if lesson else "15:30")
        elif entity == "final_grade":
            moment = datetime.fromisoformat(data["set_at"])
        elif entity == "recommendation":
            moment = at(data["date"], "16:10")
        result.append(min(moment, now))
    return result
