"""Analytics of a run, the same for a backtest and for the live paper account.

* :func:`performance` -- returns, risk-adjusted ratios, drawdown and trade figures
  (:mod:`tradekit.analytics.metrics`);
* :func:`plot_backtest` -- the Bokeh chart behind ``BacktestResult.plot()``.
"""

from tradekit.analytics.metrics import (
    TRADING_DAYS,
    drawdown,
    performance,
    periods_per_year,
    returns_of,
    stats_to_json,
)
from tradekit.analytics.plot import fill_markers, plot_backtest

__all__ = [
    "TRADING_DAYS",
    "drawdown",
    "fill_markers",
    "performance",
    "periods_per_year",
    "plot_backtest",
    "returns_of",
    "stats_to_json",
]
