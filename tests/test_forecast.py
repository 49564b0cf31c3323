"""The forecast engine (services/forecast.py): hand-computed cases and properties."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.forecast import (
    DEFAULT_RULE,
    EXEMPTED,
    FAILING,
    GRADED,
    MAX_HINT,
    NEAR_FAIL,
    NO_MARKS,
    PASS_FAIL,
    TOO_FEW_MARKS,
    ForecastRule,
    Hint,
    MarkInput,
    RuleError,
    apply_rule_args,
    forecast_subject,
    what_it_takes,
)


def marks(*values: str | tuple) -> list[MarkInput]:
    """"5" → a mark of weight 1; ("5", 2) → weight 2; ("5", 1, "control") → with a kind."""
    out = []
    for v in values:
        if isinstance(v, tuple):
            out.append(MarkInput(v[0], v[1], v[2] if len(v) > 2 else "answer"))
        else:
            out.append(MarkInput(v))
    return out


# --------------------------------------------------------------------------- hand-computed cases


def test_weighted_average_and_forecast():
    # S = 5 + 4 + 5·2 = 19, W = 4 → 4.75 → 5; one 2 makes (19 + 2)/5 = 4.2 → 4
    f = forecast_subject(marks("5", "4", ("5", 2)))
    assert (f.status, f.average, f.mark, f.count) == (GRADED, 4.75, "5", 3)
    assert f.up is None
    assert f.down == Hint(mark=2, weight=1.0, count=1, result=4)
    assert f.risks == ()


def test_two_more_fives_make_a_five():
    # 17/4 = 4.25 → 4; one 5: 22/5 = 4.4 (still 4); two: 27/6 = 4.5 → 5
    f = forecast_subject(marks("4", "4", "5", "4"))
    assert (f.average, f.mark) == (4.25, "4")
    assert f.up == Hint(mark=5, weight=1.0, count=2, result=5)
    # down: (17 + 2k)/(4 + k) < 3.5 ⟺ k > 2 → three twos: 23/7 = 3.29 → 3
    assert f.down == Hint(mark=2, weight=1.0, count=3, result=3)


def test_one_two_makes_a_three():
    # 11/3 = 3.67 → 4; one 2: 13/4 = 3.25 → 3
    f = forecast_subject(marks("4", "4", "3"))
    assert (f.average, f.mark) == (3.67, "4")
    assert f.down == Hint(mark=2, weight=1.0, count=1, result=3)
    # up: (11 + 5k)/(3 + k) ≥ 4.5 ⟺ k ≥ 5
    assert f.up == Hint(mark=5, weight=1.0, count=5, result=5)


def test_near_fail_and_failing():
    near = forecast_subject(marks("3", "2", "3"))  # 8/3 = 2.67 → 3; one 2: 10/4 = 2.5 → still 3
    assert near.mark == "3" and NEAR_FAIL not in near.risks
    assert near.down == Hint(mark=2, weight=1.0, count=2, result=2)
    edge = forecast_subject(marks("3", "2", "3", "2"))  # 10/4 = 2.5 → 3; one 2: 12/5 = 2.4 → 2
    assert edge.mark == "3" and edge.risks == (NEAR_FAIL,)
    # up: (10 + 5k)/(4 + k) ≥ 3.5 ⟺ k ≥ 2.67 → three fives: 25/7 = 3.57 → 4
    assert edge.up == Hint(mark=5, weight=1.0, count=3, result=4)
    failing = forecast_subject(marks("2", "2", "3"))  # 7/3 = 2.33 → 2
    assert failing.mark == "2" and failing.risks == (FAILING,)
    assert failing.down is None
    # (7 + 5k)/(3 + k) ≥ 2.5 ⟺ k ≥ 0.2 → one five: 12/4 = 3
    assert failing.up == Hint(mark=5, weight=1.0, count=1, result=3)


def test_one_five_may_jump_two_steps():
    f = forecast_subject(marks("2"), ForecastRule(min_marks=0))  # 2 → one 5: 3.5 → 4
    assert f.up == Hint(mark=5, weight=1.0, count=1, result=4)


def test_weights_from_the_journal_and_overridden_by_kind():
    graded = marks(("5", 1, "answer"), ("2", 1, "control"), ("4", 1, "answer"))
    # journal weights: 11/3 = 3.67 → 4
    assert forecast_subject(graded).mark == "4"
    # control works weigh 2: (5 + 4 + 4)/4 = 3.25 → 3
    rule = ForecastRule(kind_weights=(("control", 2.0),))
    f = forecast_subject(graded, rule)
    assert (f.average, f.mark) == (3.25, "3")
    # journal weight 3 on a control work is overridden by the rule's 2
    assert forecast_subject(marks(("5", 1), ("2", 3, "control")), rule).average == 3.0


def test_other_thresholds():
    two = marks("5", "4", "5", "4")  # 4.5
    assert forecast_subject(two).mark == "5"
    strict = ForecastRule(thresholds=(4.6, 3.6, 2.6))
    f = forecast_subject(two, strict)
    assert f.mark == "4"
    # (18 + 5k)/(4 + k) ≥ 4.6 ⟺ 0.4k ≥ 0.4 → one five: 23/5 = 4.6 → 5
    assert f.up == Hint(mark=5, weight=1.0, count=1, result=5)
    assert forecast_subject(marks("5", "4", "5", "4", "5"), strict).mark == "5"  # 4.6 exactly


def test_rounding_of_the_average_before_the_thresholds():
    # 5·0.99 + 4·1.01 = 8.99 over 2 → 4.495: rounded to 2 places 4.50 → 5; unrounded → 4
    m = marks(("5", 0.99), ("4", 1.01), ("5", 0), )
    assert forecast_subject(m, ForecastRule(min_marks=0)).mark == "5"
    assert forecast_subject(m, ForecastRule(min_marks=0, rounding=None)).mark == "4"
    assert forecast_subject(m, ForecastRule(min_marks=0, rounding=1)).mark == "5"  # 4.5
    # a weight-0 mark counts for nothing
    assert forecast_subject(m, ForecastRule(min_marks=0)).count == 2


def test_exempt_pass_fail_and_no_marks():
    assert forecast_subject(marks("осв", "осв")).status == EXEMPTED
    assert forecast_subject(marks("осв")).mark == "осв"
    assert forecast_subject(marks("осв")).risks == ()
    # осв among numeric marks is left out of the average and of the count
    mixed = forecast_subject(marks("осв", "5", "4", "5"))
    assert (mixed.status, mixed.average, mixed.count) == (GRADED, 4.67, 3)
    passed = forecast_subject(marks("зач", "незач", "зач"))
    assert (passed.status, passed.mark, passed.count, passed.risks) == (PASS_FAIL, "зач", 3, ())
    failed = forecast_subject(marks("незач", "незач", "зач"))
    assert (failed.mark, failed.risks) == ("незач", (FAILING,))
    tie = forecast_subject(marks("незач", "зач"))
    assert (tie.mark, tie.risks) == ("зач", (TOO_FEW_MARKS,))
    # numeric marks decide when both kinds are present
    assert forecast_subject(marks("незач", "5", "5", "5")).mark == "5"
    nothing = forecast_subject([])
    assert (nothing.status, nothing.mark, nothing.risks) == (NO_MARKS, None, (TOO_FEW_MARKS,))
    assert forecast_subject([], ForecastRule(min_marks=0)).risks == ()
    # н/а is not a mark for the average
    na = forecast_subject(marks("н/а", "4", "4", "4"))
    assert (na.average, na.count) == (4.0, 3)
    assert forecast_subject(marks("н/а")).status == NO_MARKS


def test_too_few_marks_flags_the_attestation_risk():
    few = forecast_subject(marks("5", "5"))
    assert few.mark == "5" and few.risks == (TOO_FEW_MARKS,)
    assert forecast_subject(marks("5", "5", "5")).risks == ()
    assert forecast_subject(marks("5", "5"), ForecastRule(min_marks=2)).risks == ()
    assert forecast_subject(marks("5", "5", "5"), ForecastRule(min_marks=4)).count == 3


def test_hint_limit():
    # twenty 4s: (80 + 5k)/(20 + k) ≥ 4.5 ⟺ k ≥ 20 — exactly the limit
    assert forecast_subject(marks(*["4"] * 20)).up == Hint(mark=5, weight=1.0, count=MAX_HINT, result=5)
    assert forecast_subject(marks(*["4"] * 21)).up is None  # would take 21


def test_what_it_takes_matches_the_closed_form():
    # smallest k with (S + m·w·k)/(W + w·k) ≥ T: k = ceil((T·W − S) / (w·(m − T)))
    S, W = Fraction(31), Fraction(8)  # 3.875 → 4
    k = what_it_takes(S, W, 5, Fraction(2), DEFAULT_RULE, target=5)
    # (4.5·8 − 31)/(2·0.5) = 5 → five fives of weight 2: (31 + 50)/18 = 4.5
    assert k == 5
    # down to 3 with twos of weight 1: (31 + 2k)/(8 + k) < 3.5 ⟺ k > 2 → 3
    assert what_it_takes(S, W, 2, Fraction(1), DEFAULT_RULE, target=3) == 3


# --------------------------------------------------------------------------- the rule


def test_rule_validation_and_round_trip():
    rule = ForecastRule(thresholds=(4.6, 3.6, 2.6), min_marks=4, kind_weights=(("control", 2.0),), rounding=None)
    assert ForecastRule.from_dict(rule.to_dict()) == rule
    assert ForecastRule.from_dict(None) == DEFAULT_RULE
    assert ForecastRule.from_dict({"min_marks": 5}).thresholds == (4.5, 3.5, 2.5)
    for bad in ({"thresholds": [3.5, 4.5, 2.5]}, {"thresholds": [6, 4, 3]}, {"thresholds": [4.5, 3.5]},
                {"min_marks": -1}, {"rounding": 7}, {"kind_weights": {"essay": 2}},
                {"kind_weights": {"control": 0}}, {"thresholds": ["x", 1, 2]}):
        with pytest.raises(RuleError):
            ForecastRule.from_dict(bad)


def test_apply_rule_args():
    rule = apply_rule_args(DEFAULT_RULE, ["thresholds=4.6/3.6/2.6", "min_marks=4", "control=2", "test=1,5",
                                          "rounding=none"])
    assert rule == ForecastRule(thresholds=(4.6, 3.6, 2.6), min_marks=4,
                                kind_weights=(("control", 2.0), ("test", 1.5)), rounding=None)
    assert apply_rule_args(rule, ["control=journal"]).kind_weights == (("test", 1.5),)
    assert apply_rule_args(rule, ["weights=journal"]).kind_weights == ()
    assert apply_rule_args(rule, ["reset"]) == DEFAULT_RULE
    assert apply_rule_args(DEFAULT_RULE, ["thresholds=4.65,3.65,2.65"]).thresholds == (4.65, 3.65, 2.65)
    for bad, code in ((["thresholds=1/2"], "bad_thresholds"), (["min_marks=x"], "bad_min_marks"),
                      (["colour=red"], "bad_setting"), (["control=heavy"], "bad_number"),
                      (["rounding=x"], "bad_rounding"), (["thresholds=3/4/2"], "bad_thresholds"),
                      (["oops"], "bad_setting")):
        with pytest.raises(RuleError) as info:
            apply_rule_args(DEFAULT_RULE, bad)
        assert info.value.code == code


# --------------------------------------------------------------------------- properties

values = st.sampled_from(["1", "2", "3", "4", "5", "5", "4", "3", "зач", "незач", "осв", "н/а"])
weights = st.sampled_from([0.5, 1, 1, 1, 1.5, 2, 3])
kinds = st.sampled_from(["answer", "test", "control", "homework", "other"])
mark_lists = st.lists(st.builds(MarkInput, values, weights, kinds), max_size=25)
numeric_lists = st.lists(st.builds(MarkInput, st.sampled_from(["1", "2", "3", "4", "5"]), weights, kinds),
                         min_size=1, max_size=25)
rules = st.builds(
    ForecastRule,
    thresholds=st.sampled_from([(4.5, 3.5, 2.5), (4.6, 3.6, 2.6), (4.65, 3.65, 2.65), (4.5, 3.6, 2.7)]),
    min_marks=st.integers(0, 5),
    kind_weights=st.sampled_from([(), (("control", 2.0),), (("control", 3.0), ("test", 1.5))]),
    rounding=st.sampled_from([None, 0, 1, 2]),
)


def _grade(f) -> int | None:
    return int(f.mark) if f.status == GRADED else None


@settings(max_examples=300, deadline=None, database=None)
@given(mark_lists, weights, kinds, rules)
def test_adding_a_five_never_lowers_the_forecast(ms, w, kind, rule):
    before = _grade(forecast_subject(ms, rule))
    after = _grade(forecast_subject(ms + [MarkInput("5", w, kind)], rule))
    assert after is not None
    if before is not None:
        assert after >= before


@settings(max_examples=300, deadline=None, database=None)
@given(mark_lists, weights, kinds, rules)
def test_adding_a_two_never_raises_the_forecast(ms, w, kind, rule):
    before = _grade(forecast_subject(ms, rule))
    after = _grade(forecast_subject(ms + [MarkInput("2", w, kind)], rule))
    assert after is not None
    if before is not None:
        assert after <= before


@settings(max_examples=300, deadline=None, database=None)
@given(numeric_lists, rules)
def test_hints_are_exact(ms, rule):
    """After `count` assumed marks the forecast has moved; after one fewer it has not."""
    f = forecast_subject(ms, rule)
    current = int(f.mark)
    for hint, moved in ((f.up, lambda m: m > current), (f.down, lambda m: m < current)):
        if hint is None:
            continue
        extra = [MarkInput(str(hint.mark), hint.weight, "answer")]
        assert int(forecast_subject(ms + extra * hint.count, rule).mark) == hint.result
        assert moved(hint.result)
        assert not moved(int(forecast_subject(ms + extra * (hint.count - 1), rule).mark))
    if current < 5 and f.up is None:  # no hint: even MAX_HINT fives would not do
        assert int(forecast_subject(ms + [MarkInput("5", 1, "answer")] * MAX_HINT, rule).mark) == current
    if current > 2 and f.down is None:
        assert int(forecast_subject(ms + [MarkInput("2", 1, "answer")] * MAX_HINT, rule).mark) == current


@settings(max_examples=200, deadline=None, database=None)
@given(numeric_lists, rules, st.randoms(use_true_random=False))
def test_order_does_not_matter_and_average_is_bounded(ms, rule, rnd):
    f = forecast_subject(ms, rule)
    shuffled = list(ms)
    rnd.shuffle(shuffled)
    assert forecast_subject(shuffled, rule) == f
    numeric = [int(m.value) for m in ms]
    assert min(numeric) - 0.005 <= f.average <= max(numeric) + 0.005
    assert f.count == len(ms)
    assert (TOO_FEW_MARKS in f.risks) == (len(ms) < rule.min_marks)


@settings(max_examples=100, deadline=None, database=None)
@given(st.integers(1, 20), weights, rules)
def test_uniform_marks_give_that_mark(n, w, rule):
    assert forecast_subject([MarkInput("5", w)] * n, rule).mark == "5"
    assert forecast_subject([MarkInput("2", w)] * n, rule).mark == "2"
    assert forecast_subject([MarkInput("1", w)] * n, rule).mark == "2"
    assert forecast_subject([MarkInput("осв", w)] * n, rule).status == EXEMPTED


@settings(max_examples=200, deadline=None, database=None)
@given(mark_lists)
def test_stricter_thresholds_never_raise_the_forecast(ms):
    loose = _grade(forecast_subject(ms, DEFAULT_RULE))
    strict = _grade(forecast_subject(ms, ForecastRule(thresholds=(4.6, 3.6, 2.6))))
    if loose is not None:
        assert strict <= loose
