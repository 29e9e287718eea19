"""The backtest's fast pieces equal the slow ones they replace: column-wise result frames equal
``DataFrame([to_dict(r) ...])``, the numba hash equals the NumPy splitmix64, and memoised
contract quotes equal freshly priced ones."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from pandas.testing import assert_frame_equal

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.enums import Right
from tradekit.core.events import OptionContract, to_dict
from tradekit.data.datasets import synthetic_intraday, synthetic_vix
from tradekit.data.market import MarketDataService
from tradekit.options import nb
from tradekit.options.chain import SyntheticChainProvider
from tradekit.runtime.backtest import EventRecorder, run_backtest
from tradekit.runtime.records import RecordFrames, SpillingRecorder, frame_of_records
from tradekit.testing.references import hash_uniform_numpy


def _dict_frame(records: list) -> pd.DataFrame:
    if not records:
        return pd.DataFrame()
    df = pd.DataFrame([to_dict(r) for r in records])
    if "ts_ns" in df:
        df.insert(0, "ts", pd.to_datetime(df["ts_ns"], unit="ns", utc=True))
    return df


def test_column_frames_equal_dict_frames_for_every_record_type() -> None:
    hist = synthetic_intraday("SPY", start="2024-03-04", days=30, seed=5)
    market = MarketDataService.with_synthetic_chains({"SPY": hist}, vix=synthetic_vix(hist), seed=5)
    bus = EventBus()
    rec = EventRecorder(bus)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    res = run_backtest(hist.iloc[-2500:], cfg, market=market, quotes=market.chain_provider,
                       bus=bus, keep_engine=True)  # fmt: skip
    assert res.engine is not None
    groups = {
        "signals": rec.signals, "setups": rec.setups, "decisions": rec.decisions,
        "orders": list(rec.orders.values()), "fills": rec.fills,
        "trades": list(res.engine.ledger.closed_trades),
    }  # fmt: skip
    assert all(groups.values()), {k: len(v) for k, v in groups.items()}
    for name, records in groups.items():
        assert_frame_equal(frame_of_records(records), _dict_frame(records), obj=name)
    assert frame_of_records([]).empty


def test_numba_hash_is_bit_identical_to_numpy_splitmix() -> None:
    rng = np.random.default_rng(1)
    for n in (1, 7, 1000):
        cols = [rng.integers(-(2**62), 2**62, n), rng.integers(-5, 5, n), np.full(n, -1)]
        for seed in (0, 123_456_789_123, -5, 2**63 + 7):
            out = np.empty(n)
            nb.hash_uniform_nb(np.uint64(seed & 0xFFFFFFFFFFFFFFFF), np.stack(cols), out)
            assert (out == hash_uniform_numpy(seed, *cols)).all()


def test_memoised_contract_rows_equal_fresh_pricing_and_follow_the_inputs() -> None:
    spot = {"v": 500.0}
    prov = SyntheticChainProvider(lambda s, t: spot["v"], 0.15)
    ts = 1_718_807_400_000_000_000
    ch = prov.chain("SPY", ts)
    contracts = [ch.contract(i) for i in range(0, len(ch), max(1, len(ch) // 25))]
    first = [prov.contract_row(c, ts) for c in contracts]
    again = [prov.contract_row(c, ts) for c in contracts]
    fresh = SyntheticChainProvider(lambda s, t: 500.0, 0.15)
    assert first == again == [fresh.contract_row(c, ts) for c in contracts]
    assert all(prov.quote(c, ts) == ch.quote(c) for c in contracts)
    spot["v"] = 510.0  # a new input at the same time is priced anew, never served stale
    moved = prov.contract_row(contracts[0], ts)
    assert moved is not None and first[0] is not None and moved["spot"] == 510.0
    assert moved["mid"] != first[0]["mid"]
    expired = OptionContract("SPY", dt.date(2020, 1, 17), 500.0, Right.CALL)
    assert prov.contract_row(expired, ts) is None and prov.contract_row(expired, ts) is None
    row = prov.contract_row(contracts[0], ts)
    assert row is not None
    row["mid"] = -1.0  # callers get their own copy
    assert prov.contract_row(contracts[0], ts) == moved


def _summary_parity(hist: pd.DataFrame, cfg: AlgorithmConfig, **kw: object) -> None:
    full = run_backtest(hist, cfg, **kw)  # type: ignore[arg-type]
    lean = run_backtest(hist, cfg, record="summary", **kw)  # type: ignore[arg-type]
    assert lean.summary == full.summary
    assert full.summary["entries"] > 0
    pd.testing.assert_series_equal(lean.equity, full.equity)
    assert_frame_equal(lean.trades, full.trades)
    assert lean.signals.empty and lean.decisions.empty and lean.fills.empty


def test_summary_record_mode_books_the_same_run_stock_and_options() -> None:
    """``record="summary"`` (what sweeps and walk-forward folds run) skips the record frames
    and, for the confluence strategy, the signal records: the same counts, equity and trades."""
    hist = synthetic_intraday("SPY", start="2024-03-04", days=30, seed=5)
    vix = synthetic_vix(hist)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    _summary_parity(hist.iloc[-4000:], cfg, market=MarketDataService({"SPY": hist}, vix=vix))
    market = MarketDataService.with_synthetic_chains({"SPY": hist}, vix=vix, seed=5)
    _summary_parity(hist.iloc[-2500:], cfg, market=market, quotes=market.chain_provider)


def test_summary_record_mode_builds_signals_for_a_strategy_that_reads_them() -> None:
    from tradekit.strategy import SmaCross

    hist = synthetic_intraday("SPY", start="2024-03-04", days=10, seed=2)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")

    class Counting(SmaCross):  # reads_signals defaults to True: ctx.signals must be real
        seen = 0

        def on_bar(self, bar, ctx):  # type: ignore[no-untyped-def]
            Counting.seen += len(ctx.signals)
            return super().on_bar(bar, ctx)

    market = MarketDataService({"SPY": hist}, vix=synthetic_vix(hist))
    run_backtest(hist, cfg, market=market, strategy=Counting(5, 20), record="summary")
    lean_seen, Counting.seen = Counting.seen, 0
    full = run_backtest(hist, cfg, market=market, strategy=Counting(5, 20))
    assert lean_seen == Counting.seen == full.summary["signals"] > 0


def test_record_mode_is_validated() -> None:
    import pytest

    from tradekit.errors import ConfigError

    hist = synthetic_intraday("SPY", start="2024-03-04", days=1, seed=2)
    with pytest.raises(ConfigError, match="record"):
        run_backtest(hist, AlgorithmConfig(symbols=("SPY",), timeframe="1min"), record="some")  # type: ignore[arg-type]


def test_certain_skips_are_counted_not_decided_with_the_same_result() -> None:
    """A metrics-only run passes over the setups a setup-only gate refuses (the prescreen):
    the same counts, equity and trades as deciding each one, and as the full-record run;
    a bus on which someone listens to decisions gets every decision, one by one."""
    hist = synthetic_intraday("SPY", start="2024-03-04", days=30, seed=5)
    vix = synthetic_vix(hist)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    options = MarketDataService.with_synthetic_chains({"SPY": hist}, vix=vix, seed=5)
    cases = [
        (hist.iloc[-4000:], {"market": MarketDataService({"SPY": hist}, vix=vix)}),
        (hist.iloc[-4000:], {"market": options, "quotes": options.chain_provider}),
    ]
    for bars, kw in cases:
        full = run_backtest(bars, cfg, **kw)  # type: ignore[arg-type]
        runs = {pre: run_backtest(bars, cfg, record="summary", prescreen=pre, keep_engine=True,
                                  **kw)  # type: ignore[arg-type]
                for pre in (True, False)}  # fmt: skip
        lean, each = runs[True], runs[False]
        assert lean.engine is not None and each.engine is not None
        passed = lean.engine._pipelines["SPY"].n_setups_passed  # type: ignore[attr-defined]
        assert passed > full.summary["setups"] // 4, passed
        assert each.engine._pipelines["SPY"].n_setups_passed == 0  # type: ignore[attr-defined]
        assert lean.summary == each.summary == full.summary
        assert lean.quiet_bars > each.quiet_bars
        assert lean.engine.counts == each.engine.counts
        for res in (each, full):
            pd.testing.assert_series_equal(lean.equity, res.equity)
            assert_frame_equal(lean.trades, res.trades)
        bus, seen = EventBus(), []
        bus.subscribe("decisions.*", lambda topic, d, seen=seen: seen.append(d.action))
        watched = run_backtest(bars, cfg, record="summary", bus=bus, keep_engine=True, **kw)  # type: ignore[arg-type]
        assert len(seen) == full.summary["decisions"] and watched.summary == full.summary
        assert watched.engine._pipelines["SPY"].n_setups_passed == 0  # type: ignore[union-attr]


def test_spilled_records_give_the_frames_of_the_records_held_in_memory() -> None:
    """A backtest's recorder writes every full chunk of records to disk and builds the frames
    when they are read: the frames of the in-memory recorder, chunked or not, also after the
    result is pickled (it carries its frames); the files go with the recorder."""
    import gc
    import pickle

    hist = synthetic_intraday("SPY", start="2024-03-04", days=6, seed=5)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    bus = EventBus()
    held, spilled = EventRecorder(bus), SpillingRecorder(bus, chunk=7)
    market = MarketDataService({"SPY": hist}, vix=synthetic_vix(hist))
    res = run_backtest(hist, cfg, market=market, bus=bus)
    assert held.log and spilled.spilled_files > 10
    assert res.records.pending == ("signals", "setups", "decisions", "orders", "fills")
    want = held.frames()
    chunked = RecordFrames(recorder=spilled)
    for kind, frame in want.items():
        assert len(frame) > 0, kind
        assert_frame_equal(chunked[kind], frame)
        assert_frame_equal(getattr(res, kind), frame)
    assert res.records.pending == ()
    files = list(spilled._directory().iterdir())
    assert files
    again = pickle.loads(pickle.dumps(RecordFrames(recorder=spilled)))
    assert_frame_equal(again["decisions"], want["decisions"])
    counts = {k: res.summary[k] for k in ("signals", "setups", "decisions", "fills")}
    assert counts == {k: len(want[k]) for k in counts}
    del held, chunked, spilled, again, bus  # the bus holds the recorders' subscriptions
    gc.collect()
    assert not any(f.exists() for f in files)


def test_spilled_chunks_of_mixed_value_types_give_the_frame_of_the_records() -> None:
    """Chunks of one field hold numbers packed as arrays only when all of one type: a field
    whose chunks differ (ints here, floats there, a None, a bool, an int past int64, a nested
    value) still gives the column pandas infers from the records' values at once."""
    import tempfile
    from dataclasses import dataclass
    from pathlib import Path

    from tradekit.runtime.records import _Spool

    @dataclass(frozen=True)
    class Rec:
        id: str
        ts_ns: int
        a: object  # int chunks, then a float chunk: float64
        b: object  # floats, then a None: float64 with NaN
        c: object  # ints, then a bool: object
        d: object  # ints, then one past int64
        e: object  # floats, then a tuple: object through jsonable
        f: float  # floats throughout: packed

    def rec(k: int) -> Rec:
        late = k >= 9
        return Rec(f"r{k}", 1_700_000_000_000_000_000 + k, 0.5 * k if late else k,
                   None if k == 10 else k / 3, True if k == 11 else k,
                   2**64 + k if k == 12 else k, (k, k) if k == 13 else float(k), k * 1.5)  # fmt: skip

    records = [rec(k) for k in range(14)]
    with tempfile.TemporaryDirectory() as d:
        spool = _Spool("recs", lambda: Path(d), chunk=3)
        for r in records:
            spool.append(r)
        assert spool.files == 4
        got = spool.frame()
    want = _dict_frame(records)
    assert_frame_equal(got, want)
    assert frame_of_records(records).equals(want)
    assert str(got["a"].dtype) == "float64" and str(got["f"].dtype) == "float64"
    assert got["c"].dtype == object and got["d"].dtype == object
