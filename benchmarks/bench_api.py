"""API service speed: bar -> fill persisted and streamed, kill switch -> HALTED, status req/s.

Run: ``python benchmarks/bench_api.py``. Everything is real and on loopback: the replay
AutoTrader (SYNTHETIC SPY 1-minute bars, stock path: options off) on the loop of the Panel /
Tornado server, a DuckDB file, a Tornado WebSocket client in the main thread, HTTP clients in
separate processes. Loops are bounded (a few thousand bars, a few seconds of requests).

* **bar -> fill persisted / on the WebSocket**: for every fill, the time from its bar reaching
  the engine (its ``bars.*`` publication, top priority) to (a) the fill's line written to the
  fill journal (:mod:`tradekit.store.wal`: on disk, surviving a crash of the process; the
  ``fsync`` row also a power cut), (b) the end of the checkpoint transaction that commits it
  to DuckDB, (c) the fill message arriving at a WebSocket client (``perf_counter_ns`` is one
  monotonic clock for all threads).
* **kill switch**: ``POST /api/auto-trade/kill-switch`` round trip on a running trader; the
  answer is sent after HALTED is committed (checked in the store), then a reset; repeated.
* **status**: ``GET /api/auto-trade/status`` with keep-alive from two client processes for a
  few seconds, against the server (one Python thread: one core at most).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import logging
import multiprocessing as mp
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tornado.websocket import websocket_connect

from tradekit.api import ServerThread
from tradekit.config import AlgorithmConfig
from tradekit.runtime.replay import replay_trader
from tradekit.testing.api import OPERATOR_TOKEN, TEST_TOKENS, http_request

DAYS = 4
BAR_GAP_S = 0.004  # replay pace: a 1-minute bar every 4 ms (speed 15,000x)
STATUS_SECONDS = 3.0
KILLS = 20


def _pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def _serve(db: Path, speed: float, *, fsync: bool = False) -> ServerThread:
    cfg = AlgorithmConfig.parse({"options": {"enabled": False}})

    def make() -> Any:
        return replay_trader("synthetic", days=DAYS, history_days=30, seed=3, speed=speed,
                             db=str(db), config=cfg, new_run=True, fsync_fills=fsync)  # fmt: skip

    async def close(trader: Any) -> None:
        await trader.stop()
        trader.store.close()

    return ServerThread(make, close=close, tokens=TEST_TOKENS, rate=1e6, burst=1_000_000,
                        stream_queue=100_000, discovery=False)  # fmt: skip


def bench_fill_latency(tmp: Path, *, fsync: bool = False) -> list[dict[str, Any]]:
    with _serve(tmp / f"lat{int(fsync)}.duckdb", speed=60.0 / BAR_GAP_S, fsync=fsync) as th:
        trader = th.trader
        bar_t: list[int] = [0]
        fill_bar: dict[str, int] = {}
        journaled: dict[str, int] = {}
        persisted: dict[int, int] = {}
        cp_ms: list[float] = []

        def on_bar(topic: str, bar: Any) -> None:
            bar_t[0] = time.perf_counter_ns()

        def on_fill(topic: str, fill: Any) -> None:
            fill_bar[fill.id] = bar_t[0]
            current[0] = fill.id

        current = [""]
        write_line = trader.journal.write_line

        def timed_write(line: str) -> None:
            write_line(line)
            journaled[current[0]] = time.perf_counter_ns()

        checkpoint = trader._checkpoint

        def timed_checkpoint() -> None:
            t0 = time.perf_counter_ns()
            checkpoint()
            persisted[bar_t[0]] = now = time.perf_counter_ns()
            if bar_t[0] in fill_bar.values():
                cp_ms.append((now - t0) / 1e6)

        def wire() -> None:
            trader.bus.subscribe("bars.*", on_bar, priority=10_000)
            trader.bus.subscribe("fills.*", on_fill, priority=10_000)
            trader._checkpoint = timed_checkpoint
            trader.journal.write_line = timed_write

        th.call(wire)
        received: dict[str, int] = {}

        async def listen() -> None:
            url = th.url.replace("http", "ws") + f"/ws/events?token={OPERATOR_TOKEN}"
            conn = await websocket_connect(url + "&topics=fills.*,state.trader")
            await asyncio.sleep(0.2)
            await asyncio.to_thread(http_request, th.url, "POST", "/api/auto-trade/start",
                                    body=b"")  # fmt: skip
            while True:
                msg = await asyncio.wait_for(conn.read_message(), 120)
                now = time.perf_counter_ns()
                if msg is None:
                    break
                m = json.loads(msg)
                if m["topic"].startswith("fills."):
                    received[m["data"]["id"]] = now
                elif m["data"]["new"] == "STOPPED":
                    break
            conn.close()

        asyncio.run(listen())
        bars = th.call(lambda: trader.bars_seen)
    ws = [(received[f] - t0) / 1e6 for f, t0 in fill_bar.items() if f in received]
    jr = [(journaled[f] - t0) / 1e6 for f, t0 in fill_bar.items() if f in journaled]
    db = [(persisted[t0] - t0) / 1e6 for t0 in set(fill_bar.values()) if t0 in persisted]
    note = f"{len(ws)} fills over {bars:,} bars; stock path"
    if fsync:
        return [
            {
                "name": "bar -> fill persisted, fsync p50",
                "value": _pct(jr, 0.5),
                "unit": "ms",
                "note": "fsync_fills=True: each journaled fill flushed to the disk",
            },
            {"name": "bar -> fill persisted, fsync p99", "value": _pct(jr, 0.99), "unit": "ms"},
        ]
    return [
        {"name": "bar -> fill persisted (journal) p50", "value": _pct(jr, 0.5), "unit": "ms",
         "target": "<= 1", "note": note + "; on disk, survives a crash of the process"},
        {"name": "bar -> fill persisted (journal) p99", "value": _pct(jr, 0.99), "unit": "ms", "target": "<= 5"},
        {"name": "bar -> fill committed to DuckDB p50", "value": _pct(db, 0.5), "unit": "ms",
         "note": "with the engine checkpoint, right after the bar"},
        {"name": "bar -> fill committed to DuckDB p99", "value": _pct(db, 0.99), "unit": "ms"},
        {"name": "  of which the checkpoint transaction p50", "value": _pct(cp_ms, 0.5), "unit": "ms",
         "note": "AutoTrader._checkpoint: records + engine checkpoint, one DuckDB commit"},
        {"name": "bar -> fill on WebSocket p50", "value": _pct(ws, 0.5), "unit": "ms", "target": "<= 1"},
        {"name": "bar -> fill on WebSocket p99", "value": _pct(ws, 0.99), "unit": "ms", "target": "<= 5"},
    ]  # fmt: skip


def bench_kill(tmp: Path) -> list[dict[str, Any]]:
    with _serve(tmp / "kill.duckdb", speed=600.0) as th:
        http_request(th.url, "POST", "/api/auto-trade/start", body=b"")
        trader = th.trader
        times: list[float] = []
        for _ in range(KILLS):
            t0 = time.perf_counter()
            status, _, body = http_request(th.url, "POST", "/api/auto-trade/kill-switch",
                                           body=b'{"reason": "bench"}')  # fmt: skip
            times.append((time.perf_counter() - t0) * 1000)
            stored = th.call(lambda: trader.store.get_state("trader", run_id=trader.run_id))
            assert status == 200 and body["status"]["state"] == "HALTED" and stored == "HALTED"
            http_request(th.url, "POST", "/api/auto-trade/reset", body=b"{}")
    return [
        {"name": "POST kill-switch -> HALTED persisted p50", "value": statistics.median(times),
         "unit": "ms", "target": "<= 100", "note": f"{KILLS} kills on a running trader"},
        {"name": "POST kill-switch -> HALTED persisted max", "value": max(times), "unit": "ms",
         "target": "<= 100"},
    ]  # fmt: skip


def _hammer(url: str, seconds: float, out: Any) -> None:
    host, port = url.removeprefix("http://").split(":")
    con = http.client.HTTPConnection(host, int(port), timeout=10)
    headers = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    n, end = 0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        con.request("GET", "/api/auto-trade/status", headers=headers)
        resp = con.getresponse()
        resp.read()
        if resp.status != 200:
            raise RuntimeError(f"status {resp.status}")
        n += 1
    con.close()
    out.put(n)


def bench_status(tmp: Path) -> list[dict[str, Any]]:
    with _serve(tmp / "status.duckdb", speed=60.0) as th:
        http_request(th.url, "POST", "/api/auto-trade/start", body=b"")
        ctx = mp.get_context("spawn")
        q = ctx.Queue()
        procs = [ctx.Process(target=_hammer, args=(th.url, STATUS_SECONDS, q)) for _ in range(2)]
        for p in procs:
            p.start()
        total = sum(q.get(timeout=120) for _ in procs)
        for p in procs:
            p.join(30)
    rate = total / STATUS_SECONDS
    return [{"name": "GET status throughput", "value": rate, "unit": "req/s",
             "target": ">= 2000", "note": "server: one thread; 2 keep-alive client processes"}]  # fmt: skip


def main() -> list[dict[str, Any]]:
    logging.getLogger("tornado.access").setLevel(logging.ERROR)
    logging.getLogger("tradekit").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        return (bench_fill_latency(tmp) + bench_fill_latency(tmp, fsync=True) + bench_kill(tmp)
                + bench_status(tmp))  # fmt: skip


def status_only() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as d:
        return bench_status(Path(d))


if __name__ == "__main__":
    for row in main():
        print(row)
