"""The position monitor's exit rules, as pure functions over a small managed-position record.

The broker owns one :class:`ManagedPosition` per entry order that carried an
:class:`~tradekit.execution.exits.ExitPlan`; on every bar of its symbol it asks
:func:`price_exits` (stock: intrabar stop/targets), :func:`premium_exits` (option structures, at
the bar close) and :func:`time_exit` (both) what to close, and executes the answers. The rules
themselves are in the :mod:`tradekit.execution.exits` docstring; this module only decides.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from tradekit.core.events import Bar, Leg
from tradekit.execution.exits import ExitPlan, resolve_fractions
from tradekit.execution.orders import OrderRequest

__all__ = [
    "ExitInstruction",
    "ManagedPosition",
    "PositionMonitor",
    "premium_exits",
    "price_exits",
    "time_exit",
]

SessionBounds = Callable[[int], "tuple[int, int] | None"]
MarkNet = Callable[[tuple[Leg, ...], int], float]

_NS_PER_MINUTE = 60_000_000_000


@dataclass(frozen=True, slots=True)
class ExitInstruction:
    """Close ``qty`` units (tag names the rule: ``stop``, ``tp1``, ``take_half``, ``eod``...).

    ``price`` is the reference fill price for price exits (NaN: at the bar close / quotes);
    ``taker`` says whether slippage applies (stops and time exits: yes; targets: no).
    """

    tag: str
    qty: float
    price: float = math.nan
    taker: bool = True


@dataclass(slots=True)
class ManagedPosition:
    """One position under an exit plan.

    ``side`` is +1 when the entry bought (long stock, or a bought option package) and -1 for a
    short sale; ``entry_price`` is the average entry (net premium per unit for legs: > 0 debit,
    < 0 credit); ``qty`` the units still managed.
    """

    key: str
    symbol: str
    side: int
    plan: ExitPlan
    fractions: tuple[float, ...]
    breakeven: bool
    multiplier: float = 1.0
    legs: tuple[Leg, ...] = ()
    qty: float = 0.0
    entry_price: float = math.nan
    stop: float | None = None
    targets_done: int = 0
    half_taken: bool = False
    exit_seq: int = 0
    decision_id: str | None = None

    def add_entry(self, qty: float, price: float) -> None:
        """Grow the managed quantity by an entry fill of ``qty`` at ``price``."""
        if self.qty <= 0:
            self.qty, self.entry_price = qty, price
        else:
            self.entry_price = (self.entry_price * self.qty + price * qty) / (self.qty + qty)
            self.qty += qty

    @property
    def nearest_expiry(self) -> dt.date | None:
        return min((leg.contract.expiry for leg in self.legs), default=None)


def _stop_price(side: int, stop: float, bar: Bar) -> float:
    """Where a protective stop of a ``side`` position fills on ``bar`` (NaN: not touched)."""
    if side > 0:
        return bar.open if bar.open <= stop else (stop if bar.low <= stop else math.nan)
    return bar.open if bar.open >= stop else (stop if bar.high >= stop else math.nan)


def _target_price(side: int, target: float, bar: Bar) -> float:
    if side > 0:
        return bar.open if bar.open >= target else (target if bar.high >= target else math.nan)
    return bar.open if bar.open <= target else (target if bar.low <= target else math.nan)


def price_exits(m: ManagedPosition, bar: Bar) -> list[ExitInstruction]:
    """Stop and target exits of a stock position on ``bar`` (mutates ``m``'s rule state).

    The stop is checked first and wins when the bar touches both. Targets hit on this bar close
    their fraction of what is left (the last target closes the rest); after TP1 the stop moves
    to the entry price when ``m.breakeven`` — effective from the next bar on.
    """
    out: list[ExitInstruction] = []
    if m.qty <= 0:
        return out
    if m.stop is not None:
        px = _stop_price(m.side, m.stop, bar)
        if px == px:
            return [ExitInstruction("stop", m.qty, px, True)]
    targets, fr = m.plan.targets, m.fractions
    left, new_stop = m.qty, m.stop
    while m.targets_done < len(targets) and left > 0:
        i = m.targets_done
        px = _target_price(m.side, targets[i], bar)
        if px != px:
            break
        rest = sum(fr[i:])
        last = i == len(targets) - 1
        q = left if last or rest <= 0 else min(left, float(round(fr[i] / rest * left)))
        if q > 0:
            out.append(ExitInstruction(f"tp{i + 1}", q, px, False))
            left -= q
        m.targets_done += 1
        if i == 0 and m.breakeven:
            new_stop = m.entry_price
    m.stop = new_stop
    return out


def premium_exits(m: ManagedPosition, mark_net: float) -> list[ExitInstruction]:
    """Premium-% exits of an option package whose net mid per unit is ``mark_net``.

    Return ``(mark - entry) / |entry|``: ≤ -premium_stop → all; ≥ take_all → all; ≥ take_half →
    half of the units (floor, once). Nothing when the entry premium is 0 or the mark unknown.
    """
    p = m.plan
    if m.qty <= 0 or not math.isfinite(mark_net) or not m.entry_price:
        return []
    ret = (mark_net - m.entry_price) / abs(m.entry_price) * m.side
    if p.premium_stop_pct is not None and ret <= -p.premium_stop_pct:
        return [ExitInstruction("premium_stop", m.qty)]
    if p.take_all_pct is not None and ret >= p.take_all_pct:
        return [ExitInstruction("take_all", m.qty)]
    if p.take_half_pct is not None and not m.half_taken and ret >= p.take_half_pct:
        m.half_taken = True
        half = float(math.floor(m.qty / 2))
        if half >= 1:
            return [ExitInstruction("take_half", half)]
    return []


def time_exit(
    m: ManagedPosition,
    ts_ns: int,
    session_close_ns: int | None,
    today: dt.date,
    flatten_minutes: float,
) -> ExitInstruction | None:
    """The first time rule that closes everything at ``ts_ns`` (a bar close), or None.

    Order: absolute time stop, minutes-before-close time stop, end-of-day flatten, DTE close.
    """
    p = m.plan
    if m.qty <= 0:
        return None
    if p.time_stop_ns is not None and ts_ns >= p.time_stop_ns:
        return ExitInstruction("time_stop", m.qty)
    if session_close_ns is not None:
        left_min = (session_close_ns - ts_ns) / _NS_PER_MINUTE
        mins = p.time_stop_minutes_before_close
        if mins is not None and left_min <= mins:
            return ExitInstruction("time_stop", m.qty)
        if p.flatten_eod and left_min <= flatten_minutes:
            return ExitInstruction("eod", m.qty)
    if p.close_at_dte is not None:
        expiry = m.nearest_expiry
        if expiry is not None and (expiry - today).days <= p.close_at_dte:
            return ExitInstruction("dte", m.qty)
    return None


class PositionMonitor:
    """Exit plans waiting for their entry fill, and the positions they manage.

    The broker calls :meth:`attach` on submission, :meth:`on_entry_fill` for each fill of
    an entry order, and iterates :meth:`exits` on every bar, executing each instruction before
    asking for the next (the generator is lazy, so later rules see the reduced quantity).

    Parameters
    ----------
    scale_out:
        Default fractions per target (``ExecutionConfig.scale_out``).
    breakeven_after_tp1:
        Default of the plans' break-even rule.
    flatten_minutes:
        End-of-day flatten lead time, minutes before the session close.
    session_bounds:
        ``(open_ns, close_ns)`` of the session containing a time, or None.
    """

    def __init__(
        self,
        scale_out: tuple[float, ...],
        breakeven_after_tp1: bool,
        flatten_minutes: float,
        session_bounds: SessionBounds,
    ) -> None:
        self._scale_out = scale_out
        self._breakeven = breakeven_after_tp1
        self._flatten = flatten_minutes
        self._bounds = session_bounds
        self._session: tuple[int, int] | None = None
        self._plans: dict[str, ExitPlan] = {}
        self._managed: dict[str, dict[str, ManagedPosition]] = {}

    def attach(self, order_id: str, plan: ExitPlan) -> None:
        """Remember ``plan`` until the entry order ``order_id`` fills."""
        self._plans[order_id] = plan

    @property
    def pending(self) -> bool:
        """True while some entry order's exit plan waits for its fill."""
        return bool(self._plans)

    def drop_plan(self, order_id: str) -> None:
        """Forget the plan of an entry order that ended without any fill."""
        self._plans.pop(order_id, None)

    def on_entry_fill(
        self, order_id: str, req: OrderRequest, qty: float, price: float, done: bool
    ) -> ManagedPosition | None:
        """Start or grow the managed position of entry ``order_id`` (None without a plan)."""
        plan = self._plans.get(order_id)
        if plan is None:
            return None
        ms = self._managed.setdefault(req.symbol, {})
        m = ms.get(order_id)
        if m is None:
            be = self._breakeven if plan.breakeven_after_tp1 is None else plan.breakeven_after_tp1
            m = ManagedPosition(
                key=order_id, symbol=req.symbol, side=int(req.side), plan=plan,
                fractions=resolve_fractions(plan, self._scale_out), breakeven=be,
                multiplier=req.multiplier, legs=req.legs, stop=plan.stop,
                decision_id=req.decision_id,
            )  # fmt: skip
            ms[order_id] = m
        m.add_entry(qty, price)
        if done:
            self._plans.pop(order_id, None)
        return m

    def watching(self, symbol: str) -> bool:
        """True when a managed position trades on bars of ``symbol``."""
        return bool(self._managed.get(symbol))

    def positions(self, symbol: str | None = None) -> list[ManagedPosition]:
        """Managed positions still holding units (of ``symbol``, or all)."""
        groups = [self._managed.get(symbol, {})] if symbol else list(self._managed.values())
        return [m for ms in groups for m in ms.values() if m.qty > 0]

    def _session_close(self, ts_ns: int) -> int | None:
        s = self._session
        if s is None or not (s[0] <= ts_ns < s[1]):
            s = self._bounds(ts_ns)
            self._session = s
        return s[1] if s is not None else None

    def exits(
        self, bar: Bar, today: dt.date, mark_net: MarkNet
    ) -> Iterator[tuple[ManagedPosition, ExitInstruction]]:
        """The exits due on ``bar``, one at a time; fully closed positions are dropped after."""
        close_ns = self._session_close(bar.ts_ns)
        ms = self._managed.get(bar.symbol, {})
        for m in list(ms.values()):
            if m.legs:
                todo = premium_exits(m, mark_net(m.legs, bar.close_ts_ns))
            else:
                todo = price_exits(m, bar)  # a stop exit comes alone
            for ins in todo:
                yield m, ins
            t = time_exit(m, bar.close_ts_ns, close_ns, today, self._flatten)
            if t is not None:
                yield m, t
        for key in [k for k, m in ms.items() if m.qty <= 0]:
            del ms[key]
