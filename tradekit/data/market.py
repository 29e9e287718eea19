"""``MarketDataService``: one causal facade over bars, VIX, IV history and option chains.

The decision engine asks "what did the market look like at ``ts``?" and must never see later
data. Every method takes the query time ``ts`` (int ns UTC, or anything ``pd.Timestamp``
reads, at the edge) and answers only from information **known at ts**:

* a bar is known once it has **closed** (open time + bar duration <= ts);
* a VIX/IV observation is known from its index timestamp on (stamp series with the time the
  value became known, e.g. the synthetic VIX at each bar's open, a daily close at 16:00 NY);
* an option chain is built by the chain provider at the start of the query's time bucket
  (``bucket_ns``, default one minute), from the spot and VIX known then, and cached per
  ``(symbol, bucket)`` in an LRU - so it is causal and computed once per bucket.

Examples
--------
>>> import pandas as pd
>>> from tradekit.data import datasets
>>> bars, vix = datasets.synthetic_intraday("SPY", days=2, seed=1, with_vix=True)
>>> svc = MarketDataService.with_synthetic_chains({"SPY": bars}, vix=vix)
>>> ts = bars.index[100].value
>>> svc.price("SPY", ts) == float(bars["close"].iloc[99])  # bar 99 closed at ts
True
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from tradekit._typing import FloatArray, IntArray
from tradekit.data.schema import bars_to_arrays
from tradekit.data.sources.base import MarketDataProvider, bar_duration
from tradekit.errors import DataError
from tradekit.options.base import ChainReach, accepts_keyword
from tradekit.options.chain import ChainProvider, OptionChain, SyntheticChainProvider
from tradekit.options.volatility import iv_percentile_last, iv_rank_last

__all__ = ["MarketDataService"]

_NY = "America/New_York"
_MINUTE_NS = 60 * 10**9


_MIN_NS, _MAX_NS = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def _ns(ts: Any) -> int:
    if isinstance(ts, int | np.integer):
        return int(ts)
    stamp = pd.Timestamp(ts)
    stamp = stamp.tz_localize("UTC") if stamp.tz is None else stamp.tz_convert("UTC")
    return int(stamp.as_unit("ns").value)


def _as_of(known_ns: IntArray, values: FloatArray, ts_ns: IntArray) -> FloatArray:
    """The last of ``values`` known (``known_ns`` <= t, sorted) at each time of ``ts_ns``;
    NaN before the first."""
    pos = np.searchsorted(known_ns, np.asarray(ts_ns, dtype=np.int64), side="right") - 1
    if not len(values):
        return np.full(pos.shape, np.nan)
    out = np.asarray(values, dtype=np.float64)[np.maximum(pos, 0)]
    out[pos < 0] = np.nan
    return out


@dataclass(frozen=True)
class _BarArrays:
    ts: IntArray
    close_ts: IntArray
    o: FloatArray
    h: FloatArray
    lo: FloatArray
    c: FloatArray
    v: FloatArray
    duration_ns: int
    frame: pd.DataFrame


@dataclass(frozen=True)
class _Levels:
    """An as-of series (VIX or an IV history) with its per-day reduction for rank/percentile."""

    ts: IntArray
    values: FloatArray
    day: IntArray  # New York date of each observation (days since epoch)
    daily_day: IntArray  # one entry per date: the date
    daily_value: FloatArray  # ... and the last value of that date
    # [lo, hi) ns of the last position found, and it (see position)
    _memo: tuple[int, int, int] = field(default=(0, 0, -1), init=False, repr=False, compare=False)

    @classmethod
    def from_series(cls, series: pd.Series, name: str) -> _Levels:
        if not isinstance(series.index, pd.DatetimeIndex) or series.index.tz is None:
            raise DataError(f"{name} series needs a tz-aware DatetimeIndex", rule="tz")
        s = series.dropna().sort_index()
        idx = s.index.tz_convert("UTC").as_unit("ns")
        day = idx.tz_convert(_NY).normalize().tz_localize(None).as_unit("ns").asi8 // (
            86_400 * 10**9
        )
        values = s.to_numpy(dtype=np.float64)
        last = np.flatnonzero(np.r_[day[1:] != day[:-1], True]) if len(day) else day
        return cls(idx.asi8.copy(), values, day, day[last], values[last])

    def position(self, ts_ns: int) -> int:
        """Index of the last observation known at ``ts_ns`` (-1 if none). The answer holds
        until the next observation: remembered, as a replay asks about one time after
        another (a daily series answers a day of bars from the memo)."""
        lo, hi, pos = self._memo
        if lo <= ts_ns < hi:
            return pos
        ts = self.ts
        pos = int(ts.searchsorted(ts_ns, side="right")) - 1
        lo = int(ts[pos]) if pos >= 0 else _MIN_NS
        hi = int(ts[pos + 1]) if pos + 1 < ts.shape[0] else _MAX_NS
        object.__setattr__(self, "_memo", (lo, hi, pos))
        return pos

    def history_to(self, pos: int) -> FloatArray:
        """Daily values of the dates before observation ``pos``'s date, then its value."""
        k = int(self.daily_day.searchsorted(self.day[pos], side="left"))
        return np.append(self.daily_value[:k], self.values[pos])


