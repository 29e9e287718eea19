"""Replay backtests through the very same :class:`~tradekit.runtime.kernel.Engine` used live.

:func:`backtest` (exported as ``tradekit.backtest``) is the public entry: bars, an optional
configuration and an optional :class:`~tradekit.strategy.Strategy` in, a
:class:`BacktestResult` out. :func:`run_backtest` is its engine. A backtest is ``for bar in feed: clock.set_time(bar.close); engine.on_bar(bar)`` — nothing
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
from typing import Any

import numpy as np
import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.events import Decision, Fill, Order, Setup, Signal, to_dict
from tradekit.core.ids import make_id
from tradekit.data.feeds import ReplayFeed
from tradekit.decision.base import MarketView
from tradekit.errors import DataError
from tradekit.execution.base import QuoteSource
from tradekit.runtime.kernel import Engine
from tradekit.strategy import Strategy, strategy_config, strategy_name

__all__ = [
    "BacktestResult",
    "EventRecorder",
    "backtest",
    "infer_timeframe",
    "run_backtest",
    "summarize",
]


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
    if not records:
        return pd.DataFrame()
    df = pd.DataFrame([to_dict(r) for r in records])
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
    strategy: str = "confluence"
    bars: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


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
    strategy: Strategy | None = None,
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
    strategy:
        What turns bars into setups (default the built-in confluence strategy); ``config``
        is used as given (see :func:`backtest` for the strategy's gate overrides).
    """
    cfg = config if config is not None else AlgorithmConfig()
    bus = bus if bus is not None else EventBus()
    clock = SimClock()
    symbol = cfg.symbols[0] if isinstance(data, pd.DataFrame) else None
    feed = ReplayFeed(data, clock=clock, symbol=symbol, timeframe=cfg.timeframe)
    engine = Engine(cfg, clock=clock, bus=bus, market=market, quotes=quotes, strategy=strategy)
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
        strategy=strategy_name(engine.strategy),
        bars=dict(data) if not isinstance(data, pd.DataFrame) else {symbol or "": data},
    )


_TIMEFRAMES: tuple[tuple[str, int], ...] = tuple(
    (tf, int(pd.Timedelta(tf).value)) for tf in ("1min", "5min", "15min", "30min", "1h", "4h")
)
_DAY_NS = int(pd.Timedelta("1D").value)


def infer_timeframe(bars: pd.DataFrame) -> str:
    """The timeframe rule of a bar frame from its median bar spacing.

    Intraday spacings must be one of 1, 5, 15, 30 minutes, 1 or 4 hours; spacings of one to
    four days (weekends, holidays) are daily bars.

    Raises
    ------
    DataError
        Fewer than two bars, or a spacing that is none of those (pass ``timeframe=``).
    """
    if len(bars.index) < 2:
        raise DataError("cannot infer the timeframe of fewer than two bars", rule="timeframe")
    step = int(pd.Series(pd.DatetimeIndex(bars.index).asi8).diff().median())
    for tf, ns in _TIMEFRAMES:
        if step == ns:
            return tf
    if _DAY_NS <= step <= 4 * _DAY_NS:
        return "1D"
    raise DataError(
        f"bar spacing {pd.Timedelta(step, unit='ns')} is no known timeframe; pass timeframe=",
        rule="timeframe",
    )


def backtest(
    bars: pd.DataFrame | Mapping[str, pd.DataFrame],
    config: AlgorithmConfig | None = None,
    strategy: Strategy | None = None,
    *,
    market: MarketView | Callable[[int], float | None] | None = None,
    quotes: QuoteSource | None = None,
    symbol: str | None = None,
    timeframe: str | None = None,
    bus: EventBus | None = None,
    run_id: str | None = None,
    keep_engine: bool = False,
) -> BacktestResult:
    """Backtest ``strategy`` on ``bars`` through the live engine: the one public entry.

    Parameters
    ----------
    bars:
        One bar frame or ``{symbol: frame}`` (the bar contract; validated).
    config:
        The algorithm, used exactly as given. ``None`` builds one for the data: the symbols
        (``symbol=``, else ``bars.attrs["symbol"]``, else ``"SPY"``), the timeframe
        (``timeframe=``, else :func:`infer_timeframe`), the strategy's
        ``config_overrides`` (:func:`~tradekit.strategy.strategy_config`; e.g. ``SmaCross``
        lets single-signal setups through gates 1, 3 and 4), and, when no ``market`` is
        given, ``decision.vix_missing_policy="allow"`` (no VIX is known; the session gate
        records "VIX missing: allow" on every decision). With your own config, apply
        ``strategy_config(strategy, config)`` yourself if the strategy needs it.
    strategy:
        Any :class:`~tradekit.strategy.Strategy`; default the built-in confluence algorithm.
    market, quotes:
        VIX / option chains and option quotes (see :class:`~tradekit.runtime.kernel.Engine`).
    symbol, timeframe:
        Only used to build the default config.
    bus, run_id, keep_engine:
        As in :func:`run_backtest`.

    Examples
    --------
    >>> from tradekit.data.datasets import load
    >>> from tradekit.strategy import SmaCross
    >>> res = backtest(load("aapl").iloc[:300], strategy=SmaCross(10, 30))
    >>> res.config.timeframe, res.strategy, len(res.equity)
    ('1D', 'sma_cross_10_30', 300)
    """
    if config is None:
        config = _default_config(bars, strategy, symbol, timeframe, with_market=market is not None)
    return run_backtest(
        bars, config, market=market, quotes=quotes, bus=bus, run_id=run_id,
        keep_engine=keep_engine, strategy=strategy,
    )  # fmt: skip


def _default_config(
    bars: pd.DataFrame | Mapping[str, pd.DataFrame],
    strategy: Strategy | None,
    symbol: str | None,
    timeframe: str | None,
    *,
    with_market: bool,
) -> AlgorithmConfig:
    if isinstance(bars, pd.DataFrame):
        symbols: tuple[str, ...] = (symbol or str(bars.attrs.get("symbol") or "SPY"),)
        first = bars
    else:
        symbols = tuple(bars)
        if not symbols:
            raise DataError("no bar frames given", rule="empty")
        first = bars[symbols[0]]
    tf = timeframe or infer_timeframe(first)
    cfg = AlgorithmConfig(symbols=symbols, timeframe=tf)
    if not with_market:
        cfg = cfg.with_overrides({"decision.vix_missing_policy": "allow"})
    return strategy_config(strategy, cfg)
