"""The REST layer: a declarative route table served by one Tornado handler class.

Every endpoint is a :class:`Route` — method, path, role, query parameters, the pydantic model of
its body, the JSON schema of its answer — and a function ``fn(ctx, req)`` returning a JSON-able
value. The same table builds the Tornado URL patterns (:func:`url_patterns`) and the OpenAPI
document (:mod:`tradekit.api.openapi`), so the two cannot drift apart.

A request goes through, in order: route and method (404 / 405), authentication (401), role
(403: a read-only token may not ``POST``), the per-token rate limit (429 + ``Retry-After``; the
kill switch is exempt), the 64 KB body limit (413), JSON parsing (400) and validation of the
query and body (422). Every refusal is a JSON object ``{"error": <code>, "detail": <text>}``; an
unexpected exception inside an endpoint is logged and answered 500 without internals — bad input
is refused before it reaches an endpoint, so a 500 is a bug, never the client's fault.

CORS is off: no ``Access-Control-*`` header is ever sent and ``OPTIONS`` is 405, so a browser on
another origin cannot call the API with a user's token.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Literal

import pydantic
from tornado.web import HTTPError, RequestHandler

from tradekit.api.auth import Role, Tokens, bearer
from tradekit.api.ratelimit import RateLimiter
from tradekit.errors import StoreError, TradekitError
from tradekit.store.convert import dumps_json
from tradekit.store.reads import to_ns

if TYPE_CHECKING:
    from tradekit.api.backtests import BacktestQueue
    from tradekit.api.ws import EventHub
    from tradekit.core.bus import EventBus
    from tradekit.store import Store

__all__ = [
    "MAX_BODY_BYTES",
    "ApiContext",
    "ApiError",
    "ApiRequest",
    "Param",
    "Route",
    "RouteHandler",
    "url_patterns",
]

log = logging.getLogger("tradekit.api")

#: Largest accepted request body, bytes (larger is 413).
MAX_BODY_BYTES = 64 * 1024

Access = Literal["public", "read", "operator"]
ParamType = Literal["string", "integer", "number", "boolean", "time", "csv"]


class ApiError(Exception):
    """A refusal with its HTTP status, machine-readable ``error`` code and human ``detail``."""

    def __init__(
        self, status: int, error: str, detail: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {error}: {detail}")
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers or {}


@dataclass(frozen=True, slots=True)
class Param:
    """One query (or path) parameter.

    ``time`` accepts an ISO-8601 time (naive = UTC) or int nanoseconds UTC and yields int ns;
    ``csv`` is a comma-separated list of strings (``symbol=SPY,QQQ``).
    """

    name: str
    type: ParamType
    description: str
    location: Literal["query", "path"] = "query"
    required: bool = False
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] | None = None

    def parse(self, raw: str) -> Any:
        """The typed value of ``raw``; raises a 422 :class:`ApiError` naming the parameter."""
        try:
            value = self._convert(raw)
        except (ValueError, StoreError) as exc:
            raise ApiError(
                422, "validation_error", f"{self.location} parameter {self.name!r}: {exc}"
            ) from None
        return value

    def _convert(self, raw: str) -> Any:
        if self.type == "integer":
            if not re.fullmatch(r"[+-]?\d{1,18}", raw.strip()):
                raise ValueError(f"expected an integer, got {raw!r}")
            value: Any = int(raw)
        elif self.type == "number":
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(f"expected a finite number, got {raw!r}")
        elif self.type == "boolean":
            low = raw.strip().lower()
            if low not in ("true", "false", "1", "0"):
                raise ValueError(f"expected true or false, got {raw!r}")
            return low in ("true", "1")
        elif self.type == "time":
            text = raw.strip()
            if not text:
                raise ValueError("expected a time, got an empty string")
            return to_ns(int(text) if re.fullmatch(r"-?\d{1,19}", text) else text)
        elif self.type == "csv":
            items = tuple(p.strip() for p in raw.split(",") if p.strip())
            if not items or any(len(p) > 64 for p in items):
                raise ValueError("expected a comma-separated list of short names")
            return items
        else:
            value = raw
            if len(value) > 256:
                raise ValueError("longer than 256 characters")
        if self.minimum is not None and value < self.minimum:
            raise ValueError(f"must be >= {self.minimum:g}, got {raw!r}")
        if self.maximum is not None and value > self.maximum:
            raise ValueError(f"must be <= {self.maximum:g}, got {raw!r}")
        if self.enum is not None and value not in self.enum:
            raise ValueError(f"must be one of {', '.join(self.enum)}, got {raw!r}")
        return value


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """What an endpoint function receives: typed path / query values, the body, the caller."""

    route: Route
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    role: Role | None


Endpoint = Callable[["ApiContext", ApiRequest], Any | Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint of the route table.

    Parameters
    ----------
    method, path:
        ``"GET"`` / ``"POST"`` and an OpenAPI-style path (``/api/alerts/{id}/ack``).
    fn:
        ``fn(ctx, req)``, sync or async, returning the JSON-able answer.
    summary, tag:
        OpenAPI documentation.
    access:
        ``public`` (no token), ``read`` (any token) or ``operator``.
    params:
        Query and path parameters.
    body:
        Pydantic model the JSON body must satisfy (``None``: the body is ignored).
    body_optional:
        An empty body counts as ``{}``.
    response:
        JSON schema of the success answer (OpenAPI ``components`` refs allowed).
    status:
        Success status (200, 201 or 202).
    limited:
        Subject to the rate limit (the kill switch is not).
    errors:
        Error statuses this route can answer besides the common ones (documented).
    """

    method: Literal["GET", "POST"]
    path: str
    fn: Endpoint
    summary: str
    tag: str
    access: Access = "read"
    params: tuple[Param, ...] = ()
    body: type[pydantic.BaseModel] | None = None
    body_optional: bool = False
    response: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    status: int = 200
    limited: bool = True
    errors: tuple[int, ...] = ()

    @property
    def operation_id(self) -> str:
        words = re.sub(r"[{}]", "", self.path.removeprefix("/api/")).replace("-", "_")
        return f"{self.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', words).strip('_')}"

    def error_statuses(self) -> tuple[int, ...]:
        """Every error status the route can answer, sorted."""
        codes = {400, 404, 405, 413, 422, *self.errors}
        if self.access != "public":
            codes |= {401}
        if self.access == "operator" or self.method == "POST":
            codes |= {403}
        if self.limited and self.access != "public":
            codes |= {429}
        return tuple(sorted(codes))


