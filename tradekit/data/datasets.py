"""Data that works offline: shipped real daily bars, optional EURUSD, seeded synthetic bars.

Shipped Parquet files (``data/*.parquet``, written once by ``scripts/convert_sample_data.py``;
sources and licences in ``data/README.md``) need only pandas + pyarrow at run time:

========== ===================================================== ==========================
name        content                                               source
========== ===================================================== ==========================
``aapl``    AAPL daily 2000-03-01 … 2013-03-01                    bokeh_sampledata (public domain)
``goog``    GOOG daily 2004-08-19 … 2013-03-01                    bokeh_sampledata (public domain)
``ibm``     IBM daily 2000-03-01 … 2013-03-01                     bokeh_sampledata (public domain)
``msft``    MSFT daily 2000-03-01 … 2013-03-01                    bokeh_sampledata (public domain)
``aapl_2019`` AAPL daily 2019-01-02 … 2024-12                     installed hvsampledata only
========== ===================================================== ==========================

``aapl_2019`` is **not shipped**: hvsampledata's code is BSD-3 but the data's own notice limits it
to demonstration/education under Yahoo's terms, so it is read from the installed package (a dev
extra) when present, like the AGPL EURUSD series, and never copied into the repository.

**Daily timestamps.** A daily bar is stamped with its session's **open** in UTC (09:30 New York
= 14:30 UTC in winter, 13:30 UTC in summer), not midnight: the bar contract's timestamp is the
open time, and midnight UTC would put the bar before the market opened (and on the previous
New York date), breaking session gates and daily/weekly resampling.

**Adjustment.** The files keep the unadjusted OHLCV plus the source's ``adj_close``.
:func:`load` returns split/dividend-adjusted bars by default (``adjusted=True``: OHLC scaled by
``adj_close / close``, volume by the inverse), because unadjusted series contain artificial
gaps at splits (AAPL 2:1 in 2005, 7:1 in 2014) that detectors would read as crashes.
"""

from __future__ import annotations

import builtins
import importlib.util
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradekit.data.schema import BAR_COLUMNS, validate_bars
from tradekit.data.synthetic import synthetic_intraday, synthetic_pair, synthetic_vix
from tradekit.errors import DataError

__all__ = [
    "DATASETS",
    "data_dir",
    "eurusd_hourly",
    "info",
    "list",
    "load",
    "synthetic_intraday",
    "synthetic_pair",
    "synthetic_vix",
]

DATASETS: dict[str, dict[str, str]] = {
    "aapl": {"symbol": "AAPL", "source": "bokeh_sampledata.stocks", "licence": "public domain"},
    "goog": {"symbol": "GOOG", "source": "bokeh_sampledata.stocks", "licence": "public domain"},
    "ibm": {"symbol": "IBM", "source": "bokeh_sampledata.stocks", "licence": "public domain"},
    "msft": {"symbol": "MSFT", "source": "bokeh_sampledata.stocks", "licence": "public domain"},
    "aapl_2019": {
        "symbol": "AAPL",
        "source": "hvsampledata.apple_stocks",
        "licence": "hvsampledata (BSD-3); data notice: demonstration/education, Yahoo terms",
    },
}


