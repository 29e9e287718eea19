"""Pricing multi-leg option packages on a :class:`~tradekit.execution.base.QuoteSource`.

Each leg trades at the touch: a leg bought pays the ask, a leg sold receives the bid. A leg's
side is ``sign(ratio) × order side``. The package's net per unit is ``Σ ratio × leg price``:
for a BUY, positive = debit paid, negative = credit received (a put credit spread bought as
``(-1 × 100P, +1 × 95P)`` nets ``-(bid 100P) + ask 95P < 0``); for a SELL (closing), the net is
what the sale brings in. ``Fill.slippage`` of a leg is the half-spread paid:
``|price - mid| × qty × multiplier``. Option fills are not volume-capped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tradekit.core.enums import Side
from tradekit.core.events import Fill, Leg
from tradekit.execution.base import Quote, QuoteSource
from tradekit.execution.models import CommissionModel
from tradekit.execution.orders import OrderState, fill_id
from tradekit.portfolio.ledger import HypotheticalFill, Ledger

__all__ = ["OptionPricer", "PricedPackage"]


@dataclass(frozen=True, slots=True)
class PricedPackage:
    """Touch prices of each leg for one order side, their mids and the net per unit."""

    net: float
    prices: tuple[float, ...]
    mids: tuple[float, ...]
    sides: tuple[Side, ...]


def _valid(q: Quote | None) -> bool:
    return (
        q is not None
        and math.isfinite(q.bid)
        and math.isfinite(q.ask)
        and q.bid >= 0.0
        and q.ask > 0.0
        and q.ask >= q.bid
    )


class OptionPricer:
    """Prices, fills and marks option legs for the broker (stateless apart from its models)."""

    def __init__(self, quotes: QuoteSource | None, commission: CommissionModel) -> None:
        self.quotes = quotes
        self.commission = commission

    @property
    def available(self) -> bool:
        return self.quotes is not None

    def price(self, legs: tuple[Leg, ...], side: int, ts_ns: int) -> PricedPackage | None:
        """Touch prices for trading ``legs`` on ``side`` at ``ts_ns`` (None if a quote is
        missing or malformed: the package trades whole or not at all)."""
        if self.quotes is None:
            return None
        prices, mids, sides = [], [], []
        net = 0.0
        for leg in legs:
            q = self.quotes.quote(leg.contract, ts_ns)
            if q is None or not _valid(q):
                return None
            leg_side = Side.BUY if leg.ratio * side > 0 else Side.SELL
            px = q.ask if leg_side is Side.BUY else q.bid
            prices.append(px)
            mids.append(q.mid)
            sides.append(leg_side)
            net += leg.ratio * px
        return PricedPackage(net, tuple(prices), tuple(mids), tuple(sides))

    def hypothetical(
        self, legs: tuple[Leg, ...], side: int, qty: float, priced: PricedPackage
    ) -> list[HypotheticalFill]:
        """The leg fills of ``qty`` units as ``Ledger.buying_power_after`` items."""
        out: list[HypotheticalFill] = []
        for leg, px, s in zip(legs, priced.prices, priced.sides, strict=True):
            n = qty * abs(leg.ratio)
            mult = leg.contract.multiplier
            comm = self.commission.cost(n, px, mult)
            out.append((leg.contract.symbol, int(s) * n, px, mult, leg.contract, comm))
        return out

    def fills(self, st: OrderState, qty: float, priced: PricedPackage, ts_ns: int) -> list[Fill]:
        """One :class:`~tradekit.core.events.Fill` per leg for ``qty`` units of ``st``."""
        seq = st.fill_seq + 1
        out = []
        for i, (leg, px, mid, s) in enumerate(
            zip(st.request.legs, priced.prices, priced.mids, priced.sides, strict=True)
        ):
            n = qty * abs(leg.ratio)
            mult = leg.contract.multiplier
            out.append(
                Fill(
                    id=fill_id(st.id, seq, i),
                    order_id=st.id,
                    symbol=leg.contract.symbol,
                    side=s,
                    quantity=n,
                    price=px,
                    ts_ns=ts_ns,
                    commission=self.commission.cost(n, px, mult),
                    slippage=abs(px - mid) * n * mult,
                    multiplier=mult,
                    leg_index=i,
                    decision_id=st.request.decision_id,
                )
            )
        return out

    def mark_net(self, legs: tuple[Leg, ...], ts_ns: int) -> float:
        """Net mid per unit ``Σ ratio × mid`` (NaN when a quote is missing)."""
        if self.quotes is None:
            return math.nan
        total = 0.0
        for leg in legs:
            q = self.quotes.quote(leg.contract, ts_ns)
            if q is None or not _valid(q):
                return math.nan
            total += leg.ratio * q.mid
        return total

    def mark(self, ledger: Ledger, underlying: str, ts_ns: int) -> None:
        """Mark every open option position on ``underlying`` at its quote mid."""
        if self.quotes is None:
            return
        for pos in ledger.open_positions():  # not every contract ever held: those grow
            c = pos.contract
            if c is not None and pos.qty and c.underlying == underlying:
                q = self.quotes.quote(c, ts_ns)
                if q is not None and _valid(q):
                    ledger.mark(pos.symbol, q.mid, ts_ns)
