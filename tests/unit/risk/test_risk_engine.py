"""Risk engine: every pre-trade check's deny path, trading states, persistence."""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import OrderType, Right, Side, TradingState
from tradekit.core.events import Bar, Leg, OptionContract, StateChange
from tradekit.errors import IllegalTransition, RiskDenied
from tradekit.execution.orders import OrderRequest
from tradekit.portfolio.base import GreekTotals
from tradekit.risk import MemoryStateStore, RiskEngine, RiskVerdict
from tradekit.testing import StaticAccount

T0 = int(pd.Timestamp("2024-01-08 10:00", tz="America/New_York").value)
MIN = 60_000_000_000


def make_risk(
    acct: StaticAccount | None = None,
    *,
    bus: EventBus | None = None,
    store: MemoryStateStore | None = None,
    clock: SimClock | None = None,
    **over: object,
) -> RiskEngine:
    cfg = AlgorithmConfig().with_overrides(over) if over else AlgorithmConfig()
    r = RiskEngine(cfg, clock or SimClock(T0), acct or StaticAccount(), bus, store=store)
    r.update_price("SPY", 100.0)
    r.update_price("QQQ", 100.0)
    return r


_n = iter(range(10**9))


def buy(
    qty: float = 10,
    symbol: str = "SPY",
    *,
    side: Side = Side.BUY,
    limit: float | None = None,
    cid: str | None = None,
) -> OrderRequest:
    return OrderRequest(
        symbol,
        side,
        qty,
        OrderType.LIMIT if limit is not None else OrderType.MARKET,
        limit_price=limit,
        client_id=cid if cid is not None else f"o{next(_n)}",
    )


def denied(v: RiskVerdict, check: str) -> bool:
    return (not v.approved) and v.check == check


def call(strike: float = 100.0) -> OptionContract:
    return OptionContract("SPY", dt.date(2024, 2, 16), strike, Right.CALL)


class TestHardChecks:
    def test_plain_order_passes(self) -> None:
        v = make_risk().approve(buy())
        assert v.approved and v.state is TradingState.ACTIVE and v.order_id

    @pytest.mark.parametrize("qty", [0, -5, 1.5, float("nan")])
    def test_bad_quantity(self, qty: float) -> None:
        assert denied(make_risk().approve(buy(qty)), "order_validity")

    def test_unknown_price_is_denied(self) -> None:
        assert denied(make_risk().approve(buy(symbol="IWM")), "order_validity")

    def test_max_shares(self) -> None:
        acct = StaticAccount(equity=1e9)
        assert denied(make_risk(acct).approve(buy(10_001)), "max_order_quantity")
        assert denied(
            make_risk(acct, **{"risk.max_order_qty": 100}).approve(buy(101)), "max_order_quantity"
        )

    def test_max_contracts(self) -> None:
        req = OrderRequest(
            "SPY", Side.BUY, 51, legs=(Leg(call(), 1, price=1.0, delta=0.0),), client_id="c"
        )
        assert denied(make_risk(StaticAccount(equity=1e9)).approve(req), "max_order_quantity")

    def test_max_notional(self) -> None:
        r = make_risk(StaticAccount(equity=1e9))
        r.update_price("BRK", 500.0)
        assert denied(r.approve(buy(2_001, "BRK")), "max_order_notional")  # 1.0005M > 1M

    def test_price_collar(self) -> None:
        r = make_risk()
        assert r.approve(buy(limit=110.0)).approved  # exactly 10 %
        assert denied(r.approve(buy(limit=110.5)), "price_collar")
        assert denied(r.approve(buy(limit=89.0)), "price_collar")

    def test_collar_without_reference_denies(self) -> None:
        r = RiskEngine(AlgorithmConfig(), SimClock(T0), StaticAccount())
        assert denied(r.approve(buy(limit=100.0, symbol="IWM")), "price_collar")

    def test_last_price_comes_from_bars(self) -> None:
        r = RiskEngine(AlgorithmConfig(), SimClock(T0), StaticAccount())
        r.on_bar("bars.IWM", Bar("IWM", "1min", T0, 200, 201, 199, 200.0, 1e5))
        assert r.approve(buy(limit=201.0, symbol="IWM")).approved

    def test_throttle_on_injected_clock(self) -> None:
        clock = SimClock(T0)
        r = make_risk(
            StaticAccount(equity=1e9),
            clock=clock,
            **{
                "risk.max_orders_per_minute": 3,
                "decision.cooldown_symbol_minutes": 0,
                "decision.max_trades_per_day": 100,
            },
        )
        assert all(r.approve(buy()).approved for _ in range(3))
        assert denied(r.approve(buy()), "message_throttle")
        clock.advance(MIN)
        assert r.approve(buy()).approved

    def test_duplicate_order(self) -> None:
        r = make_risk()
        assert r.approve(buy(cid="same")).approved
        assert denied(r.approve(buy(cid="same")), "duplicate_order")

    def test_check_raises_risk_denied(self) -> None:
        with pytest.raises(RiskDenied) as info:
            make_risk().check(buy(0))
        assert info.value.check == "order_validity"


