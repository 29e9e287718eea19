"""Every ```python block of README.md runs (the README's examples are a promise)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_opens_with_the_two_commands() -> None:
    lines = [ln for ln in README.read_text().splitlines() if ln.strip()]
    assert lines[0] == "```bash"
    assert lines[1].startswith("make run") and lines[2].startswith("make test")


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_python_block_runs(index: int) -> None:
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {})
