"""DECISIONS.md lists what the origin system got wrong. Each item, checked through the real Engine
on real AAPL daily bars (unit tests pin each one more narrowly in its own package)."""

from __future__ import annotations

import math
from functools import lru_cache

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.enums import Side
from tradekit.data import datasets
from tradekit.runtime.backtest import BacktestResult, run_backtest, summarize

COSTS = {
    "slippage": {"kind": "fixed_bps", "bps": 5.0},
    "commission": {"kind": "per_share", "per_share": 0.01},
}


def cfg(**sections: object) -> AlgorithmConfig:
    base: dict[str, object] = {"symbols": ("AAPL",), "timeframe": "1D", "execution": COSTS}
    return AlgorithmConfig.parse({**base, **sections})


@lru_cache(maxsize=4)
def bars() -> pd.DataFrame:
    return datasets.load("aapl").iloc[:1200]


@lru_cache(maxsize=1)
def traded() -> BacktestResult:
    return run_backtest(bars(), cfg(), market=lambda ts: 18.0, keep_engine=True)


def test_session_is_checked_on_bar_time_not_the_wall_clock() -> None:
    res = traded()
    entered = res.decisions[res.decisions["action"] == "ENTER"]
    assert len(entered) > 0 and entered["ts"].max().year <= 2005  # decided in the past, today
    for gates in entered["gates"]:
        session = next(g for g in gates if g["name"] == "session_volatility")
        assert session["passed"] and "NY inside session" in session["reason"]


def test_missing_vix_blocks_instead_of_failing_open() -> None:
    res = run_backtest(bars(), cfg(), market=None)
    assert len(res.decisions) > 0 and (res.decisions["action"] == "SKIP").all()
    assert res.decisions["block_reason"].str.contains("VIX").any()
    allowed = run_backtest(bars(), cfg(decision={"vix_missing_policy": "allow"}), market=None)
    reasons = [
        g["reason"]
        for gates in allowed.decisions["gates"]
        for g in gates
        if g["name"] == "session_volatility"
    ]
    assert any("allow" in r.lower() for r in reasons)  # recorded as allowed, never silent


def test_slippage_is_applied_to_price_and_cash_and_commission_is_charged_on_sells() -> None:
    res = traded()
    fills = res.fills
    tags = dict(zip(res.orders["id"], res.orders["tag"], strict=True))
    market_entries = fills[fills["order_id"].map(tags) == "entry"]
    assert (
        len(market_entries) > 0 and (market_entries["slippage"] > 0).all()
    )  # resting limits pay none
    assert (fills["slippage"] >= 0).all() and (fills["commission"] > 0).all()
    sells = fills[fills["side"] == int(Side.SELL)]
    assert len(sells) > 0 and (sells["commission"] > 0).all()
    engine = res.engine
    assert engine is not None
    ledger = engine.ledger
    flow = sum(
        -int(f.side) * f.quantity * f.price * f.multiplier - f.commission
        for f in (row for row in engine_fills(res))
    )
    assert ledger.cash == pytest.approx(ledger.initial_cash + flow)


def engine_fills(res: BacktestResult) -> list:
    from tradekit.core.events import Fill

    cols = [c for c in res.fills.columns if c != "ts"]
    return [Fill(**{k: r[k] for k in cols}) for r in res.fills.to_dict("records")]


def test_stop_and_targets_are_never_stored_as_zero() -> None:
    entered = traded().decisions.query("action == 'ENTER'")
    assert (entered["stop"] > 0).all()
    assert all(all(t > 0 and math.isfinite(t) for t in ts) for ts in entered["targets"])


def test_shorts_have_negative_quantity_and_closing_never_opens_another_position() -> None:
    res = traded()
    engine = res.engine
    assert engine is not None
    assert (res.decisions.query("action == 'ENTER'")["direction"] == -1).any()
    net: dict[str, float] = {}
    for f in engine_fills(res):  # replay the fills: an exit never flips through zero
        before = net.get(f.symbol, 0.0)
        after = before + int(f.side) * f.quantity
        if f.id and before != 0 and math.copysign(1, after) != math.copysign(1, before):
            assert after == 0, f"fill {f.id} flipped {before} -> {after}"
        net[f.symbol] = after
    for pos in engine.ledger.positions.values():
        assert pos.qty == net.get(pos.symbol, 0.0)
    short_trades = (
        res.trades[res.trades["direction"] < 0] if "direction" in res.trades else res.trades
    )
    assert len(short_trades) > 0


def test_limits_are_enforced_not_just_stored() -> None:
    res = run_backtest(bars(), cfg(risk={"max_open_positions": 0}), market=lambda ts: 18.0)
    assert res.summary["fills"] == 0
    assert res.orders.empty or (res.orders["status"] == "REJECTED").all()
    gates = [g for gs in res.decisions["gates"] for g in gs if g["name"] == "risk_sizing"]
    assert gates and not any(g["passed"] for g in gates)


def test_summary_numbers_are_computed_from_the_data() -> None:
    eq = pd.Series([100.0, 110.0, 99.0, 120.0])
    trades = pd.DataFrame({"pnl": [10.0, -11.0, 21.0]})
    s = summarize(eq, trades, 100.0)
    assert s["max_drawdown"] == pytest.approx(99 / 110 - 1)
    assert s["win_rate"] == pytest.approx(2 / 3) and s["profit_factor"] == pytest.approx(31 / 11)
    assert traded().summary["fills"] == len(traded().fills)


def test_credit_spreads_are_credits() -> None:
    """Priced and booked as credits: see tests/unit/execution/test_execution_options.py and
    tests/unit/decision/test_decision_options_engine.py; here through the real synthetic chain."""
    from tradekit.config import OptionClassParams
    from tradekit.core.enums import TimeframeClass
    from tradekit.options.chain import SyntheticChainProvider
    from tradekit.options.selection import select_vertical

    ts = pd.Timestamp("2024-03-05 15:00", tz="UTC").value
    chain = SyntheticChainProvider(lambda s, t: 500.0, lambda s, t: 0.2).chain("SPY", ts)
    params: OptionClassParams = AlgorithmConfig().options.classes[TimeframeClass.SWING]
    spread = select_vertical(chain, +1, "credit", params, 0.025, 0.10)
    assert spread is not None and spread.net_premium < 0 and spread.max_gain > 0
    short_leg = next(leg for leg in spread.legs if leg.ratio < 0)
    long_leg = next(leg for leg in spread.legs if leg.ratio > 0)
    assert short_leg.contract.strike > long_leg.contract.strike  # bull put: sell the nearer strike
