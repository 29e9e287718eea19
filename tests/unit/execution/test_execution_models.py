"""Slippage / commission / fill models, shorthand, registry, and their numba twins."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import CommissionSpec, SlippageSpec
from tradekit.core.enums import OrderType
from tradekit.core.events import Bar
from tradekit.errors import ConfigError
from tradekit.execution import nb
from tradekit.execution.exits import ExitPlan, resolve_fractions
from tradekit.execution.models import (
    COMMISSION_MODELS,
    SLIPPAGE_MODELS,
    BarPathFillModel,
    FixedBpsSlippage,
    FixedPlusPercentCommission,
    FunctionCommission,
    FunctionSlippage,
    HalfSpreadSlippage,
    NoCommission,
    NoSlippage,
    PercentCommission,
    PerContractCommission,
    PerShareCommission,
    VolumeSlippage,
    as_commission,
    as_slippage,
)

_CODES = {OrderType.MARKET: 0, OrderType.LIMIT: 1, OrderType.STOP: 2, OrderType.STOP_LIMIT: 3}
price = st.floats(1.0, 1000.0)


def bar(volume: float = 1000.0) -> Bar:
    return Bar("X", "1min", 0, 10, 10, 10, 10, volume)


class TestSlippage:
    def test_always_against_the_trader(self) -> None:
        for m in (FixedBpsSlippage(10), VolumeSlippage(10, 100), HalfSpreadSlippage(20)):
            assert m.price(1, 100.0, 10, bar()) > 100.0 > m.price(-1, 100.0, 10, bar())
        assert NoSlippage().price(1, 100.0, 10, None) == 100.0

    def test_volume_model_scales_and_caps(self) -> None:
        m = VolumeSlippage(impact=10.0, max_bps=50.0)
        assert m.bps_for(10, 1000) == pytest.approx(10.0)  # 1 % of volume
        assert m.bps_for(1000, 1000) == 50.0
        assert m.bps_for(1, 0.0) == 50.0  # unknown volume: conservative

    def test_validation(self) -> None:
        with pytest.raises(ValueError):
            FixedBpsSlippage(-1.0)
        with pytest.raises(ValueError):
            VolumeSlippage(math.nan)

    def test_function_slippage_cannot_improve_price(self) -> None:
        m = FunctionSlippage(lambda s, p, q, b: p - 1.0)
        assert m.price(1, 100.0, 1, None) == 100.0

    def test_shorthand_and_registry(self) -> None:
        assert as_slippage(None) == NoSlippage()
        assert as_slippage(3) == FixedBpsSlippage(3.0)
        assert as_slippage(SlippageSpec(kind="half_spread", bps=4)) == HalfSpreadSlippage(4.0)
        m = FixedBpsSlippage(1)
        assert as_slippage(m) is m
        assert isinstance(as_slippage(lambda s, p, q, b: p), FunctionSlippage)
        with pytest.raises(ConfigError):
            as_slippage({"kind": "fixed_bps", "bogus": 1})
        with pytest.raises(ConfigError):
            SLIPPAGE_MODELS.create({"kind": "nope"})
        assert set(SLIPPAGE_MODELS.kinds) == {"none", "fixed_bps", "volume", "half_spread"}

    @settings(max_examples=150, deadline=None)
    @given(
        kind=st.sampled_from(["none", "fixed_bps", "volume", "half_spread"]),
        side=st.sampled_from([1, -1]),
        ref=price,
        qty=st.floats(1, 1e5),
        vol=st.one_of(st.just(0.0), st.floats(1, 1e7)),
        bps=st.floats(0, 50),
    )
    def test_kernel_agrees(
        self, kind: str, side: int, ref: float, qty: float, vol: float, bps: float
    ) -> None:
        m = as_slippage(SlippageSpec(kind=kind, bps=bps, impact=bps, max_bps=2 * bps))
        code, b, imp, mx = m.nb_args()  # type: ignore[attr-defined]
        k = nb.slippage_price_nb(code, side, ref, qty, vol, b, imp, mx)
        assert k == pytest.approx(m.price(side, ref, qty, bar(vol)), rel=1e-12)


class TestCommission:
    def test_models(self) -> None:
        assert PerShareCommission(0.01, 1.0).cost(50, 10) == 1.0
        assert PerShareCommission(0.01, 1.0).cost(500, 10) == 5.0
        assert PerContractCommission(0.65).cost(3, 2.0, 100) == pytest.approx(1.95)
        assert PercentCommission(0.001).cost(10, 50.0) == pytest.approx(0.5)
        assert FixedPlusPercentCommission(1.0, 0.001, 2.0).cost(10, 50.0) == 2.0
        assert FixedPlusPercentCommission(1.0, 0.001, 0.0).cost(100, 50.0) == pytest.approx(6.0)
        assert NoCommission().cost(10, 10) == 0.0

    def test_shorthand(self) -> None:
        assert as_commission(0) == NoCommission()
        assert as_commission(0.002) == PercentCommission(0.002)
        assert as_commission((2.0, 0.001)) == FixedPlusPercentCommission(2.0, 0.001)
        spec = CommissionSpec(kind="fixed_plus_percent", fixed=1, percent=0.01, minimum=3)
        assert as_commission(spec) == FixedPlusPercentCommission(1.0, 0.01, 3.0)
        assert isinstance(as_commission(lambda q, p, m: 1.0), FunctionCommission)
        with pytest.raises(ConfigError):
            as_commission(0.5)  # 50 % is not a commission
        with pytest.raises(ValueError):
            FunctionCommission(lambda q, p, m: -1.0).cost(1, 1)
        assert "per_contract" in COMMISSION_MODELS.kinds

    @settings(max_examples=150, deadline=None)
    @given(
        kind=st.sampled_from(
            ["none", "per_share", "per_contract", "percent", "fixed_plus_percent"]
        ),
        qty=st.floats(1, 1e4),
        px=price,
        mult=st.sampled_from([1.0, 100.0]),
        rate=st.floats(0, 1),
        pct=st.floats(0, 0.01),
        minimum=st.floats(0, 5),
    )
    def test_kernel_agrees(
        self, kind: str, qty: float, px: float, mult: float, rate: float, pct: float, minimum: float
    ) -> None:
        m = as_commission(
            CommissionSpec(
                kind=kind,
                per_share=rate,
                per_contract=rate,
                percent=pct,
                fixed=rate,
                minimum=minimum,
            )
        )
        args = m.nb_args()  # type: ignore[attr-defined]
        k = nb.commission_nb(args[0], qty, px, mult, *args[1:])
        assert k == pytest.approx(m.cost(qty, px, mult), rel=1e-12)


class TestFillModel:
    m = BarPathFillModel()

    @pytest.mark.parametrize(
        ("otype", "side", "stop", "limit", "ohlc", "expected"),
        [
            (OrderType.MARKET, 1, 0, 0, (10, 12, 9, 11), 10),
            (OrderType.STOP, 1, 11, 0, (10, 12, 9, 11), 11),
            (OrderType.STOP, 1, 9, 0, (10, 12, 9, 11), 10),  # gapped through
            (OrderType.STOP, -1, 8, 0, (10, 12, 9, 11), math.nan),
            (OrderType.LIMIT, 1, 0, 9.5, (10, 12, 9, 11), 9.5),
            (OrderType.LIMIT, -1, 0, 9.5, (10, 12, 9, 11), 10),  # gapped through: better
            (OrderType.STOP_LIMIT, 1, 11, 11.5, (10, 12, 9, 11), 11),
            (OrderType.STOP_LIMIT, 1, 11, 10.5, (10, 12, 9, 11), 10.5),  # back down on H→L
            (OrderType.STOP_LIMIT, -1, 9.5, 10.5, (10, 12, 9, 11), 10.5),  # up again on L→C
            (OrderType.STOP_LIMIT, -1, 9.5, 11.5, (10, 12, 9, 11), math.nan),
        ],
    )
    def test_path_cases(
        self, otype: OrderType, side: int, stop: float, limit: float, ohlc: tuple, expected: float
    ) -> None:
        p, _ = self.m.match(otype, side, stop, limit, False, *ohlc)
        assert (math.isnan(p) and math.isnan(expected)) or p == expected

    @settings(max_examples=200, deadline=None)
    @given(
        otype=st.sampled_from(list(OrderType)),
        side=st.sampled_from([1, -1]),
        a=price,
        b=price,
        c=price,
        d=price,
        s=price,
        lim=price,
        trig=st.booleans(),
    )
    def test_kernel_agrees(
        self,
        otype: OrderType,
        side: int,
        a: float,
        b: float,
        c: float,
        d: float,
        s: float,
        lim: float,
        trig: bool,
    ) -> None:
        h, lo = max(a, b, c, d), min(a, b, c, d)
        py = self.m.match(otype, side, s, lim, trig, a, h, lo, d)
        k = nb.match_price_nb(_CODES[otype], side, s, lim, trig, a, h, lo, d)
        assert (math.isnan(py[0]) and math.isnan(k[0])) or py[0] == k[0]
        assert py[1] == k[1]
        if not math.isnan(py[0]):
            assert lo <= py[0] <= h  # never outside the bar

    def test_next_open_batch_kernel(self) -> None:
        side = np.array([1, 0, -1, 1], dtype=np.int64)
        qty = np.array([10.0, 0, 10, 10])
        open_ = np.array([100.0, 101, 102, 103])
        vol = np.full(4, 1e6)
        px, comm = nb.next_open_fills_1d_nb(
            side,
            qty,
            open_,
            vol,
            nb.SLIP_FIXED_BPS,
            10.0,
            0.0,
            0.0,
            nb.COMM_PER_SHARE,
            0.01,
            0.0,
            0.0,
            1.0,
            1.0,
        )
        assert px[0] == pytest.approx(101 * 1.001) and math.isnan(px[1])
        assert px[2] == pytest.approx(103 * 0.999) and math.isnan(px[3])  # no next bar
        assert list(comm) == [1.0, 0.0, 1.0, 0.0]


class TestExitPlan:
    @pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
    def test_stop_and_targets_never_zero_or_nan(self, bad: float) -> None:
        with pytest.raises(ValueError):
            ExitPlan(stop=bad)
        with pytest.raises(ValueError):
            ExitPlan(targets=(10.0, bad))

    def test_fractions(self) -> None:
        assert resolve_fractions(ExitPlan(targets=(1.0, 2.0, 3.0)), (0.4, 0.4, 0.2)) == (
            0.4,
            0.4,
            0.2,
        )
        assert resolve_fractions(ExitPlan(targets=(1.0,)), (0.4, 0.4, 0.2)) == (1.0,)
        with pytest.raises(ValueError):
            ExitPlan(targets=(1.0, 2.0), fractions=(0.5, 0.6))
        with pytest.raises(ValueError):
            ExitPlan(premium_stop_pct=1.5)
