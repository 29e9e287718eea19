"""Option chains: a synthetic, arbitrage-free chain generator that also serves quotes to the
paper broker. :class:`OptionChain` and :class:`ChainProvider` (defined in
:mod:`tradekit.options.base`, units documented there) are re-exported here.

The synthetic generator (:func:`generate_chain`, :class:`SyntheticChainProvider`):

* expiries from :func:`tradekit.options.calendar.expiry_set` (dailies/weeklies/monthlies/
  quarterlies/LEAPS on the XNYS calendar);
* strikes on a grid by price level (SPY/QQQ $1, SPX $5, stocks by price band), coarser (x5)
  beyond 10 % from spot, out to +-3.5 standard deviations (at least +-5 %);
* vols from an SSVI surface (:mod:`tradekit.options.surface`) driven by ``atm_vol``, so the
  model prices have no static arbitrage (monotone, convex in strike; calendar-consistent);
* bid/ask = model price -/+ a half-spread (half a small tick + 0.4 % of the price, widening
  away from the money; 1 % for single stocks), rounded outward to the tick: $0.01 below $3.00
  and $0.05 from $3.00 (SPX/NDX: $0.05 / $0.10);
* open interest and volume that fall away from the money and with expiry distance, favour
  round strikes and monthlies, with deterministic per-contract noise (a hash of seed,
  underlying, expiry, strike, right), so the same contract gets the same size all day.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.core.events import OptionContract
from tradekit.errors import DataError
from tradekit.execution.base import Quote
from tradekit.options import nb
from tradekit.options.base import ChainProvider, OptionChain, right_code
from tradekit.options.calendar import expiry_set, is_index_like
from tradekit.options.surface import SSVIParams, SSVISurface

__all__ = [
    "ChainProvider",
    "OptionChain",
    "SyntheticChainProvider",
    "generate_chain",
    "strike_grid",
    "tick_sizes",
]

_NS_PER_YEAR = 365 * 86_400 * 10**9
_NY = "America/New_York"
_BASE_OI = {"SPY": 30_000.0, "SPX": 8_000.0, "SPXW": 8_000.0, "QQQ": 20_000.0, "IWM": 10_000.0}
_KIND_OI = np.array([0.35, 0.5, 0.8, 1.0])  # by ExpiryKind code


# -------------------------------------------------------------------- grids and rules
def tick_sizes(underlying: str) -> tuple[float, float]:
    """``(tick below $3.00, tick from $3.00)``: SPX/NDX $0.05/$0.10, others $0.01/$0.05."""
    return (0.05, 0.10) if underlying.upper() in ("SPX", "SPXW", "NDX") else (0.01, 0.05)


def _strike_increment(underlying: str, spot: float) -> float:
    u = underlying.upper()
    if u in ("SPX", "SPXW", "NDX"):
        return 5.0
    if is_index_like(u):
        return 1.0
    for limit, inc in ((25.0, 0.5), (100.0, 1.0), (250.0, 2.5)):
        if spot < limit:
            return inc
    return 5.0


def strike_grid(underlying: str, spot: float, t: float, atm_vol: float) -> FloatArray:
    """Listed strikes for one expiry: the fine grid within 10 % of spot, x5 coarser beyond,
    spanning ``spot * exp(+-max(3.5 sd, 5 %))`` (clipped to 30 %-250 % of spot)."""
    inc = _strike_increment(underlying, spot)
    width = max(3.5 * atm_vol * np.sqrt(max(t, 1.0 / 365)), 0.05)
    lo, hi = max(spot * np.exp(-width), 0.3 * spot), min(spot * np.exp(width), 2.5 * spot)
    near_lo, near_hi = max(lo, 0.9 * spot), min(hi, 1.1 * spot)
    fine = np.arange(np.ceil(near_lo / inc), np.floor(near_hi / inc) + 1) * inc
    big = 5 * inc
    low = np.arange(np.ceil(lo / big), np.ceil(near_lo / big)) * big
    high = np.arange(np.floor(near_hi / big) + 1, np.floor(hi / big) + 1) * big
    grid = np.concatenate([low[low < near_lo], fine, high[high > near_hi]])
    return grid[grid > 0]


def _hash_uniform(seed: int, *cols: IntArray) -> FloatArray:
    """Deterministic uniforms in [0, 1) from integer columns (splitmix64 finaliser, in
    :func:`tradekit.options.nb.hash_uniform_nb`)."""
    stacked = np.empty((len(cols), len(cols[0])), dtype=np.int64)
    for j, c in enumerate(cols):
        stacked[j] = c
    out = np.empty(len(cols[0]))
    nb.hash_uniform_nb(np.uint64(seed & 0xFFFFFFFFFFFFFFFF), stacked, out)
    return out


# -------------------------------------------------------------------- pricing of rows
@dataclass(frozen=True)
class _Market:
    underlying: str
    ts_ns: int
    spot: float
    surface: SSVISurface
    r: float
    q: float
    seed: int


def _price_rows(
    m: _Market,
    exp_days: IntArray,
    close_ns: IntArray,
    kind: np.ndarray,
    strike: FloatArray,
    right: np.ndarray,
    trade_day: int,
) -> dict[str, Any]:
    """Model price, quote, Greeks and sizes of the given rows (the one pricing path that
    both the chain and single-contract quotes use, so they always agree)."""
    t = (close_ns - m.ts_ns) / _NS_PER_YEAR
    fwd = m.spot * np.exp((m.r - m.q) * t)
    k = np.log(strike / fwd)
    iv = np.asarray(m.surface.vol(k, t), dtype=np.float64)
    cp = right.astype(np.float64)
    n = len(strike)
    g = np.empty((7, n))
    nb.bsm_1d_nb(np.array([m.spot]), strike, t, np.array([m.r]), np.array([m.q]), iv, cp, *g)
    theo = np.maximum(g[0], 0.0)
    sd = np.abs(k) / np.maximum(iv * np.sqrt(t), 1e-9)  # distance from ATM in sds
    bid, ask = _quote(m.underlying, theo, np.minimum(sd, 5.0))
    dte = exp_days - trade_day
    oi, vol = _sizes(m, exp_days, strike, right, kind, sd, t, dte)
    return dict(
        expiry=exp_days.astype("datetime64[D]"),
        dte=dte.astype(np.int64),
        t=t,
        strike=strike,
        right=right.astype(np.int8),
        bid=bid,
        ask=ask,
        mid=0.5 * (bid + ask),
        theo=theo,
        iv=iv,
        delta=g[1],
        gamma=g[2],
        theta=g[4] / 365.0,
        vega=g[3] * 0.01,
        volume=vol,
        open_interest=oi,
    )


def _quote(underlying: str, theo: FloatArray, sd: FloatArray) -> tuple[FloatArray, FloatArray]:
    small, large = tick_sizes(underlying)
    pct = 0.004 if is_index_like(underlying) else 0.01
    half = 0.5 * small + pct * theo * (1.0 + 0.5 * sd)
    raw_b, raw_a = theo - half, theo + half
    tb = np.where(raw_b < 3.0, small, large)
    bid = np.maximum(np.floor(raw_b / tb + 1e-9) * tb, 0.0)
    ask_small = np.ceil(raw_a / small - 1e-9) * small
    ask = np.where(ask_small <= 3.0, ask_small, np.ceil(raw_a / large - 1e-9) * large)
    ask = np.maximum(ask, bid + np.where(bid < 3.0, small, large))
    return np.round(bid, 2), np.round(ask, 2)


def _sizes(
    m: _Market,
    exp_days: IntArray,
    strike: FloatArray,
    right: np.ndarray,
    kind: np.ndarray,
    sd: FloatArray,
    t: FloatArray,
    dte: IntArray,
) -> tuple[FloatArray, FloatArray]:
    base = _BASE_OI.get(m.underlying.upper(), 3_000.0)
    inc = _strike_increment(m.underlying, m.spot)
    cents = np.round(strike * 100).astype(np.int64)
    round_bonus = 1.0 + 0.6 * (cents % round(500 * inc) == 0)
    u1 = _hash_uniform(m.seed, exp_days, cents, right.astype(np.int64))
    u2 = _hash_uniform(m.seed + 1, exp_days, cents, right.astype(np.int64))
    oi = (
        base
        * _KIND_OI[kind]
        * np.exp(-0.5 * (sd / 1.3) ** 2)
        * round_bonus
        * np.exp(0.8 * (u1 - 0.5))
        / (1.0 + t)
    )
    turnover = 0.04 + 0.7 * np.exp(-np.maximum(dte, 0) / 3.0)
    vol = oi * turnover * np.exp(-0.5 * (sd / 1.0) ** 2) * np.exp(0.8 * (u2 - 0.5))
    return np.floor(oi), np.floor(vol)


def _seed(seed: int, underlying: str) -> int:
    return (seed * 1_000_003) ^ zlib.crc32(underlying.upper().encode())


@lru_cache(maxsize=4096)
def _trade_day(ts_ns: int) -> dt.date:
    """The New York calendar date at ``ts_ns`` (memoised: marks ask it for every bar)."""
    return pd.Timestamp(ts_ns, tz="UTC").tz_convert(_NY).date()


@lru_cache(maxsize=256)
def _vix_surface(vol: float) -> SSVISurface:
    """The SSVI surface of a 30-day ATM vol level (decimal); surfaces are immutable."""
    return SSVISurface(SSVIParams.from_vix(100 * vol))


def generate_chain(
    underlying: str,
    ts_ns: int,
    spot: float,
    atm_vol: float,
    *,
    r: float = 0.04,
    q: float = 0.013,
    rng_seed: int = 0,
    max_dte: int | None = None,
    surface: SSVISurface | None = None,
) -> OptionChain:
    """A synthetic chain of ``underlying`` at ``ts_ns`` (see the module docstring).

    Parameters
    ----------
    underlying:
        Symbol; SPX/SPY/QQQ-like symbols get index listings, others stock listings.
    ts_ns:
        Time (int ns UTC). Expiries whose close is at or before it are not listed.
    spot:
        Underlying price (> 0).
    atm_vol:
        30-day ATM vol level (decimal; VIX/100 for SPX-like). Drives the SSVI surface unless
        ``surface`` is given.
    r, q:
        Risk-free rate and dividend yield (decimals, continuous).
    rng_seed:
        Seed of the deterministic per-contract open-interest/volume noise.
    max_dte:
        Only expiries up to this many calendar days (None = all, LEAPS included).

    Raises
    ------
    DataError
        If ``spot`` or ``atm_vol`` is not positive and finite.
    """
    if not (np.isfinite(spot) and spot > 0):
        raise DataError(f"generate_chain: spot must be > 0, got {spot!r}", rule="spot")
    if not (np.isfinite(atm_vol) and atm_vol > 0):
        raise DataError(f"generate_chain: atm_vol must be > 0, got {atm_vol!r}", rule="vol")
    surf = surface if surface is not None else SSVISurface(SSVIParams.from_vix(100 * atm_vol))
    m = _Market(underlying, int(ts_ns), float(spot), surf, r, q, _seed(rng_seed, underlying))
    day = _trade_day(ts_ns)
    ex = expiry_set(underlying, day)
    day_num = int(np.datetime64(day, "D").astype(np.int64))
    days = ex.dates.astype(np.int64)
    keep = ex.close_ns > ts_ns
    if max_dte is not None:
        keep &= days - day_num <= max_dte
    cols: list[tuple[int, int, int, FloatArray]] = []
    for d, c, kd in zip(days[keep], ex.close_ns[keep], ex.kind[keep], strict=True):
        grid = strike_grid(underlying, spot, (c - ts_ns) / _NS_PER_YEAR, atm_vol)
        cols.append((int(d), int(c), int(kd), grid))
    if cols:
        sizes = [len(g) for *_, g in cols]
        strikes = np.concatenate([g for *_, g in cols])
        exp_days = np.repeat([c[0] for c in cols], sizes).astype(np.int64)
        close = np.repeat([c[1] for c in cols], sizes).astype(np.int64)
        kind = np.repeat([c[2] for c in cols], sizes).astype(np.int64)
    else:
        strikes, exp_days, close, kind = (
            np.empty(0),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
            np.empty(0, np.int64),
        )
    n = len(strikes)
    rows = _price_rows(
        m,
        np.tile(exp_days, 2),
        np.tile(close, 2),
        np.tile(kind, 2),
        np.tile(strikes, 2),
        np.repeat(np.array([1, -1], np.int8), n),
        day_num,
    )
    return OptionChain(underlying=underlying, spot=float(spot), ts_ns=int(ts_ns), r=r, q=q, **rows)


class SyntheticChainProvider:
    """:class:`ChainProvider` and :class:`~tradekit.execution.base.QuoteSource` backed by
    :func:`generate_chain`.

    Parameters
    ----------
    spot_fn:
        ``(underlying, ts_ns) -> spot`` known at ``ts_ns`` (None when unknown), e.g.
        ``MarketDataService.price``.
    vol_fn:
        ``(underlying, ts_ns) -> 30-day ATM vol`` (decimal), or a constant.
    r, q, seed, max_dte:
        As in :func:`generate_chain`.
    cache_size:
        Chains kept (LRU keyed by underlying and exact ``ts_ns``).

    Examples
    --------
    >>> prov = SyntheticChainProvider(lambda sym, ts: 500.0, 0.15)
    >>> ts = 1_718_807_400_000_000_000
    >>> ch = prov.chain("SPY", ts)
    >>> prov.quote(ch.contract(0), ts) == ch.quote(ch.contract(0))
    True
    """

    def __init__(
        self,
        spot_fn: Callable[[str, int], float | None],
        vol_fn: Callable[[str, int], float | None] | float = 0.18,
        *,
        r: float = 0.04,
        q: float = 0.013,
        seed: int = 0,
        max_dte: int | None = None,
        cache_size: int = 32,
    ) -> None:
        self._spot_fn = spot_fn
        self._vol_fn = vol_fn
        self.r, self.q, self.seed, self.max_dte = r, q, seed, max_dte
        self._cache: OrderedDict[tuple[str, int, int | None], OptionChain] = OrderedDict()
        self._cache_size = cache_size
        # rows priced at the latest (underlying, ts, spot, vol): the broker's marks and exit
        # checks of one bar ask for the same contracts; pricing is a pure function of these
        self._rows_at: tuple[str, int, float, float] | None = None
        self._rows: dict[OptionContract, dict[str, float] | None] = {}

    def __repr__(self) -> str:
        return (
            f"SyntheticChainProvider(r={self.r}, q={self.q}, seed={self.seed}, "
            f"max_dte={self.max_dte})"
        )

    def _inputs(self, underlying: str, ts_ns: int) -> tuple[float, float] | None:
        spot = self._spot_fn(underlying, ts_ns)
        vol = self._vol_fn(underlying, ts_ns) if callable(self._vol_fn) else self._vol_fn
        if spot is None or vol is None or not (spot > 0 and vol > 0):
            return None
        return float(spot), float(vol)

    def chain(self, underlying: str, ts_ns: int, *, max_dte: int | None = None) -> OptionChain:
        """The synthetic chain at ``ts_ns``; DataError when spot or vol is unknown.

        ``max_dte`` lists only the expiries up to that many calendar days (within the
        provider's own ``max_dte``). Each listed contract is priced exactly as in the full
        chain (pricing and sizes are per contract), so a selection restricted to those
        expiries picks the same contract from either.
        """
        limit = self.max_dte if max_dte is None else (
            max_dte if self.max_dte is None else min(max_dte, self.max_dte))  # fmt: skip
        key = (underlying, int(ts_ns), limit)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            return hit
        inputs = self._inputs(underlying, ts_ns)
        if inputs is None:
            raise DataError(f"no spot/vol for {underlying} at {pd.Timestamp(ts_ns, tz='UTC')}")
        ch = generate_chain(
            underlying,
            ts_ns,
            inputs[0],
            inputs[1],
            r=self.r,
            q=self.q,
            rng_seed=self.seed,
            max_dte=limit,
        )
        self._cache[key] = ch
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return ch

    def contract_row(self, contract: OptionContract, ts_ns: int) -> dict[str, float] | None:
        """Everything the chain would show for ``contract`` at ``ts_ns``: ``bid``, ``ask``,
        ``mid``, ``theo``, ``iv``, ``delta``, ``gamma``, ``theta`` (per day), ``vega`` (per vol
        point), ``spot``, ``t`` - per share. Any positive strike of a listed, unexpired expiry
        is priced (a position keeps its quote after spot moves off the strike grid); None
        when the contract is expired/unlisted or spot/vol are unknown. The ledger can use
        it for position Greeks."""
        inputs = self._inputs(contract.underlying, ts_ns)
        if inputs is None or not (contract.strike > 0):
            return None
        state = (contract.underlying, int(ts_ns), *inputs)
        if state != self._rows_at:
            self._rows_at, self._rows = state, {}
        elif contract in self._rows:
            hit = self._rows[contract]
            return None if hit is None else dict(hit)
        row = self._price_contract(contract, int(ts_ns), *inputs)
        self._rows[contract] = row
        return None if row is None else dict(row)

    def _price_contract(
        self, contract: OptionContract, ts_ns: int, spot: float, vol: float
    ) -> dict[str, float] | None:
        day = _trade_day(ts_ns)
        ex = expiry_set(contract.underlying, day)
        exp = np.datetime64(contract.expiry, "D")
        pos = np.flatnonzero(ex.dates == exp)
        if pos.size == 0 or ex.close_ns[pos[0]] <= ts_ns:
            return None
        seed = _seed(self.seed, contract.underlying)
        m = _Market(contract.underlying, ts_ns, spot, _vix_surface(vol), self.r, self.q, seed)
        rows = _price_rows(
            m,
            np.array([exp.astype(np.int64)]),
            ex.close_ns[pos[:1]],
            ex.kind[pos[:1]].astype(np.int64),
            np.array([contract.strike]),
            np.array([right_code(contract.right)], np.int8),
            int(np.datetime64(day, "D").astype(np.int64)),
        )
        keys = ("bid", "ask", "mid", "theo", "iv", "delta", "gamma", "theta", "vega", "t")
        out = {k: float(rows[k][0]) for k in keys}
        out["spot"] = spot
        return out

    def quote(self, contract: OptionContract, ts_ns: int) -> Quote | None:
        """``Quote(bid, ask, spot)`` of ``contract`` at ``ts_ns`` (rules of
        :meth:`contract_row`); None when it cannot be priced."""
        row = self.contract_row(contract, ts_ns)
        return None if row is None else Quote(row["bid"], row["ask"], row["spot"])
