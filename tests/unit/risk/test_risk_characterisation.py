"""Characterisation of RiskEngine verdicts: exact reasons, check names, states, ids, counters.

These pin the observable behaviour of :meth:`RiskEngine.approve` (what a denied order is told
and which check is reported) so that speed work on the engine cannot change it. The last tests
compare the engine's default-check fast path with the general check loop on random orders.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import OrderType, Right, Side, TradingState
from tradekit.core.events import Leg, OptionContract, StateChange
from tradekit.core.ids import make_id
from tradekit.execution.orders import OrderRequest
from tradekit.portfolio.base import GreekTotals
from tradekit.risk import RiskContext, RiskEngine, RiskOrder, RiskVerdict, build_checks
from tradekit.testing import StaticAccount

T0 = int(pd.Timestamp("2024-01-08 10:00", tz="America/New_York").value)
MIN = 60_000_000_000
CALL = OptionContract("SPY", dt.date(2024, 2, 16), 100.0, Right.CALL)


def engine(
    acct: StaticAccount | None = None,
    *,
    clock: SimClock | None = None,
    bus: EventBus | None = None,
    **over: object,
) -> RiskEngine:
    cfg = AlgorithmConfig().with_overrides(over) if over else AlgorithmConfig()
    r = RiskEngine(cfg, clock or SimClock(T0), acct or StaticAccount(), bus)
    r.update_price("SPY", 100.0)
    return r


def order(
    qty: object = 10,
    symbol: str = "SPY",
    *,
    side: object = Side.BUY,
    limit: float | None = None,
    stop: float | None = None,
    legs: tuple[Leg, ...] = (),
    cid: str | None = "c1",
    decision_id: str | None = None,
    tag: str = "",
) -> OrderRequest:
    kind = OrderType.LIMIT if limit is not None else OrderType.MARKET
    return OrderRequest(
        symbol,
        side,  # type: ignore[arg-type]
        qty,  # type: ignore[arg-type]
        kind,
        limit_price=limit,
        stop_price=stop,
        legs=legs,
        decision_id=decision_id,
        tag=tag,
        client_id=cid,
    )


CID_ID = make_id("ord", "client", "c1", "")

# (account, order, expected check, expected reason): one deny path of every check
DENIALS = [
    (None, order(side=0), "order_validity", "side 0 is not BUY/SELL"),
    (None, order(0), "order_validity", "quantity 0 is not a positive whole number"),
    (None, order(-5), "order_validity", "quantity -5 is not a positive whole number"),
    (None, order(1.5), "order_validity", "quantity 1.5 is not a positive whole number"),
    (None, order(float("nan")), "order_validity", "quantity nan is not a positive whole number"),
    (None, order(float("inf")), "order_validity", "quantity inf is not a positive whole number"),
    (None, order(limit=float("nan")), "order_validity", "limit price nan is not finite"),
    (None, order(stop=float("inf")), "order_validity", "stop price inf is not finite"),
    (None, order(limit=100.0, stop=float("nan")), "order_validity", "stop price nan is not finite"),
    (None, order(symbol="IWM"), "order_validity", "no reference price known for notional checks"),
    (
        StaticAccount(equity=1e9),
        order(10_001),
        "max_order_quantity",
        "10001 shares > max 10000",
    ),
    (
        StaticAccount(equity=1e9),
        order(51, legs=(Leg(CALL, 2, price=1.0, delta=0.0),)),
        "max_order_quantity",
        "51 contracts (102 leg contracts) > max 50",
    ),
    (
        StaticAccount(equity=1e9),
        order(9_000, limit=111.5),
        "max_order_notional",
        "notional 1,003,500.00 > max 1,000,000.00",
    ),
    (None, order(limit=110.5), "price_collar", "price 110.5 is 10.5% from last 100 (collar 10.0%)"),
    (None, order(limit=89.0), "price_collar", "price 89 is 11.0% from last 100 (collar 10.0%)"),
    (None, order(stop=120.0), "price_collar", "price 120 is 20.0% from last 100 (collar 10.0%)"),
    (
        None,
        order(symbol="IWM", limit=100.0),
        "price_collar",
        "no valid last price to collar 100 against",
    ),
    (StaticAccount(open_positions=5), order(), "max_open_positions", "5 open positions >= max 5"),
    (
        None,
        order(201),
        "symbol_notional",
        "SPY notional 20,100.00 > 20% of equity (20,000.00)",
    ),
    (
        StaticAccount(notional=19_950.0),
        order(1),
        "symbol_notional",
        "SPY notional 20,050.00 > 20% of equity (20,000.00)",
    ),
    (
        StaticAccount(gross=99_500.0),
        order(10),
        "total_exposure",
        "gross exposure 100,500.00 > 100% of equity (100,000.00)",
    ),
    (
        StaticAccount(greeks=GreekTotals(delta=4_960.0)),
        order(2, legs=(Leg(CALL, 1, price=2.0, delta=0.5),)),
        "portfolio_greeks",
        "portfolio delta 5,060.00 beyond 5.00% of equity (5,000.00)",
    ),
    (
        StaticAccount(day_pnl=-2_500.0),
        order(),
        "daily_loss",
        "day P&L -2,500.00 at or beyond -2.50% of start equity",
    ),
    (
        StaticAccount(day_pnl=-2_000.0, sod=80_000.0),
        order(),
        "daily_loss",
        "day P&L -2,000.00 at or beyond -2.50% of start equity",
    ),
    (
        StaticAccount(day_pnl=float("nan")),
        order(),
        "daily_loss",
        "day P&L nan at or beyond -2.50% of start equity",
    ),
    # the daily-loss limit is judged before the per-order checks (a breach changes the state)
    (
        StaticAccount(day_pnl=-2_500.0),
        order(0),
        "daily_loss",
        "day P&L -2,500.00 at or beyond -2.50% of start equity",
    ),
]


@pytest.mark.parametrize(("acct", "req", "check", "reason"), DENIALS)
def test_every_check_denies_with_its_exact_reason(
    acct: StaticAccount | None, req: OrderRequest, check: str, reason: str
) -> None:
    bus = EventBus()
    seen: list[RiskVerdict] = []
    bus.subscribe("risk.denied", lambda t, e: seen.append(e))
    v = engine(acct, bus=bus).approve(req)
    assert (v.approved, v.check, v.reason, v.order_id) == (False, check, reason, CID_ID)
    assert seen == [v]  # every denial is published once, as returned


@pytest.mark.parametrize(
    ("acct", "req"),
    [
        (None, order()),  # market stock order
        (None, order(limit=110.0)),  # collar edge: exactly 10 %
        (None, order(limit=90.0)),
        (None, order(stop=105.0)),
        (None, order(200)),  # symbol notional edge: exactly 20 %
        (StaticAccount(equity=1e9), order(10_000)),  # quantity edge
        (StaticAccount(equity=1e9), order(10_000, limit=100.0)),  # notional edge (1M)
        (StaticAccount(open_positions=5, positions={"SPY": 5.0}), order()),  # adds to a held one
        (StaticAccount(open_positions=4), order()),
        (StaticAccount(gross=99_000.0), order(10)),  # exposure edge
        (StaticAccount(day_pnl=-2_499.0), order()),
        (StaticAccount(greeks=GreekTotals(delta=-4_960.0)), order()),  # stock: no Greek change
        (
            StaticAccount(greeks=GreekTotals(delta=4_960.0)),
            order(2, side=Side.SELL, legs=(Leg(CALL, 1, price=2.0, delta=0.5),)),
        ),  # a Greek moving toward zero passes
        (StaticAccount(equity=1e9), order(50, legs=(Leg(CALL, 1, price=1.0, delta=0.0),))),
    ],
)
def test_every_check_pass_path(acct: StaticAccount | None, req: OrderRequest) -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe("risk.*", lambda t, e: seen.append(e))
    v = engine(acct, bus=bus).approve(req)
    assert v == RiskVerdict(True, None, None, TradingState.ACTIVE, CID_ID)
    assert seen == []  # an approval publishes nothing


def test_explicit_greeks_and_reference_price() -> None:
    r = engine()
    v = r.approve(order(cid="t"), greeks=GreekTotals(theta=-600.0))
    assert v.reason == "portfolio theta -600.00 beyond 0.50% of equity (500.00)"
    v = r.approve(order(cid="v"), greeks=GreekTotals(vega=-1_001.0))
    assert v.reason == "portfolio vega -1,001.00 beyond 1.00% of equity (1,000.00)"
    # an explicit reference price drives both the collar and the notional
    v = r.approve(order(cid="r1", limit=130.0), ref_price=120.0)
    assert v.approved
    v = r.approve(order(150, cid="r2"), ref_price=140.0)
    assert v.reason == "SPY notional 21,000.00 > 20% of equity (20,000.00)"
    v = r.approve(order(cid="r3", limit=100.0), ref_price=120.0)
    assert v.reason == "price 100 is 16.7% from last 120 (collar 10.0%)"


def test_collar_against_a_zero_reference_denies() -> None:
    v = engine().approve(order(limit=100.0), ref_price=0.0)
    assert (v.check, v.reason) == ("price_collar", "no valid last price to collar 100 against")
    v = engine().approve(order(), ref_price=0.0)  # a market order at a zero reference
    assert v.approved


@dataclass(frozen=True)
class NoSPY:
    """A custom check: the engine must run it (no fast path around custom checks)."""

    name: str = "no_spy"
    hard: bool = True

    def check(self, order: RiskOrder, ctx: RiskContext) -> str | None:
        return "no SPY today" if order.symbol == "SPY" else None


def test_custom_checks_are_always_run() -> None:
    cfg = AlgorithmConfig()
    r = RiskEngine(cfg, SimClock(T0), StaticAccount(), checks=(NoSPY(),))
    r.update_price("SPY", 100.0)
    v = r.approve(order())
    assert (v.check, v.reason) == ("no_spy", "no SPY today")
    r = engine()
    r.checks = (*r.checks, NoSPY())  # replaced after construction: honoured too
    assert r.approve(order()).check == "no_spy"
    r.checks = ()  # no checks at all: only the trading state and daily loss remain
    assert r.approve(order(0, symbol="IWM")).approved


def test_last_price_callable_is_consulted_only_without_a_recorded_price() -> None:
    asked: list[str] = []

    def last(sym: str) -> float | None:
        asked.append(sym)
        return {"IWM": 50.0, "BAD": float("nan")}.get(sym)

    cfg = AlgorithmConfig()
    r = RiskEngine(cfg, SimClock(T0), StaticAccount(), last_price=last)
    r.update_price("SPY", 100.0)
    assert r.approve(order(cid="a")).approved and asked == []
    v = r.approve(order(401, "IWM", cid="b"))  # 401 × 50 = 20,050 > 20 % of 100k
    assert v.reason == "IWM notional 20,050.00 > 20% of equity (20,000.00)"
    v = r.approve(order(1, "BAD", cid="c"))
    assert v.reason == "no reference price known for notional checks"
    r.update_price("IWM", float("inf"))  # ignored: not a valid price
    assert r.last_price("IWM") == 50.0


def test_counters_exact_reasons() -> None:
    clock = SimClock(T0)
    r = engine(clock=clock, **{"decision.max_trades_per_day": 2})
    assert r.approve(order(cid="a")).approved
    clock.advance(14 * MIN + 30_000_000_000)
    assert r.approve(order(cid="b")).reason == "SPY cooldown: last entry 14.5 min ago < 15"
    assert r.approve(order(cid="c", symbol="QQQ", limit=1.0), ref_price=1.0).approved
    v = r.approve(order(cid="d"))
    assert (v.check, v.reason) == ("daily_trades", "2 trades today >= max 2")
    assert (
        r.approve(order(cid="a")).reason
        == f"order {make_id('ord', 'client', 'a', '')} was already sent"
    )

    clock = SimClock(T0)
    r = engine(
        StaticAccount(equity=1e9),
        clock=clock,
        **{"risk.max_orders_per_minute": 3, "decision.cooldown_symbol_minutes": 0},
    )
    assert all(r.approve(order(cid=f"t{i}")).approved for i in range(3))
    assert r.approve(order(cid="t4")).reason == "3 orders in the last minute >= max 3"
    clock.advance(MIN - 1)
    assert not r.approve(order(cid="t5")).approved
    clock.advance(1)  # the window is the trailing minute, its start excluded
    assert r.approve(order(cid="t6")).approved


def test_trading_day_rolls_the_trade_count() -> None:
    clock = SimClock(T0)
    r = engine(
        clock=clock, **{"decision.max_trades_per_day": 1, "decision.cooldown_symbol_minutes": 0}
    )
    assert r.approve(order(cid="a")).approved
    assert r.approve(order(cid="b")).check == "daily_trades"
    clock.advance(24 * 60 * MIN)
    assert r.approve(order(cid="c")).approved


def test_reducing_orders_skip_configured_limits_but_not_hard_ones() -> None:
    acct = StaticAccount(
        equity=1e9,
        positions={"SPY": 20_000.0},
        open_positions=99,
        day_pnl=-1e9,
        gross=1e12,
        notional=1e12,
    )
    clock = SimClock(T0)
    r = engine(acct, clock=clock, **{"decision.max_trades_per_day": 1})
    assert r.approve(order(100, side=Side.SELL, cid="a")).approved
    assert r.approve(order(100, side=Side.SELL, cid="b")).approved  # no cooldown, no trade count
    v = r.approve(order(10_001, side=Side.SELL, cid="c"))
    assert (v.check, v.reason) == ("max_order_quantity", "10001 shares > max 10000")
    v = r.approve(order(100, side=Side.SELL, limit=50.0, cid="d"))
    assert v.reason == "price 50 is 50.0% from last 100 (collar 10.0%)"
    assert r.trading_state is TradingState.ACTIVE  # a reducing order does not judge day P&L


def test_reducing_orders_in_active_state_are_not_entries() -> None:
    r = engine(StaticAccount(positions={"SPY": 100.0}), **{"decision.max_trades_per_day": 1})
    r.update_price("QQQ", 100.0)
    assert r.approve(order(10, side=Side.SELL, cid="a")).approved
    assert r.approve(order(10, side=Side.SELL, cid="b")).approved  # no cooldown after an exit
    assert r.approve(order(10, "QQQ", cid="c")).approved  # exits did not count as trades
    v = r.approve(order(10, "QQQ", side=Side.SELL, cid="d"))  # QQQ is flat here: an entry
    assert (v.check, v.reason) == ("daily_trades", "1 trades today >= max 1")


def test_cooldown_boundary_is_exact() -> None:
    clock = SimClock(T0)
    r = engine(clock=clock)
    assert r.approve(order(cid="a")).approved
    clock.advance(15 * MIN - 1)
    assert r.approve(order(cid="b")).reason == "SPY cooldown: last entry 15.0 min ago < 15"
    clock.advance(1)
    assert r.approve(order(cid="c")).approved


def test_reducing_orders_count_in_the_throttle() -> None:
    acct = StaticAccount(positions={"SPY": 1_000.0})
    r = engine(acct, **{"risk.max_orders_per_minute": 2})
    assert r.approve(order(1, side=Side.SELL, cid="a")).approved
    assert r.approve(order(1, side=Side.SELL, cid="b")).approved
    assert r.approve(order(1, side=Side.SELL, cid="c")).check == "message_throttle"


def test_state_denials_and_transitions_are_exact() -> None:
    bus = EventBus()
    seen: list[tuple[str, object]] = []
    bus.subscribe("risk.*", lambda t, e: seen.append((t, e)))
    acct = StaticAccount(day_pnl=-2_500.0, positions={"SPY": 100.0})
    r = engine(acct, bus=bus)
    v = r.approve(order(cid="a"))
    assert v == RiskVerdict(
        False,
        "day P&L -2,500.00 at or beyond -2.50% of start equity",
        "daily_loss",
        TradingState.REDUCING,
        make_id("ord", "client", "a", ""),
    )
    change = StateChange(T0, "risk", "ACTIVE", "REDUCING", "daily loss limit: day P&L -2,500.00")
    assert seen == [("risk.state", change), ("risk.denied", v)]
    assert r.state_reason == "daily loss limit: day P&L -2,500.00"
    v = r.approve(order(cid="b"))
    assert (
        v.reason
        == "trading REDUCING (daily loss limit: day P&L -2,500.00): order does not reduce risk"
    )
    assert v.check == "trading_state" and v.state is TradingState.REDUCING
    assert r.approve(order(50, side=Side.SELL, cid="c")).approved
    r.halt("operator", by="alice")
    v = r.approve(order(50, side=Side.SELL, cid="d"))
    assert (v.reason, v.check, v.state) == (
        "trading HALTED: operator",
        "trading_state",
        TradingState.HALTED,
    )
    assert v.order_id == make_id("ord", "client", "d", "")


def test_order_ids_follow_the_broker_rule() -> None:
    r = engine(**{"decision.cooldown_symbol_minutes": 0})
    v = r.approve(order(cid=None, decision_id="dec-1", tag="entry"))
    assert v.order_id == make_id("ord", "dec-1", "entry")
    v = r.approve(order(cid=None))  # anonymous: no id, no duplicate guard
    assert v.approved and v.order_id is None
    assert r.approve(order(cid=None)).approved
    assert r.approve(order(cid=None, decision_id="dec-1", tag="entry")).check == "duplicate_order"


def test_hard_limits_hold_even_when_config_validation_is_bypassed() -> None:
    base = AlgorithmConfig()
    risky = base.risk.model_copy(
        update={
            "max_order_qty": 50_000,
            "max_order_notional": 1e9,
            "price_collar_pct": 0.9,
            "max_orders_per_minute": 10_000,
        }
    )
    cfg = base.model_copy(update={"risk": risky})
    r = RiskEngine(cfg, SimClock(T0), StaticAccount(equity=1e12))
    r.update_price("SPY", 100.0)
    assert r.approve(order(10_001)).reason == "10001 shares > max 10000"
    assert (
        r.approve(order(10_000, limit=125.0, cid="n")).reason
        == "notional 1,250,000.00 > max 1,000,000.00"
    )
    assert (
        r.approve(order(limit=126.0, cid="p")).reason
        == "price 126 is 26.0% from last 100 (collar 25.0%)"
    )


# -- the fast path and the general check loop agree --------------------------------------------
symbols = st.sampled_from(["SPY", "QQQ", "IWM"])
near = st.sampled_from([None, None, 90.0, 95.0, 100.0, 104.0, 110.0, 111.0])
odd_prices = st.one_of(
    st.none(),
    st.floats(80.0, 130.0),
    st.sampled_from([0.0, -100.0, float("nan"), float("inf")]),
)
plain_orders = st.builds(  # mostly approvable: exercises the fast path's approvals
    order,
    qty=st.sampled_from([1, 2, 5, 10, 10.0, 50, 199, 200, 201]),
    symbol=st.sampled_from(["SPY", "SPY", "QQQ", "IWM"]),
    side=st.sampled_from([Side.BUY, Side.SELL]),
    limit=near,
    stop=st.sampled_from([None, None, None, 100.0, 120.0]),
    cid=st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"]), st.uuids().map(str)),
)
odd_orders = st.builds(  # mostly denied: every validity edge
    order,
    qty=st.one_of(
        st.integers(-2, 12_000), st.floats(-1.0, 300.0), st.sampled_from([float("nan"), 0.5])
    ),
    symbol=symbols,
    side=st.sampled_from([Side.BUY, Side.SELL, 0]),
    limit=odd_prices,
    stop=st.one_of(st.none(), odd_prices),
    cid=st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d"])),
)
accounts = st.builds(
    StaticAccount,
    equity=st.sampled_from([1e4, 1e5, 1e5, 1e7]),
    open_positions=st.integers(0, 6),
    gross=st.sampled_from([0.0, 0.0, 5e4, 99_500.0, 2e5]),
    day_pnl=st.sampled_from([0.0, 0.0, 0.0, -1_000.0, -2_500.0, 500.0, float("nan")]),
    greeks=st.builds(GreekTotals, delta=st.floats(-6e3, 6e3)),
    positions=st.dictionaries(symbols, st.sampled_from([-100.0, -5.0, 5.0, 300.0]), max_size=3),
    notional=st.sampled_from([0.0, 0.0, 15_000.0, 19_990.0]),
)


def _books(r: RiskEngine) -> tuple[object, ...]:
    """The engine's bookkeeping (what later verdicts depend on)."""
    return (dict(r._trades), dict(r._last_open), list(r._recent), r._seen, list(r._seen_order))


