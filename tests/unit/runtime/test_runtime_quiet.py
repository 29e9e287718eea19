"""Quiet-bar fast-forward (tradekit.runtime.quiet): a backtest that skips the bars on which the
engine only marks gives exactly the records, equity, trades (with their excursions) and log of
the one that processes every bar — with pyramided positions, daily-loss states, time exits —
and it does skip most bars; the numba scan's exit test agrees with the position monitor's."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig, HardLimits
from tradekit.core.bus import EventBus
from tradekit.core.enums import Right
from tradekit.core.events import Bar, Leg, OptionContract, to_dict
from tradekit.data.datasets import synthetic_intraday, synthetic_vix
from tradekit.data.market import MarketDataService
from tradekit.execution.exits import ExitPlan
from tradekit.execution.monitor import ManagedPosition, premium_exits, price_exits, time_exit
from tradekit.runtime import kernel
from tradekit.runtime.backtest import BacktestResult, EventRecorder, run_backtest
from tradekit.runtime.nb import _premium_exit_due, quiet_span
from tradekit.runtime.precomputed import PrecomputedPipeline
from tradekit.runtime.quiet import _NEVER, _NO_PREMIUM, _NO_ROWS, QuietBars, _exit_rules
from tradekit.strategy import SmaCross


@lru_cache(maxsize=2)
def _bars(seed: int = 7, days: int = 12) -> pd.DataFrame:
    return synthetic_intraday("SPY", start="2024-03-04", days=days, seed=seed)


def _run(
    bars: pd.DataFrame, cfg: AlgorithmConfig, *, skip: bool, **kw: Any
) -> tuple[BacktestResult, EventRecorder]:
    bus = EventBus()
    rec = EventRecorder(bus)
    res = run_backtest(bars, cfg, market=lambda ts: 18.0, bus=bus, skip_quiet=skip,
                       keep_engine=True, **kw)  # fmt: skip
    return res, rec


def _strip(e: Any) -> dict[str, Any]:
    return {k: v for k, v in to_dict(e).items() if k != "processing_time_us"}


def _assert_same(
    a: tuple[BacktestResult, EventRecorder], b: tuple[BacktestResult, EventRecorder]
) -> None:
    (ra, la), (rb, lb) = a, b
    assert [(t, p, _strip(e)) for t, p, e in la.log] == [(t, p, _strip(e)) for t, p, e in lb.log]
    assert ra.summary == rb.summary
    pd.testing.assert_series_equal(ra.equity, rb.equity)
    for name in ("signals", "setups", "orders", "fills", "trades"):
        pd.testing.assert_frame_equal(getattr(ra, name), getattr(rb, name), obj=name)
    assert ra.engine is not None and rb.engine is not None
    ea, eb = ra.engine, rb.engine
    assert ea.ledger.closed_trades == eb.ledger.closed_trades  # mae / mfe included
    assert ea.ledger.cash == eb.ledger.cash and ea.ledger.ts_ns == eb.ledger.ts_ns
    assert ea.risk.trading_state is eb.risk.trading_state
    assert ea.counts == eb.counts
    assert ea.state_dict() == eb.state_dict()


def test_skipping_quiet_bars_changes_nothing_and_skips_most_bars() -> None:
    bars = _bars()
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    fast, slow = _run(bars, cfg, skip=True), _run(bars, cfg, skip=False)
    _assert_same(fast, slow)
    assert slow[0].quiet_bars == 0
    assert fast[0].quiet_bars > 0.6 * len(bars), fast[0].quiet_bars
    engine = fast[0].engine
    assert engine is not None
    # the replay pyramids: several managed positions were open at once on some bars
    assert fast[0].summary["entries"] > fast[0].summary["trades"] > 10


def test_metrics_only_runs_skip_the_same_bars_with_the_same_result() -> None:
    bars = _bars()
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    a = run_backtest(bars, cfg, market=lambda ts: 18.0, record="summary", keep_engine=True)
    b = run_backtest(bars, cfg, market=lambda ts: 18.0, record="summary", skip_quiet=False)
    assert a.summary == b.summary and a.quiet_bars > 0.6 * len(bars)
    pd.testing.assert_series_equal(a.equity, b.equity)
    pd.testing.assert_frame_equal(a.trades, b.trades)
    # the scan passed setups it sized to zero units besides the certain SKIPs
    assert a.engine is not None
    pipe = a.engine._pipelines["SPY"]
    assert isinstance(pipe, PrecomputedPipeline)
    certain = int((pipe.setup_mask() & ~pipe.busy_mask()).sum())
    assert pipe.n_setups_passed > certain, (pipe.n_setups_passed, certain)


@pytest.mark.parametrize("action", ["REDUCING", "HALTED"])
def test_the_daily_loss_limit_trips_on_the_same_bar(action: str) -> None:
    bars = _bars()
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min").with_overrides(
        {"decision.daily_loss_limit": 0.0015, "risk.daily_loss_action": action}
    )
    fast, slow = _run(bars, cfg, skip=True), _run(bars, cfg, skip=False)
    _assert_same(fast, slow)
    states = [e for _, topic, e in fast[1].log if topic == "risk.state"]
    assert states, "the limit must be reached in this replay"
    assert fast[0].quiet_bars > 0


def test_time_exits_fire_on_the_same_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stock plans carry no time exits by default; give them an end-of-day flatten and a
    minutes-before-close stop so that quiet spans must end where those rules fire."""
    plain = kernel.stock_exit_plan

    def timed(decision: Any) -> ExitPlan:
        return dataclasses.replace(plain(decision), flatten_eod=True,
                                   time_stop_minutes_before_close=45.0)  # fmt: skip

    monkeypatch.setattr(kernel, "stock_exit_plan", timed)
    bars = _bars()
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    fast, slow = _run(bars, cfg, skip=True), _run(bars, cfg, skip=False)
    _assert_same(fast, slow)
    reasons = set(fast[0].trades["exit_reason"])
    assert "time_stop" in reasons, reasons
    assert fast[0].quiet_bars > 0


