"""The synthetic chain's numba kernels against a plain NumPy formulation of the same rules,
and chains narrowed to a selection's reach (``ChainReach``) against the whole chain."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.enums import TimeframeClass
from tradekit.data.market import MarketDataService
from tradekit.options import nb
from tradekit.options.base import CHAIN_COLUMNS, ChainReach, OptionChain
from tradekit.options.calendar import expiry_set, is_index_like
from tradekit.options.chain import SyntheticChainProvider, generate_chain, strike_grid, tick_sizes
from tradekit.options.selection import select_long_option, select_vertical
from tradekit.options.surface import SSVIParams, SSVISurface
from tradekit.testing.references import hash_uniform_numpy

TS = int(pd.Timestamp("2024-06-18 10:30", tz="America/New_York").tz_convert("UTC").value)
NS_PER_YEAR = 365 * 86_400 * 10**9
CLASSES = AlgorithmConfig().options.classes
BASE_OI = {"SPY": 30_000.0, "SPX": 8_000.0, "QQQ": 20_000.0}


def _increment(u: str, spot: float) -> float:
    if u in ("SPX", "SPXW", "NDX"):
        return 5.0
    if is_index_like(u):
        return 1.0
    return next((inc for lim, inc in ((25.0, 0.5), (100.0, 1.0), (250.0, 2.5)) if spot < lim), 5.0)


def _grid(u: str, spot: float, t: float, vol: float) -> np.ndarray:
    inc = _increment(u, spot)
    width = max(3.5 * vol * np.sqrt(max(t, 1.0 / 365)), 0.05)
    lo, hi = max(spot * np.exp(-width), 0.3 * spot), min(spot * np.exp(width), 2.5 * spot)
    near_lo, near_hi = max(lo, 0.9 * spot), min(hi, 1.1 * spot)
    fine = np.arange(np.ceil(near_lo / inc), np.floor(near_hi / inc) + 1) * inc
    big = 5 * inc
    low = np.arange(np.ceil(lo / big), np.ceil(near_lo / big)) * big
    high = np.arange(np.floor(near_hi / big) + 1, np.floor(hi / big) + 1) * big
    grid = np.concatenate([low[low < near_lo], fine, high[high > near_hi]])
    return grid[grid > 0]


def numpy_chain(u: str, ts: int, spot: float, vol: float, seed: int) -> dict[str, np.ndarray]:
    """The module docstring's rules of :mod:`tradekit.options.chain`, in array NumPy."""
    surf = SSVISurface(SSVIParams.from_vix(100 * vol))
    day = pd.Timestamp(ts, tz="UTC").tz_convert("America/New_York").date()
    ex = expiry_set(u, day)
    day_num = int(np.datetime64(day, "D").astype(np.int64))
    keep = ex.close_ns > ts
    parts = [
        (int(d), int(c), int(k), _grid(u, spot, (c - ts) / NS_PER_YEAR, vol))
        for d, c, k in zip(
            ex.dates.astype(np.int64)[keep], ex.close_ns[keep], ex.kind[keep], strict=True
        )
    ]
    sizes = [len(g) for *_, g in parts]
    strike = np.tile(np.concatenate([g for *_, g in parts]), 2)
    days, close, kind = (np.tile(np.repeat([p[j] for p in parts], sizes), 2) for j in range(3))
    right = np.repeat([1, -1], len(strike) // 2)
    r, q = 0.04, 0.013
    t = (close - ts) / NS_PER_YEAR
    k = np.log(strike / (spot * np.exp((r - q) * t)))
    iv = surf.vol(k, t)
    sv = iv * np.sqrt(t)
    d1 = (np.log(spot / strike) + (r - q + 0.5 * iv * iv) * t) / sv
    from scipy.special import ndtr

    dq, dr = np.exp(-q * t), np.exp(-r * t)
    theo = np.maximum(
        right * (spot * dq * ndtr(right * d1) - strike * dr * ndtr(right * (d1 - sv))), 0
    )
    delta = right * dq * ndtr(right * d1)
    sd = np.abs(k) / np.maximum(sv, 1e-9)
    small, large = tick_sizes(u)
    pct = 0.004 if is_index_like(u) else 0.01
    half = 0.5 * small + pct * theo * (1.0 + 0.5 * np.minimum(sd, 5.0))
    raw_b, raw_a = theo - half, theo + half
    tb = np.where(raw_b < 3.0, small, large)
    bid = np.maximum(np.floor(raw_b / tb + 1e-9) * tb, 0.0)
    ask_s = np.ceil(raw_a / small - 1e-9) * small
    ask = np.where(ask_s <= 3.0, ask_s, np.ceil(raw_a / large - 1e-9) * large)
    ask = np.maximum(ask, bid + np.where(bid < 3.0, small, large))
    bid, ask = np.round(bid, 2), np.round(ask, 2)
    s = (seed * 1_000_003) ^ zlib.crc32(u.encode())
    cents = np.round(strike * 100).astype(np.int64)
    bonus = 1.0 + 0.6 * (cents % round(500 * _increment(u, spot)) == 0)
    u1, u2 = (
        hash_uniform_numpy(s, days, cents, right),
        hash_uniform_numpy(s + 1, days, cents, right),
    )
    kind_oi = np.array([0.35, 0.5, 0.8, 1.0])[kind]
    oi = BASE_OI.get(u, 3_000.0) * kind_oi * np.exp(-0.5 * (sd / 1.3) ** 2) * bonus
    oi = oi * np.exp(0.8 * (u1 - 0.5)) / (1.0 + t)
    turnover = 0.04 + 0.7 * np.exp(-np.maximum(days - day_num, 0) / 3.0)
    volume = oi * turnover * np.exp(-0.5 * sd**2) * np.exp(0.8 * (u2 - 0.5))
    return dict(
        strike=strike, right=right, dte=days - day_num, t=t, iv=iv, theo=theo, delta=delta,
        bid=bid, ask=ask, open_interest=np.floor(oi), volume=np.floor(volume),
    )  # fmt: skip


class TestKernelsAgainstNumPy:
    @settings(max_examples=40, deadline=None)
    @given(
        u=st.sampled_from(["SPY", "SPX", "QQQ", "AAPL"]),
        minute=st.integers(0, 389),
        day=st.integers(0, 300),
        spot_f=st.floats(0.2, 2.0),
        vol=st.floats(0.08, 0.9),
        seed=st.integers(0, 1000),
    )
    def test_chain_matches_numpy_rules(
        self, u: str, minute: int, day: int, spot_f: float, vol: float, seed: int
    ) -> None:
        ts = TS + day * 86_400 * 10**9 + minute * 60 * 10**9 - 60 * 60 * 10**9
        spot = {"SPX": 5000.0, "AAPL": 180.0}.get(u, 450.0) * spot_f
        try:
            ref = numpy_chain(u, ts, spot, vol, seed)
        except Exception:  # a weekend/holiday date without listings: nothing to compare
            return
        ch = generate_chain(u, ts, spot, vol, rng_seed=seed)
        assert len(ch) == len(ref["strike"])
        np.testing.assert_array_equal(ch.strike, ref["strike"])
        np.testing.assert_array_equal(ch.right, ref["right"])
        np.testing.assert_array_equal(ch.dte, ref["dte"])
        np.testing.assert_allclose(ch.t, ref["t"], rtol=1e-15)
        np.testing.assert_allclose(ch.iv, ref["iv"], rtol=1e-13)
        np.testing.assert_allclose(ch.theo, ref["theo"], rtol=1e-9, atol=1e-10)
        np.testing.assert_allclose(ch.delta, ref["delta"], rtol=1e-9, atol=1e-12)
        # tick rounding and floors: equal except where the NumPy reference sits within
        # floating-point noise of a tick or integer boundary
        for col in ("bid", "ask", "open_interest", "volume"):
            assert np.mean(getattr(ch, col) == ref[col]) > 0.995, col

    @pytest.mark.parametrize("spot", [3.0, 18.0, 99.5, 240.0, 545.0, 5432.1])
    @pytest.mark.parametrize("t", [0.0, 1 / 365, 0.1, 2.0])
    def test_strike_grid(self, spot: float, t: float) -> None:
        for u in ("SPY", "SPX", "AAPL"):
            got = strike_grid(u, spot, t, 0.25)
            np.testing.assert_array_equal(got, _grid(u, spot, t, 0.25))
            assert len(got) <= nb.strike_grid_capacity(spot, _increment(u, spot))


REACHES = [
    ChainReach(0, 7, 1, 0.40, 0.70),
    ChainReach(0, 7, -1, 0.40, 0.70),
    ChainReach(14, 45, 1, 0.30, 0.60),
    ChainReach(30, 60, -1),
    ChainReach(0, None, None, 0.05, 0.95),
    ChainReach(3, 3),
]


def _narrowed(whole: OptionChain, reach: ChainReach) -> OptionChain:
    lo, hi = reach.delta_band()
    ad = np.abs(whole.delta)
    m = (whole.dte >= reach.dte_min) & (ad >= lo) & (ad <= hi)
    if reach.dte_max is not None:
        m &= whole.dte <= reach.dte_max
    if reach.right is not None:
        m &= whole.right == reach.right
    return whole.take(m)


class TestChainReach:
    @pytest.mark.parametrize("reach", REACHES, ids=repr)
    @pytest.mark.parametrize("u,spot", [("SPY", 545.0), ("SPX", 5450.0), ("AAPL", 190.0)])
    def test_reach_lists_the_whole_chains_rows(
        self, reach: ChainReach, u: str, spot: float
    ) -> None:
        whole = generate_chain(u, TS, spot, 0.16, rng_seed=5)
        got = generate_chain(u, TS, spot, 0.16, rng_seed=5, reach=reach)
        want = _narrowed(whole, reach)
        assert 0 < len(got) < len(whole)
        for col in CHAIN_COLUMNS:
            np.testing.assert_array_equal(getattr(got, col), getattr(want, col), err_msg=col)

    @pytest.mark.parametrize("tf", list(TimeframeClass))
    @pytest.mark.parametrize("direction", [1, -1])
    def test_selection_from_the_reach_is_the_same(self, tf: TimeframeClass, direction: int) -> None:
        from tradekit.decision.options_engine import selection_reach

        p = CLASSES[tf]
        whole = generate_chain("SPY", TS, 545.0, 0.16, rng_seed=2)
        for strategy in ("long_option", "debit_spread", "credit_spread"):
            part = generate_chain(
                "SPY", TS, 545.0, 0.16, rng_seed=2, reach=selection_reach(direction, strategy, p)
            )
            if strategy == "long_option":
                a, b = (
                    select_long_option(whole, direction, p),
                    select_long_option(part, direction, p),
                )
            else:
                kind = "debit" if strategy == "debit_spread" else "credit"
                a = select_vertical(whole, direction, kind, p)  # type: ignore[arg-type]
                b = select_vertical(part, direction, kind, p)  # type: ignore[arg-type]
            assert (a is None) == (b is None), strategy
            if a is not None and b is not None:
                assert [(leg.contract, leg.ratio, leg.price) for leg in a.legs] == [
                    (leg.contract, leg.ratio, leg.price) for leg in b.legs
                ], strategy
                assert a.score == b.score and a.net_premium == b.net_premium

    def test_bad_reach(self) -> None:
        with pytest.raises(ValueError, match="right"):
            ChainReach(0, 7, 2)
        with pytest.raises(ValueError, match="both delta bounds"):
            ChainReach(0, 7, 1, 0.3)

    def test_market_passes_reach_or_falls_back_to_max_dte(self) -> None:
        idx = pd.date_range("2024-06-18 13:30", periods=30, freq="1min", tz="UTC")
        bars = pd.DataFrame(
            {"open": 545.0, "high": 545.5, "low": 544.5, "close": 545.0, "volume": 1e5}, index=idx
        )
        reach = ChainReach(0, 7, 1, 0.4, 0.7)
        md = MarketDataService.with_synthetic_chains({"SPY": bars}, seed=1)
        narrowed = md.option_chain("SPY", idx[5], reach=reach)
        whole = md.option_chain("SPY", idx[5])
        assert narrowed is not None and whole is not None
        assert len(narrowed) < len(whole)
        assert set(np.unique(narrowed.right)) == {1}

        class MaxDteOnly:  # a provider that can narrow by expiry only
            def __init__(self, inner: SyntheticChainProvider) -> None:
                self.inner = inner

            def chain(
                self, underlying: str, ts_ns: int, *, max_dte: int | None = None
            ) -> OptionChain:
                return self.inner.chain(underlying, ts_ns, max_dte=max_dte)

        assert isinstance(md.chain_provider, SyntheticChainProvider)
        md2 = MarketDataService({"SPY": bars}, chain_provider=MaxDteOnly(md.chain_provider))
        got = md2.option_chain("SPY", idx[5], reach=reach)
        assert got is not None and int(got.dte.max()) <= 7 and set(np.unique(got.right)) == {1, -1}


class TestSurfaceTerms:
    @settings(max_examples=50, deadline=None)
    @given(vix=st.floats(8.0, 80.0), rho=st.floats(-0.95, 0.5), gamma=st.floats(0.05, 0.95))
    def test_terms_equal_theta_and_phi(self, vix: float, rho: float, gamma: float) -> None:
        surf = SSVISurface(SSVIParams.from_vix(vix, rho=rho, gamma=gamma))
        t = np.array([-1.0, 0.0, 1e-5, 1 / 365, 0.1, 1.0, 3.0, np.nan])
        th, ph = surf.terms(t)
        np.testing.assert_allclose(th, surf.theta(t), rtol=1e-14, equal_nan=True)
        np.testing.assert_allclose(ph, surf.phi(surf.theta(t)), rtol=1e-14, equal_nan=True)
        assert np.isnan(th[:2]).all() and np.isnan(th[-1])

    def test_terms_of_an_atm_vol_fn_surface(self) -> None:
        surf = SSVISurface(atm_vol_fn=lambda t: 0.2 + 0.0 * t)
        th, ph = surf.terms(np.array([0.5, 1.0]))
        np.testing.assert_allclose(th, [0.02, 0.04])
        np.testing.assert_allclose(ph, surf.phi(th))
