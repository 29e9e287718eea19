"""``Engine``: one algorithm wired from its config; the same object runs backtests and live.

The engine is synchronous, deterministic and knows nothing of asyncio, Panel or the wall
clock. Whoever drives it owns the clock: the backtest loop (:mod:`tradekit.runtime.backtest`)
sets a :class:`~tradekit.core.clock.SimClock` to each bar's close before calling
:meth:`Engine.on_bar`; the live runner (:mod:`tradekit.runtime.live`) does the same for a
replayed feed, or uses the wall clock for a real one. Everything after that call is shared.

Per closed bar, in this order (ARCHITECTURE.md, "one engine, two clocks"):

1. ``bars.<symbol>`` is published;
2. the broker matches working orders and runs the exit monitor on this bar (an order sent at
   the previous bar's close fills here, at the earliest at this bar's open);
3. the ledger marks the position at the close; the risk engine records the price and checks
   the daily-loss limit; the external kill flag is polled;
4. the setup pipeline turns the bar into signals (published) and confluence setups, and the
   strategy (:mod:`tradekit.strategy`, default the confluence one) turns the bar, its signals
   and the account into setups (published) and close requests;
5. each setup is decided (all gates recorded, ``decisions.*`` published); an ENTER goes
   through the pre-trade risk checks and, when approved, to the broker with its exit plan;
6. position snapshots are published.

Examples
--------
>>> from tradekit.core.clock import SimClock
>>> from tradekit.data.datasets import load
>>> from tradekit.signals.pipeline import iter_bars
>>> eng = Engine(AlgorithmConfig(symbols=("AAPL",), timeframe="1D"), clock=SimClock(),
...              market=lambda ts: 18.0)
>>> for bar in iter_bars(load("aapl").iloc[:60], "AAPL", "1D"):
...     eng.clock.set_time(bar.close_ts_ns)
...     _ = eng.on_bar(bar)
>>> eng.counts["bars"]
60
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import NS_PER_DAY, Clock, SimClock
from tradekit.core.enums import DecisionAction, OrderStatus, RunMode
from tradekit.core.events import Bar, Decision, Fill, Order, Setup, Signal
from tradekit.data.calendar import get_calendar
from tradekit.decision.base import MarketView, OptionsMarketView
from tradekit.decision.engine import DecisionEngine
from tradekit.decision.exit_rules import stock_exit_plan
from tradekit.decision.gates import TradingStateGate
from tradekit.decision.options_engine import OptionsDecisionEngine
from tradekit.execution.base import QuoteSource
from tradekit.execution.broker import PaperBroker
from tradekit.execution.exits import ExitPlan
from tradekit.execution.orders import closing_request, order_request_from_decision
from tradekit.portfolio.ledger import Ledger, greeks_from_rows
from tradekit.risk.engine import RiskEngine, StateStore
from tradekit.risk.killswitch import KillSwitch
from tradekit.signals.mtf import timeframe_ns
from tradekit.signals.pipeline import PipelineOutput, SetupPipeline
from tradekit.strategy import ConfluenceStrategy, Strategy, StrategyDriver

__all__ = ["BarOutcome", "BarPipeline", "Engine"]


class BarPipeline(Protocol):
    """Turns each closed bar of one symbol into signals and setups: the streaming
    :class:`~tradekit.signals.pipeline.SetupPipeline`, or a backtest's
    :class:`~tradekit.runtime.precomputed.PrecomputedPipeline`."""

    timeframe: str

    def update(self, bar: Bar) -> PipelineOutput: ...

    def state_dict(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class BarOutcome:
    """What one bar produced (also published piecemeal on the bus)."""

    bar: Bar
    signals: list[Signal] = field(default_factory=list)
    setups: list[Setup] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    fills: list[Fill] = field(default_factory=list)


class Engine:
    """Signals → decisions → risk → paper broker → ledger for one configuration.

    Parameters
    ----------
    config:
        The algorithm (symbols, timeframe and every parameter).
    clock:
        The time source; the driver sets a ``SimClock`` to each bar's close.
    bus:
        Event bus (a new one when None). Subscribe the store, dashboards, etc. to it.
    market:
        VIX (and, for the options engine, IV rank and option chains) at a bar time; a
        ``MarketDataService`` or a plain ``fn(ts_ns) -> vix``. ``None`` means no VIX, which the
        session gate blocks unless ``decision.vix_missing_policy == "allow"``.
    quotes:
        Option quotes for the paper broker. With ``market`` offering chains and ``quotes``
        given, option underlyings (``config.options.underlyings``) are traded as options.
    calendar:
        Exchange calendar name.
    state_store:
        Where the risk engine persists its trading state (HALTED survives a restart); the
        DuckDB ``Store`` fits.
    kill_flag_path:
        A file whose existence trips the kill switch (``tradekit kill`` writes it); polled
        once per bar.
    strategy:
        What turns bars into setups (:class:`~tradekit.strategy.Strategy`); default the
        built-in :class:`~tradekit.strategy.ConfluenceStrategy`. A strategy that raises
        becomes an ``alerts.strategy`` alert, never a dead loop.
    """

    def __init__(
        self,
        config: AlgorithmConfig,
        *,
        clock: Clock | None = None,
        bus: EventBus | None = None,
        market: MarketView | OptionsMarketView | Callable[[int], float | None] | None = None,
        quotes: QuoteSource | None = None,
        calendar: str = "XNYS",
        state_store: StateStore | None = None,
        kill_flag_path: str | Path | None = None,
        strategy: Strategy | None = None,
    ) -> None:
        self.config = config
        self.clock: Clock = clock if clock is not None else SimClock()
        self.bus = bus if bus is not None else EventBus()
        self.bus.clock = self.clock  # subscribers stamp events with the engine's time
        self.calendar = get_calendar(calendar)
        # option positions carry their contract's Greeks and IV at every mark (snapshots)
        greeks = greeks_from_rows(quotes) if hasattr(quotes, "contract_row") else None
        self.ledger = Ledger.from_config(config.execution, greeks=greeks)
        self.broker = PaperBroker(
            config.execution,
            clock=self.clock,
            ledger=self.ledger,
            bus=self.bus,
            quotes=quotes,
            is_open=self.calendar.is_open,
            session_bounds=self.calendar.session_bounds,
        )
        self.risk = RiskEngine(config, self.clock, self.ledger, self.bus, store=state_store)
        self.killswitch = KillSwitch(
            self.risk,
            canceller=self.broker,
            flattener=self.flatten,
            flag_path=kill_flag_path,
        )
        self.decider: DecisionEngine | OptionsDecisionEngine
        # a decision taken while HALTED says so (gate trading_state), not ENTER-then-refused
        halt_gate = (TradingStateGate(self.risk),)
        if config.options.enabled and quotes is not None and isinstance(market, OptionsMarketView):
            self.decider = OptionsDecisionEngine(
                config, account=self.ledger, market=market, calendar=self.calendar, bus=self.bus,
                record_entries=False, extra_gates=halt_gate,
            )  # fmt: skip
        else:
            self.decider = DecisionEngine(
                config, account=self.ledger, market=market, calendar=self.calendar, bus=self.bus,
                record_entries=False, extra_gates=halt_gate,
            )  # fmt: skip
        self.trades_options = isinstance(self.decider, OptionsDecisionEngine)
        self._intraday = timeframe_ns(config.timeframe) < NS_PER_DAY
        self._pipelines: dict[str, BarPipeline] = {}
        self.counts: Counter[str] = Counter()
        self.strategy: Strategy = strategy if strategy is not None else ConfluenceStrategy()
        #: a metrics-only replay (no setup or decision records, nobody listening to them)
        #: sets this: a setup a gate refuses on the account state alone (daily limits,
        #: cooldowns, HALTED) is counted as a SKIP, not decided (its decision would be SKIP
        #: and change nothing); :attr:`refusals_counted` of them so far
        self.count_state_refusals = False
        self.refusals_counted = 0
        self._strategy = StrategyDriver(self.strategy, self)

    # -- the one entry point -------------------------------------------------------------------
    def on_bar(self, bar: Bar) -> BarOutcome:
        """Process one closed bar (see the module docstring for the order of steps)."""
        self.counts["bars"] += 1
        self.bus.publish(f"bars.{bar.symbol}", bar)
        fills = self.broker.on_bar(bar)
        self.ledger.mark(bar.symbol, bar.close, bar.close_ts_ns)
        self.risk.update_price(bar.symbol, bar.close)
        self.risk.evaluate_account()
        if self.killswitch.flag_path is not None:
            self.killswitch.check_external()
        out = self._pipeline(bar).update(bar)
        for sig in out.signals:
            self.bus.publish(f"signals.{sig.kind.lower()}", sig)
        setups = self._strategy.step(bar, out.signals, out.setups)
        decisions: list[Decision] = []
        for setup in setups:
            self.bus.publish("setups.new", setup)
            decision = self._decide(setup)
            if decision is not None:
                decisions.append(decision)
        if self.bus.listens("positions.snapshot"):  # snapshots only for someone to read
            for snap in self.ledger.snapshot():
                self.bus.publish("positions.snapshot", snap)
        self.counts["signals"] += len(out.signals)
        self.counts["setups"] += len(setups) + out.passed
        if out.passed:  # certain SKIPs the batch pipeline counted instead of building
            self.counts["decisions.skip"] += out.passed
        self.counts["fills"] += len(fills)
        return BarOutcome(bar, out.signals, setups, decisions, fills)

    def fast_forward(
        self,
        symbol: str,
        n_bars: int,
        close_ts_ns: int,
        close: float,
        *,
        certain_skips: int = 0,
        option_marks: Mapping[str, tuple[float, Sequence[float]]] | None = None,
    ) -> None:
        """Account for ``n_bars`` quiet bars of ``symbol``, the last closing at ``close_ts_ns``
        at price ``close``, without processing them one by one; ``certain_skips`` setups on
        them were certain SKIPs, counted as setups and SKIP decisions without being decided;
        ``option_marks`` the open option positions' quote mids and Greeks at that close when
        the caller has them (:meth:`PaperBroker.note_quiet_bars
        <tradekit.execution.broker.PaperBroker.note_quiet_bars>`), else they are quoted.

        Only for bars a replay has proved quiet (:mod:`tradekit.runtime.quiet`: no setup, no
        working order, no exit rule or risk limit triggered, nobody listening to bars or
        snapshots): on those, :meth:`on_bar` would only have marked the position, remembered
        the price and counted the bar. The caller has set the ledger's excursion and advanced
        the pipeline; this leaves every component as the last of those bars would have. The
        risk engine's account check is not repeated: the proof includes its daily-loss test,
        and the bars close on the risk day of the last processed bar, so it would change
        nothing.
        """
        self.counts["bars"] += n_bars
        if certain_skips:
            self.counts["setups"] += certain_skips
            self.counts["decisions.skip"] += certain_skips
        self.ledger.mark(symbol, close, close_ts_ns)
        self.broker.note_quiet_bars(symbol, close_ts_ns, option_marks)
        self.risk.update_price(symbol, close)
        self._strategy.skip(symbol, n_bars)

    @property
    def strategy_driver(self) -> StrategyDriver:
        """How the engine calls its strategy (per-symbol bar index, failures)."""
        return self._strategy

    # -- steps ------------------------------------------------------------------------------------
    def use_pipeline(self, symbol: str, pipeline: BarPipeline) -> None:
        """Process the bars of ``symbol`` with ``pipeline`` instead of a streaming
        ``SetupPipeline`` (set before its first bar; a backtest installs its batch result)."""
        self._pipelines[symbol] = pipeline

    def _pipeline(self, bar: Bar) -> BarPipeline:
        pipe = self._pipelines.get(bar.symbol)
        return pipe if pipe is not None else self.pipeline(bar.symbol, bar.timeframe)

    def pipeline(self, symbol: str, timeframe: str) -> SetupPipeline:
        """The streaming setup pipeline of ``symbol``, built on first use (a restore builds it
        empty). Raises TypeError when a backtest installed a batch pipeline for it."""
        pipe = self._pipelines.get(symbol)
        if pipe is None:
            pipe = SetupPipeline(self.config, symbol, timeframe, calendar=self.calendar.name)
            self._pipelines[symbol] = pipe
        if not isinstance(pipe, SetupPipeline):
            raise TypeError(f"{symbol} runs a {type(pipe).__name__}, not a streaming pipeline")
        return pipe

    def _decide(self, setup: Setup) -> Decision | None:
        """Decide ``setup`` and send an ENTER; None when it was only counted as refused on the
        account state (:attr:`count_state_refusals`)."""
        if self.count_state_refusals and self.decider.refused_on_state(setup):
            self.counts["decisions.skip"] += 1
            self.refusals_counted += 1
            return None
        plan: ExitPlan | None
        if isinstance(self.decider, OptionsDecisionEngine):
            ev = self.decider.evaluate(setup)
            decision, plan = ev.decision, ev.exit_plan
        else:
            decision = self.decider.decide(setup)
            plan = stock_exit_plan(decision) if decision.action is DecisionAction.ENTER else None
        self.counts[f"decisions.{decision.action.value.lower()}"] += 1
        # gate 7 counts entries that were really sent (SHADOW: the would-be entry), so an
        # entry refused by risk or the broker neither counts as a trade nor starts a cooldown
        if decision.action is DecisionAction.SHADOW or (
            decision.action is DecisionAction.ENTER
            and self.config.decision.mode is RunMode.PAPER
            and self._send(decision, plan)
        ):
            self.decider.record_entry(setup)
        return decision

    def _send(self, decision: Decision, plan: ExitPlan | None) -> bool:
        """Route an ENTER decision to risk and the broker; True when the broker took it."""
        request = order_request_from_decision(decision)
        if self._intraday and not self.calendar.is_open(self.clock.now_ns()):
            # decided on the session's last bar: an intraday signal is stale by the next open
            self.broker.record_rejection(request, "market closed: intraday entry not carried over")
            self.counts["orders.rejected"] += 1
            return False
        verdict = self.risk.approve(request)  # reference: last price, or the legs' net
        if not verdict.approved:
            self.broker.record_rejection(request, f"risk: {verdict.reason}")
            self.counts["risk_denied"] += 1
            return False
        order = self.broker.open_position(decision, plan)
        self.counts[f"orders.{order.status.value.lower()}"] += 1
        return order.status is not OrderStatus.REJECTED

    # -- operator actions ---------------------------------------------------------------------
    def flatten(self) -> list[Order]:
        """Send market orders closing every open position (an explicit operator action, never
        automatic). They bypass the pre-trade checks, which refuse everything while HALTED, and
        fill at the next bar like any market order."""
        now = self.clock.now_ns()
        orders: list[Order] = []
        for symbol, pos in sorted(self.ledger.positions.items()):
            if pos.qty == 0:
                continue
            request = closing_request(symbol, pos.qty, pos.contract, pos.underlying,
                                      client_id=f"flatten:{symbol}:{now}", tag="flatten")  # fmt: skip
            orders.append(self.broker.submit(request))
        return orders

    def kill(self, reason: str, *, by: str = "operator") -> None:
        """Trip the kill switch: HALTED, working orders cancelled, an alert published."""
        self.killswitch.trigger(reason, by=by)

    def state_dict(self) -> dict[str, Any]:
        """Serializable engine state (pipelines and decision memory) for crash recovery."""
        return {
            "pipelines": {s: p.state_dict() for s, p in self._pipelines.items()},
            "decider": self.decider.state_dict(),
            "counts": dict(self.counts),
        }