class TestConfiguredLimits:
    def test_max_open_positions(self) -> None:
        r = make_risk(StaticAccount(open_positions=5, positions={"QQQ": 5}))
        assert denied(r.approve(buy()), "max_open_positions")
        assert r.approve(buy(symbol="QQQ")).approved  # adding to a held symbol

    def test_symbol_notional(self) -> None:
        assert make_risk().approve(buy(200)).approved  # 20,000 = 20 %
        assert denied(make_risk().approve(buy(201)), "symbol_notional")
        assert denied(
            make_risk(StaticAccount(notional=19_950.0)).approve(buy(1)), "symbol_notional"
        )

    def test_total_exposure(self) -> None:
        assert denied(make_risk(StaticAccount(gross=99_500.0)).approve(buy(10)), "total_exposure")

    def test_portfolio_delta(self) -> None:
        leg = Leg(
            call(), 1, price=2.0, delta=0.5
        )  # 50 deltas per contract: 4,960 + 100 > cap 5,000
        ok = OrderRequest("SPY", Side.BUY, 2, legs=(leg,), client_id="g1")
        r = make_risk(StaticAccount(greeks=GreekTotals(delta=4_960.0)))
        v = r.approve(ok)
        assert denied(v, "portfolio_greeks") and "delta" in (v.reason or "")
        reducing = OrderRequest("SPY", Side.SELL, 2, legs=(leg,), client_id="g2")
        assert not denied(r.approve(reducing), "portfolio_greeks")

    def test_explicit_greeks_theta(self) -> None:
        r = make_risk()
        v = r.approve(buy(), greeks=GreekTotals(theta=-600.0))  # cap 0.5 % of 100k = 500/day
        assert denied(v, "portfolio_greeks") and "theta" in (v.reason or "")

    def test_daily_trades(self) -> None:
        r = make_risk(**{"decision.cooldown_symbol_minutes": 0, "decision.max_trades_per_day": 2})
        assert r.approve(buy()).approved and r.approve(buy()).approved
        assert denied(r.approve(buy()), "daily_trades")

    def test_symbol_cooldown(self) -> None:
        clock = SimClock(T0)
        r = make_risk(clock=clock)
        assert r.approve(buy()).approved
        clock.advance(14 * MIN)
        assert denied(r.approve(buy()), "symbol_cooldown")
        assert r.approve(buy(symbol="QQQ")).approved
        clock.advance(MIN)
        assert r.approve(buy()).approved

    def test_daily_loss_reduces_by_default_and_can_halt(self) -> None:
        r = make_risk(StaticAccount(day_pnl=-2_500.0))
        assert denied(r.approve(buy()), "daily_loss")
        assert r.trading_state is TradingState.REDUCING
        r = make_risk(StaticAccount(day_pnl=-2_500.0), **{"risk.daily_loss_action": "HALTED"})
        assert denied(r.approve(buy()), "daily_loss")
        assert r.trading_state is TradingState.HALTED

    def test_daily_loss_reducing_action(self) -> None:
        acct = StaticAccount(day_pnl=-3_000.0, positions={"SPY": 100.0})
        r = make_risk(acct, **{"risk.daily_loss_action": "REDUCING"})
        assert r.evaluate_account() is TradingState.REDUCING
        assert r.approve(buy(50, side=Side.SELL)).approved
        assert denied(r.approve(buy(symbol="QQQ")), "trading_state")

    def test_daily_loss_reducing_ends_on_the_next_trading_day_but_halted_does_not(self) -> None:
        clock = SimClock(T0)
        loss = StaticAccount(day_pnl=-3_000.0)
        reducing = make_risk(loss, clock=clock, **{"risk.daily_loss_action": "REDUCING"})
        halted = make_risk(loss, clock=clock, **{"risk.daily_loss_action": "HALTED"})
        assert reducing.evaluate_account() is TradingState.REDUCING
        assert halted.evaluate_account() is TradingState.HALTED
        clock.advance(60 * MIN)  # same New York day: still reducing
        assert reducing.evaluate_account() is TradingState.REDUCING
        reducing.account = halted.account = (
            StaticAccount()
        )  # the new day starts with a flat day P&L
        clock.advance(24 * 60 * MIN)
        assert reducing.evaluate_account() is TradingState.ACTIVE
        assert halted.evaluate_account() is TradingState.HALTED


