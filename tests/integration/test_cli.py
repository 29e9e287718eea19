"""The command line: the `make run` job end to end into DuckDB, status, and the kill flag."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tradekit.cli import main
from tradekit.store import Store


@pytest.fixture(scope="module")
def run_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("run")
    db, flag = tmp / "tk.duckdb", tmp / "KILL"
    args = ["run", "--days", "2", "--history-days", "30"]
    code = main([*args, "--db", str(db), "--kill-flag", str(flag)])
    assert code == 0
    return db, flag, "ok"


def test_run_writes_every_record_kind_to_duckdb(run_db: tuple[Path, Path, str]) -> None:
    db, _, _ = run_db
    with Store.open(str(db), read_only=True) as store:
        assert len(store.signals()) > 0
        assert len(store.setups()) > 0
        decisions = store.decisions()
        assert len(decisions) == len(store.setups())  # every setup is decided and audited
        assert decisions["gate_results"].map(len).min() >= 7
        assert len(store.configs()) == 1


def test_status_reads_the_database(
    run_db: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, flag, _ = run_db
    assert main(["status", "--db", str(db), "--kill-flag", str(flag)]) == 0
    out = capsys.readouterr().out
    assert "signals" in out and "kill flag: not set" in out


def test_kill_from_another_process_halts_the_next_run(
    run_db: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    db, flag, _ = run_db
    done = subprocess.run(
        [sys.executable, "-m", "tradekit.cli", "kill", "--kill-flag", str(flag), "--reason", "test"],
        capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert flag.exists() and "kill flag written" in done.stdout
    capsys.readouterr()
    code = main(["run", "--days", "1", "--history-days", "30", "--db", str(db),
                 "--kill-flag", str(flag)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert " 0 fills" in out and "state HALTED" in out
    with Store.open(str(db), read_only=True) as store:
        states = store.states()
    risk = states[states["key"].str.contains("risk")]
    assert len(risk) >= 1 and all("HALTED" in str(v) for v in risk["value"])
    # HALTED survives a restart: a third run without the flag is still halted
    flag.unlink()
    assert main(["run", "--days", "1", "--history-days", "30", "--db", str(db),
                 "--kill-flag", str(flag)]) == 0  # fmt: skip
    assert "state HALTED" in capsys.readouterr().out


def test_backtest_real_daily(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "bt.duckdb"
    assert main(["backtest", "--data", "ibm", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "REAL daily bars IBM" in out and "final_equity" in out
    # issue #13, point 3: the printed run id is a backtest_runs row, with its records
    run_id = next(ln.split(":", 1)[1].strip() for ln in out.splitlines() if "run_id:" in ln)
    with Store.open(str(db), read_only=True) as store:
        run = store.query("SELECT * FROM backtest_runs WHERE run_id = ?", [run_id])
        assert len(run) == 1 and run["status"].iloc[0] == "done"
        assert run["config_id"].iloc[0] and "IBM" in run["data_label"].iloc[0]
        assert "final_equity" in run["results"].iloc[0]
        n = store.query("SELECT count(*) AS n FROM auto_decisions WHERE run_id = ?", [run_id])
        assert n["n"].iloc[0] > 0
        assert len(store.query("SELECT * FROM event_calendar WHERE kind = 'OPEX'")) > 0
