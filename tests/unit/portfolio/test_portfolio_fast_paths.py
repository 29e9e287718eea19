"""Ledger fast paths equal the general computations they shortcut.

* ``stock_buying_power_after`` (the broker's check of one stock fill) equals
  ``buying_power_after`` with the same single item, on random accounts holding long and short
  stock and short options;
* ``Position.snapshot`` reports the same price and unrealized P&L as the properties.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.enums import Right, Side
from tradekit.core.events import Fill, OptionContract
from tradekit.portfolio import Ledger

MON = 1_709_564_400_000_000_000  # 2024-03-04 10:00 New York
CALL = OptionContract("SPY", dt.date(2024, 3, 15), 500.0, Right.CALL)
SYMBOLS = ["AAA", "SPY", CALL.symbol]

fill_st = st.tuples(
    st.integers(0, 2),
    st.sampled_from([Side.BUY, Side.SELL]),
    st.integers(1, 40),
    st.floats(1.0, 200.0),
    st.booleans(),  # mark afterwards
)


def _ledger(fills: list[tuple[Any, ...]]) -> Ledger:
    led = Ledger(20_000.0)
    ts = MON
    for i, (k, side, qty, px, mark) in enumerate(fills):
        ts += 60 * 10**9
        f = Fill(f"f{i}", f"o{i}", SYMBOLS[k], side, qty, px, ts,
                 commission=0.5, multiplier=100.0 if k == 2 else 1.0)  # fmt: skip
        led.apply_fill(f, contract=CALL if k == 2 else None)
        if mark:
            led.mark(SYMBOLS[k], px * 1.01, ts + 1)
    return led


@settings(max_examples=150, deadline=None)
@given(
    fills=st.lists(fill_st, max_size=12),
    sym=st.sampled_from(["AAA", "SPY", "NEW"]),
    dq=st.integers(-60, 60).filter(bool),
    px=st.floats(0.5, 300.0),
    comm=st.floats(0.0, 5.0),
)
def test_stock_buying_power_after_equals_the_general_method(
    fills: list[tuple[Any, ...]], sym: str, dq: int, px: float, comm: float
) -> None:
    led = _ledger(fills)
    general = led.buying_power_after(((sym, float(dq), px, 1.0, None, comm),))
    fast = led.stock_buying_power_after(sym, float(dq), px, comm)
    assert fast == general or (math.isnan(fast) and math.isnan(general))


@settings(max_examples=150, deadline=None)
@given(fills=st.lists(fill_st, min_size=1, max_size=12))
def test_position_snapshot_equals_the_properties(fills: list[tuple[Any, ...]]) -> None:
    led = _ledger(fills)
    for sym, pos in led.positions.items():
        snap = led.position_snapshot(sym)
        assert snap is not None
        same_price = snap.market_price == pos.price or (
            math.isnan(snap.market_price) and math.isnan(pos.price)
        )
        assert same_price
        assert snap.unrealized_pnl == pos.unrealized_pnl or (
            math.isnan(snap.unrealized_pnl) and math.isnan(pos.unrealized_pnl)
        )
        assert snap.quantity == pos.qty and snap.realized_pnl == pos.realized_pnl
        assert (snap.delta, snap.gamma, snap.theta, snap.vega) == (
            pos.greeks() if pos.contract is not None else (pos.qty * pos.multiplier, 0, 0, 0)
        )


class TestValidateFill:
    def test_rejects_each_bad_field(self) -> None:
        import pytest

        from tradekit.errors import DataError

        good: dict[str, Any] = dict(id="f", order_id="o", symbol="AAA", side=Side.BUY,
                                    quantity=1.0, price=1.0, ts_ns=MON, commission=0.0,
                                    multiplier=1.0)  # fmt: skip
        bad_values = [("id", ""), ("quantity", 0.0), ("quantity", math.nan),
                      ("quantity", math.inf), ("price", -1.0), ("price", math.nan),
                      ("commission", -0.1), ("commission", math.inf), ("multiplier", 0.0),
                      ("multiplier", math.nan)]  # fmt: skip
        for field, value in bad_values:
            with pytest.raises(DataError):
                Ledger(1_000.0).apply_fill(Fill(**{**good, field: value}))
        assert Ledger(1_000.0).apply_fill(Fill(**{**good, "price": 0.0}))  # zero price is valid
