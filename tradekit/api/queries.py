"""Paged, filtered reads of the store for the REST API.

Each list endpoint reads one table through a :class:`Listing`: the filters of the store's typed
reads (:mod:`tradekit.store.reads`: symbol, kind, a half-open ``[since, until)`` time range, the
run) plus **keyset pagination**: rows come ordered by ``(time, id)`` and the opaque cursor of a
page is the key of its last row, so the next page is ``WHERE (time, id) > cursor LIMIT n`` — no
row is skipped or repeated when rows are added while a client pages, and a page costs the same
at the end of the table as at its start.

A row is returned as a JSON object: timestamps as ISO-8601 UTC strings plus the exact int
nanoseconds in ``<column>_ns``, NaN as ``null``, JSON columns parsed.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from tradekit.api.rest import ApiError
from tradekit.store.reads import _finish, _Where
from tradekit.store.repository import Store

__all__ = ["LISTINGS", "Listing", "decode_cursor", "encode_cursor", "page", "row_json", "rows_json"]

#: Rows per page when the client does not say, and the most it may ask for.
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class Listing:
    """How one list endpoint reads its table.

    ``kind_col`` is the column the generic ``kind`` filter applies to (a signal's kind, a
    decision's action, an order's status, an alert's level); matching ignores case.
    """

    table: str
    time_col: str
    base: str | None = None
    kind_col: str | None = None
    symbol_col: str | None = "symbol"
    id_col: str = "id"


LISTINGS: dict[str, Listing] = {
    "signals": Listing("auto_signals", "ts", base="NOT is_setup", kind_col="kind"),
    "setups": Listing("auto_signals", "ts", base="is_setup", kind_col="tag"),
    "decisions": Listing("auto_decisions", "ts", kind_col="action"),
    "orders": Listing("orders", "first_ts", kind_col="status"),
    "fills": Listing("fills", "ts"),
    "alerts": Listing("alerts", "ts", kind_col="level", symbol_col=None),
}


def encode_cursor(ts_ns: int, key: str) -> str:
    """The opaque cursor of a row key (URL-safe base64 of ``[ts_ns, key]``)."""
    raw = json.dumps([int(ts_ns), str(key)], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The row key of a cursor; a 422 :class:`ApiError` when it is not one of ours."""
    try:
        pad = "=" * (-len(cursor) % 4)
        value = json.loads(base64.urlsafe_b64decode(cursor + pad))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        value = None
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], int)
        and not isinstance(value[0], bool)
        and isinstance(value[1], str)
    )
    if not ok:
        raise ApiError(422, "validation_error", "query parameter 'cursor': not a valid cursor")
    return int(value[0]), str(value[1])


