"""The forecast engine: a pupil's marks in a period → average, forecast mark, "what it takes".

Pure functions, no I/O: the read models (services/results.py) feed it marks from storage and a
school's `ForecastRule`. Arithmetic is exact (fractions of the decimal weights), so a
threshold is reached exactly when the rule says so, never a float's hair below it.

The rule (docs/forecast.md):
- weighted average Σ(mark·weight)/Σ(weight) over the numeric marks "1".."5"; a weight comes
  from the journal unless the school overrides the weight of a mark kind (e.g. control = 2);
- the average is rounded half up to `rounding` decimals (None: not rounded), then compared
  with the thresholds (default 4.5 / 3.5 / 2.5): ≥ t5 → 5, ≥ t4 → 4, ≥ t3 → 3, else 2;
- fewer than `min_marks` marks in the period → risk "не аттестован";
- only "осв" marks → exempt (no forecast); only "зач"/"незач" marks → pass/fail: "зач" when
  passes are at least as many as fails; "н/а" and "осв" among numeric marks are left out;
- "what it takes": the smallest k of marks m with weight w such that
  (S + m·w·k)/(W + w·k) reaches the next threshold up (m = 5) or falls below the current one
  (m = 2); None when no such k ≤ MAX_HINT exists.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

NUMERIC = frozenset({"1", "2", "3", "4", "5"})
PASS, FAIL, EXEMPT, NOT_ATTESTED = "зач", "незач", "осв", "н/а"
MARK_KINDS = ("answer", "test", "control", "homework", "other")

#: Statuses of a subject's forecast.
GRADED, PASS_FAIL, EXEMPTED, NO_MARKS = "graded", "pass_fail", "exempt", "no_marks"
#: Risk flags.
TOO_FEW_MARKS = "too_few_marks"  # fewer marks than the rule's minimum: «не аттестован»
FAILING = "failing"  # the forecast is 2 (or «не зачтено»)
NEAR_FAIL = "near_fail"  # the forecast is 3 and one more 2 makes it 2

#: A hint needing more marks than this is no hint: None.
MAX_HINT = 20
#: The marks assumed by the hints, and the kind whose weight they carry.
UP_MARK, DOWN_MARK, HINT_KIND = 5, 2, "answer"


class RuleError(ValueError):
    """An invalid rule setting; `code` names it for the user-facing text (rule_err_<code>)."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


