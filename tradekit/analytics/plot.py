"""The backtest chart: price with entries and exits, equity, and drawdown, as one Bokeh layout.

Three figures share the time axis (pan or zoom one, all follow): the close of the traded symbol
with a marker at every fill (entries as triangles pointing the trade's way, exits as
circles, coloured by the order's tag), the equity curve in currency, and the drawdown in
percent below the running peak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tradekit.analytics.metrics import drawdown

if TYPE_CHECKING:
    from tradekit.runtime.backtest import BacktestResult

__all__ = ["fill_markers", "plot_backtest"]

_EXIT_COLOURS = {"stop": "#d62728", "tp": "#2ca02c", "strategy": "#9467bd"}


def fill_markers(fills: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    """One row per fill with ``ts``, ``price``, ``side`` (+1 buy / -1 sell), ``tag`` of its
    order and ``is_entry``; empty (with those columns) without fills."""
    cols = ["ts", "price", "side", "tag", "is_entry", "symbol"]
    if len(fills) == 0:
        return pd.DataFrame(columns=cols)
    tags = orders.set_index("id")["tag"] if len(orders) and "tag" in orders else pd.Series()
    out = pd.DataFrame(
        {
            "ts": pd.to_datetime(fills["ts_ns"], unit="ns", utc=True),
            "price": fills["price"].astype(float),
            "side": fills["side"].astype(int),
            "tag": fills["order_id"].map(tags).fillna("").astype(str),
            "symbol": fills["symbol"],
        }
    )
    out["is_entry"] = out["tag"] == "entry"
    return out[cols]


def _naive(ts: Any) -> pd.DatetimeIndex:
    """UTC times without a zone: Bokeh draws datetimes as UTC and warns on tz-aware input."""
    idx = pd.DatetimeIndex(ts)
    return idx.tz_convert(None) if idx.tz is not None else idx


def _exit_colour(tag: str) -> str:
    kind = tag.removeprefix("exit:")
    for prefix, colour in _EXIT_COLOURS.items():
        if kind.startswith(prefix):
            return colour
    return "#7f7f7f"


def plot_backtest(result: BacktestResult, *, symbol: str | None = None, height: int = 260) -> Any:
    """A Bokeh ``column`` of price + fills, equity and drawdown for ``result``.

    Parameters
    ----------
    result:
        A backtest result (its ``bars`` hold the replayed frames).
    symbol:
        Which symbol's price to draw (default the first replayed).
    height:
        Height of the price figure in pixels (the others are smaller).
    """
    from bokeh.layouts import column
    from bokeh.models import ColumnDataSource, HoverTool, NumeralTickFormatter
    from bokeh.plotting import figure

    sym = symbol or next(iter(result.bars), "")
    bars = result.bars.get(sym)
    title = f"{sym} {result.config.timeframe} — {result.strategy} ({result.run_id})"
    price = figure(
        title=title, x_axis_type="datetime", height=height, sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,box_zoom,reset,save", active_scroll="xwheel_zoom",
    )  # fmt: skip
    price.yaxis.axis_label = "price"
    if bars is not None and len(bars):
        src = ColumnDataSource({"ts": _naive(bars.index), "close": bars["close"].to_numpy()})
        price.line("ts", "close", source=src, color="#1f77b4", legend_label="close")
    marks = fill_markers(result.fills, result.orders)
    if sym and len(marks):
        marks = marks[marks["symbol"] == sym]
    entries, exits = marks[marks["is_entry"]], marks[~marks["is_entry"]]
    if len(entries):
        src = ColumnDataSource(
            {
                "ts": _naive(entries["ts"]),
                "price": entries["price"],
                "marker": np.where(entries["side"] > 0, "triangle", "inverted_triangle"),
                "tag": entries["tag"],
            }
        )
        price.scatter("ts", "price", source=src, marker="marker", size=10, color="#2ca02c",
                      legend_label="entry")  # fmt: skip
    if len(exits):
        src = ColumnDataSource(
            {
                "ts": _naive(exits["ts"]),
                "price": exits["price"],
                "colour": [_exit_colour(t) for t in exits["tag"]],
                "tag": exits["tag"],
            }
        )
        price.scatter("ts", "price", source=src, size=7, color="colour", legend_label="exit")
    price.add_tools(HoverTool(tooltips=[("time", "@ts{%F %H:%M}"), ("price", "@price{0.00}"),
                                        ("order", "@tag")], formatters={"@ts": "datetime"}))  # fmt: skip
    price.legend.location = "top_left"
    price.legend.click_policy = "hide"

    eq = result.equity
    initial = float(result.config.execution.initial_cash)
    equity = figure(x_axis_type="datetime", height=max(120, height // 2), x_range=price.x_range,
                    sizing_mode="stretch_width", tools="xpan,reset")  # fmt: skip
    equity.yaxis.axis_label = "equity"
    equity.yaxis.formatter = NumeralTickFormatter(format="0,0")
    equity.line(_naive(eq.index), eq.to_numpy(), color="#333333")
    dd = drawdown(eq, initial) if len(eq) else eq
    under = figure(x_axis_type="datetime", height=max(100, height // 3), x_range=price.x_range,
                   sizing_mode="stretch_width", tools="xpan,reset")  # fmt: skip
    under.yaxis.axis_label = "drawdown"
    under.yaxis.formatter = NumeralTickFormatter(format="0.0%")
    under.varea(x=_naive(dd.index), y1=dd.to_numpy(), y2=0.0, color="#d62728",
                alpha=0.4)  # fmt: skip
    return column(price, equity, under, sizing_mode="stretch_width")
