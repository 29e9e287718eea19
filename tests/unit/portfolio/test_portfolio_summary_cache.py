"""``Ledger.summary()`` is cached per state: every fill, mark and day roll invalidates it.

The property test drives a ledger through random fills, marks, day rolls, stops and duplicate
fills and checks after every step that the (possibly cached) summary equals one computed from
scratch and agrees with the single-figure properties.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.enums import Right, Side
from tradekit.core.events import Fill, OptionContract
from tradekit.portfolio import Ledger

MON = 1_709_564_400_000_000_000  # 2024-03-04 10:00 New York
HOUR = 3_600 * 10**9
CALL = OptionContract("SPY", dt.date(2024, 3, 15), 500.0, Right.CALL)
SYMBOLS = ["AAA", "SPY", CALL.symbol]


def _same(a: Any, b: Any) -> bool:
    """Field-wise equality where NaN equals NaN."""
    for f in dataclasses.fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if dataclasses.is_dataclass(x):
            if not _same(x, y):
                return False
        elif not (x == y or (isinstance(x, float) and math.isnan(x) and math.isnan(y))):
            return False
    return True


def _check(led: Ledger) -> None:
    s = led.summary()
    assert _same(s, led._compute_summary())
    assert s.equity == led.equity
    assert s.cash == led.cash
    assert s.buying_power == led.buying_power
    assert led.margin_requirement() == led._requirement({})  # the cached margin is current
    assert s.buying_power == led.cash - led._requirement({})
    assert s.gross_exposure == led.gross_exposure
    assert s.net_exposure == led.net_exposure
    assert s.realized_pnl == led.realized_pnl
    assert s.unrealized_pnl == led.unrealized_pnl
    assert s.day_pnl == led.day_pnl
    assert s.trades_today == led.trades_today
    assert s.greeks == led.greek_totals()
    assert s.ts_ns == led.ts_ns


op_st = st.one_of(
    st.tuples(
        st.just("fill"),
        st.integers(0, 2),
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(1, 40),
        st.floats(1.0, 200.0),
    ),
    st.tuples(st.just("mark"), st.integers(0, 2), st.floats(0.5, 250.0)),
    st.tuples(st.just("bad_mark"), st.integers(0, 2), st.sampled_from([math.nan, -1.0, 0.0])),
    st.tuples(st.just("roll"), st.integers(1, 30)),
    st.tuples(st.just("stop"), st.integers(0, 1), st.floats(1.0, 200.0)),
    st.tuples(
        st.just("dup"),
    ),
)


@settings(max_examples=150, deadline=None)
@given(ops=st.lists(op_st, min_size=1, max_size=30))
def test_cached_summary_always_equals_a_fresh_one(ops: list[tuple[Any, ...]]) -> None:
    led = Ledger(50_000.0, greeks=lambda c, ts: (0.5, 0.01, -0.2, 0.1 + ts % 7))
    ts, last_fill = MON, None
    for i, op in enumerate(ops):
        led.summary()  # fill the cache before every change
        ts += HOUR // 4
        kind = op[0]
        if kind == "fill":
            _, k, side, qty, px = op
            last_fill = Fill(f"f{i}", f"o{i}", SYMBOLS[k], side, qty, px, ts,
                             commission=1.0, multiplier=100.0 if k == 2 else 1.0)  # fmt: skip
            led.apply_fill(last_fill, contract=CALL if k == 2 else None)
        elif kind in ("mark", "bad_mark"):
            led.mark(SYMBOLS[op[1]], op[2], ts)
        elif kind == "roll":
            ts += op[1] * HOUR
            led.roll_day(ts)
        elif kind == "stop":
            if led.position_qty(SYMBOLS[op[1]]):
                led.set_stop(SYMBOLS[op[1]], op[2])
        elif last_fill is not None:
            assert led.apply_fill(last_fill) is False
        _check(led)


class TestSummaryCacheInvalidation:
    def test_summary_is_reused_while_nothing_changes(self) -> None:
        led = Ledger(10_000.0)
        assert led.summary() is led.summary()

    def test_fill_invalidates(self) -> None:
        led = Ledger(10_000.0)
        before = led.summary()
        led.apply_fill(Fill("f1", "o1", "AAA", Side.BUY, 10, 100.0, MON, commission=1.0))
        after = led.summary()
        assert after is not before
        assert after.cash == 8_999.0 and after.open_positions == 1 and after.trades_today == 1

    def test_duplicate_fill_keeps_the_summary(self) -> None:
        led = Ledger(10_000.0)
        f = Fill("f1", "o1", "AAA", Side.BUY, 10, 100.0, MON)
        led.apply_fill(f)
        s = led.summary()
        assert led.apply_fill(f) is False
        assert led.summary() is s

    def test_mark_invalidates(self) -> None:
        led = Ledger(10_000.0)
        led.apply_fill(Fill("f1", "o1", "AAA", Side.BUY, 10, 100.0, MON))
        s = led.summary()
        led.mark("AAA", 110.0, MON + 1)
        assert led.summary().unrealized_pnl == 100.0
        assert led.summary().equity == s.equity + 100.0

    def test_mark_of_another_symbol_updates_margin_inputs(self) -> None:
        """A mark without a position still changes the underlying prices used for margin."""
        led = Ledger(100_000.0)
        led.apply_fill(
            Fill("f1", "o1", CALL.symbol, Side.SELL, 1, 5.0, MON, multiplier=100.0),
            contract=CALL,
        )
        bp = led.summary().buying_power
        led.mark("SPY", 520.0, MON + 1)
        assert led.summary().buying_power == led.buying_power
        assert led.summary().buying_power != bp

    def test_invalid_mark_keeps_the_summary(self) -> None:
        led = Ledger(10_000.0)
        s = led.summary()
        led.mark("AAA", math.nan, MON)
        assert led.summary() is s

    def test_day_roll_invalidates(self) -> None:
        led = Ledger(10_000.0)
        led.apply_fill(Fill("f1", "o1", "AAA", Side.BUY, 10, 100.0, MON))
        led.mark("AAA", 110.0, MON + 1)
        assert led.summary().day_pnl == 100.0 and led.summary().trades_today == 1
        led.roll_day(MON + 24 * HOUR)
        s = led.summary()
        assert s.day_pnl == 0.0 and s.trades_today == 0 and s.start_of_day_equity == 10_100.0
        assert s.ts_ns == MON + 24 * HOUR
