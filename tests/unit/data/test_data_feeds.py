"""ReplayFeed and PollingFeed: ordering, pacing, closed bars only, stalls, isolation."""

from __future__ import annotations

import asyncio
import time

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import AlertLevel
from tradekit.core.events import Alert, Bar
from tradekit.data.feeds import ALERT_TOPIC, PollingFeed, ReplayFeed, bar_problem
from tradekit.data.schema import validate_bars
from tradekit.data.sources import DataFrameProvider
from tradekit.errors import FeedStalled
from tradekit.testing import bar, bars_from_closes, bars_from_rows

MIN = 60_000_000_000


def ns(s: str) -> int:
    return int(pd.Timestamp(s, tz="UTC").value)


def two_symbols() -> dict[str, pd.DataFrame]:
    a = bars_from_closes([10, 11, 12, 13], start="2024-01-02 14:30")
    b = bars_from_closes([20, 21, 22], start="2024-01-02 14:31")
    return {"AAA": a, "BBB": b}


class TestReplay:
    def test_sync_order_across_symbols_with_ties(self) -> None:
        got = [(b.symbol, b.ts_ns) for b in ReplayFeed(two_symbols())]
        assert got == sorted(got, key=lambda t: (t[1], t[0]))
        assert got[:3] == [("AAA", ns("2024-01-02 14:30")), ("AAA", ns("2024-01-02 14:31")),
                           ("BBB", ns("2024-01-02 14:31"))]  # fmt: skip
        assert len(got) == 7

    async def test_async_iteration_and_cache(self) -> None:
        feed = ReplayFeed(two_symbols())
        closes = [b.close async for b in feed]
        assert closes == [10, 11, 20, 12, 21, 13, 22]
        assert feed.last_price("AAA") == 13 and feed.last_price("ZZZ") is None
        last = feed.latest("BBB")
        assert last is not None and last.ts_ns == ns("2024-01-02 14:33")

    def test_mixed_durations_ordered_by_close(self) -> None:
        hourly = bars_from_closes([5, 6], start="2024-01-02 14:00", freq="1h")
        minute = bars_from_closes([1, 2], start="2024-01-02 14:30")
        clock = SimClock()
        got = [(b.symbol, b.close) for b in ReplayFeed({"H": hourly, "M": minute}, clock=clock)]
        assert got == [("M", 1), ("M", 2), ("H", 5), ("H", 6)]  # H 14:00 closes at 15:00

    def test_drives_sim_clock_to_bar_close(self) -> None:
        clock = SimClock()
        feed = ReplayFeed(two_symbols(), clock=clock)
        seen: list[tuple[int, int]] = []
        feed.subscribe(lambda b: seen.append((clock.now_ns(), b.close_ts_ns)))
        list(feed)
        assert all(now == close for now, close in seen)

    async def test_pacing_is_slower_than_unpaced(self) -> None:
        bars = bars_from_closes([1, 2, 3], start="2024-01-02 14:30")  # closes 60 s apart
        t0 = time.monotonic()
        await ReplayFeed(bars, speed=1200.0).run()  # 2 gaps x 60 s / 1200 = 0.1 s
        assert time.monotonic() - t0 >= 0.09

    async def test_stop_ends_iteration(self) -> None:
        feed = ReplayFeed(bars_from_closes(list(range(1, 50))), symbol="X")
        got = []
        async for b in feed:
            got.append(b)
            if len(got) == 5:
                feed.stop()
        assert len(got) == 5 and feed.stopped

    def test_subscriber_errors_are_isolated(self) -> None:
        bus = EventBus()
        alerts: list[Alert] = []
        bus.subscribe(ALERT_TOPIC, lambda _t, e: alerts.append(e))
        feed = ReplayFeed(two_symbols(), bus=bus)
        good: list[Bar] = []

        def broken(b: Bar) -> None:
            raise RuntimeError("boom")

        feed.subscribe(broken)
        feed.subscribe(good.append)
        list(feed)
        assert len(good) == 7
        assert len(feed.errors) == 7 and isinstance(feed.errors[0][1], RuntimeError)
        assert len(alerts) == 7 and "boom" in alerts[0].message

    def test_unsubscribe_and_symbol_from_attrs(self) -> None:
        df = bars_from_closes([1, 2])
        df.attrs["symbol"] = "SPY"
        feed = ReplayFeed(df)
        got: list[Bar] = []
        unsub = feed.subscribe(got.append)
        unsub()
        assert [b.symbol for b in feed] == ["SPY", "SPY"] and got == []


