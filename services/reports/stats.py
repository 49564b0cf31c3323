"""Results statistics of one class in one subject for a period, from the pupils' period marks.

Pure arithmetic, the usual rules of Russian school reporting (DOMAIN.md):

- N = pupils − exempt (``осв``) − pupils without a mark (none yet, or deferred);
- успеваемость = (n5 + n4 + n3 + n_зач) / N — everyone who passed;
- качество = (n5 + n4) / N;
- СОУ (степень обученности) = (100·n5 + 64·n4 + 36·n3 + 16·n2 + 7·n_н/а) / N, in per cent;
- the average mark is the mean of the numeric marks 1..5 (``н/а`` is no number).

``н/а`` (not attested) counts in N as a failure. A rare ``1`` is a failure weighed like a 2 in
СОУ. ``зач``/``незач`` are pass/fail: ``зач`` counts as passed, ``незач`` as failed; for a
pass/fail subject (no numeric mark at all) качество, СОУ and the average are not defined.
Percentages are returned unrounded (0..100); None when N is 0.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

SOU_WEIGHTS = {"5": 100, "4": 64, "3": 36, "2": 16, "1": 16, "н/а": 7}
NUMERIC = ("5", "4", "3", "2", "1")
EXEMPT, NOT_ATTESTED, PASS, FAIL = "осв", "н/а", "зач", "незач"


@dataclass(frozen=True)
class ResultStats:
    pupils: int  # pupils of the class counted
    exempt: int  # осв
    without_mark: int  # no mark yet, or deferred
    n: int  # N = pupils - exempt - without_mark
    n5: int
    n4: int
    n3: int
    n2: int
    n1: int
    not_attested: int  # н/а
    passed: int  # зач
    failed: int  # незач
    average: float | None
    success: float | None  # успеваемость, %
    quality: float | None  # качество, %
    sou: float | None  # СОУ, %

    @property
    def distribution(self) -> dict[str, int]:
        """Mark → number of pupils, in the order a report shows them."""
        return {"5": self.n5, "4": self.n4, "3": self.n3, "2": self.n2, "1": self.n1, "н/а": self.not_attested,
                "зач": self.passed, "незач": self.failed}


def normalize_mark(value: str | None) -> str | None:
    """A period mark as the statistics read it: "5", "н/а", "осв", "зач", …; None if none."""
    if value is None:
        return None
    text = value.strip().lower().replace(" ", "")
    if text in ("", "-", "—"):
        return None
    if text in ("на", "н/а", "н.а."):
        return NOT_ATTESTED
    if text in ("осв", "осв."):
        return EXEMPT
    if text in ("зач", "зач.", "зачёт", "зачет"):
        return PASS
    if text in ("незач", "незач.", "незачёт", "незачет"):
        return FAIL
    return text


def result_stats(marks: Iterable[str | None]) -> ResultStats:
    """Statistics of one subject from each pupil's period mark (None: no mark / deferred).

    An unknown mark (e.g. an exam score) counts as "without a mark" rather than skewing N."""
    counts = {key: 0 for key in (*NUMERIC, NOT_ATTESTED, EXEMPT, PASS, FAIL)}
    pupils = without = 0
    for raw in marks:
        pupils += 1
        mark = normalize_mark(raw)
        if mark in counts:
            counts[mark] += 1
        else:
            without += 1
    exempt = counts[EXEMPT]
    n = pupils - exempt - without
    numeric = sum(counts[m] for m in NUMERIC)
    average = round(sum(int(m) * counts[m] for m in NUMERIC) / numeric, 2) if numeric else None
    success = quality = sou = None
    if n > 0:
        success = 100.0 * (counts["5"] + counts["4"] + counts["3"] + counts[PASS]) / n
        if numeric:
            quality = 100.0 * (counts["5"] + counts["4"]) / n
            sou = sum(weight * counts[m] for m, weight in SOU_WEIGHTS.items()) / n
    return ResultStats(
        pupils=pupils, exempt=exempt, without_mark=without, n=n,
        n5=counts["5"], n4=counts["4"], n3=counts["3"], n2=counts["2"], n1=counts["1"],
        not_attested=counts[NOT_ATTESTED], passed=counts[PASS], failed=counts[FAIL],
        average=average, success=success, quality=quality, sou=sou,
    )


def percent(value: float | None, digits: int = 1) -> str:
    """«83,3» for a report cell; «—» when undefined."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}".replace(".", ",")