def _compare(
    cfg: AlgorithmConfig, acct: StaticAccount, steps: list[tuple[OrderRequest, int, float | None]]
) -> None:
    """Run ``steps`` (order, seconds to wait first, reference price) through an engine with
    the fast path and one without; verdicts, states, bookkeeping and publications agree."""
    clock = SimClock(T0)
    buses = EventBus(), EventBus()
    logs: tuple[list[object], list[object]] = ([], [])
    for bus, log in zip(buses, logs, strict=True):
        bus.subscribe("risk.*", lambda t, e, log=log: log.append((t, e)))
    fast = RiskEngine(cfg, clock, acct, buses[0])
    loop = RiskEngine(cfg, clock, acct, buses[1], checks=build_checks(cfg))  # no fast path
    for r in (fast, loop):
        r.update_price("SPY", 100.0)
        r.update_price("QQQ", 99.5)
    for req, seconds, ref in steps:
        clock.advance(seconds * 1_000_000_000)
        assert fast.approve(req, ref_price=ref) == loop.approve(req, ref_price=ref)
        assert fast.trading_state is loop.trading_state
        assert _books(fast) == _books(loop)
    assert logs[0] == logs[1]


@settings(max_examples=150, deadline=None)
@given(
    acct=accounts,
    steps=st.lists(
        st.tuples(
            st.one_of(plain_orders, odd_orders),
            st.sampled_from([0, 1, 20, 61, 899, 900]),
            st.one_of(st.none(), near, odd_prices),
        ),
        min_size=1,
        max_size=12,
    ),
    limits=st.fixed_dictionaries(
        {
            "decision.max_trades_per_day": st.sampled_from([1, 3, 100]),
            "decision.cooldown_symbol_minutes": st.sampled_from([0, 1, 15]),
            "risk.max_orders_per_minute": st.sampled_from([1, 4, 60]),
            "risk.daily_loss_action": st.sampled_from(["REDUCING", "HALTED"]),
        }
    ),
)
def test_fast_path_matches_the_general_check_loop(
    acct: StaticAccount,
    steps: list[tuple[OrderRequest, int, float | None]],
    limits: dict[str, object],
) -> None:
    _compare(AlgorithmConfig().with_overrides(limits), acct, steps)