def _exact(value: Any) -> Fraction:
    """A number as an exact fraction of its decimal text (1.1 is 11/10, not a binary float)."""
    if isinstance(value, Fraction):
        return value
    try:
        return Fraction(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        raise RuleError("bad_number", str(value)[:32]) from None


@dataclass(frozen=True)
class ForecastRule:
    """A school's rule for the term mark. `kind_weights` overrides the journal's weight of a
    mark kind, e.g. (("control", 2.0),); empty = the journal's weights."""

    thresholds: tuple[float, float, float] = (4.5, 3.5, 2.5)
    min_marks: int = 3
    kind_weights: tuple[tuple[str, float], ...] = ()
    rounding: int | None = 2

    def __post_init__(self) -> None:
        t5, t4, t3 = self.thresholds
        if not (5 >= t5 > t4 > t3 > 1):
            raise RuleError("bad_thresholds", "need 5 ≥ t5 > t4 > t3 > 1")
        if isinstance(self.min_marks, bool) or not isinstance(self.min_marks, int) or not 0 <= self.min_marks <= 50:
            raise RuleError("bad_min_marks", "need 0..50")
        if self.rounding is not None and (
            isinstance(self.rounding, bool) or not isinstance(self.rounding, int) or not 0 <= self.rounding <= 3
        ):
            raise RuleError("bad_rounding", "need 0..3 or none")
        seen = set()
        for kind, weight in self.kind_weights:
            if kind not in MARK_KINDS or kind in seen:
                raise RuleError("bad_kind", str(kind)[:32])
            if not 0 < float(weight) <= 10:
                raise RuleError("bad_weight", "need 0 < weight ≤ 10")
            seen.add(kind)

    # ------------------------------------------------------------------ helpers

    def weight_for(self, kind: str | None, journal_weight: float | None) -> Fraction:
        for k, w in self.kind_weights:
            if k == kind:
                return _exact(w)
        return _exact(1 if journal_weight is None else journal_weight)

    def rounded(self, average: Fraction) -> Fraction:
        """The average as compared with the thresholds: rounded half up to `rounding` places."""
        if self.rounding is None:
            return average
        scale = 10**self.rounding
        numerator = average * scale + Fraction(1, 2)
        return Fraction(numerator.numerator // numerator.denominator, scale)

    def mark_of(self, average: Fraction) -> int:
        """The term mark an (unrounded) weighted average gives under this rule."""
        value = self.rounded(average)
        t5, t4, t3 = (_exact(t) for t in self.thresholds)
        if value >= t5:
            return 5
        if value >= t4:
            return 4
        if value >= t3:
            return 3
        return 2

    def threshold_of(self, mark: int) -> Fraction:
        """The lowest (rounded) average that still gives `mark` (3, 4 or 5)."""
        return _exact(self.thresholds[5 - mark])

    # ------------------------------------------------------------------ (de)serialisation

    def to_dict(self) -> dict[str, Any]:
        return {
            "thresholds": list(self.thresholds),
            "min_marks": self.min_marks,
            "kind_weights": {k: w for k, w in self.kind_weights},
            "rounding": self.rounding,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ForecastRule:
        """A rule from stored JSON; missing keys take the defaults. RuleError if invalid."""
        data = dict(data or {})
        default = cls()
        try:
            thresholds = tuple(float(x) for x in data.get("thresholds", default.thresholds))
            if len(thresholds) != 3:
                raise RuleError("bad_thresholds", "need three numbers")
            weights = data.get("kind_weights") or {}
            if not isinstance(weights, Mapping):
                raise RuleError("bad_kind", "kind_weights must be an object")
            rounding = data.get("rounding", default.rounding)
            return cls(
                thresholds=thresholds,  # type: ignore[arg-type]
                min_marks=int(data.get("min_marks", default.min_marks)),
                kind_weights=tuple(sorted((str(k), float(v)) for k, v in weights.items())),
                rounding=None if rounding is None else int(rounding),
            )
        except (TypeError, ValueError) as exc:
            if isinstance(exc, RuleError):
                raise
            raise RuleError("bad_value", type(exc).__name__) from None


DEFAULT_RULE = ForecastRule()


@dataclass(frozen=True)
class MarkInput:
    value: str
    weight: float | None = 1.0
    kind: str | None = "answer"


@dataclass(frozen=True)
class Hint:
    """`count` more marks `mark` (weight `weight`) and the forecast becomes `result`."""

    mark: int
    weight: float
    count: int
    result: int


@dataclass(frozen=True)
class SubjectForecast:
    status: str  # graded | pass_fail | exempt | no_marks
    average: float | None  # weighted average of numeric marks, rounded to 2 places for display
    mark: str | None  # "2".."5", "зач", "незач", "осв"; None without marks
    count: int  # marks counted toward the attestation minimum
    min_marks: int
    risks: tuple[str, ...] = ()
    up: Hint | None = None
    down: Hint | None = None

    @property
    def at_risk(self) -> bool:
        return bool(self.risks)


@dataclass(frozen=True)
class _Sums:
    total: Fraction = Fraction(0)
    weight: Fraction = Fraction(0)
    count: int = 0
    passes: int = 0
    fails: int = 0
    exempt: int = 0
    other: int = 0  # "н/а" and unknown values


def _sum(marks: Iterable[MarkInput], rule: ForecastRule) -> _Sums:
    total, weight = Fraction(0), Fraction(0)
    count = passes = fails = exempt = other = 0
    for m in marks:
        value = (m.value or "").strip()
        if value in NUMERIC:
            w = rule.weight_for(m.kind, m.weight)
            if w <= 0:
                other += 1
                continue
            total += int(value) * w
            weight += w
            count += 1
        elif value == PASS:
            passes += 1
        elif value == FAIL:
            fails += 1
        elif value == EXEMPT:
            exempt += 1
        else:
            other += 1
    return _Sums(total, weight, count, passes, fails, exempt, other)


def display_average(average: Fraction) -> float:
    """The average as shown to parents: rounded half up to 2 places."""
    scaled = average * 100 + Fraction(1, 2)
    return (scaled.numerator // scaled.denominator) / 100


def _smallest_k(reaches) -> int | None:
    """The smallest k in 1..MAX_HINT with reaches(k), for a predicate monotone in k."""
    if reaches(1):
        return 1
    if not reaches(MAX_HINT):
        return None
    lo, hi = 1, MAX_HINT  # reaches(lo) is false, reaches(hi) true
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if reaches(mid):
            hi = mid
        else:
            lo = mid
    return hi


def what_it_takes(total: Fraction, weight: Fraction, mark: int, mark_weight: Fraction,
                  rule: ForecastRule, *, target: int) -> int | None:
    """The smallest k of marks `mark` (weight `mark_weight`) after which the forecast is at least
    `target` (when `mark` is above the current average) or at most `target` (below it); None
    if no k ≤ MAX_HINT does it."""
    current = rule.mark_of(total / weight) if weight > 0 else None
    upward = current is None or target > current

    def reaches(k: int) -> bool:
        result = rule.mark_of((total + mark * mark_weight * k) / (weight + mark_weight * k))
        return result >= target if upward else result <= target

    return _smallest_k(reaches)


def _hint(sums: _Sums, rule: ForecastRule, mark: int, target: int) -> Hint | None:
    w = rule.weight_for(HINT_KIND, 1)
    k = what_it_takes(sums.total, sums.weight, mark, w, rule, target=target)
    if k is None:
        return None
    result = rule.mark_of((sums.total + mark * w * k) / (sums.weight + w * k))
    return Hint(mark=mark, weight=float(w), count=k, result=result)


def forecast_subject(marks: Iterable[MarkInput], rule: ForecastRule = DEFAULT_RULE) -> SubjectForecast:
    """The forecast of one subject from the pupil's marks of the period."""
    sums = _sum(marks, rule)
    if sums.count:
        average = sums.total / sums.weight
        mark = rule.mark_of(average)
        risks: list[str] = []
        if sums.count < rule.min_marks:
            risks.append(TOO_FEW_MARKS)
        up = _hint(sums, rule, UP_MARK, mark + 1) if mark < 5 else None
        down = _hint(sums, rule, DOWN_MARK, mark - 1) if mark > 2 else None
        if mark == 2:
            risks.append(FAILING)
        elif mark == 3 and down is not None and down.count == 1:
            risks.append(NEAR_FAIL)
        return SubjectForecast(
            status=GRADED, average=display_average(average), mark=str(mark), count=sums.count,
            min_marks=rule.min_marks, risks=tuple(risks), up=up, down=down,
        )
    if sums.passes or sums.fails:
        count = sums.passes + sums.fails
        passed = sums.passes >= sums.fails
        risks = [TOO_FEW_MARKS] if count < rule.min_marks else []
        if not passed:
            risks.append(FAILING)
        return SubjectForecast(status=PASS_FAIL, average=None, mark=PASS if passed else FAIL, count=count,
                               min_marks=rule.min_marks, risks=tuple(risks))
    if sums.exempt and not sums.other:
        return SubjectForecast(status=EXEMPTED, average=None, mark=EXEMPT, count=0, min_marks=rule.min_marks)
    return SubjectForecast(status=NO_MARKS, average=None, mark=None, count=0, min_marks=rule.min_marks,
                           risks=(TOO_FEW_MARKS,) if rule.min_marks > 0 else ())


# --------------------------------------------------------------------------- setting a rule


def _number(text: str) -> float:
    try:
        value = float(Decimal(text.strip().replace(",", ".")))
    except (InvalidOperation, ValueError):
        raise RuleError("bad_number", text[:32]) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise RuleError("bad_number", text[:32])
    return value


def apply_rule_args(base: ForecastRule, args: Iterable[str]) -> ForecastRule:
    """A new rule from `base` and "key=value" settings (an admin's command arguments):

    thresholds=4.6/3.6/2.6 · min_marks=3 · rounding=2|none · control=2 (a mark kind's weight;
    `control=journal` drops the override) · weights=journal (drop all overrides) · reset.
    RuleError (with a code) for anything else."""
    data = base.to_dict()
    weights: dict[str, float] = dict(data["kind_weights"])
    for raw in args:
        item = raw.strip()
        if not item:
            continue
        if item.lower() == "reset":
            data, weights = DEFAULT_RULE.to_dict(), {}
            continue
        if "=" not in item:
            raise RuleError("bad_setting", item[:32])
        key, value = (p.strip() for p in item.split("=", 1))
        key = key.lower()
        if key == "thresholds":
            parts = [p for p in value.replace(";", "/").replace("|", "/").split("/") if p.strip()]
            if len(parts) == 1 and parts[0].count(",") == 2:
                parts = parts[0].split(",")
            if len(parts) != 3:
                raise RuleError("bad_thresholds", "need three numbers")
            data["thresholds"] = [_number(p) for p in parts]
        elif key in ("min_marks", "min"):
            if not value.isdigit():
                raise RuleError("bad_min_marks", value[:16])
            data["min_marks"] = int(value)
        elif key == "rounding":
            if value.lower() in ("none", "no", "off", "нет"):
                data["rounding"] = None
            elif value.isdigit():
                data["rounding"] = int(value)
            else:
                raise RuleError("bad_rounding", value[:16])
        elif key == "weights":
            if value.lower() not in ("journal", "журнал"):
                raise RuleError("bad_setting", item[:32])
            weights = {}
        elif key in MARK_KINDS:
            if value.lower() in ("journal", "журнал"):
                weights.pop(key, None)
            else:
                weights[key] = _number(value)
        else:
            raise RuleError("bad_setting", key[:32])
    data["kind_weights"] = weights
    return ForecastRule.from_dict(data)
