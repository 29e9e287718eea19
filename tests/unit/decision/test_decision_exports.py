"""Public surface of tradekit.decision and tradekit.risk: __all__ and runnable examples."""

from __future__ import annotations

import doctest
import importlib

import pytest

import tradekit.decision
import tradekit.risk

MODULES = [
    "tradekit.decision.base",
    "tradekit.decision.cooldowns",
    "tradekit.decision.engine",
    "tradekit.decision.event_calendar",
    "tradekit.decision.option_gates",
    "tradekit.decision.scoring",
    "tradekit.risk.engine",
    "tradekit.risk.killswitch",
]


@pytest.mark.parametrize("package", [tradekit.decision, tradekit.risk])
def test_exported_members(package: object) -> None:
    names = package.__all__  # type: ignore[attr-defined]
    assert len(set(names)) == len(names)
    for name in names:
        assert getattr(package, name) is not None, name


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0
