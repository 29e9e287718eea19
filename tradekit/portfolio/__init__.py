"""Portfolio accounting: the ledger (cash, signed positions, P&L, Greeks, closed trades)."""

from tradekit.portfolio.base import AccountSummary, AccountView, GreekTotals
from tradekit.portfolio.ledger import GreeksFn, Ledger
from tradekit.portfolio.position import ClosedTrade, Position

__all__ = [
    "AccountSummary",
    "AccountView",
    "ClosedTrade",
    "GreekTotals",
    "GreeksFn",
    "Ledger",
    "Position",
]
