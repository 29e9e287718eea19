"""The risk layer against the real paper broker and ledger: the seams fit."""

from __future__ import annotations

import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import (
    DecisionAction,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
    TradingState,
)
from tradekit.core.events import Bar, Setup
from tradekit.data.calendar import get_calendar
from tradekit.decision import DecisionEngine, stock_exit_plan
from tradekit.execution.broker import PaperBroker
from tradekit.execution.orders import OrderRequest, order_request_from_decision
from tradekit.portfolio.ledger import Ledger
from tradekit.risk import KillSwitch, RiskEngine

T0 = int(pd.Timestamp("2024-01-08 10:00", tz="America/New_York").value)
MIN = 60_000_000_000


def bar(ts: int, px: float) -> Bar:
    return Bar("SPY", "1min", ts, px, px + 0.5, px - 0.5, px, 1e7)


def rig() -> tuple[SimClock, Ledger, PaperBroker, RiskEngine, EventBus]:
    cfg = AlgorithmConfig()
    clock = SimClock(T0)
    bus = EventBus()
    ledger = Ledger(cfg.execution.initial_cash)
    broker = PaperBroker(cfg.execution, clock=clock, ledger=ledger, bus=bus)
    risk = RiskEngine(cfg, clock, ledger, bus)
    bus.subscribe("bars.*", risk.on_bar)
    return clock, ledger, broker, risk, bus


def test_decision_risk_broker_ledger_round_trip() -> None:
    clock, ledger, broker, risk, bus = rig()
    b0 = bar(T0, 470.0)
    bus.publish("bars.SPY", b0)
    broker.on_bar(b0)
    engine = DecisionEngine(
        AlgorithmConfig(), account=ledger, market=lambda ts: 15.0, calendar=get_calendar("XNYS")
    )
    setup = Setup(
        "s",
        "SPY",
        "1min",
        T0,
        0,
        1,
        470.0,
        469.0,
        472.5,
        473.0,
        474.0,
        7.5,
        8.0,
        3,
        ("FVG", "BOS", "VOLUME_SURGE"),
    )
    d = engine.decide(setup)
    assert d.action is DecisionAction.ENTER and d.quantity == 42  # 20 % of 100k / 470
    req = order_request_from_decision(d)
    assert risk.approve(req).approved
    broker.submit(req, exit_plan=stock_exit_plan(d))
    clock.set_time(T0 + MIN)
    fills = broker.on_bar(bar(T0 + MIN, 470.2))
    assert len(fills) == 1 and ledger.position_qty("SPY") == 42
    # the same decision resubmitted after a "restart" is refused by the duplicate guard
    assert risk.approve(order_request_from_decision(d)).check == "duplicate_order"
    # a sell of the position reduces risk and passes in REDUCING
    risk.set_trading_state(TradingState.REDUCING, "test")
    sell = OrderRequest("SPY", Side.SELL, 42, OrderType.MARKET, client_id="close")
    assert risk.approve(sell).approved
    more = OrderRequest("SPY", Side.BUY, 1, OrderType.MARKET, client_id="more")
    assert risk.approve(more).check == "trading_state"


def test_kill_switch_cancels_working_orders_on_the_broker() -> None:
    _, _, broker, risk, _ = rig()
    broker.on_bar(bar(T0, 470.0))
    risk.update_price("SPY", 470.0)
    req = OrderRequest(
        "SPY",
        Side.BUY,
        10,
        OrderType.LIMIT,
        TimeInForce.GTC,
        limit_price=460.0,
        client_id="resting",
    )
    assert risk.approve(req).approved
    order = broker.submit(req)
    assert order.status is OrderStatus.ACCEPTED
    KillSwitch(risk, canceller=broker).trigger("test")
    assert broker.open_orders() == []
    assert broker.get_order(order.id).status is OrderStatus.CANCELLED  # type: ignore[union-attr]
    assert not risk.approve(OrderRequest("SPY", Side.BUY, 1, client_id="new")).approved
