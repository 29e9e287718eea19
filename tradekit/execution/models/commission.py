"""Commission models: currency charged per fill, on buys **and** sells (STYLE.md §C).

Contract: ``cost(qty, price, multiplier=1.0) -> float`` is pure, returns currency ≥ 0 for
``qty`` units (shares or contracts) filled at ``price`` (per share / per contract-point; the
traded value is ``qty × |price| × multiplier``). The broker calls it for every fill whatever the
side — the origin system charged only buys.

Each model has a numba twin (:func:`tradekit.execution.nb.commission_nb`) selected by
:meth:`nb_args`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pydantic import BaseModel

from tradekit.errors import ConfigError
from tradekit.execution import nb
from tradekit.execution.models.registry import COMMISSION_MODELS

__all__ = [
    "CommissionModel",
    "FixedPlusPercentCommission",
    "FunctionCommission",
    "NoCommission",
    "PerContractCommission",
    "PerShareCommission",
    "PercentCommission",
    "as_commission",
]


@runtime_checkable
class CommissionModel(Protocol):
    """Anything with a pure ``cost`` method."""

    def cost(self, qty: float, price: float, multiplier: float = 1.0) -> float:
        """Commission in currency for ``qty`` units at ``price``."""
        ...


def _check_money(name: str, value: float, upper: float = math.inf) -> None:
    if not math.isfinite(value) or value < 0.0 or value > upper:
        raise ValueError(f"{name} must be finite and in [0, {upper}], got {value!r}")


@COMMISSION_MODELS.register("none")
@dataclass(frozen=True, slots=True)
class NoCommission:
    """Free trading."""

    def cost(self, qty: float, price: float, multiplier: float = 1.0) -> float:
        return 0.0

    def nb_args(self) -> tuple[int, float, float, float, float]:
        """``(kind, rate, percent, fixed, minimum)`` for :func:`~tradekit.execution.nb.commission_nb`."""
        return nb.COMM_NONE, 0.0, 0.0, 0.0, 0.0


@COMMISSION_MODELS.register("per_share")
@dataclass(frozen=True, slots=True)
class PerShareCommission:
    """``per_share`` currency per share, at least ``minimum`` per fill."""

    per_share: float = 0.005
    minimum: float = 0.0

    def __post_init__(self) -> None:
        _check_money("per_share", self.per_share)
        _check_money("minimum", self.minimum)

    def cost(self, qty: float, price: float, multiplier: float = 1.0) -> float:
        if not qty > 0:
            return 0.0
        cost, floor = self.per_share * qty, self.minimum
        return floor if floor > cost else cost  # max(cost, floor) without the call

    def nb_args(self) -> tuple[int, float, float, float, float]:
        return nb.COMM_PER_SHARE, self.per_share, 0.0, 0.0, self.minimum


@COMMISSION_MODELS.register("per_contract")
@dataclass(frozen=True, slots=True)
class PerContractCommission:
    """``per_contract`` currency per option contract, at least ``minimum`` per fill."""

    per_contract: float = 0.65
    minimum: float = 0.0

    def __post_init__(self) -> None:
        _check_money("per_contract", self.per_contract)
        _check_money("minimum", self.minimum)

    def cost(self, qty: float, price: float, multiplier: float = 1.0) -> float:
        if not qty > 0:
            return 0.0
        cost, floor = self.per_contract * qty, self.minimum
        return floor if floor > cost else cost  # max(cost, floor) without the call

    def nb_args(self) -> tuple[int, float, float, float, float]:
        return nb.COMM_PER_CONTRACT, self.per_contract, 0.0, 0.0, self.minimum


@COMMISSION_MODELS.register("percent")
@dataclass(frozen=True, slots=True)
class PercentCommission:
    """``percent`` (a fraction: 0.001 = 10 bps) of traded value, at least ``minimum``."""

    percent: float = 0.001
    minimum: float = 0.0

    def __post_init__(self) -> None:
        _check_money("percent", self.percent, 0.05)
        _check_money("minimum", self.minimum)

    def cost(self, qty: float, price: float, multiplier: float = 1.0) -> float:
        if qty <= 0:
            return 0.0
        return max(self.percent * qty * abs(price) * multiplier, self.minimum)

    def nb_args(self) -> tuple[int, float, float, float, float]:
        return nb.COMM_PERCENT, 0.0, self.percent, 0.0, self.minimum


@COMMISSION_MODELS.register("fixed_plus_percent")
@dataclass(frozen=True, slots=True)
class FixedPlusPercentCommission:
    """``fixed`` currency per fill plus ``percent`` of traded value, at least ``minimum``."""

    fixed: float = 1.0
    percent: float = 0.0
    minimum: float = 0.0

    def __post_init__(self) -> None:
        _check_money("fixed", self.fixed)
        _check_money("percent", self.percent, 0.05)
        _check_money("minimum", self.minimum)

    def cost(self, qty: float, price: float, multiplier: float = 1.0) -> float:
        if qty <= 0:
            return 0.0
        return max(self.fixed + self.percent * qty * abs(price) * multiplier, self.minimum)

    def nb_args(self) -> tuple[int, float, float, float, float]:
        return nb.COMM_FIXED_PLUS_PERCENT, 0.0, self.percent, self.fixed, self.minimum


@dataclass(frozen=True, slots=True)
class FunctionCommission:
    """Wrap a callable ``fn(qty, price, multiplier) -> cost``; negative results are refused."""

    fn: Callable[[float, float, float], float]

    def cost(self, qty: float, price: float, multiplier: float = 1.0) -> float:
        c = float(self.fn(qty, price, multiplier))
        if not math.isfinite(c) or c < 0.0:
            raise ValueError(f"commission function returned {c!r}; must be finite and >= 0")
        return c


def as_commission(x: Any) -> CommissionModel:
    """Coerce shorthand to a commission model (backtesting.py style).

    ``None``/``0`` → none; a number → percent of value; ``(fixed, percent)`` → fixed + percent;
    a mapping with ``kind`` or a ``CommissionSpec`` → the registry; a model → itself; a callable
    → :class:`FunctionCommission`.

    Examples
    --------
    >>> as_commission(0.001)
    PercentCommission(percent=0.001, minimum=0.0)
    >>> as_commission((1.0, 0.0005))
    FixedPlusPercentCommission(fixed=1.0, percent=0.0005, minimum=0.0)
    """
    try:
        if x is None or (isinstance(x, (int, float)) and not isinstance(x, bool) and x == 0):
            return NoCommission()
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            return PercentCommission(float(x))
        if isinstance(x, tuple) and len(x) == 2:
            return FixedPlusPercentCommission(float(x[0]), float(x[1]))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    if isinstance(x, (Mapping, BaseModel)):
        model: CommissionModel = COMMISSION_MODELS.create(x)
        return model
    if hasattr(x, "cost"):
        return x
    if callable(x):
        return FunctionCommission(x)
    raise ConfigError(f"cannot interpret {x!r} as a commission model")
