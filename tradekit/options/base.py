"""Option chain records and the provider protocol (what a chain *is*, not where it comes from).

:class:`OptionChain` is a struct of NumPy arrays, one row per listed contract, with its quote
(bid, ask, mid), model price (``theo``), implied vol and Greeks, volume and open interest.
Units: ``t`` in years (ACT/365, to the expiry session's close), ``dte`` in calendar days from
the New York trading date, ``theta`` per calendar day and ``vega`` per vol point (the trader's
units; the kernels' per-year/per-1.00 values are ``365 * theta`` and ``100 * vega``), Greeks
per share. :class:`ChainProvider` is the one-method protocol a real chain source implements;
the synthetic one lives in :mod:`tradekit.options.chain`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.core.enums import Right
from tradekit.core.events import OptionContract
from tradekit.errors import DataError
from tradekit.execution.base import Quote

__all__ = [
    "CHAIN_COLUMNS",
    "ChainProvider",
    "ChainReach",
    "OptionChain",
    "accepts_keyword",
    "accepts_max_dte",
    "right_code",
]

#: The per-row arrays of an :class:`OptionChain`, in order.
CHAIN_COLUMNS = (
    "expiry", "dte", "t", "strike", "right", "bid", "ask", "mid", "theo", "iv",
    "delta", "gamma", "theta", "vega", "volume", "open_interest",
)  # fmt: skip
_ARRAYS = CHAIN_COLUMNS


@dataclass(frozen=True, eq=False)
class OptionChain:
    """One underlying's listed options at ``ts_ns``: parallel arrays, one row per contract.

    Attributes
    ----------
    expiry : datetime64[D] array
    dte : int64 array (calendar days from the New York trading date of ``ts_ns``)
    t : float64 array (years to the expiry session's close, ACT/365)
    strike : float64 array
    right : int8 array (+1 call, -1 put)
    bid, ask, mid, theo : float64 arrays (per share; ``theo`` = model price)
    iv : float64 array (implied vol of ``theo``; decimal)
    delta, gamma : per share, per $1 of underlying
    theta : per share per calendar day
    vega : per share per vol point (0.01)
    volume, open_interest : float64 arrays (contracts)
    """

    underlying: str
    spot: float
    ts_ns: int
    expiry: np.ndarray
    dte: IntArray
    t: FloatArray
    strike: FloatArray
    right: np.ndarray
    bid: FloatArray
    ask: FloatArray
    mid: FloatArray
    theo: FloatArray
    iv: FloatArray
    delta: FloatArray
    gamma: FloatArray
    theta: FloatArray
    vega: FloatArray
    volume: FloatArray
    open_interest: FloatArray
    r: float = 0.0
    q: float = 0.0
    multiplier: float = 100.0
    _index: dict[tuple[int, int, int], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        n = len(self.strike)
        bad = [a for a in _ARRAYS if len(getattr(self, a)) != n]
        if bad:
            raise DataError(f"OptionChain arrays differ in length from strike ({n}): {bad}")
        if n and not ((self.right == 1) | (self.right == -1)).all():
            raise DataError("OptionChain.right must be +1 (call) or -1 (put)", rule="right")

    def __len__(self) -> int:
        return len(self.strike)

    def __repr__(self) -> str:
        when = pd.Timestamp(self.ts_ns, tz="UTC")
        return (
            f"OptionChain({self.underlying} @ {when}, spot={self.spot:.2f}, "
            f"{len(self)} contracts, {len(self.expiries())} expiries)"
        )

    # ---------------------------------------------------------------- derived columns
    @property
    def spread_pct(self) -> FloatArray:
        """``(ask - bid) / mid``; ``inf`` where the mid is 0."""
        with np.errstate(divide="ignore", invalid="ignore"):
            out = (self.ask - self.bid) / self.mid
        return np.where(self.mid > 0, out, np.inf)

    @property
    def liquidity(self) -> FloatArray:
        """``0.4 * volume + 0.6 * open_interest`` (DECISIONS.md gate 2.5)."""
        return 0.4 * self.volume + 0.6 * self.open_interest

    def expiries(self) -> np.ndarray:
        """Sorted unique expiry dates (datetime64[D])."""
        return np.unique(self.expiry)

    # ---------------------------------------------------------------- selection
    def take(self, rows: Any) -> OptionChain:
        """A chain of the given rows (boolean mask or integer positions)."""
        kw = {a: getattr(self, a)[rows] for a in _ARRAYS}
        return OptionChain(
            underlying=self.underlying,
            spot=self.spot,
            ts_ns=self.ts_ns,
            r=self.r,
            q=self.q,
            multiplier=self.multiplier,
            **kw,
        )

    def filter(
        self,
        *,
        right: int | str | Right | None = None,
        expiry: dt.date | np.datetime64 | None = None,
        dte_min: int | None = None,
        dte_max: int | None = None,
        abs_delta_min: float | None = None,
        abs_delta_max: float | None = None,
        min_open_interest: float | None = None,
        min_volume: float | None = None,
        min_liquidity: float | None = None,
        max_spread_pct: float | None = None,
        min_bid: float | None = None,
        max_ask: float | None = None,
    ) -> OptionChain:
        """Rows satisfying every given criterion (bounds inclusive); None = no constraint.
        ``max_ask`` is per share (the price a buyer pays before the multiplier)."""
        m = np.ones(len(self), dtype=bool)
        if right is not None:
            m &= self.right == right_code(right)
        if expiry is not None:
            m &= self.expiry == np.asarray(expiry, dtype="datetime64[D]")
        if dte_min is not None:
            m &= self.dte >= dte_min
        if dte_max is not None:
            m &= self.dte <= dte_max
        ad = np.abs(self.delta)
        if abs_delta_min is not None:
            m &= ad >= abs_delta_min
        if abs_delta_max is not None:
            m &= ad <= abs_delta_max
        if min_open_interest is not None:
            m &= self.open_interest >= min_open_interest
        if min_volume is not None:
            m &= self.volume >= min_volume
        if min_liquidity is not None:
            m &= self.liquidity >= min_liquidity
        if max_spread_pct is not None:
            m &= self.spread_pct <= max_spread_pct
        if min_bid is not None:
            m &= self.bid >= min_bid
        if max_ask is not None:
            m &= self.ask <= max_ask
        return self if m.all() else self.take(m)  # a chain is immutable: no copy needed

    # ---------------------------------------------------------------- contracts and quotes
    def contract(self, i: int) -> OptionContract:
        """The :class:`OptionContract` of row ``i``."""
        return OptionContract(
            underlying=self.underlying,
            expiry=self.expiry[i].astype(dt.date),
            strike=float(self.strike[i]),
            right=Right.CALL if self.right[i] > 0 else Right.PUT,
            multiplier=self.multiplier,
        )

    def index_of(self, contract: OptionContract) -> int | None:
        """Row of ``contract`` in this chain, or None when it is not listed here."""
        if contract.underlying != self.underlying:
            return None
        key = (
            int(np.datetime64(contract.expiry, "D").astype(np.int64)),
            round(contract.strike * 1000),
            right_code(contract.right),
        )
        hit = self._index.get(key)
        if hit is None:  # a vectorised scan per new contract: a chain is asked a few times only
            rows = np.flatnonzero(
                (self.expiry.astype(np.int64) == key[0])
                & (np.round(self.strike * 1000).astype(np.int64) == key[1])
                & (self.right == key[2])
            )
            hit = int(rows[0]) if rows.size else -1
            self._index[key] = hit
        return hit if hit >= 0 else None

    def quote(self, contract: OptionContract) -> Quote | None:
        """``Quote(bid, ask, spot)`` of ``contract`` in this chain, None if not listed."""
        i = self.index_of(contract)
        if i is None:
            return None
        return Quote(float(self.bid[i]), float(self.ask[i]), self.spot)

    def to_frame(self) -> pd.DataFrame:
        """A DataFrame, one row per contract (``right`` as ``"C"``/``"P"``, ``expiry`` as
        datetime64); ``attrs`` carry underlying, spot and the UTC timestamp."""
        data = {a: getattr(self, a) for a in _ARRAYS}
        data["expiry"] = self.expiry.astype("datetime64[ns]")
        data["right"] = np.where(self.right > 0, "C", "P")
        df = pd.DataFrame(data)
        df["spread_pct"] = self.spread_pct
        df.attrs.update(
            underlying=self.underlying, spot=self.spot, ts=pd.Timestamp(self.ts_ns, tz="UTC")
        )
        return df


def right_code(right: int | str | Right) -> int:
    """+1 for a call, -1 for a put, from ``Right``, ``"C"``/``"P"``/``"call"``/``"put"`` or +-1."""
    if isinstance(right, Right):
        return 1 if right is Right.CALL else -1
    if isinstance(right, str):
        text = right.strip().upper()
        if text in ("C", "CALL"):
            return 1
        if text in ("P", "PUT"):
            return -1
        raise ValueError(f"unknown option right {right!r}")
    if right in (1, -1):
        return int(right)
    raise ValueError(f"option right must be +1/-1, 'C'/'P' or Right, got {right!r}")


@dataclass(frozen=True, slots=True)
class ChainReach:
    """The rows a strike selection can reach: expiries with ``dte_min <= dte <= dte_max``
    (calendar days), of one ``right`` (+1 calls, -1 puts; None both), with
    ``abs_delta_min <= |delta| <= abs_delta_max`` (None: any delta).

    A chain source that takes ``reach=`` may list only those rows: the same contracts at the
    same prices, in the same order, as the whole chain filtered by the same rules, so a
    selection that applies these filters itself picks the same contract from either. A
    source that does not take it returns the whole chain.
    """

    dte_min: int = 0
    dte_max: int | None = None
    right: int | None = None
    abs_delta_min: float | None = None
    abs_delta_max: float | None = None

    def __post_init__(self) -> None:
        if self.right not in (None, 1, -1):
            raise ValueError(f"ChainReach.right must be +1, -1 or None, got {self.right!r}")
        if (self.abs_delta_min is None) != (self.abs_delta_max is None):
            raise ValueError("ChainReach needs both delta bounds or neither")

    def delta_band(self) -> tuple[float, float]:
        """``(lo, hi)`` of ``|delta|``; ``(-inf, inf)`` without a band."""
        if self.abs_delta_min is None or self.abs_delta_max is None:
            return -math.inf, math.inf
        return float(self.abs_delta_min), float(self.abs_delta_max)


def accepts_keyword(fn: Any, name: str) -> bool:
    """Whether ``fn`` (a ``chain`` or ``option_chain`` method) takes the keyword ``name``
    (``max_dte``, ``reach``): the optional ways to ask a source for the reachable rows only.
    Checked once per source, not per call."""
    import inspect

    try:
        return fn is not None and name in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def accepts_max_dte(fn: Any) -> bool:
    """Whether ``fn`` takes ``max_dte=`` (see :func:`accepts_keyword`)."""
    return accepts_keyword(fn, "max_dte")


@runtime_checkable
class ChainProvider(Protocol):
    """Anything that can produce the option chain of an underlying at a time."""

    def chain(self, underlying: str, ts_ns: int) -> OptionChain:
        """The chain known at ``ts_ns`` (no later information); raises DataError if none."""
        ...
