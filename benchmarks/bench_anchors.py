"""The vectorised fast path against the anchor libraries: SMA(10)/SMA(50) crossover, long only,
next-bar-open fills, 0.1 % commission, whole units, all equity.

Data: backtesting.py's EURUSD hourly series (real), and 100k / 1M synthetic 1-minute bars.
Libraries: ``tradekit.research.vectorized.backtest_signals`` (numba, compiled before timing) and
backtesting.py; vectorbt and backtrader are added to the table when installed (the ``bench``
extra; backtrader only up to 100k bars). All use the same crossover rule (strict on both bars,
as ``backtesting.lib.crossover``) and pandas-identical SMAs, so the trade lists must agree. Each row: seconds (best of ``REPEAT``), trades, final equity, and the ratio of the
anchor's time to ours. Run: ``python benchmarks/bench_anchors.py`` (the 1M backtesting.py run
takes a few seconds).
"""

from __future__ import annotations

import importlib.util
import os
import time
from typing import Any

import pandas as pd

from tradekit.data import datasets
from tradekit.research.vectorized import backtest_signals, sma_cross_signals

os.environ.setdefault("TQDM_DISABLE", "1")  # backtesting.py's own progress bar
REPEAT = 3
CASH = 10_000.0


def _best(fn: Any, repeat: int = REPEAT) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def _ours(bars: pd.DataFrame) -> tuple[float, int, float]:
    def run() -> Any:
        entries, exits = sma_cross_signals(bars["close"], 10, 50)
        return backtest_signals(bars, entries, exits, commission=0.001, initial_cash=CASH)

    run()  # compile
    t, res = _best(run)
    return t, len(res.trades), float(res.final_equity)


def _backtesting_py(bars: pd.DataFrame, repeat: int) -> tuple[float, int, float] | None:
    if importlib.util.find_spec("backtesting") is None:
        return None
    import warnings

    from backtesting import Backtest, Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    class Cross(Strategy):
        def init(self) -> None:
            self.fast = self.I(SMA, self.data.Close, 10)
            self.slow = self.I(SMA, self.data.Close, 50)

        def next(self) -> None:
            if crossover(self.fast, self.slow) and not self.position:
                self.buy()
            elif crossover(self.slow, self.fast) and self.position:
                self.position.close()

    frame = bars.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    frame.index = frame.index.tz_convert(None)

    def run() -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Backtest(frame, Cross, cash=CASH, commission=0.001,
                            finalize_trades=True).run()  # fmt: skip

    t, st = _best(run, repeat)
    return t, int(st["# Trades"]), float(st["Equity Final [$]"])


def _vectorbt(bars: pd.DataFrame) -> tuple[float, int, float] | None:
    if importlib.util.find_spec("vectorbt") is None:
        return None
    import vectorbt as vbt

    close, open_ = bars["close"], bars["open"]

    def run() -> Any:
        f, s = close.rolling(10).mean(), close.rolling(50).mean()
        # backtesting.lib.crossover's strict rule on both bars (a touch is not a cross)
        up = (f > s) & (f.shift() < s.shift())
        down = (f < s) & (f.shift() > s.shift())
        return vbt.Portfolio.from_signals(open_, up.shift(fill_value=False),
                                          down.shift(fill_value=False), init_cash=CASH,
                                          fees=0.001, size_granularity=1)  # fmt: skip

    run()
    t, pf = _best(run)
    return t, int(pf.trades.count()), float(pf.final_value())


def _backtrader(bars: pd.DataFrame) -> tuple[float, int, float] | None:
    """backtrader with cheat-on-open: the order sized and filled at the next bar's open, whole
    units of ``cash // (open × (1 + commission))``, the same rule as the others."""
    if importlib.util.find_spec("backtrader") is None:
        return None
    import backtrader as bt

    class Cross(bt.Strategy):  # type: ignore[misc]
        def __init__(self) -> None:
            # bt.indicators.CrossOver carries the last non-zero difference (a touch then a
            # move counts as a cross); the strict two-bar rule of the others is spelled out
            self.fast = bt.indicators.SMA(self.data.close, period=10)
            self.slow = bt.indicators.SMA(self.data.close, period=50)
            self.pending = 0  # +1 buy / -1 sell at the next open
            self.n_trades = 0

        def next(self) -> None:  # the bar's close: decide
            f0, f1, s0, s1 = self.fast[0], self.fast[-1], self.slow[0], self.slow[-1]
            if f1 < s1 and f0 > s0 and not self.position:
                self.pending = 1
            elif f1 > s1 and f0 < s0 and self.position:
                self.pending = -1

        def next_open(self) -> None:  # the next bar's open: act
            if self.pending > 0:
                units = int(self.broker.getcash() // (self.data.open[0] * 1.001))
                if units:
                    self.buy(size=units)
            elif self.pending < 0:
                self.close()
                self.n_trades += 1
            self.pending = 0

    frame = bars.rename(columns=str.lower)[["open", "high", "low", "close", "volume"]].copy()
    frame.index = frame.index.tz_convert(None)

    def run() -> Any:
        cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True)
        cerebro.adddata(bt.feeds.PandasData(dataname=frame))
        cerebro.addstrategy(Cross)
        cerebro.broker.setcash(CASH)
        cerebro.broker.setcommission(commission=0.001)
        strat = cerebro.run()[0]
        return strat.n_trades, cerebro.broker.getvalue()

    t, (n, value) = _best(run, 1)
    return t, int(n), float(value)


def _datasets() -> list[tuple[str, pd.DataFrame, int]]:
    out: list[tuple[str, pd.DataFrame, int]] = []
    if importlib.util.find_spec("backtesting") is not None:
        from backtesting.test import EURUSD

        eur = EURUSD.rename(columns=str.lower).copy()
        eur.index = pd.DatetimeIndex(eur.index).tz_localize("UTC")
        out.append(("EURUSD 1h (real)", eur, REPEAT))
    for n in (100_000, 1_000_000):
        days = n // 390 + 1
        bars = datasets.synthetic_intraday("SPY", start="2020-01-02", days=days, seed=5).iloc[:n]
        out.append((f"synthetic 1min {n:,}", bars, 1))
    return out


def main() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for label, bars, repeat in _datasets():
        t0, n0, eq0 = _ours(bars)
        rows.append({"name": f"{label}: tradekit fast path", "value": round(t0, 4), "unit": "s",
                     "trades": n0, "final_equity": round(eq0, 2)})  # fmt: skip
        for lib, fn in (("backtesting.py", lambda b, r=repeat: _backtesting_py(b, r)),
                        ("vectorbt", _vectorbt), ("backtrader", _backtrader)):  # fmt: skip
            if lib == "backtrader" and len(bars) > 200_000:
                rows.append({"name": f"{label}: {lib}", "note": "skipped (minutes at 1M bars)"})
                continue
            got = fn(bars)
            if got is None:
                rows.append({"name": f"{label}: {lib}", "note": "not installed"})
                continue
            t, n, eq = got
            rows.append({"name": f"{label}: {lib}", "value": round(t, 4), "unit": "s",
                         "trades": n, "final_equity": round(eq, 2),
                         "ratio": f"{t / t0:,.0f}x slower" if t0 > 0 else "",
                         "same": "trades and equity" if (n, round(eq, 2)) == (n0, round(eq0, 2))
                         else "DIFFERENT",
                         "target": {"backtesting.py": ">= 100x at 1M", "vectorbt": ">= 4x"}
                         .get(lib, "")})  # fmt: skip
    return rows


if __name__ == "__main__":
    for r in main():
        print("  ".join(f"{k}={v}" for k, v in r.items()))
