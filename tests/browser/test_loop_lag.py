"""The UI never blocks the server: event-loop lag while 10 bars/s stream into a chart that
holds 20,000 candles, with a real Chromium connected to the served page.

Everything runs on this test's asyncio loop, as in ``tradekit serve``: the Panel server, the
engine fed by the live runner (real ``Engine`` + ``ReplayFeed`` at 600× real time = 10 one-minute
bars per second), the periodic callback that drains the bus into the chart, and a probe that
sleeps 5 ms and records how late it wakes up.
"""

from __future__ import annotations

import asyncio
import time

import numpy as np
import panel as pn

from tests.browser.conftest import free_port
from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.data import datasets
from tradekit.data.feeds import ReplayFeed
from tradekit.runtime.kernel import Engine
from tradekit.runtime.live import LiveRunner

HISTORY = 20_000
STREAMED = 100
P99_LIMIT_MS = 50.0


async def _probe(lags: list[float], stop: asyncio.Event, period_s: float = 0.005) -> None:
    while not stop.is_set():
        t0 = time.perf_counter()
        await asyncio.sleep(period_s)
        lags.append((time.perf_counter() - t0 - period_s) * 1e3)


async def test_loop_lag_p99_while_streaming_into_20k_chart(browser, artifacts) -> None:
    from tradekit.dashboards.components import BusCollector, LiveChart

    bars = datasets.synthetic_intraday("SPY", start="2023-01-03", days=52, seed=5)
    history, live = bars.iloc[:HISTORY], bars.iloc[HISTORY : HISTORY + STREAMED]
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    warm = Engine(cfg, market=lambda ts: 18.0)  # load the numba kernels before measuring
    for bar in ReplayFeed(history.iloc[-400:], symbol="SPY", clock=warm.clock):
        warm.on_bar(bar)
    clock = SimClock()
    engine = Engine(cfg, clock=clock, market=lambda ts: 18.0)
    charts: list[LiveChart] = []

    def app() -> pn.viewable.Viewable:
        chart = LiveChart(base_timeframe="1min", symbol="SPY", rollover=HISTORY)
        chart.load(history)
        col = BusCollector(engine.bus, ("bars.*", "signals.*", "decisions.*", "fills.*"))
        pn.state.add_periodic_callback(lambda: chart.push(col.drain()), period=100)
        charts.append(chart)
        return chart.panel()

    port = free_port()
    server = pn.serve({"/lag": app}, port=port, show=False, start=False)
    server.start()
    try:
        page = await browser.new_page(viewport={"width": 1200, "height": 700})
        await page.goto(f"http://127.0.0.1:{port}/lag")
        n_js = "Bokeh.documents[0].get_model_by_name('candles').data.x.length"
        await page.wait_for_function(f"() => window.Bokeh && Bokeh.documents.length && {n_js} > 0",
                                     timeout=30_000)  # fmt: skip
        assert await page.evaluate(n_js) == HISTORY
        lags: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.ensure_future(_probe(lags, stop))
        feed = ReplayFeed(live, speed=600.0, clock=clock, symbol="SPY", max_sleep_s=0.1)
        runner = LiveRunner(engine, feed)
        t0 = time.perf_counter()
        runner.start()
        await runner.wait()
        elapsed = time.perf_counter() - t0
        await asyncio.sleep(0.5)  # the last periodic push reaches the browser
        stop.set()
        await probe
        last_close = float(live["close"].iloc[-1])
        # delivery, not latency (the probe measures that): a cold Chromium on a slow 2-core
        # machine was seen to take over 10 s to apply the pushes to its 20,000 candles
        await page.wait_for_function(
            "c => { const d = Bokeh.documents[0].get_model_by_name('candles').data;"
            " return Math.abs(d.close[d.close.length - 1] - c) < 1e-9 }", arg=last_close,
            timeout=45_000)  # fmt: skip
        assert await page.evaluate(n_js) == HISTORY  # rollover holds the browser at 20,000
        await page.screenshot(path=str(artifacts / "loop_lag_chart.png"))
    finally:
        server.stop()
    assert runner.bars == STREAMED and charts[0].bars_seen == STREAMED
    rate = STREAMED / elapsed
    assert 7.0 < rate < 12.0, f"stream ran at {rate:.1f} bars/s, not ~10"
    p99, worst = float(np.percentile(lags, 99)), max(lags)
    print(
        f"loop lag over {len(lags)} probes at {rate:.1f} bars/s: p50 "
        f"{np.percentile(lags, 50):.2f} ms, p99 {p99:.2f} ms, max {worst:.2f} ms"
    )
    assert p99 <= P99_LIMIT_MS, f"event-loop lag p99 {p99:.1f} ms > {P99_LIMIT_MS} ms"
