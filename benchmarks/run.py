"""Run every ``benchmarks/bench_*.py`` script and print one combined table.

Each script exposes ``main() -> list[dict]``, one dict per measured figure (typically ``name``,
``value``, ``unit``, ``target``, ``ratio``); the columns of the combined table are the union of
the keys. Usage::

    python benchmarks/run.py            # all
    python benchmarks/run.py signals    # only bench_signals.py
"""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def _load(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:,.4g}" if abs(v) < 1e5 else f"{v:,.0f}"
    return "" if v is None else str(v)


def main(argv: list[str]) -> int:
    wanted = set(argv)
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [p for p in scripts if p.stem.removeprefix("bench_") in wanted]
    rows: list[dict[str, Any]] = []
    for path in scripts:
        t0 = time.perf_counter()
        try:
            result = _load(path).main()
        except Exception as exc:  # report and go on: one broken bench must not hide the others
            rows.append({"suite": path.stem, "name": "ERROR", "note": repr(exc)})
            continue
        for row in result or []:
            rows.append({"suite": path.stem.removeprefix("bench_"), **row})
        print(f"[{path.stem}] done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    cols: list[str] = []
    for r in rows:  # scripts may use their own keys; keep them all, in first-seen order
        cols.extend(k for k in r if k not in cols)
    table = [[_fmt(r.get(c)) for c in cols] for r in rows]
    widths = [
        max(len(c), *(len(t[i]) for t in table)) if table else len(c) for i, c in enumerate(cols)
    ]
    print("  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for t in table:
        print("  ".join(x.ljust(w) for x, w in zip(t, widths, strict=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
