"""``DecisionEngine``: a setup in, a fully explained decision out (DECISIONS.md, seven gates).

Every gate is evaluated for every setup. The first failing gate gives ``block_reason``; gates
after it are still evaluated and marked ``evaluated_after_block`` so gate analytics can show
what each gate would have let through. The action is ENTER when all gates pass and SKIP
otherwise; in SHADOW mode a setup that would have been entered gets ``SHADOW`` (recorded, no
order is sent), a blocked one stays SKIP.

All time checks use the setup's bar time; the engine has no clock. Account state comes only
through :class:`~tradekit.portfolio.base.AccountView`; VIX through a
:class:`~tradekit.decision.base.MarketView` (or a plain callable).

Examples
--------
>>> from tradekit.config import AlgorithmConfig
>>> from tradekit.core.events import Setup
>>> from tradekit.portfolio.base import AccountSummary
>>> class Acct:
...     def summary(self):
...         return AccountSummary(0, 1e5, 1e5, 1e5, 0, 0, 0, 0, 0, 1e5, 0, 0)
...     def position_qty(self, symbol): return 0.0
...     def symbol_notional(self, underlying): return 0.0
>>> class Cal:  # a session 09:30-16:00 NY on 2024-01-02 only
...     def session_bounds(self, ts):
...         o, c = 1_704_205_800_000_000_000, 1_704_229_200_000_000_000
...         return (o, c) if o <= ts < c else None
>>> eng = DecisionEngine(AlgorithmConfig(), account=Acct(), market=lambda ts: 15.0, calendar=Cal())
>>> s = Setup("s1", "SPY", "1min", 1_704_207_600_000_000_000, 30, 1, 470.0, 469.0, 472.5, 473.0,
...           474.0, 7.5, 8.0, 3, ("FVG", "BOS", "VOLUME_SURGE"))
>>> d = eng.decide(s)
>>> d.action.value, d.quantity, d.mode.value  # 1000 shares of risk, capped at 20% of equity
('ENTER', 42.0, 'TREND')
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from tradekit._typing import BoolArray, FloatArray, IntArray
from tradekit.config import AlgorithmConfig, HardLimits
from tradekit.core.bus import EventBus
from tradekit.core.columns import SetupColumns
from tradekit.core.enums import DecisionAction, RunMode, TradeMode
from tradekit.core.events import Decision, GateResult, Setup
from tradekit.core.ids import make_id
from tradekit.decision.base import (
    MarketView,
    SessionCalendar,
    VixFunction,
    as_market_view,
    check_setup_types,
    clean_level,
    clean_levels,
    default_calendar,
    reachable_targets,
)
from tradekit.decision.cooldowns import EntryLog
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
from tradekit.decision.prescreen import certain_failures, setup_batch
from tradekit.decision.scoring import Scorer, SetupScore
from tradekit.decision.sessions import SessionWindow
from tradekit.decision.sizing import Sizer, Sizing
from tradekit.portfolio.base import AccountSummary, AccountView

__all__ = ["DecisionEngine", "run_gates"]


def run_gates(gates: Sequence[Gate], ctx: GateContext) -> tuple[tuple[GateResult, ...], str | None]:
    """Evaluate every gate in order; mark the ones after the first failure.

    Returns the results and the first failing gate's reason (``None`` when all passed). A gate
    that raises becomes a failed result naming the exception (a denial, never a crash).
    """
    results: list[GateResult] = []
    block: str | None = None
    for gate in gates:
        try:
            r = gate.evaluate(ctx)
        except Exception as exc:  # a plug-in gate's bug denies, it does not kill the loop
            r = GateResult(gate.name, False, None, None, f"gate raised {type(exc).__name__}: {exc}")
        if block is not None:
            r = GateResult(r.name, r.passed, r.observed, r.threshold, r.reason, True)
        elif not r.passed:
            block = f"{r.name}: {r.reason}"
        results.append(r)
    return tuple(results), block


class DecisionEngine:
    """The directional (stock) decision engine.

    Parameters
    ----------
    config:
        Algorithm configuration (``decision`` and ``risk`` sections are used).
    account:
        Read-only account state.
    market:
        VIX source at the bar time (``MarketView`` or ``fn(ts_ns) -> float | None``); ``None``
        means VIX is always missing (blocked unless ``vix_missing_policy="allow"``).
    calendar:
        Exchange calendar; default ``tradekit.data.calendar`` for ``config.decision.calendar``.
    bus:
        When given, each decision is published on ``decisions.<action>`` (lowercase).
    extra_gates:
        Custom gates evaluated after gate 7.
    record_entries:
        True (default): every ENTER/SHADOW decision is remembered at once for gate 7 (trades
        today, cooldowns). False: the caller remembers it with :meth:`record_entry` once the
        entry was really sent; the engine kernel does so after the risk approval and the
        broker's acceptance, so an entry refused there neither counts as a trade nor starts
        a cooldown.
    """

    def __init__(
        self,
        config: AlgorithmConfig,
        *,
        account: AccountView,
        market: MarketView | Callable[[int], float | None] | None = None,
        calendar: SessionCalendar | None = None,
        bus: EventBus | None = None,
        extra_gates: Sequence[Gate] = (),
        record_entries: bool = True,
    ) -> None:
        self.config = config
        self.account = account
        self.record_entries = record_entries
        self.market = as_market_view(market)
        self.calendar = (
            calendar if calendar is not None else default_calendar(config.decision.calendar)
        )
        self.bus = bus
        dc = config.decision
        self.tz = ZoneInfo(dc.timezone)
        self.entries = EntryLog(self.tz)
        self._hash = config.content_hash
        #: ``config.content_hash``, computed once (it serialises the whole config).
        self.config_hash = self._hash
        self.scorer = Scorer(dc.family_weights, dc.kind_families)
        #: per-order share cap: the configured one within the hard limit (config is frozen)
        self._max_units = min(config.risk.max_order_qty, HardLimits.MAX_SHARES_PER_ORDER)
        self._sizer = Sizer(config.risk, self._max_units)
        # per-mode constants of the hot path, read once from the frozen config
        self._fraction = {m: self.risk_fraction(m) for m in TradeMode}
        self._rr_need = {m: self.min_rr(m) for m in TradeMode}
        self._pass_action = self.action_for(None)
        self._version = config.version
        self._templates: dict[int, tuple[Mapping[str, float], float, dict[str, float]]] = {}
        window = SessionWindow(self.calendar, dc.session_start, dc.session_end, self.tz)
        self.gates: tuple[Gate, ...] = (
            SignalIntegrityGate(dc.min_confidence, dc.min_confluence),
            SessionVolatilityGate(window, dc.max_vix, dc.vix_missing_policy),
            FactorizationGate(dc.min_factor_score),
            RoleAssignmentGate(dc.min_roles),
            ScoreModeGate(),
            RiskSizingGate(),
            DailyLimitsGate(dc),
            *extra_gates,
        )
        self._state_gates = tuple(g for g in self.gates if isinstance(g, StateGate))

    # -- building blocks (reused by the options-aware engine) ----------------------------------
    def vix_at(self, ts_ns: int) -> float | None:
        """The VIX level known at ``ts_ns`` (``None`` if missing, NaN or non-positive)."""
        market = self.market
        if market is None:
            return None
        if market.__class__ is VixFunction:  # already cleaned (clean_level is idempotent)
            return market.vix(ts_ns)
        return clean_level(market.vix(ts_ns))

    def vix_levels(self, ts_ns: IntArray) -> FloatArray | None:
        """:meth:`vix_at` at each of the times ``ts_ns`` (NaN for None) in one lookup, when
        the market answers arrays (``vix_path``, e.g.
        :meth:`~tradekit.data.market.MarketDataService.vix_path`); else None."""
        path = getattr(self.market, "vix_path", None)
        return None if path is None else clean_levels(path(ts_ns))

    def min_rr(self, mode: TradeMode) -> float:
        """Gate 5 threshold for ``mode``."""
        dc = self.config.decision
        return dc.min_rr_reversal if mode is TradeMode.REVERSAL else dc.min_rr_default

    def risk_fraction(self, mode: TradeMode) -> float:
        """Fraction of equity to risk: ``risk_per_trade``, halved (by default) for REVERSAL."""
        dc = self.config.decision
        factor = dc.reversal_risk_factor if mode is TradeMode.REVERSAL else 1.0
        return dc.risk_per_trade * factor

    def _size(self, setup: Setup, score: SetupScore, acct: AccountSummary) -> Sizing:
        entry, symbol, account = setup.entry, setup.symbol, self.account
        return self._sizer(
            acct,
            account.symbol_notional(symbol),
            account.position_qty(symbol),
            entry,
            abs(entry - setup.stop),
            abs(entry),
            self._fraction[score.mode],
        )

    def sizing_columns(self, cols: SetupColumns) -> tuple[FloatArray, FloatArray, FloatArray]:
        """What :meth:`_size` reads from each setup of ``cols``: ``(unit risk |entry -
        stop|, unit notional |entry|, risk fraction of its trade mode)``, one entry per
        setup (currency per share, currency, fraction of equity)."""
        mode_fraction = np.array(
            [self._fraction[self.scorer.kinds_score(k).mode] for k in cols.kinds], np.float64
        )
        return (np.abs(cols.entry - cols.stop), np.abs(cols.entry),
                mode_fraction[cols.kind_code] if len(cols.kinds) else np.empty(0))  # fmt: skip

    @property
    def sizing_limits(self) -> tuple[float, float, float, float, float, float]:
        """The sizer's caps (:attr:`~tradekit.decision.sizing.Sizer.limits`)."""
        return self._sizer.limits

    def breakdown(self, score: SetupScore, confidence: float) -> dict[str, float]:
        """``{**score.family_sums, "total": score.total, "confidence": confidence}``, copied
        from a template kept per analysed kinds (the scorer shares ``family_sums`` between
        setups with the same kinds; copying a dict is 4x cheaper than unpacking the proxy)."""
        sums = score.family_sums
        if sums.__class__ is not MappingProxyType:  # only the scorer's read-only sums are kept
            return {**sums, "total": score.total, "confidence": confidence}
        hit = self._templates.get(id(sums))
        if hit is None or hit[0] is not sums or hit[1] is not score.total:
            if len(self._templates) >= 4096:
                self._templates.clear()
            hit = (sums, score.total, {**sums, "total": score.total, "confidence": 0.0})
            self._templates[id(sums)] = hit  # holds ``sums``: its id cannot be reused
        out = hit[2].copy()
        out["confidence"] = confidence
        return out

    def action_for(self, block: str | None) -> DecisionAction:
        """ENTER, SKIP, or SHADOW (SHADOW mode, all gates passed) for a block reason."""
        if block is not None:
            return DecisionAction.SKIP
        if self.config.decision.mode is RunMode.SHADOW:
            return DecisionAction.SHADOW
        return DecisionAction.ENTER

    def record_entry(self, setup: Setup) -> None:
        """Remember an entry on ``setup`` (its bar time, symbol and signal kinds) for gate 7:
        trades today and the cooldowns."""
        self.entries.record(setup.ts_ns, setup.symbol, tuple(setup.active_signals))

    def finish(self, decision: Decision, setup: Setup) -> Decision:
        """Record a would-be entry for cooldowns (unless ``record_entries`` is False) and
        publish ``decisions.<action>``."""
        if self.record_entries and decision.action is not DecisionAction.SKIP:
            self.record_entry(setup)
        if self.bus is not None:
            self.bus.publish(f"decisions.{decision.action.value.lower()}", decision)
        return decision

    # -- public API -----------------------------------------------------------------------------
    def refused_on_state(self, setup: Setup) -> bool:
        """Whether a gate that reads only the account state (daily limits and cooldowns, the
        trading state: :class:`~tradekit.decision.gates.StateGate`) refuses ``setup`` now, so
        that :meth:`decide` would give SKIP whatever the rest. Raises as :meth:`decide` does
        for a mistyped setup; a refused setup is not decided, so nothing else it might
        raise is raised."""
        check_setup_types(setup)
        return refused_on_state(self._state_gates, setup, self.account.summary(), self.entries)

    def refused_until(self, symbol: str, timeframe: str, ts_ns: int) -> int:
        """Until when (int ns UTC, exclusive) :meth:`refused_on_state` holds for every setup
        on ``symbol`` (bars of ``timeframe``; the same gates for all here) from ``ts_ns`` on,
        while no entry is recorded and the trading state stands (the day's trade count,
        symbol and global cooldowns, HALTED); ``ts_ns`` when nothing is known to refuse
        them all."""
        return refused_until(self._state_gates, symbol, ts_ns, self.entries)

    def decide(self, setup: Setup) -> Decision:
        """Evaluate all gates for ``setup`` and return the decision (published if a bus is set).

        Raises :class:`~tradekit.errors.DataError` for a setup with mistyped fields
        (:func:`~tradekit.decision.base.check_setup_types`); bad *values* are gate failures.
        """
        t0 = time.perf_counter_ns()  # a duration, not a time source
        check_setup_types(setup)
        score = self.scorer(setup)
        mode = score.mode
        acct = self.account.summary()
        sizing = self._size(setup, score, acct)
        # positional: setup, account, score, sizing, vix, entries, min_rr, extra
        ctx = GateContext(setup, acct, score, sizing, self.vix_at(setup.ts_ns), self.entries,
                          self._rr_need[mode], {})  # fmt: skip
        results, block = run_gates(self.gates, ctx)
        breakdown = self.breakdown(score, setup.confidence)
        # positional (keyword parsing of 20 fields costs more than the record itself): id,
        # setup_id, symbol, ts_ns, action, gates, block_reason, direction, quantity, entry,
        # stop, targets, mode, strategy, legs, timeframe_class, risk_amount, expected_rr,
        # score_breakdown, config_version, config_hash, processing_time_us
        decision = Decision(make_id("dec", setup.id, self._hash), setup.id, setup.symbol,
                            setup.ts_ns,
                            self._pass_action if block is None else DecisionAction.SKIP,
                            results, block, setup.direction, float(sizing.quantity),
                            setup.entry, setup.stop, reachable_targets(setup), mode, "stock",
                            (), None, sizing.risk_amount, score.rr, breakdown, self._version,
                            self._hash,
                            (time.perf_counter_ns() - t0) / 1000.0)  # fmt: skip
        return self.finish(decision, setup)

    def certain_skips(self, cols: SetupColumns) -> BoolArray:
        """Per setup of ``cols``: True where a gate that reads only the setup, its bar time
        and the VIX refuses it (:mod:`tradekit.decision.prescreen`), so :meth:`decide` would
        return SKIP whatever the account, and deciding it would change no state."""
        batch = setup_batch(cols, self.scorer, self._rr_need, self.vix_at,
                            vix=self.vix_levels(cols.ts_ns))  # fmt: skip
        return certain_failures(self.gates, batch)

    def on_setup(self, topic: str, setup: Setup) -> None:
        """Bus handler: ``bus.subscribe("setups.*", engine.on_setup)``."""
        self.decide(setup)

    def state_dict(self) -> dict[str, Any]:
        """Serialisable engine state (entries for trade counts and cooldowns)."""
        return {"config_hash": self._hash, "entries": self.entries.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output (config hash may differ; it is informational).

        Raises
        ------
        ValueError
            When ``state`` is not a state produced by :meth:`state_dict`.
        """
        if not isinstance(state, dict) or not isinstance(state.get("entries"), dict):
            raise ValueError("invalid DecisionEngine state: needs an 'entries' mapping")
        self.entries.load_state_dict(state["entries"])
