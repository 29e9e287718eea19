"""Server discovery: a live server is found next to its database; a stale or absent one is not."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tradekit.api import ServerThread, connect
from tradekit.api.client import discovery_path, read_discovery, token_path
from tradekit.core.bus import EventBus
from tradekit.store import Store
from tradekit.testing.api import TEST_TOKENS


def test_no_discovery_file_means_no_server(tmp_path: Path) -> None:
    db = tmp_path / "x.duckdb"
    assert connect(db) is None
    discovery_path(db).write_text(json.dumps({"pid": 2**22 + 12345, "url": "http://127.0.0.1:1"}))
    assert read_discovery(db) is None  # that process is gone
    discovery_path(db).write_text("not json")
    assert read_discovery(db) is None
    assert token_path(db) == tmp_path / "api_token"


def test_a_running_server_announces_itself_and_withdraws(tmp_path: Path) -> None:
    db = tmp_path / "live.duckdb"
    store = Store.open(str(db))
    with ServerThread(lambda: None, store=store, bus=EventBus(), tokens=TEST_TOKENS) as th:
        info = read_discovery(db)
        assert info is not None and info["pid"] == os.getpid() and info["url"] == th.url
        client = connect(db, token=TEST_TOKENS.operator)
        assert client is not None and client.health()["status"] == "ok"
    assert not discovery_path(db).exists()
    store.close()
