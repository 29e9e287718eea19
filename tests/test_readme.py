"""Every ```python block of README.md runs (the README's examples are a promise)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_opens_with_a_title_a_description_and_the_two_commands() -> None:
    lines = [ln for ln in README.read_text().splitlines() if ln.strip()]
    assert lines[0].startswith("# ") and len(lines[0]) > 2  # the title
    assert not lines[1].startswith(("#", "```")) and len(lines[1]) > 20  # one description line
    assert lines[2] == "```bash"
    assert lines[3].startswith("make run") and lines[4].startswith("make test")


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_python_block_runs(index: int) -> None:
    exec(compile(BLOCKS[index], f"README.md[python block {index}]", "exec"), {})
