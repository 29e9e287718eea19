"""The seven gates of the directional engine, one small named class per gate.

Modelled on zipline's ``TradingControl``: each gate has a ``name`` and one method,
:meth:`Gate.evaluate`, that compares what the setup and the account show with its threshold
and returns a :class:`~tradekit.core.events.GateResult` (observed value, threshold, reason).
The values the gates compare (family sums, roles, mode, reward:risk, the sized quantity) are
computed once per setup in a :class:`GateContext`, so the decision record holds exactly what
the gates saw. Gates never raise on bad setups: a failed comparison is a failed gate.

Custom gates are any object with ``name`` and ``evaluate(ctx) -> GateResult``; the engine turns
an exception raised by one into a failed gate (a denial), never a dead loop.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar, runtime_checkable

import numpy as np

from tradekit._typing import BoolArray
from tradekit.config import DecisionConfig
from tradekit.core.events import GateResult, Setup
from tradekit.decision.cooldowns import EntryLog
from tradekit.decision.scoring import SetupScore
from tradekit.decision.sessions import SessionWindow, local_time
from tradekit.decision.sizing import Sizing
from tradekit.portfolio.base import AccountSummary

if TYPE_CHECKING:
    from tradekit.decision.prescreen import SetupBatch

__all__ = [
    "DailyLimitsGate",
    "FactorizationGate",
    "Gate",
    "GateContext",
    "RiskSizingGate",
    "RoleAssignmentGate",
    "ScoreModeGate",
    "SessionVolatilityGate",
    "SignalIntegrityGate",
    "StateGate",
    "TradingStateGate",
    "TradingStateView",
    "refused_on_state",
    "refused_until",
]


@dataclass(slots=True)
class GateContext:
    """Everything a gate may look at for one setup (built by the engine).

    ``vix`` is ``None`` when the market view had no value at the bar. ``extra`` carries
    values of the options-aware gates (structure, IV rank, events) keyed by name.
    """

    setup: Setup
    account: AccountSummary
    score: SetupScore
    sizing: Sizing
    vix: float | None
    entries: EntryLog
    min_rr: float
    extra: dict[str, object]


@runtime_checkable
class Gate(Protocol):
    """One rule: ``evaluate`` is pure given the context and returns the gate's verdict."""

    @property
    def name(self) -> str:
        """Stable gate name recorded in :class:`~tradekit.core.events.GateResult`."""
        ...

    def evaluate(self, ctx: GateContext) -> GateResult:
        """Compare and explain. ``passed`` False means the setup must not be entered."""
        ...


_INF = math.inf


# -- memoised verdicts ------------------------------------------------------------------------
# GateResult is frozen, so one instance can be shared by every decision that produced the same
# verdict. Most gates compare a handful of discrete values (confidence, factor score, roles,
# R:R, today's trade count), so a small dict keyed by exactly what the result shows answers most
# setups without building a record or formatting text. Keys are only used where equal keys give
# identical records: a float key must be a non-zero float (``0.0 == -0.0`` but they print apart;
# ``1 == 1.0`` but an int is recorded as an int).
_MEMO_MAX = 1024
#: the latest time (int ns): a refusal with no known end
_FOREVER_NS = np.iinfo(np.int64).max
_K = TypeVar("_K", bound=Hashable)
_V = TypeVar("_V")


def _memo() -> dict[Hashable, GateResult]:
    return {}


def _remember(memo: dict[_K, _V], key: _K, result: _V) -> _V:
    """Store ``result`` under ``key`` (the dict is bounded: cleared when full); return it."""
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    memo[key] = result
    return result


