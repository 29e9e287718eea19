"""A real engine replaying two synthetic sessions through the live runner (shared, read-only)."""

from __future__ import annotations

import asyncio

import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.data import datasets
from tradekit.data.feeds import ReplayFeed
from tradekit.runtime.kernel import Engine
from tradekit.runtime.live import LiveRunner


@pytest.fixture(scope="session")
def replayed() -> tuple[pd.DataFrame, list[tuple[str, object]]]:
    """Bars of two synthetic SPY sessions and every event the engine published on them, in
    order, as a BusCollector saw them."""
    from tradekit.dashboards.components.collector import BusCollector

    bars = datasets.synthetic_intraday("SPY", start="2024-01-02", days=2, seed=7)
    clock = SimClock()
    eng = Engine(AlgorithmConfig(symbols=("SPY",), timeframe="1min"), clock=clock,
                 market=lambda ts: 18.0)  # fmt: skip
    col = BusCollector(eng.bus)

    async def run() -> None:
        runner = LiveRunner(eng, ReplayFeed(bars, clock=clock, symbol="SPY"))
        runner.start()
        await runner.wait()

    asyncio.run(run())
    events = col.drain()
    col.close()
    return bars, events
