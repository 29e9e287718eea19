"""``PositionsView``: open positions with P&L, Greeks and DTE, portfolio Greeks against the
risk limits, and a confirmed *Close* button per position that calls
``trader.close_position(symbol)``.

Each position is a collapsible card (its details: average and market price, stop, targets,
Greeks, realized P&L); cards are kept per symbol so an expanded card stays expanded while the
numbers refresh.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

import pandas as pd
import panel as pn
import param

from tradekit.core.events import PositionSnapshot
from tradekit.dashboards.components.base import Messages, TraderLike
from tradekit.dashboards.components.controls import Confirm

__all__ = ["PositionsView", "days_to_expiry"]

_OCC = re.compile(r"^(?P<und>.{6})(?P<exp>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")


def days_to_expiry(symbol: str, today: dt.date) -> int | None:
    """Calendar days from ``today`` to the expiry of an OCC option symbol; None for stock.

    Examples
    --------
    >>> days_to_expiry("SPY   250117C00450000", dt.date(2025, 1, 10))
    7
    >>> days_to_expiry("SPY", dt.date(2025, 1, 10)) is None
    True
    """
    m = _OCC.match(symbol)
    if m is None:
        return None
    return (dt.datetime.strptime(m["exp"], "%y%m%d").date() - today).days


class _Card:
    def __init__(self, symbol: str, close: Confirm) -> None:
        self.body = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.card = pn.Card(self.body, close.view, title=symbol, collapsed=True,
                            sizing_mode="stretch_width", name=f"position-{symbol}")  # fmt: skip


class PositionsView(param.Parameterized):
    """Positions of ``trader.engine.ledger``, refreshed by :meth:`refresh`."""

    n_open = param.Integer(default=0)

    def __init__(self, trader: TraderLike, messages: Messages, **params: Any) -> None:
        super().__init__(**params)
        self.trader, self.messages = trader, messages
        self._cards: dict[str, _Card] = {}
        self.summary = pn.widgets.Tabulator(
            pd.DataFrame(), disabled=True, show_index=False, sizing_mode="stretch_width",
            name="positions-table",
        )  # fmt: skip
        self.greeks = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.cards = pn.Column(sizing_mode="stretch_width")
        self.empty = pn.pane.Markdown("*no open positions*")

    def _snapshots(self) -> list[PositionSnapshot]:
        return list(self.trader.engine.ledger.snapshot())

    def _close(self, symbol: str) -> None:
        self.trader.close_position(symbol)
        self.messages.show(f"close order sent for {symbol}", "info")

    def _closer(self, symbol: str) -> Callable[[], None]:
        return lambda: self._close(symbol)

    def refresh(self) -> None:
        engine = self.trader.engine
        snaps = self._snapshots()
        today = pd.Timestamp(engine.clock.now_ns(), unit="ns", tz="UTC").tz_convert(
            "America/New_York").date()  # fmt: skip
        rows = []
        for s in snaps:
            dte = days_to_expiry(s.symbol, today)
            rows.append({"symbol": s.symbol, "qty": s.quantity, "avg": round(s.avg_price, 2),
                         "mark": round(s.market_price, 2), "unrealized": round(s.unrealized_pnl, 2),
                         "realized": round(s.realized_pnl, 2), "delta": round(s.delta, 2),
                         "gamma": round(s.gamma, 4), "theta": round(s.theta, 2),
                         "vega": round(s.vega, 2), "DTE": "" if dte is None else dte})  # fmt: skip
            card = self._cards.get(s.symbol)
            if card is None:
                close = Confirm(f"Close {s.symbol}", f"Close {s.symbol} at market?",
                                self._closer(s.symbol), self.messages,
                                button_type="warning")  # fmt: skip
                card = self._cards[s.symbol] = _Card(s.symbol, close)
            card.body.object = (
                f"**{s.quantity:+g}** × {s.symbol} (×{s.multiplier:g}) · avg {s.avg_price:,.2f} · "
                f"mark {s.market_price:,.2f}  \nunrealized **{s.unrealized_pnl:+,.2f}** · realized "
                f"{s.realized_pnl:+,.2f}  \nstop {s.stop if s.stop is not None else '—'} · targets "
                f"{', '.join(f'{t:,.2f}' for t in s.targets) or '—'}  \nΔ {s.delta:,.2f} · "
                f"Γ {s.gamma:,.4f} · Θ {s.theta:,.2f} · vega {s.vega:,.2f}"
                + ("" if dte is None else f" · DTE {dte}")
            )  # fmt: skip
        open_syms = {s.symbol for s in snaps}
        for sym in [k for k in self._cards if k not in open_syms]:
            del self._cards[sym]
        cards: list[Any] = [self._cards[s.symbol].card for s in snaps]
        self.cards.objects = cards or [self.empty]
        self.summary.value = pd.DataFrame(rows)
        self.n_open = len(snaps)
        self._greeks(engine)

    def _greeks(self, engine: Any) -> None:
        g, eq, risk = engine.ledger.greek_totals(), engine.ledger.equity, engine.config.risk
        lines = ["| Greek | portfolio | limit | used |", "|---|---|---|---|"]
        for label, val, pct in (
            ("delta ($/1 move)", g.delta, risk.max_portfolio_delta_pct),
            ("theta ($/day)", g.theta, risk.max_portfolio_theta_pct),
            ("vega ($/vol pt)", g.vega, risk.max_portfolio_vega_pct),
        ):
            lim = pct * eq
            used = abs(val) / lim if lim > 0 else 0.0
            lines.append(f"| {label} | {val:,.2f} | ±{lim:,.2f} | {used:.0%} |")
        self.greeks.object = "\n".join(lines)

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Markdown("#### Open positions"), self.summary,
            pn.pane.Markdown("#### Details (expand a position)"), self.cards,
            pn.pane.Markdown("#### Portfolio Greeks vs limits"), self.greeks,
            sizing_mode="stretch_width", name="positions",
        )  # fmt: skip
