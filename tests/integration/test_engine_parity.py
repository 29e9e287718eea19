"""One engine, two clocks: a replay through the asyncio LiveRunner (streaming pipeline, bar by
bar) decides and fills exactly like run_backtest (batch-precomputed signals by default, or the
per-bar path with ``fast=False``; the fast path also fast-forwards over quiet bars,
:mod:`tradekit.runtime.quiet`), and truncating the future never changes a past signal,
decision or fill. Cases: real AAPL daily bars, synthetic SPY 1-minute bars traded as stock, and
the synthetic options replay (synthetic VIX, chains and quotes)."""

from __future__ import annotations

import asyncio
from functools import lru_cache
from typing import Any

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.events import to_dict
from tradekit.data.datasets import load, synthetic_intraday, synthetic_vix
from tradekit.data.feeds import ReplayFeed
from tradekit.data.market import MarketDataService
from tradekit.runtime.backtest import EventRecorder, run_backtest
from tradekit.runtime.kernel import Engine
from tradekit.runtime.live import LiveRunner, RunnerState

VIX = 18.0


def _vix(ts_ns: int) -> float:
    return VIX


@lru_cache(maxsize=1)
def _intraday() -> pd.DataFrame:
    return synthetic_intraday("SPY", start="2024-03-04", days=3, seed=11)


@lru_cache(maxsize=1)
def _options_history() -> pd.DataFrame:
    return synthetic_intraday("SPY", start="2023-02-27", days=40, seed=3)


def _options_bars() -> pd.DataFrame:
    return _options_history().iloc[-4 * 390 :]


def _fixed_vix() -> tuple[Any, Any]:
    return _vix, None


def _option_market() -> tuple[Any, Any]:
    """A fresh service per run (its chain cache and the quote memo are not shared)."""
    hist = _options_history()
    svc = MarketDataService.with_synthetic_chains(
        {"SPY": hist}, vix=synthetic_vix(hist, per="day"), seed=3
    )
    return svc, svc.chain_provider


CASES = {
    "aapl_daily": (
        lambda: load("aapl").iloc[:900],
        AlgorithmConfig(symbols=("AAPL",), timeframe="1D"),
        _fixed_vix,
    ),
    "spy_synthetic_1min": (
        _intraday,
        AlgorithmConfig(symbols=("SPY",), timeframe="1min"),
        _fixed_vix,
    ),
    "spy_options_1min": (
        _options_bars,
        AlgorithmConfig(symbols=("SPY",), timeframe="1min"),
        _option_market,
    ),
}


def _records(frame: pd.DataFrame, drop: tuple[str, ...] = ("processing_time_us",)) -> list[dict]:
    if frame.empty:
        return []
    return frame.drop(columns=[c for c in drop if c in frame]).to_dict("records")


@pytest.mark.parametrize("case", sorted(CASES))
def test_live_runner_replay_equals_backtest(case: str) -> None:
    data_fn, cfg, market_fn = CASES[case]
    bars = data_fn()
    bt_bus = EventBus()
    bt_rec = EventRecorder(bt_bus)
    market, quotes = market_fn()
    bt = run_backtest(bars, cfg, market=market, quotes=quotes, bus=bt_bus, keep_engine=True)
    assert bt.engine is not None and bt.engine.trades_options == (quotes is not None)
    live_eq: list[float] = []

    async def live() -> EventRecorder:
        clock, bus = SimClock(), EventBus()
        live_market, live_quotes = market_fn()
        engine = Engine(cfg, clock=clock, bus=bus, market=live_market, quotes=live_quotes)
        rec = EventRecorder(bus)
        feed = ReplayFeed(bars, clock=clock, symbol=cfg.symbols[0], timeframe=cfg.timeframe)
        runner = LiveRunner(engine, feed, on_outcome=lambda _: live_eq.append(engine.ledger.equity))
        runner.start()
        await runner.wait()
        assert runner.state is RunnerState.STOPPED and runner.errors == 0
        assert runner.bars == len(bars)
        return rec

    rec = asyncio.run(live())
    assert bt.summary["decisions"] > 0, "the case must exercise the decision engine"
    strip = lambda d: {k: v for k, v in to_dict(d).items() if k != "processing_time_us"}  # noqa: E731
    assert [strip(d) for d in rec.decisions] == [strip(d) for d in bt_rec.decisions]
    assert rec.fills == bt_rec.fills
    assert rec.orders == bt_rec.orders
    assert rec.signals == bt_rec.signals and rec.setups == bt_rec.setups
    assert live_eq == bt.equity.tolist()
    if quotes is not None:
        assert any(f.multiplier == 100.0 for f in bt_rec.fills), "options must be traded"


