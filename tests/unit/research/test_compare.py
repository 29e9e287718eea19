"""A/B: paired bootstrap intervals, reproducible, and a verdict that admits ignorance."""

from __future__ import annotations

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.data.datasets import load
from tradekit.errors import ConfigError
from tradekit.research.compare import _verdict, compare
from tradekit.strategy import SmaCross

BARS = load("aapl").iloc[:1000]
A = AlgorithmConfig(symbols=("AAPL",), timeframe="1D")


def test_identical_versions_cannot_be_told_apart() -> None:
    ab = compare(BARS, {"strategy": SmaCross(10, 50)}, {"strategy": SmaCross(10, 50)},
                 n_boot=400, seed=3)  # fmt: skip
    sh = ab.intervals.loc["sharpe"]
    assert sh["observed"] == 0.0 and sh["low"] == 0.0 == sh["high"]
    assert not sh["excludes_zero"] and ab.verdict.startswith("The data cannot tell")
    assert (ab.metrics["B - A"].fillna(0) == 0).all()
    assert (ab.gates["B - A"].fillna(0) == 0).all() and (ab.signals["B - A"] == 0).all()


def test_seeded_and_paired_on_the_same_days() -> None:
    a, b = {"strategy": SmaCross(10, 50)}, {"strategy": SmaCross(5, 20)}
    one = compare(BARS, a, b, n_boot=300, seed=11)
    two = compare(BARS, a, b, n_boot=300, seed=11)
    pd.testing.assert_frame_equal(one.intervals, two.intervals)
    other = compare(BARS, a, b, n_boot=300, seed=12)
    assert not one.intervals["low"].equals(other.intervals["low"])
    assert one.days > 900 and one.labels[0] != one.labels[1]
    d = one.to_dict()
    assert d["verdict"] == one.verdict and set(d["intervals"]) == {"sharpe", "mean_daily_return",
                                                                   "mean_r"}  # fmt: skip


def test_verdict_rules() -> None:
    def iv(sh: tuple[float, float, float], r: tuple[float, float, float]) -> pd.DataFrame:
        rows = {}
        for name, (o, lo, hi) in (("sharpe", sh), ("mean_r", r)):
            rows[name] = {"observed": o, "low": lo, "high": hi, "excludes_zero": lo > 0 or hi < 0}
        return pd.DataFrame(rows).T

    labels = ("base", "tight")
    assert _verdict(iv((0.5, 0.1, 0.9), (0.2, -0.1, 0.5)), labels, 0.95).startswith("B is better")
    assert _verdict(iv((-0.5, -0.9, -0.1), (0, -1, 1)), labels, 0.95).startswith("A is better")
    assert _verdict(iv((0.5, -0.1, 0.9), (0, -1, 1)), labels, 0.95).startswith("The data cannot")
    assert "favours" in _verdict(iv((0.5, 0.1, 0.9), (-0.5, -0.9, -0.1)), labels, 0.95)


def test_bad_arguments_are_config_errors() -> None:
    with pytest.raises(ConfigError):
        compare(BARS, A, A, n_boot=10)
    with pytest.raises(ConfigError):
        compare(BARS, A, A, level=1.5)
    with pytest.raises(ConfigError):
        compare(BARS, A, 42)
