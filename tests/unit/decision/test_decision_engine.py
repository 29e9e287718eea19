"""The directional decision engine: every gate's pass and fail path, on bar time."""

from __future__ import annotations

import time
from dataclasses import replace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.enums import DecisionAction, TradeMode
from tradekit.core.events import Decision, Setup
from tradekit.data.calendar import get_calendar
from tradekit.decision import DecisionEngine
from tradekit.portfolio.base import AccountView
from tradekit.testing import StaticAccount

NAMES = [
    "signal_integrity",
    "session_volatility",
    "factorization",
    "role_assignment",
    "score_mode",
    "risk_sizing",
    "daily_limits",
]


def ny(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


MON_10 = ny("2024-01-08 10:00")


def mk(
    kinds: tuple[str, ...] = ("FVG", "BOS", "VOLUME_SURGE"),
    *,
    ts: int = MON_10,
    sid: str = "s1",
    symbol: str = "SPY",
    direction: int = 1,
    entry: float = 10.0,
    stop: float = 8.0,
    tp1: float = 14.0,
    confidence: float = 7.0,
    count: int | None = None,
) -> Setup:
    return Setup(
        id=sid,
        symbol=symbol,
        timeframe="1min",
        ts_ns=ts,
        index=0,
        direction=direction,
        entry=entry,
        stop=stop,
        tp1=tp1,
        tp2=tp1 + 1,
        tp3=tp1 + 2,
        confidence=confidence,
        score=confidence,
        confluence_count=len(kinds) if count is None else count,
        active_signals=kinds,
    )


def engine(
    acct: AccountView | None = None, vix: float | None = 15.0, **over: object
) -> DecisionEngine:
    cfg = AlgorithmConfig().with_overrides(over) if over else AlgorithmConfig()
    return DecisionEngine(
        cfg, account=acct or StaticAccount(), market=lambda ts: vix, calendar=get_calendar("XNYS")
    )


def gate(d: Decision, name: str):
    return next(g for g in d.gates if g.name == name)


class TestHappyPath:
    def test_enter_with_all_seven_gates(self) -> None:
        d = engine().decide(mk())
        assert d.action is DecisionAction.ENTER
        assert [g.name for g in d.gates] == NAMES
        assert all(g.passed and not g.evaluated_after_block for g in d.gates)
        assert d.block_reason is None
        # 1% of 100k = 1000; |10 - 8| = 2 -> 500 shares; 500 * 10 = 5000 <= 20% of equity
        assert d.quantity == 500 and d.risk_amount == 1000.0
        assert d.expected_rr == 2.0 and d.mode is TradeMode.TREND
        assert d.score_breakdown["total"] == 7.5
        assert d.config_hash == AlgorithmConfig().content_hash
        assert d.processing_time_us > 0

    def test_decision_ids_are_deterministic(self) -> None:
        assert engine().decide(mk()).id == engine().decide(mk()).id


class TestSignalIntegrity:
    @pytest.mark.parametrize(
        ("setup", "fragment"),
        [
            (mk(confidence=5.0), "confidence"),
            (mk(count=1), "confluence"),
            (mk(()), "confluence"),
            (mk((), count=3), "no active signals"),
            (mk(("FVG", "NOPE")), "unknown signal kinds"),
            (mk(stop=10.0), "losing side"),  # entry == stop: rejected, never divided by
            (mk(stop=11.0), "losing side"),
            (mk(tp1=9.0), "winning side"),
            (mk(entry=float("nan")), "finite"),
            (mk(stop=-1.0), "finite"),
            (mk(direction=0), "direction"),
        ],
    )
    def test_fail(self, setup: Setup, fragment: str) -> None:
        d = engine().decide(setup)
        g = d.gates[0]
        assert not g.passed and fragment in g.reason
        assert d.action is DecisionAction.SKIP
        assert d.block_reason is not None and d.block_reason.startswith("signal_integrity")

    def test_entry_equals_stop_records_all_gates_without_error(self) -> None:
        d = engine().decide(mk(stop=10.0))
        assert len(d.gates) == 7
        assert all(g.evaluated_after_block for g in d.gates[1:])
        assert d.quantity == 0

    def test_short_setup_passes(self) -> None:
        d = engine().decide(mk(direction=-1, entry=10.0, stop=12.0, tp1=6.0))
        assert d.action is DecisionAction.ENTER and d.quantity == 500


class TestSessionOnBarTime:
    def test_monday_10am_passes_whatever_the_wall_clock(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        saturday_night = ny("2030-06-08 03:00") // 1_000_000_000
        monkeypatch.setattr(time, "time", lambda: float(saturday_night))
        monkeypatch.setattr(time, "time_ns", lambda: saturday_night * 1_000_000_000)
        d = engine().decide(mk(ts=MON_10))
        assert gate(d, "session_volatility").passed

    def test_saturday_bar_fails_while_the_wall_clock_says_monday_10am(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monday = ny("2024-01-08 10:00") // 1_000_000_000  # origin bug: session on the wall clock
        monkeypatch.setattr(time, "time", lambda: float(monday))
        monkeypatch.setattr(time, "time_ns", lambda: monday * 1_000_000_000)
        d = engine().decide(mk(ts=ny("2024-01-06 10:00")))
        assert not gate(d, "session_volatility").passed

    @pytest.mark.parametrize(
        "when",
        [
            "2024-01-06 10:00",  # Saturday
            "2024-07-04 10:00",  # Independence Day
            "2024-11-29 13:30",  # half day, closed at 13:00
            "2024-01-08 09:00",  # before the open
            "2024-01-08 16:00",  # at the close
        ],
    )
    def test_closed_times_fail(self, when: str) -> None:
        d = engine().decide(mk(ts=ny(when)))
        g = gate(d, "session_volatility")
        assert not g.passed
        assert d.block_reason is not None and d.block_reason.startswith("session_volatility")

    def test_half_day_morning_passes(self) -> None:
        assert gate(engine().decide(mk(ts=ny("2024-11-29 12:30"))), "session_volatility").passed

    def test_summer_time_uses_new_york_offset(self) -> None:
        assert gate(engine().decide(mk(ts=ny("2024-07-08 09:31"))), "session_volatility").passed


class TestVix:
    def test_missing_blocks_by_default(self) -> None:
        d = engine(vix=None).decide(mk())
        g = gate(d, "session_volatility")
        assert not g.passed and g.observed == "missing" and "block" in g.reason
        assert d.action is DecisionAction.SKIP

    @pytest.mark.parametrize("bad", [None, float("nan"), 0.0, -3.0])
    def test_missing_allowed_is_recorded(self, bad: float | None) -> None:
        d = engine(vix=bad, **{"decision.vix_missing_policy": "allow"}).decide(mk())
        g = gate(d, "session_volatility")
        assert g.passed and g.observed == "missing" and "allow" in g.reason
        assert d.action is DecisionAction.ENTER

    def test_high_vix_blocks(self) -> None:
        g = gate(engine(vix=30.5).decide(mk()), "session_volatility")
        assert not g.passed and g.observed == 30.5

    def test_vix_at_limit_passes(self) -> None:
        assert gate(engine(vix=30.0).decide(mk()), "session_volatility").passed


class TestFactorizationAndRoles:
    def test_factor_score_below_threshold(self) -> None:
        d = engine().decide(mk(("FVG", "BOS")))  # 3.0 + 2.5 = 5.5
        g = gate(d, "factorization")
        assert not g.passed and g.observed == 5.5 and g.threshold == 6.0

    def test_factor_score_counts_each_signal(self) -> None:
        d = engine().decide(mk(("FVG", "DISPLACEMENT")))  # 6.0 but one family
        assert gate(d, "factorization").passed
        roles = gate(d, "role_assignment")
        assert not roles.passed and roles.observed == 1.0

    def test_primary_is_highest_weight_ties_to_the_earlier(self) -> None:
        d = engine().decide(mk(("BOS", "DISPLACEMENT", "FVG", "ORB", "SMT")))
        g = gate(d, "role_assignment")
        assert g.passed and g.observed == 3.0
        assert "primary DISPLACEMENT" in g.reason  # tie with FVG at 3.0: the earlier one
        assert "['BOS', 'ORB']" in g.reason  # structure 2.5 first, then the earlier of the 2.0s


class TestScoreAndMode:
    def test_reversal_needs_three_r(self) -> None:
        d = engine().decide(mk(("SWEEP_LOW", "SMT", "FVG")))  # liquidity 4.0 beats 0, 0
        assert d.mode is TradeMode.REVERSAL
        g = gate(d, "score_mode")
        assert not g.passed and g.threshold == 3.0 and g.observed == 2.0

    def test_reversal_passes_and_risk_is_halved(self) -> None:
        d = engine().decide(mk(("SWEEP_LOW", "SMT", "FVG"), tp1=16.0))
        assert d.action is DecisionAction.ENTER and d.mode is TradeMode.REVERSAL
        assert d.quantity == 250 and d.risk_amount == 500.0  # 0.5% of 100k / 2

    def test_breakout(self) -> None:
        d = engine().decide(mk(("VOLUME_SURGE", "ORB", "FVG")))
        assert d.mode is TradeMode.BREAKOUT and gate(d, "score_mode").passed

    def test_trend_below_two_r_fails(self) -> None:
        g = gate(engine().decide(mk(tp1=13.0)), "score_mode")
        assert not g.passed and g.observed == 1.5 and g.threshold == 2.0


class TestRiskSizing:
    def test_capped_by_symbol_notional(self) -> None:
        # 1000 / 1 = 1000 shares of a $100 stock = 100k > 20% of equity -> 200 shares
        d = engine().decide(mk(entry=100.0, stop=99.0, tp1=102.0))
        assert d.quantity == 200 and "symbol_notional" in gate(d, "risk_sizing").reason

    def test_existing_symbol_notional_counts(self) -> None:
        d = engine(StaticAccount(notional=19_000.0, qty=10)).decide(
            mk(entry=100.0, stop=99.0, tp1=102.0)
        )
        assert d.quantity == 10

    def test_symbol_full_blocks(self) -> None:
        d = engine(StaticAccount(notional=20_000.0, qty=10)).decide(mk())
        g = gate(d, "risk_sizing")
        assert not g.passed and g.observed == 0.0

    def test_total_exposure_cap(self) -> None:
        d = engine(StaticAccount(gross=99_000.0)).decide(mk())  # 1000 headroom / $10 = 100
        assert d.quantity == 100 and "exposure" in gate(d, "risk_sizing").reason

    def test_max_open_positions(self) -> None:
        g = gate(engine(StaticAccount(open_positions=5)).decide(mk()), "risk_sizing")
        assert not g.passed and "open positions" in g.reason

    def test_open_positions_do_not_block_adding_to_a_held_symbol(self) -> None:
        assert gate(
            engine(StaticAccount(open_positions=5, qty=3)).decide(mk()), "risk_sizing"
        ).passed

    def test_quantity_below_one(self) -> None:
        d = engine(StaticAccount(equity=100.0, sod=100.0)).decide(mk())  # 1.0 / 2.0 -> 0 shares
        assert not gate(d, "risk_sizing").passed

    def test_hard_share_limit(self) -> None:
        d = engine(StaticAccount(equity=5e6, sod=5e6)).decide(mk(entry=1.0, stop=0.5, tp1=2.0))
        assert d.quantity == 10_000  # HardLimits.MAX_SHARES_PER_ORDER


class TestDailyLimitsAndCooldowns:
    def test_trades_per_day(self) -> None:
        eng = engine(
            **{
                "decision.cooldown_symbol_minutes": 0,
                "decision.cooldown_kind_minutes": 0,
                "decision.cooldown_global_minutes": 0,
            }
        )
        for i in range(5):
            assert (
                eng.decide(mk(sid=f"s{i}", ts=MON_10 + i * 60_000_000_000)).action
                is DecisionAction.ENTER
            )
        d = eng.decide(mk(sid="s5", ts=MON_10 + 300_000_000_000))
        g = gate(d, "daily_limits")
        assert not g.passed and g.observed == 5.0
        next_day = eng.decide(mk(sid="s6", ts=MON_10 + 86_400_000_000_000))
        assert next_day.action is DecisionAction.ENTER

    def test_daily_loss(self) -> None:
        g = gate(engine(StaticAccount(day_pnl=-2_500.0)).decide(mk()), "daily_limits")
        assert not g.passed and g.threshold == -2_500.0
        assert gate(engine(StaticAccount(day_pnl=-2_499.0)).decide(mk()), "daily_limits").passed

    def test_symbol_cooldown_15_minutes(self) -> None:
        eng = engine()
        assert eng.decide(mk()).action is DecisionAction.ENTER
        other = ("SWEEP_LOW", "STRAT_212", "DISPLACEMENT")
        d = eng.decide(mk(other, sid="b", ts=MON_10 + 14 * 60_000_000_000, tp1=16.0))
        assert gate(d, "daily_limits").observed == "symbol"
        d2 = eng.decide(mk(other, sid="c", ts=MON_10 + 15 * 60_000_000_000, tp1=16.0))
        assert d2.action is DecisionAction.ENTER

    def test_kind_cooldown_10_minutes_across_symbols(self) -> None:
        eng = engine()
        eng.decide(mk())
        d = eng.decide(mk(symbol="QQQ", sid="q", ts=MON_10 + 9 * 60_000_000_000))
        assert gate(d, "daily_limits").observed == "kind:FVG"
        d2 = eng.decide(mk(symbol="QQQ", sid="q2", ts=MON_10 + 10 * 60_000_000_000))
        assert d2.action is DecisionAction.ENTER

    def test_global_cooldown_after_three_entries_in_an_hour(self) -> None:
        eng = engine()
        t = MON_10
        kinds = [
            ("FVG", "BOS", "VOLUME_SURGE"),
            ("DISPLACEMENT", "CHOCH", "ORB"),
            ("BREAKER", "MSS", "STRAT_212"),
        ]
        for i, (sym, k) in enumerate(zip(("A", "B", "C"), kinds, strict=True)):
            assert (
                eng.decide(mk(k, symbol=sym, sid=sym, ts=t + i * 60_000_000_000)).action
                is DecisionAction.ENTER
            )
        d = eng.decide(mk(symbol="D", sid="D", ts=t + 31 * 60_000_000_000))
        assert gate(d, "daily_limits").observed == "global"
        d2 = eng.decide(mk(symbol="D", sid="D2", ts=t + 32 * 60_000_000_000))
        assert d2.action is DecisionAction.ENTER

    def test_state_round_trip_keeps_cooldowns(self) -> None:
        eng = engine()
        eng.decide(mk())
        state = eng.state_dict()
        fresh = engine()
        fresh.load_state_dict(state)
        d = fresh.decide(mk(sid="again", ts=MON_10 + 60_000_000_000))
        assert gate(d, "daily_limits").observed == "symbol"
        assert fresh.state_dict() == eng.state_dict()

    def test_bad_state_is_a_value_error(self) -> None:
        with pytest.raises(ValueError):
            engine().load_state_dict({"entries": {"entries": [[1]], "per_day": {}}})


class TestRecordingAndModes:
    def test_gates_after_block_are_evaluated_and_marked(self) -> None:
        d = engine(vix=None).decide(mk(("FVG", "BOS")))  # gate 2 and gate 3 fail
        assert [g.evaluated_after_block for g in d.gates] == [False, False] + [True] * 5
        assert d.block_reason is not None and d.block_reason.startswith("session_volatility")
        assert not gate(d, "factorization").passed

    def test_shadow_mode_records_would_be_entry(self) -> None:
        eng = engine(**{"decision.mode": "SHADOW"})
        d = eng.decide(mk())
        assert d.action is DecisionAction.SHADOW and d.quantity == 500
        blocked = eng.decide(mk(sid="x", confidence=1.0))
        assert blocked.action is DecisionAction.SKIP

    def test_publishes_on_bus(self) -> None:
        bus = EventBus()
        seen: list[tuple[str, object]] = []
        bus.subscribe("decisions.*", lambda t, e: seen.append((t, e)))
        eng = DecisionEngine(
            AlgorithmConfig(),
            account=StaticAccount(),
            market=lambda ts: 15.0,
            calendar=get_calendar("XNYS"),
            bus=bus,
        )
        bus.subscribe("setups.*", eng.on_setup)
        bus.publish("setups.SPY", mk())
        assert [t for t, _ in seen] == ["decisions.enter"]

    def test_raising_custom_gate_denies(self) -> None:
        class Broken:
            name = "custom"

            def evaluate(self, ctx: object) -> object:
                raise RuntimeError("boom")

        eng = DecisionEngine(
            AlgorithmConfig(),
            account=StaticAccount(),
            market=lambda ts: 15.0,
            calendar=get_calendar("XNYS"),
            extra_gates=(Broken(),),
        )
        d = eng.decide(mk())
        assert d.action is DecisionAction.SKIP and "boom" in (d.block_reason or "")


kinds_st = st.lists(
    st.sampled_from(
        ["FVG", "BOS", "SWEEP_LOW", "SMT", "ORB", "VOLUME_SURGE", "CHOCH", "DISPLACEMENT"]
    ),
    max_size=5,
).map(tuple)


@settings(max_examples=150, deadline=None)
@given(
    kinds=kinds_st,
    entry=st.floats(1.0, 500.0),
    dist=st.floats(-5.0, 5.0),
    rr=st.floats(0.5, 5.0),
    conf=st.floats(0.0, 10.0),
    equity=st.floats(1_000.0, 1e7),
    minute=st.integers(0, 24 * 60 - 1),
)
def test_decision_invariants(
    kinds: tuple[str, ...],
    entry: float,
    dist: float,
    rr: float,
    conf: float,
    equity: float,
    minute: int,
) -> None:
    stop = entry - dist
    s = mk(
        kinds,
        entry=entry,
        stop=stop,
        tp1=entry + rr * dist,
        confidence=conf,
        ts=ny("2024-01-08 00:00") + minute * 60_000_000_000,
    )
    d = engine(StaticAccount(equity=equity, sod=equity)).decide(s)
    assert [g.name for g in d.gates] == NAMES
    passed = all(g.passed for g in d.gates)
    assert (d.action is DecisionAction.ENTER) == passed == (d.block_reason is None)
    first = next((i for i, g in enumerate(d.gates) if not g.passed), len(d.gates))
    assert [g.evaluated_after_block for g in d.gates] == [i > first for i in range(7)]
    if d.quantity > 0:
        assert d.risk_amount <= 0.01 * equity * (1 + 1e-9)
        assert d.quantity * entry <= 0.2 * equity * (1 + 1e-9)
    if d.action is DecisionAction.ENTER:
        assert replace(s).direction * (s.entry - s.stop) > 0


def test_default_calendar_is_the_data_layers_xnys() -> None:
    eng = DecisionEngine(AlgorithmConfig(), account=StaticAccount(), market=lambda ts: 15.0)
    assert eng.decide(mk()).action is DecisionAction.ENTER
    assert not gate(eng.decide(mk(sid="h", ts=ny("2024-07-04 10:00"))), "session_volatility").passed
