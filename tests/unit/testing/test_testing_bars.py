"""The shipped bar builders produce contract-valid frames and events."""

from __future__ import annotations

import pandas as pd
import pytest

from tradekit.errors import DataError
from tradekit.testing import bar, bars_from_closes, bars_from_rows, bars_to_events


def test_rows_on_a_grid() -> None:
    df = bars_from_rows(
        [(1, 2, 0.5, 1.5, 10), (1.5, 2, 1, 1.8)], start="2024-01-02 14:30", freq="5min"
    )
    assert df.index.tolist() == [
        pd.Timestamp("2024-01-02 14:30", tz="UTC"),
        pd.Timestamp("2024-01-02 14:35", tz="UTC"),
    ]
    assert df["volume"].tolist() == [10.0, 0.0]
    assert df.index.name == "ts"


def test_rows_are_validated_unless_asked_not_to() -> None:
    with pytest.raises(DataError) as info:
        bars_from_rows([(1, 2, 0.5, 1.5), (1, 0.5, 2, 1)])
    assert info.value.row == 1
    raw = bars_from_rows([(1, 0.5, 2, 1)], validate=False)
    assert raw["high"].iloc[0] == 0.5
    with pytest.raises(DataError):
        bars_from_rows([(1, 2, 3)])


def test_explicit_index_and_tz() -> None:
    df = bars_from_rows([(1, 2, 0.5, 1.5)], index=["2024-01-02 09:30-05:00"])
    assert df.index[0] == pd.Timestamp("2024-01-02 14:30", tz="UTC")


def test_closes_and_events() -> None:
    df = bars_from_closes([10, 11, 10.5], spread=0.2)
    assert df["open"].tolist() == [10, 10, 11]
    assert df["high"].tolist() == [10.2, 11.2, 11.2]
    events = bars_to_events(df, "SPY")
    assert [e.close for e in events] == [10, 11, 10.5]
    assert events[1].ts_ns - events[0].ts_ns == events[0].duration_ns == 60_000_000_000


def test_single_bar_event() -> None:
    b = bar(1, 2, 0.5, 1.5, 7, ts="2024-01-02 14:31", symbol="QQQ")
    assert b.symbol == "QQQ" and b.volume == 7.0
    assert b.close_ts_ns == pd.Timestamp("2024-01-02 14:32", tz="UTC").value
