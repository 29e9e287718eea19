"""``RiskEngine``: the one gateway between a decided order and the broker.

Modelled on nautilus' ``RiskEngine``: a trading state and a list of pre-trade checks.

* ``ACTIVE`` — every order is checked against every rule.
* ``REDUCING`` — only risk-reducing orders (moving existing positions toward zero, never
  flipping) may pass; they still face the hard checks.
* ``HALTED`` — every new order is refused (the kill switch). Leaving HALTED takes an explicit
  :meth:`RiskEngine.reset` naming who and why; it is logged, published and persisted.

State changes are published as :class:`~tradekit.core.events.StateChange` on ``risk.state``
and persisted through a :class:`StateStore` (the DuckDB ``Store`` has exactly
``set_state/get_state``), so a HALTED engine is HALTED again after a restart. A daily-loss
breach moves the engine to ``config.risk.daily_loss_action``.

Time comes only from the injected clock (throttle window, trading date, cooldowns).

Speed: with the default checks, a stock order in ACTIVE state that passes all of them is
approved by :meth:`RiskEngine._approve_plain` (plain comparisons, no per-order context; a few
µs). Anything else — a denial, a risk-reducing order, option legs, explicit Greeks, custom
checks, REDUCING — runs the general check loop, which alone decides what is reported. A check
made stricter in :mod:`tradekit.risk.checks` must be mirrored in ``_approve_plain``; the
fast-path-versus-loop property tests in ``tests/unit/risk`` fail until it is.

Wiring (the kernel's job): ``bus.subscribe("bars.*", risk.on_bar)`` keeps the last valid
prices for the collar; call :meth:`RiskEngine.evaluate_account` once per bar so a daily-loss
breach changes the state even when no order is pending; send an order to the broker only after
:meth:`RiskEngine.approve` returned ``approved`` (or :meth:`RiskEngine.check` did not raise).

Examples
--------
>>> from tradekit.config import AlgorithmConfig
>>> from tradekit.core.clock import SimClock
>>> from tradekit.core.enums import Side
>>> from tradekit.execution.orders import OrderRequest
>>> from tradekit.portfolio.base import AccountSummary
>>> class Acct:
...     def summary(self):
...         return AccountSummary(0, 1e5, 1e5, 1e5, 0, 0, 0, 0, 0, 1e5, 0, 0)
...     def position_qty(self, symbol): return 0.0
...     def symbol_notional(self, underlying): return 0.0
>>> risk = RiskEngine(AlgorithmConfig(), SimClock(0), Acct())
>>> risk.update_price("SPY", 470.0)
>>> risk.approve(OrderRequest("SPY", Side.BUY, 10, client_id="a")).approved
True
>>> risk.approve(OrderRequest("SPY", Side.BUY, 10, client_id="a")).check
'duplicate_order'
"""

from __future__ import annotations

import json
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from tradekit.config import AlgorithmConfig, HardLimits
from tradekit.core.bus import EventBus
from tradekit.core.clock import NS_PER_MINUTE, Clock, event_time_ns
from tradekit.core.enums import Side, TradingState
from tradekit.core.events import Bar, StateChange
from tradekit.core.records import fast_record
from tradekit.decision.sessions import DayIndex
from tradekit.errors import IllegalTransition, RiskDenied
from tradekit.execution.orders import OrderRequest, deterministic_order_id
from tradekit.portfolio.base import AccountView, GreekTotals
from tradekit.risk import checks as c

__all__ = [
    "STATE_KEY",
    "MemoryStateStore",
    "RiskEngine",
    "RiskVerdict",
    "StateStore",
    "build_checks",
]

log = logging.getLogger("tradekit.risk")

#: Key of the persisted trading state in the :class:`StateStore`.
STATE_KEY = "risk.trading_state"

#: How many approved order ids the duplicate guard remembers.
_SEEN_MAX = 200_000


@runtime_checkable
class StateStore(Protocol):
    """Key/value persistence that survives a restart (``tradekit.store.Store`` fits)."""

    def set_state(self, key: str, value: Any) -> None: ...

    def get_state(self, key: str) -> Any: ...


