"""Cheap broker construction: the lazily seeded generator and the shared cost models.

``PaperBroker`` creates its default generator on the first draw and the model registries share
models built from equal frozen specs; neither may change what a broker does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradekit.config import CommissionSpec, ExecutionConfig, SlippageSpec
from tradekit.core.clock import SimClock
from tradekit.core.enums import Side, TimeInForce
from tradekit.core.events import Bar
from tradekit.execution import OrderRequest, PaperBroker
from tradekit.execution.models import COMMISSION_MODELS, SLIPPAGE_MODELS
from tradekit.execution.models.registry import Registry
from tradekit.portfolio import Ledger

BASE = 1_709_564_400_000_000_000  # Monday 2024-03-04 10:00 New York
MIN = 60_000_000_000


def _run(cfg: ExecutionConfig, rng: np.random.Generator | None) -> list[tuple[str, float]]:
    """Status/quantity trail of a few orders under random partials and rejections."""
    clock = SimClock(BASE)
    broker = PaperBroker(cfg, clock=clock, ledger=Ledger(1e6), rng=rng)
    out: list[tuple[str, float]] = []
    for i in range(30):
        bar = Bar("XYZ", "1min", BASE + i * MIN, 10.0, 10.0, 10.0, 10.0, 1e6)
        clock.set_time(bar.close_ts_ns)
        out += [("fill", f.quantity) for f in broker.on_bar(bar)]
        side = Side.BUY if i % 2 == 0 else Side.SELL
        order = broker.submit(OrderRequest("XYZ", side, 50, tif=TimeInForce.GTC, client_id=f"c{i}"))
        out.append((order.status.value, order.quantity))
    return out


class TestLazyGenerator:
    def test_default_generator_draws_like_an_eager_seeded_one(self) -> None:
        cfg = ExecutionConfig(random_partial_prob=0.6, random_reject_prob=0.3, seed=11)
        lazy = _run(cfg, None)
        eager = _run(cfg, np.random.default_rng(11))
        assert lazy == eager
        assert {s for s, _ in lazy} >= {"REJECTED", "ACCEPTED", "fill"}

    def test_no_generator_is_built_without_random_simulation(self) -> None:
        clock = SimClock(BASE)
        broker = PaperBroker(ExecutionConfig(), clock=clock, ledger=Ledger(1e6))
        broker.submit(OrderRequest("XYZ", Side.BUY, 5, client_id="a"))
        broker.on_bar(Bar("XYZ", "1min", BASE, 10.0, 10.0, 10.0, 10.0, 1e6))
        assert broker._rng is None

    def test_injected_generator_is_used(self) -> None:
        rng = np.random.default_rng(3)
        broker = PaperBroker(ExecutionConfig(), clock=SimClock(BASE), ledger=Ledger(1e6), rng=rng)
        assert broker._generator() is rng


class TestSharedModels:
    def test_equal_frozen_specs_share_one_model(self) -> None:
        a = SLIPPAGE_MODELS.create(SlippageSpec(kind="fixed_bps", bps=2.0))
        b = SLIPPAGE_MODELS.create(SlippageSpec(kind="fixed_bps", bps=2.0))
        c = SLIPPAGE_MODELS.create(SlippageSpec(kind="fixed_bps", bps=3.0))
        assert a is b and a is not c
        assert (a.bps, c.bps) == (2.0, 3.0)

    def test_shared_model_equals_a_fresh_build(self) -> None:
        spec = CommissionSpec(kind="per_share", per_share=0.01, minimum=1.0)
        shared = COMMISSION_MODELS.create(spec)
        assert shared == COMMISSION_MODELS._build(spec)
        assert shared is COMMISSION_MODELS.create(spec)

    def test_mappings_and_mutable_models_are_built_each_time(self) -> None:
        spec = {"kind": "fixed_bps", "bps": 2.0}
        assert SLIPPAGE_MODELS.create(spec) is not SLIPPAGE_MODELS.create(spec)

        reg: Registry[object] = Registry("test")

        @reg.register("fixed_bps")
        @dataclass
        class Mutable:
            bps: float = 0.0

        frozen_spec = SlippageSpec(kind="fixed_bps", bps=1.0)
        assert reg.create(frozen_spec) is not reg.create(frozen_spec)
