"""Analytics of a run, the same for a backtest and for the live paper account.

* :func:`performance` -- returns, risk-adjusted ratios, drawdown and trade figures
  (:mod:`tradekit.analytics.metrics`);
* :func:`signal_analytics` -- per signal kind, timeframe, direction and hour: setup and trade
  shares, win rate, R and causal forward returns (:mod:`tradekit.analytics.signals`);
* :func:`gate_analytics` -- pass rates, blocks and the counterfactual of blocked setups per
  gate (:mod:`tradekit.analytics.gates`);
* :func:`trade_distribution` -- R histogram, holding times, P&L by weekday and hour, streaks
  (:mod:`tradekit.analytics.trades`);
* :func:`plot_backtest` -- the Bokeh chart behind ``BacktestResult.plot()``;
* :class:`EquityTracker` -- the equity marks of a live engine, written to the store.

Each takes a ``BacktestResult`` or a :class:`RunData`; ``RunData.from_store(store, run_id)``
and :func:`store_analytics` read a run from the DuckDB store.
"""

from tradekit.analytics.gates import GateAnalytics, counterfactuals, gate_analytics
from tradekit.analytics.metrics import (
    TRADING_DAYS,
    drawdown,
    performance,
    periods_per_year,
    returns_of,
    stats_to_json,
)
from tradekit.analytics.plot import fill_markers, plot_backtest
from tradekit.analytics.run import RunData, as_run_data, decision_trades
from tradekit.analytics.signals import forward_returns, signal_analytics
from tradekit.analytics.store import read_equity, store_analytics
from tradekit.analytics.tracker import EquityTracker
from tradekit.analytics.trades import TradeDistribution, streaks, trade_distribution

__all__ = [
    "TRADING_DAYS",
    "EquityTracker",
    "GateAnalytics",
    "RunData",
    "TradeDistribution",
    "as_run_data",
    "counterfactuals",
    "decision_trades",
    "drawdown",
    "fill_markers",
    "forward_returns",
    "gate_analytics",
    "performance",
    "periods_per_year",
    "plot_backtest",
    "read_equity",
    "returns_of",
    "signal_analytics",
    "stats_to_json",
    "store_analytics",
    "streaks",
    "trade_distribution",
]
