"""The order state machine, request validation and deterministic ids."""

from __future__ import annotations

import itertools

import pytest

from tradekit.core.enums import DecisionAction, OrderStatus, OrderType, Side
from tradekit.core.events import Decision
from tradekit.errors import IllegalTransition
from tradekit.execution.orders import (
    LEGAL_TRANSITIONS,
    OrderRequest,
    OrderState,
    order_id_for,
    order_request_from_decision,
    validate_request,
)

S = OrderStatus


def state(qty: float = 10) -> OrderState:
    return OrderState("ord-1", OrderRequest("XYZ", Side.BUY, qty), 0)


class TestLegalPaths:
    def test_new_accepted_filled(self) -> None:
        st = state()
        st.accept(1)
        st.add_fill(10, 5.0, 2)
        assert st.status is S.FILLED and st.snapshot().avg_fill_price == 5.0

    def test_partial_partial_filled(self) -> None:
        st = state()
        st.accept(1)
        st.add_fill(3, 5.0, 2)
        assert st.status is S.PARTIALLY_FILLED
        st.add_fill(3, 6.0, 3)
        assert st.status is S.PARTIALLY_FILLED
        st.add_fill(4, 7.0, 4)
        assert st.status is S.FILLED
        assert st.avg_price == pytest.approx((15 + 18 + 28) / 10)

    @pytest.mark.parametrize("end", [S.CANCELLED, S.EXPIRED])
    def test_accepted_or_partial_then_cancelled_or_expired(self, end: OrderStatus) -> None:
        for partial in (False, True):
            st = state()
            st.accept(1)
            if partial:
                st.add_fill(1, 1.0, 2)
            st.transition(end, 3, "why")
            assert st.status is end and st.reason == "why" and not st.is_working

    def test_rejected_from_new(self) -> None:
        st = state()
        st.reject("no", 1)
        assert st.status is S.REJECTED and st.snapshot().reason == "no"


class TestIllegal:
    @pytest.mark.parametrize(
        ("src", "dst"),
        [(a, b) for a, b in itertools.product(S, S) if b not in LEGAL_TRANSITIONS[a]],
    )
    def test_every_illegal_transition_raises(self, src: OrderStatus, dst: OrderStatus) -> None:
        st = state()
        st.status = src
        with pytest.raises(IllegalTransition):
            st.transition(dst, 1)

    def test_terminal_states_have_no_exit(self) -> None:
        for s in S:
            assert (not LEGAL_TRANSITIONS[s]) == s.is_terminal

    def test_overfill_refused(self) -> None:
        st = state(5)
        st.accept(1)
        with pytest.raises(IllegalTransition):
            st.add_fill(6, 1.0, 2)


class TestValidation:
    def test_valid_requests(self) -> None:
        assert validate_request(OrderRequest("X", Side.BUY, 1)) is None
        lim = OrderRequest("X", Side.SELL, 2, OrderType.STOP_LIMIT, limit_price=9, stop_price=10)
        assert validate_request(lim) is None

    def test_stop_missing(self) -> None:
        r = OrderRequest("X", Side.BUY, 1, OrderType.STOP)
        assert "stop" in (validate_request(r) or "")

    def test_empty_symbol(self) -> None:
        assert "symbol" in (validate_request(OrderRequest("", Side.BUY, 1)) or "")


class TestIds:
    def test_same_decision_and_tag_same_id(self) -> None:
        a = OrderRequest("X", Side.BUY, 1, decision_id="d", tag="entry")
        b = OrderRequest("X", Side.BUY, 2, decision_id="d", tag="entry")
        c = OrderRequest("X", Side.BUY, 1, decision_id="d", tag="tp1")
        assert order_id_for(a) == order_id_for(b) != order_id_for(c)
        assert order_id_for(OrderRequest("X", Side.BUY, 1)) is None

    def test_from_decision_short(self) -> None:
        d = Decision(
            id="dec",
            setup_id="s",
            symbol="X",
            ts_ns=0,
            action=DecisionAction.ENTER,
            gates=(),
            block_reason=None,
            direction=-1,
            quantity=7,
            entry=10,
            stop=11,
            targets=(8,),
        )
        r = order_request_from_decision(d)
        assert (r.side, r.quantity, r.decision_id, r.tag) == (Side.SELL, 7, "dec", "entry")
