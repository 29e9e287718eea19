"""``tradekit.backtest`` with ``SmaCross``: the user strategy's setups go through the very same
gates, pre-trade risk checks, paper broker and ledger as the built-in algorithm."""

from __future__ import annotations

import pandas as pd
import pytest

import tradekit
from tradekit.config import AlgorithmConfig
from tradekit.data.datasets import load, synthetic_intraday
from tradekit.strategy import SmaCross, strategy_config

GATES = [
    "signal_integrity", "session_volatility", "factorization", "role_assignment",
    "score_mode", "risk_sizing", "daily_limits",
]  # fmt: skip


@pytest.fixture(scope="module")
def aapl() -> pd.DataFrame:
    return load("aapl")


def test_sma_cross_through_the_whole_engine(aapl: pd.DataFrame) -> None:
    res = tradekit.backtest(aapl, strategy=SmaCross(10, 50))
    assert res.strategy == "sma_cross_10_50" and res.config.symbols == ("AAPL",)
    assert res.config.timeframe == "1D" and len(res.equity) == len(aapl)
    # gates: every decision carries all seven gates, recorded after a block too
    assert len(res.setups) == len(res.decisions) > 10
    for gates in res.decisions["gates"]:
        assert [g["name"] for g in gates] == GATES
    assert (res.setups["active_signals"].map(tuple) == ("SMA_CROSS",)).all()
    # broker: one entry order per ENTER decision, filled at the next bar's open
    enter = res.decisions[res.decisions["action"] == "ENTER"]
    entries = res.orders[res.orders["tag"] == "entry"]
    assert set(entries["decision_id"]) == set(enter["id"]) and len(entries) == len(enter)
    tags = set(res.orders["tag"])
    assert "exit:strategy" in tags and "exit:stop" in tags  # both exit paths happened
    fills = res.fills.merge(entries[["id"]], left_on="order_id", right_on="id")
    assert len(fills) > 0
    decided = dict(zip(enter["id"], enter["ts_ns"], strict=True))
    opens = aapl["open"]
    for _, f in fills.iterrows():
        dec_bar = pd.Timestamp(decided[f["decision_id"]], tz="UTC")
        next_bar = opens.index[opens.index.get_loc(dec_bar) + 1]
        assert pd.Timestamp(f["ts_ns"], tz="UTC") == next_bar
        assert f["price"] == pytest.approx(opens[next_bar], rel=2e-4)  # 1 bp slippage
    # ledger: trades are round trips of those fills, equity ends where the trades say
    assert len(res.trades) >= len(entries) - 1
    pnl = res.trades["pnl"].sum()
    open_pnl = res.equity.iloc[-1] - 100_000.0 - pnl
    assert abs(open_pnl) < 0.2 * 100_000.0
    assert res.summary["trades"] == len(res.trades) and res.engine is None


def test_own_config_without_the_overrides_blocks_at_gate_one(aapl: pd.DataFrame) -> None:
    cfg = AlgorithmConfig(symbols=("AAPL",), timeframe="1D")
    res = tradekit.backtest(aapl.iloc[:800], cfg, SmaCross(10, 50), market=lambda ts: 18.0)
    assert len(res.decisions) > 0 and (res.decisions["action"] == "SKIP").all()
    assert res.decisions["block_reason"].str.startswith("signal_integrity").all()
    fixed = tradekit.backtest(
        aapl.iloc[:800], strategy_config(SmaCross(10, 50), cfg), SmaCross(10, 50),
        market=lambda ts: 18.0,
    )  # fmt: skip
    assert (fixed.decisions["action"] == "ENTER").any()


def test_risk_engine_sizes_and_limits_user_setups(aapl: pd.DataFrame) -> None:
    """Sizing is the engine's: 1 % of equity at risk, capped at 20 % of equity per symbol."""
    res = tradekit.backtest(aapl, strategy=SmaCross(10, 50))
    enter = res.decisions[res.decisions["action"] == "ENTER"]
    top = float(res.equity.max())
    notional = enter["quantity"] * enter["entry"]
    assert (notional <= 0.2 * top + 1e-6).all()
    assert (enter["risk_amount"] <= 0.01 * top + 1e-6).all()
    assert (enter["quantity"] >= 1).all()


def test_intraday_synthetic_sma_cross_runs_inside_the_session() -> None:
    bars = synthetic_intraday("SPY", start="2024-03-04", days=3, seed=2)
    res = tradekit.backtest(bars, strategy=SmaCross(5, 20), market=lambda ts: 15.0)
    assert res.config.timeframe == "1min" and res.config.decision.vix_missing_policy == "block"
    assert len(res.decisions) > 5
    assert (res.decisions["action"] == "ENTER").any()
    reasons = res.decisions["block_reason"].dropna()
    assert not reasons.str.startswith(("factorization", "role_assignment")).any()
