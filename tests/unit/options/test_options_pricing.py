"""Black-Scholes-Merton prices, Greeks and implied vol (tradekit.options.pricing)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tradekit.options.pricing import (
    Greeks,
    bsm_price,
    implied_vol,
    price_greeks,
    rights_to_sign,
    theta_per_day,
    vega_per_point,
)

HULL = dict(spot=42.0, strike=40.0, t=0.5, r=0.10, q=0.0, vol=0.20)


class TestTextbookValues:
    def test_hull_call_and_put(self) -> None:
        call = price_greeks(**HULL, is_call=True)
        put = price_greeks(**HULL, is_call=False)
        assert call.price == pytest.approx(4.7594, abs=5e-5)
        assert put.price == pytest.approx(0.8086, abs=5e-5)
        assert call.delta == pytest.approx(0.7791, abs=5e-5)

    def test_scalar_input_gives_floats(self) -> None:
        g = price_greeks(**HULL, is_call=True)
        assert isinstance(g, Greeks)
        assert all(isinstance(v, float) for v in g)

    def test_rights_accept_bool_sign_and_letters(self) -> None:
        prices = [bsm_price(**HULL, is_call=x) for x in (True, 1, "C", "call")]
        assert prices == [prices[0]] * 4
        assert bsm_price(**HULL, is_call="P") == bsm_price(**HULL, is_call=-1)
        assert np.isnan(rights_to_sign(["X"])[0])
        assert math.isnan(bsm_price(**HULL, is_call=0))


class TestParity:
    def test_put_call_parity_price_and_every_greek(self) -> None:
        rng = np.random.default_rng(1)
        n = 2000
        s = rng.uniform(20, 500, n)
        k = s * rng.uniform(0.5, 1.8, n)
        t = rng.uniform(0.01, 3.0, n)
        r = rng.uniform(-0.01, 0.1, n)
        q = rng.uniform(0.0, 0.06, n)
        v = rng.uniform(0.05, 2.0, n)
        c = price_greeks(s, k, t, r, q, v, True)
        p = price_greeks(s, k, t, r, q, v, False)
        dq, dr = np.exp(-q * t), np.exp(-r * t)
        tol = 1e-10 * np.maximum(1.0, s)
        np.testing.assert_array_less(np.abs(c.price - p.price - (s * dq - k * dr)), tol)
        np.testing.assert_array_less(np.abs(c.delta - p.delta - dq), 1e-10)
        np.testing.assert_array_less(np.abs(c.gamma - p.gamma), 1e-10)
        np.testing.assert_array_less(np.abs(c.vega - p.vega), tol)
        theta_diff = q * s * dq - r * k * dr
        np.testing.assert_array_less(np.abs(c.theta - p.theta - theta_diff), tol)
        np.testing.assert_array_less(np.abs(c.rho - p.rho - k * t * dr), tol)
        np.testing.assert_array_less(np.abs(c.rho_q - p.rho_q + s * t * dq), tol)


class TestGreeksAreDerivatives:
    @pytest.mark.parametrize("is_call", [True, False])
    @pytest.mark.parametrize(
        "case",
        [
            (100.0, 100.0, 0.25, 0.03, 0.01, 0.2),
            (100.0, 80.0, 1.5, 0.05, 0.02, 0.35),
            (500.0, 560.0, 0.05, 0.04, 0.013, 0.15),
            (42.0, 40.0, 0.5, 0.10, 0.0, 0.20),
        ],
    )
    def test_finite_differences(self, case: tuple[float, ...], is_call: bool) -> None:
        s, k, t, r, q, v = case
        g = price_greeks(s, k, t, r, q, v, is_call)

        def px(**kw: float) -> float:
            a = dict(spot=s, strike=k, t=t, r=r, q=q, vol=v) | kw
            return float(bsm_price(**a, is_call=is_call))

        hd, hs, hv, ht, hr = 1e-5 * s, 1e-3 * s, 1e-5, 1e-6, 1e-6
        assert g.delta == pytest.approx((px(spot=s + hd) - px(spot=s - hd)) / (2 * hd), abs=1e-7)
        gamma_fd = (px(spot=s + hs) - 2 * px() + px(spot=s - hs)) / hs**2
        assert g.gamma == pytest.approx(gamma_fd, rel=1e-4, abs=1e-7)
        assert g.vega == pytest.approx((px(vol=v + hv) - px(vol=v - hv)) / (2 * hv), rel=1e-6)
        theta_fd = -(px(t=t + ht) - px(t=t - ht)) / (2 * ht)
        assert g.theta == pytest.approx(theta_fd, rel=1e-5, abs=1e-6)
        assert g.rho == pytest.approx((px(r=r + hr) - px(r=r - hr)) / (2 * hr), rel=1e-6, abs=1e-6)
        assert g.rho_q == pytest.approx(
            (px(q=q + hr) - px(q=q - hr)) / (2 * hr), rel=1e-6, abs=1e-6
        )


class TestEdgeCases:
    def test_expiry_is_intrinsic_with_delta_step(self) -> None:
        g = price_greeks(np.array([90.0, 100.0, 110.0]), 100.0, 0.0, 0.05, 0.0, 0.2, True)
        np.testing.assert_array_equal(g.price, [0.0, 0.0, 10.0])
        np.testing.assert_array_equal(g.delta, [0.0, 0.5, 1.0])
        for name in ("gamma", "vega", "theta", "rho", "rho_q"):
            np.testing.assert_array_equal(getattr(g, name), 0.0)
        put = price_greeks(90.0, 100.0, 0.0, 0.05, 0.0, 0.2, False)
        assert put.price == 10.0 and put.delta == -1.0

    def test_zero_vol_is_discounted_forward_intrinsic(self) -> None:
        g = price_greeks(100.0, 90.0, 1.0, 0.05, 0.0, 0.0, True)
        assert g.price == pytest.approx(100.0 - 90.0 * math.exp(-0.05))
        assert g.delta == 1.0 and g.gamma == 0.0

    @pytest.mark.parametrize(
        "bad",
        [
            dict(spot=0.0),
            dict(spot=-1.0),
            dict(strike=0.0),
            dict(t=-0.1),
            dict(vol=-0.2),
            dict(vol=float("nan")),
            dict(r=float("inf")),
            dict(spot=float("nan")),
        ],
    )
    def test_bad_input_is_nan_not_exception(self, bad: dict[str, float]) -> None:
        g = price_greeks(**(HULL | bad), is_call=True)
        assert all(math.isnan(x) for x in g)

    def test_bad_element_only_poisons_its_position(self) -> None:
        g = price_greeks(np.array([42.0, -1.0, 42.0]), 40.0, 0.5, 0.1, 0.0, 0.2, True)
        assert np.isnan(g.price[1]) and np.isfinite(g.price[[0, 2]]).all()

    def test_shape_mismatch_raises_value_error(self) -> None:
        with pytest.raises(ValueError, match="broadcast"):
            price_greeks(np.ones(3), np.ones(4), 0.5, 0.1, 0.0, 0.2, True)

    def test_broadcasting_shapes(self) -> None:
        spots = np.linspace(90, 110, 5).reshape(5, 1)
        strikes = np.array([95.0, 100.0, 105.0])
        g = price_greeks(spots, strikes, 0.5, 0.02, 0.0, 0.25, [[True, False, True]])
        assert g.price.shape == (5, 3)
        assert g.price[2, 1] == pytest.approx(bsm_price(100.0, 100.0, 0.5, 0.02, 0.0, 0.25, False))

    def test_parallel_kernel_is_identical(self) -> None:
        rng = np.random.default_rng(3)
        k = rng.uniform(50, 150, 1000)
        a = price_greeks(100.0, k, 0.3, 0.02, 0.01, 0.3, True, parallel=False)
        b = price_greeks(100.0, k, 0.3, 0.02, 0.01, 0.3, True, parallel=True)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_array_equal(x, y)
        p = a.price
        np.testing.assert_array_equal(
            implied_vol(p, 100.0, k, 0.3, 0.02, 0.01, True, parallel=False),
            implied_vol(p, 100.0, k, 0.3, 0.02, 0.01, True, parallel=True),
        )

    def test_unit_helpers(self) -> None:
        assert theta_per_day(-365.0) == pytest.approx(-1.0)
        assert vega_per_point(8.0) == pytest.approx(0.08)
        np.testing.assert_allclose(theta_per_day(np.array([730.0])), [2.0])


class TestImpliedVol:
    def test_hull_round_trip(self) -> None:
        price = bsm_price(**HULL, is_call=True)
        assert implied_vol(price, 42.0, 40.0, 0.5, 0.1, 0.0, True) == pytest.approx(0.2, abs=1e-12)

    @settings(max_examples=200, deadline=None)
    @given(
        spot=st.floats(1.0, 5000.0),
        moneyness=st.floats(0.5, 2.0),
        t=st.floats(1.0 / (365 * 24), 3.0),
        vol=st.floats(0.01, 5.0),
        r=st.floats(-0.01, 0.10),
        q=st.floats(0.0, 0.05),
        is_call=st.booleans(),
    )
    def test_round_trip_wide_grid(
        self, spot: float, moneyness: float, t: float, vol: float, r: float, q: float, is_call: bool
    ) -> None:
        strike = spot * moneyness
        price = bsm_price(spot, strike, t, r, q, vol, is_call)
        sdq, kdr = spot * math.exp(-q * t), strike * math.exp(-r * t)
        intrinsic = max((1 if is_call else -1) * (sdq - kdr), 0.0)
        assume(price - intrinsic > 1e-10 * max(sdq, kdr))
        iv = implied_vol(price, spot, strike, t, r, q, is_call)
        assert math.isfinite(iv)
        assert bsm_price(spot, strike, t, r, q, iv, is_call) == pytest.approx(price, abs=1e-8)

    def test_recovers_vol_accurately_where_vega_is_material(self) -> None:
        rng = np.random.default_rng(7)
        n = 20_000
        k = rng.uniform(70, 140, n)
        t = rng.uniform(0.02, 2.0, n)
        v = rng.uniform(0.05, 1.5, n)
        cp = rng.choice([True, False], n)
        g = price_greeks(100.0, k, t, 0.03, 0.01, v, cp)
        iv = implied_vol(g.price, 100.0, k, t, 0.03, 0.01, cp)
        ok = g.vega > 1e-2
        np.testing.assert_allclose(iv[ok], v[ok], rtol=1e-9)

    def test_very_high_vol_and_tiny_t(self) -> None:
        for t, v in [(2.0, 5.0), (1.0, 7.5), (1.0 / (365 * 24 * 60), 0.2), (1e-4, 0.5)]:
            p = bsm_price(100.0, 100.0, t, 0.0, 0.0, v, True)
            assert implied_vol(p, 100.0, 100.0, t, 0.0, 0.0, True) == pytest.approx(v, rel=1e-9)

    def test_deep_itm_and_otm(self) -> None:
        for k, cp in [(20.0, True), (400.0, True), (20.0, False), (400.0, False)]:
            p = bsm_price(100.0, k, 1.0, 0.02, 0.0, 0.6, cp)
            assert implied_vol(p, 100.0, k, 1.0, 0.02, 0.0, cp) == pytest.approx(0.6, rel=1e-7)

    @pytest.mark.parametrize(
        "price, is_call, t",
        [
            (1.0, True, 0.5),  # below discounted intrinsic (~3.96)
            (42.0, True, 0.5),  # at the upper bound S e^{-qT}
            (50.0, True, 0.5),  # above the upper bound
            (40.0, False, 0.5),  # put above K e^{-rT}
            (-0.5, False, 0.5),  # negative price
            (4.0, True, 0.0),  # expired: no vol to find
            (float("nan"), True, 0.5),
        ],
    )
    def test_nan_when_no_vol_exists(self, price: float, is_call: bool, t: float) -> None:
        assert math.isnan(implied_vol(price, 42.0, 40.0, t, 0.1, 0.0, is_call))

    def test_nan_when_time_value_lost_to_rounding(self) -> None:
        intrinsic = 42.0 - 40.0 * math.exp(-0.1 * 0.5)
        assert math.isnan(implied_vol(intrinsic, 42.0, 40.0, 0.5, 0.1, 0.0, True))
        assert math.isnan(implied_vol(0.0, 42.0, 80.0, 0.5, 0.1, 0.0, True))

    def test_bad_inputs_nan_and_shape_error(self) -> None:
        assert math.isnan(implied_vol(1.0, -42.0, 40.0, 0.5, 0.1, 0.0, True))
        assert math.isnan(implied_vol(1.0, 42.0, 0.0, 0.5, 0.1, 0.0, True))
        with pytest.raises(ValueError):
            implied_vol(np.ones(2), 42.0, np.ones(3), 0.5, 0.1, 0.0, True)


class TestNormalCdf:
    def test_hart_cdf_matches_scipy_ndtr(self) -> None:
        from scipy.special import ndtr

        from tradekit.options import nb

        x = np.linspace(-38.0, 38.0, 200_001)
        got = np.array([nb.norm_cdf_pdf_nb(v, nb.norm_pdf_nb(v)) for v in x[::50]])
        ref = ndtr(x[::50])
        assert np.max(np.abs(got - ref)) < 5e-16
        rel = np.abs(got - ref) / np.where(ref > 0, ref, 1.0)
        assert np.max(rel[(ref > 1e-300) & (ref < 0.5)]) < 1e-12
        assert nb.norm_cdf_nb(-30.0) > 0.0  # erfc form keeps the deep tail (used by IV)
