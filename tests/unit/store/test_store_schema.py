"""Opening, migrations, checkpointing and the cross-process write lock."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from tradekit.core.clock import SimClock
from tradekit.core.events import Signal
from tradekit.errors import StoreError, StoreLockedError
from tradekit.store import LATEST_VERSION, MIGRATIONS, Store, migrate
from tradekit.store.schema import current_version

T0 = 1_700_000_000_000_000_000


def sig(i: int) -> Signal:
    return Signal(f"sig-{i}", "SPY", "1min", "BOS", T0 + i, i, i - 1, 1, 10.0, 9.0, 12.0)


class TestMigrations:
    def test_fresh_store_is_latest(self) -> None:
        with Store.open(":memory:") as s:
            assert s.schema_version == LATEST_VERSION == MIGRATIONS[-1].version
            assert s.migrate() == LATEST_VERSION  # idempotent
            rows = s.query("SELECT version FROM schema_version ORDER BY version")
            assert rows["version"].tolist() == [m.version for m in MIGRATIONS]

    def test_upgrade_an_older_database_file(self, tmp_path: Path) -> None:
        path = str(tmp_path / "old.duckdb")
        con = duckdb.connect(path)
        assert migrate(con, T0, target=1) == 1
        con.execute(
            "INSERT INTO fills VALUES ('live', 'fil-1', 'ord-1', 'SPY', 1, 1.0, 10.0, "
            "make_timestamp_ns(?), 0.0, 0.0, 1.0, 0, NULL)",
            [T0],
        )
        con.close()
        with Store.open(path, clock=SimClock(T0 + 5)) as s:
            assert s.schema_version == LATEST_VERSION
            assert s.fills()["id"].tolist() == ["fil-1"]
            idx = s.query("SELECT index_name FROM duckdb_indexes() WHERE table_name = 'fills'")
            assert "idx_fills_order" in idx["index_name"].tolist()
            applied = s.query("SELECT applied_at FROM schema_version WHERE version = 2")
            assert applied["applied_at"].iloc[0].value == T0 + 5

    def test_read_only_open_of_old_schema_is_refused(self, tmp_path: Path) -> None:
        path = str(tmp_path / "old.duckdb")
        con = duckdb.connect(path)
        migrate(con, T0, target=1)
        con.close()
        with pytest.raises(StoreError, match="open it writable once to migrate"):
            Store.open(path, read_only=True)

    def test_newer_database_is_refused(self, tmp_path: Path) -> None:
        path = str(tmp_path / "new.duckdb")
        Store.open(path).close()
        con = duckdb.connect(path)
        con.execute("INSERT INTO schema_version VALUES (999, 'future', make_timestamp_ns(0))")
        con.close()
        with pytest.raises(StoreError, match="newer than this tradekit"):
            Store.open(path)

    def test_unknown_target(self) -> None:
        con = duckdb.connect()
        with pytest.raises(StoreError, match="unknown schema version"):
            migrate(con, T0, target=LATEST_VERSION + 1)
        assert current_version(con) == 0


class TestOpenClose:
    def test_data_survives_close_and_reopen(self, tmp_path: Path) -> None:
        path = tmp_path / "sub" / "t.duckdb"  # parent directory is created
        with Store.open(path) as s:
            s.write_signals([sig(1), sig(2)])
            s.set_state("trading_state", "HALTED")
        assert not Path(str(path) + ".wal").exists()  # close() checkpointed
        with Store.open(path, read_only=True) as ro:
            assert len(ro.signals()) == 2
            assert ro.get_state("trading_state") == "HALTED"

    def test_journal_seq_continues_after_reopen(self, tmp_path: Path) -> None:
        path = tmp_path / "j.duckdb"
        with Store.open(path) as s:
            assert s.append_journal([("signals.bos", sig(1)), ("signals.bos", sig(2))]) == [1, 2]
        with Store.open(path) as s:
            assert s.append_journal([("signals.bos", sig(3))]) == [3]

    def test_two_stores_on_one_file_in_one_process(self, tmp_path: Path) -> None:
        path = tmp_path / "shared.duckdb"
        with Store.open(path) as a, Store.open(path) as b:
            assert a.append_journal([("x.y", {"k": 1})]) == [1]
            assert b.append_journal([("x.y", {"k": 2})]) == [2]  # seq never reused
            with pytest.raises(StoreError, match="share that Store object"):
                Store.open(path, read_only=True)

    def test_default_path_from_env(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("TRADEKIT_DB", str(tmp_path / "env.duckdb"))
        with Store.open() as s:
            assert s.path == str(tmp_path / "env.duckdb")
        assert (tmp_path / "env.duckdb").exists()

    def test_closed_store_refuses_work(self) -> None:
        s = Store.open(":memory:")
        s.close()
        s.close()  # idempotent
        with pytest.raises(StoreError, match="closed"):
            s.signals()
        with pytest.raises(StoreError, match="closed"):
            s.write_signals([sig(1)])

    def test_missing_file_read_only(self, tmp_path: Path) -> None:
        with pytest.raises(StoreError, match="no database"):
            Store.open(tmp_path / "absent.duckdb", read_only=True)


_HOLDER = textwrap.dedent(
    """
    import sys
    from tradekit.store import Store
    store = Store.open(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    store.close()
    """
)


class TestProcessLock:
    def test_second_process_gets_store_locked_error(self, tmp_path: Path) -> None:
        path = str(tmp_path / "locked.duckdb")
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
            with pytest.raises(StoreLockedError, match="locked by another process"):
                Store.open(path)
            with pytest.raises(StoreLockedError):
                Store.open(path, read_only=True)
        finally:
            assert holder.stdin is not None
            holder.stdin.write("\n")
            holder.stdin.flush()
            holder.wait(timeout=30)
        with Store.open(path) as s:  # released: opens fine
            assert s.schema_version == LATEST_VERSION


def test_exported_members() -> None:
    import tradekit.store as pkg

    assert sorted(pkg.__all__) == sorted(n for n in pkg.__all__ if hasattr(pkg, n))
    assert {"Store", "StoreSubscriber", "LIVE_RUN_ID", "migrate"} <= set(pkg.__all__)