@dataclass(frozen=True, slots=True)
class SignalIntegrityGate:
    """Gate 1: confidence, confluence count, known signals and sane price levels.

    Entry, stop and TP1 must be finite and > 0, the stop on the losing side of the entry and
    TP1 on the winning side; so ``entry == stop`` fails here and is never divided by.
    """

    min_confidence: float
    min_confluence: int
    name: str = "signal_integrity"
    _passed: dict[Hashable, GateResult] = field(
        default_factory=_memo, init=False, repr=False, compare=False
    )

    def _problem(self, s: Setup, ctx: GateContext) -> str | None:
        if not (math.isfinite(s.confidence) and s.confidence >= self.min_confidence):
            return f"confidence {s.confidence} < {self.min_confidence}"
        if s.confluence_count < self.min_confluence:
            return f"confluence {s.confluence_count} < {self.min_confluence}"
        if not s.active_signals:
            return "no active signals"
        if ctx.score.unknown:
            return f"unknown signal kinds {list(ctx.score.unknown)}"
        if s.direction not in (1, -1):
            return f"direction {s.direction} is not +1/-1"
        # 0 < x < inf: finite and positive (NaN fails every comparison)
        if not (0 < s.entry < _INF and 0 < s.stop < _INF and 0 < s.tp1 < _INF):
            return f"entry/stop/tp1 must be finite and > 0 (got {s.entry}, {s.stop}, {s.tp1})"
        if s.direction * (s.entry - s.stop) <= 0:
            return f"stop {s.stop} not on the losing side of entry {s.entry}"
        if s.direction * (s.tp1 - s.entry) <= 0:
            return f"tp1 {s.tp1} not on the winning side of entry {s.entry}"
        return None

    def fails_batch(self, b: SetupBatch) -> BoolArray:
        """Per setup of ``b``: whether :meth:`evaluate` fails it (the same checks)."""
        c = b.cols
        d, entry, stop, tp1 = c.direction, c.entry, c.stop, c.tp1
        with np.errstate(invalid="ignore", over="ignore"):
            ok = np.isfinite(c.confidence) & (c.confidence >= self.min_confidence)
            ok &= c.confluence_count >= self.min_confluence
            ok &= (b.n_kinds > 0) & ~b.unknown & ((d == 1) | (d == -1))
            for x in (entry, stop, tp1):
                ok &= (x > 0) & (x < _INF)
            ok &= d * (entry - stop) > 0
            ok &= d * (tp1 - entry) > 0
        return ~ok

    def evaluate(self, ctx: GateContext) -> GateResult:
        problem = self._problem(ctx.setup, ctx)
        observed = float(ctx.setup.confidence)
        if problem is not None:
            return GateResult(self.name, False, observed, self.min_confidence, problem)
        if observed:  # a passing result depends only on the confidence (key: see _memo)
            hit = self._passed.get(observed)
            if hit is not None:
                return hit
        r = GateResult(self.name, True, observed, self.min_confidence, "setup is sane")
        return _remember(self._passed, observed, r) if observed else r


