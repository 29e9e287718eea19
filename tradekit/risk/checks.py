"""Pre-trade checks: one small named rule per class (zipline ``TradingControl`` style).

Each check has a ``name``, a ``hard`` flag and one method ``check(order, ctx) -> str | None``
that returns the denial reason or ``None``. The :class:`~tradekit.risk.engine.RiskEngine`
computes a :class:`RiskContext` once per order (account, reference price, notional, counters)
so every check is a plain comparison and the reason names the numbers it compared.

* **Hard checks** (``hard=True``) apply to every order, risk-reducing ones included: order
  validity, quantity and notional limits (configured values, never above
  :class:`~tradekit.config.HardLimits`), the price collar against the last valid price, the
  message throttle and the duplicate-order guard.
* **Configured limits** (``hard=False``) apply to orders that add risk: open positions,
  per-symbol notional, total exposure, portfolio Greeks, trades per day, daily loss and the
  per-symbol cooldown. A risk-reducing order skips them (closing a position can only help).

The engine approves the common stock order through a pre-filter that mirrors the pass
conditions of the default checks (``RiskEngine._approve_plain``): change a check's condition
there too (the fast-path-versus-loop tests in ``tests/unit/risk`` catch a mismatch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Protocol, TypeVar, runtime_checkable

from tradekit.core.enums import Side
from tradekit.core.events import Leg
from tradekit.portfolio.base import AccountSummary, GreekTotals

__all__ = [
    "CheckLimits",
    "DailyLossLimit",
    "DailyTradesLimit",
    "DuplicateOrder",
    "MaxOpenPositions",
    "MaxOrderNotional",
    "MaxOrderQuantity",
    "MessageThrottle",
    "OrderValidity",
    "PortfolioGreeksLimit",
    "PreTradeCheck",
    "PriceCollar",
    "RiskContext",
    "RiskOrder",
    "SymbolCooldown",
    "SymbolNotionalLimit",
    "TotalExposureLimit",
]


@runtime_checkable
class RiskOrder(Protocol):
    """What the risk layer reads from an order request (``execution.orders.OrderRequest``
    fits): positive ``quantity``, ``side`` ±1, optional limit/stop prices (net per unit for
    legs, negative = credit) and option ``legs``."""

    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> Side: ...
    @property
    def quantity(self) -> float: ...
    @property
    def limit_price(self) -> float | None: ...
    @property
    def stop_price(self) -> float | None: ...
    @property
    def legs(self) -> tuple[Leg, ...]: ...
    @property
    def multiplier(self) -> float: ...


@dataclass(slots=True)
class RiskContext:
    """Per-order facts the checks compare (built by the risk engine).

    Attributes
    ----------
    order_id:
        Deterministic id of the order (``None`` for anonymous requests: no duplicate guard).
    now_ns:
        Injected clock time.
    reducing:
        The order only moves existing positions toward zero.
    opens_new:
        The order opens a position in an instrument that is flat now.
    price:
        Absolute price per share used for notional (limit, stop, reference or last); ``None``
        when nothing is known.
    ref_price:
        Collar reference (the caller's reference, else the last valid price); ``None`` if unknown.
    notional:
        ``quantity × price × multiplier`` (currency), NaN when ``price`` is unknown.
    symbol_notional:
        Current absolute notional on the order's underlying.
    greeks_change:
        Change of the portfolio Greeks if the order fills completely (``None``: unknown/stock).
    trades_today, recent_orders, last_open_ns, duplicate:
        Counters kept by the engine: opening orders approved on this New York date, approvals in
        the trailing minute, last approved opening order on this underlying, id already seen.
    """

    order_id: str | None
    now_ns: int
    account: AccountSummary
    reducing: bool
    opens_new: bool
    price: float | None
    ref_price: float | None
    notional: float
    symbol_notional: float
    greeks_change: GreekTotals | None
    trades_today: int
    recent_orders: int
    last_open_ns: int | None
    duplicate: bool


class PreTradeCheck(Protocol):
    """One pre-trade rule: the denial reason, or ``None`` when the order may pass."""

    @property
    def name(self) -> str:
        """Stable check name (``RiskVerdict.check``)."""
        ...

    @property
    def hard(self) -> bool:
        """True when the check also applies to risk-reducing orders."""
        ...

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        """The denial reason, or ``None`` when the order passes this check."""
        ...


# -- hard checks -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class OrderValidity:
    """Side ±1, finite positive whole quantity, finite prices, and a known price for notional."""

    name: str = "order_validity"
    hard: bool = True

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        q = order.quantity
        if int(order.side) not in (1, -1):
            return f"side {order.side!r} is not BUY/SELL"
        if not (isinstance(q, (int, float)) and math.isfinite(q) and q > 0 and q == int(q)):
            return f"quantity {q!r} is not a positive whole number"
        for label, p in (("limit", order.limit_price), ("stop", order.stop_price)):
            if p is not None and not math.isfinite(p):
                return f"{label} price {p!r} is not finite"
        if ctx.price is None:
            return "no reference price known for notional checks"
        return None


@dataclass(frozen=True, slots=True)
class MaxOrderQuantity:
    """Shares per order ≤ ``max_shares``; option contracts per order ≤ ``max_contracts``."""

    max_shares: int
    max_contracts: int
    name: str = "max_order_quantity"
    hard: bool = True

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        if order.legs:
            per_unit = sum(abs(leg.ratio) for leg in order.legs)
            n = order.quantity * max(per_unit, 1)
            if order.quantity > self.max_contracts:
                return (
                    f"{order.quantity:g} contracts ({n:g} leg contracts) > max {self.max_contracts}"
                )
            return None
        if order.quantity > self.max_shares:
            return f"{order.quantity:g} shares > max {self.max_shares}"
        return None


@dataclass(frozen=True, slots=True)
class MaxOrderNotional:
    """Order notional ≤ ``max_notional`` (currency)."""

    max_notional: float
    name: str = "max_order_notional"
    hard: bool = True

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        if ctx.notional > self.max_notional:
            return f"notional {ctx.notional:,.2f} > max {self.max_notional:,.2f}"
        return None


@dataclass(frozen=True, slots=True)
class PriceCollar:
    """A limit (or stop) price within ``collar_pct`` of the last valid price.

    Market orders have no price to collar. A priced order with no reference is denied: a
    collar that fails open is no collar.
    """

    collar_pct: float
    name: str = "price_collar"
    hard: bool = True

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        px = order.limit_price if order.limit_price is not None else order.stop_price
        if px is None:
            return None
        ref = ctx.ref_price
        if ref is None or not math.isfinite(ref) or ref == 0:
            return f"no valid last price to collar {px:g} against"
        dev = abs(px - ref) / abs(ref)
        if dev > self.collar_pct:
            return f"price {px:g} is {dev:.1%} from last {ref:g} (collar {self.collar_pct:.1%})"
        return None


@dataclass(frozen=True, slots=True)
class MessageThrottle:
    """At most ``max_per_minute`` orders approved in the trailing 60 s of the injected clock."""

    max_per_minute: int
    name: str = "message_throttle"
    hard: bool = True

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        if ctx.recent_orders >= self.max_per_minute:
            return f"{ctx.recent_orders} orders in the last minute >= max {self.max_per_minute}"
        return None


@dataclass(frozen=True, slots=True)
class DuplicateOrder:
    """An order id that was already approved is refused (restart / retry safety)."""

    name: str = "duplicate_order"
    hard: bool = True

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        return f"order {ctx.order_id} was already sent" if ctx.duplicate else None


# -- configured limits -----------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MaxOpenPositions:
    """Opening a new position needs fewer than ``max_positions`` open ones."""

    max_positions: int
    name: str = "max_open_positions"
    hard: bool = False

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        n = ctx.account.open_positions
        if ctx.opens_new and n >= self.max_positions:
            return f"{n} open positions >= max {self.max_positions}"
        return None


@dataclass(frozen=True, slots=True)
class SymbolNotionalLimit:
    """Notional on the underlying after the order ≤ ``pct`` × equity."""

    pct: float
    name: str = "symbol_notional"
    hard: bool = False

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        cap = self.pct * ctx.account.equity
        after = ctx.symbol_notional + ctx.notional
        if after > cap:
            return f"{order.symbol} notional {after:,.2f} > {self.pct:.0%} of equity ({cap:,.2f})"
        return None


@dataclass(frozen=True, slots=True)
class TotalExposureLimit:
    """Gross exposure after the order ≤ ``pct`` × equity."""

    pct: float
    name: str = "total_exposure"
    hard: bool = False

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        cap = self.pct * ctx.account.equity
        after = ctx.account.gross_exposure + ctx.notional
        if after > cap:
            return f"gross exposure {after:,.2f} > {self.pct:.0%} of equity ({cap:,.2f})"
        return None


@dataclass(frozen=True, slots=True)
class PortfolioGreeksLimit:
    """|Δ|, |θ| and |vega| of the portfolio after the order stay within fractions of equity.

    An order that brings a Greek closer to zero always passes, even if the portfolio is
    beyond the limit already.
    """

    delta_pct: float
    theta_pct: float
    vega_pct: float
    name: str = "portfolio_greeks"
    hard: bool = False

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        change = ctx.greeks_change
        if change is None:
            return None
        now, eq = ctx.account.greeks, ctx.account.equity
        for label, cur, d, pct in (
            ("delta", now.delta, change.delta, self.delta_pct),
            ("theta", now.theta, change.theta, self.theta_pct),
            ("vega", now.vega, change.vega, self.vega_pct),
        ):
            after = cur + d
            if abs(after) > pct * eq and abs(after) > abs(cur):
                return (
                    f"portfolio {label} {after:,.2f} beyond {pct:.2%} of equity ({pct * eq:,.2f})"
                )
        return None


@dataclass(frozen=True, slots=True)
class DailyTradesLimit:
    """Fewer than ``max_trades`` opening orders approved on this New York trading date."""

    max_trades: int
    name: str = "daily_trades"
    hard: bool = False

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        if ctx.trades_today >= self.max_trades:
            return f"{ctx.trades_today} trades today >= max {self.max_trades}"
        return None


@dataclass(frozen=True, slots=True)
class DailyLossLimit:
    """Day P&L (realized + unrealized) must stay above ``-limit × start-of-day equity``."""

    limit: float
    name: str = "daily_loss"
    hard: bool = False

    def breached(self, account: AccountSummary) -> bool:
        """Whether the account is at or beyond the day's loss limit."""
        sod = account.start_of_day_equity if account.start_of_day_equity > 0 else account.equity
        return not (math.isfinite(account.day_pnl) and account.day_pnl > -self.limit * sod)

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        if self.breached(ctx.account):
            return (
                f"day P&L {ctx.account.day_pnl:,.2f} at or beyond -{self.limit:.2%} of start equity"
            )
        return None


@dataclass(frozen=True, slots=True)
class SymbolCooldown:
    """No new opening order on an underlying within ``minutes`` of the last one approved."""

    minutes: float
    name: str = "symbol_cooldown"
    hard: bool = False

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        last = ctx.last_open_ns
        if last is None or self.minutes <= 0:
            return None
        if ctx.now_ns - last < int(self.minutes * 60_000_000_000):
            return f"{order.symbol} cooldown: last entry {(ctx.now_ns - last) / 6e10:.1f} min ago < {self.minutes:g}"
        return None


# -- the limits of a check list --------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class CheckLimits:
    """The numeric limits of the default check list, as its check objects hold them (hard
    limits already applied), read once per engine for its fast path
    (``RiskEngine._approve_plain``).

    Attributes
    ----------
    max_shares, max_notional, collar_pct, max_per_minute:
        Hard checks: shares per order, currency per order, collar fraction, orders per minute.
    max_positions, symbol_pct, exposure_pct, max_trades:
        Configured limits: open positions, fractions of equity, opening orders per day.
    cooldown_ns:
        Symbol cooldown in ns (``None``: no cooldown).
    """

    max_shares: float
    max_notional: float
    collar_pct: float
    max_per_minute: int
    max_positions: int
    symbol_pct: float
    exposure_pct: float
    max_trades: int
    cooldown_ns: int | None

    @classmethod
    def of(cls, checks: tuple[PreTradeCheck, ...]) -> CheckLimits:
        """The limits held by the checks of :func:`~tradekit.risk.engine.build_checks`."""
        cool = _the(checks, SymbolCooldown).minutes
        return cls(
            _the(checks, MaxOrderQuantity).max_shares,
            _the(checks, MaxOrderNotional).max_notional,
            _the(checks, PriceCollar).collar_pct,
            _the(checks, MessageThrottle).max_per_minute,
            _the(checks, MaxOpenPositions).max_positions,
            _the(checks, SymbolNotionalLimit).pct,
            _the(checks, TotalExposureLimit).pct,
            _the(checks, DailyTradesLimit).max_trades,
            int(cool * 60_000_000_000) if cool > 0 else None,
        )


_C = TypeVar("_C")


def _the(checks: tuple[PreTradeCheck, ...], kind: type[_C]) -> _C:
    """The one check of type ``kind`` in ``checks``."""
    (found,) = (chk for chk in checks if isinstance(chk, kind))
    return found
