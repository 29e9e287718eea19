"""``PerformanceView``: equity and drawdown, daily P&L bars, metric cards, and signal and gate
analytics tables, all read from the store for the trader's ``run_id``.

The equity curve is the realized one (initial cash + cumulative trade P&L at each exit), the
only one the store can rebuild exactly; the live mark-to-market equity is in the header.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.layouts import column
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure

from tradekit.dashboards.components.base import TraderLike

__all__ = ["PerformanceView", "gate_table", "realized_metrics", "signal_table"]


def realized_metrics(trades: pd.DataFrame, initial_cash: float) -> dict[str, float]:
    """Headline numbers of closed trades (P&L in currency, rates as fractions)."""
    pnl = trades["pnl"].to_numpy(float) if len(trades) else np.empty(0)
    equity = initial_cash + np.cumsum(pnl)
    peak = np.maximum.accumulate(np.r_[initial_cash, equity])[1:] if len(pnl) else equity
    dd = (equity - peak) / peak if len(pnl) else np.empty(0)
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    return {
        "trades": float(len(pnl)),
        "net P&L": float(pnl.sum()),
        "win rate": float(len(wins) / len(pnl)) if len(pnl) else float("nan"),
        "profit factor": float(wins.sum() / -losses.sum()) if len(losses) else float("nan"),
        "max drawdown": float(dd.min()) if len(dd) else 0.0,
        "avg R": float(trades["r_multiple"].mean()) if len(trades) and
        "r_multiple" in trades else float("nan"),
    }  # fmt: skip


def signal_table(store: Any, run_id: str) -> pd.DataFrame:
    """Signals of the run per kind, in all and by direction (counts; setup rows left out)."""
    return store.query(
        "SELECT kind, count(*) AS signals, count(*) FILTER (WHERE direction > 0) AS long, "
        "count(*) FILTER (WHERE direction < 0) AS short FROM auto_signals "
        "WHERE run_id = ? AND NOT is_setup GROUP BY kind ORDER BY signals DESC, kind",
        [run_id],
    )


def gate_table(store: Any, run_id: str) -> pd.DataFrame:
    """Pass rate of every gate over the run's decisions, and how often it blocked."""
    dec = store.decisions(run_id=run_id)
    rows: dict[str, list[int]] = {}
    for gates, reason in zip(dec.get("gate_results", []), dec.get("block_reason", []),
                             strict=False):  # fmt: skip
        for g in gates or []:
            r = rows.setdefault(str(g.get("name")), [0, 0, 0])
            r[0] += 1
            r[1] += bool(g.get("passed"))
            r[2] += bool(reason) and not g.get("passed") and not g.get("evaluated_after_block")
    return pd.DataFrame(
        [{"gate": k, "evaluated": v[0], "passed": v[1], "pass rate": round(v[1] / v[0], 3),
          "blocked": v[2]} for k, v in rows.items()],
        columns=["gate", "evaluated", "passed", "pass rate", "blocked"],
    )  # fmt: skip


#: columns of the equity / drawdown source and of the daily P&L source
_EQ_COLUMNS, _DAY_COLUMNS = ("x", "equity", "dd"), ("x", "pnl", "color")


def _empty(columns: tuple[str, ...]) -> dict[str, list[Any]]:
    return {c: [] for c in columns}


