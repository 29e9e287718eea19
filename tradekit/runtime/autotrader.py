"""``AutoTrader``: the paper/shadow auto-trade service around one engine, on the running loop.

It wraps one :class:`~tradekit.runtime.kernel.Engine` and a
:class:`~tradekit.runtime.live.LiveRunner` and adds what a service needs:

* **States** ``STOPPED / RUNNING / PAUSED / HALTED``, each change persisted at once in
  ``auto_trade_state`` (key ``trader`` of the run) and published on ``state.trader``. HALTED is
  the risk engine's latched kill state: bars are still processed (positions marked, decisions
  recorded), no order goes out, and only :meth:`reset` leaves it.
* **Runs**: every run has its own id and a row in ``backtest_runs`` (``kind = 'live'``, config
  hash, data label, status, results). A trader started against a database whose latest live run
  of the same config and data was interrupted *continues* that run; otherwise a new run begins.
* **Crash recovery**: the store subscriber buffers every record of the run and writes them,
  with a checkpoint of the engine (:mod:`tradekit.runtime.checkpoint`), in one transaction —
  after any bar with a fill, a state change or an alert, after an operator's order, every
  ``checkpoint_every`` bars and at least every ``checkpoint_interval_s`` seconds. A restart
  restores the checkpoint, skips the bars up to it and re-feeds the rest: the same orders and
  fills with the same deterministic ids, none sent or booked twice. A checkpoint that does not
  load or does not match the stored fills starts the trader HALTED with an alert saying why.
* **Fill journal** (:mod:`tradekit.store.wal`): each fill is appended to ``<db>.fills.wal`` the
  moment it is booked (before any viewer hears of it), so it is on disk long before the
  checkpoint commits it. After a crash, the re-fed bars must give back every journaled fill of
  the bars after the checkpoint, identical; if one differs or is missing, the trader halts.
* **Kill switch**: the flag file of ``tradekit kill`` is checked *before* each bar reaches the
  engine, so a trader whose loop was stuck halts before any later order can fill.
* **Schedule** (:mod:`tradekit.runtime.schedule`, on bar time): the daily rollup into
  ``daily_performance`` at each session close; intraday positions no exit plan manages are
  flattened before the close; the status reports the phase.
* **Hot configuration**: :meth:`activate_config` takes effect at the next bar, never mid-bar;
  :meth:`set_mode` (PAPER / SHADOW) at the next session. Both are recorded (alert + state).
* **Alerts** (kill switch, daily-loss breach, stale feed, repeated errors, recovery outcome)
  are published on ``alerts.trader`` and stored.

Examples
--------
In a notebook cell (the loop is already running), via the replay factory::

    trader = replay_trader("synthetic", days=1)
    trader.start()
    trader.status().state        # 'RUNNING'
    await trader.wait()
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import Clock, SimClock
from tradekit.core.enums import AlertLevel, RunMode, TradingState
from tradekit.core.events import Alert, Bar, Fill, StateChange
from tradekit.core.ids import make_id
from tradekit.decision.base import MarketView, OptionsMarketView
from tradekit.errors import ConfigError, RecoveryError, TraderError
from tradekit.execution.base import QuoteSource
from tradekit.runtime.checkpoint import CHECKPOINT_FORMAT, engine_digest, engine_state
from tradekit.runtime.daily import DailyTracker
from tradekit.runtime.kernel import BarOutcome, Engine
from tradekit.runtime.live import LiveRunner, RunnerState
from tradekit.runtime.recovery import reconcile, restore_run, transplant
from tradekit.runtime.schedule import Phase, TradingSchedule
from tradekit.store import Checkpoint, Store, StoreSubscriber
from tradekit.store.convert import record_payload
from tradekit.store.journal import STORE_PRIORITY
from tradekit.store.wal import FillJournal, JournalEntry, fill_line

__all__ = ["PROCESS_KEY", "STATUS_KEY", "TRADER_KEY", "AutoTrader", "TraderState", "TraderStatus"]

log = logging.getLogger("tradekit.trader")

#: ``auto_trade_state`` keys of a run: its state, owning process (pid, heartbeat) and status.
TRADER_KEY = "trader"
PROCESS_KEY = "trader.process"
STATUS_KEY = "trader.status"


class TraderState(StrEnum):
    STOPPED = "STOPPED"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    HALTED = "HALTED"


@dataclass(frozen=True, slots=True)
class TraderStatus:
    """What the trader is doing, in one record (``to_dict`` for JSON).

    Money in account currency; ``day_loss`` is the day's loss (>= 0) against
    ``max_daily_loss`` (the limit in currency); ``feed_lag_s`` is the wall time since the last
    bar arrived (None before the first); times are int ns UTC.
    """

    state: str
    mode: str
    symbols: tuple[str, ...]
    config_name: str
    config_version: str
    config_id: str
    run_id: str
    data_label: str
    last_bar_ts_ns: int | None
    bars_seen: int
    counts: dict[str, int]
    equity: float
    cash: float
    day_pnl: float
    open_positions: int
    positions: dict[str, float]
    trades_today: int
    max_trades: int
    day_loss: float
    max_daily_loss: float
    feed_lag_s: float | None
    market_open: bool
    phase: str
    halt_reason: str
    alerts: int
    pid: int = field(default_factory=os.getpid)
    next_mode: str | None = None

    @property
    def config_version_label(self) -> str:
        return f"{self.config_name} v{self.config_version}"

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["symbols"] = list(self.symbols)
        return d


def _new_run_id(config_id: str, data_label: str) -> str:
    return make_id("live", config_id, data_label, time.time_ns(), os.getpid())


class AutoTrader:
    """The auto-trade orchestrator (see the module docstring).

    Parameters
    ----------
    config:
        The algorithm; saved in ``algorithm_configs``.
    feed:
        Async iterable of closed bars (``ReplayFeed`` / ``PollingFeed``).
    store:
        The writable store this process owns (``None``: a throw-away in-memory store).
    market, quotes:
        VIX / chains and option quotes (see :class:`~tradekit.runtime.kernel.Engine`).
    bus:
        The event bus (a new one when None); the store, UI and WebSocket subscribe to it.
    clock:
        The engine clock; default the feed's clock when it has one, else a new ``SimClock``.
    kill_flag_path:
        The flag file ``tradekit kill`` writes; checked before every bar.
    data_label:
        What is traded, e.g. ``"SYNTHETIC SPY 1min seed 3"`` (stored with the run).
    run_id:
        Continue (or create) this run; default: continue the latest interrupted run of the same
        config and data, else a new run. ``new_run=True`` always starts a new one.
    feed_factory:
        Builds a fresh feed (for a start after a stop; the bars already processed are skipped).
    checkpoint_every, checkpoint_interval_s:
        Checkpoint at least every this many bars / wall seconds (and after every bar with a
        fill, a state change or an alert). Orders sent by the engine between checkpoints are
        re-created identically by re-feeding the bars after a crash.
    stale_feed_s:
        Alert when no bar arrived for this many wall seconds while RUNNING in a session.
    max_errors:
        Consecutive failing bars before the kill switch trips.
    on_bar:
        Called after every bar with its outcome (a console printer, a widget).
    status_path:
        JSON file with the latest status and the owning pid (for ``tradekit status`` while the
        database is locked); default ``<db>.trader.json`` beside a file database.
    fsync_fills:
        Flush each journaled fill to the disk before it is published (survives a power cut,
        not only a crash of the process; costs a disk flush per fill).
    """

    def __init__(
        self,
        config: AlgorithmConfig,
        *,
        feed: AsyncIterable[Bar],
        store: Store | None,
        market: MarketView | OptionsMarketView | Callable[[int], float | None] | None = None,
        quotes: QuoteSource | None = None,
        bus: EventBus | None = None,
        clock: Clock | None = None,
        kill_flag_path: str | os.PathLike[str] | None = None,
        data_label: str = "",
        run_id: str | None = None,
        new_run: bool = False,
        feed_factory: Callable[[], AsyncIterable[Bar]] | None = None,
        checkpoint_every: int = 200,
        checkpoint_interval_s: float = 1.0,
        heartbeat_s: float = 1.0,
        stale_feed_s: float | None = None,
        max_errors: int = 5,
        status_path: str | os.PathLike[str] | None = None,
        on_bar: Callable[[BarOutcome], None] | None = None,
        fsync_fills: bool = False,
    ) -> None:
        if checkpoint_every < 1:
            raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
        self.store = store if store is not None else Store.open(":memory:")
        self.bus = bus if bus is not None else EventBus()
        feed_clock = getattr(feed, "clock", None)
        self.clock: Clock = clock or (feed_clock if feed_clock is not None else SimClock())
        self.feed = feed
        self.feed_factory = feed_factory
        self.market, self.quotes = market, quotes
        self.kill_flag_path = Path(kill_flag_path) if kill_flag_path is not None else None
        self.data_label = data_label
        self.checkpoint_every = checkpoint_every
        self.checkpoint_interval_s = checkpoint_interval_s
        self.heartbeat_s = heartbeat_s
        self.stale_feed_s = stale_feed_s
        self.max_errors = max_errors
        self.on_bar = on_bar
        if status_path is None and self.store.path != ":memory:":
            status_path = self.store.path + ".trader.json"
        self.status_path = Path(status_path) if status_path is not None else None

        self.state = TraderState.STOPPED
        self.recovery_error: str | None = None
        self.alerts_published = 0
        self._sub: StoreSubscriber | None = None
        self._deferred: list[Alert] = []  # alerts raised before the subscriber exists
        self._resume_after_ns = -1
        self._runner: LiveRunner | None = None
        self._pending_config: AlgorithmConfig | None = None
        self._pending_mode: RunMode | None = None
        self._last_bar: Bar | None = None
        self._last_bar_wall: float | None = None
        self._stale_alerted = False
        self._heartbeat: asyncio.Task[None] | None = None
        self._dirty = False
        self._cp_pending = False  # a checkpoint is scheduled for right after this bar
        self.journal: FillJournal | None = None
        self._hold_journal = False  # a journal problem was found: keep the file for a look
        #: journaled fills of the bars after the checkpoint a restart resumed from: the
        #: re-fed bars must give each of them back, identical (fill id -> journal entry)
        self._expected: dict[str, JournalEntry] = {}
        self._journal_problems: list[str] = []
        self._bar_close_ns = -1  # close of the bar being processed

        base_id = self.store.save_config(config)
        self.run_id, resume = self._resolve_run(base_id, run_id, new_run)
        self.journal = FillJournal.beside(self.store.path, self.run_id, fsync=fsync_fills)
        self.engine = self._build_engine(config)
        self.daily = DailyTracker(self.engine.ledger.initial_cash)
        if resume:
            self._recover()
        else:
            self.store.create_live_run(self.run_id, config_id=base_id, data_label=data_label,
                                       params={"mode": config.decision.mode.value,
                                               "symbols": list(config.symbols),
                                               "timeframe": config.timeframe})  # fmt: skip
        self._prev_close_ns = self._resume_after_ns
        self.config_id = self.engine.config.content_hash
        self.schedule = TradingSchedule.from_config(self.engine.config)
        self._sub = self._subscriber()
        for alert in self._deferred:
            self.bus.publish("alerts.trader", alert)
        self._deferred.clear()
        if self.journal is not None:  # first of all: on disk before anybody hears of the fill
            self.bus.subscribe("fills.*", self._journal_fill, priority=STORE_PRIORITY + 1)
        self.bus.subscribe("fills.*", self._on_change, priority=-50)
        self.bus.subscribe("risk.state", self._on_risk_state, priority=-50)
        self._last_cp_bars = self.bars_seen
        self._last_cp_wall = time.monotonic()
        halted = self.engine.risk.trading_state is TradingState.HALTED
        self._set_state(TraderState.HALTED if halted else TraderState.STOPPED,
                        self.engine.risk.state_reason if halted else "created")  # fmt: skip

    # -- construction ------------------------------------------------------------------------
    def _resolve_run(self, config_id: str, run_id: str | None, new_run: bool) -> tuple[str, bool]:
        if run_id is not None:
            row = self.store.live_run(run_id)
            if row is not None and row.status != "running":
                raise TraderError(f"run {run_id!r} is {row.status}; it cannot be continued")
            return run_id, row is not None
        last = self.store.latest_live_run()
        if (
            not new_run
            and last is not None
            and last.status == "running"
            and last.data_label == self.data_label
            and last.config_id == config_id
        ):
            return last.run_id, True
        return _new_run_id(config_id, self.data_label), False

    def _build_engine(self, config: AlgorithmConfig) -> Engine:
        return Engine(config, clock=self.clock, bus=self.bus, market=self.market,
                      quotes=self.quotes, calendar=config.decision.calendar,
                      state_store=self.store, kill_flag_path=self.kill_flag_path)  # fmt: skip

    def _subscriber(self) -> StoreSubscriber:
        cfg = self.engine.config
        # everything is buffered and written with the checkpoint, in one transaction
        return StoreSubscriber(self.store, self.bus, run_id=self.run_id, batch_size=10**9,
                               flush_interval_s=None, sync_topics=(), clock=self.clock,
                               config_hash=cfg.content_hash, algorithm_version=cfg.version)  # fmt: skip

    def _recover(self) -> None:
        cp = self.store.load_checkpoint(self.run_id)
        after = cp.bar_ts_ns if cp is not None else -1
        if self.journal is not None:  # fills booked after the last commit, before the crash
            self._expected = {e.fill_id: e for e in self.journal.entries(self.run_id)
                              if e.bar_ns > after}  # fmt: skip
        if cp is None:
            return  # the run never reached a checkpoint: it starts from its first bar
        try:
            self.engine = restore_run(self.engine, cp, self.store, self._build_engine)
            reconcile(self.engine, cp, self.store, self.run_id)
        except RecoveryError as exc:
            self.recovery_error = str(exc)
            self.engine = self._build_engine(self.engine.config)
            self._resume_after_ns = cp.bar_ts_ns
            self.engine.kill(f"recovery failed: {exc}", by="recovery")
            self._alert(AlertLevel.CRITICAL, f"recovery of run {self.run_id} failed: {exc}",
                        {"checkpoint_bar_ns": cp.bar_ts_ns})  # fmt: skip
            return
        self._resume_after_ns = cp.bar_ts_ns
        set_time = getattr(self.clock, "set_time", None)
        if set_time is not None:
            set_time(cp.bar_ts_ns)
        self.daily.load(cp.digest.get("daily", {}))
        self._alert(AlertLevel.INFO,
                    f"run {self.run_id} resumed from its checkpoint after bar "
                    f"{cp.bar_ts_ns} ({cp.bars_seen} bars); later bars are re-fed",
                    {"checkpoint_bar_ns": cp.bar_ts_ns, "bars_seen": cp.bars_seen})  # fmt: skip

    # -- properties ----------------------------------------------------------------------------
    @property
    def bars_seen(self) -> int:
        return int(self.engine.counts.get("bars", 0))

    @property
    def config(self) -> AlgorithmConfig:
        return self.engine.config

    @property
    def is_running(self) -> bool:
        return self._runner is not None and self._runner.state in (
            RunnerState.RUNNING, RunnerState.PAUSED,
        )  # fmt: skip

    # -- control ---------------------------------------------------------------------------------
    def start(self) -> asyncio.Task[None]:
        """Start trading on the running loop and return the task (does not block).

        Raises
        ------
        TraderError
            Already running, or stopped with an exhausted feed and no ``feed_factory``.
        """
        if self.is_running:
            raise TraderError("the trader is already running")
        if self._runner is not None:  # a previous start ended: the feed is spent
            if self.feed_factory is None:
                raise TraderError("this trader's feed has ended or was stopped; pass "
                                  "feed_factory= or build a new AutoTrader (it resumes the run)")  # fmt: skip
            self.feed = self.feed_factory()
            if self._last_bar is not None:
                self._resume_after_ns = self._last_bar.close_ts_ns
        self._runner = LiveRunner(self.engine, self._bars(), on_outcome=self._after_bar,
                                  max_errors=self.max_errors)  # fmt: skip
        self._set_process()
        task = self._runner.start()
        task.add_done_callback(self._on_done)
        halted = self.engine.risk.trading_state is TradingState.HALTED
        self._set_state(TraderState.HALTED if halted else TraderState.RUNNING,
                        self.engine.risk.state_reason if halted else "start")  # fmt: skip
        self._heartbeat = asyncio.get_running_loop().create_task(
            self._beat(), name="tradekit-heartbeat"
        )
        return task

    def panel(self, *, period_ms: int = 250, rollover: int = 2_000) -> Any:
        """Compact controls and live chart of this trader for a notebook cell (Panel); see
        :func:`tradekit.dashboards.notebook.trader_panel`."""
        from tradekit.dashboards.notebook import trader_panel

        return trader_panel(self, period_ms=period_ms, rollover=rollover)

    def pause(self) -> None:
        """Stop taking bars after the current one (RUNNING -> PAUSED)."""
        if self.state is TraderState.RUNNING and self._runner is not None:
            self._runner.pause()
            self._set_state(TraderState.PAUSED, "pause")

    def resume(self) -> None:
        """PAUSED -> RUNNING."""
        if self.state is TraderState.PAUSED and self._runner is not None:
            self._runner.resume()
            self._set_state(TraderState.RUNNING, "resume")

    async def stop(self) -> None:
        """Stop the feed and the runner, write a final checkpoint; the run stays resumable."""
        stop_feed = getattr(self.feed, "stop", None)
        if stop_feed is not None:
            stop_feed()
        if self._runner is not None:
            await self._runner.stop()
        await self._stop_heartbeat()
        self._checkpoint()
        if self.state is not TraderState.HALTED:
            self._set_state(TraderState.STOPPED, "stop")
        self._write_status_file(alive=False)
        if self.journal is not None:
            self.journal.close()

    async def wait(self) -> None:
        """Wait until the feed is exhausted or the trader stopped."""
        if self._runner is not None:
            await self._runner.wait()
        await self._stop_heartbeat()

    def kill(self, reason: str, *, flatten: bool = False, by: str = "operator") -> None:
        """Trip the kill switch (HALTED, working orders cancelled, persisted), optionally
        flattening every position (closing orders fill at the next bar)."""
        self.engine.kill(reason, by=by)
        if flatten:
            self.engine.killswitch.flatten()
        self._set_state(TraderState.HALTED, reason)
        self._checkpoint()

    def flatten(self) -> None:
        """Send market orders closing every open position (they fill at the next bar)."""
        self.engine.killswitch.flatten()
        self._checkpoint()  # an operator's order is not re-created by re-feeding bars

    def close_position(self, symbol: str) -> None:
        """Close one position with a market order at the next bar.

        Raises
        ------
        TraderError
            No open position in ``symbol``.
        """
        pos = self.engine.ledger.positions.get(symbol)
        if pos is None or pos.qty == 0:
            raise TraderError(f"no open position in {symbol!r}")
        from tradekit.core.enums import Side
        from tradekit.core.events import Leg
        from tradekit.execution.orders import OrderRequest

        now = self.clock.now_ns()
        legs = (Leg(pos.contract, 1),) if pos.contract is not None else ()
        request = OrderRequest(pos.underlying if legs else symbol,
                               Side.SELL if pos.qty > 0 else Side.BUY, abs(pos.qty), legs=legs,
                               client_id=f"close:{symbol}:{now}", tag="close")  # fmt: skip
        self.engine.broker.submit(request)
        self._checkpoint()  # an operator's order is not re-created by re-feeding bars

    def reset(self, by: str, reason: str = "operator reset") -> None:
        """Leave HALTED (explicit, recorded with who and why; removes the kill flag)."""
        self.engine.killswitch.reset(by, reason)
        self.recovery_error = None
        self._set_state(TraderState.RUNNING if self.is_running else TraderState.STOPPED,
                        f"reset by {by}: {reason}")  # fmt: skip
        self._checkpoint()

    def activate_config(self, version: str) -> AlgorithmConfig:
        """Switch to another saved version of this config; it takes effect at the next bar.

        Raises
        ------
        ConfigError
            The version changes what cannot change inside a run (symbols, timeframe, execution).
        """
        new = self.store.load_config((self.engine.config.name, version))
        old = self.engine.config
        for name in ("symbols", "timeframe", "execution"):
            if getattr(new, name) != getattr(old, name):
                raise ConfigError(f"version {version!r} changes {name}; that needs a new run")
        self._pending_config = new
        return new

    def set_mode(self, mode: RunMode | str) -> None:
        """PAPER or SHADOW from the next session on (never inside a session); the request is
        an alert and ``status().next_mode`` until it takes effect. Asking for the current mode
        cancels a pending switch.

        Raises
        ------
        ConfigError
            ``mode`` is neither PAPER nor SHADOW.
        """
        try:
            new = RunMode(str(mode.value if isinstance(mode, RunMode) else mode).upper())
        except ValueError:
            raise ConfigError(f"mode must be PAPER or SHADOW, got {mode!r}") from None
        if new is self.engine.config.decision.mode:
            if self._pending_mode is not None:
                self._pending_mode = None
                self._alert(AlertLevel.INFO, f"mode switch cancelled: staying {new.value}",
                            {"mode": new.value})  # fmt: skip
                self._checkpoint()
            return
        self._pending_mode = new
        self._alert(AlertLevel.INFO, f"mode {new.value} requested: from the next session",
                    {"mode": new.value})  # fmt: skip
        self._checkpoint()  # the request is on record now, not at the next bar

    # -- the per-bar path ------------------------------------------------------------------
    async def _bars(self) -> AsyncIterator[Bar]:
        seek = getattr(self.feed, "seek", None)
        if seek is not None and self._resume_after_ns >= 0:
            seek(self._resume_after_ns)
        async for bar in self.feed:
            if bar.close_ts_ns <= self._resume_after_ns:
                continue  # processed before the restart; its records are in the checkpoint
            self._last_bar_wall = time.monotonic()
            self._stale_alerted = False
            self._before_bar(bar)
            yield bar

    def _before_bar(self, bar: Bar) -> None:
        if self._cp_pending:  # the previous bar's checkpoint, if the loop has not run it yet
            self._checkpoint()
        self._bar_close_ns = bar.close_ts_ns
        if (
            self._pending_mode is not None
            and self.schedule.phase(bar.close_ts_ns) is not Phase.CLOSED
        ):
            s = self.schedule.session_at(bar.close_ts_ns)
            if (
                self._last_bar is None
                or s is None
                or bar.close_ts_ns <= s.open_ns + (bar.close_ts_ns - bar.ts_ns)
                or self.schedule.session_at(self._last_bar.close_ts_ns) != s
            ):
                mode, self._pending_mode = self._pending_mode, None
                if mode is not self.engine.config.decision.mode:
                    self._pending_config = self._mode_config(mode)
        if self._pending_config is not None:
            self._swap_config(self._pending_config)
            self._pending_config = None
        flag = self.kill_flag_path
        if (
            flag is not None
            and flag.exists()
            and self.engine.risk.trading_state is not TradingState.HALTED
        ):
            self.engine.killswitch.check_external()  # before the broker can fill anything

    def _mode_config(self, mode: RunMode) -> AlgorithmConfig:
        """The active config in ``mode``, under a version of its own: the stored version with
        exactly these parameters when there is one (switching back finds the original), else
        ``<version>+<mode>`` (``.2``, ``.3``… when that label holds other parameters)."""
        cfg = self.engine.config.with_overrides({"decision.mode": mode.value})
        same = self.store.query(
            "SELECT version FROM algorithm_configs WHERE name = ? AND config_id = ? "
            "ORDER BY created_at LIMIT 1", [cfg.name, cfg.content_hash],
        )  # fmt: skip
        if len(same):
            return cfg.with_overrides({"version": str(same["version"].iloc[0])})
        base = cfg.version.split("+", 1)[0]
        taken = set(self.store.query("SELECT version FROM algorithm_configs WHERE name = ?",
                                     [cfg.name])["version"])  # fmt: skip
        label, n = f"{base}+{mode.value.lower()}", 2
        while label in taken:
            label, n = f"{base}+{mode.value.lower()}.{n}", n + 1
        return cfg.with_overrides({"version": label})

    def _swap_config(self, new: AlgorithmConfig) -> None:
        self._checkpoint()
        old = self.engine
        engine = self._build_engine(new)
        transplant(old, engine)
        self.engine = engine
        if self._runner is not None:
            self._runner.engine = engine
        if self._sub is not None:
            self._sub.close()
        self.store.save_config(new)
        self._sub = self._subscriber()
        self.schedule = TradingSchedule.from_config(new)
        self.config_id = new.content_hash
        self.store.set_state("config", {"name": new.name, "version": new.version,
                                        "config_id": new.content_hash,
                                        "mode": new.decision.mode.value}, run_id=self.run_id)  # fmt: skip
        self._alert(AlertLevel.INFO, f"config {new.name} v{new.version} ({new.content_hash}, "
                    f"mode {new.decision.mode.value}) active from the next bar",
                    {"config_id": new.content_hash})  # fmt: skip

    def _after_bar(self, outcome: BarOutcome) -> None:
        bar = outcome.bar
        prev = self._prev_close_ns if self._prev_close_ns >= 0 else bar.ts_ns
        self._prev_close_ns = bar.close_ts_ns
        self._last_bar = bar
        ts = bar.close_ts_ns
        self.daily.on_bar(self.engine.ledger)
        if (
            self.engine._intraday
            and self.schedule.phase(ts) is Phase.FLATTEN
            and self._unmanaged_open()
        ):
            self.engine.flatten()  # positions no exit plan manages (manual, restored)
        due = self.schedule.closes(prev, ts)
        for session in due:
            self._rollup(session.date, session.open_ns, session.close_ns)
        if (
            self.engine.risk.trading_state is TradingState.HALTED
            and self.state is not TraderState.HALTED
        ):
            self._set_state(TraderState.HALTED, self.engine.risk.state_reason)
        if (
            self._dirty
            or due
            or outcome.fills
            or self.bars_seen - self._last_cp_bars >= self.checkpoint_every
            or time.monotonic() - self._last_cp_wall >= self.checkpoint_interval_s
        ):
            self._checkpoint_soon()
        if self.on_bar is not None:
            self.on_bar(outcome)

    def _unmanaged_open(self) -> bool:
        managed = {m.symbol for m in self.engine.broker.managed_positions()}
        working = {o.symbol for o in self.engine.broker.open_orders()}
        return any(p.qty != 0 and s not in managed and s not in working
                   for s, p in self.engine.ledger.positions.items())  # fmt: skip

    def _rollup(self, day: Any, open_ns: int, close_ns: int) -> None:
        row = self.daily.close_day(day, self.engine.ledger)
        self.store.write_daily([row], run_id=self.run_id)
        self.bus.publish("performance.daily", row)
        self._dirty = True

    # -- persistence -------------------------------------------------------------------------
    def _checkpoint_soon(self) -> None:
        """Checkpoint right after this bar, once the loop has run what the bar woke (the
        event-stream writers, so a fill reaches WebSocket clients before the database commit
        rather than after it), and in any case before the next bar is processed
        (:meth:`_before_bar`): the checkpoint is the same as one taken at the end of the bar."""
        if self._cp_pending:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._checkpoint()
            return
        self._cp_pending = True
        loop.call_soon(self._deferred_checkpoint)

    def _deferred_checkpoint(self) -> None:
        if not self._cp_pending:
            return  # written meanwhile (next bar, an operator action, the end of the run)
        try:
            self._checkpoint()
        except Exception:  # the engine is HALTED by _checkpoint; the next bar reports it
            log.exception("deferred checkpoint failed")

    def _checkpoint(self) -> None:
        """Write the buffered records, the checkpoint and the status in one transaction."""
        self._cp_pending = False
        last = self._last_bar
        if last is None:
            if self._sub is not None:
                self._sub.flush()
            return
        digest = engine_digest(self.engine)
        digest["daily"] = self.daily.state()
        cp = Checkpoint(self.run_id, last.close_ts_ns, self.bars_seen, CHECKPOINT_FORMAT,
                        self.engine.config.content_hash, engine_state(self.engine), digest)  # fmt: skip
        try:
            with self.store.transaction():
                if self._sub is not None:
                    self._sub.flush()
                self.store.save_checkpoint(cp)
                self.store.set_state(PROCESS_KEY, {"pid": os.getpid(), "heartbeat_ns": time.time_ns()},
                                     run_id=self.run_id)  # fmt: skip
                self.store.set_state(STATUS_KEY, self.status().to_dict(), run_id=self.run_id)
        except Exception as exc:
            log.critical("checkpoint failed: %s", exc)
            self.engine.kill(f"checkpoint failed: {type(exc).__name__}: {exc}", by="store")
            raise
        self._dirty = False
        self._last_cp_bars = self.bars_seen
        self._last_cp_wall = time.monotonic()
        self._settle_journal(last.close_ts_ns)

    # -- the fill journal ------------------------------------------------------------------------
    def _journal_fill(self, topic: str, fill: Fill) -> None:
        """Put ``fill`` on disk (or, re-fed after a restart, check it against the journal)."""
        assert self.journal is not None
        line = fill_line(self.run_id, self._bar_close_ns, record_payload(fill))
        expected = self._expected.pop(fill.id, None)
        if expected is not None:
            if expected.line != line:
                self._journal_problems.append(
                    f"fill {fill.id} differs from the one journaled before the restart"
                )
            return  # already in the journal
        try:
            self.journal.write_line(line)
        except OSError as exc:  # the fill is still committed with the checkpoint
            self._journal_problems.append(f"fill journal write failed: {exc}")

    def _settle_journal(self, committed_ns: int) -> None:
        """After a commit through the bar closing at ``committed_ns``: halt on a journaled fill
        the re-fed bars did not give back (or gave back different); empty the journal."""
        missing = [e.fill_id for e in self._expected.values() if e.bar_ns <= committed_ns]
        for fid in missing:
            del self._expected[fid]
            self._journal_problems.append(f"fill {fid} journaled before the restart did not "
                                          "come back when its bar was re-fed")  # fmt: skip
        if self._journal_problems:
            self._hold_journal = True
            problems, self._journal_problems = self._journal_problems, []
            reason = f"fill journal: {problems[0]}" + (
                f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")  # fmt: skip
            self._alert(AlertLevel.CRITICAL, reason, {"problems": problems})
            if self.engine.risk.trading_state is not TradingState.HALTED:
                self.engine.kill(reason, by="recovery")
            self._checkpoint()  # the alert and HALTED on record
            return
        if self.journal is not None and not self._expected and not self._hold_journal:
            self.journal.clear()

    def _set_process(self) -> None:
        self.store.set_state(PROCESS_KEY, {"pid": os.getpid(), "heartbeat_ns": time.time_ns(),
                                           "started_ns": time.time_ns()}, run_id=self.run_id)  # fmt: skip
        self.store.set_state("current_run", self.run_id)

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            self._heartbeat_once()

    def _heartbeat_once(self) -> None:
        self._write_status_file(alive=True)
        lag = self._lag()
        if (
            self.stale_feed_s is not None
            and self.state is TraderState.RUNNING
            and lag is not None
            and lag > self.stale_feed_s
            and not self._stale_alerted
        ):
            self._stale_alerted = True
            self._alert(AlertLevel.WARNING, f"stale feed: no bar for {lag:.1f} s", {"lag_s": lag})

    async def _stop_heartbeat(self) -> None:
        task, self._heartbeat = self._heartbeat, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _write_status_file(self, *, alive: bool) -> None:
        if self.status_path is None:
            return
        import json

        data = self.status().to_dict()
        data.update(alive=alive, heartbeat_ns=time.time_ns(), db=self.store.path)
        tmp = self.status_path.with_name(self.status_path.name + ".tmp")
        tmp.write_text(json.dumps(data, default=str), encoding="utf-8")
        os.replace(tmp, self.status_path)

    def _on_done(self, task: asyncio.Task[None]) -> None:
        runner = self._runner
        if runner is None:
            return
        if runner.state is RunnerState.FAILED:
            self._alert(AlertLevel.CRITICAL, f"trader halted after {runner.errors} bar errors",
                        {"errors": runner.errors})  # fmt: skip
        with contextlib.suppress(Exception):
            self._checkpoint()
        ended = (
            self.feed_factory is None
            and getattr(self.feed, "stopped", False)
            and runner.state is RunnerState.STOPPED
        )
        if self.state is not TraderState.HALTED:
            self._set_state(TraderState.STOPPED, "feed ended" if ended else "stopped")
        if runner.state is RunnerState.STOPPED and self._feed_exhausted():
            self.store.end_live_run(self.run_id, "done", self.results())
        self._write_status_file(alive=False)
        if self.journal is not None:
            self.journal.close()  # removed when empty; reopened if the trader starts again

    def _feed_exhausted(self) -> bool:
        n = getattr(self.feed, "__len__", None)
        pos = getattr(self.feed, "_pos", None)
        return n is not None and pos is not None and pos >= n()

    def results(self) -> dict[str, Any]:
        """Headline results of the run so far (stored in its row)."""
        led = self.engine.ledger
        trades = led.closed_trades
        wins = sum(t.pnl > 0 for t in trades)
        return {
            "bars": self.bars_seen,
            "final_equity": led.equity,
            "total_return": led.equity / led.initial_cash - 1.0,
            "high_water_mark": self.daily.hwm,
            "max_drawdown": self.daily.max_drawdown,
            "trades": len(trades),
            "win_rate": wins / len(trades) if trades else math.nan,
            "counts": dict(self.engine.counts),
        }

    # -- events ------------------------------------------------------------------------------
    def _on_change(self, topic: str, event: Any) -> None:
        self._dirty = True

    def _on_risk_state(self, topic: str, change: StateChange) -> None:
        self._dirty = True
        if change.new == TradingState.REDUCING.value or (
            change.new == TradingState.HALTED.value and "daily loss" in change.reason
        ):
            self._alert(
                AlertLevel.WARNING, f"daily-loss limit: {change.reason}", {"state": change.new}
            )

    def _alert(self, level: AlertLevel, message: str, data: dict[str, Any]) -> None:
        now = time.time_ns()
        self.alerts_published += 1
        alert = Alert(make_id("alert", "trader", self.run_id, now, message), now, level, "trader",
                      message, data)  # fmt: skip
        if self._sub is None:
            self._deferred.append(alert)
        else:
            self.bus.publish("alerts.trader", alert)
        self._dirty = True

    def _set_state(self, new: TraderState, reason: str) -> None:
        old, self.state = self.state, new
        self.store.set_state(TRADER_KEY, new.value, reason=reason, run_id=self.run_id)
        self.store.set_state("current_run", self.run_id)
        self.bus.publish(
            "state.trader", StateChange(time.time_ns(), "trader", old.value, new.value, reason)
        )

    # -- status ------------------------------------------------------------------------------
    def _lag(self) -> float | None:
        return None if self._last_bar_wall is None else time.monotonic() - self._last_bar_wall

    def status(self) -> TraderStatus:
        """The current status (cheap; safe to call from any callback on the loop)."""
        e, cfg = self.engine, self.engine.config
        s = e.ledger.summary()
        last = self._last_bar.close_ts_ns if self._last_bar is not None else (
            self._resume_after_ns if self._resume_after_ns >= 0 else None)  # fmt: skip
        now = last if last is not None else self.clock.now_ns()
        limit = min(cfg.decision.daily_loss_limit, 1.0) * s.start_of_day_equity
        return TraderStatus(
            state=self.state.value, mode=cfg.decision.mode.value, symbols=tuple(cfg.symbols),
            config_name=cfg.name, config_version=cfg.version, config_id=cfg.content_hash,
            run_id=self.run_id, data_label=self.data_label, last_bar_ts_ns=last,
            bars_seen=self.bars_seen, counts={k: int(v) for k, v in e.counts.items()},
            equity=s.equity, cash=s.cash, day_pnl=s.day_pnl, open_positions=s.open_positions,
            positions={k: p.qty for k, p in sorted(e.ledger.positions.items()) if p.qty != 0},
            trades_today=s.trades_today, max_trades=cfg.decision.max_trades_per_day,
            day_loss=max(0.0, -s.day_pnl), max_daily_loss=limit, feed_lag_s=self._lag(),
            market_open=self.schedule.is_market_open(now) if now > 0 else False,
            phase=self.schedule.phase(now).value if now > 0 else Phase.CLOSED.value,
            halt_reason=e.risk.state_reason if e.risk.trading_state is not TradingState.ACTIVE else "",
            alerts=self.alerts_published,
            next_mode=self._pending_mode.value if self._pending_mode is not None else None,
        )  # fmt: skip

    def __repr__(self) -> str:
        return (
            f"AutoTrader(run_id={self.run_id!r}, state={self.state.value}, bars={self.bars_seen})"
        )