class MemoryStateStore:
    """An in-process :class:`StateStore` (a dict). Survives an engine restart, not a process
    restart; use the DuckDB store for that."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}

    def set_state(self, key: str, value: Any) -> None:
        self._data[key] = value

    def get_state(self, key: str) -> Any:
        return self._data.get(key)


@fast_record  # one verdict per order: built without the frozen ``object.__setattr__`` path
@dataclass(frozen=True, slots=True)
class RiskVerdict:
    """Outcome of a pre-trade check: approved, or the first failing check and its reason."""

    approved: bool
    reason: str | None
    check: str | None
    state: TradingState
    order_id: str | None = None


def _bad_field(order: c.RiskOrder) -> str | None:
    """Why a field of ``order`` has a type no check can compare (a ``str`` quantity from a
    form, ``None`` for a side), or None. Checked before any arithmetic: ``side * quantity``
    on such values can do anything from raising to repeating a string two billion times."""
    q, side = getattr(order, "quantity", None), getattr(order, "side", None)
    if not isinstance(q, (int, float)):
        return f"malformed order: quantity {q!r} is not a number"
    if not isinstance(side, int):
        return f"malformed order: side {side!r} is not BUY/SELL"
    for label in ("limit_price", "stop_price"):
        p = getattr(order, label, None)
        if p is not None and not isinstance(p, (int, float)):
            return f"malformed order: {label.replace('_', ' ')} {p!r} is not a number"
    return None


def _malformed(order: c.RiskOrder, exc: Exception) -> str:
    """The reason for refusing an order whose fields could not be compared."""
    return _bad_field(order) or f"malformed order: {type(exc).__name__}: {exc}"


def _order_id(order: c.RiskOrder) -> str | None:
    if type(order) is OrderRequest:  # the common case: no ``id`` attribute to look for
        if order.decision_id is None and order.client_id is None:
            return None
        return deterministic_order_id(order.decision_id, order.client_id, order.tag)
    oid = getattr(order, "id", None)
    if isinstance(oid, str):
        return oid
    decision_id, tag = getattr(order, "decision_id", None), getattr(order, "tag", "")
    client_id = getattr(order, "client_id", None)
    if decision_id is None and client_id is None:
        return None
    return deterministic_order_id(decision_id, client_id, tag)  # the broker's id, memoised


def build_checks(config: AlgorithmConfig) -> tuple[c.PreTradeCheck, ...]:
    """The default check list: hard limits first, then configured limits."""
    r, d = config.risk, config.decision
    return (
        c.OrderValidity(),
        c.DuplicateOrder(),
        c.MaxOrderQuantity(
            min(r.max_order_qty, HardLimits.MAX_SHARES_PER_ORDER),
            min(r.max_contracts_per_order, HardLimits.MAX_CONTRACTS_PER_ORDER),
        ),
        c.MaxOrderNotional(min(r.max_order_notional, HardLimits.MAX_ORDER_NOTIONAL)),
        c.PriceCollar(min(r.price_collar_pct, HardLimits.MAX_PRICE_COLLAR)),
        c.MessageThrottle(min(r.max_orders_per_minute, HardLimits.MAX_ORDERS_PER_MINUTE)),
        c.MaxOpenPositions(r.max_open_positions),
        c.SymbolNotionalLimit(r.max_symbol_notional_pct),
        c.TotalExposureLimit(r.max_total_exposure_pct),
        c.PortfolioGreeksLimit(
            r.max_portfolio_delta_pct, r.max_portfolio_theta_pct, r.max_portfolio_vega_pct
        ),
        c.DailyTradesLimit(d.max_trades_per_day),
        c.DailyLossLimit(min(d.daily_loss_limit, HardLimits.MAX_DAILY_LOSS)),
        c.SymbolCooldown(d.cooldown_symbol_minutes),
    )


class RiskEngine:
    """Pre-trade risk checks and the ACTIVE / REDUCING / HALTED trading state.

    Parameters
    ----------
    config:
        Limits come from ``config.risk`` (and trades/day, daily loss, cooldown from
        ``config.decision``); hard limits from :class:`~tradekit.config.HardLimits`.
    clock:
        Injected time source (never the wall clock directly).
    account:
        Read-only account state.
    bus:
        Publishes ``risk.state`` (StateChange) and ``risk.denied`` (RiskVerdict).
    store:
        Persists the trading state; a persisted HALTED is restored at construction.
    last_price:
        Optional ``fn(symbol) -> float | None`` for the collar/notional reference, consulted
        when no price was recorded by :meth:`update_price` / :meth:`on_bar`.
    """

    def __init__(
        self,
        config: AlgorithmConfig,
        clock: Clock,
        account: AccountView,
        bus: EventBus | None = None,
        *,
        store: StateStore | None = None,
        last_price: Callable[[str], float | None] | None = None,
        checks: tuple[c.PreTradeCheck, ...] | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.account = account
        self.bus = bus
        self.store = store
        self._last_price_fn = last_price
        self.checks = checks if checks is not None else build_checks(config)
        self._loss = c.DailyLossLimit(
            min(config.decision.daily_loss_limit, HardLimits.MAX_DAILY_LOSS)
        )
        #: The default check list and its limits, read once: :meth:`_approve_plain` compares
        #: against these while ``self.checks`` is still that list (not when checks are custom).
        self._default_checks = self.checks if checks is None else None
        self._plain = c.CheckLimits.of(self.checks) if checks is None else None
        self._days = DayIndex(ZoneInfo(config.decision.timezone))
        self._state = TradingState.ACTIVE
        self._reason = ""
        self._prices: dict[str, float] = {}
        #: Ids of approved orders (duplicate guard), the last ``_SEEN_MAX``; the deque keeps
        #: their order so the oldest is forgotten first in O(1).
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._recent: deque[int] = deque()
        self._trades: dict[str, int] = {}
        self._last_open: dict[str, int] = {}
        self._reducing_day: str | None = None
        self._restore()

    # -- state -------------------------------------------------------------------------------
    @property
    def trading_state(self) -> TradingState:
        """Current trading state."""
        return self._state

    @property
    def daily_loss_limit(self) -> float:
        """The daily-loss limit in force, a fraction of start-of-day equity (hard-capped)."""
        return float(self._loss.limit)

    def day_end_ns(self, ts_ns: int) -> int:
        """Where the trading day of ``ts_ns`` ends (int ns UTC, the configured time zone):
        a REDUCING state caused by the daily-loss limit ends on the next day."""
        return self._days.end_ns(ts_ns)

    @property
    def state_reason(self) -> str:
        """Why the engine is in its current state."""
        return self._reason

    def _restore(self) -> None:
        if self.store is None:
            return
        raw = self.store.get_state(STATE_KEY)
        if raw is None:
            return
        data = json.loads(raw) if isinstance(raw, str) else dict(raw)
        state = TradingState(data.get("state", "ACTIVE"))
        if state is not TradingState.ACTIVE:
            self._state, self._reason = state, str(data.get("reason", ""))
            log.warning("risk state restored as %s (%s)", state.value, self._reason)

    def _persist(self, by: str) -> None:
        if self.store is None:
            return
        value = {
            "state": self._state.value,
            "reason": self._reason,
            "by": by,
            "ts_ns": event_time_ns(self.clock),
        }
        self.store.set_state(STATE_KEY, value)

    def _change(self, new: TradingState, reason: str, by: str) -> None:
        old = self._state
        if new is old:
            return
        self._reducing_day = (
            self._days.key(self.clock.now_ns())
            if new is TradingState.REDUCING and by == "risk.daily_loss"
            else None
        )
        self._state, self._reason = new, reason
        self._persist(by)
        log.warning("risk state %s -> %s by %s: %s", old.value, new.value, by, reason)
        if self.bus is not None:
            self.bus.publish(
                "risk.state",
                StateChange(event_time_ns(self.clock), "risk", old.value, new.value, reason),
            )

    def set_trading_state(self, state: TradingState, reason: str, *, by: str = "system") -> None:
        """Move between ACTIVE, REDUCING and HALTED. Leaving HALTED is refused here
        (:class:`~tradekit.errors.IllegalTransition`); use :meth:`reset`."""
        state = TradingState(state)
        if self._state is TradingState.HALTED and state is not TradingState.HALTED:
            raise IllegalTransition(
                "HALTED is latched: leave it only with RiskEngine.reset(by, reason)"
            )
        self._change(state, reason, by)

    def halt(self, reason: str, *, by: str = "system") -> None:
        """Latch HALTED (idempotent)."""
        self._change(TradingState.HALTED, reason, by)

    def reset(self, by: str, reason: str) -> None:
        """Leave HALTED/REDUCING explicitly: ``by`` (who) and ``reason`` are required, logged,
        published and persisted."""
        if not by.strip() or not reason.strip():
            raise ValueError("reset needs a non-empty 'by' and 'reason'")
        self._change(TradingState.ACTIVE, f"reset by {by}: {reason}", by)

    # -- prices ------------------------------------------------------------------------------
    def update_price(self, symbol: str, price: float) -> None:
        """Record the last valid price of ``symbol`` (ignored when not finite and > 0)."""
        if math.isfinite(price) and price > 0:
            self._prices[symbol] = float(price)

    def on_bar(self, topic: str, bar: Bar) -> None:
        """Bus handler for ``bars.*``: the bar's close becomes the last valid price."""
        self.update_price(bar.symbol, bar.close)

    def last_price(self, symbol: str) -> float | None:
        """Last valid price recorded for ``symbol`` (or from the ``last_price`` callable)."""
        px = self._prices.get(symbol)
        if px is None and self._last_price_fn is not None:
            got = self._last_price_fn(symbol)
            px = float(got) if got is not None and math.isfinite(got) and got > 0 else None
        return px

    # -- order facts -------------------------------------------------------------------------
    def _legs_net(self, order: c.RiskOrder) -> float | None:
        total = sum(leg.ratio * leg.price for leg in order.legs)
        return total if math.isfinite(total) else None

    def _reducing(self, order: c.RiskOrder) -> tuple[bool, bool]:
        """``(reducing, opens_new)`` from current positions."""
        if not order.legs:  # stock: one instrument
            signed = int(order.side) * order.quantity
            pos = self.account.position_qty(order.symbol)
            return pos != 0 and pos * signed < 0 and abs(signed) <= abs(pos) + 1e-9, pos == 0
        items = [
            (leg.contract.symbol, int(order.side) * leg.ratio * order.quantity)
            for leg in order.legs
        ]
        reducing, opens_new = True, False
        for sym, signed in items:
            pos = self.account.position_qty(sym)
            if pos == 0:
                opens_new = True
            if not (pos != 0 and pos * signed < 0 and abs(signed) <= abs(pos) + 1e-9):
                reducing = False
        return reducing, opens_new

    def _context(
        self, order: c.RiskOrder, ref_price: float | None, greeks: GreekTotals | None
    ) -> c.RiskContext:
        now = self.clock.now_ns()
        oid = _order_id(order)
        acct = self.account.summary()
        reducing, opens_new = self._reducing(order)
        ref = (
            ref_price
            if ref_price is not None
            else (self._legs_net(order) if order.legs else self.last_price(order.symbol))
        )
        px = order.limit_price if order.limit_price is not None else order.stop_price
        px = px if px is not None else ref
        price = abs(px) if px is not None and math.isfinite(px) else None
        notional = order.quantity * price * order.multiplier if price is not None else math.nan
        if greeks is None and order.legs:
            d = sum(int(order.side) * leg.ratio * leg.delta for leg in order.legs)
            greeks = (
                GreekTotals(delta=d * order.quantity * order.multiplier)
                if math.isfinite(d)
                else None
            )
        while self._recent and self._recent[0] <= now - NS_PER_MINUTE:
            self._recent.popleft()
        # positional: order_id, now_ns, account, reducing, opens_new, price, ref_price,
        # notional, symbol_notional, greeks_change, trades_today, recent_orders, last_open_ns,
        # duplicate (one context per order: keyword parsing of 14 fields is measurable)
        return c.RiskContext(oid, now, acct, reducing, opens_new, price, ref, notional,
                             self.account.symbol_notional(order.symbol), greeks,
                             self._trades.get(self._days.key(now), 0), len(self._recent),
                             self._last_open.get(order.symbol),
                             oid is not None and oid in self._seen)  # fmt: skip

    # -- the gateway ---------------------------------------------------------------------------
    def _deny(self, reason: str, check: str, oid: str | None) -> RiskVerdict:
        v = RiskVerdict(False, reason, check, self._state, oid)
        if self.bus is not None:
            self.bus.publish("risk.denied", v)
        return v

    def _record(self, oid: str | None, now: int, symbol: str, day: str | None) -> None:
        """Book an approval: duplicate guard, throttle window and, for an opening order
        (``day``: its trading date; ``None`` for a risk-reducing one), trades today and the
        symbol cooldown."""
        seen = self._seen
        if oid is not None and oid not in seen:
            seen.add(oid)
            order = self._seen_order
            order.append(oid)
            if len(order) > _SEEN_MAX:
                seen.discard(order.popleft())
        self._recent.append(now)
        if day is not None:
            n = self._trades.get(day)
            if n is None:  # a new trading date: only today's count is kept
                self._trades = {day: 1}
            else:
                self._trades[day] = n + 1
            self._last_open[symbol] = now

    def _approve_plain(self, order: c.RiskOrder, ref_price: float | None) -> RiskVerdict | None:
        """Approve a stock order that opens or adds risk when every default check passes.

        A pre-filter for the common case, not a second rule book: it evaluates the default
        checks' conditions as plain comparisons (no :class:`RiskContext`, cheapest first) and
        returns ``None`` as soon as any of them *might* fail; :meth:`approve` then runs the
        general check loop, which reports the first failing check in the documented order with
        its reason. So this path only approves what the loop approves, with the same bookkeeping
        (``tests/unit/risk/test_risk_characterisation.py`` compares the two on random orders).
        """
        lim = self._plain
        symbol, q, side = order.symbol, order.quantity, int(order.side)
        if lim is None or order.legs or (side != 1 and side != -1):
            return None
        # order validity (side, whole positive quantity) and the share limit
        if not (isinstance(q, (int, float)) and math.isfinite(q) and 0 < q <= lim.max_shares):
            return None
        if q != int(q):
            return None
        account = self.account
        pos = account.position_qty(symbol)
        if pos != 0 and pos * side * q < 0:  # may reduce: the loop decides (hard checks only)
            return None
        # a known reference; limit/stop finite and within the collar; order notional
        ref = ref_price if ref_price is not None else self._prices.get(symbol)
        if ref is None:
            ref = self.last_price(symbol)
        if ref is None or not math.isfinite(ref):
            return None
        limit, stop = order.limit_price, order.stop_price
        px = limit if limit is not None else stop
        if px is None:
            px = ref
        elif not (
            math.isfinite(px)
            and (stop is None or math.isfinite(stop))
            and ref != 0
            and abs(px - ref) / abs(ref) <= lim.collar_pct
        ):
            return None
        notional = q * abs(px) * order.multiplier
        if not notional <= lim.max_notional:
            return None
        # the engine's counters: message throttle, trades today, symbol cooldown
        now = self.clock.now_ns()
        recent, horizon = self._recent, now - NS_PER_MINUTE
        while recent and recent[0] <= horizon:
            recent.popleft()
        if len(recent) >= lim.max_per_minute:
            return None
        day = self._days.key(now)
        if self._trades.get(day, 0) >= lim.max_trades:
            return None
        last = self._last_open.get(symbol)
        if last is not None and lim.cooldown_ns is not None and now - last < lim.cooldown_ns:
            return None
        # duplicate guard
        oid = _order_id(order)
        if oid is not None and oid in self._seen:
            return None
        # configured limits on the account (no Greek change for stock)
        acct = account.summary()
        equity = acct.equity
        if (
            self._loss.breached(acct)
            or (pos == 0 and acct.open_positions >= lim.max_positions)
            or account.symbol_notional(symbol) + notional > lim.symbol_pct * equity
            or acct.gross_exposure + notional > lim.exposure_pct * equity
        ):
            return None
        # approved
        self._record(oid, now, symbol, day)
        return RiskVerdict(True, None, None, TradingState.ACTIVE, oid)

    def approve(
        self,
        order: c.RiskOrder,
        *,
        ref_price: float | None = None,
        greeks: GreekTotals | None = None,
    ) -> RiskVerdict:
        """Check ``order``; on approval it is recorded (duplicate guard, throttle, counters).

        Parameters
        ----------
        order:
            The order request (``execution.orders.OrderRequest`` or anything with its fields).
        ref_price:
            Reference price per share for the collar and notional (e.g. the option mid at the
            decision); default: the last valid price (stock) or the legs' net price (options).
        greeks:
            Change of portfolio Greeks if the order fills; default: delta from the legs.
        """
        if self._state is TradingState.HALTED:
            return self._deny(f"trading HALTED: {self._reason}", "trading_state", _order_id(order))
        q = order.quantity
        if not (type(q) is float or type(q) is int) or type(order.side) is not Side:
            bad = _bad_field(order)  # the slow look only off the common types
            if bad is not None:
                return self._deny(bad, "order_validity", None)
        try:
            if (
                greeks is None
                and self._state is TradingState.ACTIVE
                and self.checks is self._default_checks
            ):
                verdict = self._approve_plain(order, ref_price)
                if verdict is not None:
                    return verdict
            ctx = self._context(order, ref_price, greeks)
        except (TypeError, ValueError) as exc:  # a malformed field (a str quantity, ...)
            return self._deny(_malformed(order, exc), "order_validity", None)
        if self._state is TradingState.REDUCING and not ctx.reducing:
            return self._deny(
                f"trading REDUCING ({self._reason}): order does not reduce risk",
                "trading_state",
                ctx.order_id,
            )
        if not ctx.reducing and self._loss.breached(ctx.account):
            self._on_daily_loss(ctx)
            return self._deny(
                self._loss.check(order, ctx) or "daily loss", self._loss.name, ctx.order_id
            )
        for chk in self.checks:
            if ctx.reducing and not chk.hard:
                continue
            try:
                reason = chk.check(order, ctx)
            except (TypeError, ValueError) as exc:  # a malformed field (a str price, ...)
                reason = _malformed(order, exc)
            except Exception as exc:  # a plug-in check's bug denies, it does not crash
                reason = f"check failed: {type(exc).__name__}: {exc}"
            if reason is not None:
                return self._deny(reason, chk.name, ctx.order_id)
        day = None if ctx.reducing else self._days.key(ctx.now_ns)
        self._record(ctx.order_id, ctx.now_ns, order.symbol, day)
        return RiskVerdict(True, None, None, self._state, ctx.order_id)

    def check(self, order: c.RiskOrder, **kwargs: Any) -> None:
        """Like :meth:`approve` but raise :class:`~tradekit.errors.RiskDenied` on denial."""
        v = self.approve(order, **kwargs)
        if not v.approved:
            raise RiskDenied(v.reason or "denied", check=v.check)

    def _on_daily_loss(self, ctx: c.RiskContext) -> None:
        target = TradingState(self.config.risk.daily_loss_action)
        if self._state is TradingState.ACTIVE or target is TradingState.HALTED:
            self._change(
                target, f"daily loss limit: day P&L {ctx.account.day_pnl:,.2f}", "risk.daily_loss"
            )

    def evaluate_account(self) -> TradingState:
        """Check the daily-loss limit now (call once per bar); returns the resulting state.

        A REDUCING entered because of the daily-loss limit ends by itself on the next New York
        trading day, since the day P&L that caused it starts again from zero; HALTED never
        ends by itself (:meth:`reset`)."""
        day = self._days.key(self.clock.now_ns())
        if self._reducing_day is not None and day != self._reducing_day:
            self._reducing_day = None
            if self._state is TradingState.REDUCING:
                self._change(TradingState.ACTIVE, f"new trading day {day}", "risk.daily_loss")
        acct = self.account.summary()
        if self._state is not TradingState.HALTED and self._loss.breached(acct):
            target = TradingState(self.config.risk.daily_loss_action)
            if target is not self._state:
                self._change(
                    target, f"daily loss limit: day P&L {acct.day_pnl:,.2f}", "risk.daily_loss"
                )
        return self._state

    def is_reducing(self, order: c.RiskOrder) -> bool:
        """Whether ``order`` only reduces existing positions."""
        return self._reducing(order)[0]
