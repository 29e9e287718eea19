"""Typed reads of the store: filtered SELECTs returned as pandas DataFrames.

Every read returns a DataFrame whose timestamp columns are tz-aware UTC
(``datetime64[ns, UTC]``), whose JSON columns are parsed into Python objects (dicts / lists),
and whose list columns hold Python lists. Time filters are half-open: ``start <= ts < end``;
``start`` / ``end`` accept a ``pd.Timestamp``, an ISO string, a ``datetime`` (naive means UTC)
or int nanoseconds. Filters given as ``None`` are not applied.
"""

from __future__ import annotations

import datetime as dt
import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, TypeAlias

import pandas as pd

from tradekit.errors import StoreError

__all__ = ["StoreReads", "TimeLike", "to_ns"]

TimeLike: TypeAlias = "pd.Timestamp | dt.datetime | dt.date | str | int"

_TS_COLS = (
    "ts",
    "first_ts",
    "entry_ts",
    "exit_ts",
    "created_at",
    "started_at",
    "finished_at",
    "updated_at",
    "acknowledged_at",
    "recorded_at",
    "applied_at",
)
_JSON_COLS = (
    "legs",
    "score_breakdown",
    "gate_results",
    "params",
    "results",
    "data",
    "value",
    "payload",
)

_LIST_COLS = ("targets", "active_signals", "signal_ids", "warnings")


def _to_list(v: Any) -> Any:
    tolist = getattr(v, "tolist", None)
    return tolist() if tolist is not None else v


def to_ns(value: TimeLike) -> int:
    """Int nanoseconds UTC of a time-like value (naive times are taken as UTC).

    Raises
    ------
    StoreError
        The value is not a time.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError) as exc:
        raise StoreError(f"not a time: {value!r}") from exc
    if ts is pd.NaT:
        raise StoreError("time filter is NaT")
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value)


def _parse_json(v: Any) -> Any:
    return json.loads(v) if isinstance(v, str) else v


def _finish(df: pd.DataFrame) -> pd.DataFrame:
    """UTC-localise timestamp columns and parse JSON columns, in place of DuckDB's raw types."""
    for col in df.columns:
        if col in _TS_COLS:
            s = pd.to_datetime(df[col])
            df[col] = s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")
        elif col in _JSON_COLS:
            df[col] = df[col].astype(object).map(_parse_json)
        elif col in _LIST_COLS:
            df[col] = df[col].astype(object).map(_to_list)
    return df


