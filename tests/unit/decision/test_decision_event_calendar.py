"""Gate 8: the event calendar (computed OPEX, user table, warnings and adjustments)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from tradekit.data.calendar import get_calendar
from tradekit.decision.event_calendar import (
    EventCalendar,
    MarketEvent,
    assess_events,
    opex_dates,
    third_friday,
)
from tradekit.errors import DataError

D = dt.date


@pytest.mark.parametrize(
    ("year", "month", "expected"),
    [
        (2024, 1, D(2024, 1, 19)),
        (2024, 2, D(2024, 2, 16)),
        (2024, 3, D(2024, 3, 15)),
        (2024, 11, D(2024, 11, 15)),
        (2025, 8, D(2025, 8, 15)),
        (2026, 5, D(2026, 5, 15)),
    ],
)
def test_third_friday(year: int, month: int, expected: dt.date) -> None:
    assert third_friday(year, month) == expected
    assert expected.weekday() == 4 and 15 <= expected.day <= 21


def test_opex_dates_over_a_year_are_third_fridays() -> None:
    dates = opex_dates(D(2024, 1, 1), D(2024, 12, 31))
    assert len(dates) == 12
    assert all(d.weekday() == 4 and 15 <= d.day <= 21 for d in dates)


def test_holiday_opex_moves_to_thursday() -> None:
    # 2025-04-18 is Good Friday (NYSE closed) and the third Friday of April
    cal = get_calendar("XNYS")
    assert opex_dates(D(2025, 4, 1), D(2025, 4, 30), cal.is_session) == [D(2025, 4, 17)]
    assert opex_dates(D(2025, 4, 1), D(2025, 4, 30)) == [D(2025, 4, 18)]


def test_user_table_and_symbol_filter() -> None:
    table = pd.DataFrame(
        {
            "date": ["2024-03-20", "2024-03-12", "2024-03-14"],
            "kind": ["fomc", "CPI", "EARNINGS"],
            "symbol": [None, "", "AAPL"],
            "description": ["FOMC", "CPI", "AAPL earnings"],
        }
    )
    cal = EventCalendar(table)
    spy = cal.events_between("SPY", D(2024, 3, 11), D(2024, 3, 22))
    assert [(e.date, e.kind) for e in spy] == [
        (D(2024, 3, 12), "CPI"),
        (D(2024, 3, 15), "OPEX"),
        (D(2024, 3, 20), "FOMC"),
    ]
    aapl = cal.events_between("aapl", D(2024, 3, 14), D(2024, 3, 14))
    assert [e.kind for e in aapl] == ["EARNINGS"]
    assert (
        cal.events_between("SPY", D(2024, 3, 11), D(2024, 3, 22), include_opex=False)[1].kind
        == "FOMC"
    )


@pytest.mark.parametrize(
    ("table", "rule", "row"),
    [
        (pd.DataFrame({"date": ["2024-01-02"], "kind": ["PARTY"]}), "kind", 0),
        (pd.DataFrame({"date": ["2024-01-02", "not a date"], "kind": ["CPI", "CPI"]}), "date", 1),
        (pd.DataFrame({"when": ["2024-01-02"], "kind": ["CPI"]}), "columns", None),
    ],
)
def test_bad_table_is_a_data_error(table: pd.DataFrame, rule: str, row: int | None) -> None:
    with pytest.raises(DataError) as info:
        EventCalendar(table)
    assert info.value.rule == rule and info.value.row == row


def test_unknown_adjustment_is_rejected() -> None:
    with pytest.raises(ValueError):
        EventCalendar(adjustments={"FOMC": "panic"})


class TestAssess:
    def test_warnings_reduce_size(self) -> None:
        ev = [MarketEvent(D(2024, 3, 12), "CPI"), MarketEvent(D(2024, 3, 20), "FOMC")]
        a = assess_events(ev, max_warnings=3, size_factor=0.5)
        assert not a.blocked and a.size_factor == 0.25 and len(a.warnings) == 2

    def test_three_warnings_block(self) -> None:
        ev = [MarketEvent(D(2024, 3, d), k) for d, k in ((8, "NFP"), (12, "CPI"), (20, "FOMC"))]
        a = assess_events(ev, max_warnings=3, size_factor=0.5)
        assert a.blocked and "3 event warnings >= 3" in a.reason

    def test_earnings_are_avoided(self) -> None:
        a = assess_events(
            [MarketEvent(D(2024, 3, 14), "EARNINGS", "AAPL")], max_warnings=3, size_factor=0.5
        )
        assert a.blocked and a.avoid

    def test_close_before_ends_the_holding_period(self) -> None:
        ev = [
            MarketEvent(D(2024, 3, 15), "OPEX"),
            MarketEvent(D(2024, 3, 20), "FOMC"),
            MarketEvent(D(2024, 4, 10), "CPI"),
        ]
        a = assess_events(ev, max_warnings=3, size_factor=0.5, start=D(2024, 3, 11))
        assert a.close_before == D(2024, 3, 15) and len(a.warnings) == 1 and not a.blocked

    def test_close_before_on_the_trade_day_reduces(self) -> None:
        a = assess_events(
            [MarketEvent(D(2024, 3, 15), "OPEX")],
            max_warnings=3,
            size_factor=0.5,
            start=D(2024, 3, 15),
        )
        assert a.close_before is None and a.size_factor == 0.5
