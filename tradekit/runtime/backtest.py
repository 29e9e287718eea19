"""Replay backtests through the very same :class:`~tradekit.runtime.kernel.Engine` used live.

A backtest is ``for bar in feed: clock.set_time(bar.close); engine.on_bar(bar)`` — nothing
more. The :class:`EventRecorder` collects what the engine published, and
:class:`BacktestResult` turns it into DataFrames and a small summary. Because the engine is
the live one, every decision here is what the live trader would have decided on those bars.

Examples
--------
>>> from tradekit.data.datasets import load
>>> cfg = AlgorithmConfig(symbols=("AAPL",), timeframe="1D")
>>> res = run_backtest(load("aapl").iloc[:250], cfg, market=lambda ts: 18.0)
>>> res.summary["bars"]
250
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np
import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.events import Decision, Fill, Order, Setup, Signal
from tradekit.core.ids import make_id
from tradekit.data.feeds import ReplayFeed
from tradekit.decision.base import MarketView
from tradekit.execution.base import QuoteSource
from tradekit.runtime.kernel import Engine
from tradekit.runtime.precomputed import PrecomputedPipeline
from tradekit.store.convert import field_names, jsonable

__all__ = ["BacktestResult", "EventRecorder", "run_backtest", "summarize"]


class EventRecorder:
    """Bus subscriber that keeps the engine's records in memory, in publication order.

    :attr:`log` holds every record with the close time (ns) of the bar being processed when it
    was published — i.e. when it became known — which is what no-look-ahead tests compare.
    """

    def __init__(self, bus: EventBus) -> None:
        self.log: list[tuple[int, str, Any]] = []
        self._now = -1
        bus.subscribe("bars.*", self._on_bar, priority=100)
        bus.subscribe("*", self._on_any, priority=-100)
        self.signals: list[Signal] = []
        self.setups: list[Setup] = []
        self.decisions: list[Decision] = []
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.equity: list[tuple[int, float]] = []
        bus.subscribe("signals.*", lambda t, e: self.signals.append(e))
        bus.subscribe("setups.*", lambda t, e: self.setups.append(e))
        bus.subscribe("decisions.*", lambda t, e: self.decisions.append(e))
        bus.subscribe("orders.*", self._on_order)
        bus.subscribe("fills.*", lambda t, e: self.fills.append(e))

    def _on_bar(self, topic: str, bar: Any) -> None:
        self._now = bar.close_ts_ns

    def _on_any(self, topic: str, event: Any) -> None:
        if not topic.startswith(("bars.", "positions.snapshot")):
            self.log.append((self._now, topic, event))

    def _on_order(self, topic: str, order: Order) -> None:
        self.orders[order.id] = order


def _frame(records: list[Any]) -> pd.DataFrame:
    """The records as a frame, one column per field, built column by column.

    The same frame as ``pd.DataFrame([to_dict(r) for r in records])`` (tested), without a dict
    per record: plain columns are taken as they are, nested values through ``jsonable``.
    """
    if not records:
        return pd.DataFrame()
    names = field_names(records[0])
    get = attrgetter(*names)
    rows = [get(r) for r in records] if len(names) > 1 else [(get(r),) for r in records]
    cols = list(zip(*rows, strict=True))
    plain = (str, int, float, bool, type(None))
    data: dict[str, Any] = {}
    for name, col in zip(names, cols, strict=True):
        if all(type(v) in plain for v in col):
            data[name] = list(col)
        else:
            data[name] = [jsonable(v) for v in col]
    df = pd.DataFrame(data)
    if "ts_ns" in df:
        df.insert(0, "ts", pd.to_datetime(df["ts_ns"], unit="ns", utc=True))
    return df


@dataclass
class BacktestResult:
    """Everything a replay produced, as DataFrames, plus :attr:`summary`."""

    run_id: str
    config: AlgorithmConfig
    signals: pd.DataFrame
    setups: pd.DataFrame
    decisions: pd.DataFrame
    orders: pd.DataFrame
    fills: pd.DataFrame
    trades: pd.DataFrame
    equity: pd.Series
    summary: dict[str, Any] = field(default_factory=dict)
    engine: Engine | None = field(default=None, repr=False)


def summarize(equity: pd.Series, trades: pd.DataFrame, initial_cash: float) -> dict[str, Any]:
    """Headline figures of an equity curve and its closed trades.

    Returns total return (fraction), max drawdown (fraction, <= 0), trade count, win rate and
    profit factor (``inf`` with no losing trade, NaN with no trade).
    """
    final = float(equity.iloc[-1]) if len(equity) else initial_cash
    dd = 0.0
    if len(equity):
        values = equity.to_numpy(dtype=np.float64)
        peaks = np.maximum.accumulate(values)
        dd = float(np.min(values / peaks - 1.0))
    pnl = trades["pnl"].to_numpy(dtype=np.float64) if "pnl" in trades else np.empty(0)
    wins, losses = pnl[pnl > 0].sum(), -pnl[pnl < 0].sum()
    return {
        "initial_equity": initial_cash,
        "final_equity": final,
        "total_return": final / initial_cash - 1.0,
        "max_drawdown": dd,
        "trades": int(pnl.size),
        "win_rate": float((pnl > 0).mean()) if pnl.size else math.nan,
        "profit_factor": (float(wins / losses) if losses > 0 else math.inf)
        if pnl.size
        else math.nan,
    }


def run_backtest(
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    config: AlgorithmConfig | None = None,
    *,
    market: MarketView | Callable[[int], float | None] | None = None,
    quotes: QuoteSource | None = None,
    bus: EventBus | None = None,
    run_id: str | None = None,
    keep_engine: bool = False,
    fast: bool = True,
) -> BacktestResult:
    """Replay ``data`` bar by bar through a fresh :class:`Engine`.

    Parameters
    ----------
    data:
        One bar frame (symbol = ``config.symbols[0]``) or ``{symbol: frame}``; validated.
    config:
        The algorithm; its ``timeframe`` labels the bars.
    market, quotes:
        VIX / chains and option quotes (see :class:`Engine`).
    bus:
        Bring your own bus to attach a store or other subscribers before the replay.
    run_id:
        Identifier of the run (deterministic from the config hash and data span if None).
    keep_engine:
        Keep the engine on the result (for inspection; it holds the ledger).
    fast:
        Compute the signals and setups of the whole replay in one batch pass of the numba
        kernels before the loop (:class:`~tradekit.runtime.precomputed.PrecomputedPipeline`);
        every record is identical to the per-bar streaming path (``fast=False``, which is
        what the live runner does), only faster.
    """
    cfg = config if config is not None else AlgorithmConfig()
    bus = bus if bus is not None else EventBus()
    clock = SimClock()
    symbol = cfg.symbols[0] if isinstance(data, pd.DataFrame) else None
    feed = ReplayFeed(data, clock=clock, symbol=symbol, timeframe=cfg.timeframe)
    engine = Engine(cfg, clock=clock, bus=bus, market=market, quotes=quotes)
    if fast:
        for sym in feed.symbols:
            arrays = feed.arrays(sym)
            if arrays[0].shape[0]:
                pre = PrecomputedPipeline(
                    cfg, sym, cfg.timeframe, arrays, calendar=engine.calendar.name
                )
                engine.use_pipeline(sym, pre)
    rec = EventRecorder(bus)
    eq_ts: list[int] = []
    eq_val: list[float] = []
    for bar in feed:  # ReplayFeed sets the SimClock to the bar's close before yielding it
        engine.on_bar(bar)
        eq_ts.append(bar.close_ts_ns)
        eq_val.append(engine.ledger.equity)
    equity = pd.Series(eq_val, index=pd.to_datetime(eq_ts, unit="ns", utc=True), name="equity")
    trades = _frame(list(engine.ledger.closed_trades))
    rid = run_id or make_id("run", cfg.content_hash, eq_ts[0] if eq_ts else 0, len(eq_ts))
    summary = {
        "bars": len(eq_ts),
        "signals": len(rec.signals),
        "setups": len(rec.setups),
        "decisions": len(rec.decisions),
        "entries": sum(d.action.value == "ENTER" for d in rec.decisions),
        "fills": len(rec.fills),
        **summarize(equity, trades, cfg.execution.initial_cash),
    }
    return BacktestResult(
        run_id=rid,
        config=cfg,
        signals=_frame(rec.signals),
        setups=_frame(rec.setups),
        decisions=_frame(rec.decisions),
        orders=_frame(list(rec.orders.values())),
        fills=_frame(rec.fills),
        trades=trades,
        equity=equity,
        summary=summary,
        engine=engine if keep_engine else None,
    )
