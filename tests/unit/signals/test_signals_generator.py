"""Streaming == batch (SIGNALS.md §0), persistence, SMT pairs and no-NaN properties."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.events import Bar, Signal
from tradekit.data import datasets
from tradekit.errors import DataError
from tradekit.signals.detectors import detect, detect_arrays, detect_smt
from tradekit.signals.generator import PairSignalGenerator, SignalGenerator
from tradekit.signals.records import events_to_signals
from tradekit.testing import bars_from_rows

CFG = AlgorithmConfig()


def _bars_as_events(df: pd.DataFrame, symbol: str, tf: str) -> list[Bar]:
    ts = df.index.as_unit("ns").asi8
    dur = int(pd.Timedelta(tf).value)
    cols = [df[c].to_numpy() for c in ("open", "high", "low", "close", "volume")]
    return [Bar(symbol, tf, int(ts[i]), *(float(c[i]) for c in cols), dur) for i in range(len(df))]


def _stream(gen: SignalGenerator, bars: list[Bar]) -> list[Signal]:
    out: list[Signal] = []
    for b in bars:
        out.extend(gen.update(b))
    return out


@pytest.fixture(scope="module")
def intraday() -> pd.DataFrame:
    return datasets.synthetic_intraday("SPY", start="2024-03-01", days=6, seed=11)


class TestStreamingEqualsBatch:
    def test_synthetic_intraday_every_kind(self, intraday: pd.DataFrame) -> None:
        batch = events_to_signals(detect(intraday, CFG, timeframe="1min"), "SPY", "1min")
        stream = _stream(
            SignalGenerator(CFG, "SPY", "1min"), _bars_as_events(intraday, "SPY", "1min")
        )
        assert stream == batch
        assert len({s.kind for s in stream}) >= 15

    def test_eurusd_hourly(self) -> None:
        pytest.importorskip("backtesting")
        df = datasets.eurusd_hourly().iloc[:2500]
        batch = events_to_signals(detect(df, CFG, timeframe="1h"), "EURUSD", "1h")
        stream = _stream(SignalGenerator(CFG, "EURUSD", "1h"), _bars_as_events(df, "EURUSD", "1h"))
        assert stream == batch

    def test_bias_and_n_bars_follow_the_batch_bias(self, intraday: pd.DataFrame) -> None:
        df = intraday.iloc[:800]
        arrs = [df.index.as_unit("ns").asi8] + [
            df[c].to_numpy() for c in ("open", "high", "low", "close", "volume")
        ]
        _, bias = detect_arrays(*arrs, CFG)
        gen = SignalGenerator(CFG, "SPY", "1min")
        seen = []
        for b in _bars_as_events(df, "SPY", "1min"):
            gen.update(b)
            seen.append(gen.bias)
        assert seen == bias.tolist() and gen.n_bars == len(df)
        assert set(seen) == {-1, 0, 1}
        _, bias_fvg_only = detect_arrays(*arrs, CFG, kinds=["FVG"])  # bias is always computed
        assert bias_fvg_only.tolist() == bias.tolist()

    def test_kinds_filter(self, intraday: pd.DataFrame) -> None:
        gen = SignalGenerator(CFG, "SPY", "1min", kinds=["FVG", "BOS"])
        kinds = {s.kind for s in _stream(gen, _bars_as_events(intraday.iloc[:1500], "SPY", "1min"))}
        assert kinds == {"FVG", "BOS"}


class TestPersistence:
    def test_resume_from_a_pickled_state_gives_the_same_signals(
        self, intraday: pd.DataFrame
    ) -> None:
        bars = _bars_as_events(intraday.iloc[:1500], "SPY", "1min")
        full = _stream(SignalGenerator(CFG, "SPY", "1min"), bars)
        first = SignalGenerator(CFG, "SPY", "1min")
        part = _stream(first, bars[:700])
        blob = pickle.dumps(first.state_dict())
        second = SignalGenerator(CFG, "SPY", "1min")
        second.load_state_dict(pickle.loads(blob))
        assert part + _stream(second, bars[700:]) == full

    def test_state_of_other_parameters_is_refused(self) -> None:
        gen = SignalGenerator(CFG, "SPY", "1min")
        other = SignalGenerator(CFG.with_overrides({"signals.rr": 3.0}), "SPY", "1min")
        with pytest.raises(DataError):
            other.load_state_dict(gen.state_dict())
        with pytest.raises(DataError):
            SignalGenerator(CFG, "QQQ", "1min").load_state_dict(gen.state_dict())
        bigger_pool = SignalGenerator(
            CFG.with_overrides({"signals.fvg_max_active": 8}), "SPY", "1min"
        )
        with pytest.raises(DataError):
            bigger_pool.load_state_dict(gen.state_dict())


class TestBadBars:
    def test_invalid_or_out_of_order_bars_raise_and_leave_state_alone(self) -> None:
        gen = SignalGenerator(CFG, "SPY", "1min")
        gen.update(Bar("SPY", "1min", 60_000_000_000, 10, 11, 9, 10, 1))
        before = gen.state_dict()
        bad = [
            Bar("SPY", "1min", 120_000_000_000, 10, 9, 11, 10, 1),
            Bar("SPY", "1min", 120_000_000_000, 10, float("nan"), 9, 10, 1),
            Bar("SPY", "1min", 120_000_000_000, 10, 11, 9, 10, -1),
            Bar("SPY", "1min", 60_000_000_000, 10, 11, 9, 10, 1),
            Bar("SPY", "1min", 120_000_000_000, -1, 11, -2, 10, 1),
        ]
        for b in bad:
            with pytest.raises(DataError):
                gen.update(b)
        after = gen.state_dict()
        assert gen.n_bars == 1
        for k, v in before["detector"].items():
            np.testing.assert_array_equal(v, after["detector"][k])

    def test_unparsable_timeframe(self) -> None:
        with pytest.raises(DataError):
            SignalGenerator(CFG, "SPY", "not-a-timeframe")


class TestIds:
    def test_ids_are_deterministic_and_unique(self, intraday: pd.DataFrame) -> None:
        bars = _bars_as_events(intraday.iloc[:2000], "SPY", "1min")
        a = _stream(SignalGenerator(CFG, "SPY", "1min"), bars)
        b = _stream(SignalGenerator(CFG, "SPY", "1min"), bars)
        assert [s.id for s in a] == [s.id for s in b]
        assert len({s.id for s in a}) == len(a)


# ------------------------------------------------------------------------------------ SMT
def _pair_rows(highs: list[float]) -> pd.DataFrame:
    return bars_from_rows([(h - 0.25, h, h - 0.5, h - 0.25, 1) for h in highs], freq="1D")


S22 = AlgorithmConfig().with_overrides({"signals.swing_left": 2, "signals.swing_right": 2})


class TestSMT:
    def test_higher_high_against_lower_high_is_bearish_on_a(self) -> None:
        a = _pair_rows([11, 12, 15, 12, 11, 12, 13, 16, 13, 12])
        b = _pair_rows([11, 12, 15, 12, 11, 12, 13, 14, 13, 12])
        ev = detect_smt(a, b, S22)
        assert len(ev) == 1
        r = ev.iloc[0]
        assert (r["kind"], r["index"], r["anchor_index"], r["direction"]) == ("SMT", 9, 7, -1)
        assert (r["level"], r["other_level"], r["stop"]) == (16.0, 14.0, 16.0)
        assert detect_smt(b, a, S22).empty  # B made the lower high: no bearish SMT on B
        assert detect_smt(a, a, S22).empty

    def test_bullish_smt_with_lows(self) -> None:
        lows_a = [15, 14, 11, 14, 15, 14, 13, 10, 13, 14]
        lows_b = [15, 14, 11, 14, 15, 14, 13, 12, 13, 14]
        a = bars_from_rows([(lo + 0.25, lo + 0.5, lo, lo + 0.25, 1) for lo in lows_a], freq="1D")
        b = bars_from_rows([(lo + 0.25, lo + 0.5, lo, lo + 0.25, 1) for lo in lows_b], freq="1D")
        r = detect_smt(a, b, S22).iloc[0]
        assert (r["direction"], r["level"], r["other_level"], r["stop"]) == (1, 10.0, 12.0, 10.0)

    def test_max_lag_between_the_two_swings(self) -> None:
        a = _pair_rows([11, 12, 15, 12, 11, 12, 13, 16, 13, 12, 11, 11, 11, 11])
        b = _pair_rows([11, 12, 15, 12, 11, 11, 11, 11, 11, 11, 12, 14, 13, 12])
        assert len(detect_smt(a, b, S22)) == 1  # swings 4 bars apart
        tight = S22.with_overrides({"signals.smt_max_lag_bars": 3})
        assert detect_smt(a, b, tight).empty

    def test_pair_generator_equals_batch(self) -> None:
        pair = datasets.synthetic_pair(
            ("SPY", "QQQ"), start="2024-02-01", days=4, seed=5, correlation=0.6
        )
        a, b = pair["SPY"], pair["QQQ"]
        gen = PairSignalGenerator(CFG, "SPY", "QQQ", "1min")
        got_a: list[Signal] = []
        got_b: list[Signal] = []
        for ba, bb in zip(
            _bars_as_events(a, "SPY", "1min"), _bars_as_events(b, "QQQ", "1min"), strict=True
        ):
            xa, xb = gen.update_pair(ba, bb)
            got_a += xa
            got_b += xb
        smt_a = events_to_signals(detect_smt(a, b, CFG), "SPY", "1min")
        smt_b = events_to_signals(detect_smt(b, a, CFG), "QQQ", "1min")
        assert smt_a and smt_b
        assert [s for s in got_a if s.kind == "SMT"] == smt_a
        assert [s for s in got_b if s.kind == "SMT"] == smt_b
        own_a = events_to_signals(detect(a, CFG, timeframe="1min"), "SPY", "1min")
        assert [s for s in got_a if s.kind != "SMT"] == own_a

    def test_detect_smt_is_prefix_invariant(self) -> None:
        pair = datasets.synthetic_pair(
            ("SPY", "QQQ"), start="2024-02-01", days=3, seed=9, correlation=0.5
        )
        a, b = pair["SPY"], pair["QQQ"]
        full = detect_smt(a, b, CFG)
        assert len(full) > 0
        for k in (50, 300, 700, 1000):
            part = detect_smt(a.iloc[: k + 1], b.iloc[: k + 1], CFG)
            pd.testing.assert_frame_equal(part, full[full["index"] <= k].reset_index(drop=True))

    def test_misaligned_pair_bars_raise(self) -> None:
        gen = PairSignalGenerator(CFG, "SPY", "QQQ", "1min")
        with pytest.raises(DataError):
            gen.update_pair(
                Bar("SPY", "1min", 0, 1, 1, 1, 1, 1), Bar("QQQ", "1min", 60, 1, 1, 1, 1, 1)
            )


# ------------------------------------------------------------------------------------ properties
OWN_LEVELS = {
    "FVG": ("top", "bottom", "mid", "size", "middle_is_displacement"),
    "FVG_MITIGATED": ("top", "bottom"),
    "FVG_FILLED": ("top", "bottom"),
    "BOS": ("level",),
    "CHOCH": ("level",),
    "MSS": ("level",),
    "SWING_HIGH": ("level",),
    "SWING_LOW": ("level",),
    "SWEEP_HIGH": ("level", "extreme", "n_levels", "equal_levels"),
    "SWEEP_LOW": ("level", "extreme", "n_levels", "equal_levels"),
    "STRAT_212": ("trigger",),
    "STRAT_21_SETUP": ("trigger", "top", "bottom"),
    "DISPLACEMENT": ("size", "atr", "ratio"),
    "VOLUME_SURGE": ("ratio",),
    "BREAKER": ("top", "bottom"),
    "ORB": ("top", "bottom"),
}

bar_steps = st.lists(
    st.tuples(
        st.integers(-3, 3),
        st.integers(-2, 2),
        st.integers(0, 2),
        st.integers(0, 2),
        st.sampled_from([0.0, 0.0, 100.0, 250.0, 1000.0]),
    ),
    min_size=1,
    max_size=120,
)


def _random_bars(steps: list[tuple[int, int, int, int, float]]) -> pd.DataFrame:
    rows, price = [], 100.0
    for move, body, up, dn, vol in steps:
        o = price
        c = max(1.0, o + move * 0.5)
        h = max(o, c) + up * 0.5 + body * 0.0
        lo = max(0.5, min(o, c) - dn * 0.5)
        rows.append((o, h, lo, c, vol))
        price = c
    return bars_from_rows(rows, start="2024-01-02 14:30", freq="1min")


SMALL = AlgorithmConfig().with_overrides(
    {
        "signals.swing_left": 2,
        "signals.swing_right": 2,
        "signals.atr_period": 3,
        "signals.volume_window": 3,
        "signals.displacement_body_atr_mult": 0.8,
    }
)


class TestProperties:
    @settings(max_examples=120, deadline=None)
    @given(bar_steps)
    def test_no_nan_in_trade_levels_or_own_levels(self, steps: list) -> None:
        ev = detect(_random_bars(steps), SMALL, timeframe="1min")
        assert np.isfinite(ev[["entry", "stop", "target"]].to_numpy()).all()
        for kind, cols in OWN_LEVELS.items():
            sel = ev.loc[ev["kind"] == kind, list(cols)]
            assert np.isfinite(sel.to_numpy()).all(), kind

    @settings(max_examples=60, deadline=None)
    @given(bar_steps, st.integers(0, 119))
    def test_prefix_invariance_and_streaming_on_random_bars(self, steps: list, k: int) -> None:
        bars = _random_bars(steps)
        k = min(k, len(bars) - 1)
        full = detect(bars, SMALL, timeframe="1min")
        part = detect(bars.iloc[: k + 1], SMALL, timeframe="1min")
        pd.testing.assert_frame_equal(part, full[full["index"] <= k].reset_index(drop=True))
        gen = SignalGenerator(SMALL, "X", "1min")
        assert _stream(gen, _bars_as_events(bars, "X", "1min")) == events_to_signals(
            full, "X", "1min"
        )


class TestBenchmarkHelpers:
    """The helpers behind benchmarks/bench_signals.py report consistent counts (no timing
    assertions)."""

    def test_batch_rows_count_the_same_events_as_detect(self, intraday: pd.DataFrame) -> None:
        from tradekit.signals.detectors import benchmark_batch

        bars = intraday.iloc[:1500]
        rows = benchmark_batch(bars, CFG, timeframe="1min", kinds=["FVG", "ORB"], repeat=1)
        assert [r["name"] for r in rows] == [
            "detect[all]",
            "detect[baseline]",
            "detect[FVG]",
            "detect[ORB]",
        ]
        full = detect(bars, CFG, timeframe="1min")
        assert rows[0]["n_events"] == len(full)
        assert rows[2]["n_events"] == int((full["kind"] == "FVG").sum())
        assert all(float(r["seconds"]) > 0 for r in rows)

    def test_streaming_rows(self, intraday: pd.DataFrame) -> None:
        from tradekit.signals.generator import benchmark_streaming

        rows = benchmark_streaming(intraday, CFG, n_bars=300)
        assert [r["name"] for r in rows] == ["SignalGenerator.update", "SignalGenerator.step"]
        assert all(r["n_bars"] == 300 and float(r["median_us"]) > 0 for r in rows)
