"""Test kit of the API: fixed tokens, a raw HTTP helper, and a replay wired like the trader.

Used by the API tests and ``benchmarks/bench_api.py``: :func:`wired_replay` builds a real
:class:`~tradekit.runtime.kernel.Engine` on clearly labelled synthetic SPY 1-minute bars, with
a real :class:`~tradekit.store.StoreSubscriber` journaling into a real DuckDB store, driven by a
:class:`~tradekit.runtime.live.LiveRunner` on the running loop.
"""

from __future__ import annotations

import argparse
import http.client
import json
import urllib.parse
from dataclasses import dataclass
from typing import Any

import pandas as pd

from tradekit.api.auth import Tokens
from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.data.feeds import ReplayFeed
from tradekit.runtime.kernel import Engine
from tradekit.runtime.live import LiveRunner
from tradekit.store import Store, StoreSubscriber

__all__ = [
    "OPERATOR_TOKEN",
    "READ_TOKEN",
    "TEST_TOKENS",
    "WiredReplay",
    "http_request",
    "wired_replay",
]

OPERATOR_TOKEN = "operator-token-0123456789"
READ_TOKEN = "read-only-token-0123456789"
TEST_TOKENS = Tokens(operator=OPERATOR_TOKEN, read=READ_TOKEN)


def http_request(
    url: str,
    method: str,
    path: str,
    *,
    token: str | None = OPERATOR_TOKEN,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
) -> tuple[int, dict[str, str], Any]:
    """One raw request: ``(status, lower-cased headers, decoded JSON body or None)``."""
    u = urllib.parse.urlsplit(url)
    con = http.client.HTTPConnection(u.hostname or "127.0.0.1", u.port, timeout=timeout)
    hdrs = dict(headers or {})
    if token is not None:
        hdrs["Authorization"] = f"Bearer {token}"
    if body is not None:
        hdrs.setdefault("Content-Type", "application/json")
    try:
        con.request(method, path, body=body, headers=hdrs)
        resp = con.getresponse()
        data = resp.read()
    finally:
        con.close()
    out = json.loads(data) if data else None
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, out


@dataclass
class WiredReplay:
    """Engine + bus + store journal + replay feed, as the live trader wires them."""

    engine: Engine
    store: Store
    sub: StoreSubscriber
    feed: ReplayFeed
    bars: pd.DataFrame

    async def run(self) -> LiveRunner:
        """Replay every bar through a :class:`LiveRunner` on the running loop, then flush."""
        runner = LiveRunner(self.engine, self.feed)
        runner.start()
        await runner.wait()
        self.sub.flush()
        return runner


def wired_replay(
    store: Store,
    *,
    days: int = 1,
    history_days: int = 30,
    seed: int = 1,
    speed: float | None = None,
    bus: EventBus | None = None,
) -> WiredReplay:
    """A synthetic SPY replay (SYNTHETIC data, not market data) journaled into ``store``."""
    from tradekit.cli._common import market_for, replay_inputs

    args = argparse.Namespace(
        data="synthetic",
        symbol="SPY",
        start="2023-02-27",
        days=days,
        history_days=history_days,
        seed=seed,
        vix=18.0,
    )
    inp = replay_inputs(args)
    market, quotes = market_for(inp, args)
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    clock, bus = SimClock(), bus if bus is not None else EventBus()
    engine = Engine(cfg, clock=clock, bus=bus, market=market, quotes=quotes, state_store=store)
    store.save_config(cfg)
    sub = StoreSubscriber(store, bus, batch_size=200, flush_interval_s=None)
    feed = ReplayFeed(inp.bars, speed=speed, clock=clock, symbol="SPY", timeframe="1min")
    return WiredReplay(engine, store, sub, feed, inp.bars)
