"""Name → class registries for pluggable execution models (STYLE.md §C.5).

A config like ``{"kind": "fixed_bps", "bps": 2}`` (or the pydantic ``SlippageSpec`` /
``CommissionSpec``) is resolved to a model instance through the registry of its family, so TOML
configs and papermill parameters can pick a model by name. Models register themselves with the
:meth:`Registry.register` decorator in their own module; this module imports none of them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from tradekit.errors import ConfigError

__all__ = ["COMMISSION_MODELS", "FILL_MODELS", "SLIPPAGE_MODELS", "Registry"]

T = TypeVar("T")


class Registry(Generic[T]):
    """A small registry of model classes of one family, keyed by ``kind``.

    Examples
    --------
    >>> from tradekit.execution.models import SLIPPAGE_MODELS
    >>> SLIPPAGE_MODELS.create({"kind": "fixed_bps", "bps": 2.0})
    FixedBpsSlippage(bps=2.0)
    """

    def __init__(self, family: str) -> None:
        self.family = family
        self._classes: dict[str, type[T]] = {}
        #: models built from frozen pydantic specs (see :meth:`create`)
        self._built: dict[BaseModel, T] = {}

    def register(self, kind: str) -> Callable[[type[T]], type[T]]:
        """Class decorator: make ``cls`` constructible as ``{"kind": kind, ...}``."""

        def deco(cls: type[T]) -> type[T]:
            if kind in self._classes and self._classes[kind] is not cls:
                raise ValueError(f"{self.family} kind {kind!r} is already registered")
            self._classes[kind] = cls
            return cls

        return deco

    @property
    def kinds(self) -> tuple[str, ...]:
        """Registered kinds, sorted."""
        return tuple(sorted(self._classes))

    def create(self, spec: Mapping[str, Any] | BaseModel) -> T:
        """Build a model from a mapping with ``kind`` or from a pydantic spec.

        A pydantic spec carries every family parameter; only the fields the chosen class declares
        are passed. A plain mapping must name only the class's fields (unknown keys are a
        :class:`~tradekit.errors.ConfigError`, as are invalid values).

        A model built from a frozen (hashable) pydantic spec is an immutable value when its
        class is a frozen dataclass, so it is built once per distinct spec and shared: every
        broker built from the same config reuses it (a kind's class never changes once
        registered, so the shared model cannot go stale).
        """
        if not isinstance(spec, BaseModel) or not spec.model_config.get("frozen"):
            return self._build(spec)
        try:
            model = self._built.get(spec)
        except TypeError:  # a field holds an unhashable value
            return self._build(spec)
        if model is None:
            model = self._build(spec)
            params = getattr(type(model), "__dataclass_params__", None)
            if params is not None and params.frozen:
                if len(self._built) >= 256:
                    self._built.clear()
                self._built[spec] = model
        return model

    def _build(self, spec: Mapping[str, Any] | BaseModel) -> T:
        strict = not isinstance(spec, BaseModel)
        data = dict(spec.model_dump() if isinstance(spec, BaseModel) else spec)
        kind = data.pop("kind", None)
        cls = self._classes.get(str(kind))
        if cls is None:
            raise ConfigError(f"unknown {self.family} kind {kind!r}; known: {list(self.kinds)}")
        fields = (
            {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
        )
        unknown = sorted(set(data) - fields)
        if strict and unknown:
            raise ConfigError(f"{self.family} {kind!r} takes {sorted(fields)}, got {unknown}")
        try:
            return cls(**{k: v for k, v in data.items() if k in fields})
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"invalid {self.family} {kind!r}: {exc}") from None


SLIPPAGE_MODELS: Registry[Any] = Registry("slippage")
COMMISSION_MODELS: Registry[Any] = Registry("commission")
FILL_MODELS: Registry[Any] = Registry("fill")
