"""Fixtures of the API tests: a real replay written to a real DuckDB file, and a real server on a
loopback port serving it (started in a background thread with its own event loop)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tradekit.api import ApiClient, ServerThread
from tradekit.core.bus import EventBus
from tradekit.store import Store
from tradekit.testing.api import OPERATOR_TOKEN, READ_TOKEN, TEST_TOKENS, wired_replay


@pytest.fixture(autouse=True, scope="session")
def _quiet_access_log() -> None:
    logging.getLogger("tornado.access").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def replay_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding two replayed synthetic sessions (signals ... fills, alerts)."""
    db = tmp_path_factory.mktemp("api") / "replay.duckdb"
    store = Store.open(str(db))
    rep = wired_replay(store, days=2)
    asyncio.run(rep.run())
    rep.sub.close()
    store.close()
    return db


@pytest.fixture(scope="module")
def served(replay_db: Path) -> Iterator[ServerThread]:
    """A real server (no trader) over the replay database."""
    store = Store.open(str(replay_db))
    with ServerThread(lambda: None, store=store, bus=EventBus(), tokens=TEST_TOKENS,
                      rate=1000.0, burst=1000, discovery=False) as th:  # fmt: skip
        yield th
    store.close()


@pytest.fixture
def op(served: ServerThread) -> ApiClient:
    return ApiClient(served.url, OPERATOR_TOKEN)


@pytest.fixture
def reader(served: ServerThread) -> ApiClient:
    return ApiClient(served.url, READ_TOKEN)
