"""Prefix invariance (SIGNALS.md §6.1) and timing rules (§6.2) on real and synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.data import datasets
from tradekit.signals.detectors import detect

ALL_KINDS = {
    "STRAT_212",
    "STRAT_21_SETUP",
    "SWING_HIGH",
    "SWING_LOW",
    "BOS",
    "CHOCH",
    "MSS",
    "SWEEP_LOW",
    "SWEEP_HIGH",
    "FVG",
    "FVG_MITIGATED",
    "FVG_FILLED",
    "DISPLACEMENT",
    "BREAKER",
    "VOLUME_SURGE",
    "ORB",
}  # SMT needs a pair: covered in test_signals_generator.py


def _aapl() -> pd.DataFrame:
    return datasets.load("aapl")


def _eurusd() -> pd.DataFrame:
    pytest.importorskip("backtesting")
    return datasets.eurusd_hourly()


def _intraday() -> pd.DataFrame:
    return datasets.synthetic_intraday("SPY", start="2024-01-02", days=12, seed=3)


DATASETS = {
    "aapl_daily": (_aapl, "1D"),
    "eurusd_hourly": (_eurusd, "1h"),
    "synthetic_1min": (_intraday, "1min"),
}


@pytest.fixture(scope="module", params=sorted(DATASETS))
def dataset(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, str]:
    loader, tf = DATASETS[request.param]
    return request.param, loader(), tf


def _cut_points(n: int, count: int = 14) -> list[int]:
    rng = np.random.default_rng(n)
    ks = set(rng.integers(0, n - 1, count).tolist()) | {0, 1, 2, 5, 20, n // 2, n - 2}
    return sorted(k for k in ks if 0 <= k < n)


class TestPrefixInvariance:
    def test_every_prefix_equals_the_full_run_truncated(self, dataset: tuple) -> None:
        name, bars, tf = dataset
        cfg = AlgorithmConfig()
        full = detect(bars, cfg, timeframe=tf)
        for k in _cut_points(len(bars)):
            part = detect(bars.iloc[: k + 1], cfg, timeframe=tf)
            expect = full[full["index"] <= k].reset_index(drop=True)
            pd.testing.assert_frame_equal(part, expect, obj=f"{name} prefix k={k}")

    def test_wick_breaks_and_options_are_prefix_invariant_too(self, dataset: tuple) -> None:
        name, bars, tf = dataset
        cfg = AlgorithmConfig().with_overrides(
            {
                "signals.break_on": "wick",
                "signals.fvg_min_gap_atr": 0.2,
                "signals.fvg_max_age_bars": 30,
                "signals.sweep_max_age_bars": 40,
                "signals.swing_left": 3,
                "signals.swing_right": 2,
                "signals.fvg_max_active": 4,
            }
        )
        full = detect(bars, cfg, timeframe=tf)
        for k in _cut_points(len(bars), 6):
            part = detect(bars.iloc[: k + 1], cfg, timeframe=tf)
            expect = full[full["index"] <= k].reset_index(drop=True)
            pd.testing.assert_frame_equal(part, expect, obj=f"{name} prefix k={k}")

    def test_the_datasets_exercise_every_kind(self, dataset: tuple) -> None:
        name, bars, tf = dataset
        kinds = set(detect(bars, timeframe=tf)["kind"])
        expected = ALL_KINDS if name == "synthetic_1min" else ALL_KINDS - {"ORB"}
        if name == "aapl_daily":
            expected = expected - {"ORB"}
        assert expected <= kinds, expected - kinds


@pytest.fixture(scope="module")
def events(dataset: tuple) -> pd.DataFrame:
    _, bars, tf = dataset
    return detect(bars, timeframe=tf)


class TestTimingRules:
    """§6.2: emission lag of each kind relative to its anchor."""

    def _lag(self, ev: pd.DataFrame, kind: str) -> set[int]:
        sel = ev[ev["kind"] == kind]
        return set((sel["index"] - sel["anchor_index"]).tolist())

    def test_lags(self, events: pd.DataFrame) -> None:
        right = AlgorithmConfig().signals.swing_right
        assert self._lag(events, "FVG") == {1}
        assert self._lag(events, "STRAT_212") == {1}
        assert self._lag(events, "SWING_HIGH") == {right}
        assert self._lag(events, "SWING_LOW") == {right}
        for kind in ("DISPLACEMENT", "SWEEP_HIGH", "SWEEP_LOW", "VOLUME_SURGE"):
            assert self._lag(events, kind) <= {0}

    def test_bos_fires_on_the_first_close_beyond_the_level(
        self, dataset: tuple, events: pd.DataFrame
    ) -> None:
        _, bars, _ = dataset
        c = bars["close"].to_numpy()
        right = AlgorithmConfig().signals.swing_right
        brk = events[events["kind"].isin(["BOS", "CHOCH"])]
        assert len(brk) > 0
        for row in brk.itertuples():
            d, lvl, a, t = row.direction, row.level, row.anchor_index, row.index
            seg = c[a + right : t]  # closes after confirmation, before the break bar
            assert (d * (c[t] - lvl)) > 0
            assert not np.any(d * (seg - lvl) > 0)

    def test_trade_levels_are_finite_and_protective(self, events: pd.DataFrame) -> None:
        lv = events[["entry", "stop", "target"]].to_numpy()
        assert np.isfinite(lv).all()
        d = events["direction"].to_numpy()
        assert set(np.unique(d)) <= {-1, 1}
        assert np.all(d * (lv[:, 0] - lv[:, 1]) >= 0)  # stop on the protective side
        assert np.all(d * (lv[:, 2] - lv[:, 0]) >= 0)  # target on the profit side
        assert (events["anchor_index"] <= events["index"]).all()


class TestKindSelection:
    def test_running_only_the_needed_detectors_gives_the_same_events(self, dataset: tuple) -> None:
        _, bars, tf = dataset
        full = detect(bars, timeframe=tf)
        for kind in sorted(ALL_KINDS):
            part = detect(bars, kinds=[kind], timeframe=tf)
            expect = full[full["kind"] == kind].reset_index(drop=True)
            pd.testing.assert_frame_equal(part, expect, obj=kind)


def _wilder_atr(h: np.ndarray, low: np.ndarray, c: np.ndarray, period: int = 14) -> np.ndarray:
    """Reference: TR[0] = H-L, TR = max(H-L, |H-C[t-1]|, |L-C[t-1]|); seed = mean of the first
    ``period`` TRs, then ATR = ((period-1) ATR + TR) / period (SIGNALS.md §0)."""
    prev = np.r_[np.nan, c[:-1]]
    tr = np.fmax(h - low, np.fmax(np.abs(h - prev), np.abs(low - prev)))
    tr[0] = h[0] - low[0]
    atr = np.full(len(h), np.nan)
    atr[period - 1] = tr[:period].mean()
    for t in range(period, len(h)):
        atr[t] = ((period - 1) * atr[t - 1] + tr[t]) / period
    return atr


class TestATR:
    def test_displacement_uses_wilder_atr_of_the_previous_bar(self, dataset: tuple) -> None:
        _, bars, tf = dataset
        ev = detect(bars, kinds=["DISPLACEMENT"], timeframe=tf)
        assert len(ev) > 10
        ref = _wilder_atr(*(bars[k].to_numpy() for k in ("high", "low", "close")))
        np.testing.assert_allclose(
            ev["atr"].to_numpy(), ref[ev["index"].to_numpy() - 1], rtol=1e-12
        )
        assert (ev["index"] >= 14).all()
