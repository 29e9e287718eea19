"""Bad arguments end with exit status 2 and one ``error:`` line, never a traceback (issue #13,
points 8, 9 and 15); the help says what every option is; ``--data`` takes a bars file."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tradekit.cli import _parser, main
from tradekit.data import datasets


def _fails(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if "error:" in ln]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(
    ("argv", "fragment"),
    [
        (["backtest", "--config", "missing.json"], "missing.json does not exist"),
        (["backtest", "--days", "0"], "at least 1"),
        (["backtest", "--days", "-3"], "at least 1"),
        (["backtest", "--days", "two"], "not a whole number"),
        (["run", "--speed", "-1"], "greater than 0"),
        (["run", "--speed", "nan"], "finite"),
        (["backtest", "--vix", "nan"], "finite"),
        (["backtest", "--vix", "-5"], "greater than 0"),
        (["run", "--seed", "-1"], "0 or more"),
        (["run", "--start", "someday"], "not a date"),
        (["backtest", "--data", "nosuch"], "neither a dataset"),
        (["run", "--verbose", "--quiet"], "not allowed with"),
        (["status", "--db", "/nonexistent_dir_tk/x.duckdb"], "does not exist"),
    ],
)
def test_bad_argument_is_one_error_line(
    argv: list[str], fragment: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fragment in _fails(argv, capsys)


def test_db_that_is_a_csv_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "some.csv"
    csv.write_text("a,b\n1,2\n")
    line = _fails(["status", "--db", str(csv)], capsys)
    assert "not a DuckDB database" in line


def test_db_folder_is_never_created_outside_the_data_dir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "a" / "b" / "x.duckdb"
    _fails(["backtest", "--data", "ibm", "--db", str(target)], capsys)
    assert not (tmp_path / "a").exists()


def test_db_folder_under_the_data_dir_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)  # the project's data directory is ./data
    assert main(["backtest", "--data", "ibm", "--db", "data/runs/x.duckdb"]) == 0
    assert (tmp_path / "data" / "runs" / "x.duckdb").is_file()
    capsys.readouterr()


def test_help_is_plain_text_and_every_option_explains_itself() -> None:
    parser = _parser()
    top = parser.format_help()
    assert "``" not in top and "tradekit" in top
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sp in sub.choices.items():  # type: ignore[attr-defined]
        for action in sp._actions:
            if action.option_strings and action.dest != "help":
                assert action.help, f"{name} {action.option_strings} has no help"
        assert "``" not in sp.format_help(), name


def test_backtest_takes_a_bars_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bars = datasets.load("ibm").iloc[:400]
    path = tmp_path / "ibm_bars.csv"
    bars.reset_index().to_csv(path, index=False)
    db = tmp_path / "x.duckdb"
    assert main(["backtest", "--data", str(path), "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert f"bars from {path}" in out and "IBM_BARS" in out and re.search(r"bars: 400\b", out)
    pq = tmp_path / "bars.parquet"
    bars.to_parquet(pq)
    assert main(["backtest", "--data", str(pq), "--symbol", "IBM", "--db", str(db)]) == 0
    capsys.readouterr()


def test_a_bad_bars_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = datasets.load("ibm").iloc[:50].reset_index().copy()
    bad["high"] = bad["high"].to_numpy().copy()
    bad.loc[10, "high"] = bad.loc[10, "low"] - 1.0  # high < low
    path = tmp_path / "bad.csv"
    bad.to_csv(path, index=False)
    assert main(["backtest", "--data", str(path), "--db", str(tmp_path / "x.duckdb")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: DataError") and "Traceback" not in err
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    assert main(["backtest", "--data", str(junk), "--db", str(tmp_path / "x.duckdb")]) == 2
    assert "cannot read bars" in capsys.readouterr().err


def test_the_console_script_prints_no_traceback(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tradekit.cli", "backtest", "--days", "0"],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "argument --days: must be at least 1" in done.stderr


def test_frame_index_roundtrip_sanity() -> None:
    assert isinstance(datasets.load("ibm").index, pd.DatetimeIndex)
