"""SSVI surface, expiry calendar and the synthetic option chain (no static arbitrage)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.enums import Right
from tradekit.core.events import OptionContract
from tradekit.errors import DataError
from tradekit.execution.base import QuoteSource
from tradekit.options.calendar import ExpiryKind, expiry_set, opex_dates, third_friday
from tradekit.options.chain import (
    ChainProvider,
    OptionChain,
    SyntheticChainProvider,
    generate_chain,
    tick_sizes,
)
from tradekit.options.pricing import implied_vol
from tradekit.options.surface import SSVIParams, SSVISurface


def ts_of(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").tz_convert("UTC").value)


TS = ts_of("2024-06-18 10:30")  # a Tuesday session


class TestSSVISurface:
    @settings(max_examples=60, deadline=None)
    @given(
        vix=st.floats(8.0, 80.0),
        rho=st.floats(-0.95, 0.5),
        eta=st.floats(0.2, 4.0),
        gamma=st.floats(0.05, 0.95),
        k=st.floats(-1.5, 1.0),
    )
    def test_total_variance_non_decreasing_in_t(
        self, vix: float, rho: float, eta: float, gamma: float, k: float
    ) -> None:
        surf = SSVISurface(SSVIParams.from_vix(vix, rho=rho, eta=eta, gamma=gamma))
        t = np.geomspace(1e-4, 3.0, 120)
        w = surf.total_variance(k, t)
        assert np.all(np.diff(w) >= -1e-12 * w[1:])

    @settings(max_examples=60, deadline=None)
    @given(rho=st.floats(-0.99, 0.99), eta=st.floats(0.1, 10.0), gamma=st.floats(0.01, 0.99))
    def test_no_butterfly_caps_hold(self, rho: float, eta: float, gamma: float) -> None:
        surf = SSVISurface(SSVIParams(rho=rho, eta=eta, gamma=gamma))
        theta = np.geomspace(1e-6, 10.0, 200)
        phi = surf.phi(theta)
        a = 1 + abs(rho)
        assert np.all(theta * phi * a <= 4 + 1e-9)
        assert np.all(theta * phi**2 * a <= 4 + 1e-9)

    def test_vix_level_sets_thirty_day_variance(self) -> None:
        for vix in (12.0, 18.0, 35.0):
            surf = SSVISurface(SSVIParams.from_vix(vix))
            assert surf.atm_vol(30 / 365) == pytest.approx(vix / 100, rel=1e-9)

    def test_skew_puts_richer_than_calls(self) -> None:
        surf = SSVISurface(SSVIParams.from_vix(18.0))
        assert surf.vol(-0.1, 0.1) > surf.vol(0.0, 0.1) > surf.vol(0.05, 0.1) - 0.05

    def test_atm_vol_fn_must_be_calendar_free(self) -> None:
        SSVISurface(atm_vol_fn=lambda t: 0.2 + 0 * t)
        with pytest.raises(ValueError, match="calendar"):
            SSVISurface(atm_vol_fn=lambda t: 0.3 * np.exp(-t))

    def test_bad_params_and_t(self) -> None:
        with pytest.raises(ValueError, match="rho"):
            SSVIParams(rho=1.0)
        with pytest.raises(ValueError, match="vix"):
            SSVIParams.from_vix(-3.0)
        assert np.isnan(SSVISurface().vol(0.0, 0.0))


class TestExpiryCalendar:
    def test_index_listings(self) -> None:
        ex = expiry_set("SPY", dt.date(2024, 6, 18))
        dates = [d.astype(dt.date) for d in ex.dates]
        assert dates[0] == dt.date(2024, 6, 18)  # 0DTE
        assert dt.date(2024, 6, 19) not in dates  # Juneteenth holiday: no daily
        assert dt.date(2024, 7, 19) in dates  # monthly (third Friday)
        assert dt.date(2024, 9, 30) in dates  # quarterly
        assert dt.date(2026, 1, 16) in dates  # LEAPS
        assert ex.kind[dates.index(dt.date(2024, 7, 19))] == ExpiryKind.MONTHLY

    def test_holiday_monthly_moves_to_thursday(self) -> None:
        assert third_friday(2025, 4) == dt.date(2025, 4, 18)  # Good Friday
        dates = [d.astype(dt.date) for d in expiry_set("AAPL", dt.date(2025, 4, 1)).dates]
        assert dt.date(2025, 4, 17) in dates and dt.date(2025, 4, 18) not in dates
        assert dt.date(2025, 4, 17) in opex_dates(dt.date(2025, 1, 1), dt.date(2025, 12, 31))

    def test_stock_has_no_dailies(self) -> None:
        ex = expiry_set("AAPL", dt.date(2024, 6, 18))
        assert ExpiryKind.DAILY not in set(ex.kind.tolist())
        assert all(d.astype(dt.date).weekday() in (3, 4) for d in ex.dates)


def _call_rows(ch: OptionChain, expiry: np.datetime64) -> tuple[np.ndarray, np.ndarray]:
    m = (ch.expiry == expiry) & (ch.right == 1)
    order = np.argsort(ch.strike[m])
    return ch.strike[m][order], ch.theo[m][order]


class TestChainNoArbitrage:
    @settings(max_examples=25, deadline=None)
    @given(
        underlying=st.sampled_from(["SPY", "SPX", "QQQ", "AAPL"]),
        spot_scale=st.floats(0.5, 2.0),
        atm_vol=st.floats(0.08, 0.9),
        day=st.sampled_from(["2024-06-18 10:30", "2024-11-29 12:00", "2025-04-16 15:59"]),
    )
    def test_calls_decreasing_convex_and_calendar(
        self, underlying: str, spot_scale: float, atm_vol: float, day: str
    ) -> None:
        base = {"SPY": 540.0, "SPX": 5400.0, "QQQ": 470.0, "AAPL": 190.0}[underlying]
        ch = generate_chain(underlying, ts_of(day), base * spot_scale, atm_vol, max_dte=400)
        for e in ch.expiries():
            k, c = _call_rows(ch, e)
            slope = np.diff(c) / np.diff(k)
            tol = 1e-9 * ch.spot
            assert np.all(slope <= tol)  # decreasing in strike
            assert np.all(np.diff(slope) >= -1e-7)  # convex in strike
        # total variance non-decreasing in T at fixed log-moneyness (the surface of the chain)
        exps = ch.expiries()
        for lm in (-0.1, 0.0, 0.05):
            w = []
            for e in exps:
                m = (ch.expiry == e) & (ch.right == 1)
                fwd = ch.spot * np.exp((ch.r - ch.q) * ch.t[m][0])
                x = np.log(ch.strike[m] / fwd)
                order = np.argsort(x)
                iv = np.interp(lm, x[order], ch.iv[m][order])
                w.append(iv * iv * ch.t[m][0])
            if len(w) > 1 and all(np.isfinite(w)):
                # interpolation of vol across strikes is approximate; allow a small slack
                assert np.all(np.diff(w) >= -2e-4 * np.array(w[1:]))

    def test_iv_column_is_the_iv_of_the_model_price(self) -> None:
        ch = generate_chain("SPY", TS, 545.0, 0.14, max_dte=45)
        fwd_intrinsic = np.maximum(
            ch.right * (ch.spot * np.exp(-ch.q * ch.t) - ch.strike * np.exp(-ch.r * ch.t)), 0
        )
        ok = ch.theo - fwd_intrinsic > 1e-3  # enough time value to carry a vol
        back = implied_vol(
            ch.theo[ok], ch.spot, ch.strike[ok], ch.t[ok], ch.r, ch.q, ch.right[ok].astype(float)
        )
        np.testing.assert_allclose(back, ch.iv[ok], rtol=1e-6)


class TestQuotes:
    @pytest.mark.parametrize("underlying, spot", [("SPY", 545.0), ("SPX", 5450.0), ("MSFT", 420.0)])
    def test_bid_mid_ask_and_ticks(self, underlying: str, spot: float) -> None:
        ch = generate_chain(underlying, TS, spot, 0.15, max_dte=90)
        assert np.all(ch.bid >= 0) and np.all(ch.bid <= ch.mid) and np.all(ch.mid <= ch.ask)
        assert np.all(ch.bid <= ch.theo + 1e-12) and np.all(ch.theo <= ch.ask + 1e-12)
        assert np.all(ch.ask > ch.bid)
        small, large = tick_sizes(underlying)
        for px in (ch.bid, ch.ask):
            tick = np.where(px < 3.0, small, large)
            units = px / tick
            np.testing.assert_allclose(units, np.round(units), atol=1e-6)

    def test_liquidity_falls_away_from_the_money(self) -> None:
        ch = generate_chain("SPY", TS, 545.0, 0.14, max_dte=60)
        ad = np.abs(ch.delta)
        near, far = (ad > 0.4) & (ad < 0.6), ad < 0.05
        assert ch.open_interest[near].mean() > 3 * ch.open_interest[far].mean()
        assert ch.volume[near].mean() > 3 * ch.volume[far].mean()
        assert ch.spread_pct[near].mean() < ch.spread_pct[far].mean()

    def test_deterministic_given_seed(self) -> None:
        a = generate_chain("QQQ", TS, 470.0, 0.2, rng_seed=3, max_dte=30)
        b = generate_chain("QQQ", TS, 470.0, 0.2, rng_seed=3, max_dte=30)
        c = generate_chain("QQQ", TS, 470.0, 0.2, rng_seed=4, max_dte=30)
        np.testing.assert_array_equal(a.open_interest, b.open_interest)
        assert not np.array_equal(a.open_interest, c.open_interest)

    def test_bad_spot_is_data_error(self) -> None:
        with pytest.raises(DataError):
            generate_chain("SPY", TS, -1.0, 0.2)
        with pytest.raises(DataError):
            generate_chain("SPY", TS, 500.0, float("nan"))


class TestChainApi:
    def test_filter_frame_and_quote(self) -> None:
        ch = generate_chain("SPY", TS, 545.0, 0.14, max_dte=30)
        sub = ch.filter(right="P", dte_min=5, dte_max=20, abs_delta_min=0.3, abs_delta_max=0.5)
        assert len(sub) > 0 and np.all(sub.right == -1)
        assert np.all((sub.dte >= 5) & (sub.dte <= 20))
        assert np.all((np.abs(sub.delta) >= 0.3) & (np.abs(sub.delta) <= 0.5))
        df = sub.to_frame()
        assert set(df["right"]) == {"P"} and len(df) == len(sub)
        c = sub.contract(0)
        assert c.right is Right.PUT and sub.quote(c) == ch.quote(c)
        missing = OptionContract("SPY", dt.date(2024, 6, 21), 545.5, Right.CALL)
        assert ch.quote(missing) is None

    def test_expired_rows_are_not_listed(self) -> None:
        ch = generate_chain("SPY", ts_of("2024-06-18 16:00"), 545.0, 0.14, max_dte=3)
        assert np.datetime64("2024-06-18") not in ch.expiries()
        assert np.all(ch.t > 0)

    def test_provider_protocols_and_quote_consistency(self) -> None:
        prov = SyntheticChainProvider(lambda sym, ts: 545.0, lambda sym, ts: 0.14, max_dte=30)
        assert isinstance(prov, ChainProvider) and isinstance(prov, QuoteSource)
        ch = prov.chain("SPY", TS)
        assert prov.chain("SPY", TS) is ch  # cached
        for i in (0, len(ch) // 3, len(ch) - 1):
            c = ch.contract(i)
            assert prov.quote(c, TS) == ch.quote(c)
        off_grid = OptionContract("SPY", ch.contract(0).expiry, 545.5, Right.CALL)
        assert prov.quote(off_grid, TS) is not None  # positions keep their quotes
        expired = OptionContract("SPY", dt.date(2024, 6, 17), 545.0, Right.CALL)
        assert prov.quote(expired, TS) is None
        row = prov.contract_row(ch.contract(5), TS)
        assert row is not None and row["delta"] == ch.delta[5] and row["vega"] == ch.vega[5]

    def test_provider_without_spot(self) -> None:
        prov = SyntheticChainProvider(lambda sym, ts: None)
        with pytest.raises(DataError):
            prov.chain("SPY", TS)
        c = OptionContract("SPY", dt.date(2024, 6, 21), 545.0, Right.CALL)
        assert prov.quote(c, TS) is None
