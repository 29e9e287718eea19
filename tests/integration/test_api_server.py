"""The auto-trader service end to end: a real AutoTrader (synthetic SPY replay, real DuckDB file)
on the loop of a real Panel/Tornado server on a loopback port — the controls and their
persisted states, configs, backtests in a worker process, the event stream of a replay, a
schemathesis run against the OpenAPI document, and ``tradekit serve`` / ``status`` / ``kill``."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tornado.websocket import websocket_connect

from tradekit.api import ApiClient, ApiClientError, ServerThread
from tradekit.api.client import discovery_path, read_discovery
from tradekit.runtime.autotrader import AutoTrader
from tradekit.runtime.replay import replay_trader
from tradekit.store import Store
from tradekit.testing.api import OPERATOR_TOKEN, READ_TOKEN, TEST_TOKENS, http_request

AUTH = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}


def _serve(db: Path, *, speed: float | None, **kwargs: Any) -> ServerThread:
    def make() -> AutoTrader:
        return replay_trader("synthetic", days=1, history_days=30, seed=1, speed=speed,
                             db=str(db), new_run=True)  # fmt: skip

    async def close(trader: AutoTrader) -> None:
        await trader.stop()
        trader.store.close()

    return ServerThread(make, close=close, tokens=TEST_TOKENS, **kwargs)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    """A trader replaying slowly enough (600x) to be controlled while it runs."""
    db = tmp_path_factory.mktemp("svc") / "svc.duckdb"
    with _serve(db, speed=600.0, rate=10_000.0, burst=10_000) as th:
        yield th


@pytest.fixture
def op(service: ServerThread) -> ApiClient:
    return ApiClient(service.url, OPERATOR_TOKEN)


def stored_state(th: ServerThread) -> str:
    trader = th.trader
    return str(th.call(lambda: trader.store.get_state("trader", run_id=trader.run_id)))


def test_controls_walk_the_states_and_persist_them(op: ApiClient, service: ServerThread) -> None:
    assert op.status()["state"] == "STOPPED"
    assert op.post("/api/auto-trade/start")["status"]["state"] == "RUNNING"
    with pytest.raises(ApiClientError) as e:
        op.post("/api/auto-trade/start")
    assert e.value.status == 409 and "already running" in e.value.detail
    assert op.post("/api/auto-trade/pause")["status"]["state"] == "PAUSED"
    assert stored_state(service) == "PAUSED"
    assert op.post("/api/auto-trade/resume")["status"]["state"] == "RUNNING"
    time.sleep(0.5)
    assert op.status()["bars_seen"] > 0

    t0 = time.perf_counter()
    out = op.kill("integration test")
    assert out["status"]["state"] == "HALTED" and out["already_halted"] is False
    assert stored_state(service) == "HALTED"
    assert time.perf_counter() - t0 < 1.0
    again = op.kill("twice")  # idempotent
    assert again["status"]["state"] == "HALTED" and again["already_halted"] is True
    assert op.post("/api/auto-trade/flatten")["status"]["state"] == "HALTED"

    assert op.post("/api/auto-trade/reset", {"by": "tester", "reason": "test over"})[
        "status"]["state"] == "RUNNING"  # fmt: skip
    assert op.post("/api/auto-trade/stop")["status"]["state"] == "STOPPED"
    assert stored_state(service) == "STOPPED"


def test_mode_switch_is_requested_for_the_next_session(op: ApiClient,
                                                       service: ServerThread) -> None:  # fmt: skip
    out = op.post("/api/auto-trade/mode", {"mode": "SHADOW"})
    assert out["effective"] == "next session"
    assert out["status"]["mode"] == "PAPER" and out["status"]["next_mode"] == "SHADOW"
    alerts = op.get("/api/alerts", limit=1000)["items"]
    assert any(a["message"].startswith("mode SHADOW requested") for a in alerts), alerts[-3:]
    back = op.post("/api/auto-trade/mode", {"mode": "PAPER"})  # the current mode: cancels
    assert back["status"]["next_mode"] is None
    with pytest.raises(ApiClientError) as e:
        op.post("/api/auto-trade/mode", {"mode": "LIVE"})
    assert e.value.status == 422


def test_positions_come_from_the_live_ledger(op: ApiClient, service: ServerThread) -> None:
    trader = service.trader
    live = service.call(lambda: {s.symbol: s.quantity for s in trader.engine.ledger.snapshot()
                                 if s.quantity})  # fmt: skip
    assert {p["symbol"]: p["quantity"] for p in op.get("/api/positions")["items"]} == live


def test_configs_activate_a_saved_version(op: ApiClient, service: ServerThread) -> None:
    cfg = service.call(lambda: service.trader.config.model_dump(mode="json"))
    new = {**cfg, "version": "7.7.7", "signals": {**cfg["signals"]}}
    assert op.post("/api/configs", new)["created"] is True
    listed = op.get("/api/configs")
    assert "7.7.7" in {c["version"] for c in listed["items"]}
    out = op.post("/api/configs/7.7.7/activate")
    assert out["version"] == "7.7.7" and out["effective"] == "next bar"
    with pytest.raises(ApiClientError) as e:
        op.post("/api/configs/0.0.0-none/activate")
    assert e.value.status == 404
    other = {**cfg, "version": "8.8.8", "symbols": ["QQQ"]}
    op.post("/api/configs", other)
    with pytest.raises(ApiClientError) as e:  # symbols cannot change inside a run
        op.post("/api/configs/8.8.8/activate")
    assert e.value.status == 409


def test_a_backtest_runs_in_a_worker_process(op: ApiClient) -> None:
    job = op.post("/api/backtests", {"data": "aapl", "overrides": {"signals.swing_left": 3}})
    assert job["status"] in ("pending", "running") and job["progress"] is not None
    deadline = time.monotonic() + 120
    while job["status"] not in ("done", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        job = op.get(f"/api/backtests/{job['id']}")
    assert job["status"] == "done", job
    assert job["progress"] == 1.0 and job["results"]["bars"] > 1000
    assert job["results"]["engine_run_id"] and job["error"] is None
    with pytest.raises(ApiClientError) as e:
        op.get("/api/backtests/run:none")
    assert e.value.status == 404


def test_a_websocket_client_receives_the_events_of_a_short_replay_in_order(
    tmp_path: Path,
) -> None:
    with _serve(tmp_path / "ws.duckdb", speed=None, stream_queue=100_000) as th:

        async def listen() -> list[dict[str, Any]]:
            url = th.url.replace("http", "ws") + f"/ws/events?token={READ_TOKEN}"
            conn = await websocket_connect(url)
            await asyncio.sleep(0.2)
            status, _, _ = await asyncio.to_thread(
                http_request, th.url, "POST", "/api/auto-trade/start", body=b""
            )
            assert status == 200
            got: list[dict[str, Any]] = []
            while True:
                msg = await asyncio.wait_for(conn.read_message(), 60)
                assert msg is not None
                got.append(json.loads(msg))
                if got[-1]["topic"] == "state.trader" and got[-1]["data"]["new"] == "STOPPED":
                    break
            conn.close()
            return got

        got = asyncio.run(listen())
        trader = th.trader
        journal = th.call(lambda: trader.store.journal(run_id=trader.run_id))
    streamed = [(m["topic"], m["type"]) for m in got if not m["topic"].startswith("state.")]
    stored = [(t, ty) for t, ty in zip(journal["topic"], journal["type"], strict=True)
              if not t.startswith(("state.", "trades."))]  # fmt: skip
    assert len(stored) > 100 and streamed == stored
    fills = [m["data"]["id"] for m in got if m["topic"].startswith("fills.")]
    assert fills and len(fills) == len(set(fills))


# -- schemathesis ---------------------------------------------------------------------------
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
    allow_header_conformance,
]


def test_openapi_document_holds_no_5xx_no_schema_violation(service: ServerThread) -> None:
    """Every operation, valid and invalid inputs (few examples each: bounded, < 60 s): no 5xx,
    every status documented, every answer conforming to its schema. (Schema-valid values the
    schema cannot fully describe — an unknown cursor, a pattern-shaped non-date — are refused
    with a documented 422, so the "positive data accepted" check is not run.)"""
    schema = schemathesis.openapi.from_url(service.url + "/api/openapi.json")
    failures: list[str] = []
    ran = 0
    t0 = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        negatable = bool(operation.definition.raw.get("parameters") or
                         operation.definition.raw.get("requestBody"))  # fmt: skip
        modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if negatable else [])
        for mode in modes:

            @hypothesis.given(case=operation.as_strategy(mode))
            @hypothesis.settings(max_examples=8, deadline=None, derandomize=True, database=None,
                                 suppress_health_check=list(hypothesis.HealthCheck))  # fmt: skip
            def check(case: Any) -> None:
                case.call_and_validate(headers=AUTH, checks=CHECKS)

            try:
                check()
                ran += 1
            except Exception as exc:
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    assert failures == [], "\n\n".join(failures)
    assert ran >= 40 and time.monotonic() - t0 < 60


# -- the command line -----------------------------------------------------------------------
def test_serve_status_and_kill_from_the_command_line(tmp_path: Path) -> None:
    db, port = tmp_path / "cli.duckdb", "0"
    from tradekit.api.server import free_port

    port = str(free_port())
    env = {**os.environ, "TRADEKIT_API_TOKEN": OPERATOR_TOKEN, "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "tradekit.cli", "serve", "--db", str(db), "--port", port,
           "--days", "1", "--history-days", "20", "--speed", "60",
           "--kill-flag", str(tmp_path / "KILL")]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while read_discovery(db) is None and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.3)
        info = read_discovery(db)
        assert info is not None and info["port"] == int(port)
        run = [sys.executable, "-m", "tradekit.cli"]
        st = subprocess.run([*run, "status", "--db", str(db)], env=env, capture_output=True,
                            text=True, timeout=60)  # fmt: skip
        assert st.returncode == 0 and "trader RUNNING" in st.stdout, st.stdout + st.stderr
        kill = subprocess.run([*run, "kill", "--db", str(db), "--reason", "cli test",
                               "--kill-flag", str(tmp_path / "KILL")], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert kill.returncode == 0 and "trader HALTED" in kill.stdout, kill.stdout + kill.stderr
        assert not (tmp_path / "KILL").exists()  # the server did it; no flag file needed
        status, _, body = http_request(f"http://127.0.0.1:{port}", "GET", "/api/auto-trade/status")
        assert status == 200 and body["state"] == "HALTED"
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    assert "operator token" not in out  # given by the environment: nothing printed
    assert not discovery_path(db).exists()
    with Store.open(str(db), read_only=True) as store:
        states = store.states()
    assert "HALTED" in set(states["value"].astype(str))
