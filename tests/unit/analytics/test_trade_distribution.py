"""Trade distribution tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tradekit
from tradekit.analytics import streaks, trade_distribution
from tradekit.data.datasets import load
from tradekit.strategy import SmaCross


def test_streaks_by_hand() -> None:
    pnl = np.array([1.0, 2.0, -1.0, 0.0, -3.0, 5.0])
    exit_ns = np.array([6, 1, 2, 3, 4, 5]) * 10**9  # exit order: 2, -1, 0, -3, 5, 1
    s = streaks(pnl, exit_ns)
    assert s["kind"].tolist() == ["win", "loss", "win"]
    assert s["length"].tolist() == [1, 3, 2]
    assert s["pnl"].tolist() == [2.0, -4.0, 6.0]
    assert streaks(np.empty(0), np.empty(0, np.int64)).empty


def test_tables_of_a_backtest() -> None:
    res = tradekit.backtest(load("aapl"), strategy=SmaCross(10, 50))
    td = trade_distribution(res)
    r = res.trades["r_multiple"].dropna()
    assert td.r_histogram["count"].sum() == len(r)
    inside = ((r >= 1.0) & (r < 1.5)).sum()
    assert td.r_histogram.set_index("bin").loc["[1, 1.5)", "count"] == inside
    assert td.by_weekday["pnl"].sum() == pytest.approx(res.trades["pnl"].sum())
    assert td.by_hour["trades"].sum() == len(res.trades) == len(td.holding)
    assert set(td.by_weekday["day"]) <= {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert (td.holding["holding"] > pd.Timedelta(0)).all()
    assert td.streaks["length"].sum() == len(res.trades)
    assert td.longest_win_streak >= 1 and td.longest_loss_streak >= 1
    assert set(td.tables()) == {
        "trades_r_histogram", "trades_holding", "trades_by_weekday", "trades_by_hour",
        "trades_streaks",
    }  # fmt: skip
