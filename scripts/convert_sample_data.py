"""Convert the sample stock data of PyPI packages into small Parquet files under ``data/``.

Run once (the output is committed), from the repo root::

    .venv/bin/python scripts/convert_sample_data.py

Needs ``bokeh_sampledata`` (a dev extra) only here; at run time tradekit
reads the Parquet files with pandas/pyarrow. Each daily bar is stamped with its session's open
in UTC (09:30 New York) from the XNYS calendar; rows that break the bar contract or fall on a
non-session date are dropped and counted in the generated ``data/README.md``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from tradekit.data.datasets import DATASETS, stamp_session_open
from tradekit.data.schema import validate_bars

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data"
COLUMNS = ["open", "high", "low", "close", "volume", "adj_close"]


def _bokeh(ticker: str) -> pd.DataFrame:
    from bokeh_sampledata import stocks

    raw = stocks.data
    return raw[raw["ticker"] == ticker].drop(columns="ticker")


def convert(name: str, raw: pd.DataFrame) -> dict[str, object]:
    stamped, not_session = stamp_session_open(raw)
    clean, bad = validate_bars(stamped, on_error="quarantine")
    clean = clean[COLUMNS]
    path = OUT / f"{name}.parquet"
    clean.to_parquet(path, compression="zstd")
    return {
        "name": name, "rows": len(clean), "start": clean.index[0].date(),
        "end": clean.index[-1].date(), "dropped_not_session": not_session,
        "dropped_invalid": len(bad), "reasons": sorted(set(bad["reason"])),
        "kb": round(path.stat().st_size / 1024),
    }  # fmt: skip


README_HEAD = """# Shipped sample data

Small, offline, real daily bars for demos and tests, written by
`scripts/convert_sample_data.py` (do not edit by hand) and read with
`tradekit.data.datasets.load(name)`.

* Index `ts`: the session **open** in UTC (09:30 New York, from the XNYS calendar), the
  bar contract's open-time convention; columns `open high low close volume` (unadjusted, as
  supplied by the source) and `adj_close` (the source's split/dividend-adjusted close).
  `load(name)` returns adjusted OHLCV by default (`adjusted=False` for raw prices).
* Rows on dates that are not XNYS sessions, or that break the bar contract, are dropped
  (counts below).

| file | symbol | source | licence | rows | first | last | dropped (not a session / invalid) | size |
|---|---|---|---|---|---|---|---|---|
"""

README_TAIL = """
## Sources and licences

* `aapl`, `goog`, `ibm`, `msft`: PyPI `bokeh_sampledata` (`bokeh_sampledata.stocks`), sourced
  from Quandl WIKI Prices, which Quandl declared **public domain** and permitted to
  redistribute. Series end on 2013-03-01. The `GOOG` file is Google's pre-2014 history
  (`GOOGL` in the source).
Not shipped:

* `aapl_2019` (AAPL daily 2019–2024, `datasets.load("aapl_2019")`): PyPI `hvsampledata` is
  BSD-3-Clause, but the dataset's own notice limits it to "demonstration and educational purposes
  only" under Yahoo's terms of use, so tradekit reads it from the installed package (a dev extra)
  and never copies it into the repository.
* EURUSD hourly from PyPI `backtesting` (AGPL-3.0) is read from the installed
package by `datasets.eurusd_hourly()` and never copied. Synthetic intraday bars are generated on
demand (`datasets.synthetic_intraday`) and are labelled synthetic.
"""


def main() -> int:
    OUT.mkdir(exist_ok=True)
    sources = {
        "aapl": lambda: _bokeh("AAPL"),
        "goog": lambda: _bokeh("GOOG"),
        "ibm": lambda: _bokeh("IBM"),
        "msft": lambda: _bokeh("MSFT"),
    }
    lines = []
    for name, fetch in sources.items():
        r = convert(name, fetch())
        meta = DATASETS[name]
        print(r)
        lines.append(
            f"| `{name}.parquet` | {meta['symbol']} | `{meta['source']}` | {meta['licence']} | "
            f"{r['rows']} | {r['start']} | {r['end']} | {r['dropped_not_session']} / "
            f"{r['dropped_invalid']} {r['reasons'] or ''} | {r['kb']} KB |"
        )
    (OUT / "README.md").write_text(README_HEAD + "\n".join(lines) + "\n" + README_TAIL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
