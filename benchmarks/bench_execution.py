"""Paper execution speed: orders through the PaperBroker (submit + fill on bars) and the
numba fast path. Run: ``python benchmarks/bench_execution.py``; prints a table, exits 0.

Scenario: one symbol, 1-minute bars; after each bar a market order is submitted (alternating
buy/sell of 10 shares, so the position stays small and every other fill closes a round trip),
and the next bar fills it at its open with fixed-bps slippage and per-share commission, booked
in the ledger, with an EventBus carrying ``orders.*``/``fills.new``/``positions.update`` to one
subscriber.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np

from tradekit.config import ExecutionConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.core.enums import Side, TimeInForce
from tradekit.core.events import Bar
from tradekit.execution import OrderRequest, PaperBroker
from tradekit.execution import nb as enb
from tradekit.portfolio import Ledger
from tradekit.portfolio.nb import apply_fills_1d_nb

BASE = 1_709_564_400_000_000_000
MIN = 60_000_000_000
N_ORDERS = 100_000
TARGET_S = 2.0
GTC = TimeInForce.GTC  # bars run round the clock here; DAY orders would expire overnight


def _closes(n: int) -> list[float]:
    """Close prices of ``n`` 1-minute bars (a seeded random walk around 100)."""
    rng = np.random.default_rng(0)
    return (100.0 * np.exp(np.cumsum(rng.normal(0, 5e-4, n)))).tolist()


def _bar(i: int, c: float) -> Bar:
    """The i-th bar, built when it is replayed (as ``ReplayFeed`` does, from arrays)."""
    return Bar("SPY", "1min", BASE + i * MIN, c, c * 1.001, c * 0.999, c, 1e6)


def _broker() -> tuple[PaperBroker, SimClock, list[int]]:
    cfg = ExecutionConfig(initial_cash=1e9)
    clock = SimClock(BASE)
    bus = EventBus()
    seen = [0]

    def count(topic: str, event: Any) -> None:
        seen[0] += 1

    bus.subscribe("*", count)
    return PaperBroker(cfg, clock=clock, ledger=Ledger.from_config(cfg), bus=bus), clock, seen


def run_broker(n: int) -> tuple[float, float, int]:
    """Wall and CPU seconds for ``n`` orders (submit + fill on the next bar), fills made.

    Each bar is built as it is replayed (its construction is timed too), like the engine's
    replay feed: a list of 100,000 prebuilt bars would sit in memory for the whole run and
    make every full garbage collection walk it, which no running trader does."""
    closes = _closes(n + 1)
    broker, clock, _ = _broker()
    fills = 0
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for i in range(n + 1):
        b = _bar(i, closes[i])
        clock.set_time(b.close_ts_ns)
        fills += len(broker.on_bar(b))
        if i < n:
            side = Side.BUY if i % 2 == 0 else Side.SELL
            broker.submit(OrderRequest("SPY", side, 10, tif=GTC, decision_id=f"d{i}", tag="e"))
    return time.perf_counter() - t0, time.process_time() - cpu0, fills


def per_order_us(n: int) -> list[float]:
    """Per-order µs (bar with the previous order's fill + the next submission), measured in a
    separate run so the timer calls do not inflate the 100,000-order total."""
    closes = _closes(n)
    broker, clock, _ = _broker()
    per: list[float] = []
    pc = time.perf_counter_ns
    for i in range(n):
        t1 = pc()
        b = _bar(i, closes[i])
        clock.set_time(b.close_ts_ns)
        broker.on_bar(b)
        side = Side.BUY if i % 2 == 0 else Side.SELL
        broker.submit(OrderRequest("SPY", side, 10, tif=GTC, decision_id=f"d{i}", tag="e"))
        per.append((pc() - t1) / 1e3)
    return per


def run_fast_path(n: int) -> float:
    """Seconds for the vectorised twin: n next-open fills priced and booked."""
    rng = np.random.default_rng(1)
    side = np.where(np.arange(n + 1) % 2 == 0, 1, -1).astype(np.int64)
    qty = np.full(n + 1, 10.0)
    open_ = 100.0 + rng.normal(0, 0.1, n + 1)
    vol = np.full(n + 1, 1e6)
    args = (enb.SLIP_FIXED_BPS, 1.0, 0.0, 0.0, enb.COMM_PER_SHARE, 0.005, 0.0, 0.0, 0.0, 1.0)
    enb.next_open_fills_1d_nb(side[:10], qty[:10], open_[:10], vol[:10], *args)  # compile
    apply_fills_1d_nb(qty[:3], open_[:3], qty[:3], 1.0, 1e6)
    t0 = time.perf_counter()
    px, comm = enb.next_open_fills_1d_nb(side, qty, open_, vol, *args)
    ok = ~np.isnan(px)
    apply_fills_1d_nb((side * qty)[ok], px[ok], comm[ok], 1.0, 1e9)
    return time.perf_counter() - t0


def _calibration() -> float:
    """CPU seconds of a plain 5M-iteration Python loop (~0.15-0.2 s on an idle modern core):
    tells how fast this machine runs interpreted code when reading the broker figures."""
    t0 = time.process_time()
    s = 0
    for i in range(5_000_000):
        s += i
    return time.process_time() - t0


def main() -> list[dict[str, Any]]:
    run_broker(2_000)  # warm caches
    total, cpu, fills = run_broker(N_ORDERS)
    assert fills == N_ORDERS, fills
    per = per_order_us(N_ORDERS)
    fast = run_fast_path(N_ORDERS)
    calib = _calibration()
    rows = [
        {
            "name": f"broker: {N_ORDERS:,} orders submit+fill (s)",
            "figure": round(total, 3),
            "target": TARGET_S,
            "ratio": round(total / TARGET_S, 3),
        },
        {
            "name": f"broker: {N_ORDERS:,} orders, process CPU time (s)",
            "figure": round(cpu, 3),
            "target": TARGET_S,
            "ratio": round(cpu / TARGET_S, 3),
        },
        {
            "name": "broker: per-order submit+fill median (us)",
            "figure": round(statistics.median(per), 2),
            "target": TARGET_S / N_ORDERS * 1e6,
            "ratio": round(statistics.median(per) / (TARGET_S / N_ORDERS * 1e6), 3),
        },
        {
            "name": "broker: per-order p99 (us)",
            "figure": round(float(np.percentile(per, 99)), 2),
            "target": None,
            "ratio": None,
        },
        {
            "name": f"numba fast path: {N_ORDERS:,} fills priced+booked (s)",
            "figure": round(fast, 4),
            "target": None,
            "ratio": round(total / fast, 1),
        },
        {
            "name": "calibration: 5M-iteration Python loop, CPU (s)",
            "figure": round(calib, 3),
            "target": None,
            "ratio": None,
        },
    ]
    print(f"{'name':<52} {'figure':>10} {'target':>10} {'ratio':>8}")
    for r in rows:
        tgt = "" if r["target"] is None else f"{r['target']:g}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:g}"
        print(f"{r['name']:<52} {r['figure']:>10} {tgt:>10} {ratio:>8}")
    print("(ratio = figure / target; for the fast path: broker time / fast-path time)")
    return rows


if __name__ == "__main__":
    main()