class MarketDataService:
    """Causal market data for the engine: prices, bars, VIX, IV rank and option chains.

    Parameters
    ----------
    bars:
        ``{symbol: bar frame}`` (bar contract: UTC open-time index, OHLCV float columns), or a
        :class:`~tradekit.data.sources.base.MarketDataProvider` whose full native history is
        loaded once per symbol on first use.
    vix:
        VIX level series (vol points), tz-aware index = when each value became known.
    chain_provider:
        Any :class:`~tradekit.options.chain.ChainProvider`; None = no option chains.
    iv_history:
        Optional ``{symbol: IV series}`` (vol points or decimals - rank is scale-free) used
        by :meth:`iv_rank` instead of the VIX for those symbols.
    calendar:
        Exchange calendar name, kept for callers (``self.calendar``); sessions come from
        :func:`tradekit.data.calendar.get_calendar`.
    ivr_window, ivr_min_periods:
        Window (trading days) and minimum history of IV rank / percentile.
    bucket_ns:
        Time bucket of the chain cache (default one minute).
    cache_size:
        Entries of the chain LRU.
    """

    def __init__(
        self,
        bars: Mapping[str, pd.DataFrame] | MarketDataProvider | None = None,
        *,
        vix: pd.Series | None = None,
        chain_provider: ChainProvider | None = None,
        iv_history: Mapping[str, pd.Series] | None = None,
        calendar: str = "XNYS",
        ivr_window: int = 252,
        ivr_min_periods: int = 20,
        bucket_ns: int = _MINUTE_NS,
        cache_size: int = 128,
    ) -> None:
        if bucket_ns <= 0 or cache_size < 1:
            raise ValueError("bucket_ns must be > 0 and cache_size >= 1")
        self._provider = bars if isinstance(bars, MarketDataProvider) else None
        self._frames: dict[str, pd.DataFrame] = (
            {} if bars is None or self._provider is not None else dict(bars)  # type: ignore[arg-type]
        )
        self._arrays: dict[str, _BarArrays] = {}
        self._price_memo: tuple[_BarArrays | None, int, float | None] = (None, 0, None)
        self._vix = _Levels.from_series(vix, "vix") if vix is not None else None
        self._iv = {
            s: _Levels.from_series(x, f"iv_history[{s}]") for s, x in (iv_history or {}).items()
        }
        self.chain_provider = chain_provider
        self.calendar = calendar
        self.ivr_window, self.ivr_min_periods = ivr_window, ivr_min_periods
        self.bucket_ns = int(bucket_ns)
        self._chains: OrderedDict[tuple[Any, ...], OptionChain | None] = OrderedDict()
        # (provider, takes max_dte=, takes reach=): checked once per provider
        self._narrowing: tuple[Any, bool, bool] = (None, False, False)
        self._cache_size = cache_size
        #: (symbol, statistic) -> ((observation, window, min periods), value): the last one
        self._vol_memo: dict[tuple[str, Any], tuple[tuple[int, int, int], float | None]] = {}

    @classmethod
    def with_synthetic_chains(
        cls,
        bars: Mapping[str, pd.DataFrame] | MarketDataProvider,
        *,
        vix: pd.Series | None = None,
        r: float = 0.04,
        q: float = 0.013,
        seed: int = 0,
        max_dte: int | None = None,
        default_vol: float = 0.18,
        **kwargs: Any,
    ) -> MarketDataService:
        """A service whose chains come from a :class:`SyntheticChainProvider` fed by this
        service's own causal ``price`` and ``vix`` (VIX/100 as the ATM vol level;
        ``default_vol`` when no VIX is known)."""
        svc = cls(bars, vix=vix, **kwargs)

        def vol_fn(symbol: str, ts_ns: int) -> float:
            level = svc.vix(ts_ns)
            return default_vol if level is None else level / 100.0

        def vol_path(symbol: str, ts_ns: IntArray) -> FloatArray:
            level = svc.vix_path(ts_ns)
            return np.where(np.isnan(level), default_vol, level / 100.0)

        svc.chain_provider = SyntheticChainProvider(
            svc.price, vol_fn, r=r, q=q, seed=seed, max_dte=max_dte,
            spot_path_fn=svc.price_path, vol_path_fn=vol_path,
        )  # fmt: skip
        return svc

    def __repr__(self) -> str:
        syms = sorted(self._frames) if self._provider is None else "provider"
        return (
            f"MarketDataService(bars={syms}, vix={self._vix is not None}, "
            f"chains={type(self.chain_provider).__name__})"
        )

    # ------------------------------------------------------------------ bars
    def _bars(self, symbol: str) -> _BarArrays:
        arr = self._arrays.get(symbol)
        if arr is not None:
            return arr
        if self._provider is not None:
            frame = self._provider.history(symbol)
        elif symbol in self._frames:
            frame = self._frames[symbol]
        else:
            raise DataError(f"no bars for symbol {symbol!r}")
        ts, o, h, lo, c, v = bars_to_arrays(frame)
        dur = bar_duration(ts) if len(ts) else _MINUTE_NS
        arr = _BarArrays(ts, ts + dur, o, h, lo, c, v, dur, frame)
        self._arrays[symbol] = arr
        return arr

    def price(self, symbol: str, ts: Any) -> float | None:
        """Close of the last bar of ``symbol`` closed by ``ts`` (None before the first)."""
        b, t = self._bars(symbol), _ns(ts)
        memo = self._price_memo  # the quotes of one bar ask for its close several times
        if memo[0] is b and memo[1] == t:
            return memo[2]
        pos = int(b.close_ts.searchsorted(t, side="right")) - 1
        out = float(b.c[pos]) if pos >= 0 else None
        self._price_memo = (b, t, out)
        return out

    def price_path(self, symbol: str, ts_ns: IntArray) -> FloatArray:
        """:meth:`price` at each of the times ``ts_ns`` (int ns UTC array; NaN before the
        first close): one lookup for a whole span of bars."""
        b = self._bars(symbol)
        return _as_of(b.close_ts, b.c, ts_ns)

    def ohlcv(self, symbol: str, start: Any = None, end: Any = None) -> pd.DataFrame:
        """Bars of ``symbol`` with open time >= ``start`` that have **closed** by ``end``
        (``end`` is the query time; None = all). A copy; never includes a forming bar."""
        b = self._bars(symbol)
        lo = 0 if start is None else int(np.searchsorted(b.ts, _ns(start), side="left"))
        hi = len(b.ts) if end is None else int(np.searchsorted(b.close_ts, _ns(end), side="right"))
        return b.frame.iloc[lo : max(lo, hi)].copy()

    # ------------------------------------------------------------------ volatility
    def vix(self, ts: Any) -> float | None:
        """The last VIX value known at ``ts`` (None when no VIX series or none yet)."""
        if self._vix is None:
            return None
        pos = self._vix.position(_ns(ts))
        return float(self._vix.values[pos]) if pos >= 0 else None

    def vix_path(self, ts_ns: IntArray) -> FloatArray:
        """:meth:`vix` at each of the times ``ts_ns`` (int ns UTC array; NaN where
        :meth:`vix` gives None)."""
        if self._vix is None:
            return np.full(np.shape(ts_ns), np.nan)
        return _as_of(self._vix.ts, self._vix.values, ts_ns)

    def _levels(self, symbol: str) -> _Levels | None:
        return self._iv.get(symbol, self._vix)

    def iv_rank(self, symbol: str, ts: Any) -> float | None:
        """IV rank (0-100) at ``ts`` from the symbol's IV history (else the VIX): prior
        trading days' last values plus the latest value known at ``ts``. None without data or
        with fewer than ``ivr_min_periods`` days (or a flat window)."""
        return self._vol_stat(symbol, ts, iv_rank_last)

    def iv_rank_path(self, symbol: str, ts_ns: IntArray) -> FloatArray:
        """:meth:`iv_rank` at each of the times ``ts_ns`` (int ns UTC array; NaN where it
        gives None), computed once per observation the times fall on."""
        ts = np.asarray(ts_ns, dtype=np.int64)
        out = np.full(ts.shape, np.nan)
        lv = self._levels(symbol)
        if lv is None or not ts.size:
            return out
        pos = np.searchsorted(lv.ts, ts, side="right") - 1
        known = np.flatnonzero(pos >= 0)
        _, first, inv = np.unique(pos[known], return_index=True, return_inverse=True)
        ranks = [self.iv_rank(symbol, int(ts[known[i]])) for i in first]
        vals = np.array([np.nan if r is None else r for r in ranks], dtype=np.float64)
        out[known] = vals[inv]
        return out

    def iv_percentile(self, symbol: str, ts: Any) -> float | None:
        """IV percentile (0-100) at ``ts``; same data rules as :meth:`iv_rank`."""
        return self._vol_stat(symbol, ts, iv_percentile_last)

    def _vol_stat(self, symbol: str, ts: Any, fn: Callable[..., float]) -> float | None:
        lv = self._levels(symbol)
        if lv is None:
            return None
        pos = lv.position(_ns(ts))
        if pos < 0:
            return None
        # every setup of a day asks for the same observation's statistic: remember the last
        key = (pos, self.ivr_window, self.ivr_min_periods)
        memo = self._vol_memo.get((symbol, fn))
        if memo is not None and memo[0] == key:
            return memo[1]
        hist = lv.history_to(pos)
        out = fn(hist, self.ivr_window, min_periods=self.ivr_min_periods)
        result = None if np.isnan(out) else out
        self._vol_memo[(symbol, fn)] = (key, result)
        return result

    # ------------------------------------------------------------------ options
    def option_chain(
        self,
        symbol: str,
        ts: Any,
        *,
        max_dte: int | None = None,
        reach: ChainReach | None = None,
    ) -> OptionChain | None:
        """The chain of ``symbol`` as of the start of ``ts``'s time bucket (cached per
        bucket); None without a provider or when the provider has no data then.

        ``max_dte`` (calendar days) asks only for the expiries a selection can reach, and
        ``reach`` (:class:`~tradekit.options.base.ChainReach`) only for the rows it can
        reach; a provider that cannot restrict its chain that way returns more of it (the
        whole chain, or the expiries up to ``reach.dte_max``).
        """
        if self.chain_provider is None:
            return None
        bucket_ts = _ns(ts) // self.bucket_ns * self.bucket_ns
        if self._narrowing[0] is not self.chain_provider:
            fn = getattr(self.chain_provider, "chain", None)
            self._narrowing = (
                self.chain_provider,
                accepts_keyword(fn, "max_dte"),
                accepts_keyword(fn, "reach"),
            )
        kw: dict[str, Any] = {}
        if reach is not None and self._narrowing[2]:
            kw["reach"] = reach
        elif reach is not None and reach.dte_max is not None:
            max_dte = reach.dte_max if max_dte is None else min(max_dte, reach.dte_max)
        if max_dte is not None and self._narrowing[1]:
            kw["max_dte"] = max_dte
        key = (symbol, bucket_ts, kw.get("max_dte"), kw.get("reach"))
        if key in self._chains:
            self._chains.move_to_end(key)
            return self._chains[key]
        try:
            chain: OptionChain | None = self.chain_provider.chain(symbol, bucket_ts, **kw)
        except DataError:
            chain = None
        self._chains[key] = chain
        if len(self._chains) > self._cache_size:
            self._chains.popitem(last=False)
        return chain
