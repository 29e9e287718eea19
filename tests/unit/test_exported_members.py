"""Every name in a public ``__all__`` exists (httpx-style guard against stale exports)."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import tradekit

MODULES = sorted(
    m.name
    for m in pkgutil.walk_packages(tradekit.__path__, "tradekit.")
    if not m.name.split(".")[-1].startswith("_")
)


@pytest.mark.parametrize("name", MODULES)
def test_all_names_exist(name: str) -> None:
    module = importlib.import_module(name)
    for attr in getattr(module, "__all__", []):
        assert hasattr(module, attr), f"{name}.__all__ lists missing {attr!r}"


def test_research_names_are_exported_lazily() -> None:
    """``tradekit.backtest`` and the strategy names resolve from the package root, and a
    plain ``import tradekit`` does not pull in the engine (numba kernels, pandas layers)."""
    import subprocess
    import sys

    code = "import sys, tradekit; print('tradekit.runtime.kernel' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
    from tradekit.runtime.backtest import BacktestResult, backtest
    from tradekit.strategy import ConfluenceStrategy, SmaCross, Strategy

    assert tradekit.backtest is backtest and tradekit.BacktestResult is BacktestResult
    assert (tradekit.Strategy, tradekit.SmaCross) == (Strategy, SmaCross)
    assert tradekit.ConfluenceStrategy is ConfluenceStrategy
    assert {"backtest", "BacktestResult", "SmaCross"} <= set(dir(tradekit))
    with pytest.raises(AttributeError):
        _ = tradekit.no_such_name  # type: ignore[attr-defined]
