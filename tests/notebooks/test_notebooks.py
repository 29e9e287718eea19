"""Every curated notebook executes top to bottom through papermill (with small parameters)."""

from __future__ import annotations

from pathlib import Path

import pytest

papermill = pytest.importorskip("papermill")

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
SMALL = {"01_quickstart.ipynb": {"bars": 400}}


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_notebook_executes(name: str, tmp_path: Path) -> None:
    out = tmp_path / name
    papermill.execute_notebook(
        str(NOTEBOOKS / name),
        str(out),
        parameters=SMALL.get(name, {}),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(NOTEBOOKS.parent),
    )
    assert out.exists()
