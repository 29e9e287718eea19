"""The event stream over a real server: authenticated, filtered, in bus order during a real
replay (engine + store journal + live runner), and a slow client is dropped, never waited for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from tradekit.api import ServerThread
from tradekit.api.ws import CLOSE_SLOW_CONSUMER, DEFAULT_STREAM_TOPICS, parse_topics
from tradekit.store import Store
from tradekit.testing.api import OPERATOR_TOKEN, READ_TOKEN, TEST_TOKENS, WiredReplay, wired_replay


@pytest.fixture
def live(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[ServerThread, WiredReplay]]:
    """A server streaming a replay's bus; an as-fast-as-possible replay is one long burst, so
    the queue holds a whole session unless the test asks for a small one (indirect param)."""
    queue = getattr(request, "param", 10_000)
    store = Store.open(str(tmp_path / "ws.duckdb"))
    rep = wired_replay(store, days=1)
    with ServerThread(lambda: None, store=store, bus=rep.engine.bus, tokens=TEST_TOKENS,
                      stream_queue=queue, discovery=False) as th:  # fmt: skip
        yield th, rep
    rep.sub.close()
    store.close()


def ws_url(th: ServerThread, query: str) -> str:
    return th.url.replace("http://", "ws://") + "/ws/events?" + query


async def read_all(conn: WebSocketClientConnection, until: int, timeout: float = 30.0) -> list[Any]:
    got: list[Any] = []
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while len(got) < until and loop.time() < end:
        msg = await asyncio.wait_for(conn.read_message(), end - loop.time())
        if msg is None:
            break
        got.append(json.loads(msg))
    return got


def journal(store: Store, patterns: tuple[str, ...]) -> list[tuple[str, str]]:
    df = store.journal()
    keep = [
        (t, ty)
        for t, ty in zip(df["topic"], df["type"], strict=True)
        if any(t == p or p == "*" or (p.endswith(".*") and t.startswith(p[:-1])) for p in patterns)
    ]
    return keep


async def test_a_client_receives_the_events_of_a_replay_in_order(
    live: tuple[ServerThread, WiredReplay],
) -> None:
    th, rep = live
    conn = await websocket_connect(ws_url(th, f"token={READ_TOKEN}"))
    await asyncio.sleep(0.2)  # the hub subscribes on open
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(rep.run(), th.loop))  # type: ignore[arg-type]
    expected = journal(rep.store, DEFAULT_STREAM_TOPICS)
    assert len(expected) > 100
    got = await read_all(conn, len(expected))
    conn.close()
    assert [(m["topic"], m["type"]) for m in got] == expected
    seqs = [m["seq"] for m in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    fills = [m["data"] for m in got if m["topic"].startswith("fills.")]
    stored = list(rep.store.fills()["id"])  # ordered by time, then id: the same fills, once
    assert sorted(f["id"] for f in fills) == sorted(stored) and len(stored) == len(set(stored))


async def test_topic_filter_and_bearer_header(live: tuple[ServerThread, WiredReplay]) -> None:
    th, rep = live
    req = HTTPRequest(ws_url(th, "topics=fills.*,orders.*"),
                      headers={"Authorization": f"Bearer {OPERATOR_TOKEN}"})  # fmt: skip
    conn = await websocket_connect(req)
    await asyncio.sleep(0.2)
    await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(rep.run(), th.loop))  # type: ignore[arg-type]
    expected = journal(rep.store, ("fills.*", "orders.*"))
    got = await read_all(conn, len(expected))
    conn.close()
    assert expected and [(m["topic"], m["type"]) for m in got] == expected


@pytest.mark.parametrize(
    ("query", "code"),
    [("", 401), ("token=wrong-wrong-wrong", 401), (f"token={READ_TOKEN}&topics=a*b", 422)],
)
async def test_refused_streams(
    live: tuple[ServerThread, WiredReplay], query: str, code: int
) -> None:
    th, _ = live
    with pytest.raises(HTTPClientError) as e:
        await websocket_connect(ws_url(th, query))
    assert e.value.code == code


@pytest.mark.parametrize("live", [50], indirect=True)
async def test_a_slow_client_is_dropped_and_the_publisher_never_waits(
    live: tuple[ServerThread, WiredReplay],
) -> None:
    th, rep = live
    conn = await websocket_connect(ws_url(th, f"token={READ_TOKEN}&topics=test.*"))
    await asyncio.sleep(0.2)
    hub = th.server.hub if th.server else None
    assert hub is not None and len(hub.clients) == 1
    bus = rep.engine.bus

    def burst() -> None:  # a synchronous burst: the writer task cannot run in between
        for i in range(500):
            bus.publish("test.big", {"i": i, "pad": "x" * 200})

    th.call(burst)
    assert hub.dropped == 1 and hub.clients == []
    assert bus.errors == []
    while (await conn.read_message()) is not None:
        pass
    assert conn.close_code == CLOSE_SLOW_CONSUMER


def test_parse_topics() -> None:
    assert parse_topics(None) == DEFAULT_STREAM_TOPICS
    assert parse_topics("fills.*, state.trader,fills.*") == ("fills.*", "state.trader")
    for bad in ("a*b", "*.x", ".*", ",".join(f"t{i}" for i in range(40))):
        with pytest.raises(ValueError):
            parse_topics(bad)
