"""``BacktestResult.stats`` and ``.plot()``."""

from __future__ import annotations

import math

import pytest

import tradekit
from tradekit.analytics import fill_markers, performance
from tradekit.data.datasets import load
from tradekit.strategy import SmaCross


@pytest.fixture(scope="module")
def result() -> tradekit.BacktestResult:
    return tradekit.backtest(load("aapl").iloc[:1200], strategy=SmaCross(10, 50))


def test_stats_agree_with_the_summary_and_performance(result: tradekit.BacktestResult) -> None:
    st, sm = result.stats, result.summary
    assert st["trades"] == sm["trades"] > 0
    for key in ("total_return", "max_drawdown", "win_rate", "profit_factor", "final_equity"):
        assert st[key] == pytest.approx(sm[key], rel=1e-12), key
    again = performance(result.equity, result.trades, initial_equity=100_000.0)
    assert again.equals(st) and result.stats is st  # computed once
    assert 0 < st["exposure"] < 1 and math.isfinite(st["sharpe"])


def test_plot_is_price_equity_drawdown_with_every_fill(result: tradekit.BacktestResult) -> None:
    from bokeh.models import Column, GlyphRenderer

    layout = result.plot()
    assert isinstance(layout, Column) and len(layout.children) == 3
    price, equity, under = layout.children
    assert equity.x_range is price.x_range and under.x_range is price.x_range
    marks = fill_markers(result.fills, result.orders)
    sizes = [
        len(r.data_source.data["ts"])
        for r in price.renderers
        if isinstance(r, GlyphRenderer) and "price" in r.data_source.data
    ]
    assert sum(sizes) == len(marks) == len(result.fills)
    assert (
        marks["is_entry"].sum()
        == (result.orders["tag"] == "entry").sum()
        - (result.orders[result.orders["tag"] == "entry"]["status"] != "FILLED").sum()
    )
    assert "AAPL" in price.title.text and result.strategy in price.title.text
