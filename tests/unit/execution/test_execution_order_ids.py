"""The deterministic order id equals the plain ``make_id`` derivation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.enums import Side
from tradekit.core.ids import make_id
from tradekit.execution.orders import OrderRequest, deterministic_order_id, order_id_for
from tradekit.risk.engine import _order_id as risk_order_id


@settings(max_examples=100, deadline=None)
@given(
    decision_id=st.none() | st.text(max_size=8),
    client_id=st.none() | st.text(max_size=8),
    tag=st.text(max_size=5),
)
def test_order_ids_match_make_id(decision_id: str | None, client_id: str | None, tag: str) -> None:
    req = OrderRequest("SPY", Side.BUY, 1, decision_id=decision_id, tag=tag, client_id=client_id)
    if decision_id is not None:
        expected: str | None = make_id("ord", decision_id, tag)
    elif client_id is not None:
        expected = make_id("ord", "client", client_id, tag)
    else:
        expected = None
    for _ in range(2):  # the same id every time
        assert order_id_for(req) == expected
        assert risk_order_id(req) == expected


def test_equal_hashing_parts_of_different_types_keep_their_own_ids() -> None:
    assert deterministic_order_id(1, None, "") == make_id("ord", 1, "")
    assert deterministic_order_id(1.0, None, "") == make_id("ord", 1.0, "")
    assert deterministic_order_id(1, None, "") != deterministic_order_id(1.0, None, "")


def test_unhashable_parts_get_an_id() -> None:
    assert deterministic_order_id(["d", 1], None, "t") == make_id("ord", ["d", 1], "t")
