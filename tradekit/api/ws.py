"""The event stream: ``GET /ws/events?token=...&topics=...`` pushes bus events as JSON.

:class:`EventHub` bridges the :class:`~tradekit.core.bus.EventBus` to WebSocket clients. Each
client subscribes its own topic patterns on the bus (bus pattern rules: ``fills.*``,
``state.trader``, ``*``), at a low priority so the store has persisted an event before it is
streamed. The bus handler never waits on a socket: it encodes the event once (shared by every
client, under one hub-wide sequence number), appends it to the client's **bounded** queue and
wakes the client's writer task. A client whose queue is full is a slow consumer: it is dropped
with close code :data:`CLOSE_SLOW_CONSUMER` — the trader never slows down for a viewer.

A message is ``{"seq": n, "topic": "fills.new", "type": "Fill", "data": {...}}``; ``seq``
increases by one per event the hub streams, so a client can tell it missed nothing (within its
own filter, numbers may skip events it did not ask for).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from tornado.websocket import WebSocketClosedError, WebSocketHandler

from tradekit.api.auth import Tokens, bearer
from tradekit.core.bus import EventBus, Subscription
from tradekit.store.convert import dumps_json, jsonable, record_payload
from tradekit.store.journal import DEFAULT_TOPICS

__all__ = [
    "CLOSE_SLOW_CONSUMER",
    "DEFAULT_STREAM_TOPICS",
    "EventHub",
    "EventStreamHandler",
    "encode_event",
    "parse_topics",
]

log = logging.getLogger("tradekit.api")

#: Close code of a client that could not keep up (application range 4000-4999).
CLOSE_SLOW_CONSUMER = 4008
#: Close code sent to every client when the server shuts down (RFC 6455 "going away").
CLOSE_GOING_AWAY = 1001
#: Topics streamed when the client gives no ``topics``: what the store journals, without the
#: closed-trade records (bars are opt-in: one per minute per symbol is more than most want).
DEFAULT_STREAM_TOPICS: tuple[str, ...] = tuple(t for t in DEFAULT_TOPICS if t != "trades.*")
#: Below the store's priority (1000) and the default (0): persisted first, streamed last.
HUB_PRIORITY = -500


def parse_topics(text: str | None) -> tuple[str, ...]:
    """The patterns of a ``topics`` query value (comma-separated); ``ValueError`` if invalid."""
    if text is None or not text.strip():
        return DEFAULT_STREAM_TOPICS
    pats = tuple(dict.fromkeys(p.strip() for p in text.split(",") if p.strip()))
    if not pats or len(pats) > 32:
        raise ValueError("give 1 to 32 comma-separated topic patterns")
    for p in pats:
        body = p[:-2] if p.endswith(".*") else p
        if p != "*" and (not body or "*" in body or len(p) > 128):
            raise ValueError(f"invalid topic pattern {p!r} (exact topic, 'prefix.*' or '*')")
    return pats


def encode_event(seq: int, topic: str, event: Any) -> str:
    """The JSON text of one stream message."""
    if isinstance(event, Mapping):
        data: Any = jsonable(dict(event))
        kind = "dict"
    elif hasattr(type(event), "__dataclass_fields__"):
        data = record_payload(event)
        kind = type(event).__name__
    else:
        data, kind = jsonable(event), type(event).__name__
    text = dumps_json({"seq": seq, "topic": topic, "type": kind, "data": data})
    return text or "null"


class _Client:
    """One connected stream: its bus subscriptions, its bounded queue and its writer task."""

    __slots__ = ("handler", "last", "queue", "subs", "task", "wake")

    def __init__(self, handler: EventStreamHandler) -> None:
        self.handler = handler
        self.queue: deque[str] = deque()
        self.wake = asyncio.Event()
        self.subs: list[Subscription] = []
        self.task: asyncio.Task[None] | None = None
        self.last: Any = None


class EventHub:
    """Fans bus events out to WebSocket clients without ever blocking the publisher.

    Parameters
    ----------
    bus:
        The trader's bus.
    max_queue:
        Messages a client may have waiting; one more and it is dropped as a slow consumer.
    max_clients:
        Connections accepted at once (more are refused with 503 before the upgrade).
    """

    def __init__(self, bus: EventBus, *, max_queue: int = 1000, max_clients: int = 32) -> None:
        if max_queue < 1:
            raise ValueError(f"max_queue must be >= 1, got {max_queue}")
        self.bus = bus
        self.max_queue = max_queue
        self.max_clients = max_clients
        self.clients: list[_Client] = []
        self.seq = 0
        self.dropped = 0
        self._last_event: Any = None
        self._last_text = ""

    # -- clients --------------------------------------------------------------------------
    def attach(self, handler: EventStreamHandler, topics: Sequence[str]) -> _Client:
        """Subscribe a connected handler to ``topics`` and start its writer."""
        client = _Client(handler)

        def deliver(topic: str, event: Any, _c: _Client = client) -> None:
            self._deliver(_c, topic, event)

        client.subs = [self.bus.subscribe(p, deliver, priority=HUB_PRIORITY) for p in topics]
        client.task = asyncio.get_running_loop().create_task(self._writer(client))
        self.clients.append(client)
        return client

    def detach(self, client: _Client) -> None:
        """Unsubscribe a client and stop its writer (idempotent)."""
        for sub in client.subs:
            self.bus.unsubscribe(sub)
        client.subs.clear()
        client.queue.clear()
        if client in self.clients:
            self.clients.remove(client)
        if client.task is not None and not client.task.done():
            client.task.cancel()

    def close_all(self) -> None:
        """Close every stream (server shutdown)."""
        for client in list(self.clients):
            self.detach(client)
            client.handler.close(CLOSE_GOING_AWAY, "server shutting down")

    # -- the bus side (runs inside publish: must stay short and never block) ---------------
    def _deliver(self, client: _Client, topic: str, event: Any) -> None:
        if event is client.last:
            return  # matched by two of this client's patterns: send once
        client.last = event
        if event is not self._last_event:
            self.seq += 1
            self._last_event = event
            self._last_text = encode_event(self.seq, topic, event)
        if len(client.queue) >= self.max_queue:
            self._drop(client)
            return
        client.queue.append(self._last_text)
        client.wake.set()

    def _drop(self, client: _Client) -> None:
        self.dropped += 1
        log.warning("event stream: dropping a slow client (%d messages waiting)", len(client.queue))
        self.detach(client)
        client.handler.close(CLOSE_SLOW_CONSUMER, "slow consumer: queue full")

    # -- the socket side --------------------------------------------------------------------
    async def _writer(self, client: _Client) -> None:
        try:
            while True:
                await client.wake.wait()
                client.wake.clear()
                while client.queue:
                    await client.handler.write_message(client.queue.popleft())
        except (WebSocketClosedError, asyncio.CancelledError):
            pass
        finally:
            if client in self.clients:
                self.detach(client)


class EventStreamHandler(WebSocketHandler):
    """``GET /ws/events``: authenticated (``?token=`` or a bearer header), topic-filtered."""

    def initialize(self, hub: EventHub, tokens: Tokens) -> None:
        self.hub = hub
        self.tokens = tokens
        self.topics: tuple[str, ...] = DEFAULT_STREAM_TOPICS
        self.client: _Client | None = None

    def _refuse(self, status: int, error: str, detail: str) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(dumps_json({"error": error, "detail": detail}))

    async def get(self, *args: Any, **kwargs: Any) -> None:
        token = self.get_query_argument("token", None) or bearer(
            self.request.headers.get("Authorization")
        )
        if self.tokens.role_of_token(token) is None:
            self._refuse(401, "unauthorized", "missing or invalid token (?token=...)")
            return
        try:
            self.topics = parse_topics(self.get_query_argument("topics", None))
        except ValueError as exc:
            self._refuse(422, "validation_error", f"query parameter 'topics': {exc}")
            return
        if len(self.hub.clients) >= self.hub.max_clients:
            self._refuse(503, "too_many_streams", f"at most {self.hub.max_clients} streams")
            return
        await super().get(*args, **kwargs)

    def open(self, *args: str, **kwargs: str) -> None:
        self.client = self.hub.attach(self, self.topics)

    def on_message(self, message: str | bytes) -> None:
        """Clients only listen; anything they send is ignored."""

    def on_close(self) -> None:
        if self.client is not None:
            self.hub.detach(self.client)
