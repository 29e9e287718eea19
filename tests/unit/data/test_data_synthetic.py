"""Synthetic generator: determinism, calendar conformity, stylised facts, VIX, pairs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.data.calendar import get_calendar
from tradekit.data.schema import validate_bars
from tradekit.data.synthetic import synthetic_intraday, synthetic_pair, synthetic_vix
from tradekit.errors import ConfigError

MIN = 60_000_000_000


@pytest.fixture(scope="module")
def month() -> pd.DataFrame:
    return synthetic_intraday("SPY", start="2024-11-01", days=40, seed=3)


class TestDeterminism:
    def test_same_seed_same_bars(self) -> None:
        a = synthetic_intraday("SPY", days=3, seed=7)
        b = synthetic_intraday("SPY", days=3, seed=7)
        pd.testing.assert_frame_equal(a, b)

    def test_other_seed_other_bars(self) -> None:
        a = synthetic_intraday("SPY", days=3, seed=7)
        b = synthetic_intraday("SPY", days=3, seed=8)
        assert not np.allclose(a["close"].to_numpy(), b["close"].to_numpy())


class TestCalendar:
    def test_bars_are_session_minutes(self, month: pd.DataFrame) -> None:
        ts = month.index.asi8
        opens, _closes = get_calendar().session_open_close(ts)
        assert (opens >= 0).all()
        assert ((ts - opens) % MIN == 0).all()
        assert validate_bars(month).shape == month.shape

    def test_holiday_and_half_day(self, month: pd.DataFrame) -> None:
        per_day = month.groupby(month.index.tz_convert("America/New_York").date).size()
        days = {d.isoformat(): n for d, n in per_day.items()}
        assert "2024-11-28" not in days and "2024-12-25" not in days
        assert days["2024-11-29"] == 210 and days["2024-12-24"] == 210
        assert days["2024-11-27"] == 390
        first = month.index[0].tz_convert("America/New_York")
        assert first.strftime("%H:%M") == "09:30"

    def test_other_freq(self) -> None:
        five = synthetic_intraday("QQQ", days=2, freq="5min")
        assert len(five) == 2 * 78
        with pytest.raises(ConfigError):
            synthetic_intraday(days=1, freq="90s")
        with pytest.raises(ConfigError):
            synthetic_intraday(days=0)


class TestStylisedFacts:
    def test_price_levels_by_symbol(self) -> None:
        for sym, lo, hi in (("SPY", 400, 550), ("SPX", 4000, 5500), ("QQQ", 330, 480)):
            first = synthetic_intraday(sym, days=1)["open"].iloc[0]
            assert lo < first < hi
        assert synthetic_intraday("XYZ", days=1, start_price=42.0)["open"].iloc[0] == 42.0

    def test_u_shaped_volatility_and_volume(self, month: pd.DataFrame) -> None:
        minute = (month.index.asi8 - get_calendar().session_open_close(month.index.asi8)[0]) // MIN
        rng_pct = (month["high"] - month["low"]) / month["close"]
        by_min = pd.DataFrame(
            {"m": minute, "r": rng_pct.to_numpy(), "v": month["volume"].to_numpy()}
        )
        g = by_min[by_min["m"] < 390].groupby("m").mean()
        mid = g.loc[150:240].mean()
        assert g.loc[0:15].mean()["r"] > 1.3 * mid["r"]
        assert g.loc[375:389].mean()["r"] > 1.3 * mid["r"]
        assert g.loc[0:15].mean()["v"] > 1.3 * mid["v"]

    def test_overnight_gaps_exist(self, month: pd.DataFrame) -> None:
        day = month.index.tz_convert("America/New_York").date
        first = np.r_[True, day[1:] != day[:-1]]
        prev_close = month["close"].shift(1)
        gaps = (month["open"] - prev_close)[first].dropna()
        inside = (month["open"] - prev_close)[~first].dropna()
        assert (gaps.abs() > 0).mean() > 0.8
        assert (inside == 0).all()  # open = previous close inside a session

    def test_annualised_vol_is_plausible(self) -> None:
        bars = synthetic_intraday("SPY", days=250, seed=1)
        daily = bars["close"].groupby(bars.index.tz_convert("America/New_York").date).last()
        vol = float(np.log(daily).diff().std() * np.sqrt(252))
        assert 0.08 < vol < 0.45

    def test_labelled_synthetic(self, month: pd.DataFrame) -> None:
        assert month.attrs["synthetic"] is True
        assert "SYNTHETIC" in month.attrs["label"]


class TestVix:
    def test_with_vix_and_regenerated_vix_agree(self) -> None:
        bars, vix = synthetic_intraday("SPY", days=5, seed=2, with_vix=True)
        assert vix.index.equals(bars.index)
        pd.testing.assert_series_equal(synthetic_vix(bars), vix)
        pd.testing.assert_series_equal(synthetic_vix(symbol="SPY", days=5, seed=2), vix)
        assert vix.between(9, 150).all()

    def test_vix_tracks_realised_vol(self) -> None:
        bars, vix = synthetic_intraday("SPY", days=300, seed=5, with_vix=True)
        day = bars.index.tz_convert("America/New_York").date
        r = np.log(bars["close"]).diff()
        realised = r.groupby(day).std() * np.sqrt(252 * 390)
        level = vix.groupby(day).first()
        assert np.corrcoef(realised.to_numpy()[1:], level.to_numpy()[1:])[0, 1] > 0.6

    def test_daily_vix_and_pair_vix(self) -> None:
        bars, vix = synthetic_intraday("SPY", start="2024-11-25", days=5, seed=2, with_vix=True)
        daily = synthetic_vix(bars, per="day")
        assert len(daily) == 5
        assert daily.index[0] == pd.Timestamp("2024-11-25 14:30", tz="UTC")
        pd.testing.assert_series_equal(daily, vix.loc[daily.index])
        pair = synthetic_pair(("SPY", "QQQ"), start="2024-11-25", days=5, seed=2)
        pd.testing.assert_series_equal(synthetic_vix(pair["QQQ"]), vix)
        with pytest.raises(ConfigError):
            synthetic_vix(bars, per="week")  # type: ignore[arg-type]

    def test_vix_needs_synthetic_frame(self) -> None:
        with pytest.raises(ConfigError):
            synthetic_vix(pd.DataFrame())


class TestPair:
    def test_correlated_and_aligned(self) -> None:
        pair = synthetic_pair(("SPY", "QQQ"), days=10, seed=4, correlation=0.9)
        a, b = pair["SPY"], pair["QQQ"]
        assert a.index.equals(b.index)
        ra, rb = np.log(a["close"]).diff()[1:], np.log(b["close"]).diff()[1:]
        assert 0.8 < np.corrcoef(ra, rb)[0, 1] < 0.97
        pd.testing.assert_frame_equal(a, synthetic_intraday("SPY", days=10, seed=4))
        validate_bars(b)

    def test_bad_correlation(self) -> None:
        with pytest.raises(ConfigError):
            synthetic_pair(correlation=1.5)


class TestPrefixStable:
    """Issue #13, point 7: a seeded series never depends on how many days are asked for.

    Before the fix every draw came from one generator in one order, so ``days=261`` and
    ``days=265`` differed from the very first bar.
    """

    @settings(max_examples=12, deadline=None)
    @given(
        short=st.integers(1, 8),
        extra=st.integers(1, 6),
        seed=st.integers(0, 2**16),
        freq=st.sampled_from(["1min", "5min", "30min"]),
    )
    def test_a_longer_series_extends_a_shorter_one(
        self, short: int, extra: int, seed: int, freq: str
    ) -> None:
        start = "2024-11-25"  # Thanksgiving week: a holiday and a half day inside the span
        a = synthetic_intraday("SPY", start=start, days=short, seed=seed, freq=freq)
        b = synthetic_intraday("SPY", start=start, days=short + extra, seed=seed, freq=freq)
        pd.testing.assert_frame_equal(b.iloc[: len(a)], a)
        va = synthetic_vix(a, per="bar")
        vb = synthetic_vix(b, per="bar")
        pd.testing.assert_series_equal(vb.iloc[: len(va)], va)

    def test_the_issue_example(self) -> None:
        one = synthetic_intraday("SPY", start="2024-03-11", days=1, seed=3)
        five = synthetic_intraday("SPY", start="2024-03-11", days=5, seed=3)
        assert one["close"].iloc[-1] == five["close"].iloc[len(one) - 1]

    def test_pair_is_prefix_stable_too(self) -> None:
        a = synthetic_pair(("SPY", "QQQ"), start="2024-03-11", days=2, seed=5)
        b = synthetic_pair(("SPY", "QQQ"), start="2024-03-11", days=4, seed=5)
        for sym in ("SPY", "QQQ"):
            pd.testing.assert_frame_equal(b[sym].iloc[: len(a[sym])], a[sym])
