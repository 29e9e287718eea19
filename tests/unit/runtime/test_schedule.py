"""Trading schedule on bar time: holidays, half days, windows, flatten; the daily rollup."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.runtime.replay import replay_inputs, replay_trader
from tradekit.runtime.schedule import Phase, TradingSchedule


def ny(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").value)


@pytest.mark.parametrize(
    ("when", "phase"),
    [
        ("2024-11-27 09:05", Phase.WARMUP),
        ("2024-11-27 10:00", Phase.OPEN),
        ("2024-11-27 15:56", Phase.FLATTEN),
        ("2024-11-27 16:00", Phase.FLATTEN),  # the last bar closes at the close
        ("2024-11-27 16:01", Phase.CLOSED),
        ("2024-11-28 11:00", Phase.CLOSED),  # Thanksgiving
        ("2024-11-29 12:54", Phase.OPEN),  # half day: closes 13:00
        ("2024-11-29 12:56", Phase.FLATTEN),
        ("2024-11-29 13:30", Phase.CLOSED),
        ("2024-12-24 12:30", Phase.OPEN),  # Christmas eve: half day
        ("2024-12-24 13:01", Phase.CLOSED),
        ("2024-12-25 10:00", Phase.CLOSED),  # Christmas
        ("2024-12-28 10:00", Phase.CLOSED),  # Saturday
    ],
)
def test_phases_follow_the_exchange_calendar(when: str, phase: Phase) -> None:
    assert TradingSchedule().phase(ny(when)) is phase


def test_entry_windows_are_intersected_with_half_days() -> None:
    sched = TradingSchedule(windows=(("09:45", "15:45"),))
    half = sched.session_at(ny("2024-11-29 10:00"))
    assert half is not None and half.half_day
    # a window ending 15 minutes before the regular close ends 15 minutes before 13:00
    assert half.windows == ((ny("2024-11-29 09:45"), ny("2024-11-29 12:45")),)
    assert not sched.entries_allowed(ny("2024-11-29 12:50"))
    assert sched.entries_allowed(ny("2024-11-27 15:00"))
    assert not sched.entries_allowed(ny("2024-11-27 09:40"))


def test_closes_lists_the_sessions_that_ended_holidays_skipped() -> None:
    sched = TradingSchedule()
    closes = sched.closes(ny("2024-11-25 00:00"), ny("2024-12-31 00:00"))
    dates = [c.date for c in closes]
    assert dt.date(2024, 11, 28) not in dates and dt.date(2024, 12, 25) not in dates
    assert [c.date for c in closes if c.half_day] == [dt.date(2024, 11, 29), dt.date(2024, 12, 24)]
    assert sched.closes(ny("2024-11-27 15:59"), ny("2024-11-27 16:00"))[0].date == dt.date(
        2024, 11, 27
    )
    assert sched.closes(ny("2024-11-27 16:00"), ny("2024-11-27 16:00")) == []


def test_from_config_uses_its_window_and_flatten_offset() -> None:
    cfg = AlgorithmConfig.parse({"decision": {"session_start": "10:00", "session_end": "15:00"},
                                 "execution": {"flatten_intraday_minutes_before_close": 10}})  # fmt: skip
    sched = TradingSchedule.from_config(cfg)
    assert sched.phase(ny("2024-11-27 09:45")) is Phase.NO_ENTRY
    assert sched.phase(ny("2024-11-27 15:30")) is Phase.NO_ENTRY
    assert sched.phase(ny("2024-11-27 15:51")) is Phase.FLATTEN


async def test_thanksgiving_week_replay_writes_one_computed_row_per_session() -> None:
    inp = replay_inputs("synthetic", start="2024-10-28", days=4, history_days=20, seed=3)
    t = replay_trader(inputs=inp)
    t.start()
    await t.wait()
    daily = t.store.query("SELECT * FROM daily_performance ORDER BY date")
    dates = [d.date() if hasattr(d, "date") else d for d in pd.to_datetime(daily["date"])]
    sessions = sorted({ts.tz_convert("America/New_York").date() for ts in inp.bars.index})
    assert dates == sessions and dt.date(2024, 11, 28) not in dates  # no row on the holiday
    led = t.engine.ledger
    last = daily.iloc[-1]
    assert last["end_equity"] == pytest.approx(led.equity)
    assert (daily["pnl"] == daily["end_equity"] - daily["start_equity"]).all()
    assert int(daily["trades"].sum()) == len(led.closed_trades)
    assert int((daily["wins"] + daily["losses"]).sum()) <= len(led.closed_trades)
    for _, row in daily.iterrows():
        if row["trades"]:
            assert row["win_rate"] == pytest.approx(row["wins"] / row["trades"])
        else:
            assert math.isnan(row["win_rate"])
    assert (daily["high_water_mark"] >= daily["end_equity"] - 1e-9).all()
