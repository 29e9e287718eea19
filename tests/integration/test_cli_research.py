"""``tradekit sweep | walkforward | compare``: tables, pure JSON on stdout, records, errors."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from tradekit.cli import main


def test_sweep_json_to_stdout_and_records(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "sw.duckdb")
    argv = ["sweep", "--data", "ibm", "--strategy", "sma", "--param", "fast=5,10",
            "--param", "slow=40", "--workers", "1", "--no-progress", "--json", "-", "--db", db]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)  # stdout is only the JSON
    pts = out["points"]
    assert {(p["fast"], p["slow"]) for p in pts} == {(5, 40), (10, 40)}
    assert all(p["status"] == "done" and p["trades"] > 0 for p in pts)
    assert [p["sharpe"] for p in pts] == sorted((p["sharpe"] for p in pts), reverse=True)
    with duckdb.connect(db, read_only=True) as con:
        rows = con.execute("SELECT run_id, status FROM backtest_runs ORDER BY run_id").fetchall()
    assert rows == [("sweep-p0000", "done"), ("sweep-p0001", "done")]


def test_walkforward_prints_folds_and_summary(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["walkforward", "--data", "ibm", "--strategy", "sma", "--param", "fast=5,10",
            "--param", "slow=40", "--folds", "3", "--workers", "1", "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "OOS return" in out and "stability" in out and out.count("slow=40") == 3


def test_compare_json_has_intervals_and_verdict(capsys: pytest.CaptureFixture[str],
                                                tmp_path: Path) -> None:  # fmt: skip
    path = tmp_path / "ab.json"
    argv = ["compare", "--data", "ibm", "--a", "sma:10,50", "--b", "sma:5,20", "--boot", "300",
            "--json", str(path)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    ab = json.loads(path.read_text())
    assert ab["verdict"] in printed and set(ab["intervals"]) == {"sharpe", "mean_daily_return",
                                                                 "mean_r"}  # fmt: skip
    assert ab["metrics"]["trades"]["A"] > 0


@pytest.mark.parametrize("argv", [
    ["sweep", "--data", "ibm", "--param", "fast"],
    ["sweep", "--data", "ibm", "--workers", "0", "--param", "fast=5"],
    ["sweep", "--data", "ibm"],
    ["walkforward", "--data", "ibm", "--param", "fast=5", "--strategy", "rsi"],
    ["compare", "--data", "ibm", "--a", "nonsense", "--b", "sma:5,20"],
    ["compare", "--data", "ibm", "--a", "sma:5,20", "--b", "sma:5,20", "--boot", "10"],
])  # fmt: skip
def test_bad_arguments_exit_2_with_one_line(argv: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err
