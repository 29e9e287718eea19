"""The kernel warm-up: no kernel is compiled or loaded inside a bar once it ran (issue #13,
points 6 and 14), and a cold cache is announced with progress."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tradekit.runtime import warmup

_PROBE = textwrap.dedent(
    """
    import sys
    import numba
    from numba.core.registry import CPUDispatcher
    import tradekit
    from tradekit.runtime.warmup import warm_kernels

    def dispatchers():
        out = {}
        for name, mod in list(sys.modules.items()):
            if not name.startswith("tradekit"):
                continue
            for attr, obj in list(vars(mod).items()):
                if isinstance(obj, CPUDispatcher):
                    out[f"{name}.{attr}"] = obj
        return out

    if sys.argv[1] == "warm":
        warm_kernels()
    from tradekit.config import AlgorithmConfig
    from tradekit.data import datasets
    from tradekit.data.market import MarketDataService
    from tradekit.runtime.backtest import run_backtest

    h = datasets.synthetic_intraday("SPY", start="2023-02-27", days=30, seed=11)
    m = MarketDataService.with_synthetic_chains(
        {"SPY": h}, vix=datasets.synthetic_vix(h, per="day"), seed=11
    )
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    before = {k: len(d.signatures) for k, d in dispatchers().items()}
    res = run_backtest(h.iloc[-3 * 390 :], cfg, market=m, quotes=m.chain_provider)
    after = {k: len(d.signatures) for k, d in dispatchers().items()}
    grew = sorted(k for k, n in after.items() if n > before.get(k, 0))
    print("DECISIONS", len(res.decisions))
    print("GREW", ",".join(grew))
    """
)


def _probe(mode: str, tmp_path: Path) -> tuple[int, list[str]]:
    script = tmp_path / "probe.py"
    script.write_text(_PROBE)
    done = subprocess.run([sys.executable, str(script), mode], capture_output=True, text=True,
                          timeout=600, check=True)  # fmt: skip
    lines = dict(ln.split(" ", 1) for ln in done.stdout.splitlines() if " " in ln)
    grew = [g for g in lines.get("GREW", "").split(",") if g]
    return int(lines["DECISIONS"]), grew


def test_after_the_warm_up_no_kernel_is_compiled_inside_a_bar(tmp_path: Path) -> None:
    """Without the warm-up, the replay's first bars compile (or load) kernels, and the first
    decision's ``processing_time_us`` reported that (1.3 s on a cold cache)."""
    n_cold, grew_cold = _probe("cold", tmp_path)
    n_warm, grew_warm = _probe("warm", tmp_path)
    assert n_cold == n_warm > 0
    assert grew_cold, "the probe must see kernels load inside the replay without a warm-up"
    assert grew_warm == [], grew_warm


def test_a_cold_cache_is_announced_with_progress(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path))  # an empty cache: "cold"
    assert warmup.cache_is_cold()
    monkeypatch.setattr(warmup, "_done", False)
    lines: list[str] = []
    warmup.warm_kernels(progress=lines.append)
    assert lines[0].startswith("compiling kernels, once per machine")
    assert [ln.split("]")[0].strip() for ln in lines[1:]] == [
        f"[{i}/{len(warmup.GROUPS)}" for i in range(1, len(warmup.GROUPS) + 1)
    ]
    assert all(g in "".join(lines) for g in warmup.GROUPS)


def test_a_warm_cache_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)
    warmup.warm_kernels()
    if warmup.cache_is_cold():
        pytest.skip("no on-disk cache in this environment")
    monkeypatch.setattr(warmup, "_done", False)
    lines: list[str] = []
    warmup.warm_kernels(progress=lines.append)
    assert not [ln for ln in lines if "compiling" in ln]
