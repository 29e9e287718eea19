"""BarHistory (causal views over a bounded buffer) and make_setup."""

from __future__ import annotations

import numpy as np
import pytest

from tradekit.core.events import Bar
from tradekit.decision.base import check_setup_types
from tradekit.strategy import BarHistory, make_setup


def bar(i: int, close: float = 10.0) -> Bar:
    return Bar("X", "1min", i * 60_000_000_000, close - 0.5, close + 1, close - 1, close, 100.0 + i)


@pytest.mark.parametrize("cap", [1, 2, 3, 7])
def test_history_is_the_last_capacity_bars_after_any_number_of_appends(cap: int) -> None:
    h = BarHistory(cap)
    closes: list[float] = []
    for i in range(40):
        c = 100.0 + i
        closes.append(c)
        h.append(bar(i, c))
        want = closes[-cap:]
        assert h.close.tolist() == want
        assert len(h) == len(want)
        assert h.ts_ns.tolist() == [(i - k) * 60_000_000_000 for k in range(len(want))][::-1]
        assert h.volume[-1] == 100.0 + i and h.high[-1] == c + 1 and h.low[-1] == c - 1
        assert h.open[-1] == c - 0.5


def test_history_views_are_read_by_reference_and_frame_copies() -> None:
    h = BarHistory(4)
    for i in range(3):
        h.append(bar(i, 1.0 + i))
    df = h.frame()
    assert list(df.columns) == ["open", "high", "low", "close", "volume"]
    assert str(df.index.tz) == "UTC" and df["close"].tolist() == [1.0, 2.0, 3.0]
    df.iloc[0, 3] = -1.0
    assert h.close[0] == 1.0
    assert np.shares_memory(h.close, h.close)  # a view of the buffer, no copy per access


def test_history_rejects_zero_capacity() -> None:
    with pytest.raises(ValueError, match="capacity"):
        BarHistory(0)


def test_make_setup_is_deterministic_and_well_typed() -> None:
    b = bar(5, 50.0)
    s = make_setup(b, 1, stop=49.0, targets=[52.0], kind="MY_KIND", strategy="mine", index=5)
    check_setup_types(s)
    assert (s.entry, s.stop, s.tp1, s.tp2, s.tp3) == (50.0, 49.0, 52.0, 52.0, 52.0)
    assert s.active_signals == ("MY_KIND",) and s.confluence_count == 1 and s.index == 5
    assert s.ts_ns == b.ts_ns and s.symbol == "X" and s.timeframe == "1min"
    again = make_setup(b, 1, stop=49.0, targets=[52.0], kind="MY_KIND", strategy="mine")
    other = make_setup(b, 1, stop=49.0, targets=[52.0], kind="MY_KIND", strategy="theirs")
    assert s.id == again.id != other.id
    with pytest.raises(ValueError, match="target"):
        make_setup(b, 1, stop=49.0, targets=[], kind="K", strategy="s")
