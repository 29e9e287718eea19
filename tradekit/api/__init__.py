"""tradekit.api: the auto-trader as a service — REST API, event stream, one Tornado server.

* :mod:`.server`: :func:`build_server` — one Panel/Bokeh Tornado server hosting the Panel apps,
  the REST routes and ``/ws/events``, on the trader's event loop; :class:`ServerThread`.
* :mod:`.endpoints`: the route table (single source of the server and of :mod:`.openapi`).
* :mod:`.rest`: the request pipeline (auth, rate limit, body limit, validation, JSON errors).
* :mod:`.queries`: filtered, keyset-paginated reads of the store.
* :mod:`.ws`: the event hub (bus → bounded per-client queues → WebSocket).
* :mod:`.auth`, :mod:`.ratelimit`, :mod:`.backtests` (worker processes), :mod:`.client`.
"""

from tradekit.api.auth import Tokens
from tradekit.api.client import ApiClient, ApiClientError, connect
from tradekit.api.server import ApiServer, ServerThread, build_server

__all__ = [
    "ApiClient",
    "ApiClientError",
    "ApiServer",
    "ServerThread",
    "Tokens",
    "build_server",
    "connect",
]