@dataclass(frozen=True, slots=True)
class SessionVolatilityGate:
    """Gate 2: the bar time is inside the session window and VIX ≤ ``max_vix``.

    A missing VIX fails by default (``vix_missing_policy="block"``); with ``"allow"`` it passes
    and the reason says it was allowed by policy, so analytics can find those decisions.
    """

    window: SessionWindow
    max_vix: float
    vix_missing_policy: str = "block"
    name: str = "session_volatility"
    _vix_text: dict[float, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def fails_batch(self, b: SetupBatch) -> BoolArray:
        """Per setup of ``b``: whether :meth:`evaluate` fails it (False where the VIX lookup
        raised: undecided here)."""
        missing = np.isnan(b.vix)
        with np.errstate(invalid="ignore"):
            fail = ~self.window.contains(b.cols.ts_ns) | (~missing & (b.vix > self.max_vix))
        if self.vix_missing_policy != "allow":
            fail |= missing
        return fail & ~b.vix_error

    def evaluate(self, ctx: GateContext) -> GateResult:
        ok, why = self.window.check(ctx.setup.ts_ns)
        vix = ctx.vix
        observed: float | str = "missing" if vix is None else vix
        if not ok:
            return GateResult(self.name, False, observed, self.max_vix, why)
        if vix is None:
            if self.vix_missing_policy == "allow":
                return GateResult(
                    self.name, True, observed, self.max_vix, f"{why}; VIX missing: allow"
                )
            return GateResult(
                self.name, False, observed, self.max_vix, f"{why}; VIX missing: block"
            )
        if vix > self.max_vix:
            return GateResult(
                self.name, False, vix, self.max_vix, f"VIX {vix:.2f} > {self.max_vix}"
            )
        text = self._vix_text.get(vix)  # "; VIX 15.00" per level (a few distinct per day)
        if text is None:
            text = _remember(self._vix_text, vix, f"; VIX {vix:.2f}")
        return GateResult(self.name, True, vix, self.max_vix, why + text)


@dataclass(frozen=True, slots=True)
class FactorizationGate:
    """Gate 3: the sum of family weights over the active signals ≥ ``min_score``."""

    min_score: float
    name: str = "factorization"
    _memo: dict[Hashable, GateResult] = field(
        default_factory=_memo, init=False, repr=False, compare=False
    )

    def fails_batch(self, b: SetupBatch) -> BoolArray:
        """Per setup of ``b``: whether :meth:`evaluate` fails it."""
        return ~(b.total >= self.min_score - 1e-12)

    def evaluate(self, ctx: GateContext) -> GateResult:
        total = ctx.score.total
        exact = total.__class__ is float and total != 0.0  # a safe memo key (see _memo)
        if exact:
            hit = self._memo.get(total)
            if hit is not None:
                return hit
        ok = total >= self.min_score - 1e-12
        op = ">=" if ok else "<"
        r = GateResult(
            self.name, ok, total, self.min_score, f"factor score {total:g} {op} {self.min_score:g}"
        )
        return _remember(self._memo, total, r) if exact else r


@dataclass(frozen=True, slots=True)
class RoleAssignmentGate:
    """Gate 4: a primary plus up to two confirmations from other families; needs ``min_roles``."""

    min_roles: int
    name: str = "role_assignment"
    _memo: dict[Hashable, GateResult] = field(
        default_factory=_memo, init=False, repr=False, compare=False
    )

    def fails_batch(self, b: SetupBatch) -> BoolArray:
        """Per setup of ``b``: whether :meth:`evaluate` fails it."""
        return b.roles < self.min_roles

    def evaluate(self, ctx: GateContext) -> GateResult:
        sc = ctx.score
        key = (sc.primary, sc.confirmations)  # the result is a function of the roles alone
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        roles = sc.roles
        text = f"primary {sc.primary}, confirmations {list(sc.confirmations)}"
        ok = roles >= self.min_roles
        r = GateResult(
            self.name,
            ok,
            float(roles),
            float(self.min_roles),
            text if ok else f"{roles} roles < {self.min_roles}: {text}",
        )
        return _remember(self._memo, key, r)


@dataclass(frozen=True, slots=True)
class ScoreModeGate:
    """Gate 5: trade mode from family sums; reward:risk to TP1 ≥ the mode's minimum.

    The minimum is taken from the context (``ctx.min_rr``), which the engine sets from the mode
    (3.0 REVERSAL, 2.0 otherwise; options classes scale their own table).
    """

    name: str = "score_mode"
    _memo: dict[Hashable, GateResult] = field(
        default_factory=_memo, init=False, repr=False, compare=False
    )

    def fails_batch(self, b: SetupBatch) -> BoolArray:
        """Per setup of ``b``: whether :meth:`evaluate` fails it (``b.min_rr`` is the
        threshold the engine puts in the context)."""
        with np.errstate(invalid="ignore"):
            return ~(np.isfinite(b.rr) & (b.rr >= b.min_rr - 1e-12))

    def evaluate(self, ctx: GateContext) -> GateResult:
        sc = ctx.score
        rr, need = sc.rr, ctx.min_rr
        # R:R of generated setups is a few discrete multiples (targets are R-based)
        exact = rr.__class__ is float and rr != 0.0 and need.__class__ is float and need != 0.0
        if exact:
            key = (rr, need, sc.mode)
            hit = self._memo.get(key)
            if hit is not None:
                return hit
        mode = sc.mode.value
        if not math.isfinite(rr):
            return GateResult(self.name, False, None, need, f"{mode}: reward:risk undefined")
        ok = rr >= need - 1e-12
        op = ">=" if ok else "<"
        r = GateResult(self.name, ok, rr, need, f"{mode}: R:R {rr:.2f} {op} {need:g}")
        return _remember(self._memo, key, r) if exact else r


@dataclass(frozen=True, slots=True)
class RiskSizingGate:
    """Gate 6: the sized quantity (after every position limit) is at least one unit."""

    name: str = "risk_sizing"

    def evaluate(self, ctx: GateContext) -> GateResult:
        sz: Sizing = ctx.sizing
        return GateResult(self.name, sz.quantity >= 1, float(sz.quantity), 1.0, sz.reason)


@dataclass(frozen=True, slots=True)
class DailyLimitsGate:
    """Gate 7: trades today < max, day P&L above the loss limit, no cooldown active.

    Trades are the engine's own ENTER decisions on the New York date of the bar; the loss
    limit compares realized + unrealized day P&L with ``-daily_loss_limit × start-of-day
    equity`` (strictly above passes).
    """

    cfg: DecisionConfig
    name: str = "daily_limits"
    # by today's trade count: the "too many trades" failure or the passing result
    _memo: dict[int, GateResult] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def evaluate(self, ctx: GateContext) -> GateResult:
        return self._check(ctx.setup, ctx.account, ctx.entries)

    def refuses_on_state(self, setup: Setup, account: AccountSummary, entries: EntryLog) -> bool:
        """Whether this gate fails ``setup`` now: it reads only the account and the entry
        log (and the setup's time, symbol and kinds), so a failure makes the decision a SKIP
        whatever the other gates say (a metrics-only replay counts it without deciding)."""
        return not self._check(setup, account, entries).passed

    def refuses_until(self, symbol: str, ts_ns: int, entries: EntryLog) -> int:
        """Until when (int ns UTC, exclusive) this gate fails every setup on ``symbol``
        while no entry is recorded: the day's trade count or a symbol / global cooldown
        (:meth:`EntryLog.blocked_until`); ``ts_ns`` when it knows no such time. The loss
        limit moves with every mark and kind cooldowns with the setup: left out."""
        return entries.blocked_until(ts_ns, symbol, self.cfg)

    def _check(self, s: Setup, acct: AccountSummary, entries: EntryLog) -> GateResult:
        cfg = self.cfg
        n = entries.trades_on_day_of(s.ts_ns)
        if n >= cfg.max_trades_per_day:
            return self._memo.get(n) or _remember(
                self._memo,
                n,
                GateResult(
                    self.name,
                    False,
                    float(n),
                    float(cfg.max_trades_per_day),
                    f"{n} trades today >= {cfg.max_trades_per_day}",
                ),
            )
        sod = acct.start_of_day_equity if acct.start_of_day_equity > 0 else acct.equity
        floor_pnl = -cfg.daily_loss_limit * sod
        if not (math.isfinite(acct.day_pnl) and acct.day_pnl > floor_pnl):
            return GateResult(
                self.name,
                False,
                acct.day_pnl,
                floor_pnl,
                f"day P&L {acct.day_pnl:.2f} <= limit {floor_pnl:.2f}",
            )
        cd = entries.active_cooldown(s.ts_ns, s.symbol, s.active_signals, cfg)
        if cd is not None:
            until = local_time(cd.until_ns, entries.tz)
            return GateResult(
                self.name,
                False,
                cd.which,
                f"until {until:%H:%M} NY",
                f"{cd.which} cooldown active until {until:%H:%M} NY",
            )
        return self._memo.get(n) or _remember(
            self._memo,
            n,
            GateResult(
                self.name,
                True,
                float(n),
                float(cfg.max_trades_per_day),
                f"{n} trades today; no cooldown",
            ),
        )


@runtime_checkable
class StateGate(Protocol):
    """A gate that can tell, from the account and the entry log alone, that it fails a
    setup now (:meth:`DailyLimitsGate.refuses_on_state`): a metrics-only replay counts such
    a setup as a SKIP without deciding it."""

    def refuses_on_state(
        self, setup: Setup, account: AccountSummary, entries: EntryLog
    ) -> bool: ...

    def refuses_until(self, symbol: str, ts_ns: int, entries: EntryLog) -> int: ...


def refused_on_state(
    gates: tuple[StateGate, ...], setup: Setup, account: AccountSummary, entries: EntryLog
) -> bool:
    """Whether one of ``gates`` (the :class:`StateGate` s of an engine) fails ``setup`` now."""
    return any(g.refuses_on_state(setup, account, entries) for g in gates)


def refused_until(gates: tuple[StateGate, ...], symbol: str, ts_ns: int, entries: EntryLog) -> int:
    """Until when (int ns UTC, exclusive) one of ``gates`` fails every setup on ``symbol``
    as long as the account state stands (no entry, no change of trading state); ``ts_ns``
    when none knows such a time."""
    return max((g.refuses_until(symbol, ts_ns, entries) for g in gates), default=ts_ns)


class TradingStateView(Protocol):
    """What :class:`TradingStateGate` reads (the risk engine offers both)."""

    @property
    def trading_state(self) -> object:
        """``TradingState`` (its ``.value`` is ``ACTIVE``, ``REDUCING`` or ``HALTED``)."""
        ...

    @property
    def state_reason(self) -> str:
        """Why the trader is in that state."""
        ...


@dataclass(slots=True)
class TradingStateGate:
    """The trader's own state: no entry is decided while it is HALTED.

    Without it a halted trader decided ENTER and the risk engine refused each order
    afterwards; with it the decision itself says that the halt blocked it (``block_reason``
    ``trading_state: trading HALTED (...)``), and every other gate is still recorded.
    """

    source: TradingStateView
    name: str = "trading_state"
    _ok: GateResult = field(
        default_factory=lambda: GateResult("trading_state", True, None, None, "trading ACTIVE"),
        init=False,
        repr=False,
    )

    def _halted(self) -> bool:
        state = self.source.trading_state
        return getattr(state, "value", str(state)) == "HALTED"

    def refuses_on_state(self, setup: Setup, account: AccountSummary, entries: EntryLog) -> bool:
        """Whether this gate fails now (the trader is HALTED): see
        :meth:`DailyLimitsGate.refuses_on_state`."""
        return self._halted()

    def refuses_until(self, symbol: str, ts_ns: int, entries: EntryLog) -> int:
        """While HALTED every setup is refused until the state changes (the largest time);
        else ``ts_ns``."""
        return _FOREVER_NS if self._halted() else ts_ns

    def evaluate(self, ctx: GateContext) -> GateResult:
        if not self._halted():
            return self._ok
        why = self.source.state_reason
        return GateResult(self.name, False, None, None, f"trading HALTED ({why})" if why else
                          "trading HALTED")  # fmt: skip
