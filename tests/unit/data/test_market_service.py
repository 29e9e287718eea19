"""MarketDataService: causal prices, bars, VIX, IV rank and cached option chains."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.data import datasets
from tradekit.data.market import MarketDataService
from tradekit.data.sources.base import DataFrameProvider
from tradekit.errors import DataError
from tradekit.options.volatility import iv_rank_last

BARS, VIX = datasets.synthetic_intraday("SPY", days=30, seed=5, with_vix=True)
TS = BARS.index.as_unit("ns").asi8
MIN = 60 * 10**9


def service(**kw: object) -> MarketDataService:
    return MarketDataService.with_synthetic_chains({"SPY": BARS}, vix=VIX, max_dte=20, **kw)  # type: ignore[arg-type]


class TestPricesAndBars:
    def test_price_is_last_closed_bar(self) -> None:
        svc = service()
        i = 500
        assert svc.price("SPY", int(TS[i])) == BARS["close"].iloc[i - 1]  # bar i-1 closed at ts
        assert svc.price("SPY", int(TS[i]) - 1) == BARS["close"].iloc[i - 2]
        assert svc.price("SPY", int(TS[0])) is None  # nothing closed yet
        assert svc.price("SPY", pd.Timestamp(TS[i], tz="UTC")) == BARS["close"].iloc[i - 1]

    def test_ohlcv_only_closed_bars(self) -> None:
        svc = service()
        end = int(TS[200]) + 30 * 10**9  # mid-bar: bar 200 is forming
        df = svc.ohlcv("SPY", int(TS[150]), end)
        assert len(df) == 50 and df.index[-1] == BARS.index[199]
        assert len(svc.ohlcv("SPY")) == len(BARS)

    @settings(max_examples=40, deadline=None)
    @given(i=st.integers(1, len(TS) - 2), offset=st.integers(0, 59))
    def test_no_look_ahead_truncation(self, i: int, offset: int) -> None:
        ts = int(TS[i]) + offset * 10**9
        known = BARS[BARS.index.as_unit("ns").asi8 <= ts]  # includes the forming bar
        full = MarketDataService({"SPY": BARS}, vix=VIX)
        cut = MarketDataService({"SPY": known}, vix=VIX[VIX.index.as_unit("ns").asi8 <= ts])
        assert full.price("SPY", ts) == cut.price("SPY", ts)
        assert full.vix(ts) == cut.vix(ts)
        assert full.iv_rank("SPY", ts) == cut.iv_rank("SPY", ts)
        pd.testing.assert_frame_equal(full.ohlcv("SPY", None, ts), cut.ohlcv("SPY", None, ts))

    def test_provider_backed_and_unknown_symbol(self) -> None:
        svc = MarketDataService(DataFrameProvider({"SPY": BARS}))
        assert svc.price("SPY", int(TS[10])) == BARS["close"].iloc[9]
        with pytest.raises(DataError):
            MarketDataService({"SPY": BARS}).price("QQQ", int(TS[10]))


class TestVolatility:
    def test_the_remembered_vix_answers_as_a_fresh_lookup(self) -> None:
        """``vix`` remembers the stretch of its last answer: asked in time order (bars of a
        replay), then shuffled, at and between the observation times, it gives what the
        as-of lookup of the whole series gives."""
        svc = MarketDataService({"SPY": BARS}, vix=VIX)
        known = VIX.index.as_unit("ns").asi8
        times = np.sort(
            np.concatenate([known - 1, known, known + 1, BARS.index.as_unit("ns").asi8])
        )
        times = np.concatenate([times, np.random.default_rng(3).permutation(times)])
        want = svc.vix_path(times)
        got = np.array([np.nan if (v := svc.vix(int(t))) is None else v for t in times])
        np.testing.assert_array_equal(got, want)

    def test_vix_as_of(self) -> None:
        svc = service()
        assert svc.vix(int(TS[0]) - 1) is None
        assert svc.vix(int(TS[10]) + 5) == VIX.iloc[10]
        assert MarketDataService({"SPY": BARS}).vix(int(TS[10])) is None

    def test_iv_rank_from_daily_history_plus_latest(self) -> None:
        svc = service(ivr_min_periods=5)
        i = len(TS) - 100
        ts = int(TS[i])
        ny_day = BARS.index.tz_convert("America/New_York").normalize()
        prior = VIX[ny_day < ny_day[i]]
        prior_daily = prior.groupby(ny_day[ny_day < ny_day[i]]).last().to_numpy()
        expected = iv_rank_last(np.append(prior_daily, VIX.iloc[i]), 252, min_periods=5)
        assert svc.iv_rank("SPY", ts) == pytest.approx(expected)
        assert 0 <= svc.iv_percentile("SPY", ts) <= 100  # type: ignore[operator]

    def test_iv_rank_needs_history(self) -> None:
        svc = service()  # min_periods 20 days > available at day 3
        assert svc.iv_rank("SPY", int(TS[3 * 390])) is None

    def test_symbol_iv_history_overrides_vix(self) -> None:
        iv = pd.Series(
            np.linspace(0.1, 0.3, 40),
            index=pd.date_range("2023-11-01 21:00", periods=40, freq="D", tz="UTC"),
        )
        svc = MarketDataService({"SPY": BARS}, vix=VIX, iv_history={"SPY": iv}, ivr_min_periods=5)
        assert svc.iv_rank("SPY", int(TS[-1])) == pytest.approx(100.0)


class TestOptionChains:
    def test_chain_cached_per_bucket_and_causal(self) -> None:
        svc = service()
        i = 1000
        a = svc.option_chain("SPY", int(TS[i]) + 5 * 10**9)
        b = svc.option_chain("SPY", int(TS[i]) + 50 * 10**9)
        assert a is not None and a is b
        assert a.ts_ns == int(TS[i]) and a.spot == svc.price("SPY", int(TS[i]))
        c = svc.option_chain("SPY", int(TS[i + 1]))
        assert c is not a

    def test_no_chain_without_data_or_provider(self) -> None:
        assert service().option_chain("SPY", int(TS[0])) is None  # no closed bar yet
        assert MarketDataService({"SPY": BARS}).option_chain("SPY", int(TS[5])) is None

    def test_bad_construction(self) -> None:
        with pytest.raises(ValueError):
            MarketDataService({"SPY": BARS}, bucket_ns=0)
        with pytest.raises(DataError):
            MarketDataService({"SPY": BARS}, vix=pd.Series([1.0, 2.0]))
