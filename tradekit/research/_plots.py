"""Bokeh layouts of the research results (built only when ``.plot()`` is called)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from tradekit.research.vectorized import SignalBacktest

__all__ = ["equity_figure", "fan_figure", "signal_backtest_layout"]

_WIDTH = 900


def _x(index: pd.Index) -> tuple[Any, Literal["datetime", "linear"]]:
    if isinstance(index, pd.DatetimeIndex):
        return index.tz_localize(None) if index.tz is not None else index, "datetime"
    return np.arange(len(index), dtype=np.float64), "linear"


def equity_figure(equity: pd.Series, *, title: str = "equity", x_range: Any = None) -> Any:
    """A line figure of an equity curve (currency) against its index."""
    from bokeh.plotting import figure

    x, kind = _x(equity.index)
    kw: dict[str, Any] = {"x_range": x_range} if x_range is not None else {}
    fig = figure(title=title, height=220, width=_WIDTH, x_axis_type=kind, **kw)
    fig.line(x, equity.to_numpy(dtype=np.float64), line_width=1.5)
    return fig


def signal_backtest_layout(res: SignalBacktest) -> Any:
    """Price with entry (▲) and exit (▼) markers, equity and drawdown, sharing the x axis."""
    from bokeh.layouts import column
    from bokeh.plotting import figure

    bars = res.bars
    close = bars["close" if "close" in bars.columns else "Close"].to_numpy(dtype=np.float64)
    x, kind = _x(bars.index)
    price = figure(title="price", height=260, width=_WIDTH, x_axis_type=kind)
    price.line(x, close, color="gray")
    t = res.trades
    if len(t):
        price.scatter(x[t["entry_bar"].to_numpy()], t["entry_price"].to_numpy(),
                      marker="triangle", size=8, color="green", legend_label="entry")  # fmt: skip
        price.scatter(x[t["exit_bar"].to_numpy()], t["exit_price"].to_numpy(),
                      marker="inverted_triangle", size=8, color="red", legend_label="exit")  # fmt: skip
    eq = equity_figure(res.equity["equity"], x_range=price.x_range)
    dd = figure(title="drawdown", height=160, width=_WIDTH, x_axis_type=kind, x_range=price.x_range)
    dd.varea(x, res.equity["drawdown"].to_numpy(), 0.0, fill_alpha=0.4, color="firebrick")
    return column(price, eq, dd)


def _closest(levels: list[float], target: float) -> float:
    return min(levels, key=lambda q: abs(q - target))


def fan_figure(quantiles: pd.DataFrame, *, title: str, reference: pd.Series | None = None) -> Any:
    """A fan chart: bands between symmetric quantile columns (e.g. 0.05–0.95, 0.25–0.75) and
    the median line of ``quantiles`` (one row per step, one column per quantile level)."""
    from bokeh.plotting import figure

    x = np.arange(len(quantiles), dtype=np.float64)
    fig = figure(title=title, height=300, width=_WIDTH, x_axis_label="trade / step")
    levels = sorted(float(q) for q in quantiles.columns)
    lows = [q for q in levels if q < 0.5]
    for i, lo in enumerate(lows):
        hi = _closest(levels, 1.0 - lo)
        fig.varea(x, quantiles[lo].to_numpy(), quantiles[hi].to_numpy(),
                  fill_alpha=0.15 + 0.15 * i, color="steelblue",
                  legend_label=f"{lo:.0%}–{hi:.0%}")  # fmt: skip
    if 0.5 in quantiles.columns:
        fig.line(x, quantiles[0.5].to_numpy(), color="navy", line_width=2, legend_label="median")
    if reference is not None:
        fig.line(x, reference.to_numpy(dtype=np.float64), color="black", line_dash="dashed",
                 legend_label="as traded")  # fmt: skip
    fig.legend.location = "top_left"
    return fig
