"""One position's bookkeeping and the closed-trade record (used by :class:`~.ledger.Ledger`).

Conventions (the origin system got several of these wrong):

* ``qty`` is **signed**: long > 0, short < 0.
* ``avg_price`` is the quantity-weighted fill price of the open quantity (commission excluded);
  commissions paid on the open quantity wait in ``open_commission`` and are realised pro rata
  as the position closes, so ``realized = Σ closed-trade P&L`` exactly, net of every fee.
* Reducing fills never open anything; a fill larger than the position closes it and opens the
  rest on the other side (a *flip*), splitting that fill's commission by quantity.
* A *trade* (round trip) runs from flat to flat; scale-ins and scale-outs belong to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tradekit.core.events import OptionContract, PositionSnapshot
from tradekit.core.records import fast_record
from tradekit.portfolio._dates import ny_date

__all__ = ["ClosedTrade", "OpenTrade", "Position"]

_NAN = math.nan


@fast_record
@dataclass(frozen=True, slots=True)
class ClosedTrade:
    """A finished round trip (flat → flat) — one row of the store's ``trades`` table.

    ``quantity`` is the total quantity opened (units), prices are quantity-weighted averages,
    ``pnl`` is net of ``commission`` (both legs), ``gross_pnl`` before it; ``r_multiple`` is
    ``pnl / initial_risk`` when a stop (or a premium risk) was known, else NaN.

    The links name where the trade came from and how it ended: ``decision_id`` and
    ``setup_id`` of the entry decision, its ``strategy`` (``long_call``, ``stock``...), the
    first opening order ``entry_order_id``, the last closing order ``exit_order_id`` and the
    ``exit_reason`` (the closing order's tag without ``exit:``: ``stop``, ``tp1``, ``time``,
    ``flatten``...; ``manual`` for an untagged order). ``initial_risk`` is currency
    (multiplier applied); ``mae`` / ``mfe`` are the worst / best open P&L (currency, gross of
    commission, ``mae <= 0 <= mfe``) seen at the position's marks while the trade was open.
    ``initial_stop`` is the stock stop or a single option's premium stop; a leg of a package
    (a vertical) has no stop of its own (None) and carries its share of the package's
    premium risk in ``initial_risk``.
    """

    id: str
    symbol: str
    underlying: str
    direction: int
    quantity: float
    entry_ts_ns: int
    exit_ts_ns: int
    entry_price: float
    exit_price: float
    pnl: float
    gross_pnl: float
    commission: float
    multiplier: float = 1.0
    r_multiple: float = _NAN
    initial_stop: float | None = None
    initial_risk: float = _NAN
    mae: float = _NAN
    mfe: float = _NAN
    decision_id: str | None = None
    setup_id: str | None = None
    strategy: str | None = None
    entry_order_id: str | None = None
    exit_order_id: str | None = None
    exit_reason: str | None = None


@dataclass(slots=True)
class OpenTrade:
    """Accumulators of the round trip in progress on one symbol."""

    id: str
    direction: int
    entry_ts_ns: int
    entry_qty: float = 0.0
    entry_value: float = 0.0
    exit_qty: float = 0.0
    exit_value: float = 0.0
    commission: float = 0.0
    pnl: float = 0.0
    risk_per_unit: float = _NAN
    initial_stop: float | None = None
    mae: float = 0.0
    mfe: float = 0.0
    decision_id: str | None = None
    setup_id: str | None = None
    strategy: str | None = None
    entry_order_id: str | None = None
    exit_order_id: str | None = None
    exit_reason: str | None = None

    def excursion(self, open_pnl: float) -> None:
        """Track the worst and best open P&L (currency) of the round trip."""
        if open_pnl < self.mae:
            self.mae = open_pnl
        elif open_pnl > self.mfe:
            self.mfe = open_pnl

    def close(self, pos: Position, ts_ns: int) -> ClosedTrade:
        """The :class:`ClosedTrade` of this round trip, ending at ``ts_ns``."""
        risk = self.risk_per_unit * self.entry_qty * pos.multiplier
        exit_price = self.exit_value / self.exit_qty if self.exit_qty else _NAN
        # positional: id, symbol, underlying, direction, quantity, entry_ts, exit_ts,
        # entry_price, exit_price, pnl, gross_pnl, commission, multiplier, r_multiple, stop,
        # initial_risk, mae, mfe, then the links
        return ClosedTrade(self.id, pos.symbol, pos.underlying, self.direction, self.entry_qty,
                           self.entry_ts_ns, ts_ns, self.entry_value / self.entry_qty,
                           exit_price, self.pnl, self.pnl + self.commission, self.commission,
                           pos.multiplier, self.pnl / risk if risk > 0 else _NAN,
                           self.initial_stop, risk if risk > 0 else _NAN, self.mae, self.mfe,
                           self.decision_id, self.setup_id, self.strategy,
                           self.entry_order_id, self.exit_order_id,
                           self.exit_reason)  # fmt: skip


@dataclass(slots=True)
class Position:
    """Mutable state of one symbol in the ledger (read it through ``Ledger.snapshot()``).

    ``unit_greeks`` are per unit of one contract as the Greeks callback gives them
    (delta, gamma, theta per day, vega per vol point); position Greeks multiply by
    ``qty × multiplier``. A stock has unit delta 1.
    """

    symbol: str
    underlying: str
    multiplier: float = 1.0
    contract: OptionContract | None = None
    qty: float = 0.0
    avg_price: float = _NAN
    open_commission: float = 0.0
    realized_pnl: float = 0.0
    mark: float = _NAN
    mark_ts_ns: int = -1
    stop: float | None = None
    targets: tuple[float, ...] = ()
    unit_greeks: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    unit_iv: float = _NAN
    trade: OpenTrade | None = None
    trade_seq: int = 0
    opening_orders: set[str] = field(default_factory=set)

    @property
    def price(self) -> float:
        """Mark if known, else the average price (so an unmarked position is worth its cost)."""
        return self.mark if self.mark == self.mark else self.avg_price

    @property
    def market_value(self) -> float:
        """Signed value ``qty × price × multiplier`` (currency); 0 when flat."""
        return self.qty * self.price * self.multiplier if self.qty else 0.0

    @property
    def unrealized_pnl(self) -> float:
        """``qty × (price - avg) × multiplier`` minus commissions paid on the open quantity."""
        if not self.qty:
            return 0.0
        return self.qty * (self.price - self.avg_price) * self.multiplier - self.open_commission

    def start_trade(self, direction: int, ts_ns: int, first_fill_id: str) -> OpenTrade:
        """Open a new round trip (position was flat); its id derives from the first fill's
        (deterministic, unique) id."""
        self.trade_seq += 1
        risk = abs(self.avg_price - self.stop) if self.stop is not None else _NAN
        # positional: id, direction, entry_ts_ns, entry_qty, entry_value, exit_qty,
        # exit_value, commission, pnl, risk_per_unit, initial_stop
        trade = OpenTrade(f"trd-{first_fill_id.removeprefix('fil-')}", direction, ts_ns,
                          0.0, 0.0, 0.0, 0.0, 0.0, 0.0, risk, self.stop)  # fmt: skip
        self.trade = trade
        return trade

    def greeks(self) -> tuple[float, float, float, float]:
        """Position Greeks (currency units of :class:`~tradekit.portfolio.base.GreekTotals`)."""
        k = self.qty * self.multiplier
        if self.contract is None:
            return k, 0.0, 0.0, 0.0
        d, g, t, v = self.unit_greeks
        return d * k, g * k, t * k, v * k

    def snapshot(
        self, ts_ns: int, totals: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)
    ) -> PositionSnapshot:
        """The position at ``ts_ns`` with the account's Greek ``totals`` (published after
        every fill: ``price`` and ``unrealized_pnl`` are computed inline here with the
        properties' arithmetic)."""
        qty, mult, avg, mark = self.qty, self.multiplier, self.avg_price, self.mark
        price = mark if mark == mark else avg
        unrealized = qty * (price - avg) * mult - self.open_commission if qty else 0.0
        contract = self.contract
        if contract is None:  # stock: unit delta 1 (as in greeks())
            d, g, t, v = qty * mult, 0.0, 0.0, 0.0
            iv = dte = _NAN
        else:
            d, g, t, v = self.greeks()
            iv = self.unit_iv
            dte = float((contract.expiry - ny_date(ts_ns)).days) if ts_ns > 0 else _NAN
        # positional: ts, symbol, quantity, avg_price, market_price, multiplier, unrealized,
        # realized, delta, gamma, theta, vega, stop, targets, underlying, iv, dte, totals
        return PositionSnapshot(ts_ns, self.symbol, qty, avg, price, mult, unrealized,
                                self.realized_pnl, d, g, t, v, self.stop, self.targets,
                                self.underlying, iv, dte, *totals)  # fmt: skip
