"""A fixed, hand-set :class:`~tradekit.portfolio.base.AccountView` for tests and benchmarks.

Gates and pre-trade checks read the account only through ``AccountView``; this frozen record
lets a test state exactly the account it needs (``StaticAccount(day_pnl=-2_500.0)``) instead of
trading a ledger into that state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tradekit.portfolio.base import AccountSummary, GreekTotals

__all__ = ["StaticAccount"]


@dataclass(frozen=True)
class StaticAccount:
    """An account that never changes.

    Parameters
    ----------
    equity:
        Equity, cash and buying power (currency).
    open_positions, gross, day_pnl, trades_today:
        As in :class:`~tradekit.portfolio.base.AccountSummary` (net exposure = ``gross``).
    sod:
        Start-of-day equity; ``None`` means ``equity``.
    greeks:
        Portfolio Greek totals.
    positions:
        Signed quantity per symbol; symbols not listed hold ``qty``.
    qty:
        Quantity reported for every symbol not in ``positions``.
    notional:
        What :meth:`symbol_notional` reports for any underlying (currency).

    Examples
    --------
    >>> a = StaticAccount(equity=50_000.0, positions={"SPY": 10.0})
    >>> a.summary().start_of_day_equity, a.position_qty("SPY"), a.position_qty("QQQ")
    (50000.0, 10.0, 0.0)
    """

    equity: float = 100_000.0
    open_positions: int = 0
    gross: float = 0.0
    day_pnl: float = 0.0
    sod: float | None = None
    trades_today: int = 0
    greeks: GreekTotals = field(default_factory=GreekTotals)
    positions: Mapping[str, float] = field(default_factory=dict)
    qty: float = 0.0
    notional: float = 0.0

    def summary(self) -> AccountSummary:
        e = self.equity
        return AccountSummary(
            ts_ns=0,
            cash=e,
            equity=e,
            buying_power=e,
            gross_exposure=self.gross,
            net_exposure=self.gross,
            realized_pnl=0.0,
            unrealized_pnl=0.0,
            day_pnl=self.day_pnl,
            start_of_day_equity=e if self.sod is None else self.sod,
            open_positions=self.open_positions,
            trades_today=self.trades_today,
            greeks=self.greeks,
        )

    def position_qty(self, symbol: str) -> float:
        return float(self.positions.get(symbol, self.qty))

    def symbol_notional(self, underlying: str) -> float:
        return self.notional
