"""Small, readable bar builders for tests and examples.

Tests state their bars as data, next to the assertion that depends on them::

    bars = bars_from_rows([
        (10, 11, 9, 10.5, 100),   # o, h, l, c, v
        (10.5, 12, 10, 11.5, 200),
    ], start="2024-01-02 14:30", freq="1min")

Every builder returns a frame that satisfies the bar contract (it is passed through
:func:`~tradekit.data.schema.validate_bars`), so a typo in a test row fails loudly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from tradekit.core.events import Bar
from tradekit.data.schema import BAR_COLUMNS, validate_bars
from tradekit.errors import DataError

__all__ = ["bar", "bars_from_closes", "bars_from_rows", "bars_to_events"]

Row = Sequence[float]


def _index(start: str | pd.Timestamp, n: int, freq: str) -> pd.DatetimeIndex:
    ts = pd.Timestamp(start)
    ts = ts.tz_localize("UTC") if ts.tz is None else ts.tz_convert("UTC")
    return pd.date_range(ts, periods=n, freq=freq, name="ts").as_unit("ns")


def bars_from_rows(
    rows: Iterable[Row],
    *,
    start: str | pd.Timestamp = "2024-01-02 14:30",
    freq: str = "1min",
    index: Sequence[str | pd.Timestamp] | pd.DatetimeIndex | None = None,
    validate: bool = True,
) -> pd.DataFrame:
    """Bars from ``(open, high, low, close[, volume])`` tuples on a regular grid.

    Parameters
    ----------
    rows:
        One tuple per bar; volume defaults to 0 when a row has four values.
    start, freq:
        First open time (naive strings are UTC) and spacing of the grid.
    index:
        Explicit open times instead of the grid (naive values are UTC).
    validate:
        Run :func:`validate_bars` (default). Pass False to build deliberately bad frames
        for validation tests.

    Examples
    --------
    >>> bars_from_rows([(1, 2, 0.5, 1.5, 10)]).index[0]
    Timestamp('2024-01-02 14:30:00+0000', tz='UTC')
    """
    data = [tuple(float(x) for x in r) for r in rows]
    for i, r in enumerate(data):
        if len(r) not in (4, 5):
            raise DataError(f"row {i} needs 4 or 5 values (o, h, l, c[, v]), got {len(r)}", row=i)
    arr = np.array([r if len(r) == 5 else (*r, 0.0) for r in data], dtype=np.float64)
    arr = arr.reshape(len(data), 5)
    if index is None:
        idx = _index(start, len(data), freq)
    else:
        idx = pd.DatetimeIndex(index)
        idx = (idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")).as_unit("ns")
        idx = idx.rename("ts")
    df = pd.DataFrame(arr, index=idx, columns=list(BAR_COLUMNS))
    return validate_bars(df) if validate else df


def bars_from_closes(
    closes: Sequence[float] | np.ndarray,
    *,
    start: str | pd.Timestamp = "2024-01-02 14:30",
    freq: str = "1min",
    spread: float = 0.1,
    volume: float = 1000.0,
) -> pd.DataFrame:
    """Bars whose open is the previous close and whose wicks stick out by ``spread``.

    Handy when only the close path matters (trends, crossings). The first open equals the
    first close.
    """
    c = np.asarray(closes, dtype=np.float64)
    o = np.r_[c[:1], c[:-1]]
    rows = zip(
        o,
        np.maximum(o, c) + spread,
        np.minimum(o, c) - spread,
        c,
        np.full(c.shape, volume),
        strict=True,
    )
    return bars_from_rows(list(rows), start=start, freq=freq)


def bar(
    o: float,
    h: float,
    lo: float,
    c: float,
    v: float = 0.0,
    *,
    ts: str | pd.Timestamp = "2024-01-02 14:30",
    symbol: str = "TEST",
    timeframe: str = "1min",
    duration_ns: int = 60_000_000_000,
) -> Bar:
    """One :class:`~tradekit.core.events.Bar` event (naive ``ts`` is UTC)."""
    t = pd.Timestamp(ts)
    t = t.tz_localize("UTC") if t.tz is None else t.tz_convert("UTC")
    return Bar(symbol, timeframe, int(t.value), float(o), float(h), float(lo), float(c), float(v),
               duration_ns)  # fmt: skip


def bars_to_events(
    df: pd.DataFrame, symbol: str, *, timeframe: str = "1min", duration_ns: int | None = None
) -> list[Bar]:
    """The rows of a bar frame as :class:`~tradekit.core.events.Bar` events (replay order);
    see :func:`tradekit.data.schema.bars_to_events`."""
    from tradekit.data.schema import bars_to_events as _convert

    return _convert(df, symbol, timeframe, duration_ns)
