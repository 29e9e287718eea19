"""The route table of the REST API: every endpoint, its parameters, body and answer schema.

:data:`ROUTES` is the single source of truth: :func:`tradekit.api.rest.url_patterns` serves it
and :func:`tradekit.api.openapi.openapi_document` documents it. Endpoint functions take the
shared :class:`~tradekit.api.rest.ApiContext` and the parsed :class:`~tradekit.api.rest.ApiRequest`
and return JSON-able values; they run on the trader's event loop, between two bars.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from tradekit.api import queries
from tradekit.api.backtests import BacktestRequest
from tradekit.api.rest import ApiContext, ApiError, ApiRequest, Param, Route
from tradekit.config import AlgorithmConfig
from tradekit.core.enums import TradingState
from tradekit.errors import ConfigError, StoreError, TradekitError
from tradekit.store.convert import record_payload

__all__ = ["COMPONENTS", "ROUTES", "KillRequest", "ResetRequest", "StatusCache"]


# -- bodies ---------------------------------------------------------------------------------
class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class KillRequest(_Body):
    """``POST /api/auto-trade/kill-switch``: why, and whether to also close every position."""

    reason: str = Field("kill switch via the API", min_length=1, max_length=500)
    flatten: bool = False


class ModeRequest(_Body):
    """``POST /api/auto-trade/mode``: PAPER or SHADOW from the next session on."""

    mode: Literal["PAPER", "SHADOW"]


class ResetRequest(_Body):
    """``POST /api/auto-trade/reset``: who leaves HALTED, and why (kept in the audit trail)."""

    by: str = Field("operator", min_length=1, max_length=100)
    reason: str = Field("reset via the API", min_length=1, max_length=500)


# -- schemas --------------------------------------------------------------------------------
def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _row(*required: str, **props: dict[str, Any]) -> dict[str, Any]:
    base: dict[str, Any] = {"ts": {"type": "string"}, "ts_ns": {"type": "integer"}}
    base.update(props)
    return {"type": "object", "required": list(required), "properties": base}


_STR = {"type": "string"}
_INT = {"type": "integer"}
_NUM_OR_NULL = {"type": ["number", "null"]}
_STR_OR_NULL = {"type": ["string", "null"]}

COMPONENTS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {"error": _STR, "detail": _STR},
    },
    "TraderStatus": {
        "type": "object",
        "required": [
            "state",
            "mode",
            "symbols",
            "config_version",
            "run_id",
            "bars_seen",
            "counts",
            "equity",
            "day_pnl",
            "open_positions",
            "trades_today",
            "max_trades",
            "day_loss",
            "max_daily_loss",
            "feed_lag_s",
            "market_open",
        ],
        "properties": {
            "state": {"type": "string", "enum": ["STOPPED", "RUNNING", "PAUSED", "HALTED"]},
            "mode": {"type": "string", "enum": ["PAPER", "SHADOW"]},
            "symbols": {"type": "array", "items": _STR},
            "config_version": _STR,
            "run_id": _STR,
            "data_label": _STR,
            "last_bar_ts_ns": {"type": ["integer", "null"]},
            "bars_seen": _INT,
            "counts": {"type": "object", "additionalProperties": _INT},
            "equity": _NUM_OR_NULL,
            "day_pnl": _NUM_OR_NULL,
            "open_positions": _INT,
            "trades_today": _INT,
            "max_trades": _INT,
            "day_loss": _NUM_OR_NULL,
            "max_daily_loss": _NUM_OR_NULL,
            "feed_lag_s": _NUM_OR_NULL,
            "market_open": {"type": "boolean"},
            "next_mode": {"type": ["string", "null"], "enum": ["PAPER", "SHADOW", None]},
        },
    },
    "Signal": _row("id", "ts", "ts_ns", "symbol", "kind", id=_STR, symbol=_STR, kind=_STR),
    "Setup": _row("id", "ts", "ts_ns", "symbol", id=_STR, symbol=_STR),
    "Decision": _row(
        "id",
        "ts",
        "ts_ns",
        "symbol",
        "action",
        "gate_results",
        id=_STR,
        symbol=_STR,
        setup_id=_STR,
        action={"type": "string", "enum": ["ENTER", "SKIP", "SHADOW"]},
        gate_results={"type": "array", "items": {"type": "object"}},
    ),
    "Order": {
        "type": "object",
        "required": ["id", "symbol", "status", "first_ts", "first_ts_ns"],
        "properties": {
            "id": _STR,
            "symbol": _STR,
            "status": _STR,
            "first_ts": _STR,
            "first_ts_ns": _INT,
            "quantity": {"type": "number"},
        },
    },
    "Fill": _row(
        "id",
        "ts",
        "ts_ns",
        "order_id",
        "symbol",
        "price",
        "quantity",
        id=_STR,
        order_id=_STR,
        symbol=_STR,
        price={"type": "number"},
        quantity={"type": "number"},
    ),
    "Alert": _row(
        "id",
        "ts",
        "ts_ns",
        "level",
        "message",
        "acknowledged",
        id=_STR,
        level={"type": "string", "enum": ["INFO", "WARNING", "CRITICAL"]},
        message=_STR,
        source=_STR,
        acknowledged={"type": "boolean"},
    ),
    "Position": {
        "type": "object",
        "required": ["symbol", "quantity"],
        "properties": {
            "symbol": _STR,
            "quantity": {"type": "number"},
            "avg_price": _NUM_OR_NULL,
            "unrealized": _NUM_OR_NULL,
        },
    },
    "DailyPerformance": {
        "type": "object",
        "required": ["date", "pnl", "end_equity"],
        "properties": {
            "date": _STR,
            "pnl": _NUM_OR_NULL,
            "end_equity": _NUM_OR_NULL,
            "trades": _INT,
        },
    },
    "ConfigVersion": {
        "type": "object",
        "required": ["name", "version", "config_id", "active"],
        "properties": {
            "name": _STR,
            "version": _STR,
            "config_id": _STR,
            "created_at": _STR_OR_NULL,
            "active": {"type": "boolean"},
        },
    },
    "Backtest": {
        "type": "object",
        "required": ["id", "status", "progress", "results", "error"],
        "properties": {
            "id": _STR,
            "status": {"type": "string", "enum": ["pending", "running", "done", "failed"]},
            "progress": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
            "results": {"type": ["object", "null"]},
            "error": _STR_OR_NULL,
        },
    },
}


def _page_of(item: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": _ref(item)},
            "next_cursor": _STR_OR_NULL,
        },
    }


def _control_answer(**extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["status"],
        "properties": {"status": _ref("TraderStatus"), **extra},
    }


# -- parameters -----------------------------------------------------------------------------
P_SYMBOL = Param("symbol", "csv", "symbols, comma-separated (SPY,QQQ)")
P_SINCE = Param("since", "time", "from this time, inclusive (ISO-8601 UTC or int ns)")
P_UNTIL = Param("until", "time", "up to this time, exclusive (ISO-8601 UTC or int ns)")
P_CURSOR = Param("cursor", "string", "next_cursor of the previous page")
P_LIMIT = Param(
    "limit",
    "integer",
    "rows per page",
    default=queries.DEFAULT_LIMIT,
    minimum=1,
    maximum=queries.MAX_LIMIT,
)
PAGED = (P_SYMBOL, P_SINCE, P_UNTIL, P_CURSOR, P_LIMIT)


def _kind(description: str) -> Param:
    return Param("kind", "csv", description)


# -- helpers --------------------------------------------------------------------------------
def _trader(ctx: ApiContext) -> Any:
    if ctx.trader is None:
        raise ApiError(409, "no_trader", "this server runs without a trader")
    return ctx.trader


class StatusCache:
    """The trader's status, recomputed only when something happened.

    ``status()`` walks the ledger and the schedule (a few hundred µs); dashboards poll it many
    times a second. Any bus event marks the cached copy stale, and it is never older than
    ``max_age_s`` (the feed lag moves with the wall clock). Controls always answer fresh.
    """

    def __init__(self, trader: Any, max_age_s: float = 0.25) -> None:
        self.trader = trader
        self.max_age_s = max_age_s
        self._value: dict[str, Any] | None = None
        self._at = 0.0
        trader.bus.subscribe("*", self._stale, priority=-10_000)

    def _stale(self, topic: str, event: Any) -> None:
        self._value = None

    def get(self, *, fresh: bool = False) -> dict[str, Any]:
        now = time.monotonic()
        if fresh or self._value is None or now - self._at > self.max_age_s:
            self._value = dict(self.trader.status().to_dict())
            self._at = now
        return self._value


def _status(ctx: ApiContext, *, fresh: bool = True) -> dict[str, Any]:
    trader = _trader(ctx)
    if ctx.status_cache is None:
        ctx.status_cache = StatusCache(trader)
    return dict(ctx.status_cache.get(fresh=fresh))


def _check_range(req: ApiRequest) -> None:
    since, until = req.query.get("since"), req.query.get("until")
    if since is not None and until is not None and since > until:
        raise ApiError(422, "validation_error", "'since' must not be after 'until'")


async def _control(ctx: ApiContext, action: str, call: Any) -> dict[str, Any]:
    """Run a trader control and answer with the status it leaves; refusals are 409."""
    try:
        out = call()
        if asyncio.iscoroutine(out):  # stop(); start() returns the run's task: never awaited
            await out
    except (TradekitError, RuntimeError, ValueError) as exc:
        raise ApiError(409, "conflict", f"cannot {action}: {exc}") from None
    return {"status": _status(ctx)}


# -- endpoints ------------------------------------------------------------------------------
def health(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    state = None
    if ctx.trader is not None:
        try:
            state = ctx.trader.status().state
        except Exception:  # health must answer even when the trader is broken
            state = "UNKNOWN"
    return {
        "status": "ok",
        "version": ctx.version,
        "trader": None if state is None else str(state),
        "time": pd.Timestamp(time.time_ns(), tz="UTC").isoformat(),
    }


def status(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return _status(ctx, fresh=False)


async def start(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return await _control(ctx, "start", _trader(ctx).start)


async def stop(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return await _control(ctx, "stop", _trader(ctx).stop)


async def pause(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return await _control(ctx, "pause", _trader(ctx).pause)


async def resume(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return await _control(ctx, "resume", _trader(ctx).resume)


async def flatten(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    return await _control(ctx, "flatten", _trader(ctx).flatten)


async def reset(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    body: ResetRequest = req.body
    trader = _trader(ctx)
    return await _control(ctx, "reset", lambda: trader.reset(f"api:{body.by}", body.reason))


def set_mode(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    """Recorded as an alert; ``status.next_mode`` says what the next session will run in."""
    body: ModeRequest = req.body
    _trader(ctx).set_mode(body.mode)
    return {"status": _status(ctx), "effective": "next session"}


def kill_switch(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    """Idempotent: a second kill leaves the trader HALTED and says it already was."""
    body: KillRequest = req.body
    trader = _trader(ctx)
    already = str(trader.status().state) == TradingState.HALTED.value
    if not already or body.flatten:
        trader.kill(body.reason, flatten=body.flatten, by="api")
    return {"status": _status(ctx), "already_halted": already}


def _listing(name: str) -> Any:
    listing = queries.LISTINGS[name]

    def read(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
        _check_range(req)
        q = req.query
        extra = ("NOT acknowledged",) if q.get("unacknowledged") else ()
        return queries.page(
            ctx.store,
            listing,
            run_id=ctx.run_id,
            symbol=q.get("symbol"),
            kind=q.get("kind"),
            since=q.get("since"),
            until=q.get("until"),
            cursor=q.get("cursor"),
            limit=q["limit"],
            extra=extra,
        )

    read.__name__ = f"list_{name}"
    return read


def positions(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    symbols = req.query.get("symbol")
    if ctx.trader is not None:
        snaps = [record_payload(s) for s in ctx.trader.engine.ledger.snapshot()]
        items = [s for s in snaps if s.get("quantity")]
    else:  # no trader: the latest stored snapshot of each symbol
        df = ctx.store.query(
            "SELECT * EXCLUDE (rn) FROM (SELECT *, row_number() OVER (PARTITION BY symbol "
            "ORDER BY ts DESC) AS rn FROM position_snapshots WHERE run_id = ?) WHERE rn = 1 "
            "AND quantity <> 0 ORDER BY symbol",
            [ctx.run_id],
        )
        items = queries.rows_json(df)
    if symbols:
        items = [s for s in items if s.get("symbol") in symbols]
    return {"items": queries.rows_json(pd.DataFrame(items)) if items else [], "next_cursor": None}


def ack_alert(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    alert_id = req.path["id"]
    if not ctx.store.acknowledge_alert(alert_id, run_id=ctx.run_id):
        raise ApiError(404, "not_found", f"no alert {alert_id!r}")
    return {"id": alert_id, "acknowledged": True}


def daily(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    _check_range(req)
    q = req.query
    return queries.daily_page(
        ctx.store,
        run_id=ctx.run_id,
        since=q.get("since"),
        until=q.get("until"),
        cursor=q.get("cursor"),
        limit=q["limit"],
    )


def summary(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    _check_range(req)
    q = req.query
    return queries.analytics_summary(
        ctx.store,
        run_id=ctx.run_id,
        symbol=q.get("symbol"),
        since=q.get("since"),
        until=q.get("until"),
    )


def _active_version(ctx: ApiContext) -> str | None:
    if ctx.trader is None:
        return None
    v = ctx.trader.status().to_dict().get("config_version")
    return None if v is None else str(v)


def list_configs(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    active = _active_version(ctx)
    df = ctx.store.configs()
    items = [
        {
            "name": r["name"],
            "version": r["version"],
            "config_id": r["config_id"],
            "created_at": queries._cell(r["created_at"]),
            "active": r["version"] == active,
        }
        for r in df.to_dict("records")
    ]
    return {"items": items, "active_version": active}


def create_config(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    cfg: AlgorithmConfig = req.body
    known = ctx.store.query(
        "SELECT 1 FROM algorithm_configs WHERE name = ? AND version = ?", [cfg.name, cfg.version]
    )
    try:
        cid = ctx.store.save_config(cfg)
    except StoreError as exc:
        raise ApiError(409, "conflict", str(exc)) from None
    return {"name": cfg.name, "version": cfg.version, "config_id": cid, "created": known.empty}


def activate_config(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    version = req.path["version"]
    trader = _trader(ctx)
    name = trader.config.name
    rows = ctx.store.query(
        "SELECT 1 FROM algorithm_configs WHERE name = ? AND version = ?", [name, version]
    )
    if rows.empty:
        raise ApiError(404, "not_found", f"no saved version {version!r} of config {name!r}")
    try:
        trader.activate_config(version)
    except (TradekitError, RuntimeError, ValueError, KeyError) as exc:
        raise ApiError(409, "conflict", f"cannot activate {version!r}: {exc}") from None
    return {"version": version, "effective": "next bar", "status": _status(ctx)}


def create_backtest(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    body: BacktestRequest = req.body
    if ctx.backtests is None:
        raise ApiError(409, "no_backtests", "this server runs no backtest workers")
    if body.config_version is not None:
        rows = ctx.store.query(
            "SELECT name FROM algorithm_configs WHERE version = ? ORDER BY created_at LIMIT 1",
            [body.config_version],
        )
        if rows.empty:
            raise ApiError(404, "not_found", f"no saved config version {body.config_version!r}")
        cfg = ctx.store.load_config((str(rows["name"].iloc[0]), body.config_version))
    elif ctx.trader is not None:
        cfg = ctx.trader.engine.config
    else:
        cfg = AlgorithmConfig()
    try:
        if body.overrides:
            tuned = cfg.with_overrides(body.overrides)
            # a released version is immutable: overridden parameters are a derived version
            version = f"{cfg.version}+{tuned.content_hash[:8]}"
            cfg = AlgorithmConfig.parse({**tuned.model_dump(mode="json"), "version": version})
    except ConfigError as exc:
        raise ApiError(422, "validation_error", str(exc)) from None
    try:
        run_id = ctx.backtests.submit(body, cfg)
    except OverflowError as exc:
        raise ApiError(429, "queue_full", str(exc), headers={"Retry-After": "5"}) from None
    out = ctx.backtests.describe(run_id)
    assert out is not None
    return out


def get_backtest(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    run_id = req.path["id"]
    out = None if ctx.backtests is None else ctx.backtests.describe(run_id)
    if out is None:
        raise ApiError(404, "not_found", f"no backtest {run_id!r}")
    return out


def openapi(ctx: ApiContext, req: ApiRequest) -> dict[str, Any]:
    from tradekit.api.openapi import openapi_document

    return openapi_document(ROUTES, version=ctx.version)


# -- the table ------------------------------------------------------------------------------
_CONTROL = "auto-trade"
_ROUTES_LIST: list[Route] = [
    Route(
        "GET",
        "/api/health",
        health,
        "liveness; no token needed",
        "meta",
        access="public",
        limited=False,
        response={
            "type": "object",
            "required": ["status"],
            "properties": {"status": {"const": "ok"}},
        },
    ),
    Route(
        "GET",
        "/api/openapi.json",
        openapi,
        "this OpenAPI 3.1 document",
        "meta",
        access="public",
        limited=False,
    ),
    Route(
        "GET",
        "/api/auto-trade/status",
        status,
        "the trader's status",
        _CONTROL,
        response=_ref("TraderStatus"),
        errors=(409,),
    ),
]
for _name, _fn, _summary in (
    ("start", start, "start trading (STOPPED -> RUNNING)"),
    ("stop", stop, "stop trading (feed stopped, state STOPPED)"),
    ("pause", pause, "pause after the current bar"),
    ("resume", resume, "resume a paused trader"),
    ("flatten", flatten, "send orders closing every open position"),
):
    _ROUTES_LIST.append(
        Route(
            "POST",
            f"/api/auto-trade/{_name}",
            _fn,
            _summary,
            _CONTROL,
            access="operator",
            response=_control_answer(),
            errors=(409,),
        )
    )
_ROUTES_LIST += [
    Route(
        "POST",
        "/api/auto-trade/kill-switch",
        kill_switch,
        "HALT now: cancel working orders, refuse every new one (idempotent, never rate-limited)",
        _CONTROL,
        access="operator",
        body=KillRequest,
        body_optional=True,
        limited=False,
        response=_control_answer(already_halted={"type": "boolean"}),
        errors=(409,),
    ),
    Route(
        "POST",
        "/api/auto-trade/mode",
        set_mode,
        "PAPER or SHADOW from the next session (recorded)",
        _CONTROL,
        access="operator",
        body=ModeRequest,
        response=_control_answer(effective=_STR),
    ),
    Route(
        "POST",
        "/api/auto-trade/reset",
        reset,
        "leave HALTED (operator, audited)",
        _CONTROL,
        access="operator",
        body=ResetRequest,
        body_optional=True,
        response=_control_answer(),
        errors=(409,),
    ),
    Route(
        "GET",
        "/api/signals",
        _listing("signals"),
        "detector signals",
        "records",
        params=(*PAGED, _kind("signal kinds (FVG,BOS,...)")),
        response=_page_of("Signal"),
    ),
    Route(
        "GET",
        "/api/setups",
        _listing("setups"),
        "confluence setups",
        "records",
        params=(*PAGED, _kind("setup tags")),
        response=_page_of("Setup"),
    ),
    Route(
        "GET",
        "/api/decisions",
        _listing("decisions"),
        "decisions with every gate result",
        "records",
        params=(*PAGED, _kind("actions: ENTER, SKIP, SHADOW")),
        response=_page_of("Decision"),
    ),
    Route(
        "GET",
        "/api/orders",
        _listing("orders"),
        "orders (latest state; time = first seen)",
        "records",
        params=(*PAGED, _kind("order statuses")),
        response=_page_of("Order"),
    ),
    Route(
        "GET",
        "/api/fills",
        _listing("fills"),
        "executions",
        "records",
        params=PAGED,
        response=_page_of("Fill"),
    ),
    Route(
        "GET",
        "/api/positions",
        positions,
        "open positions now",
        "records",
        params=(P_SYMBOL,),
        response=_page_of("Position"),
    ),
    Route(
        "GET",
        "/api/alerts",
        _listing("alerts"),
        "alerts",
        "records",
        params=(
            *PAGED,
            _kind("levels: INFO, WARNING, CRITICAL"),
            Param("unacknowledged", "boolean", "only alerts nobody acknowledged"),
        ),
        response=_page_of("Alert"),
    ),
    Route(
        "POST",
        "/api/alerts/{id}/ack",
        ack_alert,
        "acknowledge an alert",
        "records",
        access="operator",
        params=(Param("id", "string", "alert id", location="path", required=True),),
        response={
            "type": "object",
            "required": ["id", "acknowledged"],
            "properties": {"id": _STR, "acknowledged": {"const": True}},
        },
    ),
    Route(
        "GET",
        "/api/performance/daily",
        daily,
        "daily performance rows",
        "analytics",
        params=(P_SINCE, P_UNTIL, P_CURSOR, P_LIMIT),
        response=_page_of("DailyPerformance"),
    ),
    Route(
        "GET",
        "/api/analytics/summary",
        summary,
        "counts and trade statistics",
        "analytics",
        params=(P_SYMBOL, P_SINCE, P_UNTIL),
        response={
            "type": "object",
            "required": ["trades", "fills"],
            "properties": {"fills": _INT, "trades": {"type": "object"}},
        },
    ),
    Route(
        "GET",
        "/api/configs",
        list_configs,
        "saved algorithm configs",
        "configs",
        response={
            "type": "object",
            "required": ["items", "active_version"],
            "properties": {
                "items": {"type": "array", "items": _ref("ConfigVersion")},
                "active_version": _STR_OR_NULL,
            },
        },
    ),
    Route(
        "POST",
        "/api/configs",
        create_config,
        "save a new validated config version",
        "configs",
        access="operator",
        body=AlgorithmConfig,
        status=201,
        errors=(409,),
        response={
            "type": "object",
            "required": ["name", "version", "config_id", "created"],
            "properties": {
                "name": _STR,
                "version": _STR,
                "config_id": _STR,
                "created": {"type": "boolean"},
            },
        },
    ),
    Route(
        "POST",
        "/api/configs/{version}/activate",
        activate_config,
        "switch the trader to a saved version at the next bar",
        "configs",
        access="operator",
        params=(Param("version", "string", "config version", location="path", required=True),),
        errors=(409,),
        response=_control_answer(version=_STR),
    ),
    Route(
        "POST",
        "/api/backtests",
        create_backtest,
        "queue a backtest in a worker process",
        "backtests",
        access="operator",
        body=BacktestRequest,
        body_optional=True,
        status=202,
        errors=(409,),
        response=_ref("Backtest"),
    ),
    Route(
        "GET",
        "/api/backtests/{id}",
        get_backtest,
        "a backtest's status, progress, results",
        "backtests",
        params=(Param("id", "string", "backtest id", location="path", required=True),),
        response=_ref("Backtest"),
    ),
]

#: Every endpoint of the API, in documentation order.
ROUTES: tuple[Route, ...] = tuple(_ROUTES_LIST)
