from __future__ import annotations

import math

import pytest

from experiments.contract.summary import summarize


def test_summary_of_known_values() -> None:
    s = summarize([5.0, 1.0, 3.0, 2.0, 4.0])
    assert (s["n"], s["median"], s["q1"], s["q3"], s["iqr"]) == (5, 3.0, 2.0, 4.0, 2.0)
    assert (s["min"], s["max"], s["mean"]) == (1.0, 5.0, 3.0)
    assert s["stdev"] == pytest.approx(math.sqrt(2.5))
    assert s["cv"] == pytest.approx(math.sqrt(2.5) / 3)
    assert s["noisy"] is True


def test_noise_flag_threshold_is_five_percent() -> None:
    assert summarize([100.0, 104.0, 96.0])["noisy"] is False  # cv = 4 %
    assert summarize([100.0, 106.0, 94.0])["noisy"] is True  # cv = 6 %


def test_single_value_has_no_spread() -> None:
    s = summarize([2.5])
    assert (s["median"], s["iqr"], s["stdev"], s["cv"], s["noisy"]) == (2.5, 0.0, None, None, False)
    assert summarize([])["median"] is None