@settings(max_examples=100, deadline=None)
@given(
    acct=st.builds(
        StaticAccount,
        open_positions=st.sampled_from([0, 4, 5]),
        gross=st.sampled_from([0.0, 90_000.0]),
        positions=st.dictionaries(symbols, st.sampled_from([-100.0, 5.0, 300.0]), max_size=2),
        notional=st.sampled_from([0.0, 15_000.0]),
    ),
    steps=st.lists(
        st.tuples(plain_orders, st.sampled_from([1, 30, 899, 900]), st.one_of(st.none(), near)),
        min_size=1,
        max_size=20,
    ),
    cooldown=st.sampled_from([0, 15]),
)
def test_fast_path_matches_the_general_check_loop_on_plain_orders(
    acct: StaticAccount, steps: list[tuple[OrderRequest, int, float | None]], cooldown: int
) -> None:
    cfg = AlgorithmConfig().with_overrides(
        {"decision.max_trades_per_day": 8, "decision.cooldown_symbol_minutes": cooldown}
    )
    _compare(cfg, acct, steps)


def test_duplicate_guard_forgets_the_oldest_ids_first(monkeypatch: pytest.MonkeyPatch) -> None:
    from tradekit.risk import engine as risk_engine

    monkeypatch.setattr(risk_engine, "_SEEN_MAX", 3)
    r = engine(
        StaticAccount(equity=1e9),
        **{"decision.cooldown_symbol_minutes": 0, "decision.max_trades_per_day": 100},
    )
    for cid in "abcd":
        assert r.approve(order(1, cid=cid)).approved
    assert r.approve(order(1, cid="b")).check == "duplicate_order"  # still remembered
    assert r.approve(order(1, cid="a")).approved  # the oldest was forgotten
    assert r.approve(order(1, cid="b")).approved  # ... and now "b" was the oldest
