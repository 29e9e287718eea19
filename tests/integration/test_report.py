"""``tradekit report``: papermill + nbconvert end to end on shipped data, and its input errors."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tradekit.cli import main
from tradekit.cli.report import REPORTS, notebooks_dir
from tradekit.store import Store

pytest.importorskip("papermill")
pytest.importorskip("nbconvert")


@pytest.mark.slow
def test_report_backtest_writes_self_contained_html_and_records_the_run(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "runs.duckdb"
    out = tmp_path / "out" / "report.html"
    rc = main(["report", "backtest", "-p", "symbol=AAPL", "-p", "start=2008-01-01",
               "-p", "end=2011-12-31", "-p", "mc_paths=200", "-p", f"db={db}",
               "-o", str(out)])  # fmt: skip
    assert rc == 0
    text = out.read_text()
    assert not re.search(r"<script[^>]*\bsrc=[\"']?https?://", text, re.I)  # nothing external
    assert "Bokeh.embed" in text and "cdn.bokeh.org/bokeh/release/bokeh-3" not in text
    assert "sharpe" in text and "max_drawdown" in text and "probability of ruin" in text
    assert "tradekit.store import Store" not in text  # code cells hidden by default
    run_id = re.search(r'<meta name="tradekit-run-id" content="([^"]+)">', text).group(1)
    printed = capfd.readouterr()  # the kernel's own output included (file-descriptor level)
    assert run_id in printed.out
    assert "WARNING" not in printed.err, printed.err  # no kernel warning on the terminal
    with Store.open(db, read_only=True) as store:
        runs = store.backtest_runs()
    row = runs.set_index("run_id").loc[run_id]
    assert row["kind"] == "backtest" and row["status"] == "done"
    with Store.open(db, read_only=True) as store:
        assert len(store.trades(run_id=run_id)) > 0


@pytest.mark.parametrize(
    ("param", "message"),
    [
        ("colour=red", "has no parameter 'colour'"),
        ("mc_paths=lots", "mc_paths='lots': expected int"),
        ("vix=high", "vix='high': expected float"),
        ("mc_paths", "expects name=value"),
    ],
)
def test_bad_parameters_exit_2_with_a_clear_message(
    param: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rc = main(["report", "backtest", "-p", param, "-o", str(tmp_path / "r.html")])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "r.html").exists()


def test_report_ab_without_its_notebook_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copy(notebooks_dir() / REPORTS["backtest"], tmp_path)
    monkeypatch.setenv("TRADEKIT_NOTEBOOKS", str(tmp_path))
    rc = main(["report", "ab", "-o", str(tmp_path / "ab.html")])
    assert rc == 2
    assert "06_ab_study.ipynb, which does not exist" in capsys.readouterr().err


def test_unknown_report_is_an_argparse_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", "nonsense", "-o", "x.html"])
    assert exc.value.code == 2


@pytest.mark.slow
def test_report_ab_renders_the_verdict_and_records_the_comparison(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "ab.duckdb"
    out = tmp_path / "ab.html"
    rc = main(["report", "ab", "-p", "a=sma:10,50", "-p", "b=decision.min_confidence=8",
               "-p", "start=2008-01-01", "-p", "end=2011-12-31", "-p", "n_boot=300",
               "-p", f"db={db}", "-o", str(out)])  # fmt: skip
    assert rc == 0
    text = out.read_text()
    assert "cannot tell" in text or "is better" in text
    assert "excludes_zero" in text and not re.search(r"<script[^>]*\bsrc=[\"']?https?://", text)
    run_id = re.search(r'<meta name="tradekit-run-id" content="([^"]+)">', text).group(1)
    with Store.open(db, read_only=True) as store:
        row = store.backtest_runs().set_index("run_id").loc[run_id]
    assert row["status"] == "done" and "verdict" in str(row["results"])