def data_dir() -> Path:
    """Directory of the shipped Parquet files: ``$TRADEKIT_DATA_DIR`` or the repo's ``data/``."""
    env = os.environ.get("TRADEKIT_DATA_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "data"


_FROM_PACKAGE = {"aapl_2019"}


def list() -> builtins.list[str]:
    """Names accepted by :func:`load` that are available here (file shipped or package
    installed), sorted."""
    base = data_dir()
    shipped = {n for n in DATASETS if (base / f"{n}.parquet").exists()}
    if importlib.util.find_spec("hvsampledata") is not None:
        shipped |= _FROM_PACKAGE
    return sorted(shipped)


def stamp_session_open(raw: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """Index a daily frame with a ``date`` column by its XNYS session open (UTC).

    Returns the frame (columns OHLCV + ``adj_close``, float64) and the number of rows dropped
    because their date is not a session.
    """
    from tradekit.data.calendar import get_calendar

    cols = ["open", "high", "low", "close", "volume", "adj_close"]
    dates = pd.DatetimeIndex(pd.to_datetime(raw["date"])).normalize().as_unit("ns")
    table = get_calendar("XNYS").sessions(dates.min(), dates.max())
    opens = pd.Series(table["open_ns"].to_numpy(), index=table.index.as_unit("ns"))
    ts = opens.reindex(dates).to_numpy()
    ok = ~np.isnan(ts.astype(np.float64))
    out = raw.loc[ok, cols].astype(np.float64)
    out.index = pd.DatetimeIndex(ts[ok].astype(np.int64).view("datetime64[ns]"), name="ts")
    out.index = out.index.tz_localize("UTC")
    return out, int((~ok).sum())


def _from_package(name: str) -> pd.DataFrame:
    try:
        import hvsampledata
    except ImportError:
        raise DataError(
            f"dataset {name!r} is read from the optional 'hvsampledata' package, which is not "
            "installed: pip install hvsampledata",
            rule="dataset",
        ) from None
    raw = hvsampledata.apple_stocks("pandas")
    raw = raw.rename(columns={c: c.lower().replace(" ", "_") for c in raw.columns})
    return stamp_session_open(raw)[0]


def info(name: str) -> dict[str, Any]:
    """Source, licence, symbol, row count and date range of a shipped dataset."""
    df = load(name, adjusted=False)
    meta: dict[str, Any] = dict(DATASETS[name])
    where = "installed package" if name in _FROM_PACKAGE else str(_path(name))
    meta.update(rows=len(df), start=df.index[0], end=df.index[-1], path=where)
    return meta


def _path(name: str) -> Path:
    if name not in DATASETS:
        raise DataError(f"unknown dataset {name!r}; available: {sorted(DATASETS)}", rule="dataset")
    path = data_dir() / f"{name}.parquet"
    if not path.exists():
        raise DataError(
            f"dataset file {path} is missing; run scripts/convert_sample_data.py", rule="dataset"
        )
    return path


def _adjust(df: pd.DataFrame) -> pd.DataFrame:
    factor = (df["adj_close"] / df["close"]).to_numpy()
    out = df.copy()
    for col in ("open", "high", "low", "close"):
        out[col] = df[col].to_numpy() * factor
    out["volume"] = np.round(df["volume"].to_numpy() / factor)
    return out


def load(name: str, *, adjusted: bool = True) -> pd.DataFrame:
    """Daily bars of a shipped dataset, validated, stamped at each session's open (UTC).

    Parameters
    ----------
    name:
        One of :data:`DATASETS` (see :func:`list`).
    adjusted:
        Scale OHLC by ``adj_close / close`` (and volume by the inverse) so that splits and
        dividends leave no artificial gaps. ``False`` returns the source's raw prices.

    Returns
    -------
    pandas.DataFrame
        Bar-contract frame with an extra ``adj_close`` column; ``attrs``: ``symbol``,
        ``dataset``, ``source``, ``licence``, ``adjusted``, ``synthetic=False``.

    Examples
    --------
    >>> aapl = load("aapl")  # doctest: +SKIP
    >>> aapl.index[0]  # doctest: +SKIP
    Timestamp('2000-03-01 14:30:00+0000', tz='UTC')
    """
    df = _from_package(name) if name in _FROM_PACKAGE else pd.read_parquet(_path(name))
    df.index = pd.DatetimeIndex(df.index, name="ts").as_unit("ns")
    if adjusted:
        df = _adjust(df)
    out = validate_bars(df)
    meta = DATASETS[name]
    out.attrs.update(
        symbol=meta["symbol"], dataset=name, source=meta["source"], licence=meta["licence"],
        adjusted=adjusted, synthetic=False,
    )  # fmt: skip
    return out


def eurusd_hourly() -> pd.DataFrame:
    """EURUSD hourly bars (2017-04 … 2018-02, 5,000 bars) from the installed ``backtesting``.

    The data ships inside PyPI's ``backtesting`` package (AGPL-3.0); tradekit never copies it
    and reads it from the installed package only. Its timestamps carry no timezone; they are
    taken as UTC.

    Raises
    ------
    DataError
        ``backtesting`` is not installed (``pip install backtesting``).
    """
    try:
        from backtesting.test import EURUSD
    except ImportError as exc:
        raise DataError(
            "eurusd_hourly() needs the optional 'backtesting' package (AGPL-3.0), which is not "
            "installed: pip install backtesting",
            rule="dataset",
        ) from exc
    df = EURUSD.rename(columns=str.lower)[builtins.list(BAR_COLUMNS)].astype(np.float64)
    df.index = pd.DatetimeIndex(df.index, name="ts").tz_localize("UTC").as_unit("ns")
    out = validate_bars(df)
    out.attrs.update(
        symbol="EURUSD", dataset="eurusd_hourly", source="backtesting.test.EURUSD",
        licence="AGPL-3.0 (read from the installed package, never copied)", synthetic=False,
    )  # fmt: skip
    return out
