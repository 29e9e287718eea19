"""Property tests of the PaperBroker on random bars and random orders."""

from __future__ import annotations

from collections import defaultdict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import ExecutionConfig
from tradekit.core.clock import SimClock
from tradekit.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tradekit.core.events import Bar
from tradekit.execution import OrderRequest, PaperBroker
from tradekit.portfolio import Ledger

BASE = 1_709_564_400_000_000_000
MIN = 60_000_000_000

bar_st = st.tuples(
    st.floats(90, 110), st.floats(90, 110), st.floats(0, 3), st.floats(0, 3), st.floats(0, 400)
)
order_st = st.tuples(
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 80),
    st.sampled_from(list(OrderType)),
    st.sampled_from(list(TimeInForce)),
    st.floats(90, 110),
    st.floats(-2, 2),
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(bar_st, st.lists(order_st, max_size=3)), min_size=2, max_size=25))
def test_broker_invariants(script: list) -> None:
    cfg = ExecutionConfig(
        slippage={"kind": "none"},
        commission={"kind": "per_share"},
        participation=0.25,
        initial_cash=1e7,
    )
    clock = SimClock(BASE)
    led = Ledger.from_config(cfg)
    broker = PaperBroker(cfg, clock=clock, ledger=led)
    bars: dict[int, Bar] = {}
    fills = []
    submitted: dict[str, int] = {}
    for i, ((o, c, up, dn, vol), orders) in enumerate(script):
        b = Bar("XYZ", "1min", BASE + i * MIN, o, max(o, c) + up, min(o, c) - dn, c, vol)
        bars[b.ts_ns] = b
        clock.set_time(b.close_ts_ns)
        fills += broker.on_bar(b)
        for j, (side, qty, otype, tif, px, off) in enumerate(orders):
            lim = px if otype in (OrderType.LIMIT, OrderType.STOP_LIMIT) else None
            stop = px + off if otype in (OrderType.STOP, OrderType.STOP_LIMIT) else None
            sent = broker.submit(
                OrderRequest("XYZ", side, qty, otype, tif, lim, stop, client_id=f"{i}-{j}")
            )
            submitted[sent.id] = sent.ts_ns
    used: dict[int, float] = defaultdict(float)
    orders = {o.id: o for o in broker.orders()}
    for f in fills:
        b = bars[f.ts_ns]
        assert b.low - 1e-9 <= f.price <= b.high + 1e-9  # no slippage: inside the bar
        o = orders[f.order_id]
        assert f.ts_ns >= submitted[f.order_id]  # never on the bar that preceded the order
        used[f.ts_ns] += f.quantity
        if o.order_type is OrderType.LIMIT:
            assert (f.price <= o.limit_price) if f.side is Side.BUY else (f.price >= o.limit_price)
    for ts, q in used.items():
        assert q <= 0.25 * bars[ts].volume + 1e-9 or bars[ts].volume == 0
    for o in orders.values():
        assert 0 <= o.filled_qty <= o.quantity
        done = o.filled_qty == o.quantity
        assert (o.status is OrderStatus.FILLED) == (done and o.quantity > 0)
        if o.tif is TimeInForce.FOK:
            assert o.filled_qty in (0, o.quantity)
    signed = sum(int(f.side) * f.quantity for f in fills)
    assert led.position_qty("XYZ") == pytest.approx(signed)
    assert led.equity == pytest.approx(led.initial_cash + led.realized_pnl + led.unrealized_pnl)
    first_bar_fills = [f for f in fills if f.ts_ns == BASE]
    assert first_bar_fills == []  # nothing can fill on the bar before any order existed
