"""Multi-timeframe context (SIGNALS.md §4): bucket closing, known-time mapping, no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.data.calendar import get_calendar
from tradekit.data.resample import htf_index_map, resample, resample_arrays
from tradekit.data.schema import bars_to_arrays
from tradekit.errors import ConfigError
from tradekit.signals.mtf import (
    HtfAggregator,
    HtfTracker,
    build_htf,
    default_htfs,
    resolve_htfs,
    resolve_session_aware,
    strat_continuity,
    timeframe_ns,
)
from tradekit.signals.nb_confluence import ema_bias_nb
from tradekit.signals.pipeline import iter_bars
from tradekit.testing import bars_from_rows

MIN = 60_000_000_000
CFG = AlgorithmConfig()


def _walk(ts: np.ndarray, seed: int, start: float = 400.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = len(ts)
    c = start * np.exp(np.cumsum(rng.normal(0, 0.001, n)))
    o = np.r_[start, c[:-1]] * np.exp(rng.normal(0, 0.0003, n))
    h = np.maximum(o, c) * np.exp(np.abs(rng.normal(0, 0.0006, n)))
    lo = np.minimum(o, c) * np.exp(-np.abs(rng.normal(0, 0.0006, n)))
    v = rng.integers(100, 1000, n).astype(float)
    idx = pd.DatetimeIndex(np.asarray(ts, dtype=np.int64), tz="UTC").as_unit("ns")
    return pd.DataFrame({"open": o, "high": h, "low": lo, "close": c, "volume": v}, index=idx)


def session_minutes(days: int, seed: int = 0, drop: float = 0.0, first: str = "2024-01-02"):
    """1-minute bars over NYSE sessions (holidays, half days), optionally with random gaps."""
    s = get_calendar("XNYS").sessions(first, "2024-12-31").iloc[:days]
    ts = np.concatenate([np.arange(o, c, MIN) for o, c in zip(s.open_ns, s.close_ns, strict=True)])
    if drop:
        keep = np.random.default_rng(seed + 1).random(len(ts)) >= drop
        keep[0] = True
        ts = ts[keep]
    return _walk(ts, seed)


def fx_hours(n: int, seed: int = 0) -> pd.DataFrame:
    """24h hourly bars, Monday 00:00 to Friday 21:00 UTC (weekend gaps), starting 09:00."""
    ts = pd.date_range("2024-03-04 09:00", periods=n * 2, freq="1h", tz="UTC")
    ts = ts[(ts.day_of_week < 5) & ~((ts.day_of_week == 4) & (ts.hour >= 21))][:n]
    return _walk(ts.as_unit("ns").asi8, seed, start=1.1)


def _aggregate(bars: pd.DataFrame, rule: str, *, session_aware: bool, tf: str, **kw):
    agg = HtfAggregator(rule, symbol="X", session_aware=session_aware, **kw)
    out = []
    for t, b in enumerate(iter_bars(bars, "X", tf)):
        out.extend(agg.update(b, t))
    return out


def _assert_same_as_resample(bars, rule, *, session_aware, tf, **kw):
    closed = _aggregate(bars, rule, session_aware=session_aware, tf=tf, **kw)
    ref = resample_arrays(
        *bars_to_arrays(bars), rule, base_duration_ns=timeframe_ns(tf),
        session_aware=session_aware, **kw,
    )  # fmt: skip
    assert len(closed) == ref.ts.shape[0]
    got = np.array([[b.ts_ns, b.ts_ns + b.duration_ns, k] for b, k in closed], dtype=np.int64)
    np.testing.assert_array_equal(got[:, 0], ref.ts)
    np.testing.assert_array_equal(got[:, 1], ref.end)
    np.testing.assert_array_equal(got[:, 2], ref.known_index)
    vals = np.array([[b.open, b.high, b.low, b.close, b.volume] for b, _ in closed])
    ref_vals = np.column_stack([ref.open, ref.high, ref.low, ref.close, ref.volume])
    np.testing.assert_allclose(vals, ref_vals, rtol=0, atol=1e-9)


class TestTimeframes:
    def test_defaults_by_base(self) -> None:
        assert default_htfs("1min") == ("15min", "1h")
        assert default_htfs("1h") == ("4h", "1D")
        assert default_htfs("1D") == ("1W",)

    def test_config_override_sorted_low_to_high(self) -> None:
        cfg = AlgorithmConfig(signals={"htf": ("1h", "5min")})
        assert resolve_htfs(cfg, "1min") == ("5min", "1h")
        assert resolve_htfs(cfg, "1min", ["4h"]) == ("4h",)
        assert resolve_htfs(cfg, "1min", ()) == ()
        assert resolve_htfs(CFG, "1min") == ("15min", "1h")

    def test_htf_not_above_base_is_config_error(self) -> None:
        with pytest.raises(ConfigError):
            resolve_htfs(CFG, "1h", ["1h"])
        with pytest.raises(ConfigError):
            resolve_htfs(CFG, "1min", ["1h", "60min"])

    def test_session_mode_from_first_bar(self) -> None:
        assert resolve_session_aware(session_minutes(1).index[0].value, None)
        assert not resolve_session_aware(fx_hours(3).index[0].value, None)
        assert resolve_session_aware(fx_hours(3).index[0].value, True)


class TestAggregatorEqualsResample:
    @pytest.mark.parametrize("rule", ["15min", "1h", "1D", "1W"])
    def test_session_minutes_with_gaps(self, rule: str) -> None:
        bars = session_minutes(8, seed=3, drop=0.05, first="2024-11-25")  # incl. a half day
        _assert_same_as_resample(bars, rule, session_aware=True, tf="1min")

    @pytest.mark.parametrize("rule", ["4h", "1D", "1W"])
    def test_fx_hours_plain_grid(self, rule: str) -> None:
        _assert_same_as_resample(fx_hours(300), rule, session_aware=False, tf="1h")

    def test_day_offset_and_partial_first_kept(self) -> None:
        bars = fx_hours(200, seed=2)
        kw = {"day_offset_hours": 22.0, "drop_partial_first": False}
        _assert_same_as_resample(bars, "1D", session_aware=False, tf="1h", **kw)

    @settings(max_examples=25, deadline=None)
    @given(
        seed=st.integers(0, 10_000),
        drop=st.sampled_from([0.0, 0.01, 0.2]),
        rule=st.sampled_from(["5min", "15min", "30min", "1h", "1D"]),
        start=st.sampled_from(["2024-01-02", "2024-03-08", "2024-07-01", "2024-11-27"]),
    )
    def test_property_random_gaps(self, seed: int, drop: float, rule: str, start: str) -> None:
        bars = session_minutes(4, seed=seed, drop=drop, first=start)
        first = int(seed % 50)  # data may begin mid-bucket (partial first bucket dropped)
        _assert_same_as_resample(bars.iloc[first:], rule, session_aware=True, tf="1min")

    def test_gap_closes_bucket_at_first_bar_of_later_bucket(self) -> None:
        # 14:30..14:40 then a gap to 14:51: the 14:30 bucket ends early (data gap)
        rows = [(10, 11, 9, 10, 1)] * 11 + [(10, 12, 9, 11, 1)] * 20
        bars = bars_from_rows(rows, start="2024-01-02 14:30", freq="1min")
        ts = bars.index.as_unit("ns").asi8.copy()
        ts[11:] += 10 * MIN
        bars.index = pd.DatetimeIndex(ts, tz="UTC")
        closed = _aggregate(bars, "15min", session_aware=True, tf="1min")
        # 14:30 bucket: known at the close of the 14:51 bar (rule b); 14:45 bucket: at its
        # own last bar 14:59 (rule a); the 15:00 bucket is still forming
        assert [k for _, k in closed] == [11, 19]
        assert closed[0][0].high == 11.0 and closed[1][0].high == 12.0
        h = resample(bars, "15min", session_aware=True)
        assert list(h["known_index"]) == [11, 19]


@pytest.fixture(scope="module")
def bars() -> pd.DataFrame:
    return session_minutes(12, seed=5, drop=0.02)


class TestBuildHtf:
    def _series(self, bars: pd.DataFrame, rule: str, cfg: AlgorithmConfig = CFG):
        return build_htf(
            bars_to_arrays(bars), rule, cfg, symbol="X", base_duration_ns=MIN, session_aware=True
        )

    def test_bias_is_asof_known_time(self, bars: pd.DataFrame) -> None:
        s = self._series(bars, "15min")
        k = htf_index_map(bars.index.as_unit("ns").asi8, resample(bars, "15min"))
        expect = np.where(k >= 0, s.bias_htf[np.clip(k, 0, None)], 0)
        np.testing.assert_array_equal(s.bias, expect)
        assert set(np.unique(s.bias)) <= {-1, 0, 1} and np.any(s.bias != 0)

    def test_events_visible_at_known_index(self, bars: pd.DataFrame) -> None:
        s = self._series(bars, "1h")
        assert len(s.events) > 0
        ev = s.events
        np.testing.assert_array_equal(ev["index"], s.bars.known_index[ev["htf_index"]])
        assert (ev["timeframe"] == "1h").all()
        assert (ev["ts"].to_numpy() == bars.index[ev["index"]].to_numpy()).all()
        # never visible before the HTF bar closed by the clock or by a later bar
        close_ts = bars.index.as_unit("ns").asi8[ev["index"]] + MIN
        end = s.bars.end[ev["htf_index"]]
        later = bars.index.as_unit("ns").asi8[ev["index"]] >= end
        assert np.all((close_ts >= end) | later)

    def test_ema_method(self, bars: pd.DataFrame) -> None:
        cfg = AlgorithmConfig(signals={"htf_bias_method": "ema", "htf_ema_period": 20})
        s = self._series(bars, "15min", cfg)
        c = s.bars.close
        ref = pd.Series(c.copy())
        ref.iloc[19] = c[:20].mean()
        ema = ref.iloc[19:].ewm(span=20, adjust=False).mean().to_numpy()
        np.testing.assert_array_equal(s.bias_htf[:19], 0)
        np.testing.assert_array_equal(s.bias_htf[19:], np.sign(c[19:] - ema))
        np.testing.assert_array_equal(ema_bias_nb(c, 20), s.bias_htf)

    def test_no_htf_value_changes_before_known_index(self, bars: pd.DataFrame) -> None:
        """§6.4: rewriting the bars of HTF bucket k leaves every base bar before its known
        index untouched (events and bias)."""
        base = self._series(bars, "15min")
        rng = np.random.default_rng(0)
        for k in rng.choice(len(base.bars.ts) - 1, 6, replace=False):
            lo, hi = int(base.bars.first_index[k]), int(base.bars.last_index[k])
            known = int(base.bars.known_index[k])
            moved = bars.copy()
            moved.iloc[lo : hi + 1, moved.columns.get_loc("high")] *= 1.02
            moved.iloc[lo : hi + 1, moved.columns.get_loc("close")] *= 1.01
            moved["high"] = moved[["open", "high", "close"]].max(axis=1)
            alt = self._series(moved, "15min")
            np.testing.assert_array_equal(alt.bias[:known], base.bias[:known])
            before = base.events[base.events["index"] < known].reset_index(drop=True)
            before_alt = alt.events[alt.events["index"] < known].reset_index(drop=True)
            pd.testing.assert_frame_equal(before, before_alt)

    def test_prefix_invariance(self, bars: pd.DataFrame) -> None:
        full = self._series(bars, "1h")
        for m in (400, 1234, 3000):
            part = self._series(bars.iloc[:m], "1h")
            np.testing.assert_array_equal(part.bias, full.bias[:m])
            a = part.events.reset_index(drop=True)
            b = full.events[full.events["index"] < m].reset_index(drop=True)
            pd.testing.assert_frame_equal(a, b)


class TestContinuity:
    def test_hand_example(self) -> None:
        rows = [(10, 11, 9, 10.5, 1), (10.5, 11, 9, 9.5, 1), (9.5, 10, 9, 10.0, 1)]
        bars = bars_from_rows(rows, start="2024-01-02 14:30", freq="1min")
        cont = strat_continuity(
            bars_to_arrays(bars), "15min", base_duration_ns=MIN, session_aware=True
        )
        assert list(cont) == [1, -1, 0]  # vs the bucket's first open 10

    @settings(max_examples=20, deadline=None)
    @given(seed=st.integers(0, 1000), rule=st.sampled_from(["15min", "1h", "1W"]))
    def test_streaming_equals_batch(self, seed: int, rule: str) -> None:
        bars = session_minutes(6, seed=seed, drop=0.03, first="2024-07-01")
        batch = strat_continuity(
            bars_to_arrays(bars), rule, base_duration_ns=MIN, session_aware=True
        )
        agg = HtfAggregator(rule, symbol="X", session_aware=True)
        got = []
        for t, b in enumerate(iter_bars(bars, "X", "1min")):
            agg.update(b, t)
            got.append(agg.last_continuity)
        np.testing.assert_array_equal(np.array(got), batch)


@pytest.mark.parametrize("method", ["structure", "ema"])
def test_tracker_streaming_equals_batch(method: str) -> None:
    cfg = AlgorithmConfig(signals={"htf_bias_method": method, "htf_ema_period": 5})
    bars = session_minutes(10, seed=11, drop=0.02)
    s = build_htf(
        bars_to_arrays(bars), "15min", cfg, symbol="X", base_duration_ns=MIN, session_aware=True
    )
    tr = HtfTracker("15min", cfg, symbol="X", session_aware=True)
    bias, rows = [], []
    for t, b in enumerate(iter_bars(bars, "X", "1min")):
        for sig in tr.update(b, t):
            assert (sig.index, sig.ts_ns) == (t, b.ts_ns)  # stamped when it became known
            htf_index = int(sig.levels["htf_index"])
            rows.append((t, sig.kind, htf_index, sig.anchor_index, sig.direction, sig.stop))
        bias.append(tr.bias)
    np.testing.assert_array_equal(np.array(bias), s.bias)
    ev = s.events
    expect = list(
        zip(
            ev["index"], ev["kind"], ev["htf_index"], ev["anchor_index"], ev["direction"],
            ev["stop"], strict=True,
        )
    )  # fmt: skip
    assert rows == [tuple(x.item() if hasattr(x, "item") else x for x in r) for r in expect]
    assert tr.n_closed == len(s.bars.ts)


def test_tracker_state_dict_resumes() -> None:
    bars = session_minutes(3, seed=4)
    blist = list(iter_bars(bars, "X", "1min"))
    a = HtfTracker("15min", CFG, symbol="X", session_aware=True)
    for t, b in enumerate(blist[:500]):
        a.update(b, t)
    b2 = HtfTracker("15min", CFG, symbol="X", session_aware=True)
    b2.load_state_dict(a.state_dict())
    for t, b in enumerate(blist[500:], start=500):
        assert [s.id for s in a.update(b, t)] == [s.id for s in b2.update(b, t)]
        assert a.bias == b2.bias
