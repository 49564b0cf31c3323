"""The results statistics arithmetic (services/reports/stats.py), with hand-computed cases."""
from __future__ import annotations

import itertools

import pytest

from services.reports.stats import normalize_mark, percent, result_stats


def test_the_usual_case_by_hand():
    # 8 pupils: 5 5 4 3 2 н/а, one exempt, one without a mark → N = 8 − 1 − 1 = 6
    s = result_stats(["5", "5", "4", "3", "2", "н/а", "осв", None])
    assert (s.pupils, s.exempt, s.without_mark, s.n) == (8, 1, 1, 6)
    assert (s.n5, s.n4, s.n3, s.n2, s.not_attested) == (2, 1, 1, 1, 1)
    assert s.average == 3.8  # (5+5+4+3+2)/5: н/а is no number
    assert s.success == pytest.approx(400 / 6)  # 4 of 6 passed: н/а is a failure
    assert s.quality == pytest.approx(50.0)  # 3 of 6
    assert s.sou == pytest.approx((2 * 100 + 64 + 36 + 16 + 7) / 6)  # 53.83
    assert percent(s.sou) == "53,8" and percent(s.success) == "66,7"


def test_all_good():
    s = result_stats(["5", "5", "4", "4"])
    assert (s.n, s.average, s.success, s.quality, s.sou) == (4, 4.5, 100.0, 100.0, 82.0)


def test_nobody_to_count():
    for marks in ([], ["осв", "осв"], [None, "осв"]):
        s = result_stats(marks)
        assert s.n == 0 and s.success is None and s.quality is None and s.sou is None
    assert percent(None) == "—"


def test_pass_fail_subject_has_no_quality_or_sou():
    s = result_stats(["зач", "зач", "незач", "осв"])
    assert (s.n, s.passed, s.failed) == (3, 2, 1)
    assert s.success == pytest.approx(200 / 3)
    assert s.quality is None and s.sou is None and s.average is None


def test_a_one_is_a_failure_weighed_like_a_two():
    s = result_stats(["5", "1"])
    assert (s.n1, s.success, s.quality, s.sou, s.average) == (1, 50.0, 50.0, 58.0, 3.0)


def test_deferred_and_unknown_values_count_as_without_a_mark():
    s = result_stats(["4", None, "72", ""])
    assert (s.pupils, s.without_mark, s.n, s.success) == (4, 3, 1, 100.0)


@pytest.mark.parametrize("raw, mark", [("Н/А", "н/а"), ("н/а", "н/а"), (" осв ", "осв"), ("Зач.", "зач"),
                                       ("незачёт", "незач"), ("5", "5"), ("—", None), (None, None)])
def test_marks_are_read_as_journals_write_them(raw, mark):
    assert normalize_mark(raw) == mark


def test_properties_over_all_small_classes():
    values = ["5", "4", "3", "2", "н/а", "осв", None]
    for marks in itertools.product(values, repeat=4):
        s = result_stats(marks)
        assert s.n == s.pupils - s.exempt - s.without_mark >= 0
        assert sum(s.distribution.values()) == s.n
        if s.n:
            assert 0 <= s.success <= 100
            assert s.quality is None or s.quality <= s.success
            assert s.sou is None or 0 <= s.sou <= 100
        # adding a pupil with a 5 never lowers успеваемость, качество or СОУ
        more = result_stats([*marks, "5"])
        for field in ("success", "quality", "sou"):
            before, after = getattr(s, field), getattr(more, field)
            assert before is None or after >= before - 1e-9