class _Where:
    """Accumulates ``AND``-ed SQL conditions with their parameters."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.params: list[Any] = []

    def eq(self, col: str, value: Any) -> _Where:
        if value is None:
            return self
        if isinstance(value, (list, tuple, set, frozenset)):
            values = list(value)
            if not values:
                self.parts.append("false")
                return self
            self.parts.append(f"{col} IN ({', '.join('?' * len(values))})")
            self.params.extend(values)
        else:
            self.parts.append(f"{col} = ?")
            self.params.append(value)
        return self

    def time(self, col: str, start: TimeLike | None, end: TimeLike | None) -> _Where:
        if start is not None:
            self.parts.append(f"{col} >= make_timestamp_ns(?)")
            self.params.append(to_ns(start))
        if end is not None:
            self.parts.append(f"{col} < make_timestamp_ns(?)")
            self.params.append(to_ns(end))
        return self

    def raw(self, cond: str) -> _Where:
        self.parts.append(cond)
        return self

    def sql(self) -> str:
        return (" WHERE " + " AND ".join(self.parts)) if self.parts else ""


StrFilter = str | Sequence[str] | None


class StoreReads(ABC):
    """The read half of :class:`~tradekit.store.repository.Store`, which implements ``query``."""

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] | None = None) -> pd.DataFrame:
        """Run any SQL and return a DataFrame (for analytics and notebooks)."""

    def _select(self, table: str, where: _Where, order: str) -> pd.DataFrame:
        df = self.query(f"SELECT * FROM {table}{where.sql()} ORDER BY {order}", where.params)
        return _finish(df)

    def signals(
        self,
        symbol: StrFilter = None,
        kind: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
        *,
        timeframe: StrFilter = None,
    ) -> pd.DataFrame:
        """Detector signals (not setups), ordered by ``ts`` then ``id``."""
        w = _Where().raw("NOT is_setup").eq("symbol", symbol).eq("kind", kind)
        w.eq("run_id", run_id).eq("timeframe", timeframe).time("ts", start, end)
        return self._select("auto_signals", w, "ts, id")

    def setups(
        self,
        symbol: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
    ) -> pd.DataFrame:
        """Confluence setups (rows of ``auto_signals`` with ``is_setup``), ordered by ``ts``."""
        w = _Where().raw("is_setup").eq("symbol", symbol).eq("run_id", run_id)
        return self._select("auto_signals", w.time("ts", start, end), "ts, id")

    def decisions(
        self,
        symbol: StrFilter = None,
        action: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
        *,
        setup_id: str | None = None,
    ) -> pd.DataFrame:
        """Decision rows; ``gate_results`` is the list of every gate's result dict."""
        w = _Where().eq("symbol", symbol).eq("action", action).eq("run_id", run_id)
        w.eq("setup_id", setup_id).time("ts", start, end)
        return self._select("auto_decisions", w, "ts, id")

    def orders(
        self,
        symbol: StrFilter = None,
        status: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
        *,
        open_only: bool = False,
    ) -> pd.DataFrame:
        """Latest state of each order; ``open_only`` keeps the non-terminal ones (for restart
        recovery: an order already sent is never sent again)."""
        w = _Where().eq("symbol", symbol).eq("status", status).eq("run_id", run_id)
        if open_only:
            w.raw("status NOT IN ('FILLED', 'CANCELLED', 'REJECTED', 'EXPIRED')")
        return self._select("orders", w.time("ts", start, end), "first_ts, id")

    def fills(
        self,
        symbol: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
        *,
        order_id: str | None = None,
    ) -> pd.DataFrame:
        """Executions ordered by ``ts`` (then id)."""
        w = _Where().eq("symbol", symbol).eq("run_id", run_id).eq("order_id", order_id)
        return self._select("fills", w.time("ts", start, end), "ts, id")

    def trades(
        self,
        symbol: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
    ) -> pd.DataFrame:
        """Closed round trips whose **exit** lies in ``[start, end)``, ordered by exit time."""
        w = _Where().eq("symbol", symbol).eq("run_id", run_id).time("exit_ts", start, end)
        return self._select("trades", w, "exit_ts, id")

    def snapshots(
        self,
        symbol: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
    ) -> pd.DataFrame:
        """Position snapshots ordered by ``ts`` then symbol."""
        w = _Where().eq("symbol", symbol).eq("run_id", run_id).time("ts", start, end)
        return self._select("position_snapshots", w, "ts, symbol")

    def alerts(
        self,
        unacknowledged_only: bool = False,
        level: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
    ) -> pd.DataFrame:
        """Alerts, newest last; ``unacknowledged_only`` keeps those nobody has acknowledged."""
        w = _Where().eq("level", level).eq("run_id", run_id).time("ts", start, end)
        if unacknowledged_only:
            w.raw("NOT acknowledged")
        return self._select("alerts", w, "ts, id")

    def daily_performance(
        self,
        run_id: StrFilter = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
    ) -> pd.DataFrame:
        """Daily rows; ``start``/``end`` filter the ``date`` column (half-open)."""
        w = _Where().eq("run_id", run_id)
        if start is not None:
            w.parts.append("date >= CAST(? AS DATE)")
            w.params.append(pd.Timestamp(start).date())
        if end is not None:
            w.parts.append("date < CAST(? AS DATE)")
            w.params.append(pd.Timestamp(end).date())
        return self._select("daily_performance", w, "run_id, date")

    def backtest_runs(self, status: StrFilter = None) -> pd.DataFrame:
        """Backtest runs, oldest first."""
        return self._select("backtest_runs", _Where().eq("status", status), "created_at, run_id")

    def states(self, run_id: StrFilter = None) -> pd.DataFrame:
        """Trader state rows (``value`` decoded) with ``reason`` and ``updated_at``."""
        return self._select("auto_trade_state", _Where().eq("run_id", run_id), "run_id, key")

    def configs(self) -> pd.DataFrame:
        """Saved algorithm configs (``json`` left as text; use ``load_config`` to rebuild)."""
        return _finish(self.query("SELECT * FROM algorithm_configs ORDER BY created_at, name"))

    def calendar(
        self,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        symbol: StrFilter = None,
        kind: StrFilter = None,
    ) -> pd.DataFrame:
        """Event-calendar rows in ``[start, end)`` by date; ``symbol`` also matches
        market-wide rows (``symbol IS NULL``)."""
        w = _Where().eq("kind", kind)
        if symbol is not None:
            syms = [symbol] if isinstance(symbol, str) else list(symbol)
            w.parts.append(f"(symbol IS NULL OR symbol IN ({', '.join('?' * len(syms))}))")
            w.params.extend(syms)
        if start is not None:
            w.parts.append("date >= CAST(? AS DATE)")
            w.params.append(pd.Timestamp(start).date())
        if end is not None:
            w.parts.append("date < CAST(? AS DATE)")
            w.params.append(pd.Timestamp(end).date())
        return self._select("event_calendar", w, "date, kind, id")

    def journal(
        self,
        topic: str | None = None,
        start: TimeLike | None = None,
        end: TimeLike | None = None,
        run_id: StrFilter = None,
        *,
        type: StrFilter = None,
        after_seq: int | None = None,
    ) -> pd.DataFrame:
        """Journal entries ordered by ``seq``. ``topic`` may end in ``.*`` to select a prefix
        (``"orders.*"``); ``after_seq`` returns only entries with ``seq > after_seq`` (tailing)."""
        w = _Where().eq("run_id", run_id).eq("type", type).time("ts", start, end)
        if topic is not None:
            if topic.endswith(".*"):
                w.parts.append("starts_with(topic, ?)")
                w.params.append(topic[:-1])
            else:
                w.eq("topic", topic)
        if after_seq is not None:
            w.parts.append("seq > ?")
            w.params.append(int(after_seq))
        return self._select("events", w, "seq")
