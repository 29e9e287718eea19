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
import math
import zlib
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.core.events import OptionContract
from tradekit.errors import DataError
from tradekit.execution.base import Quote
from tradekit.options import nb
from tradekit.options.base import ChainProvider, ChainReach, OptionChain, right_code
from tradekit.options.calendar import expiry_set, is_index_like
from tradekit.options.surface import SSVIParams, SSVISurface
from tradekit.portfolio._dates import hour_date, ny_date

__all__ = [
    "ChainProvider",
    "OptionChain",
    "SyntheticChainProvider",
    "generate_chain",
    "strike_grid",
    "tick_sizes",
]

_NS_PER_YEAR = 365 * 86_400 * 10**9
_NS_PER_HOUR = 3_600 * 10**9
_BASE_OI = {"SPY": 30_000.0, "SPX": 8_000.0, "SPXW": 8_000.0, "QQQ": 20_000.0, "IWM": 10_000.0}
_KIND_OI = np.array([0.35, 0.5, 0.8, 1.0])  # by ExpiryKind code
_ROW0 = np.zeros(1, np.int64)  # the expiry position of a single priced contract


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
    spanning ``spot * exp(+-max(3.5 sd, 5 %))`` (clipped to 30 %-250 % of spot); ``t`` in
    years, ``atm_vol`` decimal (kernel: :func:`tradekit.options.nb.strike_grid_nb`)."""
    inc = _strike_increment(underlying, spot)
    out = np.empty(nb.strike_grid_capacity(float(spot), inc))
    n = nb.strike_grid_nb(float(spot), float(t), float(atm_vol), inc, out)
    return out[:n]


# -------------------------------------------------------------------- pricing of rows
@dataclass(frozen=True)
class _Listing:
    """The per-underlying constants of the quote and size rules (see the module docstring)."""

    small_tick: float
    large_tick: float
    spread_pct: float
    base_oi: float
    seed_oi: np.uint64
    seed_vol: np.uint64


@lru_cache(maxsize=256)
def _listing(underlying: str, seed: int) -> _Listing:
    small, large = tick_sizes(underlying)
    s = _seed(seed, underlying)
    mask = 0xFFFFFFFFFFFFFFFF
    return _Listing(
        small,
        large,
        0.004 if is_index_like(underlying) else 0.01,
        _BASE_OI.get(underlying.upper(), 3_000.0),
        np.uint64(s & mask),
        np.uint64((s + 1) & mask),
    )


def _price_rows(
    underlying: str,
    ts_ns: int,
    spot: float,
    surface: SSVISurface,
    r: float,
    q: float,
    seed: int,
    expiries: tuple[IntArray, IntArray, IntArray],
    terms: tuple[FloatArray, FloatArray],
    rows: tuple[IntArray, FloatArray, FloatArray],
    trade_day: int,
) -> FloatArray:
    """Model price, quote, Greeks and sizes of ``rows = (expiry position, strike, cp)`` of
    ``expiries = (days since 1970, close_ns, kind)`` with their surface ``terms`` (from
    :func:`_surface_terms`), as the rows ``f`` of :func:`tradekit.options.nb.price_rows_nb`
    (t, bid, ask, mid, theo, iv, delta, gamma, theta, vega, volume, open interest): the
    kernel a chain's rows are priced by too (:func:`tradekit.options.nb.listed_chain_nb`),
    so a single contract's quote always equals its chain row."""
    days, close, kind = expiries
    th, ph = terms
    pos, strike, cp = rows
    lst = _listing(underlying, seed)
    f, _ = nb.price_rows_nb(
        int(ts_ns), float(spot), float(r), float(q), strike, cp, pos, days, close, kind,
        th, ph, float(surface.params.rho), int(trade_day),
        lst.small_tick, lst.large_tick, lst.spread_pct, lst.base_oi, _KIND_OI,
        round(500 * _strike_increment(underlying, spot)), lst.seed_oi, lst.seed_vol,
    )  # fmt: skip
    return f


