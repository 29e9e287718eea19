"""Records the store persists that are not core events: closed trades, daily rows, calendar.

The bus carries what *happened* (``core/events.py``); these are *derived* summaries written by
the ledger / analytics (trades, daily performance) or typed in by the user (event calendar).
Closed trades are the ledger's own records, read through the :class:`TradeLike` protocol (the
store does not import the portfolio package); the others are frozen slotted dataclasses here.
Timestamps are int ns UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final, Protocol, runtime_checkable

from tradekit.core.ids import make_id

__all__ = [
    "CALENDAR_KINDS",
    "TRADE_OPTIONAL",
    "TRADE_REQUIRED",
    "CalendarEvent",
    "DailyPerformance",
    "TradeLike",
]

#: Allowed ``event_calendar.kind`` values.
CALENDAR_KINDS: Final[tuple[str, ...]] = ("earnings", "FOMC", "CPI", "NFP", "OPEX", "other")


#: Attributes a closed-trade record must have for :meth:`Store.write_trades`.
TRADE_REQUIRED: Final[tuple[str, ...]] = (
    "id",
    "symbol",
    "direction",
    "quantity",
    "entry_ts_ns",
    "entry_price",
    "exit_ts_ns",
    "exit_price",
    "pnl",
)
#: Optional attributes and their defaults when a trade record lacks them.
TRADE_OPTIONAL: Final[dict[str, Any]] = {
    "underlying": None,
    "gross_pnl": float("nan"),
    "commission": 0.0,
    "slippage": 0.0,
    "multiplier": 1.0,
    "r_multiple": float("nan"),
    "initial_stop": None,
    "initial_risk": float("nan"),
    "mae": float("nan"),
    "mfe": float("nan"),
    "decision_id": None,
    "strategy": None,
    "exit_reason": None,
}


@runtime_checkable
class TradeLike(Protocol):
    """A closed round trip as the store reads it, e.g.
    :class:`tradekit.portfolio.position.ClosedTrade` (the ledger's record).

    ``quantity`` is positive and ``direction`` gives the side (+1 long, -1 short); ``pnl`` is
    net of commission, in currency (multiplier applied). Besides :data:`TRADE_REQUIRED`, any of
    :data:`TRADE_OPTIONAL` present on the record is stored (``r_multiple``, ``mae``, ...).
    """

    id: str
    symbol: str
    direction: int
    quantity: float
    entry_ts_ns: int
    entry_price: float
    exit_ts_ns: int
    exit_price: float
    pnl: float


@dataclass(frozen=True, slots=True)
class DailyPerformance:
    """One trading day of one run (New York trading date).

    ``return_`` is ``pnl / start_equity``; ``max_drawdown`` is the deepest intraday drawdown
    (a fraction, >= 0) and ``drawdown`` the drawdown from the running peak at the close.
    ``exposure`` is the fraction of the session with an open position. ``high_water_mark`` is
    the run's highest equity up to this close and ``win_rate`` the day's ``wins / trades``
    (NaN without a closed trade).
    """

    date: dt.date
    start_equity: float
    end_equity: float
    pnl: float
    return_: float
    trades: int = 0
    wins: int = 0
    losses: int = 0
    commission: float = 0.0
    max_drawdown: float = 0.0
    drawdown: float = 0.0
    exposure: float = 0.0
    high_water_mark: float = float("nan")
    win_rate: float = float("nan")


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """A known market event (DECISIONS.md gate 8). ``symbol`` is ``None`` for market-wide
    events (FOMC, CPI, NFP, OPEX). ``kind`` is one of :data:`CALENDAR_KINDS`."""

    date: dt.date
    kind: str
    description: str
    symbol: str | None = None

    @property
    def id(self) -> str:
        """Deterministic id from date, kind and symbol (one event of a kind per day/symbol)."""
        return make_id("cal", self.date.isoformat(), self.kind, self.symbol or "")
