"""Header and controls of a running trader: state badge, mode, data source, replay clock,
start / pause / resume / stop, the kill switch and flatten-all (each behind a confirmation),
reset after HALTED, PAPER / SHADOW from the next session, and the day's progress bars.

:class:`TraderControls` is a ``param.Parameterized`` model refreshed from
``trader.status()`` by :meth:`TraderControls.refresh` (called from the app's periodic
callback); the widgets read the model, the buttons call the trader.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import panel as pn
import param

from tradekit.dashboards.components.base import Messages, TraderLike

__all__ = ["Confirm", "TraderControls", "badge"]

_STATE_COLORS = {"STOPPED": "#616161", "RUNNING": "#2e7d32", "PAUSED": "#f9a825",
                 "HALTED": "#c62828"}  # fmt: skip


def badge(text: str, color: str, *, name: str = "") -> str:
    """HTML of a coloured pill (``data-name`` lets tests find it)."""
    return (f'<span class="tk-badge" data-name="{name}" style="background:{color};color:white;'
            f'padding:3px 10px;border-radius:10px;font-weight:600;font-size:0.95em">'
            f"{text}</span>")  # fmt: skip


class Confirm:
    """A button whose action runs only after an explicit second click ("Confirm").

    The first click reveals a warning with *Confirm* and *Cancel*; nothing happens until
    *Confirm*. Used for the kill switch, flatten-all, activating a config and closing a
    position.
    """

    def __init__(self, label: str, question: str, action: Callable[[], Any], messages: Messages,
                 *, button_type: str = "danger", confirm_label: str = "Confirm") -> None:  # fmt: skip
        self.action = messages.guard(action, label)
        self.button = pn.widgets.Button(name=label, button_type=button_type)
        self._yes = pn.widgets.Button(name=f"{confirm_label}: {label}", button_type="danger")
        self._no = pn.widgets.Button(name="Cancel", button_type="light")
        self._box = pn.Row(pn.pane.Markdown(f"**{question}**"), self._yes, self._no,
                           visible=False, styles={"background": "#fff3e0",
                                                  "border": "1px solid #fb8c00"})  # fmt: skip
        self.button.on_click(lambda _e: setattr(self._box, "visible", True))
        self._no.on_click(lambda _e: setattr(self._box, "visible", False))
        self._yes.on_click(self._confirmed)
        self.view = pn.Column(self.button, self._box, margin=0)

    def _confirmed(self, _event: Any) -> None:
        self._box.visible = False
        self.action()


def _fmt_clock(ts_ns: int | None, tz: str) -> str:
    if not ts_ns:
        return "no bar yet"
    return f"{pd.Timestamp(ts_ns, unit='ns', tz='UTC').tz_convert(tz):%Y-%m-%d %H:%M %Z}"


def _frac(used: float, limit: float) -> int:
    if not limit or not math.isfinite(used) or not math.isfinite(limit) or limit <= 0:
        return 0
    return int(max(0.0, min(100.0, 100.0 * used / limit)))


class TraderControls(param.Parameterized):
    """Model of the trader's status plus the control widgets.

    Parameters
    ----------
    trader:
        The AutoTrader (see :class:`~tradekit.dashboards.components.base.TraderLike`).
    messages:
        Where failures of the buttons are shown.
    """

    state = param.String(default="STOPPED")
    mode = param.String(default="PAPER")
    data_label = param.String(default="")
    clock = param.String(default="no bar yet")
    market_open = param.Boolean(default=False)
    equity = param.Number(default=float("nan"))
    peak_equity = param.Number(default=float("nan"))

    def __init__(self, trader: TraderLike, messages: Messages, *, tz: str = "America/New_York",
                 **params: Any) -> None:  # fmt: skip
        super().__init__(**params)
        self.trader, self.messages, self.tz = trader, messages, tz
        self.status: dict[str, Any] = {}
        g = messages.guard
        self.start_btn = pn.widgets.Button(name="Start", button_type="success")
        self.pause_btn = pn.widgets.Button(name="Pause", button_type="warning")
        self.stop_btn = pn.widgets.Button(name="Stop", button_type="default")
        self.reset_btn = pn.widgets.Button(name="Reset (after HALTED)", button_type="primary")
        self.start_btn.on_click(g(lambda _e: self._act(self.trader.start), "start"))
        self.pause_btn.on_click(g(self._pause_resume, "pause/resume"))
        self.stop_btn.on_click(g(lambda _e: self._stop(), "stop"))
        self.reset_btn.on_click(g(lambda _e: self._act(lambda: self.trader.reset("operator")),
                                  "reset"))  # fmt: skip
        self.kill = Confirm("KILL SWITCH", "Halt trading and cancel all working orders?",
                            lambda: self._act(lambda: self.trader.kill("kill switch (UI)")),
                            messages, confirm_label="Confirm")  # fmt: skip
        self.flatten = Confirm("Flatten all", "Close every open position at market?",
                               lambda: self._act(self.trader.flatten), messages,
                               button_type="warning")  # fmt: skip
        self.mode_select = pn.widgets.RadioButtonGroup(
            name="mode from the next session", options=["PAPER", "SHADOW"], value="PAPER",
            button_type="primary", button_style="outline", css_classes=["tk-mode"],
        )  # fmt: skip
        self._syncing_mode = False
        self.mode_select.param.watch(g(self._mode_chosen, "mode switch"), "value")
        self.header_html = pn.pane.HTML("", sizing_mode="stretch_width", name="header")
        self.trades_bar = pn.indicators.Progress(css_classes=["tk-trades"], value=0, max=100, width=180,
                                                 bar_color="info")  # fmt: skip
        self.loss_bar = pn.indicators.Progress(css_classes=["tk-loss"], value=0, max=100, width=180,
                                               bar_color="danger")  # fmt: skip
        self.dd_bar = pn.indicators.Progress(css_classes=["tk-drawdown"], value=0, max=100, width=180,
                                             bar_color="warning")  # fmt: skip
        self.bar_labels = [pn.pane.Markdown("", margin=(0, 5)) for _ in range(3)]
        self.refresh()

    # -- actions --------------------------------------------------------------------------------
    def _act(self, fn: Callable[[], Any]) -> None:
        fn()
        self.refresh()

    def _mode_chosen(self, event: Any) -> None:
        if self._syncing_mode:
            return
        self.trader.set_mode(event.new)
        if event.new != self.mode:
            self.messages.show(f"mode {event.new} from the next session (recorded)", "info")
        self.refresh()

    def _pause_resume(self, _event: Any) -> None:
        self._act(self.trader.resume if self.state == "PAUSED" else self.trader.pause)

    def _stop(self) -> None:
        task = asyncio.ensure_future(self.trader.stop())
        task.add_done_callback(lambda t: self._after_stop(t))

    def _after_stop(self, task: asyncio.Future[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            self.messages.show(f"stop failed: {type(exc).__name__}: {exc}")
        self.refresh()

    # -- model ------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-read ``trader.status()`` into the model and the widgets."""
        st = self.trader.status()
        s = st.to_dict() if hasattr(st, "to_dict") else dict(st)
        self.status = s
        self.state = str(s.get("state", "STOPPED"))
        self.mode = str(s.get("mode", "PAPER"))
        self.data_label = str(s.get("data_label", "") or "")
        self.clock = _fmt_clock(s.get("last_bar_ts_ns"), self.tz)
        self.market_open = bool(s.get("market_open", False))
        eq = float(s.get("equity", float("nan")))
        self.equity = eq
        if math.isfinite(eq) and not (self.peak_equity >= eq):
            self.peak_equity = eq
        self._render()

    def _render(self) -> None:
        s = self.status
        synthetic = "synthetic" in self.data_label.lower()
        source = self.data_label or "unlabelled data"
        lag = s.get("feed_lag_s")
        lag_txt = f" · feed lag {lag:.1f} s" if isinstance(lag, int | float) and lag else ""
        self.header_html.object = " ".join([
            badge(self.state, _STATE_COLORS.get(self.state, "#616161"), name="state"),
            badge(self.mode + (f" → {nxt} next session" if (nxt := s.get("next_mode")) else ""),
                  "#3949ab", name="mode"),
            badge("market open" if self.market_open else "market closed",
                  "#00897b" if self.market_open else "#757575", name="market"),
            badge(("SYNTHETIC · " if synthetic else "") + source,
                  "#6d4c41" if synthetic else "#455a64", name="data"),
            f'<span class="tk-clock" style="margin-left:8px">replay clock <b>{self.clock}</b>'
            f"{lag_txt}</span>",
        ])  # fmt: skip
        trades, max_trades = s.get("trades_today", 0) or 0, s.get("max_trades", 0) or 0
        loss, max_loss = s.get("day_loss", 0.0) or 0.0, s.get("max_daily_loss", 0.0) or 0.0
        self.trades_bar.value = _frac(trades, max_trades)
        self.loss_bar.value = _frac(max(0.0, loss), max_loss)
        dd = (self.peak_equity - self.equity) / self.peak_equity if self.peak_equity > 0 else 0.0
        self.dd_bar.value = _frac(dd, 0.10)
        day_pnl = s.get("day_pnl", 0.0) or 0.0
        self.bar_labels[0].object = f"trades {trades} / {max_trades}"
        self.bar_labels[1].object = f"day P&L {day_pnl:+,.2f} (loss {loss:,.2f} / {max_loss:,.2f})"
        self.bar_labels[2].object = f"drawdown {dd:.2%} (of 10%)"
        st = self.state
        self.start_btn.disabled = st != "STOPPED"
        self.pause_btn.disabled = st not in ("RUNNING", "PAUSED")
        self.pause_btn.name = "Resume" if st == "PAUSED" else "Pause"
        self.stop_btn.disabled = st == "STOPPED"
        self.reset_btn.disabled = st != "HALTED"
        self.kill.button.disabled = st == "HALTED"
        wanted = s.get("next_mode") or self.mode
        if self.mode_select.value != wanted:
            self._syncing_mode = True
            try:
                self.mode_select.value = wanted
            finally:
                self._syncing_mode = False

    # -- views ------------------------------------------------------------------------------------
    def header(self) -> pn.viewable.Viewable:
        return pn.Row(pn.pane.Markdown("## tradekit Control Center", margin=(0, 10)),
                      self.header_html, sizing_mode="stretch_width")  # fmt: skip

    def controls(self) -> pn.viewable.Viewable:
        bars = pn.Row(*(pn.Column(lbl, bar, margin=(0, 8)) for lbl, bar in
                        zip(self.bar_labels, (self.trades_bar, self.loss_bar, self.dd_bar),
                            strict=True)))  # fmt: skip
        return pn.Column(
            pn.Row(self.start_btn, self.pause_btn, self.stop_btn, self.reset_btn,
                   self.flatten.view, self.kill.view,
                   pn.Column(pn.pane.Markdown("mode from the next session", margin=(0, 5)),
                             self.mode_select, margin=(0, 0, 0, 30))),
            bars, sizing_mode="stretch_width",
        )  # fmt: skip
