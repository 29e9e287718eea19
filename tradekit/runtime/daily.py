"""The daily rollup: one ``daily_performance`` row per session, computed from the ledger.

:class:`DailyTracker` follows the equity bar by bar (high-water mark, intraday drawdown, time
in the market) and, at each session close, turns the day into a
:class:`~tradekit.store.records.DailyPerformance`: start and end equity, P&L and return, the
round trips closed that day (wins, losses, win rate), commission, the deepest drawdown of the
day and the drawdown at the close from the run's high-water mark. Nothing is assumed: every
figure comes from the ledger the engine keeps. Its state is part of the trader's checkpoint.

Examples
--------
>>> import datetime as dt
>>> from tradekit.portfolio.ledger import Ledger
>>> led = Ledger(100_000.0)
>>> tr = DailyTracker(led.initial_cash)
>>> tr.on_bar(led)
>>> row = tr.close_day(dt.date(2024, 3, 1), led)
>>> row.end_equity, row.trades, row.drawdown
(100000.0, 0, 0.0)
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from tradekit.portfolio.ledger import Ledger
from tradekit.store.records import DailyPerformance

__all__ = ["DailyTracker"]


class DailyTracker:
    """Equity statistics of the current day and of the run (fractions, currency)."""

    def __init__(self, initial_equity: float) -> None:
        self.hwm = float(initial_equity)
        self.max_drawdown = 0.0
        self._day_dd = 0.0
        self._bars = 0
        self._exposed = 0
        self._closed_at_start = 0
        self._commission_at_start = 0.0

    def on_bar(self, ledger: Ledger) -> None:
        """Record the equity after a bar (call once per processed bar)."""
        eq = ledger.equity
        if eq > self.hwm:
            self.hwm = eq
        dd = 1.0 - eq / self.hwm if self.hwm > 0 else 0.0
        self._day_dd = max(self._day_dd, dd)
        self.max_drawdown = max(self.max_drawdown, dd)
        self._bars += 1
        self._exposed += any(p.qty != 0 for p in ledger.positions.values())

    def close_day(self, date: dt.date, ledger: Ledger) -> DailyPerformance:
        """The row of the day ending now; the day's counters start again."""
        end = ledger.equity
        start = ledger.start_of_day_equity
        pnl = end - start
        trades = ledger.closed_since(self._closed_at_start)
        wins = sum(t.pnl > 0 for t in trades)
        losses = sum(t.pnl < 0 for t in trades)
        row = DailyPerformance(
            date=date,
            start_equity=start,
            end_equity=end,
            pnl=pnl,
            return_=pnl / start if start else 0.0,
            trades=len(trades),
            wins=wins,
            losses=losses,
            commission=ledger.commissions - self._commission_at_start,
            max_drawdown=self._day_dd,
            drawdown=1.0 - end / self.hwm if self.hwm > 0 else 0.0,
            exposure=self._exposed / self._bars if self._bars else 0.0,
            high_water_mark=self.hwm,
            win_rate=wins / len(trades) if trades else math.nan,
        )
        self._day_dd, self._bars, self._exposed = 0.0, 0, 0
        self._closed_at_start = ledger.closed_count
        self._commission_at_start = ledger.commissions
        return row

    def state(self) -> dict[str, Any]:
        """JSON-able state (for the checkpoint)."""
        return {
            "hwm": self.hwm, "max_drawdown": self.max_drawdown, "day_dd": self._day_dd,
            "bars": self._bars, "exposed": self._exposed, "closed_at_start": self._closed_at_start,
            "commission_at_start": self._commission_at_start,
        }  # fmt: skip

    def load(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state` output (an empty mapping leaves the tracker as it is)."""
        if not state:
            return
        self.hwm = float(state["hwm"])
        self.max_drawdown = float(state["max_drawdown"])
        self._day_dd = float(state["day_dd"])
        self._bars, self._exposed = int(state["bars"]), int(state["exposed"])
        self._closed_at_start = int(state["closed_at_start"])
        self._commission_at_start = float(state["commission_at_start"])
