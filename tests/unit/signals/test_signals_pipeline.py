"""SetupPipeline (streaming) and detect_setups (batch): equality, prefix invariance, records."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.events import Setup
from tradekit.core.ids import make_id
from tradekit.data import datasets
from tradekit.data.schema import bars_to_arrays
from tradekit.errors import DataError
from tradekit.signals import SetupPipeline, detect, detect_setups, iter_bars, setups_from_frame
from tradekit.signals.mtf import build_htf
from tradekit.signals.pipeline import SETUP_COLUMNS
from tradekit.signals.records import events_to_signals
from tradekit.testing import bar

CFG = AlgorithmConfig()


def _eurusd() -> pd.DataFrame:
    pytest.importorskip("backtesting")
    return datasets.eurusd_hourly().iloc[:2500]


CASES = {
    "synthetic_1min": (
        lambda: datasets.synthetic_intraday("SPY", start="2024-03-01", days=4),
        "1min",
    ),
    "aapl_daily": (lambda: datasets.load("aapl").iloc[:1500], "1D"),
    "eurusd_hourly": (_eurusd, "1h"),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[str, pd.DataFrame, str]:
    make, tf = CASES[request.param]
    return request.param, make(), tf


@pytest.fixture(scope="module")
def batch(case: tuple[str, pd.DataFrame, str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    _, bars, tf = case
    return detect_setups(bars, symbol="SYM", timeframe=tf)


def _stream(bars: pd.DataFrame, tf: str, cfg: AlgorithmConfig = CFG, **kw):
    pipe = SetupPipeline(cfg, "SYM", tf, **kw)
    signals, setups = [], []
    for b in iter_bars(bars, "SYM", tf):
        out = pipe.update(b)
        signals.extend(out.signals)
        setups.extend(out.setups)
    return pipe, signals, setups


class TestStreamingEqualsBatch:
    def test_setups_equal(self, case, batch) -> None:
        _, bars, tf = case
        _, signals, setups = _stream(bars, tf)
        events, setups_df = batch
        assert len(setups_df) > 0
        assert setups == setups_from_frame(setups_df)
        # every signal the pipeline emitted is an event row of the batch (base and HTF)
        assert len(signals) == len(events)
        assert sorted(s.timeframe for s in signals) == sorted(events["timeframe"])

    def test_state_dict_round_trip_mid_stream(self, case, batch) -> None:
        _, bars, tf = case
        blist = list(iter_bars(bars, "SYM", tf))
        a = SetupPipeline(CFG, "SYM", tf)
        cut = len(blist) // 2
        for b in blist[:cut]:
            a.update(b)
        b2 = SetupPipeline(CFG, "SYM", tf)
        b2.load_state_dict(pickle.loads(pickle.dumps(a.state_dict())))
        got = [s for b in blist[cut:] for s in b2.update(b).setups]
        expect = [s for s in setups_from_frame(batch[1]) if s.index >= cut]
        assert got == expect


class TestPrefixInvariance:
    def test_setups_and_events_of_prefix_equal_full(self, case, batch) -> None:
        _, bars, tf = case
        events, setups = batch
        n = len(bars)
        for k in (n // 5, n // 2 + 7, n - 3):
            ev_k, st_k = detect_setups(bars.iloc[:k], symbol="SYM", timeframe=tf)
            pd.testing.assert_frame_equal(st_k, setups[setups["index"] < k].reset_index(drop=True))
            pd.testing.assert_frame_equal(ev_k, events[events["index"] < k].reset_index(drop=True))


class TestRecords:
    def test_setup_invariants(self, case, batch) -> None:
        _, bars, tf = case
        for s in setups_from_frame(batch[1]):
            d = s.direction
            assert d in (1, -1)
            assert d * (s.entry - s.stop) > 0
            assert d * (s.tp3 - s.tp2) >= 0 and d * (s.tp2 - s.tp1) >= 0
            assert d * (s.tp1 - s.entry) > 0
            assert np.isclose(abs(s.tp1 - s.entry), 2.0 * abs(s.entry - s.stop))
            assert 5.0 <= s.score and s.confidence == min(10.0, s.score)
            assert s.confluence_count == len(s.active_signals) >= 2
            assert s.entry == bars["close"].iloc[s.index]
            assert s.id == make_id("setup", "SYM", tf, s.ts_ns, d)
            assert s.htf_bias != -d

    def test_setup_signal_ids_are_base_events_in_window(self, case, batch) -> None:
        _, _, tf = case
        events, setups = batch
        base = events[events["timeframe"] == tf].reset_index(drop=True)
        sigs = {s.id: s for s in events_to_signals(base, "SYM", tf)}
        for s in setups_from_frame(setups):
            assert s.signal_ids
            kinds = set()
            for sid in s.signal_ids:
                sig = sigs[sid]
                assert s.index - 4 <= sig.index <= s.index and sig.direction == s.direction
                kinds.add(sig.kind)
            assert kinds == set(s.active_signals)

    def test_events_frame_has_htf_rows_on_base_timeline(self, case, batch) -> None:
        _, bars, tf = case
        events, _ = batch
        base = events[events["timeframe"] == tf].drop(
            columns=["timeframe", "htf_index", "htf_ts", "symbol"]
        )
        pd.testing.assert_frame_equal(
            base.reset_index(drop=True), detect(bars, timeframe=tf).drop(columns="timeframe")
        )
        htf = events[events["timeframe"] != tf]
        assert len(htf) > 0
        assert (htf["ts"].to_numpy() == bars.index[htf["index"]].as_unit("ns").to_numpy()).all()
        assert (htf["htf_ts"] <= htf["ts"]).all()
        assert np.all(np.diff(events["index"].to_numpy()) >= 0)

    def test_setups_frame_columns(self, batch) -> None:
        assert tuple(batch[1].columns) == SETUP_COLUMNS
        assert str(batch[1]["ts"].dt.tz) == "UTC"


def test_pipeline_exposes_htf_bias_and_continuity_like_batch() -> None:
    bars = datasets.synthetic_intraday("SPY", start="2024-03-01", days=3, seed=5)
    arrays = bars_to_arrays(bars)
    series = [
        build_htf(arrays, r, CFG, symbol="SYM", base_duration_ns=60_000_000_000,
                  session_aware=True, with_continuity=True)
        for r in ("15min", "1h")
    ]  # fmt: skip
    pipe = SetupPipeline(CFG, "SYM", "1min")
    bias, cont = [], []
    for b in iter_bars(bars, "SYM", "1min"):
        pipe.update(b)
        bias.append(pipe.htf_bias)
        cont.append(pipe.htf_continuity)
    np.testing.assert_array_equal(np.array(bias), np.column_stack([s.bias for s in series]))
    np.testing.assert_array_equal(np.array(cont), np.column_stack([s.continuity for s in series]))


def test_out_of_order_bar_is_refused() -> None:
    pipe = SetupPipeline(CFG, "SYM", "1min")
    pipe.update(bar(10, 11, 9, 10, 1, ts="2024-01-02 14:31", symbol="SYM"))
    with pytest.raises(DataError):
        pipe.update(bar(10, 11, 9, 10, 1, ts="2024-01-02 14:31", symbol="SYM"))
    assert pipe.n_bars == 1


def test_bad_bar_is_refused_without_touching_state() -> None:
    bars = datasets.synthetic_intraday("SPY", start="2024-03-01", days=2, seed=9)
    blist = list(iter_bars(bars, "SYM", "1min"))
    pipe = SetupPipeline(CFG, "SYM", "1min")
    got = []
    for i, b in enumerate(blist):
        if i == 400:
            bad = dataclasses.replace(b, high=b.low - 1.0)  # high < low
            with pytest.raises(DataError):
                pipe.update(bad)
            assert pipe.n_bars == 400
        got.extend(pipe.update(b).setups)
    assert got == setups_from_frame(detect_setups(bars, symbol="SYM", timeframe="1min")[1])


def test_htf_override_and_kinds_filter_agree() -> None:
    cfg = AlgorithmConfig(
        signals={"htf": ("5min", "30min"), "kinds": ("BOS", "CHOCH", "FVG", "SWEEP_LOW",
                                                     "SWEEP_HIGH", "DISPLACEMENT")},
        confluence={"min_score": 3.0},
    )  # fmt: skip
    bars = datasets.synthetic_intraday("QQQ", start="2024-05-01", days=2, seed=3)
    events, setups = detect_setups(bars, cfg, symbol="SYM", timeframe="1min")
    assert set(events["timeframe"]) == {"1min", "5min", "30min"}
    assert set(events["kind"]) <= set(cfg.signals.kinds or ())
    pipe, _, streamed = _stream(bars, "1min", cfg)
    assert pipe.htfs == ("5min", "30min")
    assert len(setups) > 0 and streamed == setups_from_frame(setups)
    assert all(isinstance(s, Setup) for s in streamed)


def test_without_htf_only_base_events_count() -> None:
    bars = datasets.synthetic_intraday("SPY", start="2024-03-01", days=2, seed=2)
    events, setups = detect_setups(bars, symbol="SYM", timeframe="1min", htfs=())
    assert set(events["timeframe"]) == {"1min"}
    assert (setups["htf_bias"] == 0).all()
    _, _, streamed = _stream(bars, "1min", htfs=())
    assert streamed == setups_from_frame(setups)


def test_empty_bars_refused() -> None:
    empty = datasets.synthetic_intraday("SPY", start="2024-03-01", days=1).iloc[:0]
    with pytest.raises(DataError):
        detect_setups(empty, symbol="SYM", timeframe="1min")


def test_batch_setups_built_one_at_a_time_do_not_hold_the_event_rows() -> None:
    """``iter_batch_setups`` copies out what the setup records need, so the batch result (its
    event rows: 168 bytes per event) can go before the first record is built, and the records
    it then builds bar by bar are those of ``detect_setups``."""
    import gc
    import weakref

    from tradekit.signals.confluence import ConfluenceParams
    from tradekit.signals.pipeline import iter_batch_setups, setup_arrays

    bars = datasets.synthetic_intraday("SPY", start="2024-03-04", days=8, seed=5)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    arrays = bars_to_arrays(bars)
    res = setup_arrays(arrays, cfg, symbol="SPY", timeframe="1min")
    fired = res.fired.tolist()
    events = weakref.ref(res.events.base if res.events.base is not None else res.events)
    pending = iter_batch_setups(res, arrays, ConfluenceParams.from_config(cfg), "SPY", "1min")
    del res
    gc.collect()
    assert events() is None  # nothing pins the detector's event buffer
    built = list(pending)
    assert [t for t, _ in built] == fired and len(fired) > 10
    _, frame = detect_setups(bars, cfg, symbol="SPY", timeframe="1min")
    assert [s for _, s in built] == setups_from_frame(frame)