@pytest.mark.parametrize("case", sorted(CASES))
def test_fast_backtest_equals_the_per_bar_backtest(case: str) -> None:
    data_fn, cfg, market_fn = CASES[case]
    bars = data_fn()
    out = {}
    for fast in (True, False):
        bus = EventBus()
        rec = EventRecorder(bus)
        market, quotes = market_fn()
        res = run_backtest(bars, cfg, market=market, quotes=quotes, bus=bus, fast=fast)
        out[fast] = (rec, res)
    (fr, fres), (sr, sres) = out[True], out[False]
    if cfg.timeframe != "1D":  # each daily bar is a new day: nothing to fast-forward there
        assert fres.quiet_bars > len(bars) // 2, "the fast path must skip the quiet bars"
    assert sres.quiet_bars == 0
    strip = lambda e: {k: v for k, v in to_dict(e).items() if k != "processing_time_us"}  # noqa: E731
    assert [(t, p, strip(e)) for t, p, e in fr.log] == [(t, p, strip(e)) for t, p, e in sr.log]
    assert fres.summary == sres.summary and fres.run_id == sres.run_id
    pd.testing.assert_series_equal(fres.equity, sres.equity)
    for name in ("signals", "setups", "orders", "fills", "trades"):
        pd.testing.assert_frame_equal(getattr(fres, name), getattr(sres, name), obj=name)
    drop = ["processing_time_us"]
    pd.testing.assert_frame_equal(
        fres.decisions.drop(columns=drop), sres.decisions.drop(columns=drop), obj="decisions"
    )


@pytest.mark.parametrize("case", sorted(CASES))
def test_truncating_the_future_changes_nothing_in_the_past(case: str) -> None:
    data_fn, cfg, market_fn = CASES[case]
    bars = data_fn()

    def run(frame: pd.DataFrame) -> tuple[EventRecorder, pd.Series]:
        bus = EventBus()
        rec = EventRecorder(bus)
        market, quotes = market_fn()
        res = run_backtest(frame, cfg, market=market, quotes=quotes, bus=bus)  # the fast path
        return rec, res.equity

    full, full_eq = run(bars)
    kinds = {topic.split(".")[0] for _, topic, _ in full.log}
    assert {"signals", "setups", "decisions"} <= kinds
    n = len(bars)
    strip = lambda e: {k: v for k, v in to_dict(e).items() if k != "processing_time_us"}  # noqa: E731
    for k in (n // 3, n // 2, (4 * n) // 5):
        part, part_eq = run(bars.iloc[:k])
        horizon = part_eq.index[-1].value  # close of the last kept bar
        past = [(t, topic, strip(e)) for t, topic, e in full.log if t <= horizon]
        assert past == [(t, topic, strip(e)) for t, topic, e in part.log], k
        assert (full_eq.iloc[:k].to_numpy() == part_eq.to_numpy()).all()


@pytest.mark.parametrize("case", sorted(CASES))
def test_metrics_only_backtest_equals_the_per_bar_backtest_and_ignores_the_future(
    case: str,
) -> None:
    """``record="summary"`` (sweeps, walk-forward folds) passes over quiet bars and counts the
    setups a setup-only gate refuses instead of deciding them: the same summary, equity and
    trades as the per-bar path, and truncating the future changes no past equity or trade."""
    data_fn, cfg, market_fn = CASES[case]
    bars = data_fn()

    def run(frame: pd.DataFrame, **kw: Any) -> Any:
        market, quotes = market_fn()
        return run_backtest(frame, cfg, market=market, quotes=quotes, **kw)

    lean, slow = run(bars, record="summary"), run(bars, fast=False)
    assert lean.summary == slow.summary and slow.summary["decisions"] > 0
    pd.testing.assert_series_equal(lean.equity, slow.equity)
    pd.testing.assert_frame_equal(lean.trades, slow.trades)
    n = len(bars)
    for k in (n // 3, (4 * n) // 5):
        part = run(bars.iloc[:k], record="summary")
        assert (lean.equity.iloc[:k].to_numpy() == part.equity.to_numpy()).all(), k
        horizon = part.equity.index[-1].value  # close of the last kept bar
        if len(lean.trades):
            closed = lean.trades[lean.trades["exit_ts_ns"] <= horizon].reset_index(drop=True)
            if part.trades.empty:
                assert closed.empty, k
                continue
            got = part.trades[part.trades["exit_ts_ns"] <= horizon].reset_index(drop=True)
            pd.testing.assert_frame_equal(got, closed)