def test_nothing_is_skipped_when_a_strategy_or_a_subscriber_needs_every_bar() -> None:
    bars = _bars().iloc[:1500]
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    sma = run_backtest(bars, cfg, market=lambda ts: 18.0, strategy=SmaCross(5, 20))
    assert sma.quiet_bars == 0
    bus = EventBus()
    seen: list[int] = []
    bus.subscribe("bars.*", lambda topic, bar: seen.append(bar.ts_ns))
    res = run_backtest(bars, cfg, market=lambda ts: 18.0, bus=bus)
    assert res.quiet_bars == 0 and len(seen) == len(bars)
    ref = run_backtest(bars, cfg, market=lambda ts: 18.0)
    assert ref.quiet_bars > 0 and ref.summary == res.summary


# -- the scan's exit test against the monitor's rules -------------------------------------------
_NS_MIN = 60_000_000_000
_OPEN = 1_709_562_600_000_000_000  # 2024-03-04 14:30 UTC, a session open
_CLOSE = _OPEN + 390 * _NS_MIN

prices = st.floats(90.0, 110.0, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    side=st.sampled_from([1, -1]),
    stop=st.one_of(st.none(), prices),
    targets=st.lists(prices, max_size=3),
    done=st.integers(0, 3),
    minute=st.integers(0, 389),
    before=st.one_of(st.none(), st.floats(0.0, 120.0)),
    flatten=st.booleans(),
    time_stop_min=st.one_of(st.none(), st.integers(0, 400)),
    ohlc=st.tuples(prices, prices, prices, prices),
)
def test_the_scan_sees_an_exit_exactly_when_the_monitor_has_one(
    side: int,
    stop: float | None,
    targets: list[float],
    done: int,
    minute: int,
    before: float | None,
    flatten: bool,
    time_stop_min: int | None,
    ohlc: tuple[float, float, float, float],
) -> None:
    o, c = ohlc[0], ohlc[3]
    h, lo = max(ohlc), min(ohlc)
    ts = _OPEN + minute * _NS_MIN
    bar = Bar("SPY", "1min", ts, o, h, lo, c, 1000.0, _NS_MIN)
    plan = ExitPlan(
        stop=stop, targets=tuple(targets), flatten_eod=flatten,
        time_stop_minutes_before_close=before,
        time_stop_ns=None if time_stop_min is None else _OPEN + time_stop_min * _NS_MIN,
    )  # fmt: skip
    m = ManagedPosition("k", "SPY", side, plan, (1.0 / len(targets),) * len(targets) if targets
                        else (), False, qty=10.0, entry_price=100.0, stop=stop,
                        targets_done=min(done, len(targets)))  # fmt: skip
    flatten_minutes = 5.0
    rules = _exit_rules([m], flatten_minutes)
    probe = dataclasses.replace(m)
    monitor_exits = bool(price_exits(probe, bar)) or (
        time_exit(m, bar.close_ts_ns, _CLOSE, dt.date(2024, 3, 4), flatten_minutes) is not None
    )
    one = lambda v: np.array([v])  # noqa: E731
    end = quiet_span(
        0, one(ts), one(_NS_MIN), one(o), one(h), one(lo), one(c), np.zeros(1, np.bool_),
        _CLOSE, _CLOSE + 10 * 3_600_000_000_000, np.array([[10.0, 100.0, 1.0, 1.0, 0.0, 0.0]]),
        one(c).reshape(1, 1), 0, 0.0, 100_000.0, 0.02, False, rules, _CLOSE,
        _NO_PREMIUM, _NO_ROWS, np.zeros(1, np.bool_), np.empty((3, 0)), np.zeros(6), 0,
        _NEVER, np.empty(1),
    )  # fmt: skip
    assert (end == 0) == monitor_exits


