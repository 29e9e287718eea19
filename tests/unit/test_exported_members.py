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
