"""Bars from files: CSV, Parquet and DuckDB, with column-name normalisation.

:func:`load_bars` accepts what exports usually look like (``Date``, ``Datetime``,
``timestamp``, ``Open``, ``Adj Close``, ``VOLUME``...) and returns validated bars:

* column names are matched case-insensitively, ignoring spaces, ``_`` and ``-``;
  the time column may also be the frame's index (Parquet);
* timestamps with an offset or zone are converted to UTC; naive timestamps need ``tz=``
  (the zone they are in, e.g. ``"America/New_York"``) or an error explains why;
  integer epochs are read in s / ms / us / ns by magnitude;
* **date-only daily data** (every timestamp at midnight) is stamped at the session open of
  ``calendar`` (09:30 New York → UTC), the same convention as :mod:`tradekit.data.datasets`;
  dates that are not sessions keep midnight UTC;
* a missing ``volume`` column is filled with 0 (FX, indices); ``adj_close`` is kept;
* a ``symbol``/``ticker`` column is filtered by ``symbol=``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal, cast

import numpy as np
import pandas as pd

from tradekit.core.events import Bar
from tradekit.data.calendar import get_calendar
from tradekit.data.schema import BAR_COLUMNS, ValidatedBars, validate_bars
from tradekit.data.sources.base import TimeLike, bar_duration, bar_from_row, frame_history
from tradekit.errors import DataError

__all__ = ["FileProvider", "load_bars", "normalize_bars"]

_ALIASES: dict[str, str] = {
    "date": "ts", "datetime": "ts", "timestamp": "ts", "time": "ts", "ts": "ts",
    "dateutc": "ts", "datetimeutc": "ts", "timestamputc": "ts", "index": "ts",
    "open": "open", "o": "open", "high": "high", "h": "high", "low": "low", "l": "low",
    "close": "close", "c": "close", "last": "close", "price": "close",
    "volume": "volume", "vol": "volume", "v": "volume",
    "adjclose": "adj_close", "adjustedclose": "adj_close",
    "symbol": "symbol", "ticker": "symbol",
}  # fmt: skip
_DUCKDB_SUFFIXES = {".duckdb", ".db", ".ddb"}


def _key(name: object) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def _rename(df: pd.DataFrame) -> pd.DataFrame:
    mapping: dict[object, str] = {}
    for col in df.columns:
        target = _ALIASES.get(_key(col))
        if target is not None and target not in mapping.values():
            mapping[col] = target
    out = df.rename(columns=mapping)
    keep = [c for c in (*BAR_COLUMNS, "adj_close", "symbol", "ts") if c in out.columns]
    return out[keep]


def _epoch_unit(values: np.ndarray) -> str:
    mag = float(np.nanmax(np.abs(values))) if values.size else 0.0
    return "ns" if mag > 1e17 else "us" if mag > 1e14 else "ms" if mag > 1e11 else "s"


def _to_utc_index(raw: pd.Series | pd.Index, tz: str | None, calendar: str) -> pd.DatetimeIndex:
    values = pd.Series(raw)
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        arr = values.to_numpy(dtype=np.float64)
        idx = pd.DatetimeIndex(pd.to_datetime(arr, unit=_epoch_unit(arr), utc=True))
        return idx.as_unit("ns")
    try:
        idx = pd.DatetimeIndex(pd.to_datetime(values, utc=False, format="mixed"))
    except (ValueError, TypeError) as exc:
        raise DataError(f"cannot parse timestamps: {exc}", rule="timestamp") from exc
    if idx.tz is None:
        midnight = len(idx) > 0 and bool((idx.as_unit("ns").asi8 % 86_400_000_000_000 == 0).all())
        if midnight:
            return _stamp_session_open(idx, calendar)
        if tz is None:
            raise DataError(
                "timestamps have no timezone; pass tz= with the zone they are in "
                "(e.g. load_bars(path, tz='America/New_York') or tz='UTC')",
                rule="naive_timestamp",
            )
        idx = idx.tz_localize(tz)
    return idx.tz_convert("UTC").as_unit("ns")


def _stamp_session_open(dates: pd.DatetimeIndex, calendar: str) -> pd.DatetimeIndex:
    """Date-only daily bars → the session open in UTC (midnight UTC for non-session dates)."""
    d = dates.as_unit("ns")
    table = get_calendar(calendar).sessions(d.min(), d.max())
    opens = pd.Series(table["open_ns"].to_numpy(), index=table.index.as_unit("ns"))
    ts = opens.reindex(d).to_numpy(dtype=np.float64)
    ns = np.where(np.isnan(ts), d.asi8, np.nan_to_num(ts)).astype(np.int64)
    return pd.DatetimeIndex(ns.view("datetime64[ns]")).tz_localize("UTC")


def normalize_bars(
    df: pd.DataFrame,
    *,
    symbol: str | None = None,
    tz: str | None = None,
    calendar: str = "XNYS",
) -> pd.DataFrame:
    """Rename columns, parse the time column to a UTC index and filter ``symbol`` (no
    validation; :func:`load_bars` validates). See the module docstring for the rules."""
    if "ts" not in {_ALIASES.get(_key(c)) for c in df.columns}:
        df = df.reset_index()
    out = _rename(df)
    if "ts" not in out.columns:
        raise DataError(f"no time column among {list(df.columns)}", rule="missing_column")
    if "symbol" in out.columns:
        syms = out["symbol"].astype(str)
        if symbol is not None:
            out = out[syms == symbol]
            if len(out) == 0:
                raise DataError(f"symbol {symbol!r} not in the data", rule="symbol")
        elif syms.nunique() > 1:
            raise DataError(
                f"the data holds several symbols {sorted(syms.unique())[:5]}...; pass symbol=",
                rule="symbol",
            )
        out = out.drop(columns="symbol")
    if "volume" not in out.columns:
        out = out.assign(volume=0.0)
    missing = [c for c in BAR_COLUMNS if c not in out.columns]
    if missing:
        raise DataError(f"no column for {missing} among {list(df.columns)}", rule="missing_column")
    index = _to_utc_index(out["ts"], tz, calendar).rename("ts")
    out = out.drop(columns="ts")
    out.index = index
    return out


def _read(path: Path, query: str | None, table: str | None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    if not path.exists():
        raise DataError(f"no such file: {path}", rule="file")
    if suffix in (".csv", ".txt") or path.name.lower().endswith(".csv.gz"):
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if suffix in _DUCKDB_SUFFIXES:
        return _read_duckdb(path, query, table)
    raise DataError(f"unsupported file type {suffix!r} (csv, parquet, duckdb)", rule="file")


def _read_duckdb(path: Path, query: str | None, table: str | None) -> pd.DataFrame:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        if query is None:
            if table is None:
                tables = [r[0] for r in con.execute("SHOW TABLES").fetchall()]
                if len(tables) != 1:
                    raise DataError(f"{path} holds tables {tables}; pass table= or query=")
                table = tables[0]
            query = f'SELECT * FROM "{table.replace(chr(34), "")}"'
        return con.execute(query).df()
    finally:
        con.close()


def load_bars(
    path: str | Path,
    *,
    symbol: str | None = None,
    tz: str | None = None,
    table: str | None = None,
    query: str | None = None,
    on_error: Literal["raise", "quarantine"] = "raise",
    calendar: str = "XNYS",
) -> pd.DataFrame:
    """Read bars from a CSV, Parquet or DuckDB file and return them validated.

    Parameters
    ----------
    path:
        ``.csv`` (or ``.csv.gz``), ``.parquet``, or a DuckDB file (``.duckdb``/``.db``).
    symbol:
        Keep only this symbol when the data has a ``symbol``/``ticker`` column.
    tz:
        Zone of naive intraday timestamps (``"UTC"``, ``"America/New_York"``...).
    table, query:
        DuckDB only: the table to read (default: the only table) or a SQL query.
    on_error:
        ``"raise"`` or ``"quarantine"``; with quarantine the bad rows are dropped and
        recorded in ``attrs["quarantine"]`` (a frame, see
        :func:`~tradekit.data.schema.validate_bars`).
    calendar:
        Calendar used to stamp date-only daily bars at the session open.

    Examples
    --------
    >>> bars = load_bars("data/spy_1d.csv", symbol="SPY")  # doctest: +SKIP
    """
    p = Path(path)
    df = normalize_bars(_read(p, query, table), symbol=symbol, tz=tz, calendar=calendar)
    if on_error == "quarantine":
        res: ValidatedBars = validate_bars(df, on_error="quarantine")
        clean = res.bars
        clean.attrs["quarantine"] = res.quarantine
    else:
        clean = validate_bars(df)
    clean.attrs.update(source=str(p), symbol=symbol)
    return clean


class FileProvider:
    """Provider over files: ``{symbol: path}`` or a directory of ``<SYMBOL>.parquet|.csv``.

    Files are read once (lazily) and cached; ``history`` slices and optionally resamples.
    """

    def __init__(
        self,
        source: str | Path | Mapping[str, str | Path],
        *,
        timeframe: str = "1min",
        tz: str | None = None,
    ) -> None:
        self._paths: dict[str, Path] | None = None
        self._root: Path | None = None
        if isinstance(source, Mapping):
            self._paths = {s: Path(p) for s, p in source.items()}
        else:
            self._root = Path(source)
        self.timeframe = timeframe
        self.tz = tz
        self._cache: dict[str, pd.DataFrame] = {}

    def __repr__(self) -> str:
        src = self._root if self._root is not None else sorted(self._paths or {})
        return f"FileProvider({src!r}, timeframe={self.timeframe!r})"

    def _path(self, symbol: str) -> Path:
        if self._paths is not None:
            if symbol not in self._paths:
                raise DataError(f"unknown symbol {symbol!r}; known: {sorted(self._paths)}")
            return self._paths[symbol]
        root = cast(Path, self._root)
        for ext in (".parquet", ".csv", ".csv.gz"):
            for name in (symbol, symbol.lower()):
                candidate = root / f"{name}{ext}"
                if candidate.exists():
                    return candidate
        raise DataError(f"no file for {symbol!r} in {root}", rule="file")

    def _frame(self, symbol: str) -> pd.DataFrame:
        if symbol not in self._cache:
            self._cache[symbol] = load_bars(self._path(symbol), symbol=symbol, tz=self.tz)
        return self._cache[symbol]

    def history(
        self,
        symbol: str,
        start: TimeLike = None,
        end: TimeLike = None,
        timeframe: str | None = None,
    ) -> pd.DataFrame:
        """Bars of ``symbol`` in ``[start, end)``, resampled to ``timeframe`` if given."""
        return frame_history(self._frame(symbol), start, end, timeframe)

    def latest(self, symbol: str) -> Bar | None:
        """The last bar in the file (files hold closed bars only)."""
        df = self._frame(symbol)
        if len(df) == 0:
            return None
        return bar_from_row(df, len(df) - 1, symbol, self.timeframe, bar_duration(df.index.asi8))
