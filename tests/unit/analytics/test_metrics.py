"""Performance metrics against hand-computed values and against empyrical's formulas."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradekit.analytics.metrics import (
    drawdown,
    performance,
    periods_per_year,
    returns_of,
    stats_to_json,
)

empyrical = pytest.importorskip("empyrical")

DAYS = pd.date_range("2024-01-01", periods=6, freq="B", tz="UTC").as_unit("ns")


def test_hand_computed_daily_curve() -> None:
    # 100 -> 110 -> 99 -> 99 -> 108.9 -> 121: returns +10%, -10%, 0, +10%, +11.11%
    eq = pd.Series([100.0, 110.0, 99.0, 99.0, 108.9, 121.0], index=DAYS)
    st = performance(eq)
    r = np.array([0.1, -0.1, 0.0, 0.1, 121.0 / 108.9 - 1])
    assert st["bars"] == 6 and st["periods_per_year"] == 252.0
    assert st["total_return"] == pytest.approx(0.21)
    assert st["annual_return"] == pytest.approx(1.21 ** (252 / 5) - 1)
    assert st["volatility"] == pytest.approx(r.std(ddof=1) * math.sqrt(252))
    assert st["sharpe"] == pytest.approx(r.mean() / r.std(ddof=1) * math.sqrt(252))
    down = math.sqrt((0.1**2) / 5)  # only the -10% day is below zero
    assert st["sortino"] == pytest.approx(r.mean() * 252 / (down * math.sqrt(252)))
    assert st["max_drawdown"] == pytest.approx(-0.1)  # 110 -> 99
    # peak 110 on day 1, back above only on day 5 (121): 3 marks under water, 3 business days
    assert st["max_drawdown_bars"] == 3
    assert st["max_drawdown_duration"] == DAYS[4] - DAYS[1]
    assert st["calmar"] == pytest.approx(st["annual_return"] / 0.1)
    assert st["trades"] == 0 and math.isnan(st["win_rate"]) and st["exposure"] == 0.0


def test_initial_equity_is_the_first_peak_and_first_return() -> None:
    eq = pd.Series([95.0, 100.0, 104.0], index=DAYS[:3])
    st = performance(eq, initial_equity=100.0)
    assert st["total_return"] == pytest.approx(0.04) and st["initial_equity"] == 100.0
    assert st["max_drawdown"] == pytest.approx(-0.05)
    assert returns_of(eq, 100.0).tolist() == pytest.approx([-0.05, 100 / 95 - 1, 0.04])
    assert drawdown(eq, 100.0).tolist() == pytest.approx([-0.05, 0.0, 0.0])


def test_trade_figures_hand_computed() -> None:
    eq = pd.Series(np.linspace(100, 110, 6), index=DAYS)
    trades = pd.DataFrame({
        "pnl": [30.0, -10.0, 20.0, -20.0],
        "r_multiple": [1.5, -0.5, 1.0, np.nan],
        "entry_ts_ns": DAYS.asi8[[0, 1, 3, 3]],
        "exit_ts_ns": DAYS.asi8[[1, 2, 4, 5]],
    })  # fmt: skip
    st = performance(eq, trades)
    assert st["trades"] == 4 and st["win_rate"] == 0.5
    assert st["profit_factor"] == pytest.approx(50 / 30) and st["expectancy"] == 5.0
    assert st["avg_r"] == pytest.approx(2.0 / 3.0)  # NaN R excluded
    assert (st["best_trade"], st["worst_trade"]) == (30.0, -20.0)
    # open at marks 0 (trade 1), 1 (trade 2), 3 and 4 (trades 3/4): 4 of 6 marks
    assert st["exposure"] == pytest.approx(4 / 6)
    assert st["avg_holding"] == pd.Timedelta(days=(1 + 1 + 1 + 4) / 4)  # Thu -> Mon is 4 days
    store_style = trades.assign(
        entry_ts=pd.to_datetime(trades["entry_ts_ns"], utc=True),
        exit_ts=pd.to_datetime(trades["exit_ts_ns"], utc=True),
    ).drop(columns=["entry_ts_ns", "exit_ts_ns"])
    assert performance(eq, store_style).equals(st)
    no_loss = performance(eq, trades[trades["pnl"] > 0])
    assert no_loss["profit_factor"] == math.inf


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_against_empyrical_on_random_daily_returns(seed: int) -> None:
    rng = np.random.default_rng(seed)
    r = pd.Series(
        rng.normal(0.0005, 0.012, 750),
        index=pd.date_range("2020-01-01", periods=750, freq="B", tz="UTC"),
    )
    eq = 1e5 * (1 + r).cumprod()
    st = performance(eq, initial_equity=1e5, risk_free=0.0)
    assert st["annual_return"] == pytest.approx(empyrical.annual_return(r), rel=1e-9)
    assert st["volatility"] == pytest.approx(empyrical.annual_volatility(r), rel=1e-9)
    assert st["sharpe"] == pytest.approx(empyrical.sharpe_ratio(r), rel=1e-9)
    assert st["sortino"] == pytest.approx(empyrical.sortino_ratio(r), rel=1e-9)
    assert st["max_drawdown"] == pytest.approx(empyrical.max_drawdown(r), rel=1e-9)
    assert st["calmar"] == pytest.approx(empyrical.calmar_ratio(r), rel=1e-9)
    # intraday: the same formulas with the bar frequency's factor
    assert performance(eq, initial_equity=1e5, periods=98280.0)["sharpe"] == pytest.approx(
        empyrical.sharpe_ratio(r, annualization=98280), rel=1e-9
    )
    # a risk-free rate: empyrical takes it per period
    rf = 0.03
    per = (1 + rf) ** (1 / 252) - 1
    assert performance(eq, initial_equity=1e5, risk_free=rf)["sharpe"] == pytest.approx(
        empyrical.sharpe_ratio(r, risk_free=per), rel=1e-9
    )


def test_periods_per_year_from_the_bar_frequency() -> None:
    weeks = pd.date_range("2024-01-05", periods=10, freq="W-FRI", tz="UTC")
    assert periods_per_year(weeks) == 52.0
    hours = pd.date_range("2024-01-01", periods=24 * 5, freq="h", tz="UTC")
    assert periods_per_year(hours) == 252.0 * 24
    assert math.isnan(periods_per_year(hours[:1]))


def test_empty_and_json() -> None:
    st = performance(pd.Series([], dtype=float, index=pd.DatetimeIndex([], tz="UTC")))
    assert st["bars"] == 0 and st["trades"] == 0
    eq = pd.Series([100.0, 101.0, 99.0], index=DAYS[:3])
    js = stats_to_json(performance(eq))
    import json

    text = json.dumps(js)
    assert js["start"].startswith("2024-01-01") and js["max_drawdown_duration_s"] == 86400.0
    assert "NaN" not in text and js["win_rate"] is None