@dataclass
class ApiContext:
    """Everything an endpoint may touch; one per server, shared by every request.

    Endpoints run on the server's event loop, the same loop the trader runs on, so they see a
    consistent trader between two bars and need no locks.
    """

    store: Store
    bus: EventBus
    tokens: Tokens
    trader: Any = None
    limiter: RateLimiter | None = None
    hub: EventHub | None = None
    backtests: BacktestQueue | None = None
    run_id: str = "live"
    version: str = "0.1.0"
    #: The trader's status, recomputed only after bus events (``endpoints.StatusCache``).
    status_cache: Any = None


def _error_body(error: str, detail: str) -> bytes:
    return json.dumps({"error": error, "detail": detail}).encode()


class JsonHandler(RequestHandler):
    """Base of every API handler: JSON answers, JSON errors, no CORS, no caching."""

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Content-Type-Options", "nosniff")

    def check_xsrf_cookie(self) -> None:
        """Bearer tokens, not cookies, authenticate: no XSRF cookie applies."""

    def send_json(self, status: int, value: Any) -> None:
        self.set_status(status)
        self.finish(dumps_json(value) or "null")

    def send_api_error(self, err: ApiError) -> None:
        self.clear()
        self.set_status(err.status)
        for k, v in err.headers.items():
            self.set_header(k, v)
        self.finish(_error_body(err.error, err.detail))

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if not isinstance(value, ApiError):  # a refusal is an answer, not a server fault
            super().log_exception(typ, value, tb)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            self.send_api_error(exc)
            return
        try:
            name = HTTPStatus(status_code).phrase.lower().replace(" ", "_")
        except ValueError:
            name = "error"
        if status_code >= 500:
            detail = "internal error (logged by the server)"
        elif isinstance(exc, HTTPError) and exc.log_message:
            detail = exc.log_message % exc.args if exc.args else exc.log_message
        else:
            detail = (
                HTTPStatus(status_code).phrase
                if status_code in HTTPStatus._value2member_map_
                else ""
            )
        if status_code == 405:
            self.set_header("Allow", ", ".join(getattr(self, "allowed_methods", ())))
        self.finish(_error_body(name, detail))


class NotFoundHandler(JsonHandler):
    """Answers every unknown ``/api/...`` path with a JSON 404."""

    def prepare(self) -> None:
        raise ApiError(404, "not_found", f"no API route {self.request.path!r}")


