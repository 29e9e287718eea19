"""Every curated notebook executes top to bottom through papermill (with small parameters)."""

from __future__ import annotations

from pathlib import Path

import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SMALL: dict[str, dict[str, object]] = {
    "01_quickstart.ipynb": {"bars": 400},
    "02_paper_trading.ipynb": {"bars": 150},
    "03_signal_research.ipynb": {"days": 1, "history_days": 20},
    "04_backtest_report.ipynb": {"start": "2009-01-01", "end": "2010-12-31", "mc_paths": 200},
    "07_write_your_own_strategy.ipynb": {"bars": 600},
}


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_executes(name: str, tmp_path: Path) -> None:
    params = dict(SMALL.get(name, {}))
    if "db" in papermill.inspect_notebook(str(NOTEBOOKS / name)):
        params["db"] = str(tmp_path / "notebook.duckdb")  # never the checkout's database
    out = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(out),
        parameters=params,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOKS.parent),
    )
    assert out.exists()


def test_curated_notebooks_are_committed_without_outputs() -> None:
    import nbformat

    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert nb.cells[0].cell_type == "markdown", (
            f"{path.name}: first cell must say what it shows"
        )
        dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("outputs")]
        assert not dirty, f"{path.name}: clear the outputs of cells {dirty} before committing"
