from __future__ import annotations

from report import formatting as f


def test_durations_pick_a_readable_unit() -> None:
    assert f.duration(6.3125) == "6.31 s"
    assert f.duration(0.000316) == "316 µs"
    assert f.duration(0.0123) == "12.3 ms"
    assert f.duration(4.2e-8) == "42.0 ns"


def test_missing_values_never_read_as_nan_or_zero() -> None:
    for filter_ in (f.duration, f.byte_size, f.percent, f.ratio, f.number, f.flops, f.frequency):
        assert filter_(None) == "—"
        assert filter_(float("nan")) == "—"


def test_other_units() -> None:
    assert f.byte_size(1023) == "1023 B"
    assert f.byte_size(1024) == "1.00 KiB"
    assert f.byte_size(25_184_763_904) == "23.5 GiB"
    assert f.percent(0.04) == "4.0 %"
    assert f.ratio(3.853) == "3.85×"
    assert f.number(40800) == "40,800"
    assert f.flops(68_300_000) == "68.3 MFLOP"
    assert f.frequency(2596.1) == "2.60 GHz"


def test_speed_comparisons_read_both_ways() -> None:
    assert f.versus(2.0) == "2.00× faster"
    assert f.versus(0.5) == "2.00× slower"
    assert f.versus(None) == "—"
    assert f.gflops(96_400_000_000) == "96.4 GFLOP/s"
