"""How numbers read: a unit always, never "nan", a non-breaking space before the unit, and no
more digits than the noise supports."""

from __future__ import annotations

from report.words import formatting as f
from report.words.i18n import using

NB = "\u00a0"


def test_durations_pick_a_readable_unit() -> None:
    assert f.duration(6.3125) == f"6.31{NB}s"
    assert f.duration(0.000316) == f"316{NB}µs"
    assert f.duration(0.0123) == f"12.3{NB}ms"
    assert f.duration(4.2e-8) == f"42.0{NB}ns"


def test_missing_values_never_read_as_nan_or_zero() -> None:
    for filter_ in (f.duration, f.byte_size, f.percent, f.ratio, f.number, f.flops, f.frequency):
        assert filter_(None) == "—"
        assert filter_(float("nan")) == "—"


def test_other_units() -> None:
    assert f.byte_size(1023) == f"1023{NB}B"
    assert f.byte_size(1024) == f"1.00{NB}KiB"
    assert f.byte_size(25_184_763_904) == f"23.5{NB}GiB"
    assert f.percent(0.04) == f"4.0{NB}%"
    # a share short of the whole never shows as 100: 99.962 % at 3 digits would round to it
    assert f.percent(0.99962, 3) == f"99.96{NB}%"
    assert f.percent(0.9992, 3) == f"99.9{NB}%"
    assert f.percent(1.0, 3) == f"100{NB}%"
    assert f.ratio(3.853) == "3.85×"
    assert f.number(40800) == "40,800"
    assert f.flops(68_300_000) == f"68.3{NB}MFLOP"
    assert f.frequency(2596.1) == f"2.60{NB}GHz"
    assert f.with_unit(142.5, "W", 4) == f"142.5{NB}W"
    assert f.with_unit(142.5, "W") == f"143{NB}W"  # half away from zero, not to even


def test_counts_stay_counts() -> None:
    assert f.number(31.0, 3) == "31"  # operators per step: not "31.0"
    assert f.number(30.5, 3) == "30.5"


def test_noise_decides_the_digits() -> None:
    # CV 9.6 % of 289,074: the spread (≈ 27,750) is uncertain in its first digit, so the
    # value keeps two: 290,000 (the "289,074 samples/s" at CV 9.6 %)
    assert f.noise_digits(289_074, 0.096) == 2
    assert f.number(289_074.0, 3, cv=0.096) == "290,000"
    assert f.duration(5.587, cv=0.13) == f"5.6{NB}s"
    assert f.duration(5.587, cv=0.004) == f"5.59{NB}s"  # spread 0.022 s: hundredths
    assert f.duration(5.587, cv=0.0004) == f"5.587{NB}s"  # spread 0.0022 s: thousandths
    assert f.duration(5.587, cv=None) == f"5.59{NB}s"  # unknown noise: three digits
    assert f.noise_digits(1.0, 0.5) == 2  # never fewer than two
    assert f.noise_digits(1.0, 1e-9) == 4  # never more than four
    assert f.approx(3_293_219) == f"≈{NB}3,290,000"


def test_speed_comparisons_read_both_ways_in_both_languages() -> None:
    assert f.versus(2.0) == "2.00× faster"
    assert f.versus(0.5) == "2.00× slower"
    assert f.versus(None) == "—"
    assert f.gflops(96_400_000_000) == f"96.4{NB}GFLOP/s"
    assert f.points(0.0123) == "1.2 percentage points"
    with using("zh"):
        assert f.versus(2.0) == "快 2.00×"
        assert f.yes_no(True) == "是"
        assert f.points(0.0123) == "1.2 个百分点"
