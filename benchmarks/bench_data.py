"""Data-layer speed goals on ~1M one-minute bars (2,564 NYSE sessions).

Targets (each < 1 s on a 2-core machine, warm JIT cache):

* ``synthetic_intraday`` — generate ~1M bars (calendar grid, regimes, OHLCV);
* ``validate_bars`` — validate 1M clean bars, and 1M bars with 1% bad rows in quarantine mode;
* ``resample 5min+15min+1h`` — all three session-aware resamples of the 1M bars, total;
  anchor: pandas ``resample().agg()`` for the same three rules on the plain UTC grid (pandas
  has no known-time or session logic, so the ratio is an upper bound on our overhead);
* ``htf_index_map`` — as-of map of 1M base bars onto the 1h series.

Each figure is the best of ``REPEAT`` runs after one warm-up. Run:
``python benchmarks/bench_data.py``; ``main()`` returns the rows for ``benchmarks/run.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from tradekit.data.resample import htf_index_map, resample
from tradekit.data.schema import validate_bars
from tradekit.data.synthetic import synthetic_intraday

SESSIONS = 2564
REPEAT = 3
RULES = ("5min", "15min", "1h")
AGG = {"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"}


def _best(fn: Callable[[], Any]) -> float:
    fn()  # warm-up (JIT cache load, calendar cache)
    times = []
    for _ in range(REPEAT):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def _dirty(bars: pd.DataFrame) -> pd.DataFrame:
    df = bars.copy()
    rng = np.random.default_rng(1)
    bad = rng.choice(len(df), len(df) // 100, replace=False)
    high = df["high"].to_numpy().copy()
    high[bad] = df["low"].to_numpy()[bad] - 1.0  # high < low
    df["high"] = high
    return df


def _row(
    name: str, seconds: float, target: float | None, anchor: float | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "figure": seconds,
        "unit": "s",
        "target": target,
        "ratio": None if anchor is None else seconds / anchor,
    }


def _print(rows: list[dict[str, Any]]) -> None:
    print(f"{'benchmark':<58} {'figure':>8} {'unit':<4} {'target':>7} {'ratio':>14}")
    for r in rows:
        target = "" if r["target"] is None else f"< {r['target']:g}"
        ratio = "" if r["ratio"] is None else f"{r['ratio']:.2f}x pandas"
        print(f"{r['name']:<58} {r['figure']:>8.3f} {r['unit']:<4} {target:>7} {ratio:>14}")


def main() -> list[dict[str, Any]]:
    """Run the data benchmarks and return one row dict per figure."""
    bars = synthetic_intraday("SPY", start="2014-01-02", days=SESSIONS, seed=0)
    n = len(bars)
    dirty = _dirty(bars)
    ts = bars.index.asi8
    hourly = resample(bars, "1h")
    rows = [
        _row(f"synthetic_intraday ({n:,} bars)", _best(
            lambda: synthetic_intraday("SPY", start="2014-01-02", days=SESSIONS, seed=0)), 1.0),
        _row(f"validate_bars clean ({n:,} bars)", _best(lambda: validate_bars(bars)), 1.0),
        _row(f"validate_bars quarantine, 1% bad ({n:,} bars)",
             _best(lambda: validate_bars(dirty, on_error="quarantine")), 1.0),
    ]  # fmt: skip
    ours = _best(lambda: [resample(bars, r) for r in RULES])
    pandas = _best(lambda: [bars.resample(r).agg(AGG) for r in RULES])
    rows.append(_row("resample 5min+15min+1h, session-aware, known_index", ours, 1.0, pandas))
    rows.append(_row("pandas resample().agg() 5min+15min+1h (anchor)", pandas, None))
    rows.append(
        _row(
            f"htf_index_map ({n:,} base bars -> 1h)", _best(lambda: htf_index_map(ts, hourly)), None
        )
    )
    _print(rows)
    return rows


if __name__ == "__main__":
    main()
