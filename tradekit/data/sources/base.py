"""The market-data provider contract and the in-memory provider.

A provider answers two questions: *what were the bars* (``history``) and *what is the latest
closed bar* (``latest``). Everything else (feeds, the market-data facade, replay) is built on
these two methods, so an offline file, an in-memory frame and an online API are
interchangeable.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeAlias, runtime_checkable

import numpy as np
import pandas as pd

from tradekit.core.clock import Clock
from tradekit.core.events import Bar
from tradekit.data.resample import resample
from tradekit.data.schema import BAR_COLUMNS, infer_bar_duration_ns, validate_bars
from tradekit.errors import DataError

__all__ = [
    "DataFrameProvider",
    "MarketDataProvider",
    "TimeLike",
    "bar_duration",
    "bar_from_row",
    "frame_history",
    "to_ns",
]

TimeLike: TypeAlias = str | int | pd.Timestamp | None


@runtime_checkable
class MarketDataProvider(Protocol):
    """Where bars come from (files, memory, an online API).

    Contract
    --------
    ``history(symbol, start, end, timeframe)`` returns a bar-contract frame (validated, UTC,
    open-time index) with the bars whose open time is in ``[start, end)``; ``None`` bounds
    are open. ``timeframe`` is a resample rule (``"1min"``, ``"1h"``, ``"1D"``) or None for
    the provider's native bars. Only **closed** bars are returned.
    ``latest(symbol)`` returns the most recent closed bar as a
    :class:`~tradekit.core.events.Bar`, or None when there is none.
    Both raise :class:`~tradekit.errors.DataError` for unknown symbols or bad data.
    """

    def history(
        self,
        symbol: str,
        start: TimeLike = None,
        end: TimeLike = None,
        timeframe: str | None = None,
    ) -> pd.DataFrame:
        """Closed bars of ``symbol`` with open time in ``[start, end)``."""
        ...

    def latest(self, symbol: str) -> Bar | None:
        """The most recent closed bar of ``symbol`` (None if none)."""
        ...


def to_ns(value: TimeLike) -> int | None:
    """A time bound as int ns UTC (naive strings are UTC; ints are already ns)."""
    if value is None:
        return None
    if isinstance(value, int | np.integer):
        return int(value)
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    return int(ts.value)


def frame_history(
    df: pd.DataFrame,
    start: TimeLike,
    end: TimeLike,
    timeframe: str | None,
    *,
    closed_by_ns: int | None = None,
    duration_ns: int | None = None,
) -> pd.DataFrame:
    """Slice a validated frame to ``[start, end)`` (and to bars closed by ``closed_by_ns``),
    resampling to ``timeframe`` if one is given (closed HTF bars only)."""
    ts = df.index.asi8
    lo, hi = to_ns(start), to_ns(end)
    mask = np.ones(ts.shape[0], dtype=np.bool_)
    if lo is not None:
        mask &= ts >= lo
    if hi is not None:
        mask &= ts < hi
    if closed_by_ns is not None and ts.shape[0] > 0:
        dur = duration_ns if duration_ns is not None else bar_duration(ts)
        mask &= ts + dur <= closed_by_ns
    out = df[mask]
    if timeframe is None or len(out) == 0:
        return out
    htf = resample(out, timeframe)
    return htf[list(BAR_COLUMNS)]


def bar_duration(ts_ns: np.ndarray, default_ns: int = 60_000_000_000) -> int:
    """:func:`infer_bar_duration_ns`, or ``default_ns`` for fewer than two bars."""
    return infer_bar_duration_ns(ts_ns) if np.unique(ts_ns[:3]).shape[0] > 1 else default_ns


def bar_from_row(
    df: pd.DataFrame, pos: int, symbol: str, timeframe: str, duration_ns: int | None = None
) -> Bar:
    """Row ``pos`` of a validated frame as a :class:`Bar` event."""
    ts = df.index.asi8
    dur = duration_ns if duration_ns is not None else bar_duration(ts)
    row = df.iloc[pos]
    return Bar(
        symbol, timeframe, int(ts[pos]), float(row["open"]), float(row["high"]),
        float(row["low"]), float(row["close"]), float(row["volume"]), dur,
    )  # fmt: skip


class DataFrameProvider:
    """In-memory provider over validated frames (tests, notebooks, replay).

    Parameters
    ----------
    bars:
        ``{symbol: frame}``; each frame is validated once here.
    timeframe:
        Label of the native bars (``Bar.timeframe``).
    clock:
        Optional clock: when given, only bars that have **closed** by ``clock.now_ns()`` are
        visible, which turns a historical frame into a "live" source for polling tests.

    Examples
    --------
    >>> from tradekit.testing import bars_from_rows
    >>> p = DataFrameProvider({"SPY": bars_from_rows([(1, 2, 0.5, 1.5, 10)])})
    >>> p.latest("SPY").close
    1.5
    """

    def __init__(
        self,
        bars: Mapping[str, pd.DataFrame],
        *,
        timeframe: str = "1min",
        clock: Clock | None = None,
    ) -> None:
        self._bars = {sym: validate_bars(df) for sym, df in bars.items()}
        self._dur = {sym: bar_duration(df.index.asi8) for sym, df in self._bars.items()}
        self.timeframe = timeframe
        self.clock = clock

    def __repr__(self) -> str:
        return f"DataFrameProvider(symbols={sorted(self._bars)}, timeframe={self.timeframe!r})"

    @property
    def symbols(self) -> list[str]:
        """Symbols this provider knows."""
        return sorted(self._bars)

    def _frame(self, symbol: str) -> pd.DataFrame:
        try:
            return self._bars[symbol]
        except KeyError:
            raise DataError(f"unknown symbol {symbol!r}; known: {self.symbols}") from None

    def _now(self) -> int | None:
        return None if self.clock is None else self.clock.now_ns()

    def history(
        self,
        symbol: str,
        start: TimeLike = None,
        end: TimeLike = None,
        timeframe: str | None = None,
    ) -> pd.DataFrame:
        """Closed bars of ``symbol`` in ``[start, end)`` (see :class:`MarketDataProvider`)."""
        df = self._frame(symbol)
        return frame_history(
            df, start, end, timeframe, closed_by_ns=self._now(), duration_ns=self._dur[symbol]
        )

    def latest(self, symbol: str) -> Bar | None:
        """The last bar closed by the clock (or the last bar when there is no clock)."""
        df = self._frame(symbol)
        dur = self._dur[symbol]
        n = len(df)
        now = self._now()
        if now is not None:
            n = int(np.searchsorted(df.index.asi8, now - dur, side="right"))
        if n == 0:
            return None
        return bar_from_row(df, n - 1, symbol, self.timeframe, dur)

    def describe(self) -> dict[str, Any]:
        """Symbols with their row counts and first/last timestamps."""
        return {
            s: {"rows": len(df), "first": df.index[0] if len(df) else None,
                "last": df.index[-1] if len(df) else None}
            for s, df in self._bars.items()
        }  # fmt: skip
