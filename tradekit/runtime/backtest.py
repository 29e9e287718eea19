"""Replay backtests through the very same :class:`~tradekit.runtime.kernel.Engine` used live.

:func:`backtest` (exported as ``tradekit.backtest``) is the public entry: bars, an optional
configuration and an optional :class:`~tradekit.strategy.Strategy` in, a
:class:`BacktestResult` out. :func:`run_backtest` is its engine. A backtest is ``for bar in feed: clock.set_time(bar.close); engine.on_bar(bar)`` — nothing
more. A :class:`~tradekit.runtime.records.SpillingRecorder` collects what the engine
published (on disk past a chunk of each kind, so memory stays bounded), and
:class:`BacktestResult` turns it into DataFrames when they are read, and a small summary
(:class:`EventRecorder` is the in-memory recorder with the publication log that the parity
tests compare). Because the engine is
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
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import DecisionAction
from tradekit.core.events import Decision, Fill, Order, Setup, Signal
from tradekit.core.ids import make_id
from tradekit.data.feeds import ReplayFeed
from tradekit.decision.base import MarketView
from tradekit.errors import ConfigError, DataError
from tradekit.execution.base import QuoteSource
from tradekit.runtime.gcpolicy import replay_gc
from tradekit.runtime.kernel import Engine
from tradekit.runtime.pages import small_pages
from tradekit.runtime.precomputed import PrecomputedPipeline
from tradekit.runtime.quiet import QuietBars
from tradekit.runtime.records import RecordFrames, SpillingRecorder, frame_of_records
from tradekit.strategy import Strategy, strategy_config, strategy_name

if TYPE_CHECKING:
    from tradekit.store.repository import Store

__all__ = [
    "BacktestResult",
    "EventCounter",
    "EventRecorder",
    "Record",
    "backtest",
    "infer_timeframe",
    "run_backtest",
    "summarize",
]


class EventRecorder:
    """Bus subscriber that keeps the engine's records in memory, in publication order.

    :attr:`log` holds every record (bars and position snapshots aside) with the time (ns) of the
    bus's clock when it was published — the close of the bar being processed, i.e. when it
    became known — which is what no-look-ahead tests compare. It does not listen to the bars,
    so a replay may fast-forward over quiet bars (:mod:`tradekit.runtime.quiet`) around it.
    With ``log=False`` the log is not kept (a backtest returns the records by kind only).
    """

    def __init__(self, bus: EventBus, *, log: bool = True) -> None:
        self.log: list[tuple[int, str, Any]] = []
        self._bus = bus
        if log:
            bus.subscribe("*", self._on_any, priority=-100,
                          exclude=("bars.", "positions.snapshot"))  # fmt: skip
        self.signals: list[Signal] = []
        self.setups: list[Setup] = []
        self.decisions: list[Decision] = []
        self.orders: dict[str, Order] = {}
        self.fills: list[Fill] = []
        bus.subscribe("signals.*", lambda t, e: self.signals.append(e))
        bus.subscribe("setups.*", lambda t, e: self.setups.append(e))
        bus.subscribe("decisions.*", lambda t, e: self.decisions.append(e))
        bus.subscribe("orders.*", self._on_order)
        bus.subscribe("fills.*", lambda t, e: self.fills.append(e))

    def _on_any(self, topic: str, event: Any) -> None:
        self.log.append((self._bus.now_ns(), topic, event))

    def _on_order(self, topic: str, order: Order) -> None:
        self.orders[order.id] = order

    def counts(self) -> dict[str, int]:
        """The summary counts of what was recorded."""
        return {"signals": len(self.signals), "setups": len(self.setups),
                "decisions": len(self.decisions),
                "entries": sum(d.action.value == "ENTER" for d in self.decisions),
                "fills": len(self.fills)}  # fmt: skip

    def frames(self) -> dict[str, pd.DataFrame]:
        """The records as one frame per kind."""
        return {"signals": frame_of_records(self.signals), "setups": frame_of_records(self.setups),
                "decisions": frame_of_records(self.decisions), "orders": frame_of_records(list(self.orders.values())),
                "fills": frame_of_records(self.fills)}  # fmt: skip


class EventCounter:
    """Bus subscriber that only counts what a metrics-only backtest would have recorded."""

    def __init__(self, bus: EventBus) -> None:
        self.signals = self.setups = self.decisions = self.entries = self.fills = 0
        bus.subscribe("signals.*", self._on_signal)
        bus.subscribe("setups.*", self._on_setup)
        bus.subscribe("decisions.*", self._on_decision)
        bus.subscribe("fills.*", self._on_fill)

    def _on_signal(self, topic: str, event: Any) -> None:
        self.signals += 1

    def _on_setup(self, topic: str, event: Any) -> None:
        self.setups += 1

    def _on_decision(self, topic: str, event: Decision) -> None:
        self.decisions += 1
        self.entries += event.action.value == "ENTER"

    def _on_fill(self, topic: str, event: Any) -> None:
        self.fills += 1

    def counts(self) -> dict[str, int]:
        """The summary counts (as :meth:`EventRecorder.counts`)."""
        return {"signals": self.signals, "setups": self.setups, "decisions": self.decisions,
                "entries": self.entries, "fills": self.fills}  # fmt: skip

    def frames(self) -> dict[str, pd.DataFrame]:
        """One empty frame per record kind: nothing was kept."""
        return {k: pd.DataFrame() for k in ("signals", "setups", "decisions", "orders", "fills")}


#: ``"all"``: every record as a frame; ``"summary"``: equity, trades and the summary only
Record = Literal["all", "summary"]


@dataclass
class BacktestResult:
    """Everything a replay produced, as DataFrames, plus :attr:`summary`, :attr:`stats` and
    :meth:`plot`. ``bars`` are the replayed frames by symbol, ``strategy`` the strategy's name,
    ``quiet_bars`` how many bars were fast-forwarded (:mod:`tradekit.runtime.quiet`; 0 when
    every bar went through ``Engine.on_bar``)."""

    run_id: str
    config: AlgorithmConfig
    trades: pd.DataFrame
    equity: pd.Series
    summary: dict[str, Any] = field(default_factory=dict)
    engine: Engine | None = field(default=None, repr=False)
    strategy: str = "confluence"
    bars: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    quiet_bars: int = 0
    #: the record frames, built when first read (:mod:`tradekit.runtime.records`)
    records: RecordFrames = field(default_factory=RecordFrames, repr=False)

    @property
    def signals(self) -> pd.DataFrame:
        """Every signal published, in order (empty with ``record="summary"``)."""
        return self.records["signals"]

    @property
    def setups(self) -> pd.DataFrame:
        """Every setup decided (empty with ``record="summary"``)."""
        return self.records["setups"]

    @property
    def decisions(self) -> pd.DataFrame:
        """Every decision with its gates (empty with ``record="summary"``)."""
        return self.records["decisions"]

    @property
    def orders(self) -> pd.DataFrame:
        """Every order in its last state (empty with ``record="summary"``)."""
        return self.records["orders"]

    @property
    def fills(self) -> pd.DataFrame:
        """Every fill (empty with ``record="summary"``)."""
        return self.records["fills"]

    @cached_property
    def stats(self) -> pd.Series:
        """Performance of the run (:func:`tradekit.analytics.performance`: returns, Sharpe,
        Sortino, Calmar, drawdown, win rate, profit factor, expectancy, average R, ...)."""
        from tradekit.analytics.metrics import performance

        return performance(
            self.equity, self.trades, initial_equity=self.config.execution.initial_cash
        )

    def plot(self, *, symbol: str | None = None, height: int = 260) -> Any:
        """A Bokeh layout: price with entries and exits, equity, drawdown
        (:func:`tradekit.analytics.plot.plot_backtest`)."""
        from tradekit.analytics.plot import plot_backtest

        return plot_backtest(self, symbol=symbol, height=height)


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


@small_pages()  # fresh batch buffers and records: no huge-page compaction stalls
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
    strategy: Strategy | None = None,
    record: Record = "all",
    skip_quiet: bool = True,
    progress: Callable[[int, int], None] | None = None,
    prescreen: bool = True,
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
    strategy:
        What turns bars into setups (default the built-in confluence strategy); ``config``
        is used as given (see :func:`backtest` for the strategy's gate overrides).
    record:
        ``"all"`` (default): the signals, setups, decisions, orders and fills as frames.
        ``"summary"``: only ``equity``, ``trades`` and ``summary`` (the same counts); the
        record frames are empty. The engine makes the same decisions either way; this is what
        sweeps and walk-forward folds run, since they read only metrics (with a strategy that
        does not read ``ctx.signals``, the signal records are not even built).
    skip_quiet:
        With ``fast``, fast-forward over the bars on which the engine provably only marks
        (:mod:`tradekit.runtime.quiet`: no setup, order, exit or limit; nobody listening to
        bars); the records and the equity are identical (tested). False processes every bar.
    progress:
        Called as ``progress(bars_done, total)`` about every 1 % of the bars and at the end
        (a UI's progress bar; unlike a ``bars.*`` subscriber, it lets quiet bars be skipped).
    prescreen:
        With ``record="summary"`` and ``skip_quiet``: find the setups that a gate refuses on
        the setup alone (gates 1–5 and the options IV-rank band,
        :mod:`tradekit.decision.prescreen`) in one array pass
        and count them as SKIP decisions instead of deciding them one by one (nobody may
        listen to setups or decisions on ``bus``); the counts, equity and trades are
        identical (tested). About nine setups in ten of the default configuration are such.
    """
    if record not in ("all", "summary"):
        raise ConfigError(f"record must be 'all' or 'summary', got {record!r}")
    summary_only = record == "summary"
    cfg = config if config is not None else AlgorithmConfig()
    bus = bus if bus is not None else EventBus()
    clock = SimClock()
    symbol = cfg.symbols[0] if isinstance(data, pd.DataFrame) else None
    feed = ReplayFeed(data, clock=clock, symbol=symbol, timeframe=cfg.timeframe)
    engine = Engine(cfg, clock=clock, bus=bus, market=market, quotes=quotes, strategy=strategy)
    build_signals = not summary_only or getattr(engine.strategy, "reads_signals", True)
    batches: list[PrecomputedPipeline] = []
    if fast:
        for sym in feed.symbols:
            arrays = feed.arrays(sym)
            if arrays[0].shape[0]:
                pre = PrecomputedPipeline(cfg, sym, cfg.timeframe, arrays,
                                          calendar=engine.calendar.name,
                                          signals=bool(build_signals))  # fmt: skip
                engine.use_pipeline(sym, pre)
                batches.append(pre)
    watched = bus.listens("setups.new") or any(
        bus.listens(f"decisions.{a.value.lower()}") for a in DecisionAction
    )
    rec: SpillingRecorder | EventCounter = (
        EventCounter(bus) if summary_only else SpillingRecorder(bus)
    )
    quiet = QuietBars.for_replay(engine, feed, batches[0]) if skip_quiet and batches else None
    if quiet is not None and prescreen and summary_only and not watched:
        quiet.pass_over_certain_skips()  # no records kept: count them instead of deciding
        engine.count_state_refusals = True  # ... and the refusals on the account state
    n = len(feed)
    eq_val = np.empty(n, dtype=np.float64)
    step = max(1, n // 100)
    report = step if progress is not None else n + 1
    with replay_gc():  # millions of long-lived records: fewer collector passes
        while (i := feed.position) < n:
            if i >= report:
                progress(i, n)  # type: ignore[misc]
                report = (i // step + 1) * step
            if quiet is not None and quiet.advance(i, eq_val) > i:
                continue  # bars i.. were quiet: fast-forwarded, their equity written
            bar = feed.next_bar()  # the SimClock is set to the bar's close before it is delivered
            if bar is None:
                break
            engine.on_bar(bar)
            eq_val[i] = engine.ledger.equity
    if progress is not None:
        progress(feed.position, n)
    eq_ts = feed.close_times()[: feed.position]
    equity = pd.Series(
        eq_val[: feed.position], index=pd.to_datetime(eq_ts, unit="ns", utc=True), name="equity"
    )
    trades = frame_of_records(list(engine.ledger.closed_trades))
    rid = run_id or make_id("run", cfg.content_hash, int(eq_ts[0]) if len(eq_ts) else 0, len(eq_ts))
    counts = rec.counts()
    passed = sum(p.n_setups_passed for p in batches)  # certain SKIPs, counted not decided
    counts["setups"] += passed
    counts["decisions"] += passed + engine.refusals_counted
    if not build_signals:  # counted by the batch pipelines, never published
        counts["signals"] += sum(p.n_signals for p in batches)
    summary = {
        "bars": len(eq_ts),
        **counts,
        **summarize(equity, trades, cfg.execution.initial_cash),
    }
    frames = (
        RecordFrames(recorder=rec)
        if isinstance(rec, SpillingRecorder)
        else RecordFrames(rec.frames())
    )
    return BacktestResult(
        run_id=rid,
        config=cfg,
        records=frames,
        trades=trades,
        equity=equity,
        summary=summary,
        engine=engine if keep_engine else None,
        strategy=strategy_name(engine.strategy),
        bars=dict(data) if not isinstance(data, pd.DataFrame) else {symbol or "": data},
        quiet_bars=quiet.skipped if quiet is not None else 0,
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
    step = int(np.median(np.diff(pd.DatetimeIndex(bars.index).as_unit("ns").asi8)))
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
    store: Store | None = None,
    data_label: str | None = None,
    params: Mapping[str, Any] | None = None,
    fast: bool = True,
    record: Record = "all",
    progress: Callable[[int, int], None] | None = None,
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
    store:
        Record the run in this DuckDB store (:mod:`tradekit.runtime.recording`): a
        ``backtest_runs`` row with the performance as results, every record under the run id
        (a free one: ``-2``, ``-3``... is appended when the id is taken) and the equity marks,
        readable with ``RunData.from_store(store, result.run_id)``.
    data_label, params:
        Recorded with the run in ``store``: what the bars are (``"aapl"``, a file path,
        ``"SYNTHETIC SPY 1min seed 11"``) and extra parameters (days, seed...).
    fast:
        As in :func:`run_backtest` (batch-precomputed signals; identical records).
    record:
        As in :func:`run_backtest`: ``"summary"`` keeps only equity, trades and the summary
        (not with ``store=``, which records every row).
    progress:
        As in :func:`run_backtest`: ``progress(bars_done, total)`` about every 1 % of the bars.

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
    if store is not None:
        if record != "all":
            raise ConfigError("a run recorded in a store keeps every record: record='all'")
        return _recorded(bars, config, strategy, store, market, quotes, bus, run_id, keep_engine,
                         data_label, params, fast, progress)  # fmt: skip
    return run_backtest(
        bars, config, market=market, quotes=quotes, bus=bus, run_id=run_id,
        keep_engine=keep_engine, strategy=strategy, fast=fast, record=record, progress=progress,
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


def _recorded(
    bars: pd.DataFrame | Mapping[str, pd.DataFrame],
    config: AlgorithmConfig,
    strategy: Strategy | None,
    store: Store,
    market: MarketView | Callable[[int], float | None] | None,
    quotes: QuoteSource | None,
    bus: EventBus | None,
    run_id: str | None,
    keep_engine: bool,
    data_label: str | None,
    extra: Mapping[str, Any] | None,
    fast: bool,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    from tradekit.runtime.recording import free_run_id, record_backtest

    frames = {config.symbols[0]: bars} if isinstance(bars, pd.DataFrame) else dict(bars)
    first = min((f.index[0] for f in frames.values() if len(f)), default=None)
    n = sum(len(f) for f in frames.values())
    name = strategy_name(strategy) if strategy is not None else "confluence"
    base = run_id or make_id("run", config.content_hash, name, str(first), n)
    rid = free_run_id(store, base)
    params = {"strategy": repr(strategy) if strategy is not None else "ConfluenceStrategy()",
              "symbols": list(frames), "timeframe": config.timeframe, "bars": n,
              "start": str(first), "config_name": config.name,
              "config_version": config.version, **dict(extra or {})}  # fmt: skip
    bus = bus if bus is not None else EventBus()
    with record_backtest(store, bus, config, rid, params, data_label=data_label) as rec:
        res = run_backtest(bars, config, market=market, quotes=quotes, bus=bus, run_id=rid,
                           keep_engine=True, strategy=strategy, fast=fast,
                           progress=progress)  # fmt: skip
        rec.finish(res, bars)
    if not keep_engine:
        res.engine = None
    return res
