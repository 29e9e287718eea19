"""One Panel/Bokeh Tornado server hosting the REST API, the event stream and the Panel apps.

:func:`build_server` mounts the route table (:mod:`tradekit.api.endpoints`) and
``/ws/events`` through Panel's ``extra_patterns`` on the same Tornado application that serves
the dashboards, in the process that owns the DuckDB file, on the event loop the trader runs on.
Endpoints therefore call the trader directly, between two bars, with no locks and no second
database connection.

:class:`ServerThread` runs a server on a private event loop in a background thread — for tests,
benchmarks and scripts that keep their main thread.

Examples
--------
In a notebook (its loop is running)::

    server = build_server(trader, port=5006)
    server.start()
    print(server.url, server.token)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from tradekit.api.auth import Tokens, resolve_tokens
from tradekit.api.backtests import BacktestQueue
from tradekit.api.client import discovery_path, token_path
from tradekit.api.endpoints import ROUTES
from tradekit.api.ratelimit import RateLimiter
from tradekit.api.rest import ApiContext, url_patterns
from tradekit.api.ws import EventHub, EventStreamHandler

__all__ = ["ApiServer", "ServerThread", "build_server", "free_port"]

log = logging.getLogger("tradekit.api")
T = TypeVar("T")


def free_port(address: str = "127.0.0.1") -> int:
    """A TCP port free on ``address`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((address, 0))
        return int(s.getsockname()[1])


def _landing(ctx: ApiContext) -> Callable[[], Any]:
    """The page at ``/`` when no app is given: what this server offers."""

    def page() -> Any:
        import panel as pn

        state = ctx.trader.status().state if ctx.trader is not None else "no trader"
        return pn.pane.Markdown(
            f"# tradekit\n\nTrader: **{state}**. REST API under `/api/` "
            "([OpenAPI](/api/openapi.json)), events on `/ws/events?token=...`."
        )

    return page


class ApiServer:
    """A built (not yet listening) server; :meth:`start` binds it, :meth:`stop` ends it."""

    def __init__(
        self,
        bokeh: Any,
        ctx: ApiContext,
        *,
        address: str,
        port: int,
        discovery: Path | None,
        generated_token: bool,
    ) -> None:
        self.bokeh = bokeh
        self.ctx = ctx
        self.address = address
        self.port = port
        self.discovery = discovery
        self.generated_token = generated_token
        self.started = False

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    @property
    def token(self) -> str | None:
        """The operator token (``None`` when only a read-only token is configured)."""
        return self.ctx.tokens.operator

    @property
    def hub(self) -> EventHub:
        assert self.ctx.hub is not None
        return self.ctx.hub

    def start(self) -> None:
        """Listen, and announce the server next to the database (discovery file)."""
        self.bokeh.start()
        self.started = True
        if self.discovery is not None:
            info = {
                "pid": os.getpid(),
                "url": self.url,
                "port": self.port,
                "address": self.address,
                "db": self.ctx.store.path,
                "started_at": time.time(),
            }
            tmp = self.discovery.with_name(self.discovery.name + ".tmp")
            tmp.write_text(json.dumps(info), encoding="utf-8")
            os.replace(tmp, self.discovery)

    async def stop(self) -> None:
        """Close the streams and backtest workers, stop listening, withdraw the discovery file.

        The trader and the store belong to the caller and are left as they are.
        """
        if self.ctx.hub is not None:
            self.ctx.hub.close_all()
        if self.ctx.backtests is not None:
            self.ctx.backtests.close()
        if self.started:
            self.bokeh.stop()
            self.started = False
        if self.discovery is not None:
            with contextlib.suppress(OSError, ValueError):
                info = json.loads(self.discovery.read_text(encoding="utf-8"))
                if info.get("pid") == os.getpid():
                    self.discovery.unlink()
        await asyncio.sleep(0)


def build_server(
    trader: Any,
    *,
    port: int = 5006,
    apps: Mapping[str, Callable[..., Any]] | None = None,
    address: str = "127.0.0.1",
    tokens: Tokens | None = None,
    store: Any = None,
    bus: Any = None,
    rate: float = 50.0,
    burst: int = 100,
    backtest_workers: int = 1,
    stream_queue: int = 1000,
    discovery: bool = True,
    title: str = "tradekit",
) -> ApiServer:
    """Build the one Tornado server of a trader (call :meth:`ApiServer.start` to listen).

    Parameters
    ----------
    trader:
        The :class:`~tradekit.runtime.autotrader.AutoTrader` (``.store``, ``.bus``,
        ``.run_id``, controls, ``status()``); ``None`` serves a database without a trader
        (give ``store`` and ``bus``; controls answer 409).
    port, address:
        Where to listen (``port=0``: a free port). Loopback by default.
    apps:
        Panel apps by URL slug, e.g. ``{"control": control_center}``; a landing page at ``/``
        when none.
    tokens:
        Accepted tokens; default :func:`~tradekit.api.auth.resolve_tokens` (environment, else a
        generated operator token stored next to the database).
    rate, burst:
        Per-token rate limit (requests/s, bucket size).
    backtest_workers:
        Worker processes for ``POST /api/backtests``.
    stream_queue:
        Messages a WebSocket client may have waiting before it is dropped as slow.
    discovery:
        Write ``<db>.server.json`` while listening (for ``tradekit status`` / ``kill``).
    """
    from panel.io.server import get_server

    store = trader.store if trader is not None else store
    bus = trader.bus if trader is not None else bus
    if store is None or bus is None:
        raise ValueError("build_server needs a trader, or a store and a bus")
    generated = False
    if tokens is None:
        tokens, generated = resolve_tokens(token_path(store.path))
    ctx = ApiContext(
        store=store,
        bus=bus,
        tokens=tokens,
        trader=trader,
        limiter=RateLimiter(rate, burst),
        hub=EventHub(bus, max_queue=stream_queue),
        backtests=BacktestQueue(store, workers=backtest_workers),
        run_id=str(trader.run_id) if trader is not None else "live",
        version=_version(),
    )
    port = port or free_port(address)
    patterns: list[Any] = url_patterns(ctx, ROUTES)
    patterns.insert(0, (r"/ws/events", EventStreamHandler, {"hub": ctx.hub, "tokens": tokens}))
    panels: dict[str, Any] = dict(apps) if apps else {"/": _landing(ctx)}
    origins = [f"{address}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"]
    bokeh = get_server(
        panels,
        port=port,
        address=address,
        start=False,
        show=False,
        title=title,
        websocket_origin=origins,
        extra_patterns=patterns,
    )
    on_disk = store.path != ":memory:"
    return ApiServer(
        bokeh,
        ctx,
        address=address,
        port=port,
        generated_token=generated,
        discovery=discovery_path(store.path) if discovery and on_disk else None,
    )


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("tradekit")
    except Exception:
        return "0.0.0"


class ServerThread:
    """Run a trader and its server on a private event loop in a daemon thread.

    Parameters
    ----------
    make_trader:
        Called on the server's loop; returns the trader (its store and bus are served).
    close:
        Called on the loop after the server stopped (stop the trader, close the store).
    server_kwargs:
        Passed to :func:`build_server` (``port`` defaults to a free one).
    """

    def __init__(
        self,
        make_trader: Callable[[], Any],
        *,
        close: Callable[[Any], Awaitable[None] | None] | None = None,
        **server_kwargs: Any,
    ) -> None:
        self._make = make_trader
        self._close = close
        self._kwargs = {"port": 0, **server_kwargs}
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.server: ApiServer | None = None
        self.trader: Any = None
        self._thread = threading.Thread(target=self._main, name="tradekit-server", daemon=True)

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self.loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            self.trader = self._make()
            self.server = build_server(self.trader, **self._kwargs)
            self.server.start()
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stop.wait()
        await self.server.stop()
        if self._close is not None:
            out = self._close(self.trader)
            if out is not None:
                await out

    def __enter__(self) -> ServerThread:
        self._thread.start()
        self._ready.wait(60)
        if self._error is not None:
            raise self._error
        if self.server is None:
            raise TimeoutError("the server did not start within 60 s")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.loop is not None and self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    @property
    def url(self) -> str:
        assert self.server is not None
        return self.server.url

    def call(self, fn: Callable[[], T], timeout: float = 30.0) -> T:
        """Run ``fn()`` on the server's loop (where the trader lives) and return its result."""
        assert self.loop is not None
        fut: Future[T] = Future()

        def run() -> None:
            try:
                fut.set_result(fn())
            except BaseException as exc:
                fut.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return fut.result(timeout)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
        """Run a coroutine on the server's loop and return its result."""
        assert self.loop is not None
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)