class PerformanceView(param.Parameterized):
    """Performance of ``trader.run_id`` from the store, recomputed by :meth:`refresh`."""

    def __init__(self, trader: TraderLike, **params: Any) -> None:
        super().__init__(**params)
        self.trader = trader
        self.eq_src = ColumnDataSource(_empty(_EQ_COLUMNS))
        self.day_src = ColumnDataSource(_empty(_DAY_COLUMNS))
        eq = figure(x_axis_type="datetime", height=220, sizing_mode="stretch_width",
                    title="realized equity", tools="xpan,xwheel_zoom,reset")  # fmt: skip
        eq.step(x="x", y="equity", source=self.eq_src, mode="after")
        dd = figure(x_axis_type="datetime", height=140, sizing_mode="stretch_width",
                    title="drawdown", x_range=eq.x_range, tools="")  # fmt: skip
        dd.varea(x="x", y1="dd", y2=0, source=self.eq_src, fill_color="#ef5350", alpha=0.4)
        day = figure(x_axis_type="datetime", height=180, sizing_mode="stretch_width",
                     title="daily P&L", tools="")  # fmt: skip
        day.vbar(x="x", top="pnl", width=0.8 * 86_400_000, color="color", source=self.day_src)
        self.plots = pn.pane.Bokeh(column(eq, dd, day, sizing_mode="stretch_width"),
                                   sizing_mode="stretch_width")  # fmt: skip
        self.cards = pn.FlexBox()
        self.signals = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False,
                                            sizing_mode="stretch_width")  # fmt: skip
        self.gates = pn.widgets.Tabulator(pd.DataFrame(), disabled=True, show_index=False,
                                          sizing_mode="stretch_width")  # fmt: skip
        self.note = pn.pane.Markdown("", css_classes=["tk-perf-note"])
        self.refresh_btn = pn.widgets.Button(name="Refresh", button_type="light")
        self.refresh_btn.on_click(lambda _e: self.refresh())

    def refresh(self) -> None:
        store, run = self.trader.store, self.trader.run_id
        cash = float(self.trader.engine.config.execution.initial_cash)
        trades = store.trades(run_id=run)
        m = realized_metrics(trades, cash)
        if len(trades):
            x = trades["exit_ts"].dt.tz_convert(None)
            equity = cash + trades["pnl"].cumsum()
            peak = np.maximum(equity.cummax(), cash)
            self.eq_src.data = {"x": x, "equity": equity, "dd": (equity - peak) / peak}
            daily = trades.groupby(trades["exit_ts"].dt.tz_convert("America/New_York")
                                   .dt.date)["pnl"].sum()  # fmt: skip
            self.day_src.data = {"x": pd.to_datetime(daily.index), "pnl": daily.to_numpy(),
                                 "color": ["#26a69a" if v >= 0 else "#ef5350" for v in daily]}  # fmt: skip
            last = trades["exit_ts"].max().tz_convert("America/New_York")
            self.note.object = (f"{len(trades):,} closed trades in run `{run}`, the last at "
                                f"{last:%Y-%m-%d %H:%M} New York time.")  # fmt: skip
        else:  # (a new run after a reset starts empty: nothing of the old run stays drawn)
            self.eq_src.data = _empty(_EQ_COLUMNS)
            self.day_src.data = _empty(_DAY_COLUMNS)
            self.note.object = (f"No closed trade yet in run `{run}`: the metrics and charts "
                                "fill as trades close (every 10 s, or press Refresh).")  # fmt: skip
        fmt = {"trades": "{:,.0f}", "net P&L": "{:+,.2f}", "win rate": "{:.1%}",
               "profit factor": "{:.2f}", "max drawdown": "{:.2%}", "avg R": "{:+.2f}"}  # fmt: skip
        self.cards.objects = [
            pn.indicators.String(name=k, value="—" if v != v else fmt[k].format(v),
                                 font_size="22pt", title_size="10pt", width=150)
            for k, v in m.items()
        ]  # fmt: skip
        self.signals.value = signal_table(store, run)
        self.gates.value = gate_table(store, run)

    def view(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.Row(self.refresh_btn, self.note), self.cards, self.plots,
            pn.Row(pn.Column(pn.pane.Markdown("#### Signals by kind"), self.signals),
                   pn.Column(pn.pane.Markdown("#### Gates"), self.gates),
                   sizing_mode="stretch_width"),
            sizing_mode="stretch_width", name="performance",
        )  # fmt: skip