def _cell(value: Any) -> Any:
    """A DataFrame cell as a JSON value."""
    if value is None:
        return None
    if isinstance(value, pd.Timestamp):
        return None if value is pd.NaT else value.isoformat()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, np.generic):
        return _cell(value.item())
    if isinstance(value, np.ndarray):
        return [_cell(v) for v in value.tolist()]
    if isinstance(value, dict):
        return {str(k): _cell(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_cell(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is pd.NaT:
        return None
    return value


def row_json(row: dict[str, Any]) -> dict[str, Any]:
    """One row as a JSON object (timestamps also as ``<col>_ns`` integers)."""
    out: dict[str, Any] = {}
    for k, v in row.items():
        if isinstance(v, pd.Timestamp):
            out[f"{k}_ns"] = None if v is pd.NaT else int(v.value)
        out[k] = _cell(v)
    return out


def rows_json(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Every row of a store read as JSON objects."""
    if df.empty:
        return []
    return [row_json(r) for r in df.to_dict("records")]


def _upper(values: Sequence[str]) -> list[str]:
    return [v.upper() for v in values]


def page(
    store: Store,
    listing: Listing,
    *,
    run_id: str,
    symbol: Sequence[str] | None = None,
    kind: Sequence[str] | None = None,
    since: int | None = None,
    until: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
    extra: Sequence[str] = (),
) -> dict[str, Any]:
    """One page of ``listing``'s rows, oldest first.

    Returns
    -------
    dict
        ``{"items": [...], "next_cursor": str | None}``; ``next_cursor`` is ``None`` on the
        last page.
    """
    t, key = listing.time_col, listing.id_col
    w = _Where().eq("run_id", run_id).time(t, since, until)
    if listing.base:
        w.raw(listing.base)
    for cond in extra:
        w.raw(cond)
    if symbol and listing.symbol_col:
        w.eq(listing.symbol_col, list(symbol))
    if kind and listing.kind_col:
        w.eq(f"upper({listing.kind_col})", _upper(kind))
    if cursor is not None:
        ts_ns, last = decode_cursor(cursor)
        w.parts.append(f"({t}, {key}) > (make_timestamp_ns(?), ?)")
        w.params.extend([ts_ns, last])
    sql = f"SELECT * FROM {listing.table}{w.sql()} ORDER BY {t}, {key} LIMIT {int(limit) + 1}"
    df = _finish(store.query(sql, w.params))
    more = len(df) > limit
    df = df.iloc[:limit]
    items = rows_json(df)
    nxt = None
    if more and items:
        last_row = items[-1]
        nxt = encode_cursor(last_row[f"{t}_ns"], last_row[key])
    return {"items": items, "next_cursor": nxt}


def daily_page(
    store: Store,
    *,
    run_id: str,
    since: int | None = None,
    until: int | None = None,
    cursor: str | None = None,
    limit: int = DEFAULT_LIMIT,
) -> dict[str, Any]:
    """One page of ``daily_performance`` rows by date (``since`` / ``until`` select dates)."""
    w = _Where().eq("run_id", run_id)
    if since is not None:
        w.parts.append("date >= CAST(make_timestamp_ns(?) AS DATE)")
        w.params.append(since)
    if until is not None:
        w.parts.append("date < CAST(make_timestamp_ns(?) AS DATE)")
        w.params.append(until)
    if cursor is not None:
        ts_ns, _ = decode_cursor(cursor)
        w.parts.append("date > CAST(make_timestamp_ns(?) AS DATE)")
        w.params.append(ts_ns)
    sql = f"SELECT * FROM daily_performance{w.sql()} ORDER BY date LIMIT {int(limit) + 1}"
    df = _finish(store.query(sql, w.params))
    more = len(df) > limit
    items = rows_json(df.iloc[:limit])
    nxt = None
    if more and items:
        last = pd.Timestamp(items[-1]["date"], tz="UTC")
        nxt = encode_cursor(int(last.value), items[-1]["date"])
    return {"items": items, "next_cursor": nxt}


def analytics_summary(
    store: Store,
    *,
    run_id: str,
    symbol: Sequence[str] | None = None,
    since: int | None = None,
    until: int | None = None,
) -> dict[str, Any]:
    """Counts and trade statistics of a run, computed in DuckDB from the stored records.

    ``since`` / ``until`` select records by time (closed trades by their exit time).
    """

    def where(time_col: str) -> _Where:
        w = _Where().eq("run_id", run_id).time(time_col, since, until)
        if symbol:
            w.eq("symbol", list(symbol))
        return w

    def grouped(table: str, col: str, time_col: str, cond: str | None = None) -> dict[str, int]:
        w = where(time_col)
        if cond:
            w.raw(cond)
        df = store.query(
            f"SELECT {col} AS k, count(*) AS n FROM {table}{w.sql()} GROUP BY 1 ORDER BY 1",
            w.params,
        )
        return {str(k): int(n) for k, n in zip(df["k"], df["n"], strict=True) if k is not None}

    tw = where("exit_ts")
    trades = store.query(
        "SELECT count(*) AS n, count(*) FILTER (WHERE pnl > 0) AS wins, "
        "count(*) FILTER (WHERE pnl < 0) AS losses, coalesce(sum(pnl), 0) AS pnl, "
        "coalesce(sum(pnl) FILTER (WHERE pnl > 0), 0) AS gross_win, "
        "coalesce(-sum(pnl) FILTER (WHERE pnl < 0), 0) AS gross_loss, "
        "avg(pnl) AS avg_pnl, avg(r_multiple) AS avg_r, coalesce(sum(commission), 0) AS commission, "
        f"max(pnl) AS best, min(pnl) AS worst FROM trades{tw.sql()}",
        tw.params,
    ).iloc[0]
    n = int(trades["n"])
    gross_loss = float(trades["gross_loss"])
    fills_w = where("ts")
    fills = int(
        store.query(f"SELECT count(*) AS n FROM fills{fills_w.sql()}", fills_w.params).iloc[0]["n"]
    )
    return {
        "run_id": run_id,
        "signals_by_kind": grouped("auto_signals", "kind", "ts", "NOT is_setup"),
        "setups": sum(grouped("auto_signals", "symbol", "ts", "is_setup").values()),
        "decisions_by_action": grouped("auto_decisions", "action", "ts"),
        "blocked_by_gate": grouped("auto_decisions", "blocked_by", "ts", "blocked_by IS NOT NULL"),
        "orders_by_status": grouped("orders", "status", "first_ts"),
        "fills": fills,
        "trades": {
            "count": n,
            "wins": int(trades["wins"]),
            "losses": int(trades["losses"]),
            "win_rate": _cell(int(trades["wins"]) / n) if n else None,
            "pnl": _cell(float(trades["pnl"])),
            "avg_pnl": _cell(trades["avg_pnl"]),
            "avg_r": _cell(trades["avg_r"]),
            "profit_factor": _cell(float(trades["gross_win"]) / gross_loss)
            if gross_loss > 0
            else None,
            "best": _cell(trades["best"]),
            "worst": _cell(trades["worst"]),
            "commission": _cell(float(trades["commission"])),
        },
    }