def _row_columns(
    f: FloatArray, dte: IntArray, row_days: IntArray, strike: FloatArray, cp: FloatArray
) -> dict[str, Any]:
    """The :class:`OptionChain` columns of priced rows: ``f`` and ``dte`` of
    :func:`tradekit.options.nb.price_rows_nb`, each row's expiry (days since 1970), strike
    and right (+1.0 / -1.0)."""
    return dict(
        expiry=row_days.astype("datetime64[D]"),
        dte=dte,
        t=f[0],
        strike=strike,
        right=cp.astype(np.int8),
        bid=f[1],
        ask=f[2],
        mid=f[3],
        theo=f[4],
        iv=f[5],
        delta=f[6],
        gamma=f[7],
        theta=f[8],
        vega=f[9],
        volume=f[10],
        open_interest=f[11],
    )


def _surface_terms(
    surface: SSVISurface, close_ns: IntArray, ts_ns: int
) -> tuple[FloatArray, FloatArray]:
    """The SSVI ATM total variance ``theta(t)`` and curvature ``phi(theta)`` of each expiry
    closing at ``close_ns`` (the only surface calls; the kernels do the rest per row)."""
    return surface.terms((close_ns - ts_ns) / _NS_PER_YEAR)


def _seed(seed: int, underlying: str) -> int:
    return (seed * 1_000_003) ^ zlib.crc32(underlying.upper().encode())


class _DayListing(NamedTuple):
    """The expiries listed on one trading date as the chain kernel reads them."""

    days: IntArray  # days since 1970
    close_ns: IntArray
    kind: IntArray  # ExpiryKind codes
    day_num: int  # the trading date, days since 1970


@lru_cache(maxsize=256)
def _day_listing(underlying: str, day: dt.date) -> _DayListing:
    ex = expiry_set(underlying, day)
    return _DayListing(
        ex.dates.astype(np.int64),
        np.ascontiguousarray(ex.close_ns, dtype=np.int64),
        ex.kind.astype(np.int64),
        int(np.datetime64(day, "D").astype(np.int64)),
    )


