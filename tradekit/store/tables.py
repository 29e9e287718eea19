"""Column maps: which record field goes into which column of which table.

One tuple of :class:`~tradekit.store.convert.Col` per written record type. The getters are
plain attribute reads plus the few derived columns (``blocked_by``, ``gates_passed``) that make
SQL analytics simple. ``run_id`` and config columns are batch constants added by the repository.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter as _a
from typing import Any

from tradekit.core.events import Decision
from tradekit.store.convert import Col, dumps_json, jsonable, record_payload
from tradekit.store.records import TRADE_OPTIONAL

__all__ = [
    "ALERT_COLS",
    "CALENDAR_COLS",
    "DAILY_COLS",
    "DECISION_COLS",
    "FILL_COLS",
    "ORDER_COLS",
    "SETUP_COLS",
    "SIGNAL_COLS",
    "SNAPSHOT_COLS",
    "TRADE_COLS",
]


SIGNAL_COLS: tuple[Col, ...] = (
    Col("id", "str", _a("id"), nullable=False),
    Col("is_setup", "bool", lambda s: False, nullable=False),
    Col("ts", "ts", _a("ts_ns"), nullable=False),
    Col("symbol", "str", _a("symbol"), nullable=False),
    Col("timeframe", "str", _a("timeframe"), nullable=False),
    Col("kind", "str", _a("kind"), nullable=False),
    Col("index", "int", _a("index"), nullable=False),
    Col("anchor_index", "int", _a("anchor_index")),
    Col("direction", "int", _a("direction"), nullable=False),
    Col("entry", "float", _a("entry")),
    Col("stop", "float", _a("stop")),
    Col("target", "float", _a("target")),
    Col("strength", "float", _a("strength")),
    Col("tag", "str", _a("tag")),
    Col("levels", "map", _a("levels")),
)


def _gates_json(d: Decision) -> str:
    return dumps_json([record_payload(g) for g in d.gates]) or "[]"


def _blocked_by(d: Decision) -> str | None:
    return next((g.name for g in d.gates if not g.passed and not g.evaluated_after_block), None)


SETUP_COLS: tuple[Col, ...] = (
    Col("id", "str", _a("id"), nullable=False),
    Col("is_setup", "bool", lambda s: True, nullable=False),
    Col("ts", "ts", _a("ts_ns"), nullable=False),
    Col("symbol", "str", _a("symbol"), nullable=False),
    Col("timeframe", "str", _a("timeframe"), nullable=False),
    Col("kind", "str", lambda s: "SETUP", nullable=False),
    Col("index", "int", _a("index"), nullable=False),
    Col("direction", "int", _a("direction"), nullable=False),
    Col("entry", "float", _a("entry")),
    Col("stop", "float", _a("stop")),
    Col("tp1", "float", _a("tp1")),
    Col("tp2", "float", _a("tp2")),
    Col("tp3", "float", _a("tp3")),
    Col("confidence", "float", _a("confidence")),
    Col("confluence_score", "float", _a("score")),
    Col("confluence_count", "int", _a("confluence_count"), nullable=False),
    Col("active_signals", "str_list", lambda s: [str(k) for k in s.active_signals]),
    Col("signal_ids", "str_list", lambda s: list(s.signal_ids)),
    Col("htf_bias", "int", _a("htf_bias")),
)

DECISION_COLS: tuple[Col, ...] = (
    Col("id", "str", _a("id"), nullable=False),
    Col("setup_id", "str", _a("setup_id"), nullable=False),
    Col("ts", "ts", _a("ts_ns"), nullable=False),
    Col("symbol", "str", _a("symbol"), nullable=False),
    Col("action", "str", _a("action"), nullable=False),
    Col("block_reason", "str", _a("block_reason")),
    Col("blocked_by", "str", _blocked_by),
    Col("gates_passed", "int", lambda d: sum(1 for g in d.gates if g.passed), nullable=False),
    Col("direction", "int", _a("direction"), nullable=False),
    Col("quantity", "float", _a("quantity"), nullable=False),
    Col("entry", "float", _a("entry")),
    Col("stop", "float", _a("stop")),
    Col("targets", "float_list", lambda d: list(d.targets)),
    Col("mode", "str", _a("mode")),
    Col("strategy", "str", _a("strategy")),
    Col("legs", "json", lambda d: dumps_json([record_payload(leg) for leg in d.legs])),
    Col("timeframe_class", "str", _a("timeframe_class")),
    Col("risk_amount", "float", _a("risk_amount")),
    Col("expected_rr", "float", _a("expected_rr")),
    Col("score_breakdown", "json", lambda d: dumps_json(dict(d.score_breakdown))),
    Col("gate_results", "json", _gates_json, nullable=False),
    Col("algorithm_version", "str", _a("config_version")),
    Col("config_hash", "str", _a("config_hash")),
    Col("processing_time_us", "float", _a("processing_time_us")),
    Col("warnings", "str_list", lambda d: list(d.warnings)),
)

ORDER_COLS: tuple[Col, ...] = (
    Col("id", "str", _a("id"), nullable=False),
    Col("symbol", "str", _a("symbol"), nullable=False),
    Col("side", "int", _a("side"), nullable=False),
    Col("quantity", "float", _a("quantity"), nullable=False),
    Col("order_type", "str", _a("order_type"), nullable=False),
    Col("first_ts", "ts", _a("ts_ns"), nullable=False),
    Col("ts", "ts", _a("ts_ns"), nullable=False),
    Col("status", "str", _a("status"), nullable=False),
    Col("tif", "str", _a("tif"), nullable=False),
    Col("limit_price", "float", _a("limit_price")),
    Col("stop_price", "float", _a("stop_price")),
    Col("filled_qty", "float", _a("filled_qty"), nullable=False),
    Col("avg_fill_price", "float", _a("avg_fill_price")),
    Col("multiplier", "float", _a("multiplier"), nullable=False),
    Col("legs", "json", lambda o: dumps_json([record_payload(leg) for leg in o.legs])),
    Col("decision_id", "str", _a("decision_id")),
    Col("tag", "str", _a("tag")),
    Col("reason", "str", _a("reason")),
)

FILL_COLS: tuple[Col, ...] = (
    Col("id", "str", _a("id"), nullable=False),
    Col("order_id", "str", _a("order_id"), nullable=False),
    Col("symbol", "str", _a("symbol"), nullable=False),
    Col("side", "int", _a("side"), nullable=False),
    Col("quantity", "float", _a("quantity"), nullable=False),
    Col("price", "float", _a("price"), nullable=False),
    Col("ts", "ts", _a("ts_ns"), nullable=False),
    Col("commission", "float", _a("commission"), nullable=False),
    Col("slippage", "float", _a("slippage"), nullable=False),
    Col("multiplier", "float", _a("multiplier"), nullable=False),
    Col("leg_index", "int", _a("leg_index"), nullable=False),
    Col("decision_id", "str", _a("decision_id")),
)


def _opt(name: str) -> Callable[[Any], Any]:
    default = TRADE_OPTIONAL[name]
    return lambda t: getattr(t, name, default)


TRADE_COLS: tuple[Col, ...] = (
    Col("id", "str", _a("id"), nullable=False),
    Col("symbol", "str", _a("symbol"), nullable=False),
    Col("underlying", "str", _opt("underlying")),
    Col("direction", "int", _a("direction"), nullable=False),
    Col("quantity", "float", _a("quantity"), nullable=False),
    Col("entry_ts", "ts", _a("entry_ts_ns"), nullable=False),
    Col("entry_price", "float", _a("entry_price"), nullable=False),
    Col("exit_ts", "ts", _a("exit_ts_ns"), nullable=False),
    Col("exit_price", "float", _a("exit_price"), nullable=False),
    Col("multiplier", "float", _opt("multiplier"), nullable=False),
    Col("pnl", "float", _a("pnl"), nullable=False),
    Col("gross_pnl", "float", _opt("gross_pnl")),
    Col("commission", "float", _opt("commission"), nullable=False),
    Col("slippage", "float", _opt("slippage"), nullable=False),
    Col("r_multiple", "float", _opt("r_multiple")),
    Col("initial_stop", "float", _opt("initial_stop")),
    Col("initial_risk", "float", _opt("initial_risk")),
    Col("mae", "float", _opt("mae")),
    Col("mfe", "float", _opt("mfe")),
    Col("decision_id", "str", _opt("decision_id")),
    Col("strategy", "str", _opt("strategy")),
    Col("exit_reason", "str", _opt("exit_reason")),
)

SNAPSHOT_COLS: tuple[Col, ...] = (
    Col("ts", "ts", _a("ts_ns"), nullable=False),
    Col("symbol", "str", _a("symbol"), nullable=False),
    Col("quantity", "float", _a("quantity"), nullable=False),
    Col("avg_price", "float", _a("avg_price")),
    Col("market_price", "float", _a("market_price")),
    Col("multiplier", "float", _a("multiplier"), nullable=False),
    Col("unrealized", "float", _a("unrealized_pnl"), nullable=False),
    Col("realized", "float", _a("realized_pnl"), nullable=False),
    Col("delta", "float", _a("delta")),
    Col("gamma", "float", _a("gamma")),
    Col("theta", "float", _a("theta")),
    Col("vega", "float", _a("vega")),
    Col("stop", "float", _a("stop")),
    Col("targets", "float_list", lambda p: list(p.targets)),
)

DAILY_COLS: tuple[Col, ...] = (
    Col("date", "date", _a("date"), nullable=False),
    Col("start_equity", "float", _a("start_equity"), nullable=False),
    Col("end_equity", "float", _a("end_equity"), nullable=False),
    Col("pnl", "float", _a("pnl"), nullable=False),
    Col("return", "float", _a("return_"), nullable=False),
    Col("trades", "int", _a("trades"), nullable=False),
    Col("wins", "int", _a("wins"), nullable=False),
    Col("losses", "int", _a("losses"), nullable=False),
    Col("commission", "float", _a("commission"), nullable=False),
    Col("max_drawdown", "float", _a("max_drawdown"), nullable=False),
    Col("drawdown", "float", _a("drawdown"), nullable=False),
    Col("exposure", "float", _a("exposure"), nullable=False),
    Col("high_water_mark", "float", _a("high_water_mark")),
    Col("win_rate", "float", _a("win_rate")),
)

ALERT_COLS: tuple[Col, ...] = (
    Col("id", "str", _a("id"), nullable=False),
    Col("ts", "ts", _a("ts_ns"), nullable=False),
    Col("level", "str", _a("level"), nullable=False),
    Col("source", "str", _a("source"), nullable=False),
    Col("message", "str", _a("message"), nullable=False),
    Col("data", "json", lambda a: dumps_json(jsonable(dict(a.data)))),
)

CALENDAR_COLS: tuple[Col, ...] = (
    Col("id", "str", _a("id"), nullable=False),
    Col("date", "date", _a("date"), nullable=False),
    Col("kind", "str", _a("kind"), nullable=False),
    Col("symbol", "str", _a("symbol")),
    Col("description", "str", _a("description"), nullable=False),
)