class TestTradingStates:
    def test_reducing_lets_only_reducing_orders_through(self) -> None:
        r = make_risk(StaticAccount(positions={"SPY": 100.0, "QQQ": -20.0}))
        r.set_trading_state(TradingState.REDUCING, "test")
        assert r.approve(buy(40, side=Side.SELL)).approved
        assert r.approve(buy(20, "QQQ")).approved  # buying back a short reduces it
        assert denied(r.approve(buy(150, side=Side.SELL)), "trading_state")  # would flip
        assert denied(r.approve(buy(10)), "trading_state")
        assert denied(r.approve(buy(10, "IWM")), "trading_state")

    def test_reducing_orders_still_face_hard_checks(self) -> None:
        r = make_risk(StaticAccount(positions={"SPY": 100.0}))
        r.set_trading_state(TradingState.REDUCING, "test")
        assert denied(r.approve(buy(50, side=Side.SELL, limit=50.0)), "price_collar")

    def test_state_changes_are_published(self) -> None:
        bus = EventBus()
        seen: list[StateChange] = []
        bus.subscribe("risk.state", lambda t, e: seen.append(e))
        r = make_risk(bus=bus)
        r.halt("manual")
        assert [(e.old, e.new) for e in seen] == [("ACTIVE", "HALTED")]
        assert seen[0].ts_ns == T0

    def test_halted_is_latched(self) -> None:
        r = make_risk()
        r.halt("x")
        with pytest.raises(IllegalTransition):
            r.set_trading_state(TradingState.ACTIVE, "sneaky")
        assert r.trading_state is TradingState.HALTED

    def test_reset_is_explicit_and_logged(self, caplog: pytest.LogCaptureFixture) -> None:
        bus = EventBus()
        seen: list[StateChange] = []
        bus.subscribe("risk.state", lambda t, e: seen.append(e))
        r = make_risk(bus=bus)
        r.halt("x")
        with pytest.raises(ValueError):
            r.reset("", "no one")
        with caplog.at_level(logging.WARNING, logger="tradekit.risk"):
            r.reset("alice", "checked positions")
        assert r.trading_state is TradingState.ACTIVE
        assert "alice" in caplog.text and "checked positions" in caplog.text
        assert seen[-1].new == "ACTIVE" and "alice" in seen[-1].reason

    def test_halted_survives_restart(self) -> None:
        store = MemoryStateStore()
        make_risk(store=store).halt("boom")
        again = make_risk(store=store)
        assert again.trading_state is TradingState.HALTED and again.state_reason == "boom"
        assert denied(again.approve(buy()), "trading_state")
        again.reset("bob", "ok")
        assert make_risk(store=store).trading_state is TradingState.ACTIVE


