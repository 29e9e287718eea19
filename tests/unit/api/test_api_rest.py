"""The REST pipeline against a real server on a loopback port over a real replay database:
success paths of the read routes, pagination and filters, and every refusal (400, 401, 403,
404, 405, 413, 422, 429) as a JSON error — never a 500."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from tradekit.api import ApiClient, ApiClientError, ServerThread
from tradekit.api.endpoints import ROUTES
from tradekit.api.rest import MAX_BODY_BYTES
from tradekit.core.bus import EventBus
from tradekit.core.enums import AlertLevel
from tradekit.core.events import Alert
from tradekit.store import Store
from tradekit.testing.api import READ_TOKEN as READER
from tradekit.testing.api import TEST_TOKENS as TOKENS
from tradekit.testing.api import http_request as raw


def concrete(path: str) -> str:
    return path.replace("{id}", "nope").replace("{version}", "nope")


READS = [r for r in ROUTES if r.method == "GET" and r.access != "public"]
POSTS = [r for r in ROUTES if r.method == "POST"]


# -- success paths ------------------------------------------------------------------------
def test_health_needs_no_token(served: ServerThread) -> None:
    status, headers, body = raw(served.url, "GET", "/api/health", token=None)
    assert status == 200 and body["status"] == "ok"
    assert headers["content-type"].startswith("application/json")
    assert "access-control-allow-origin" not in headers  # CORS off


@pytest.mark.parametrize("name", ["signals", "setups", "decisions", "orders", "fills", "alerts"])
def test_list_routes_page_through_every_stored_row(
    served: ServerThread, op: ApiClient, name: str, replay_db: Path
) -> None:
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = op.get(f"/api/{name}", limit=37, cursor=cursor)
        assert len(page["items"]) <= 37
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    store = served.server.ctx.store if served.server else None
    assert store is not None
    read = {"signals": store.signals, "setups": store.setups, "decisions": store.decisions,
            "orders": store.orders, "fills": store.fills, "alerts": store.alerts}[name]  # fmt: skip
    expected = read(run_id="live")
    assert [r["id"] for r in seen] == list(expected["id"])
    assert len({r["id"] for r in seen}) == len(seen)  # no row twice across pages


def test_the_replay_produced_rows_to_page(op: ApiClient) -> None:
    assert len(op.get("/api/signals", limit=5)["items"]) == 5
    assert op.get("/api/fills")["items"], "the replay should have filled at least one order"


def test_decisions_carry_every_gate_result(op: ApiClient) -> None:
    items = op.get("/api/decisions", limit=20)["items"]
    assert items and all(len(d["gate_results"]) >= 7 for d in items)


def test_filters_symbol_kind_and_time_range(op: ApiClient, served: ServerThread) -> None:
    store = served.server.ctx.store if served.server else None
    assert store is not None
    sig = store.signals(run_id="live")
    kind = str(sig["kind"].iloc[0])
    got = op.get("/api/signals", kind=kind.lower(), limit=1000)["items"]
    assert got and {s["kind"] for s in got} == {kind}
    assert len(got) == int((sig["kind"] == kind).sum())
    mid = sig["ts"].iloc[len(sig) // 2]
    since = op.get("/api/signals", since=mid.isoformat(), limit=1000)["items"]
    until = op.get("/api/signals", until=str(int(mid.value)), limit=1000)["items"]
    assert len(since) + len(until) == len(sig)
    assert all(pd.Timestamp(s["ts"]) >= mid for s in since)
    assert op.get("/api/signals", symbol="QQQ")["items"] == []
    assert op.get("/api/signals", symbol="SPY,QQQ", limit=1)["items"][0]["symbol"] == "SPY"


def test_timestamps_are_iso_with_exact_nanoseconds(op: ApiClient) -> None:
    fill = op.get("/api/fills", limit=1)["items"][0]
    assert pd.Timestamp(fill["ts"]).value == fill["ts_ns"]


def test_summary_counts_match_the_store(op: ApiClient, served: ServerThread) -> None:
    store = served.server.ctx.store if served.server else None
    assert store is not None
    s = op.get("/api/analytics/summary")
    assert s["fills"] == len(store.fills())
    assert sum(s["decisions_by_action"].values()) == len(store.decisions())
    assert s["setups"] == len(store.setups())


def test_configs_list_create_and_conflict(op: ApiClient) -> None:
    before = op.get("/api/configs")["items"]
    made = op.post("/api/configs", {"name": "api-test", "version": "9.9.9", "symbols": ["SPY"]})
    assert made["created"] is True and made["version"] == "9.9.9"
    again = op.post("/api/configs", {"name": "api-test", "version": "9.9.9", "symbols": ["SPY"]})
    assert again["created"] is False and again["config_id"] == made["config_id"]
    with pytest.raises(ApiClientError) as e:  # a released version is immutable
        op.post("/api/configs", {"name": "api-test", "version": "9.9.9", "symbols": ["QQQ"]})
    assert e.value.status == 409
    assert len(op.get("/api/configs")["items"]) == len(before) + 1


def test_alert_ack_then_filter_unacknowledged(op: ApiClient, served: ServerThread) -> None:
    assert served.server is not None
    store = served.server.ctx.store
    alert = Alert("alert:api-test/1", 1_700_000_000_000_000_000, AlertLevel.WARNING, "test",
                  "a stale feed", {"symbol": "SPY"})  # fmt: skip
    served.call(lambda: store.write_alerts([alert]))
    alerts = op.get("/api/alerts", limit=1000, kind="warning")["items"]
    assert alert.id in {a["id"] for a in alerts}
    first = alert.id
    assert op.post(f"/api/alerts/{urllib.parse.quote(first, safe='')}/ack") == {
        "id": first, "acknowledged": True}  # fmt: skip
    left = op.get("/api/alerts", unacknowledged="true", limit=1000)["items"]
    assert first not in {a["id"] for a in left}


def test_positions_without_a_trader_come_from_the_latest_snapshots(op: ApiClient) -> None:
    page = op.get("/api/positions")
    assert page["next_cursor"] is None
    assert all(p["quantity"] != 0 for p in page["items"])


# -- refusals -------------------------------------------------------------------------------
@pytest.mark.parametrize("route", READS + POSTS, ids=lambda r: f"{r.method} {r.path}")
@pytest.mark.parametrize("token", [None, "wrong-token-wrong-token"])
def test_every_route_but_health_needs_a_valid_token(served: ServerThread, route: Any,
                                                    token: str | None) -> None:  # fmt: skip
    status, headers, body = raw(served.url, route.method, concrete(route.path), token=token,
                                body=b"{}" if route.method == "POST" else None)  # fmt: skip
    assert status == 401 and body["error"] == "unauthorized"
    assert headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("route", POSTS, ids=lambda r: f"{r.method} {r.path}")
def test_read_only_token_gets_403_on_every_post(served: ServerThread, route: Any) -> None:
    status, _, body = raw(served.url, "POST", concrete(route.path), token=READER, body=b"{}")
    assert status == 403 and body["error"] == "forbidden"


def test_read_only_token_reads(reader: ApiClient) -> None:
    assert "items" in reader.get("/api/signals", limit=1)


def test_unknown_routes_and_ids_are_404(served: ServerThread) -> None:
    for path in ("/api/nothing", "/api/signals/extra", "/api/backtests/nope",
                 "/api/alerts/nope/ack"):  # fmt: skip
        method = "POST" if path.endswith("ack") else "GET"
        status, _, body = raw(served.url, method, path)
        assert status == 404 and body["error"] == "not_found", path


@pytest.mark.parametrize("method", ["DELETE", "PUT", "PATCH", "OPTIONS"])
def test_wrong_method_is_405_with_allow(served: ServerThread, method: str) -> None:
    status, headers, body = raw(served.url, method, "/api/signals")
    assert status == 405 and body["error"] == "method_not_allowed"
    assert headers["allow"] == "GET"
    status, _, _ = raw(served.url, "POST", "/api/signals", body=b"{}")
    assert status == 405


def test_body_over_64_kb_is_413(served: ServerThread) -> None:
    big = json.dumps({"name": "x" * (MAX_BODY_BYTES + 10)}).encode()
    status, _, body = raw(served.url, "POST", "/api/configs", body=big)
    assert status == 413 and body["error"] == "payload_too_large"


@pytest.mark.parametrize("payload", [b"{", b"not json", b"\xff\xfe", b'{"name": }'])
def test_malformed_json_is_400(served: ServerThread, payload: bytes) -> None:
    status, _, body = raw(served.url, "POST", "/api/configs", body=payload)
    assert status == 400 and body["error"] == "invalid_json"


@pytest.mark.parametrize(
    ("path", "payload"),
    [
        ("/api/configs", b"[1, 2]"),
        ("/api/configs", b'{"symbols": 5}'),
        ("/api/configs", b'{"nonsense_key": 1}'),
        ("/api/configs", b'{"risk": {"max_daily_loss": "lots"}}'),
        ("/api/backtests", b'{"days": "2"}'),
        ("/api/backtests", b'{"days": 0}'),
        ("/api/backtests", b'{"data": "nowhere"}'),
        ("/api/backtests", b'{"overrides": {"no.such.key": 1}}'),
        ("/api/auto-trade/kill-switch", b'{"flatten": "yes"}'),
        ("/api/auto-trade/kill-switch", b'{"reason": ""}'),
        ("/api/auto-trade/mode", b'{"mode": "LIVE"}'),
        ("/api/auto-trade/mode", b"{}"),
        ("/api/configs", b""),
    ],
)
def test_wrong_types_and_values_are_422(served: ServerThread, path: str, payload: bytes) -> None:
    status, _, body = raw(served.url, "POST", path, body=payload)
    assert status == 422, body
    assert set(body) == {"error", "detail"} and body["detail"]


@pytest.mark.parametrize(
    "query",
    ["limit=abc", "limit=0", "limit=100000", "since=yesterday-ish", "until=2024-13-45",
     "cursor=garbage", "cursor=WzEsMl0", "symbol=,,,", "since=2024-02-01&until=2024-01-01",
     "unacknowledged=maybe"],
)  # fmt: skip
def test_bad_query_parameters_are_422(served: ServerThread, query: str) -> None:
    path = "/api/alerts" if "unacknowledged" in query else "/api/signals"
    status, _, body = raw(served.url, "GET", f"{path}?{query}")
    assert status == 422 and body["error"] == "validation_error", (query, body)


def test_controls_without_a_trader_are_409(served: ServerThread) -> None:
    status, _, body = raw(served.url, "POST", "/api/auto-trade/start", body=b"")
    assert status == 409 and body["error"] == "no_trader"


def test_rate_limit_is_429_with_retry_after_and_spares_the_kill_switch(replay_db: Path,
                                                                        tmp_path: Path) -> None:  # fmt: skip
    store = Store.open(str(tmp_path / "rl.duckdb"))
    with ServerThread(lambda: None, store=store, bus=EventBus(), tokens=TOKENS, rate=0.5,
                      burst=3, discovery=False) as th:  # fmt: skip
        codes = [raw(th.url, "GET", "/api/signals")[0] for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
        status, headers, body = raw(th.url, "GET", "/api/fills")
        assert status == 429 and body["error"] == "rate_limited"
        assert int(headers["retry-after"]) >= 1
        # the reader has its own bucket; the kill switch is never limited (409: no trader here)
        assert raw(th.url, "GET", "/api/signals", token=READER)[0] == 200
        kills = [raw(th.url, "POST", "/api/auto-trade/kill-switch", body=b"{}")[0]
                 for _ in range(10)]  # fmt: skip
        assert 429 not in kills
        assert raw(th.url, "GET", "/api/health", token=None)[0] == 200
    store.close()
