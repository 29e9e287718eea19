"""Options-aware engine on a real synthetic chain: class, strategy, selection, gates 2.5 and 8."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.enums import DecisionAction, Right, TimeframeClass
from tradekit.core.events import Leg, OptionContract, Setup
from tradekit.data.calendar import get_calendar
from tradekit.decision import (
    EventCalendar,
    EventCalendarGate,
    OptionQualityGate,
    OptionsDecisionEngine,
    choose_strategy,
    classify_timeframe,
    greek_cap,
)
from tradekit.decision.option_gates import LegFacts
from tradekit.errors import DataError
from tradekit.options.chain import OptionChain, SyntheticChainProvider
from tradekit.portfolio.base import GreekTotals
from tradekit.testing import StaticAccount

CFG = AlgorithmConfig()
CLASSES = CFG.options.classes
PROVIDER = SyntheticChainProvider(lambda sym, ts: 470.0, 0.15)
NAMES = [
    "signal_integrity", "session_volatility", "option_quality", "factorization",
    "role_assignment", "score_mode", "risk_sizing", "daily_limits", "event_calendar",
]  # fmt: skip


def ny(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


MON_10 = ny("2024-01-08 10:00")


@dataclass
class Market:
    """VIX, IV rank and the real synthetic chain."""

    ivr: float | None = 30.0
    fail: bool = False

    def vix(self, ts_ns: int) -> float | None:
        return 15.0

    def iv_rank(self, symbol: str, ts_ns: int) -> float | None:
        return self.ivr

    def option_chain(self, symbol: str, ts_ns: int) -> OptionChain:
        if self.fail:
            raise DataError("no chain")
        return PROVIDER.chain(symbol, ts_ns)


def mk(
    tf: str = "5min", *, ts: int = MON_10, direction: int = 1, conf: float = 7.5, sym: str = "SPY"
) -> Setup:
    e = 470.0
    return Setup(
        f"{sym}{tf}{ts}{direction}{conf}",
        sym,
        tf,
        ts,
        0,
        direction,
        e,
        e - 2 * direction,
        e + 6 * direction,
        e + 8 * direction,
        e + 10 * direction,
        conf,
        conf,
        4,
        ("FVG", "BOS", "VOLUME_SURGE", "CHOCH"),
    )


def engine(
    market: Market | None = None,
    acct: StaticAccount | None = None,
    events: EventCalendar | None = None,
    cfg: AlgorithmConfig = CFG,
) -> OptionsDecisionEngine:
    return OptionsDecisionEngine(
        cfg,
        account=acct or StaticAccount(),
        market=market or Market(),
        calendar=get_calendar("XNYS"),
        events=events,
    )


def g(d, name: str):
    return next(x for x in d.gates if x.name == name)


class TestIntradayLongOption:
    def test_picks_a_call_inside_the_bands(self) -> None:
        ev = engine().evaluate(mk())
        d, s = ev.decision, ev.structure
        assert [x.name for x in d.gates] == NAMES
        assert d.action is DecisionAction.ENTER, d.block_reason
        assert d.timeframe_class is TimeframeClass.INTRADAY and d.strategy == "long_call"
        p = CLASSES[TimeframeClass.INTRADAY]
        (leg,) = d.legs
        assert leg.contract.right is Right.CALL and leg.ratio == 1
        assert p.delta_min <= abs(leg.delta) <= p.delta_max
        assert p.dte_min <= s.dte <= p.dte_max
        # budget 1 % × 100k × 0.5 (class multiplier) = 500; one contract costs ask × 100
        assert s.max_loss == pytest.approx(leg.price * 100)
        assert d.quantity == math.floor(500 / s.max_loss)
        assert d.risk_amount == pytest.approx(d.quantity * s.max_loss)
        assert ev.exit_plan is not None and ev.exit_plan.flatten_eod
        assert ev.exit_plan.premium_stop_pct == 0.3

    @pytest.mark.parametrize("equity", [40_000.0, 100_000.0, 400_000.0])
    def test_only_contracts_the_budget_can_buy_are_considered(self, equity: float) -> None:
        ev = engine(acct=StaticAccount(equity=equity)).evaluate(mk())
        budget = equity * 0.01 * 0.5  # 1 % risk x the INTRADAY risk multiplier
        if ev.structure is not None:
            assert ev.structure.max_loss <= budget + 1e-9
            assert ev.decision.quantity >= 1
        else:
            assert "affordable with the risk budget" in (ev.decision.block_reason or "")

    def test_nothing_affordable_is_a_clear_skip(self) -> None:
        d = engine(acct=StaticAccount(equity=2_000.0)).decide(mk())  # $10 budget buys no SPY option
        assert d.action is DecisionAction.SKIP
        assert "affordable with the risk budget 10.00" in (d.block_reason or "")

    def test_bearish_setup_buys_a_put(self) -> None:
        d = engine().decide(mk(direction=-1))
        assert d.strategy == "long_put" and d.legs[0].contract.right is Right.PUT

    @pytest.mark.parametrize("when", ["2024-01-08 09:35", "2024-01-08 15:50"])
    def test_class_session_window(self, when: str) -> None:
        d = engine().decide(mk(ts=ny(when)))
        assert not g(d, "session_volatility").passed
        stock = engine().stock.decide(mk(ts=ny(when)))  # 09:30-16:00 for the stock engine
        assert g(stock, "session_volatility").passed

    def test_half_day_window_ends_early(self) -> None:
        d = engine().decide(mk(ts=ny("2024-11-29 12:50")))  # closes 13:00 -> window ends 12:45
        assert not g(d, "session_volatility").passed


class TestSwingStrategies:
    def test_high_iv_sells_a_real_credit_spread(self) -> None:
        ev = engine(Market(ivr=60.0)).evaluate(mk("1h"))
        d, s = ev.decision, ev.structure
        assert d.timeframe_class is TimeframeClass.SWING and d.strategy == "bull_put_credit"
        short = next(leg for leg in d.legs if leg.ratio < 0)
        long = next(leg for leg in d.legs if leg.ratio > 0)
        assert short.contract.strike > long.contract.strike  # sells the nearer-the-money put
        assert s.net_premium < 0 and d.score_breakdown["net_premium"] < 0
        assert d.action is DecisionAction.ENTER, d.block_reason

    def test_low_iv_high_conviction_buys_an_option(self) -> None:
        assert engine().decide(mk("1h", conf=7.5)).strategy == "long_call"

    def test_low_conviction_takes_a_debit_spread(self) -> None:
        d = engine().decide(mk("1h", conf=6.5))
        assert d.strategy == "bull_call_debit" and d.score_breakdown["net_premium"] > 0

    def test_opex_inside_the_holding_period_closes_before(self) -> None:
        ev = engine().evaluate(mk("1h"))
        assert any("OPEX 2024-01-19" in w for w in ev.decision.warnings)
        assert ev.exit_plan is not None
        assert ev.exit_plan.time_stop_ns == ny("2024-01-18 15:45")
        assert g(ev.decision, "event_calendar").passed

    def test_target_dte_picks_the_class(self) -> None:
        d = engine().evaluate(mk("1min"), target_dte=50).decision
        assert d.timeframe_class is TimeframeClass.MONTHLY
        assert g(d, "factorization").threshold == 7.0


class TestOptionSizing:
    def test_greek_limits_cap_contracts(self) -> None:
        acct = StaticAccount(equity=1_000_000.0)
        ev = engine(acct=acct).evaluate(mk("1h"))
        s, d = ev.structure, ev.decision
        raw = math.floor(10_000 / s.max_loss)
        caps = [50, raw]
        caps.append(math.floor(0.05 * 1e6 / abs(s.delta)))
        caps.append(math.floor(0.005 * 1e6 / abs(s.theta_per_day)))
        caps.append(math.floor(0.01 * 1e6 / abs(s.vega_per_point)))
        assert d.quantity == min(caps)

    def test_existing_portfolio_delta_blocks(self) -> None:
        acct = StaticAccount(greeks=GreekTotals(delta=5_000.0))  # already at 5 % of equity
        d = engine(acct=acct).decide(mk("1h"))
        sizing = g(d, "risk_sizing")
        assert not sizing.passed and "delta" in sizing.reason

    def test_hard_contract_cap(self) -> None:
        d = engine(acct=StaticAccount(equity=1e9)).decide(mk("1h"))
        assert d.quantity <= 50

    def test_fomc_halves_the_budget(self) -> None:
        table = pd.DataFrame({"date": ["2024-01-10"], "kind": ["FOMC"]})
        big = StaticAccount(equity=2_000_000.0)
        base = engine(acct=big).evaluate(mk("1h"))
        ev = engine(acct=big, events=EventCalendar(table)).evaluate(mk("1h"))
        assert ev.decision.warnings[1].startswith("FOMC 2024-01-10: reduce")
        assert ev.structure.max_loss == base.structure.max_loss
        assert ev.decision.quantity == math.floor(0.5 * 20_000 / ev.structure.max_loss)


class TestGateEightBlocks:
    def test_three_events_block(self) -> None:
        # two user events + the computed OPEX of 2024-01-19 = 3 warnings
        table = pd.DataFrame({"date": ["2024-01-09", "2024-01-11"], "kind": ["NFP", "CPI"]})
        d = engine(events=EventCalendar(table)).decide(mk("1h"))
        gate = g(d, "event_calendar")
        assert not gate.passed and gate.observed == 3.0 and "OPEX 2024-01-19" in gate.reason
        assert d.action is DecisionAction.SKIP

    def test_earnings_of_the_underlying_are_avoided(self) -> None:
        table = pd.DataFrame({"date": ["2024-01-10"], "kind": ["EARNINGS"], "symbol": ["SPY"]})
        d = engine(events=EventCalendar(table)).decide(mk("1h"))
        assert not g(d, "event_calendar").passed


class TestOptionQualityFailures:
    def test_missing_iv_rank(self) -> None:
        d = engine(Market(ivr=None)).decide(mk("1h"))
        q = g(d, "option_quality")
        assert not q.passed and "IV rank missing" in q.reason

    def test_iv_rank_outside_band(self) -> None:
        d = engine(Market(ivr=85.0)).decide(mk("1h"))  # SWING band 15-70
        assert not g(d, "option_quality").passed and "IV rank" in g(d, "option_quality").reason

    def test_chain_failure_denies_and_records_every_gate(self) -> None:
        d = engine(Market(fail=True)).decide(mk("1h"))
        assert [x.name for x in d.gates] == NAMES
        assert d.block_reason is not None and "selection failed" in d.block_reason
        assert d.quantity == 0 and d.legs == ()

    def test_non_option_symbol_uses_the_stock_engine(self) -> None:
        ev = engine().evaluate(mk(sym="AAPL"))
        assert len(ev.decision.gates) == 7 and ev.decision.legs == ()
        assert ev.exit_plan is not None and ev.exit_plan.stop == 468.0
        assert ev.exit_plan.targets == (476.0, 478.0, 480.0)

    def test_shadow_mode(self) -> None:
        cfg = CFG.with_overrides({"decision.mode": "SHADOW"})
        assert engine(cfg=cfg).decide(mk()).action is DecisionAction.SHADOW


def _facts(
    *,
    ratio: int = 1,
    right: Right = Right.CALL,
    bid: float = 2.0,
    ask: float = 2.1,
    delta: float = 0.5,
    theta: float = -0.02,
    volume: float = 1000.0,
    oi: float = 2000.0,
    dte: int = 30,
) -> LegFacts:
    c = OptionContract("SPY", dt.date(2024, 2, 16), 470.0, right)
    return LegFacts(
        Leg(c, ratio, ask, delta),
        bid,
        ask,
        (bid + ask) / 2,
        delta,
        0.01,
        theta,
        0.5,
        volume,
        oi,
        dte,
    )


class _Ctx:
    def __init__(
        self, facts: list[LegFacts], ivr: float | None = 30.0, premium: float = 2.1
    ) -> None:
        self.extra = {
            "structure": object(),
            "legs": facts,
            "iv_rank": ivr,
            "strategy": "long_option",
            "net_premium": premium,
        }


class TestQualityGateUnits:
    gate = OptionQualityGate(CLASSES[TimeframeClass.SWING])

    @pytest.mark.parametrize(
        ("facts", "check"),
        [
            (_facts(volume=100, oi=100), "liquidity"),
            (_facts(bid=1.0, ask=2.0), "spread"),
            (_facts(dte=60), "dte"),
            (_facts(delta=0.9), "delta"),
            (_facts(theta=-0.1), "theta"),
            (_facts(theta=-0.1, right=Right.PUT, delta=-0.5), "theta"),  # puts pay theta too
        ],
    )
    def test_fail(self, facts: LegFacts, check: str) -> None:
        r = self.gate.evaluate(_Ctx([facts]))  # type: ignore[arg-type]
        assert not r.passed and r.observed == check

    def test_pass(self) -> None:
        assert self.gate.evaluate(_Ctx([_facts()])).passed  # type: ignore[arg-type]

    def test_credit_spread_has_no_theta_cost(self) -> None:
        assert self.gate.evaluate(_Ctx([_facts(theta=-0.5)], premium=-1.0)).passed  # type: ignore[arg-type]

    def test_event_gate_without_calendar(self) -> None:
        r = EventCalendarGate(3).evaluate(_Ctx([]))  # type: ignore[arg-type]
        assert r.passed


def test_greek_cap_hand_numbers() -> None:
    acct = StaticAccount(greeks=GreekTotals(delta=1_000.0, theta=-100.0, vega=0.0)).summary()
    unit = GreekTotals(delta=50.0, theta=-10.0, vega=40.0)
    # delta: (5000 - 1000) / 50 = 80; theta: (500 - 100) / 10 = 40; vega: 1000 / 40 = 25
    assert greek_cap(acct, unit, CFG.risk) == (25, "vega")
    # an opposite-sign unit can go further: delta (5000 + 1000) / 50 = 120
    assert greek_cap(acct, GreekTotals(delta=-50.0), CFG.risk) == (120, "delta")


@pytest.mark.parametrize(
    ("tf", "dte", "expected"),
    [
        ("1min", None, "INTRADAY"),
        ("30min", None, "INTRADAY"),
        ("1h", None, "SWING"),
        ("1D", None, "SWING"),
        ("1W", None, "MONTHLY"),
        ("1min", 3, "INTRADAY"),
        ("1min", 30, "SWING"),
        ("1min", 55, "MONTHLY"),
        ("1h", 400, "LEAPS"),
    ],
)
def test_classify_timeframe(tf: str, dte: int | None, expected: str) -> None:
    assert classify_timeframe(tf, dte).value == expected


def test_choose_strategy_table() -> None:
    p, o = CLASSES[TimeframeClass.SWING], CFG.options
    assert choose_strategy(p, 55.0, 5.0, o)[0] == "credit_spread"
    assert choose_strategy(p, 20.0, 7.0, o)[0] == "long_option"
    assert choose_strategy(p, 20.0, 6.9, o)[0] == "debit_spread"
    assert choose_strategy(p, None, 6.0, o)[0] == "debit_spread"
    assert choose_strategy(CLASSES[TimeframeClass.INTRADAY], 90.0, 5.0, o)[0] == "long_option"