class _ListProvider:
    """A provider whose latest() answers from a script (for bad data and failures)."""

    def __init__(self, answers: list[Bar | Exception | None]) -> None:
        self.answers = answers

    def history(self, symbol: str, start: object = None, end: object = None,
                timeframe: str | None = None) -> pd.DataFrame:  # fmt: skip
        raise NotImplementedError

    def latest(self, symbol: str) -> Bar | None:
        a = self.answers.pop(0) if self.answers else None
        if isinstance(a, Exception):
            raise a
        return a


class TestPolling:
    def _setup(
        self, backfill: bool = True
    ) -> tuple[SimClock, PollingFeed, dict[str, pd.DataFrame]]:
        frames = two_symbols()
        clock = SimClock(ns("2024-01-02 14:30"))
        provider = DataFrameProvider(frames, clock=clock)
        feed = PollingFeed(provider, ["AAA", "BBB"], 0.0, clock=clock, backfill=backfill,
                           stall_timeout_s=3600, since="2024-01-02 14:30")  # fmt: skip
        return clock, feed, frames

    @pytest.mark.parametrize("step_s", [7, 37, 60, 150])
    def test_each_closed_bar_once_in_order(self, step_s: int) -> None:
        clock, feed, _ = self._setup()
        emitted: list[Bar] = []
        for _ in range(600 // step_s + 2):
            clock.advance(step_s * 1_000_000_000)
            new = feed.poll()
            assert all(b.close_ts_ns <= clock.now_ns() for b in new)  # never an unclosed bar
            emitted += new
        keys = [(b.ts_ns, b.symbol) for b in emitted]
        assert len(keys) == len(set(keys)) == 7  # never twice, none missed (backfill)
        assert keys == sorted(keys)

    def test_without_backfill_slow_polls_skip_bars(self) -> None:
        clock, feed, _ = self._setup(backfill=False)
        clock.advance(10 * MIN)
        assert [b.close for b in feed.poll()] == [13, 22]

    def test_first_poll_without_since_emits_latest_only(self) -> None:
        clock = SimClock(ns("2024-01-02 14:40"))
        feed = PollingFeed(DataFrameProvider(two_symbols(), clock=clock), ["AAA", "BBB"], 0.0,
                           clock=clock)  # fmt: skip
        assert [b.close for b in feed.poll()] == [13, 22]

    async def test_async_iterator_delivers_to_subscribers(self) -> None:
        clock, feed, _ = self._setup()
        clock.advance(10 * MIN)
        feed.max_polls = 3
        seen: list[Bar] = []
        feed.subscribe(seen.append)
        got = [b async for b in feed]
        assert got == seen and len(got) == 7
        assert feed.last_price("AAA") == 13

    def test_stall_alert_once_per_episode(self) -> None:
        bus = EventBus()
        alerts: list[Alert] = []
        bus.subscribe("alerts.*", lambda _t, e: alerts.append(e))
        clock, feed, _ = self._setup()
        feed.bus = bus
        feed.stall_timeout_ns = 5 * MIN
        for _ in range(20):  # data ends at 14:34; the clock runs to 14:50
            clock.advance(MIN)
            feed.poll()
        stalls = [a for a in alerts if "stalled" in a.message]
        assert {a.data["symbol"] for a in stalls} == {"AAA", "BBB"} and len(stalls) == 2
        assert stalls[0].level == AlertLevel.CRITICAL
        assert feed.stalled_symbols == ["AAA", "BBB"]

    async def test_stall_can_raise(self) -> None:
        clock = SimClock(ns("2024-01-02 14:30"))
        feed = PollingFeed(_ListProvider([]), ["X"], 0.0, clock=clock, stall_timeout_s=60,
                           on_stall="raise", max_polls=10)  # fmt: skip
        feed.poll()
        clock.advance(2 * MIN)
        with pytest.raises(FeedStalled):
            async for _ in feed:
                pass

    def test_stall_ignored_while_market_closed(self) -> None:
        clock = SimClock(ns("2024-07-04 15:00"))  # Independence Day
        feed = PollingFeed(_ListProvider([]), ["X"], 0.0, clock=clock, stall_timeout_s=60,
                           calendar="XNYS")  # fmt: skip
        feed.poll()
        clock.advance(10 * MIN)
        feed.poll()
        assert feed.alerts == []

    def test_bad_bars_quarantined_and_errors_survived(self) -> None:
        clock = SimClock(ns("2024-01-02 15:00"))
        good = bar(10, 11, 9, 10.5, ts="2024-01-02 14:50", symbol="X")
        bad = bar(10, 9, 11, 10.5, ts="2024-01-02 14:51", symbol="X")
        provider = _ListProvider([RuntimeError("HTTP 500"), bad, bad, good])
        feed = PollingFeed(provider, ["X"], 0.0, clock=clock, backfill=False)
        out = [feed.poll() for _ in range(4)]
        assert out[0] == [] and out[1] == [] and out[2] == []
        assert out[3] == []  # older than the quarantined bar: never emitted out of order
        assert [rule for _, rule in feed.quarantine] == ["high_lt_low"]
        messages = [a.message for a in feed.alerts]
        assert any("HTTP 500" in m for m in messages) and any("quarantined" in m for m in messages)

    def test_forming_bar_from_provider_does_not_block_backfill(self) -> None:
        clock = SimClock(ns("2024-01-02 14:31:30"))
        frames = two_symbols()
        full = DataFrameProvider(frames)  # no clock: latest() hands out the last (forming) bar
        feed = PollingFeed(full, ["AAA"], 0.0, clock=clock, since="2024-01-02 14:30")
        assert [b.close for b in feed.poll()] == [10]  # 14:30 closed; 14:33 still forming

    def test_unclosed_bar_waits(self) -> None:
        clock = SimClock(ns("2024-01-02 14:50:30"))
        forming = bar(10, 11, 9, 10.5, ts="2024-01-02 14:50", symbol="X")
        feed = PollingFeed(_ListProvider([forming, forming]), ["X"], 0.0, clock=clock)
        assert feed.poll() == []
        clock.advance(MIN)
        assert feed.poll() == [forming]


def test_bar_problem_rules() -> None:
    assert bar_problem(bar(10, 11, 9, 10.5)) is None
    assert bar_problem(bar(10, float("nan"), 9, 10.5)) == "non_finite"
    assert bar_problem(bar(0, 11, 0, 10.5)) == "non_positive_price"
    assert bar_problem(bar(12, 11, 9, 10.5)) == "open_outside_range"
    assert bar_problem(bar(10, 11, 9, 12)) == "close_outside_range"
    assert bar_problem(bar(10, 11, 9, 10, -1)) == "negative_volume"


def test_event_loop_friendly() -> None:
    async def main() -> int:
        return await ReplayFeed(two_symbols()).run()

    assert asyncio.run(main()) == 7


@settings(max_examples=50, deadline=None)
@given(st.tuples(*(st.sampled_from([-1.0, 0.0, 0.5, 1.0, 2.0, float("nan")]) for _ in range(5))))
def test_bar_problem_agrees_with_validate_bars(values: tuple[float, ...]) -> None:
    o, h, lo, c, v = values
    df = bars_from_rows([values], validate=False)
    _, bad = validate_bars(df, on_error="quarantine")
    expected = bad["reason"].iloc[0] if len(bad) else None
    assert bar_problem(bar(o, h, lo, c, v)) == expected