def test_the_scan_writes_the_ledgers_equity_and_excursion() -> None:
    n = 50
    rng = np.random.default_rng(3)
    c = 100.0 + np.cumsum(rng.normal(0, 0.1, n))
    ts = _OPEN + np.arange(n, dtype=np.int64) * _NS_MIN
    dur = np.full(n, _NS_MIN, dtype=np.int64)
    eq = np.empty(n)
    empty_i, empty_f = np.empty(0, np.int64), np.empty(0)
    book = np.array([[-7.0, 100.0, 1.0, 1.0, 0.0, 0.0]])
    end = quiet_span(
        0, ts, dur, c, c + 0.05, c - 0.05, c, np.zeros(n, np.bool_), _CLOSE, _CLOSE,
        book, c.reshape(1, -1), 0, 50_000.0, 49_000.0, 0.02, True,
        (empty_i, empty_f, empty_f, empty_i, empty_f, empty_f), _CLOSE, _NO_PREMIUM, _NO_ROWS,
        np.zeros(n, np.bool_), np.empty((3, 0)), np.zeros(6), 0, _NEVER, eq,
    )  # fmt: skip
    mae, mfe = book[:, 4], book[:, 5]
    assert end == n
    assert eq.tolist() == [50_000.0 + -7.0 * float(x) * 1.0 for x in c]
    pnl = [-7.0 * (float(x) - 100.0) * 1.0 for x in c]
    assert mae[0] == min(0.0, *pnl) and mfe[0] == max(0.0, *pnl)
    assert math.isfinite(mae[0])


def test_progress_is_reported_without_stopping_the_fast_forward() -> None:
    bars = _bars()
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    calls: list[tuple[int, int]] = []
    res = run_backtest(
        bars, cfg, market=lambda ts: 18.0, progress=lambda d, t: calls.append((d, t))
    )
    n = len(bars)
    assert res.quiet_bars > 0.6 * n
    assert calls[-1] == (n, n) and all(t == n for _, t in calls)
    done = [d for d, _ in calls]
    assert done == sorted(done) and 50 <= len(calls) <= 101


pcts = st.one_of(st.none(), st.floats(0.05, 1.0))


@settings(max_examples=300, deadline=None)
@given(
    entry=st.one_of(st.floats(-5.0, 5.0), st.just(0.0)),
    side=st.sampled_from([1, -1]),
    ratio=st.sampled_from([1, 2, -1]),
    stop=pcts,
    take_all=pcts,
    take_half=pcts,
    half_taken=st.booleans(),
    qty=st.sampled_from([1.0, 3.0]),
    mid=st.floats(0.01, 10.0),
)
def test_the_scan_sees_a_premium_exit_exactly_when_the_monitor_acts(
    entry: float, side: int, ratio: int, stop: float | None, take_all: float | None,
    take_half: float | None, half_taken: bool, qty: float, mid: float,
) -> None:  # fmt: skip
    """The scan ends a span where the monitor's premium rules close something or change
    their own state (take-half taken on a single contract closes nothing but is taken)."""
    contract = OptionContract("SPY", dt.date(2024, 3, 8), 100.0, Right.CALL)
    plan = ExitPlan(premium_stop_pct=stop, take_all_pct=take_all, take_half_pct=take_half)
    m = ManagedPosition("k", "SPY", side, plan, (), False, legs=(Leg(contract, ratio),),
                        qty=qty, entry_price=entry, half_taken=half_taken)  # fmt: skip
    probe = dataclasses.replace(m)
    acts = bool(premium_exits(probe, 0.0 + ratio * mid)) or probe.half_taken != m.half_taken
    half = take_half if take_half is not None and not half_taken else None
    rules = np.array([entry, float(side), float(ratio), *(math.nan if x is None else x
                                                           for x in (stop, take_all, half))])  # fmt: skip
    assert _premium_exit_due(mid, rules) == acts


