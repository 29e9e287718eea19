"""``tradekit backtest --strategy`` and its JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradekit.cli import main


def test_backtest_with_sma_strategy_prints_stats(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    db = str(tmp_path / "x.duckdb")
    assert main(["backtest", "--data", "aapl", "--strategy", "sma:10,50", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "strategy: sma_cross_10_50" in out and "sharpe:" in out and "avg_r:" in out
    trades = int(
        next(line for line in out.splitlines() if line.strip().startswith("trades:")).split()[-1]
    )
    assert trades > 10


def test_json_to_stdout_is_pure_json(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    db = str(tmp_path / "x.duckdb")
    assert (
        main(["backtest", "--data", "ibm", "--strategy", "sma:5,20", "--json", "-", "--db", db])
        == 0
    )
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert "REAL daily bars IBM" in captured.err
    assert data["strategy"] == "sma_cross_5_20" and data["stats"]["trades"] == data["trades"]
    assert {"sharpe", "sortino", "calmar", "max_drawdown_duration_s"} <= set(data["stats"])
    path = tmp_path / "out.json"
    assert main(["backtest", "--data", "ibm", "--json", str(path), "--db", db]) == 0
    written = json.loads(path.read_text())
    assert written["strategy"] == "confluence" and "final_equity" in written["stats"]


def test_unknown_strategy_is_a_clean_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", "--data", "ibm", "--strategy", "rsi:14"]) != 0
    assert "unknown strategy 'rsi'" in capsys.readouterr().err
