"""``OptionsDecisionEngine``: the seven gates plus option quality (2.5) and events (8).

For an underlying in ``config.options.underlyings`` (SPX/SPY/QQQ by default) the engine:

1. classifies the setup into a timeframe class (INTRADAY/SWING/MONTHLY/LEAPS) from its bar
   timeframe or an explicit target DTE, and takes that class's parameters (DTE range, delta
   band, IV-rank band, theta tolerance, minimum reward:risk, risk multiplier, gate-3 threshold,
   session window, optional family weights);
2. picks a strategy from IV rank and conviction through the class's ``strategies`` table;
3. selects the contract(s) on the chain at the bar time (``tradekit.options.selection``: all
   expiries inside the DTE range, delta band, liquidity, spread);
4. evaluates the gates — 1 integrity, 2 session (class window) & VIX, 2.5 option quality,
   3 factorization (class threshold), 4 roles, 5 score & mode (class R:R), 6 sizing in
   contracts, 7 daily limits & cooldowns, 8 event calendar — all recorded, as in the
   directional engine;
5. sizes in contracts: risk budget (1 % of equity, halved for REVERSAL, × class risk
   multiplier, × the event size factor) / the structure's max loss per unit, capped by the
   position limits, the portfolio Greek limits and the hard 50-contract cap;
6. returns the :class:`~tradekit.core.events.Decision` (legs, strategy, timeframe class) and
   an :class:`~tradekit.execution.exits.ExitPlan` with the class's premium and time exits.

Any other symbol goes to the embedded directional :class:`DecisionEngine` (same entry log, so
trade counts and cooldowns span stock and option decisions).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from tradekit._typing import BoolArray
from tradekit.config import AlgorithmConfig, HardLimits, OptionClassParams, OptionsConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import NS_PER_DAY
from tradekit.core.columns import SetupColumns
from tradekit.core.enums import TimeframeClass, TradeMode
from tradekit.core.events import Decision, Setup
from tradekit.core.ids import make_id
from tradekit.decision.base import (
    OptionsMarketView,
    SessionCalendar,
    check_setup_types,
    reachable_targets,
)
from tradekit.decision.cooldowns import EntryLog
from tradekit.decision.engine import DecisionEngine, run_gates
from tradekit.decision.event_calendar import EventAssessment, EventCalendar, assess_events
from tradekit.decision.exit_rules import option_exit_plan, stock_exit_plan
from tradekit.decision.gates import (
    DailyLimitsGate,
    FactorizationGate,
    Gate,
    GateContext,
    RiskSizingGate,
    RoleAssignmentGate,
    ScoreModeGate,
    SessionVolatilityGate,
    SignalIntegrityGate,
    StateGate,
    refused_on_state,
    refused_until,
)
from tradekit.decision.option_gates import (
    EventCalendarGate,
    LegFacts,
    OptionQualityGate,
    choose_strategy,
    classify_timeframe,
    clean_iv_rank,
    clean_iv_ranks,
    greek_cap,
    leg_facts,
    unit_greeks,
)
from tradekit.decision.prescreen import certain_failures, setup_batch
from tradekit.decision.scoring import Scorer, SetupScore
from tradekit.decision.sessions import SessionWindow, ny_date
from tradekit.decision.sizing import Sizing, size_units
from tradekit.execution.exits import ExitPlan
from tradekit.options.base import ChainReach
from tradekit.portfolio.base import AccountSummary, AccountView

__all__ = [
    "OptionsDecisionEngine",
    "OptionsEvaluation",
    "StructureSelector",
    "default_selector",
    "selection_reach",
]

#: ``selector(chain, direction, strategy, params, options_config) -> Structure | None``.
StructureSelector = Callable[[Any, int, str, OptionClassParams, OptionsConfig], Any]


def default_selector(
    chain: Any, direction: int, strategy: str, params: OptionClassParams, opts: OptionsConfig
) -> Any:
    """Strike selection through ``tradekit.options.selection`` (imported lazily)."""
    from tradekit.options import selection

    if strategy == "long_option":
        return selection.select_long_option(chain, direction, params)
    kind: Literal["debit", "credit"] = "debit" if strategy == "debit_spread" else "credit"
    return selection.select_vertical(
        chain, direction, kind, params, opts.spread_width_min_pct, opts.spread_width_max_pct
    )


def selection_reach(direction: int, strategy: str, params: OptionClassParams) -> ChainReach:
    """The chain rows :func:`default_selector` can pick from: the class's DTE band and the
    traded right (long option and debit spread: the direction's, credit spread: the other),
    and for a long option the class's ``|delta|`` band (a spread's far leg may lie outside
    it). The selectors apply these filters themselves, so a chain narrowed to them gives the
    same selection."""
    right = direction if strategy != "credit_spread" else -direction
    if strategy == "long_option":
        return ChainReach(params.dte_min, params.dte_max, right, params.delta_min, params.delta_max)
    return ChainReach(params.dte_min, params.dte_max, right)


@dataclass(frozen=True, slots=True)
class OptionsEvaluation:
    """A decision with what the broker needs to manage it."""

    decision: Decision
    exit_plan: ExitPlan | None
    structure: Any | None = None
    events: EventAssessment | None = None


@dataclass(frozen=True, slots=True)
class _Selected:
    structure: Any | None
    facts: list[LegFacts] | str
    net_premium: float
    max_loss: float
    max_gain: float


class OptionsDecisionEngine:
    """Options-aware decision engine (see the module docstring).

    Parameters
    ----------
    config:
        Algorithm configuration (``decision``, ``risk`` and ``options`` sections).
    account:
        Read-only account state.
    market:
        VIX, IV rank and option chains at the bar time (``MarketDataService`` fits).
    calendar:
        Exchange calendar (default: the data layer's ``XNYS``).
    events:
        Event calendar for gate 8 (default: OPEX only, computed).
    bus:
        Decisions are published on ``decisions.<action>``.
    selector:
        Strike selection (default :func:`default_selector`).
    extra_gates, record_entries:
        As for :class:`~tradekit.decision.engine.DecisionEngine` (the directional engine
        inside keeps the entries of both).
    """

    def __init__(
        self,
        config: AlgorithmConfig,
        *,
        account: AccountView,
        market: OptionsMarketView,
        calendar: SessionCalendar | None = None,
        events: EventCalendar | None = None,
        bus: EventBus | None = None,
        selector: StructureSelector = default_selector,
        extra_gates: Sequence[Gate] = (),
        record_entries: bool = True,
    ) -> None:
        self.config = config
        self.account = account
        self.market = market
        self.stock = DecisionEngine(
            config,
            account=account,
            market=market,
            calendar=calendar,
            bus=bus,
            extra_gates=extra_gates,
            record_entries=record_entries,
        )
        self.events = (
            events
            if events is not None
            else EventCalendar(is_session=_is_session_fn(self.stock.calendar))
        )
        self.selector = selector
        # (market, takes max_dte=, takes reach=): checked once per market
        self._narrowing: tuple[Any, bool, bool] = (None, False, False)
        self._underlyings = frozenset(s.upper() for s in config.options.underlyings)
        self._scorers: dict[TimeframeClass, Scorer] = {}
        self._gates: dict[TimeframeClass, tuple[Gate, ...]] = {}
        self._windows: dict[TimeframeClass, SessionWindow] = {}
        for tf, p in config.options.classes.items():
            self._scorers[tf] = Scorer(
                p.family_weights or config.decision.family_weights, config.decision.kind_families
            )
            self._windows[tf] = SessionWindow(
                self.stock.calendar, p.session_start, p.session_end, self.stock.tz
            )
            self._gates[tf] = self._build_gates(p, self._windows[tf], extra_gates)
        self._state_gates = {
            tf: tuple(g for g in gates if isinstance(g, StateGate))
            for tf, gates in self._gates.items()
        }

    def _build_gates(
        self, p: OptionClassParams, window: SessionWindow, extra: Sequence[Gate]
    ) -> tuple[Gate, ...]:
        dc = self.config.decision
        return (
            SignalIntegrityGate(dc.min_confidence, dc.min_confluence),
            SessionVolatilityGate(window, dc.max_vix, dc.vix_missing_policy),
            OptionQualityGate(p),
            FactorizationGate(p.gate3_threshold),
            RoleAssignmentGate(dc.min_roles),
            ScoreModeGate(),
            RiskSizingGate(),
            DailyLimitsGate(dc),
            EventCalendarGate(self.config.options.max_event_warnings),
            *extra,
        )

    def is_option_underlying(self, symbol: str) -> bool:
        """Whether ``symbol`` is traded through options."""
        return self.config.options.enabled and symbol.upper() in self._underlyings

    # -- steps ------------------------------------------------------------------------------
    def _chain(
        self, symbol: str, ts_ns: int, direction: int, strategy: str, p: OptionClassParams
    ) -> Any:
        """The chain the selection reads. The default selector only looks at the rows of
        :func:`selection_reach` (the class's DTE band, the traded right, for a long option
        its delta band), so a market that can restrict its chain (``reach=``, else
        ``max_dte=``) is asked for those rows only: the same contracts at the same prices,
        far fewer of them. A custom selector gets the whole chain."""
        market = self.market
        if self._narrowing[0] is not market:
            from tradekit.options.base import accepts_keyword

            fn = market.option_chain
            self._narrowing = (
                market,
                accepts_keyword(fn, "max_dte"),
                accepts_keyword(fn, "reach"),
            )
        if self.selector is not default_selector:
            return market.option_chain(symbol, ts_ns)
        if self._narrowing[2]:
            reach = selection_reach(direction, strategy, p)
            return market.option_chain(symbol, ts_ns, reach=reach)  # type: ignore[call-arg]  # checked above
        if self._narrowing[1]:
            return market.option_chain(symbol, ts_ns, max_dte=p.dte_max)  # type: ignore[call-arg]  # checked above
        return market.option_chain(symbol, ts_ns)

    def _select(
        self, setup: Setup, strategy: str, p: OptionClassParams, budget: float
    ) -> _Selected:
        """Select the structure. A long option's max loss is its whole premium, so only
        contracts whose ask × multiplier fits the risk ``budget`` (currency) are considered:
        otherwise the best-scoring contract may be one that sizing can never buy a unit of."""
        nan = math.nan
        if setup.direction not in (1, -1):
            return _Selected(None, "no direction to select a contract for", nan, nan, nan)
        affordable = ""
        try:
            chain = self._chain(setup.symbol, setup.ts_ns, setup.direction, strategy, p)
            if chain is None:
                return _Selected(None, "no option chain at the bar", nan, nan, nan)
            narrowed = strategy == "long_option" and math.isfinite(budget) and budget > 0
            if narrowed:
                affordable = f" affordable with the risk budget {budget:,.2f}"
            if narrowed and self.selector is default_selector:  # the same pick, unnarrowed chain
                from tradekit.options.selection import select_long_option

                max_ask = budget / chain.multiplier
                structure = select_long_option(chain, setup.direction, p, max_ask=max_ask)
            else:
                if narrowed:
                    chain = chain.filter(max_ask=budget / chain.multiplier)
                structure = self.selector(chain, setup.direction, strategy, p, self.config.options)
        except Exception as exc:  # a data gap denies the trade, it does not stop the engine
            return _Selected(None, f"selection failed: {type(exc).__name__}: {exc}", nan, nan, nan)
        if structure is None:
            why = f"no {strategy} inside the class bands{affordable}"
            return _Selected(None, why, nan, nan, nan)
        facts = leg_facts(chain, tuple(structure.legs))
        max_gain = getattr(structure, "max_gain", None)
        return _Selected(
            structure,
            facts,
            float(structure.net_premium),
            float(structure.max_loss),
            math.inf if max_gain is None else float(max_gain),
        )

    def _holding_end(
        self, setup: Setup, tf: TimeframeClass, p: OptionClassParams, sel: _Selected
    ) -> dt.date:
        start = ny_date(setup.ts_ns, self.stock.tz)
        if tf is TimeframeClass.INTRADAY or sel.structure is None:
            return start
        expiry = min(leg.contract.expiry for leg in sel.structure.legs)
        end = expiry - dt.timedelta(days=p.close_at_dte or 0)
        return max(start, end)

    def _assess_events(
        self, setup: Setup, tf: TimeframeClass, p: OptionClassParams, sel: _Selected
    ) -> EventAssessment:
        start = ny_date(setup.ts_ns, self.stock.tz)
        end = self._holding_end(setup, tf, p, sel)
        opts = self.config.options
        # routine monthly expirations do not concern a LEAPS position (its own expiry is
        # handled by close_at_dte); for shorter classes OPEX is a "close before" event
        found = self.events.events_between(
            setup.symbol, start, end, include_opex=None if tf is not TimeframeClass.LEAPS else False
        )
        return assess_events(
            found,
            max_warnings=opts.max_event_warnings,
            size_factor=opts.event_size_factor,
            adjustments=self.events.adjustments,
            start=start,
        )

    def _size(
        self,
        setup: Setup,
        score: SetupScore,
        p: OptionClassParams,
        sel: _Selected,
        acct: AccountSummary,
        factor: float,
    ) -> Sizing:
        if sel.structure is None or not isinstance(sel.facts, list) or not sel.facts:
            return Sizing(0, 0.0, 0.0, 0, "invalid", f"no structure to size ({sel.facts})")
        risk = self.config.risk
        first = sel.facts[0].leg.contract.symbol
        sizing = size_units(
            account=acct,
            symbol_notional=self.account.symbol_notional(setup.symbol),
            position_qty=self.account.position_qty(first),
            price=sel.net_premium,
            unit_risk=sel.max_loss,
            unit_notional=sel.max_loss,
            risk_fraction=self.stock.risk_fraction(score.mode) * p.risk_multiplier * factor,
            risk=risk,
            max_units=min(risk.max_contracts_per_order, HardLimits.MAX_CONTRACTS_PER_ORDER),
        )
        cap, which = greek_cap(acct, unit_greeks(sel.facts), risk)
        if cap >= sizing.quantity:
            return sizing
        reason = f"{sizing.reason}; capped to {cap} by portfolio {which} limit"
        return Sizing(
            cap,
            sizing.risk_budget,
            cap * sel.max_loss,
            sizing.raw_quantity,
            f"greeks:{which}",
            reason,
        )

    def _intraday_days(self, tf: TimeframeClass, ts_ns: int) -> float:
        """Fraction of a day from ``ts_ns`` to the end of the class window (theta horizon)."""
        win = self._windows[tf].window(ts_ns)
        if win is None or ts_ns >= win[1]:
            return 1.0
        return max(win[1] - ts_ns, 0) / NS_PER_DAY

    def _min_rr(self, mode: TradeMode, p: OptionClassParams) -> float:
        dc = self.config.decision
        scale = dc.min_rr_reversal / dc.min_rr_default if mode is TradeMode.REVERSAL else 1.0
        return p.min_rr * scale

    # -- public API -------------------------------------------------------------------------
    def certain_skips(self, cols: SetupColumns) -> BoolArray:
        """Per setup of ``cols``: True where a gate that reads only the setup, its bar time
        and the VIX refuses it, so :meth:`evaluate` would decide SKIP whatever the account
        and the chain (see :meth:`DecisionEngine.certain_skips`)."""
        if not self.is_option_underlying(cols.symbol):
            return self.stock.certain_skips(cols)
        tf = classify_timeframe(cols.timeframe, None)
        p = self.config.options.classes[tf]
        need = {m: self._min_rr(m, p) for m in TradeMode}
        symbol = cols.symbol

        def iv_rank_at(ts_ns: int) -> float | None:
            return clean_iv_rank(self.market.iv_rank(symbol, ts_ns))

        path = getattr(self.market, "iv_rank_path", None)
        ranks = None if path is None else clean_iv_ranks(path(symbol, cols.ts_ns))
        batch = setup_batch(cols, self._scorers[tf], need, self.stock.vix_at, iv_rank_at,
                            vix=self.stock.vix_levels(cols.ts_ns), iv_rank=ranks)  # fmt: skip
        return certain_failures(self._gates[tf], batch)

    def refused_on_state(self, setup: Setup, *, target_dte: int | None = None) -> bool:
        """Whether a gate that reads only the account state refuses ``setup`` now, so that
        :meth:`evaluate` would give SKIP without the chain being needed (see
        :meth:`DecisionEngine.refused_on_state`)."""
        if not self.is_option_underlying(setup.symbol):
            return self.stock.refused_on_state(setup)
        check_setup_types(setup)
        gates = self._state_gates[classify_timeframe(setup.timeframe, target_dte)]
        return refused_on_state(gates, setup, self.account.summary(), self.stock.entries)

    def refused_on_chain(
        self,
        symbol: str,
        timeframe: str,
        ts_ns: int,
        direction: int,
        confidence: float,
        equity: tuple[float, float],
    ) -> bool:
        """Whether :meth:`evaluate` gives SKIP to a setup (its symbol, bar timeframe, bar
        time, direction and confidence) by gate 2.5 on the chain at its bar, for any account
        whose equity then lies in ``equity`` (low, high; currency). The account enters the
        selection of a long option only through the risk budget (equity × the risk fraction
        of the setup's mode × the class multiplier), which narrows the candidates to those
        it affords; when the pick fails the gate's theta test at every budget that equity
        allows (or none is left), the setup is refused
        (:func:`~tradekit.options.selection.long_option_theta_refused`). False when that
        cannot be shown here (a spread, a custom selector, no chain, or a budget whose pick
        passes): :meth:`evaluate` decides. The chain is the one :meth:`evaluate` reads at
        that bar (the market keeps it), so a setup then decided does not price it twice."""
        lo, hi = equity
        if (
            not self.is_option_underlying(symbol)
            or self.selector is not default_selector
            or direction not in (1, -1)
            or not 0 < lo <= hi < math.inf
        ):
            return False
        from tradekit.options.selection import long_option_theta_refused

        tf = classify_timeframe(timeframe, None)
        p = self.config.options.classes[tf]
        ivr = clean_iv_rank(self.market.iv_rank(symbol, ts_ns))
        strategy, _ = choose_strategy(p, ivr, confidence, self.config.options)
        if strategy != "long_option":
            return False
        try:
            chain = self._chain(symbol, ts_ns, direction, strategy, p)
        except Exception:  # evaluate records the data gap
            return False
        if chain is None:
            return False
        fractions = [self.stock.risk_fraction(mode) * p.risk_multiplier for mode in TradeMode]
        if not min(fractions) > 0:
            return False  # no budget: the selection is not narrowed
        # the affordable ask bounds, a hair wider against rounding in the budget
        m = chain.multiplier
        ask_lo = lo * min(fractions) / m * (1 - 1e-9)
        ask_hi = hi * max(fractions) / m * (1 + 1e-9)
        days = self._intraday_days(tf, ts_ns) if tf is TimeframeClass.INTRADAY else 1.0
        return long_option_theta_refused(chain, direction, p, days, (ask_lo, ask_hi))

    @property
    def entries(self) -> EntryLog:
        """The entry log of gate 7 (shared with the directional engine inside)."""
        return self.stock.entries

    def refused_until(self, symbol: str, timeframe: str, ts_ns: int) -> int:
        """Until when (int ns UTC, exclusive) :meth:`refused_on_state` holds for every setup
        on ``symbol`` with bars of ``timeframe`` (its class's gates) from ``ts_ns`` on; see
        :meth:`DecisionEngine.refused_until`."""
        if not self.is_option_underlying(symbol):
            return self.stock.refused_until(symbol, timeframe, ts_ns)
        gates = self._state_gates[classify_timeframe(timeframe, None)]
        return refused_until(gates, symbol, ts_ns, self.stock.entries)

    def evaluate(self, setup: Setup, *, target_dte: int | None = None) -> OptionsEvaluation:
        """Decide ``setup``; options path for option underlyings, directional otherwise."""
        if not self.is_option_underlying(setup.symbol):
            d = self.stock.decide(setup)  # checks the setup's field types itself
            valid = d.quantity >= 1 and d.direction * (d.entry - d.stop) > 0
            return OptionsEvaluation(d, stock_exit_plan(d) if valid else None)
        t0 = time.perf_counter_ns()  # a duration, not a time source
        check_setup_types(setup)
        tf = classify_timeframe(setup.timeframe, target_dte)
        p = self.config.options.classes[tf]
        score = self._scorers[tf](setup)
        acct = self.account.summary()
        ivr = clean_iv_rank(self.market.iv_rank(setup.symbol, setup.ts_ns))
        strategy, why = choose_strategy(p, ivr, setup.confidence, self.config.options)
        budget = acct.equity * self.stock.risk_fraction(score.mode) * p.risk_multiplier
        sel = self._select(setup, strategy, p, budget)
        events = self._assess_events(setup, tf, p, sel)
        sizing = self._size(setup, score, p, sel, acct, events.size_factor)
        extra: dict[str, object] = {
            "structure": sel.structure,
            "legs": sel.facts,
            "iv_rank": ivr,
            "strategy": strategy,
            "net_premium": sel.net_premium,
            "events": events,
        }
        if isinstance(sel.facts, str):
            extra["selection_error"] = sel.facts
        if tf is TimeframeClass.INTRADAY:
            extra["theta_days"] = self._intraday_days(tf, setup.ts_ns)
        ctx = GateContext(
            setup,
            acct,
            score,
            sizing,
            self.stock.vix_at(setup.ts_ns),
            self.stock.entries,
            self._min_rr(score.mode, p),
            extra,
        )
        results, block = run_gates(self._gates[tf], ctx)
        decision = self._decision(
            setup, tf, score, sizing, sel, results, block, events, why, ivr, t0
        )
        plan = (
            None
            if sel.structure is None
            else option_exit_plan(p, tf, close_before=events.close_before, tz=self.stock.tz)
        )
        return OptionsEvaluation(self.stock.finish(decision, setup), plan, sel.structure, events)

    def _decision(
        self,
        setup: Setup,
        tf: TimeframeClass,
        score: SetupScore,
        sizing: Sizing,
        sel: _Selected,
        results: tuple[Any, ...],
        block: str | None,
        events: EventAssessment,
        why: str,
        ivr: float | None,
        t0: int,
    ) -> Decision:
        breakdown = {**score.family_sums, "total": score.total, "confidence": setup.confidence}
        breakdown.update(
            net_premium=sel.net_premium,
            max_loss=sel.max_loss,
            max_gain=sel.max_gain,
            iv_rank=math.nan if ivr is None else ivr,
        )
        structure = sel.structure
        return Decision(
            id=make_id("dec", setup.id, self.stock.config_hash, tf.value),
            setup_id=setup.id,
            symbol=setup.symbol,
            ts_ns=setup.ts_ns,
            action=self.stock.action_for(block),
            gates=results,
            block_reason=block,
            direction=setup.direction,
            quantity=float(sizing.quantity),
            entry=setup.entry,
            stop=setup.stop,
            targets=reachable_targets(setup),
            mode=score.mode,
            strategy=str(getattr(structure, "kind", "none")) if structure is not None else "none",
            legs=tuple(structure.legs) if structure is not None else (),
            timeframe_class=tf,
            risk_amount=sizing.risk_amount,
            expected_rr=score.rr,
            score_breakdown=breakdown,
            config_version=self.config.version,
            config_hash=self.stock.config_hash,
            processing_time_us=(time.perf_counter_ns() - t0) / 1000.0,
            warnings=(f"strategy {why}", *events.warnings),
        )

    def decide(self, setup: Setup, *, target_dte: int | None = None) -> Decision:
        """The decision only (see :meth:`evaluate` for the exit plan and structure)."""
        return self.evaluate(setup, target_dte=target_dte).decision

    def on_setup(self, topic: str, setup: Setup) -> None:
        """Bus handler: ``bus.subscribe("setups.*", engine.on_setup)``."""
        self.evaluate(setup)

    def record_entry(self, setup: Setup) -> None:
        """Remember an entry on ``setup`` for gate 7 (see ``record_entries``)."""
        self.stock.record_entry(setup)

    def state_dict(self) -> dict[str, Any]:
        """Serialisable state (the shared entry log)."""
        return self.stock.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output."""
        self.stock.load_state_dict(state)


def _is_session_fn(calendar: SessionCalendar) -> Callable[[dt.date], bool] | None:
    fn = getattr(calendar, "is_session", None)
    return fn if callable(fn) else None
