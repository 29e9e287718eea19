"""IV rank / IV percentile (causal, documented definitions) and VIX sources."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.data.sources.base import DataFrameProvider
from tradekit.errors import DataError
from tradekit.options.volatility import (
    daily_last,
    iv_percentile,
    iv_percentile_last,
    iv_rank,
    iv_rank_last,
    vix_series,
)

levels = st.lists(st.floats(5.0, 90.0), min_size=1, max_size=80)


class TestIvRank:
    def test_hand_values(self) -> None:
        s = pd.Series([10.0, 20.0, 15.0, 30.0, 10.0])
        r = iv_rank(s, window=3, min_periods=2)
        assert np.isnan(r.iloc[0])
        assert r.iloc[1] == 100.0  # at the window high
        assert r.iloc[2] == pytest.approx(50.0)  # (15-10)/(20-10)
        assert r.iloc[3] == 100.0
        assert r.iloc[4] == 0.0  # window [15, 30, 10]

    @settings(max_examples=100, deadline=None)
    @given(values=levels, window=st.integers(1, 30))
    def test_matches_pandas_reference(self, values: list[float], window: int) -> None:
        s = pd.Series(values)
        lo = s.rolling(window, min_periods=1).min()
        hi = s.rolling(window, min_periods=1).max()
        ref = ((s - lo) / (hi - lo) * 100).where(hi > lo)
        got = iv_rank(s, window, min_periods=1)
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), equal_nan=True)
        assert ((got.dropna() >= 0) & (got.dropna() <= 100)).all()

    @settings(max_examples=50, deadline=None)
    @given(values=levels, cut=st.integers(1, 80))
    def test_causal_truncation_never_changes_the_past(self, values: list[float], cut: int) -> None:
        s = pd.Series(values)
        full = iv_rank(s, 10, min_periods=1)
        part = iv_rank(s.iloc[:cut], 10, min_periods=1)
        np.testing.assert_array_equal(full.iloc[: len(part)].to_numpy(), part.to_numpy())
        assert iv_rank_last(values[:cut], 10, min_periods=1) == pytest.approx(
            part.iloc[-1], nan_ok=True
        )

    def test_nan_days_are_skipped_and_flat_window_is_nan(self) -> None:
        r = iv_rank(pd.Series([10.0, np.nan, 20.0, 20.0]), 3, min_periods=2)
        assert np.isnan(r.iloc[1]) and r.iloc[2] == 100.0
        assert np.isnan(iv_rank(pd.Series([5.0, 5.0, 5.0]), 3, min_periods=1).iloc[-1])

    def test_bad_window(self) -> None:
        with pytest.raises(ValueError):
            iv_rank(pd.Series([1.0]), 0)


class TestIvPercentile:
    def test_hand_values(self) -> None:
        s = pd.Series([10.0, 20.0, 15.0, 30.0, 12.0])
        p = iv_percentile(s, window=3, min_periods=1)
        assert np.isnan(p.iloc[0])  # no prior day
        assert p.iloc[1] == 100.0
        assert p.iloc[2] == pytest.approx(50.0)  # 10 < 15, 20 > 15
        assert p.iloc[4] == pytest.approx(0.0)  # prior [20, 15, 30]: none below 12

    @settings(max_examples=100, deadline=None)
    @given(values=levels, window=st.integers(1, 30))
    def test_matches_pandas_reference(self, values: list[float], window: int) -> None:
        s = pd.Series(values)
        ref = s.rolling(window + 1, min_periods=2).apply(
            lambda a: (a[:-1] < a[-1]).mean() * 100, raw=True
        )
        got = iv_percentile(s, window, min_periods=1)
        np.testing.assert_allclose(got.to_numpy(), ref.to_numpy(), equal_nan=True)
        if len(values) > 1:
            assert iv_percentile_last(values, window, min_periods=1) == pytest.approx(
                got.iloc[-1], nan_ok=True
            )


class TestDailyAndSources:
    def test_daily_last_by_new_york_date(self) -> None:
        idx = pd.DatetimeIndex(
            ["2024-01-02 14:30", "2024-01-02 20:59", "2024-01-03 01:00", "2024-01-03 15:00"],
            tz="UTC",
        )
        d = daily_last(pd.Series([1.0, 2.0, 3.0, 4.0], index=idx))
        # 01:00 UTC on the 3rd is still the 2nd in New York
        assert d.tolist() == [3.0, 4.0]
        assert d.index[0] == idx[2]
        with pytest.raises(DataError):
            daily_last(pd.Series([1.0], index=pd.DatetimeIndex(["2024-01-02"])))

    def test_synthetic_vix_source(self) -> None:
        v = vix_series("synthetic", symbol="SPY", days=3, seed=2)
        assert v.index.tz is not None and (v > 0).all()
        with pytest.raises(ValueError):
            vix_series("bloomberg")

    def test_provider_vix_is_stamped_at_the_close(self) -> None:
        idx = pd.DatetimeIndex(["2024-01-02 14:30", "2024-01-03 14:30"], tz="UTC", name="ts")
        bars = pd.DataFrame(
            {
                "open": [13.0, 14.0],
                "high": [15.0, 15.0],
                "low": [12.0, 13.0],
                "close": [14.0, 14.5],
                "volume": [0.0, 0.0],
            },
            index=idx,
        )
        v = vix_series(DataFrameProvider({"^VIX": bars}))
        assert v.tolist() == [14.0, 14.5]
        assert v.index[0] == pd.Timestamp("2024-01-02 21:00", tz="UTC")