order_st = st.builds(
    OrderRequest,
    symbol=st.sampled_from(["SPY", "QQQ", "IWM"]),
    side=st.sampled_from([Side.BUY, Side.SELL]),
    quantity=st.one_of(st.integers(1, 20_000), st.floats(allow_nan=True)),
    order_type=st.just(OrderType.MARKET),
    client_id=st.text(min_size=1, max_size=5),
)


@settings(max_examples=200, deadline=None)
@given(orders=st.lists(order_st, min_size=1, max_size=10), pos=st.floats(-1000, 1000))
def test_no_order_accepted_while_halted(orders: list[OrderRequest], pos: float) -> None:
    r = make_risk(StaticAccount(positions={"SPY": pos, "QQQ": -pos}))
    r.halt("property")
    for o in orders:
        v = r.approve(o)
        assert not v.approved and v.check == "trading_state"
        with pytest.raises(RiskDenied):
            r.check(o)


@settings(max_examples=200, deadline=None)
@given(
    pos=st.floats(-500, 500).filter(lambda x: abs(x) > 1e-6),
    qty=st.integers(1, 1000),
    side=st.sampled_from([Side.BUY, Side.SELL]),
)
def test_reducing_state_only_approves_orders_that_shrink_the_position(
    pos: float, qty: int, side: Side
) -> None:
    r = make_risk(StaticAccount(positions={"SPY": pos}))
    r.set_trading_state(TradingState.REDUCING, "property")
    v = r.approve(buy(qty, side=side))
    shrinks = pos * int(side) < 0 and qty <= abs(pos) + 1e-9  # smaller, never flipped
    assert v.approved == shrinks
    if not v.approved:
        assert v.check == "trading_state"


def test_credit_spread_limit_is_collared_against_its_signed_net_by_default() -> None:
    """Without an explicit reference, a multi-leg order is collared against its legs' net
    premium per unit, signed like its limit (negative = credit)."""
    exp = dt.date(2024, 2, 16)
    short_put = OptionContract("SPY", exp, 470.0, Right.PUT)
    long_put = OptionContract("SPY", exp, 465.0, Right.PUT)
    legs = (Leg(short_put, -1, price=4.0, delta=-0.45), Leg(long_put, 1, price=2.5, delta=-0.35))

    def credit(limit: float, cid: str) -> OrderRequest:
        return OrderRequest(
            "SPY", Side.BUY, 2, OrderType.LIMIT, limit_price=limit, legs=legs, client_id=cid
        )

    risk = make_risk()
    assert risk.approve(credit(-1.50, "at-net")).approved
    assert denied(risk.approve(credit(1.50, "wrong-sign")), "price_collar")


@pytest.mark.parametrize(
    ("side", "qty"), [(Side.BUY, "10"), (Side.BUY, None), ("BUY", 10), (Side.SELL, [1])]
)
def test_malformed_order_fields_are_denied_not_raised(side: object, qty: object) -> None:
    """A request with a field of the wrong type (from a REST call, a notebook) is refused
    with a typed verdict; nothing is booked and the engine keeps trading."""
    r = make_risk()
    bad = OrderRequest("SPY", side, qty, client_id="bad")  # type: ignore[arg-type]
    v = r.approve(bad)
    assert not v.approved and v.check == "order_validity"
    assert v.reason is not None and v.reason.startswith("malformed order:")
    assert r.trading_state is TradingState.ACTIVE
    with pytest.raises(RiskDenied):
        r.check(bad)
    assert r.approve(buy()).approved  # the next good order goes through
