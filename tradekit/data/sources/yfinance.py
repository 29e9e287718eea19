"""Yahoo Finance history through the optional ``yfinance`` package (the ``online`` extra).

The adapter is sans-IO at its core: all network access goes through one ``fetch`` callable
``fetch(symbol, start, end, interval) -> DataFrame`` in yfinance's ``Ticker.history`` format
(columns ``Open High Low Close [Adj Close] Volume``, exchange-tz index named ``Date`` or
``Datetime``). The default ``fetch`` imports yfinance lazily; tests pass a function that
returns a recorded response, so no test touches the network.

Daily and weekly bars come from Yahoo stamped at midnight New York; they are re-stamped at the
session open (UTC) like every daily bar in tradekit. Intraday bars keep their open times. The
last intraday row Yahoo returns is usually still forming: ``history`` and ``latest`` drop
bars that have not closed by ``clock.now_ns()``. Rows that break the bar contract are set aside
in :attr:`YFinanceProvider.quarantine` instead of failing the whole request.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from tradekit.core.clock import Clock, WallClock
from tradekit.core.events import Bar
from tradekit.data.schema import validate_bars
from tradekit.data.sources.base import TimeLike, bar_from_row, frame_history, to_ns
from tradekit.data.sources.files import normalize_bars
from tradekit.errors import ConfigError, DataError, FeedError

__all__ = ["INTERVALS", "Fetch", "YFinanceProvider", "recorded_fetch"]

Fetch = Callable[[str, pd.Timestamp | None, pd.Timestamp | None, str], pd.DataFrame]

#: tradekit timeframe → (yfinance interval, bar duration in ns)
INTERVALS: dict[str, tuple[str, int]] = {
    "1min": ("1m", 60_000_000_000),
    "2min": ("2m", 120_000_000_000),
    "5min": ("5m", 300_000_000_000),
    "15min": ("15m", 900_000_000_000),
    "30min": ("30m", 1_800_000_000_000),
    "1h": ("60m", 3_600_000_000_000),
    "1D": ("1d", 86_400_000_000_000),
    "1W": ("1wk", 7 * 86_400_000_000_000),
}
_DAILY = {"1d", "1wk"}


def _yfinance_fetch(
    symbol: str, start: pd.Timestamp | None, end: pd.Timestamp | None, interval: str
) -> pd.DataFrame:
    try:
        import yfinance as yf
    except ImportError as exc:
        raise FeedError(
            "YFinanceProvider needs the optional 'yfinance' package: pip install 'tradekit[online]'"
        ) from exc
    kwargs: dict[str, Any] = {"interval": interval, "auto_adjust": False, "actions": False}
    if start is None and end is None:
        kwargs["period"] = "5d" if interval not in _DAILY else "1y"
    else:
        kwargs.update(start=start, end=end)
    try:
        return yf.Ticker(symbol).history(**kwargs)
    except Exception as exc:  # network, HTTP, parsing: all become FeedError
        raise FeedError(f"yfinance request for {symbol} failed: {exc}") from exc


class YFinanceProvider:
    """History and latest closed bar from Yahoo Finance.

    Parameters
    ----------
    timeframe:
        Native timeframe of this provider (a key of :data:`INTERVALS`).
    fetch:
        The I/O boundary (see the module docstring); defaults to yfinance.
    clock:
        Source of "now" for dropping unclosed bars (default: the wall clock; this is an
        edge adapter, not engine code).
    calendar:
        Calendar used to stamp daily bars at the session open.
    """

    def __init__(
        self,
        timeframe: str = "1D",
        *,
        fetch: Fetch | None = None,
        clock: Clock | None = None,
        calendar: str = "XNYS",
    ) -> None:
        if timeframe not in INTERVALS:
            raise ConfigError(f"unsupported timeframe {timeframe!r}; use one of {list(INTERVALS)}")
        self.timeframe = timeframe
        self._fetch: Fetch = fetch or _yfinance_fetch
        self.clock: Clock = clock or WallClock()
        self.calendar = calendar
        #: Frames of rows that failed validation (with ``reason``, ``position``, ``symbol``).
        self.quarantine: list[pd.DataFrame] = []

    def __repr__(self) -> str:
        return f"YFinanceProvider(timeframe={self.timeframe!r})"

    def _download(self, symbol: str, start: TimeLike, end: TimeLike, tf: str) -> pd.DataFrame:
        interval, _ = INTERVALS[tf]
        lo, hi = to_ns(start), to_ns(end)
        raw = self._fetch(
            symbol,
            None if lo is None else pd.Timestamp(lo, tz="UTC"),
            None if hi is None else pd.Timestamp(hi, tz="UTC"),
            interval,
        )
        if raw is None or len(raw) == 0:
            return validate_bars(_empty())
        frame = raw.copy()
        if interval in _DAILY and isinstance(frame.index, pd.DatetimeIndex):
            # Yahoo stamps daily bars at local midnight: keep the date, re-stamp at the open
            local = frame.index.tz_localize(None) if frame.index.tz is not None else frame.index
            frame.index = local.normalize().rename("Date")
        df = normalize_bars(frame, tz="UTC", calendar=self.calendar)
        res = validate_bars(df.drop(columns=["adj_close"], errors="ignore"), on_error="quarantine")
        if len(res.quarantine):  # an online source must not fail on one bad row: set it aside
            self.quarantine.append(res.quarantine.assign(symbol=symbol))
        return res.bars

    def history(
        self,
        symbol: str,
        start: TimeLike = None,
        end: TimeLike = None,
        timeframe: str | None = None,
    ) -> pd.DataFrame:
        """Closed bars of ``symbol`` with open time in ``[start, end)``.

        ``timeframe`` may be any key of :data:`INTERVALS` (fetched natively) or a coarser
        resample rule (fetched at the provider's timeframe and resampled).
        """
        tf = timeframe or self.timeframe
        native = tf in INTERVALS
        df = self._download(symbol, start, end, tf if native else self.timeframe)
        dur = INTERVALS[tf if native else self.timeframe][1]
        return frame_history(
            df, start, end, None if native else tf,
            closed_by_ns=self.clock.now_ns(), duration_ns=dur,
        )  # fmt: skip

    def latest(self, symbol: str) -> Bar | None:
        """The most recent closed bar at the provider's timeframe (None if none)."""
        dur = INTERVALS[self.timeframe][1]
        now = self.clock.now_ns()
        start = now - max(5 * 86_400_000_000_000, 400 * dur)
        df = self.history(symbol, start, None)
        if len(df) == 0:
            return None
        return bar_from_row(df, len(df) - 1, symbol, self.timeframe, dur)


def _empty() -> pd.DataFrame:
    idx = pd.DatetimeIndex([], tz="UTC", name="ts").as_unit("ns")
    cols = {c: pd.Series([], dtype="float64") for c in ("open", "high", "low", "close", "volume")}
    return pd.DataFrame(cols, index=idx)


def recorded_fetch(responses: dict[tuple[str, str], pd.DataFrame]) -> Fetch:
    """A ``fetch`` that replays recorded ``Ticker.history`` frames keyed by (symbol, interval).

    For tests and offline demos; unknown keys raise :class:`DataError`.
    """

    def fetch(
        symbol: str, start: pd.Timestamp | None, end: pd.Timestamp | None, interval: str
    ) -> pd.DataFrame:
        try:
            return responses[(symbol, interval)].copy()
        except KeyError:
            raise DataError(f"no recorded response for {(symbol, interval)}") from None

    return fetch