#: a DTE bound that bounds nothing (calendar days)
_NO_DTE = 1 << 40


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
    reach: ChainReach | None = None,
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
    reach:
        Only the rows a selection can reach (:class:`~tradekit.options.base.ChainReach`:
        DTE range, right, ``|delta|`` band), priced exactly as in the whole chain and in the
        same order; the delta filter costs a fraction of pricing the rows it drops.

    Raises
    ------
    DataError
        If ``spot`` or ``atm_vol`` is not positive and finite.
    """
    if not (np.isfinite(spot) and spot > 0):
        raise DataError(f"generate_chain: spot must be > 0, got {spot!r}", rule="spot")
    if not (np.isfinite(atm_vol) and atm_vol > 0):
        raise DataError(f"generate_chain: atm_vol must be > 0, got {atm_vol!r}", rule="vol")
    surf = surface if surface is not None else _vix_surface(float(atm_vol))
    lst = _day_listing(underlying, ny_date(ts_ns))
    dte_lo, dte_hi = -_NO_DTE, _NO_DTE
    if max_dte is not None:
        dte_hi = min(dte_hi, int(max_dte))
    right, (d_lo, d_hi) = 0, (-math.inf, math.inf)
    if reach is not None:
        dte_lo = max(dte_lo, int(reach.dte_min))
        if reach.dte_max is not None:
            dte_hi = min(dte_hi, int(reach.dte_max))
        right, (d_lo, d_hi) = reach.right or 0, reach.delta_band()
    # the surface terms of every listed expiry (NaN for a closed one): elementwise in time
    theta_tv, phi = _surface_terms(surf, lst.close_ns, ts_ns)
    listing = _listing(underlying, rng_seed)
    f, dte, row_days, strike, cp = nb.listed_chain_nb(
        int(ts_ns), float(spot), float(atm_vol), _strike_increment(underlying, spot),
        lst.days, lst.close_ns, lst.kind, theta_tv, phi, float(surf.params.rho), lst.day_num,
        dte_lo, dte_hi, float(r), float(q), int(right), d_lo, d_hi,
        listing.small_tick, listing.large_tick, listing.spread_pct, listing.base_oi, _KIND_OI,
        round(500 * _strike_increment(underlying, spot)), listing.seed_oi, listing.seed_vol,
    )  # fmt: skip
    return OptionChain(
        underlying=underlying, spot=float(spot), ts_ns=int(ts_ns), r=r, q=q,
        **_row_columns(f, dte, row_days, strike, cp),
    )  # fmt: skip


@lru_cache(maxsize=1024)
def _contract_listing(
    contract: OptionContract, day: dt.date
) -> (
    tuple[tuple[IntArray, IntArray, IntArray], tuple[IntArray, FloatArray, FloatArray], int] | None
):
    """The expiry and row arrays that price ``contract`` on trading date ``day`` (None when
    its expiry is not listed then): marks and exit checks ask for the same few contracts on
    every bar of a day."""
    ex = expiry_set(contract.underlying, day)
    exp = np.datetime64(contract.expiry, "D")
    pos = np.flatnonzero(ex.dates == exp)
    if pos.size == 0:
        return None
    listed = (
        np.array([exp.astype(np.int64)]),
        ex.close_ns[pos[:1]],
        ex.kind[pos[:1]].astype(np.int64),
    )
    row = (
        _ROW0,
        np.array([float(contract.strike)]),
        np.array([float(right_code(contract.right))]),
    )
    return listed, row, int(np.datetime64(day, "D").astype(np.int64))


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
    spot_path_fn, vol_path_fn:
        Optional array twins of ``spot_fn`` / ``vol_fn``: ``(underlying, ts_ns array) ->
        float array`` (NaN where unknown), equal to the scalar function at every time. With
        them :meth:`quote_path` prices a contract over a whole span of times at once (a
        backtest's marks and exit checks while a position is open).

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
        spot_path_fn: Callable[[str, IntArray], FloatArray] | None = None,
        vol_path_fn: Callable[[str, IntArray], FloatArray] | None = None,
    ) -> None:
        self._spot_fn = spot_fn
        self._vol_fn = vol_fn
        self._spot_path_fn = spot_path_fn
        self._vol_path_fn = vol_path_fn
        self.r, self.q, self.seed, self.max_dte = r, q, seed, max_dte
        self._cache: OrderedDict[tuple[str, int, int | None, ChainReach | None], OptionChain] = (
            OrderedDict()
        )
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

    def chain(
        self,
        underlying: str,
        ts_ns: int,
        *,
        max_dte: int | None = None,
        reach: ChainReach | None = None,
    ) -> OptionChain:
        """The synthetic chain at ``ts_ns``; DataError when spot or vol is unknown.

        ``max_dte`` lists only the expiries up to that many calendar days (within the
        provider's own ``max_dte``). Each listed contract is priced exactly as in the full
        chain (pricing and sizes are per contract), so a selection restricted to those
        expiries picks the same contract from either. ``reach`` lists only the rows a
        selection can reach (:class:`~tradekit.options.base.ChainReach`), priced alike.
        """
        limit = self.max_dte if max_dte is None else (
            max_dte if self.max_dte is None else min(max_dte, self.max_dte))  # fmt: skip
        key = (underlying, int(ts_ns), limit, reach)
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
            reach=reach,
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
        found = _contract_listing(contract, ny_date(ts_ns))
        if found is None or found[0][1][0] <= ts_ns:
            return None
        listed, row, day_num = found
        surf = _vix_surface(vol)
        f = _price_rows(
            contract.underlying, ts_ns, spot, surf, self.r, self.q, self.seed,
            listed, _surface_terms(surf, listed[1], ts_ns), row, day_num,
        )  # fmt: skip
        t, bid, ask, mid, theo, iv, delta, gamma, theta, vega = f[:10, 0].tolist()
        return {"bid": bid, "ask": ask, "mid": mid, "theo": theo, "iv": iv, "delta": delta,
                "gamma": gamma, "theta": theta, "vega": vega, "t": t, "spot": spot}  # fmt: skip

    @property
    def prices_paths(self) -> bool:
        """Whether :meth:`quote_path` can price a span at once (the array twins are given)."""
        return self._spot_path_fn is not None and (
            self._vol_path_fn is not None or not callable(self._vol_fn)
        )

    def quote_path(
        self, contract: OptionContract, ts_ns: IntArray, *, greeks: FloatArray | None = None
    ) -> tuple[FloatArray, FloatArray] | None:
        """``(bid, ask)`` of ``contract`` at each of the times ``ts_ns`` (int ns UTC array):
        :meth:`quote` at each time, NaN where it gives None, priced in one kernel call
        (:func:`tradekit.options.nb.price_path_nb`). With ``greeks`` (a ``(5, len(ts_ns))``
        array) also the :meth:`contract_row` fields ``delta``, ``gamma``, ``theta``, ``vega``
        and ``iv`` at each time, in that order (NaN where unpriced). None when the provider
        has no array twins of its spot and vol functions (:attr:`prices_paths`)."""
        if not self.prices_paths:
            return None
        ts = np.ascontiguousarray(ts_ns, dtype=np.int64)
        n = ts.shape[0]
        bid, ask = np.full(n, np.nan), np.full(n, np.nan)
        if greeks is not None:
            if greeks.shape != (5, n):
                raise ValueError(f"greeks must have shape (5, {n}), not {greeks.shape}")
            greeks[:] = np.nan
        if n == 0 or not (contract.strike > 0):
            return bid, ask
        u = contract.underlying
        assert self._spot_path_fn is not None
        spot = np.asarray(self._spot_path_fn(u, ts), dtype=np.float64)
        if callable(self._vol_fn):
            assert self._vol_path_fn is not None
            vol = np.asarray(self._vol_path_fn(u, ts), dtype=np.float64)
        else:
            vol = np.full(n, float(self._vol_fn))
        ok = (spot > 0) & (vol > 0)  # False for NaN, as in _inputs
        hours, at_hour = np.unique(ts // _NS_PER_HOUR, return_inverse=True)
        day_of_hour = [hour_date(int(h)) for h in hours]
        listed = {day: _contract_listing(contract, day) for day in set(day_of_hour)}
        # the expiry's close as listed each time's trading day (0: not listed that day)
        close_of_day = {d: 0 if f is None else int(f[0][1][0]) for d, f in listed.items()}
        close = np.array([close_of_day[d] for d in day_of_hour], dtype=np.int64)[at_hour]
        ok &= close > ts  # listed and not expired
        theta, phi, rho = np.empty(n), np.empty(n), np.empty(n)
        for v in np.unique(vol[ok]):
            rows = np.flatnonzero(ok & (vol == v))
            surf = _vix_surface(float(v))
            theta[rows], phi[rows] = surf.terms((close[rows] - ts[rows]) / _NS_PER_YEAR)
            rho[rows] = float(surf.params.rho)
        priced = np.flatnonzero(ok)
        if priced.size == 0:
            return bid, ask
        lst = _listing(u, self.seed)
        b, a, g = np.empty(priced.size), np.empty(priced.size), np.empty((5, priced.size))
        nb.price_path_nb(
            ts[priced], spot[priced], float(self.r), float(self.q), float(contract.strike),
            float(right_code(contract.right)), close[priced], theta[priced], phi[priced],
            rho[priced], lst.small_tick, lst.large_tick, lst.spread_pct, b, a, g,
        )  # fmt: skip
        bid[priced], ask[priced] = b, a
        if greeks is not None:
            greeks[:, priced] = g
        return bid, ask

    def quote(self, contract: OptionContract, ts_ns: int) -> Quote | None:
        """``Quote(bid, ask, spot)`` of ``contract`` at ``ts_ns`` (rules of
        :meth:`contract_row`); None when it cannot be priced."""
        row = self.contract_row(contract, ts_ns)
        return None if row is None else Quote(row["bid"], row["ask"], row["spot"])
