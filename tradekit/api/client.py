"""A small standard-library client of the REST API, and server discovery.

``tradekit serve`` writes a *discovery file* next to the database (``<db>.server.json``: pid,
port, url) while it runs. :func:`connect` reads it, checks that the process is alive and
answers ``/api/health``, and returns an :class:`ApiClient` authenticated with the operator
token from ``TRADEKIT_API_TOKEN`` or the token file ``serve`` generated next to the database.
``tradekit status`` and ``tradekit kill`` use it, and fall back to the database / kill file
when no server is up.

Examples
--------
>>> connect("/nonexistent/tradekit.duckdb") is None
True
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tradekit.api.auth import OPERATOR_ENV, READ_ENV, TOKEN_FILE_NAME, load_token_file

__all__ = [
    "ApiClient",
    "ApiClientError",
    "connect",
    "discovery_path",
    "read_discovery",
    "token_path",
]


class ApiClientError(Exception):
    """The server answered with an error status (``status``, ``error``, ``detail``)."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(f"HTTP {status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail


def discovery_path(db: str | os.PathLike[str]) -> Path:
    """Where a server owning ``db`` announces itself (``<db>.server.json``)."""
    p = Path(db)
    return p.with_name(p.name + ".server.json")


def token_path(db: str | os.PathLike[str]) -> Path:
    """The generated operator-token file of a server owning ``db`` (mode 0600)."""
    p = Path(db)
    return (p.parent if str(db) != ":memory:" else Path("data")) / TOKEN_FILE_NAME


def read_discovery(db: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The discovery record of a live server owning ``db``, or ``None``."""
    try:
        info = json.loads(discovery_path(db).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("url"), str):
        return None
    from tradekit.cli.status import pid_alive

    if not pid_alive(info.get("pid")):
        return None
    return info


class ApiClient:
    """Blocking JSON client (``urllib``) of one server.

    Parameters
    ----------
    url:
        Base URL, e.g. ``http://127.0.0.1:5006``.
    token:
        Bearer token (``None`` for the public routes only).
    timeout:
        Seconds per request.
    """

    def __init__(self, url: str, token: str | None = None, *, timeout: float = 5.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        """Send one request; returns the decoded JSON answer.

        Raises
        ------
        ApiClientError
            The server answered 4xx / 5xx.
        OSError
            The server cannot be reached.
        """
        query = {k: v for k, v in params.items() if v is not None}
        url = self.url + path + (("?" + urllib.parse.urlencode(query)) if query else "")
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Accept", "application/json")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                return json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as exc:
            try:
                err = json.loads(exc.read())
            except ValueError:
                err = {}
            raise ApiClientError(
                exc.code, str(err.get("error", "http_error")), str(err.get("detail", exc.reason))
            ) from None

    def get(self, path: str, **params: Any) -> Any:
        return self.request("GET", path, **params)

    def post(self, path: str, body: Any = None) -> Any:
        return self.request("POST", path, body if body is not None else {})

    def health(self) -> dict[str, Any]:
        return dict(self.get("/api/health"))

    def status(self) -> dict[str, Any]:
        return dict(self.get("/api/auto-trade/status"))

    def kill(self, reason: str, *, flatten: bool = False) -> dict[str, Any]:
        body = {"reason": reason, "flatten": flatten}
        return dict(self.post("/api/auto-trade/kill-switch", body))


def _token_for(db: str | os.PathLike[str]) -> str | None:
    return (
        os.environ.get(OPERATOR_ENV)
        or load_token_file(token_path(db))
        or os.environ.get(READ_ENV)
        or None
    )


def connect(
    db: str | os.PathLike[str], *, token: str | None = None, timeout: float = 2.0
) -> ApiClient | None:
    """A client of the live server owning ``db``, or ``None`` when none is up."""
    info = read_discovery(db)
    if info is None:
        return None
    client = ApiClient(str(info["url"]), token or _token_for(db), timeout=timeout)
    try:
        client.health()
    except (OSError, ApiClientError, ValueError):
        return None
    return client
