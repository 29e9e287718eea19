"""resample / htf_index_map: grids, known-time rules (a) and (b), no look-ahead."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.data.calendar import get_calendar
from tradekit.data.resample import (
    htf_index_map,
    parse_rule,
    resample,
    resample_arrays,
    session_positions,
)
from tradekit.data.schema import BAR_COLUMNS
from tradekit.errors import ConfigError, DataError

MIN = 60_000_000_000


def session_minutes(start: str, days: int) -> np.ndarray:
    table = get_calendar().sessions_from(start, days)
    return np.concatenate(
        [
            np.arange(o, c, MIN, dtype=np.int64)
            for o, c in zip(table.open_ns, table.close_ns, strict=True)
        ]
    )


def frame_at(ts: np.ndarray, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    c = 100.0 + np.cumsum(rng.normal(0, 0.1, ts.shape[0]))
    o = np.r_[100.0, c[:-1]]
    return pd.DataFrame(
        {"open": o, "high": np.maximum(o, c) + rng.uniform(0, 0.1, ts.shape[0]),
         "low": np.minimum(o, c) - rng.uniform(0, 0.1, ts.shape[0]), "close": c,
         "volume": rng.integers(1, 100, ts.shape[0]).astype(float)},
        index=pd.DatetimeIndex(ts.view("datetime64[ns]"), name="ts").tz_localize("UTC"),
    )  # fmt: skip


def ny(idx: pd.Index) -> list[str]:
    return [t.tz_convert("America/New_York").strftime("%H:%M") for t in idx]


class TestParseRule:
    def test_rules(self) -> None:
        assert parse_rule("5min") == ("fixed", 5 * MIN)
        assert parse_rule("15m") == ("fixed", 15 * MIN)
        assert parse_rule("4h") == ("fixed", 240 * MIN)
        assert parse_rule("1D") == ("day", 1440 * MIN)
        assert parse_rule("W") == ("week", 7 * 1440 * MIN)

    @pytest.mark.parametrize("rule", ["1M", "2W", "0h", "abc", ""])
    def test_bad_rules(self, rule: str) -> None:
        with pytest.raises(ConfigError):
            parse_rule(rule)


class TestSessionAware:
    def test_hourly_buckets_align_to_open_and_close(self) -> None:
        df = frame_at(session_minutes("2024-01-02", 2))
        h1 = resample(df, "1h")
        assert h1.attrs["session_aware"] is True
        assert ny(h1.index[:7]) == ["09:30", "10:30", "11:30", "12:30", "13:30", "14:30", "15:30"]
        assert h1["n_bars"].tolist()[:7] == [60] * 6 + [30]
        assert h1["known_index"].tolist()[:7] == [59, 119, 179, 239, 299, 359, 389]
        first = df.iloc[:60]
        row = h1.iloc[0]
        assert row["open"] == first["open"].iloc[0] and row["close"] == first["close"].iloc[-1]
        assert row["high"] == first["high"].max() and row["low"] == first["low"].min()
        assert row["volume"] == first["volume"].sum()
        assert row["known_ts"] == df.index[59] + pd.Timedelta(minutes=1)

    def test_half_day_daily_and_hourly(self) -> None:
        df = frame_at(session_minutes("2024-11-27", 3))  # 27th, half day 29th, Dec 2nd
        d1 = resample(df, "1D")
        assert d1["n_bars"].tolist() == [390, 210, 390]
        assert [t.strftime("%m-%d") for t in d1.index] == ["11-27", "11-29", "12-02"]
        assert int(d1["known_index"].iloc[1]) == 390 + 209  # known at the 12:59 bar's close
        h1 = resample(df, "1h")
        half = h1.loc["2024-11-29"]
        assert ny(half.index) == ["09:30", "10:30", "11:30", "12:30"]
        assert half["n_bars"].tolist() == [60, 60, 60, 30]

    def test_weekly_ends_on_last_session_of_week(self) -> None:
        df = frame_at(session_minutes("2024-11-25", 10))  # Thanksgiving week, then a full week
        w = resample(df, "1W")
        assert len(w) == 2
        assert w["n_bars"].tolist() == [390 * 3 + 210, 390 * 5]
        assert int(w["known_index"].iloc[0]) == 390 * 3 + 209  # Friday 12:59, not Monday
        assert w.index[0].strftime("%Y-%m-%d") == "2024-11-25"

    def test_outside_session_bars_are_excluded(self) -> None:
        ts = session_minutes("2024-01-02", 1)
        pre = np.arange(ts[0] - 10 * MIN, ts[0], MIN, dtype=np.int64)
        df = frame_at(np.r_[pre, ts])
        h1 = resample(df, "1h", session_aware=True)
        assert ny(h1.index[:1]) == ["09:30"]
        assert int(h1["n_bars"].sum()) == 390


class TestPlainGrid:
    def test_4h_grid_and_pandas_reference(self) -> None:
        ts = np.arange(0, 3 * 1440, dtype=np.int64) * MIN + int(pd.Timestamp("2024-01-01").value)
        df = frame_at(ts[np.random.default_rng(1).random(ts.shape[0]) > 0.2])
        out = resample(df, "4h", session_aware=False)
        assert all(t.hour % 4 == 0 and t.minute == 0 for t in out.index)
        ref = df.resample("4h", label="left", closed="left").agg(
            {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
        )
        ref = ref.loc[out.index]
        pd.testing.assert_frame_equal(out[list(BAR_COLUMNS)], ref, check_freq=False)

    def test_weekly_plain_starts_monday(self) -> None:
        ts = np.arange(0, 20, dtype=np.int64) * 1440 * MIN + int(pd.Timestamp("2024-01-01").value)
        out = resample(frame_at(ts), "1W", session_aware=False)
        assert all(t.day_of_week == 0 for t in out.index)
        assert out["n_bars"].tolist() == [7, 7]  # the third week is still forming

    def test_day_offset(self) -> None:
        ts = np.arange(0, 2 * 24, dtype=np.int64) * 60 * MIN + int(pd.Timestamp("2024-01-02").value)
        out = resample(frame_at(ts), "1D", session_aware=False, day_offset_hours=22,
                       drop_partial_first=False)  # fmt: skip
        assert [t.hour for t in out.index] == [22, 22]
        assert out["n_bars"].tolist()[0] == 22

    def test_rule_shorter_than_base(self) -> None:
        ts = np.arange(0, 10, dtype=np.int64) * 60 * MIN
        with pytest.raises(ConfigError):
            resample(frame_at(ts), "5min", session_aware=False)


class TestKnownRules:
    def test_rule_b_data_gap(self) -> None:
        ts = session_minutes("2024-01-02", 1)
        gap = ts[(ts < ts[55]) | (ts >= ts[60])]  # 10:25-10:29 missing
        h1 = resample(frame_at(gap), "1h")
        assert int(h1["known_index"].iloc[0]) == 55  # the 10:30 bar (position 55) proves the end
        assert h1["known_ts"].iloc[0] == pd.Timestamp(gap[55] + MIN, tz="UTC")

    def test_forming_bucket_dropped_or_flagged(self) -> None:
        ts = session_minutes("2024-01-02", 1)[:75]  # ends 10:44, inside the 10:30 bucket
        h1 = resample(frame_at(ts), "1h")
        assert len(h1) == 1
        full = resample(frame_at(ts), "1h", include_forming=True)
        assert full["known_index"].tolist() == [59, -1]
        assert pd.isna(full["known_ts"].iloc[1])

    def test_partial_first_bucket(self) -> None:
        ts = session_minutes("2024-01-02", 1)[10:]
        assert ny(resample(frame_at(ts), "1h").index[:1]) == ["10:30"]
        kept = resample(frame_at(ts), "1h", drop_partial_first=False)
        assert ny(kept.index[:1]) == ["09:30"] and int(kept["n_bars"].iloc[0]) == 50

    def test_unsorted_input_rejected(self) -> None:
        ts = np.array([2, 1, 3], dtype=np.int64) * MIN
        with pytest.raises(DataError):
            resample_arrays(ts, *(np.ones(3),) * 5, "5min", session_aware=False)
        ok = np.array([1, 2, 3], dtype=np.int64) * MIN
        with pytest.raises(DataError):
            resample_arrays(ok, *(np.array([1.0, np.nan, 1.0]),) * 5, "5min", session_aware=False)


class TestIndexMap:
    def test_map_uses_known_time_not_label(self) -> None:
        ts = session_minutes("2024-01-02", 2)
        h1 = resample(frame_at(ts), "1h")
        m = htf_index_map(ts, h1)
        assert (m[:59] == -1).all() and m[59] == 0 and m[119] == 1 and m[118] == 0
        # every mapped HTF bar was known at the base bar's close
        known = pd.DatetimeIndex(h1["known_ts"]).as_unit("ns").asi8
        ok = m >= 0
        assert (known[m[ok]] <= ts[ok] + MIN).all()
        assert np.all(np.diff(m) >= 0)

    def test_map_onto_other_series(self) -> None:
        ts = session_minutes("2024-01-02", 1)
        h1 = resample(frame_at(ts), "1h")
        five = ts[::5]  # 5-minute bars: 09:30, 09:35, ...
        m = htf_index_map(five, h1, base_duration_ns=5 * MIN)
        assert m[np.searchsorted(five, ts[55])] == 0  # bar opening 10:25 closes at 10:30

    def test_arrays_input(self) -> None:
        ts = session_minutes("2024-01-02", 1)
        df = frame_at(ts)
        arr = resample_arrays(ts, *(df[c].to_numpy() for c in BAR_COLUMNS), "15min")
        np.testing.assert_array_equal(
            htf_index_map(ts, arr), htf_index_map(ts, resample(df, "15min"))
        )


# ----------------------------------------------------------------- no look-ahead property
_BASE = session_minutes("2024-11-26", 4)  # includes the Thanksgiving holiday and a half day


@settings(max_examples=40, deadline=None)
@given(
    keep_seed=st.integers(0, 10_000),
    drop_share=st.sampled_from([0.0, 0.05, 0.3]),
    rule=st.sampled_from(["5min", "15min", "1h", "4h", "1D", "1W"]),
    session_aware=st.booleans(),
    cut=st.floats(0.01, 1.0),
)
def test_truncation_never_changes_known_bars(
    keep_seed: int, drop_share: float, rule: str, session_aware: bool, cut: float
) -> None:
    rng = np.random.default_rng(keep_seed)
    ts = _BASE[rng.random(_BASE.shape[0]) >= drop_share]
    df = frame_at(ts, seed=keep_seed)
    kw = {"session_aware": session_aware, "base_duration_ns": MIN}
    full = resample(df, rule, **kw)
    k = max(1, int(cut * len(df)))
    part = resample(df.iloc[:k], rule, **kw)
    # everything known by bar k-1 in the full run is present, identical, in the truncated run
    known_early = full[full["known_index"] <= k - 1]
    pd.testing.assert_frame_equal(part, known_early, check_freq=False)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    rule=st.sampled_from(["5min", "15min", "1h", "4h", "1D"]),
    drop_share=st.sampled_from([0.0, 0.1, 0.5]),
)
def test_plain_grid_matches_pandas_resample(seed: int, rule: str, drop_share: float) -> None:
    rng = np.random.default_rng(seed)
    ts = np.arange(3 * 1440, dtype=np.int64) * MIN + int(pd.Timestamp("2024-03-01 00:07").value)
    ts = ts[rng.random(ts.shape[0]) >= drop_share]
    df = frame_at(ts, seed=seed)
    ours = resample(df, rule, session_aware=False, drop_partial_first=False, include_forming=True,
                    base_duration_ns=MIN)  # fmt: skip
    ref = df.resample(rule, label="left", closed="left").agg(
        {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}
    )
    ref = ref.dropna(subset=["open"])
    pd.testing.assert_frame_equal(ours[list(BAR_COLUMNS)], ref, check_freq=False)
    assert ours["n_bars"].sum() == len(df)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(0, 3000),
    spread_days=st.sampled_from([1, 30, 800]),
    order=st.sampled_from(["sorted", "shuffled"]),
    start=st.sampled_from(["1985-06-01", "2010-01-04", "2024-11-27 14:00", "2099-12-20"]),
)
def test_session_positions_match_the_calendar(
    seed: int, n: int, spread_days: int, order: str, start: str
) -> None:
    """The merge-walk lookup gives the calendar's binary-search answer exactly (inside and
    outside sessions, half days, unsorted input, outside the calendar's years)."""
    rng = np.random.default_rng(seed)
    t0 = int(pd.Timestamp(start, tz="UTC").value)
    ts = t0 + rng.integers(0, spread_days * 86_400, n) * 1_000_000_000
    if order == "sorted":
        ts = np.sort(ts)
    cal = get_calendar("XNYS")
    ours = session_positions(ts.astype(np.int64), cal)
    ref = cal.session_positions(ts.astype(np.int64))
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_array_equal(a, b)