class RouteHandler(JsonHandler):
    """Serves every method of one path of the route table."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "DELETE", "PATCH", "PUT", "OPTIONS")

    def initialize(self, ctx: ApiContext, routes: dict[str, Route]) -> None:
        self.ctx = ctx
        self.routes = routes
        self.allowed_methods = tuple(sorted(routes))

    async def get(self, **path: str) -> None:
        await self._dispatch("GET", path)

    async def post(self, **path: str) -> None:
        await self._dispatch("POST", path)

    def _refuse_method(self, *args: Any, **kwargs: Any) -> None:
        raise ApiError(
            405,
            "method_not_allowed",
            f"{self.request.method} is not allowed on {self.request.path}",
            headers={"Allow": ", ".join(self.allowed_methods)},
        )

    head = delete = patch = put = options = _refuse_method

    async def _dispatch(self, method: str, path: dict[str, str]) -> None:
        route = self.routes.get(method)
        if route is None:
            self._refuse_method()
            return
        try:
            role = self._authorize(route)
            req = ApiRequest(route, path, self._query(route), self._body(route), role)
            result = route.fn(self.ctx, req)
            if isinstance(result, Awaitable):
                result = await result
        except ApiError as err:
            self.send_api_error(err)
            return
        except TradekitError as exc:  # a refusal of the domain layer: the client's input
            self.send_api_error(ApiError(422, type(exc).__name__.lower(), str(exc)))
            return
        self.send_json(route.status, result)

    def _authorize(self, route: Route) -> Role | None:
        if route.access == "public":
            return None
        ctx = self.ctx
        token = bearer(self.request.headers.get("Authorization"))
        role = ctx.tokens.role_of_token(token)
        if role is None:
            raise ApiError(
                401,
                "unauthorized",
                "missing or invalid bearer token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": 'Bearer realm="tradekit"'},
            )
        if role != "operator" and (route.method == "POST" or route.access == "operator"):
            raise ApiError(
                403, "forbidden", "this token is read-only; the operator token is needed"
            )
        if route.limited and ctx.limiter is not None and token is not None:
            wait = ctx.limiter.acquire(token)
            if wait > 0:
                retry = RateLimiter.retry_after(wait)
                raise ApiError(
                    429,
                    "rate_limited",
                    f"too many requests; retry in {retry} s",
                    headers={"Retry-After": str(retry)},
                )
        return role

    def _query(self, route: Route) -> dict[str, Any]:
        args = self.request.query_arguments
        out: dict[str, Any] = {}
        for p in route.params:
            if p.location != "query":
                continue
            raw = args.get(p.name)
            if not raw:
                if p.required:
                    raise ApiError(
                        422, "validation_error", f"query parameter {p.name!r} is required"
                    )
                out[p.name] = p.default
                continue
            try:
                text = raw[-1].decode("utf-8")
            except UnicodeDecodeError:
                raise ApiError(
                    422, "validation_error", f"query parameter {p.name!r} is not UTF-8"
                ) from None
            out[p.name] = p.parse(text)
        return out

    def _body(self, route: Route) -> Any:
        length = self.request.headers.get("Content-Length")
        body = self.request.body or b""
        too_big = len(body) > MAX_BODY_BYTES
        if length is not None and length.strip().isdigit():
            too_big = too_big or int(length) > MAX_BODY_BYTES
        if too_big:
            raise ApiError(413, "payload_too_large", f"request body over {MAX_BODY_BYTES} bytes")
        if route.body is None:
            return None
        if not body.strip():
            if route.body_optional:
                return route.body.model_validate({})
            raise ApiError(422, "validation_error", "a JSON body is required")
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(
                422,
                "validation_error",
                f"the body must be a JSON object, got {type(data).__name__}",
            )
        try:
            return route.body.model_validate(data)
        except pydantic.ValidationError as exc:
            raise ApiError(422, "validation_error", _pydantic_detail(exc)) from None
        except TradekitError as exc:
            raise ApiError(422, "validation_error", str(exc)) from None


def _pydantic_detail(exc: pydantic.ValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err["loc"]) or "<body>"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


def tornado_path(path: str) -> str:
    """The Tornado regex of an OpenAPI path (``{name}`` becomes a named group)."""
    return re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path)


def url_patterns(
    ctx: ApiContext, routes: Sequence[Route]
) -> list[tuple[str, type, dict[str, Any]]]:
    """Tornado ``(regex, handler, kwargs)`` patterns serving ``routes``, plus a JSON 404 for
    every other ``/api/`` path."""
    by_path: dict[str, dict[str, Route]] = {}
    for r in routes:
        methods = by_path.setdefault(r.path, {})
        if r.method in methods:
            raise ValueError(f"duplicate route {r.method} {r.path}")
        methods[r.method] = r
    patterns: list[tuple[str, type, dict[str, Any]]] = [
        (tornado_path(path), RouteHandler, {"ctx": ctx, "routes": methods})
        for path, methods in by_path.items()
    ]
    patterns.append((r"/api(?:/.*)?", NotFoundHandler, {}))
    return patterns
