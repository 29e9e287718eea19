"""What the decision and risk layers may know about the account: a read-only view.

The ledger implements :class:`AccountView`; gates and risk checks depend only on this protocol,
so they can be tested with a tiny hand-built account and never reach into ledger internals.
All money in account currency; Greeks are portfolio totals in the units named on each field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from tradekit.core.records import fast_record

__all__ = ["AccountSummary", "AccountView", "GreekTotals"]


@fast_record
@dataclass(frozen=True, slots=True)
class GreekTotals:
    """Portfolio Greeks, already multiplied by quantity and multiplier.

    ``delta``: currency change per $1 move of each underlying (summed, share-equivalents × $1);
    ``gamma``: change of that delta per $1 move; ``theta``: currency per **day**;
    ``vega``: currency per **1 vol point** (0.01 of vol).
    """

    delta: float = 0.0
    gamma: float = 0.0
    theta: float = 0.0
    vega: float = 0.0


@fast_record
@dataclass(frozen=True, slots=True)
class AccountSummary:
    """A point-in-time account summary (what dashboards and gates read)."""

    ts_ns: int
    cash: float
    equity: float
    buying_power: float
    gross_exposure: float
    net_exposure: float
    realized_pnl: float
    unrealized_pnl: float
    day_pnl: float
    start_of_day_equity: float
    open_positions: int
    trades_today: int
    greeks: GreekTotals = GreekTotals()


@runtime_checkable
class AccountView(Protocol):
    """Read-only account state used by gates and pre-trade risk checks."""

    def summary(self) -> AccountSummary:
        """The account as of the last processed event."""
        ...

    def position_qty(self, symbol: str) -> float:
        """Signed quantity held in ``symbol`` (0.0 when flat)."""
        ...

    def symbol_notional(self, underlying: str) -> float:
        """Absolute market value of every position on ``underlying`` (stock + options)."""
        ...
