"""Strategies by name and the configuration their setups need.

* :func:`strategy_config` applies a strategy's ``config_overrides`` to a configuration (the
  gate settings that let a single-signal strategy's setups through, recorded in the config and
  therefore in its hash and version);
* :func:`strategy_from_spec` turns the command line's ``sma:10,50`` into ``SmaCross(10, 50)``.
"""

from __future__ import annotations

from collections.abc import Callable

from tradekit.config import AlgorithmConfig
from tradekit.errors import ConfigError
from tradekit.strategy.base import Strategy
from tradekit.strategy.confluence import ConfluenceStrategy
from tradekit.strategy.sma import SmaCross

__all__ = ["STRATEGIES", "strategy_config", "strategy_from_spec"]


def _sma(args: list[str]) -> Strategy:
    if len(args) != 2:
        raise ConfigError("sma needs two lengths: sma:FAST,SLOW (e.g. sma:10,50)")
    try:
        fast, slow = (int(a) for a in args)
        return SmaCross(fast, slow)
    except ValueError as exc:
        raise ConfigError(f"sma:{','.join(args)}: {exc}") from None


def _confluence(args: list[str]) -> Strategy:
    if args:
        raise ConfigError("confluence takes no parameters")
    return ConfluenceStrategy()


#: Built-in strategies by spec name: ``name`` or ``name:arg,arg``.
STRATEGIES: dict[str, Callable[[list[str]], Strategy]] = {
    "confluence": _confluence,
    "sma": _sma,
}


def strategy_from_spec(spec: str) -> Strategy:
    """A built-in strategy from ``"name[:a,b,...]"``.

    Examples
    --------
    >>> strategy_from_spec("sma:10,50")
    SmaCross(fast=10, slow=50, stop_atr=2.0, atr_period=14, targets_r=(2.0, 3.0, 4.0), short=False, confidence=7.0)
    """
    name, _, rest = spec.strip().partition(":")
    make = STRATEGIES.get(name.lower())
    if make is None:
        raise ConfigError(f"unknown strategy {name!r}; known: {sorted(STRATEGIES)}")
    return make([a.strip() for a in rest.split(",")] if rest.strip() else [])


def strategy_config(strategy: Strategy | None, config: AlgorithmConfig) -> AlgorithmConfig:
    """``config`` with ``strategy.config_overrides(config)`` applied (unchanged without them).

    Examples
    --------
    >>> cfg = strategy_config(SmaCross(10, 50), AlgorithmConfig())
    >>> cfg.decision.kind_families, cfg.decision.min_roles
    ({'SMA_CROSS': 'structure'}, 1)
    """
    hook = getattr(strategy, "config_overrides", None)
    if hook is None:
        return config
    overrides = hook(config)
    return config.with_overrides(dict(overrides)) if overrides else config
