"""``SignalFeed``: the newest signals and setups, each setup with its decision and every gate.

Rows are kept in bounded deques (newest first on screen). A setup row shows the decision's
action, how many gates passed and the blocking reason; expanding it shows each gate's
pass / fail with observed value, threshold and reason.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import Any

import pandas as pd
import panel as pn
import param

from tradekit.core.events import Decision, Setup, Signal

__all__ = ["SignalFeed", "gates_frame"]

_SIGNAL_COLS = ["time", "symbol", "kind", "dir", "entry", "stop", "target", "strength"]
_SETUP_COLS = ["id", "time", "symbol", "dir", "score", "confluence", "signals", "action",
               "gates", "reason"]  # fmt: skip


def _time(ts_ns: int) -> str:
    return f"{pd.Timestamp(ts_ns, unit='ns', tz='UTC').tz_convert('America/New_York'):%m-%d %H:%M}"


def gates_frame(decision: Decision | None) -> pd.DataFrame:
    """One row per gate of ``decision``: name, PASS/FAIL, observed, threshold, reason."""
    rows = [] if decision is None else [
        {"gate": g.name, "result": "PASS" if g.passed else "FAIL",
         "observed": "" if g.observed is None else str(g.observed),
         "threshold": "" if g.threshold is None else str(g.threshold), "reason": g.reason}
        for g in decision.gates
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=["gate", "result", "observed", "threshold", "reason"])


class SignalFeed(param.Parameterized):
    """Newest signals and setups with gate status, fed by :meth:`push`."""

    max_rows = param.Integer(default=200, bounds=(10, None))

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self._signals: deque[dict[str, Any]] = deque(maxlen=self.max_rows)
        self._setups: deque[dict[str, Any]] = deque(maxlen=self.max_rows)
        self._decisions: dict[str, Decision] = {}
        self.n_signals = 0
        self.n_setups = 0
        self.signals_table = pn.widgets.Tabulator(
            pd.DataFrame(columns=_SIGNAL_COLS), disabled=True, show_index=False, height=260,
            sizing_mode="stretch_width", pagination=None, css_classes=["tk-signals"],
        )  # fmt: skip
        self.setups_table = pn.widgets.Tabulator(
            pd.DataFrame(columns=_SETUP_COLS), disabled=True, show_index=False, height=300,
            sizing_mode="stretch_width", hidden_columns=["id"], css_classes=["tk-setups"],
            row_content=self._gates_view, embed_content=False,
        )  # fmt: skip
        self.counter = pn.pane.Markdown("no signals yet")

    def _gates_view(self, row: pd.Series) -> pn.viewable.Viewable:
        return pn.pane.DataFrame(gates_frame(self._decisions.get(str(row["id"]))), index=False,
                                 sizing_mode="stretch_width")  # fmt: skip

    def push(self, events: Iterable[tuple[str, Any]]) -> bool:
        """Apply drained bus events; returns whether anything changed."""
        changed = False
        for _topic, ev in events:
            if isinstance(ev, Signal):
                self.n_signals += 1
                self._signals.append({
                    "time": _time(ev.ts_ns), "symbol": ev.symbol, "kind": ev.kind,
                    "dir": "long" if ev.direction > 0 else "short", "entry": round(ev.entry, 2),
                    "stop": round(ev.stop, 2), "target": round(ev.target, 2),
                    "strength": round(ev.strength, 2),
                })  # fmt: skip
                changed = True
            elif isinstance(ev, Setup):
                self.n_setups += 1
                self._setups.append({
                    "id": ev.id, "time": _time(ev.ts_ns), "symbol": ev.symbol,
                    "dir": "long" if ev.direction > 0 else "short", "score": round(ev.score, 2),
                    "confluence": ev.confluence_count, "signals": ", ".join(ev.active_signals),
                    "action": "pending", "gates": "", "reason": "",
                })  # fmt: skip
                changed = True
            elif isinstance(ev, Decision):
                self._decisions[ev.setup_id] = ev
                if len(self._decisions) > 4 * self.max_rows:
                    del self._decisions[next(iter(self._decisions))]
                for row in reversed(self._setups):
                    if row["id"] == ev.setup_id:
                        passed = sum(g.passed for g in ev.gates)
                        row.update(action=ev.action.value, gates=f"{passed}/{len(ev.gates)}",
                                   reason=ev.block_reason or "")  # fmt: skip
                        break
                changed = True
        if changed:
            self.signals_table.value = pd.DataFrame(list(reversed(self._signals)),
                                                    columns=_SIGNAL_COLS)  # fmt: skip
            self.setups_table.value = pd.DataFrame(list(reversed(self._setups)),
                                                   columns=_SETUP_COLS)  # fmt: skip
            self.counter.object = f"**{self.n_signals:,}** signals · **{self.n_setups:,}** setups"
        return changed

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(
            self.counter,
            pn.pane.Markdown("#### Setups and decisions (expand a row for its gates)"),
            self.setups_table,
            pn.pane.Markdown("#### Signals"),
            self.signals_table,
            sizing_mode="stretch_width", name="signal-feed",
        )  # fmt: skip
