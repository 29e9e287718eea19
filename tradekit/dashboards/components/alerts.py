"""``AlertsPanel``: live alerts (``alerts.*`` on the bus) with an *Acknowledge* action.

Acknowledging writes to the store (``Store.acknowledge_alert``). An alert the store has not yet
flushed is acknowledged on screen at once and persisted on a later refresh.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import pandas as pd
import panel as pn
import param

from tradekit.core.events import Alert
from tradekit.dashboards.components.base import Messages, TraderLike

__all__ = ["AlertsPanel"]

_COLS = ["id", "time", "level", "source", "message", "acknowledged"]


class AlertsPanel(param.Parameterized):
    """Newest alerts first; select rows and press *Acknowledge selected*."""

    max_rows = param.Integer(default=200, bounds=(10, None))
    unacknowledged = param.Integer(default=0)

    def __init__(self, trader: TraderLike, messages: Messages, **params: Any) -> None:
        super().__init__(**params)
        self.trader, self.messages = trader, messages
        self._alerts: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._pending_ack: set[str] = set()
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(columns=_COLS), disabled=True, show_index=False, selectable="checkbox",
            hidden_columns=["id"], sizing_mode="stretch_width", height=300, name="alerts",
        )  # fmt: skip
        self.ack_btn = pn.widgets.Button(name="Acknowledge selected", button_type="primary")
        self.ack_all_btn = pn.widgets.Button(name="Acknowledge all", button_type="light")
        self.ack_btn.on_click(messages.guard(lambda _e: self.acknowledge_selected(), "acknowledge"))
        self.ack_all_btn.on_click(messages.guard(lambda _e: self.acknowledge(list(self._alerts)),
                                                 "acknowledge"))  # fmt: skip
        self.title = pn.pane.Markdown("#### Alerts")

    def push(self, events: Iterable[tuple[str, Any]]) -> list[Alert]:
        """Take alerts out of drained events; returns the new ones."""
        new = [ev for _t, ev in events if isinstance(ev, Alert)]
        for a in new:
            self._alerts[a.id] = {
                "id": a.id, "level": a.level.value, "source": a.source, "message": a.message,
                "time": f"{pd.Timestamp(a.ts_ns, unit='ns', tz='UTC'):%Y-%m-%d %H:%M:%S}",
                "acknowledged": False,
            }  # fmt: skip
            while len(self._alerts) > self.max_rows:
                self._alerts.popitem(last=False)
        if new:
            self._render()
        return new

    def acknowledge_selected(self) -> None:
        df = self.table.value
        ids = [str(df.iloc[i]["id"]) for i in self.table.selection if i < len(df)]
        self.acknowledge(ids)

    def acknowledge(self, ids: list[str]) -> None:
        for aid in ids:
            if aid in self._alerts:
                self._alerts[aid]["acknowledged"] = True
                self._pending_ack.add(aid)
        self.flush()
        self._render()

    def flush(self) -> None:
        """Persist pending acknowledgements the store can now find."""
        store = self.trader.store
        for aid in list(self._pending_ack):
            if store.acknowledge_alert(aid, run_id=self.trader.run_id):
                self._pending_ack.discard(aid)

    def _render(self) -> None:
        rows = list(reversed(self._alerts.values()))
        self.table.value = pd.DataFrame(rows, columns=_COLS)
        self.table.selection = []
        self.unacknowledged = sum(not r["acknowledged"] for r in rows)
        self.title.object = f"#### Alerts ({self.unacknowledged} unacknowledged)"

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(self.title, pn.Row(self.ack_btn, self.ack_all_btn), self.table,
                         sizing_mode="stretch_width", name="alerts-panel")  # fmt: skip