def _option_run(skip: bool, **kw: Any) -> tuple[BacktestResult, EventRecorder]:
    hist = synthetic_intraday("SPY", start="2023-02-27", days=40, seed=3)
    svc = MarketDataService.with_synthetic_chains(
        {"SPY": hist}, vix=synthetic_vix(hist, per="day"), seed=3
    )
    bus = EventBus()
    rec = EventRecorder(bus)
    # the synthetic VIX runs high: let gate 2 pass more often, for more option trades
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min").with_overrides(
        {"decision.max_vix": 90.0}
    )
    res = run_backtest(hist.iloc[-8 * 390 :], cfg, market=svc, quotes=svc.chain_provider,
                       bus=bus, skip_quiet=skip, keep_engine=True, **kw)  # fmt: skip
    return res, rec


def test_open_option_positions_are_fast_forwarded_with_the_same_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Option positions are marked at their quote mids and watched for premium and time
    exits over quiet spans: the records, equity, trades (excursions included), the ledger's
    last marks and Greeks are those of the per-bar replay."""
    spans: list[int] = []
    real = QuietBars._option_marks

    def counted(self: QuietBars, contracts: Any, i: int, ts_end: int) -> Any:
        spans.append(len(contracts))
        return real(self, contracts, i, ts_end)

    monkeypatch.setattr(QuietBars, "_option_marks", counted)
    fast, slow = _option_run(True), _option_run(False)
    _assert_same(fast, slow)
    assert fast[0].summary["trades"] >= 5 and len(spans) >= 5, (fast[0].summary, len(spans))
    assert max(spans) >= 2, "spans with several option positions open must occur"
    assert any(f.multiplier == 100.0 for f in fast[1].fills)
    ea, eb = fast[0].engine, slow[0].engine
    assert ea is not None and eb is not None
    pa = {s: (p.qty, p.mark, p.mark_ts_ns, p.unit_greeks) for s, p in ea.ledger.positions.items()}
    pb = {s: (p.qty, p.mark, p.mark_ts_ns, p.unit_greeks) for s, p in eb.ledger.positions.items()}
    assert pa == pb
    # metrics only: the same summary and equity as the per-bar replay
    a = _option_run(True, record="summary")[0]
    assert a.summary == slow[0].summary
    pd.testing.assert_series_equal(a.equity, slow[0].equity)


money = st.one_of(st.floats(-1e6, 1e7), st.sampled_from([0.0, math.nan, math.inf, -math.inf]))


@settings(max_examples=500, deadline=None)
@given(
    equity=money, gross=money, n_open=st.integers(0, 12), notional=money,
    held=st.sampled_from([0.0, 10.0, -5.0]), unit_risk=money, unit_notional=money,
    fraction=st.sampled_from([0.01, 0.005, 0.02]), max_units=st.integers(1, 20_000),
    max_open=st.integers(1, 10), symbol_pct=st.floats(0.01, 1.0),
    exposure_pct=st.floats(0.1, 4.0), order_notional=st.floats(1.0, HardLimits.MAX_ORDER_NOTIONAL),
)  # fmt: skip
@example(equity=1.0, gross=0.0, n_open=0, notional=0.0, held=0.0, unit_risk=3.2e-130,
         unit_notional=0.0, fraction=0.01, max_units=1, max_open=1, symbol_pct=1.0,
         exposure_pct=1.0, order_notional=1.0)  # a raw quantity beyond int64  # fmt: skip
def test_the_scans_sizer_gives_the_sizers_quantity(
    equity: float, gross: float, n_open: int, notional: float, held: float, unit_risk: float,
    unit_notional: float, fraction: float, max_units: int, max_open: int, symbol_pct: float,
    exposure_pct: float, order_notional: float,
) -> None:  # fmt: skip
    from tradekit.config import RiskConfig
    from tradekit.decision.sizing import Sizer
    from tradekit.portfolio.base import AccountSummary
    from tradekit.runtime.nb import sized_quantity

    risk = RiskConfig(max_open_positions=max_open, max_symbol_notional_pct=symbol_pct,
                      max_total_exposure_pct=exposure_pct, max_order_notional=order_notional)  # fmt: skip
    sizer = Sizer(risk, max_units)
    acct = AccountSummary(0, 0.0, equity, 0.0, gross, 0.0, 0.0, 0.0, 0.0, equity, n_open, 0)
    want = sizer(acct, notional, held, 100.0, unit_risk, unit_notional, fraction).quantity
    got = sized_quantity(equity, gross, n_open, notional, held, unit_risk, unit_notional,
                         fraction, np.array(sizer.limits))  # fmt: skip
    assert got == want
