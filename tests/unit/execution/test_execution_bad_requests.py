"""Garbage requests (as a REST call or a notebook may send them) never raise out of the
pre-trade path: risk gives a typed denial, the broker a REJECTED order with a reason, and the
account is untouched."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.core.enums import OrderStatus, OrderType, Side, TimeInForce
from tradekit.core.events import Bar
from tradekit.execution import OrderRequest, PaperBroker
from tradekit.portfolio import Ledger
from tradekit.risk import RiskEngine

T0 = 1_709_564_400_000_000_000  # Mon 2024-03-04 10:00 New York
_junk = st.one_of(
    st.none(),
    st.text(max_size=4),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**12), 10**12),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
side_st = st.one_of(st.sampled_from(list(Side)), _junk)
qty_st = st.one_of(st.integers(1, 100), _junk)
type_st = st.one_of(st.sampled_from(list(OrderType)), _junk)
tif_st = st.one_of(st.sampled_from(list(TimeInForce)), _junk)
price_st = st.one_of(st.none(), st.floats(50, 150), _junk)
symbol_st = st.one_of(st.just("SPY"), st.text(max_size=3), _junk)


@settings(max_examples=300, deadline=None)
@given(
    symbol=symbol_st,
    side=side_st,
    qty=qty_st,
    otype=type_st,
    tif=tif_st,
    limit=price_st,
    stop=price_st,
)
def test_garbage_requests_are_refused_with_reasons(
    symbol: Any, side: Any, qty: Any, otype: Any, tif: Any, limit: Any, stop: Any
) -> None:
    cfg = AlgorithmConfig()
    clock = SimClock(T0)
    ledger = Ledger(cfg.execution.initial_cash)
    broker = PaperBroker(cfg.execution, clock=clock, ledger=ledger)
    risk = RiskEngine(cfg, clock, ledger)
    risk.update_price("SPY", 100.0)
    ledger.mark("SPY", 100.0, T0)
    req = OrderRequest(symbol, side, qty, otype, tif, limit, stop, client_id="junk")

    verdict = risk.approve(req)  # never raises
    assert verdict.approved or (verdict.reason and verdict.check)
    order = broker.submit(req)  # never raises either (the broker validates on its own)
    assert order.status in (OrderStatus.ACCEPTED, OrderStatus.REJECTED)
    if order.status is OrderStatus.REJECTED:
        assert order.reason
    else:  # whatever it accepted is a well-formed order
        assert type(order.side) is Side and order.quantity >= 1 and math.isfinite(order.quantity)
    # the next bar matches or leaves it; the account stays consistent
    bar = Bar("SPY", "1min", T0 + 60_000_000_000, 100.0, 101.0, 99.0, 100.5, 1e6)
    clock.set_time(bar.close_ts_ns)
    broker.on_bar(bar)
    s = ledger.summary()
    assert math.isfinite(s.cash) and math.isfinite(s.equity)
