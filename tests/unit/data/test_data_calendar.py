"""MarketCalendar: sessions, holidays, half days, vectorised lookups."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradekit.data.calendar import MarketCalendar, get_calendar
from tradekit.errors import ConfigError, DataError


def ns(s: str) -> int:
    return int(pd.Timestamp(s, tz="UTC").value)


def ny(ts_ns: int) -> str:
    return pd.Timestamp(ts_ns, tz="UTC").tz_convert("America/New_York").strftime("%Y-%m-%d %H:%M")


class TestSessions:
    def test_holiday_is_not_a_session(self) -> None:
        cal = get_calendar("XNYS")
        assert not cal.is_session("2024-07-04")
        assert not cal.is_session("2024-12-25")
        assert not cal.is_session("2024-11-30")  # Saturday
        assert cal.is_session("2024-07-05")

    def test_half_day_closes_at_13_new_york(self) -> None:
        table = get_calendar().sessions("2024-11-27", "2024-12-02")
        assert [d.strftime("%m-%d") for d in table.index] == ["11-27", "11-29", "12-02"]
        half = table.loc["2024-11-29"]
        assert bool(half["early_close"])
        assert ny(int(half["close_ns"])) == "2024-11-29 13:00"
        assert ny(int(half["open_ns"])) == "2024-11-29 09:30"
        assert not bool(table.loc["2024-11-27", "early_close"])

    def test_table_layout(self) -> None:
        table = get_calendar().sessions("2024-01-01", "2024-01-31")
        assert list(table.columns) == ["open_ns", "close_ns", "early_close"]
        assert table["open_ns"].dtype == np.int64
        assert len(table) == 21
        assert table.index.name == "session"

    def test_sessions_from_counts_sessions(self) -> None:
        table = get_calendar().sessions_from("2024-07-03", 3)
        assert [d.strftime("%m-%d") for d in table.index] == ["07-03", "07-05", "07-08"]
        assert bool(table["early_close"].iloc[0])  # July 3rd 2024 closed at 13:00
        assert len(get_calendar().sessions_from("2024-07-03", 0)) == 0

    def test_cache_extends_to_other_years(self) -> None:
        cal = MarketCalendar("XNYS")
        assert cal.is_session("2024-01-02")
        assert not cal.is_session(
            "2001-09-11"
        )  # closed after the attacks, far outside the first range
        assert cal.is_session("2001-09-17")

    def test_bad_inputs(self) -> None:
        with pytest.raises(ConfigError):
            MarketCalendar("NOPE")
        with pytest.raises(DataError):
            get_calendar().sessions("2024-02-01", "2024-01-01")
        with pytest.raises(DataError):
            get_calendar().is_session("not a date")

    def test_get_calendar_is_cached(self) -> None:
        assert get_calendar("XNYS") is get_calendar("XNYS")


class TestLookups:
    def test_session_bounds_and_is_open(self) -> None:
        cal = get_calendar()
        o, c = cal.session_bounds(ns("2024-11-29 15:00")) or (0, 0)
        assert (ny(o), ny(c)) == ("2024-11-29 09:30", "2024-11-29 13:00")
        assert cal.is_open(ns("2024-11-29 17:59"))
        assert not cal.is_open(ns("2024-11-29 18:00"))  # close is exclusive
        assert cal.is_open(ns("2024-07-05 13:30"))  # 09:30 EDT = 13:30 UTC
        assert not cal.is_open(ns("2024-07-05 13:29"))
        assert cal.session_bounds(ns("2024-07-04 15:00")) is None

    def test_vectorised_matches_scalar(self) -> None:
        cal = get_calendar()
        ts = np.arange(ns("2024-11-25"), ns("2024-12-03"), 17 * 60_000_000_000, dtype=np.int64)
        opens, closes = cal.session_open_close(ts)
        for t, o, c in zip(ts, opens, closes, strict=True):
            b = cal.session_bounds(int(t))
            assert (b is None and o == -1 and c == -1) or b == (o, c)
        assert (opens >= 0).any() and (opens == -1).any()

    @pytest.mark.parametrize("name", ["XNYS", "XLON"])
    def test_remembered_sessions_and_gaps_answer_as_the_arrays_do(self, name: str) -> None:
        """The scalar lookup remembers the last session and the last stretch between two:
        asked in time order (as bars come), then shuffled, across a year's end (the loaded
        years grow) and outside the calendar's years, it answers as the vectorised one."""
        cal, ref = MarketCalendar(name), MarketCalendar(name)
        rng = np.random.default_rng(7)
        ts = np.sort(ns("2019-12-20") + rng.integers(0, 40 * 86_400 * 10**9, 6_000))
        ts = np.concatenate([ts, rng.permutation(ts)[:2_000], [ns("1985-06-03 15:00")],
                             [ns("2024-12-31 23:59"), ns("2025-01-02 15:00")]])  # fmt: skip
        opens, closes = ref.session_open_close(ts)
        got = [cal.session_bounds(t) for t in ts.tolist()]
        want = [
            None if o < 0 else (o, c) for o, c in zip(opens.tolist(), closes.tolist(), strict=True)
        ]
        assert got == want
        assert any(g is None for g in got) and any(g is not None for g in got)

    def test_empty_input(self) -> None:
        opens, closes = get_calendar().session_open_close(np.empty(0, dtype=np.int64))
        assert opens.shape == closes.shape == (0,)
