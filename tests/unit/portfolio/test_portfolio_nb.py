"""The numba ledger twin books fills exactly like Ledger.apply_fill."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.enums import Side
from tradekit.core.events import Fill
from tradekit.portfolio import Ledger
from tradekit.portfolio.nb import apply_fills_1d_nb, equity_curve_1d_nb


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-50, 50).filter(bool), st.floats(1, 300), st.floats(0, 3)),
        min_size=1,
        max_size=40,
    ),
    st.sampled_from([1.0, 100.0]),
)
def test_kernel_matches_ledger(steps: list, mult: float) -> None:
    led = Ledger(1e6)
    for i, (q, px, c) in enumerate(steps):
        side = Side.BUY if q > 0 else Side.SELL
        led.apply_fill(Fill(f"f{i}", "o", "X", side, abs(q), px, i, commission=c, multiplier=mult))
    arr = np.array(steps, dtype=np.float64)
    pos, avg, oc, cash, real = apply_fills_1d_nb(arr[:, 0], arr[:, 1], arr[:, 2], mult, 1e6)
    assert pos[-1] == pytest.approx(led.position_qty("X"))
    assert cash[-1] == pytest.approx(led.cash)
    assert real[-1] == pytest.approx(led.realized_pnl, abs=1e-6)
    p = led.positions["X"]
    assert oc[-1] == pytest.approx(p.open_commission, abs=1e-9)
    assert (np.isnan(avg[-1]) and p.qty == 0) or avg[-1] == pytest.approx(p.avg_price)


def test_equity_curve() -> None:
    eq = equity_curve_1d_nb(np.array([0.0, 2.0]), np.array([10.0, 4.0]), np.array([3.0, 5.0]), 1.0)
    assert list(eq) == [10.0, 14.0]
