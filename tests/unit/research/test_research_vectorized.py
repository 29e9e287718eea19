"""The vectorised fast path: hand-computed cases, the numba SMA, and backtesting.py parity."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.errors import ConfigError, DataError
from tradekit.research import nb
from tradekit.research.vectorized import backtest_signals, sma, sma_cross_signals
from tradekit.testing.bars import bars_from_rows

backtesting = pytest.importorskip("backtesting")


def _bars(opens: list[float], closes: list[float]) -> pd.DataFrame:
    rows = [
        (o, max(o, c) + 1, min(o, c) - 1, c, 1000.0) for o, c in zip(opens, closes, strict=True)
    ]
    return bars_from_rows(rows, freq="1h")


def _flags(n: int, *on: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[list(on)] = True
    return out


class TestFillsAndSizing:
    def test_signal_at_close_fills_at_next_open_with_commission_both_sides(self) -> None:
        bars = _bars([10, 10, 20, 30, 40], [10, 10, 25, 35, 45])
        res = backtest_signals(bars, _flags(5, 1), _flags(5, 2), commission=0.01,
                               initial_cash=1010.0)  # fmt: skip
        t = res.trades.iloc[0]
        # 1010 // (20 × 1.01) = 50 units at the open of bar 2, sold at the open of bar 3
        assert (t.entry_bar, t.exit_bar, t.quantity) == (2, 3, 50.0)
        assert (t.entry_price, t.exit_price) == (20.0, 30.0)
        assert t.commission == pytest.approx(50 * 20 * 0.01 + 50 * 30 * 0.01)
        assert t.pnl == pytest.approx(50 * 10 - 25.0)
        assert res.final_equity == pytest.approx(1010.0 + 475.0)
        assert res.equity["position"].tolist() == [0, 0, 50, 0, 0]

    def test_fill_at_close(self) -> None:
        bars = _bars([10, 10, 20, 30], [10, 12, 25, 35])
        res = backtest_signals(bars, _flags(4, 1), _flags(4, 2), commission=0.0,
                               fill="close", initial_cash=120.0)  # fmt: skip
        t = res.trades.iloc[0]
        assert (t.entry_bar, t.exit_bar, t.entry_price, t.exit_price, t.quantity) == (
            1, 2, 12.0, 25.0, 10.0,
        )  # fmt: skip

    def test_fractional_units_and_partial_size(self) -> None:
        bars = _bars([10, 10, 30], [10, 10, 30])
        res = backtest_signals(bars, _flags(3, 0), _flags(3), commission=0.0, units="fractional",
                               size=0.5, initial_cash=15.0)  # fmt: skip
        assert res.equity["position"].iloc[-1] == pytest.approx(0.75)
        assert res.open_trade["quantity"].iloc[0] == pytest.approx(0.75)
        assert res.trades.empty

    def test_fixed_plus_percent_commission_fits_the_budget(self) -> None:
        bars = _bars([10, 10, 10], [10, 10, 10])
        res = backtest_signals(bars, _flags(3, 0), _flags(3), commission=(5.0, 0.01),
                               initial_cash=1000.0)  # fmt: skip
        q = res.open_trade["quantity"].iloc[0]
        assert q == 98.0  # 98 × 10 × 1.01 + 5 = 994.8 ≤ 1000 < 99 × 10.1 + 5
        assert res.equity["cash"].iloc[-1] == pytest.approx(1000 - 994.8)

    def test_slippage_against_the_trader(self) -> None:
        bars = _bars([100, 100, 100], [100, 100, 100])
        res = backtest_signals(bars, _flags(3, 0), _flags(3, 1), commission=0.0,
                               slippage=10.0, initial_cash=10_000.0)  # fmt: skip
        t = res.trades.iloc[0]
        assert t.entry_price == pytest.approx(100.1) and t.exit_price == pytest.approx(99.9)

    def test_short(self) -> None:
        bars = _bars([10, 10, 8, 5], [10, 10, 6, 5])
        res = backtest_signals(bars, _flags(4, 0), _flags(4, 1), commission=0.0,
                               direction="short", initial_cash=100.0)  # fmt: skip
        t = res.trades.iloc[0]
        assert (t.direction, t.quantity, t.pnl) == (-1, 10.0, 20.0)
        assert res.final_equity == pytest.approx(120.0)


class TestSignalRules:
    def test_entry_while_long_and_exit_while_flat_are_ignored(self) -> None:
        bars = _bars([10] * 6, [10] * 6)
        res = backtest_signals(bars, _flags(6, 0, 1, 2), _flags(6, 3, 4), commission=0.0)
        assert res.trades[["entry_bar", "exit_bar"]].values.tolist() == [[1, 4]]

    def test_same_bar_entry_and_exit_cancel(self) -> None:
        bars = _bars([10] * 4, [10] * 4)
        res = backtest_signals(bars, _flags(4, 1), _flags(4, 1), commission=0.0)
        assert res.trades.empty and res.open_trade.empty

    def test_last_bar_signal_never_fills_and_close_at_end_settles(self) -> None:
        bars = _bars([10, 10, 11], [10, 10, 12])
        assert backtest_signals(bars, _flags(3, 2), _flags(3)).open_trade.empty
        res = backtest_signals(bars, _flags(3, 0), _flags(3), commission=0.0, close_at_end=True,
                               initial_cash=100.0)  # fmt: skip
        assert res.trades[["entry_bar", "exit_bar", "exit_price"]].values.tolist() == [[1, 2, 12.0]]
        assert res.open_trade.empty

    def test_open_trade_is_marked_to_market(self) -> None:
        bars = _bars([10, 10, 11], [10, 10, 12])
        res = backtest_signals(bars, _flags(3, 0), _flags(3), commission=0.0, initial_cash=100.0)
        assert res.final_equity == pytest.approx(120.0)
        assert pd.isna(res.open_trade["exit_time"].iloc[0])
        assert res.stats["open_position"] == 10.0


class TestBadInput:
    def test_errors_are_typed(self) -> None:
        bars = _bars([10, 10], [10, 10])
        ok = np.zeros(2, dtype=bool)
        with pytest.raises(DataError, match="shape"):
            backtest_signals(bars, np.zeros(3, bool), ok)
        with pytest.raises(DataError, match="boolean"):
            backtest_signals(bars, np.array([0.5, 0]), ok)
        with pytest.raises(ConfigError, match="fill"):
            backtest_signals(bars, ok, ok, fill="next_close")  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="size"):
            backtest_signals(bars, ok, ok, size=2.0)
        with pytest.raises(ConfigError, match="numba twin"):
            backtest_signals(bars, ok, ok, commission=lambda q, p, m: 1.0)
        with pytest.raises(DataError, match="open"):
            backtest_signals(bars.drop(columns="open"), ok, ok)
        shifted = pd.Series(ok, index=bars.index + pd.Timedelta("1min"))
        with pytest.raises(DataError, match="index"):
            backtest_signals(bars, shifted, ok)


class TestSma:
    @settings(max_examples=80, deadline=None)
    @given(
        st.lists(
            st.one_of(st.floats(-2000.0, 2000.0), st.sampled_from([0.0, 1.1, 436.54, -3.3])),
            min_size=1,
            max_size=300,
        ),
        st.integers(1, 60),
    )
    def test_bit_identical_to_pandas_rolling_mean(self, xs: list[float], w: int) -> None:
        """Not close: equal, also with runs of one value and signs mixed (pandas' special cases)."""
        x = np.array(xs)
        ref = pd.Series(x).rolling(w).mean().to_numpy()
        np.testing.assert_array_equal(sma(x, w), ref)

    def test_bit_identical_on_cent_prices_with_exact_ties(self) -> None:
        """A 1-minute series in cents: SMA(10) equals SMA(50) exactly on some bars, and the
        crossover there is decided by the last bit, so the bits must be pandas'."""
        from tradekit.data import datasets

        close = datasets.synthetic_intraday("SPY", start="2020-01-02", days=60, seed=5)["close"]
        for w in (10, 50):
            ref = close.rolling(w).mean().to_numpy()
            np.testing.assert_array_equal(sma(close, w), ref)

    def test_crossover_matches_backtesting_lib(self) -> None:
        from backtesting.lib import crossover

        rng = np.random.default_rng(4)
        a, b = rng.normal(size=200), rng.normal(size=200)
        expected = [crossover(a[: i + 1], b[: i + 1]) for i in range(200)]
        expected[0] = False  # a single value cannot have crossed
        assert nb.crossover_1d_nb(a, b).tolist() == expected

    def test_bad_lengths(self) -> None:
        with pytest.raises(ConfigError):
            sma([1.0, 2.0], 0)
        with pytest.raises(ConfigError):
            sma_cross_signals([1.0, 2.0], 5, 5)


def _reference_strategy(direction: str):  # type: ignore[no-untyped-def]
    from backtesting import Strategy
    from backtesting.lib import crossover
    from backtesting.test import SMA

    class SmaCrossRef(Strategy):
        """Long-only (or short-only) SMA(10)/SMA(50) crossover: enter when flat, exit when in."""

        def init(self) -> None:
            self.fast = self.I(SMA, self.data.Close, 10)
            self.slow = self.I(SMA, self.data.Close, 50)

        def next(self) -> None:
            up, down = crossover(self.fast, self.slow), crossover(self.slow, self.fast)
            enter, leave = (up, down) if direction == "long" else (down, up)
            if enter and not self.position:
                self.buy() if direction == "long" else self.sell()
            elif leave and self.position:
                self.position.close()

    return SmaCrossRef


class TestBacktestingPyParity:
    """SMA 10/50 on the real EURUSD hourly series: the same trades and final equity."""

    @pytest.mark.parametrize("direction", ["long", "short"])
    @pytest.mark.parametrize("fill", ["next_open", "close"])
    def test_sma_cross_eurusd(self, direction: str, fill: str) -> None:
        from backtesting import Backtest
        from backtesting.test import EURUSD

        from tradekit.data.datasets import eurusd_hourly

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = Backtest(EURUSD, _reference_strategy(direction), cash=10_000,
                           commission=0.001, trade_on_close=fill == "close").run()  # fmt: skip
        bars = eurusd_hourly()
        up, down = sma_cross_signals(bars["close"], 10, 50)
        entries, exits = (up, down) if direction == "long" else (down, up)
        res = backtest_signals(bars, entries, exits, commission=0.001, fill=fill,  # type: ignore[arg-type]
                               initial_cash=10_000.0, direction=direction)  # type: ignore[arg-type]  # fmt: skip
        theirs = ref["_trades"]
        ours = res.trades
        assert len(ours) == len(theirs) > 30
        np.testing.assert_array_equal(ours["entry_bar"], theirs["EntryBar"])
        np.testing.assert_array_equal(ours["exit_bar"], theirs["ExitBar"])
        np.testing.assert_array_equal(ours["quantity"] * ours["direction"], theirs["Size"])
        np.testing.assert_array_equal(ours["entry_price"], theirs["EntryPrice"])
        np.testing.assert_array_equal(ours["exit_price"], theirs["ExitPrice"])
        np.testing.assert_allclose(ours["pnl"], theirs["PnL"], rtol=0, atol=1e-9)
        # the same final equity to the cent and to 1e-9 relative (summation order differs)
        assert round(res.final_equity, 2) == round(float(ref["Equity Final [$]"]), 2)
        assert res.final_equity == pytest.approx(float(ref["Equity Final [$]"]), rel=1e-12)
        if fill == "next_open":  # with trade_on_close, backtesting.py books the fill one bar late
            np.testing.assert_allclose(
                res.equity["equity"], ref["_equity_curve"]["Equity"], rtol=1e-12
            )


def test_sma_cross_synthetic_minutes_same_trades_as_backtesting_py() -> None:
    """100k synthetic 1-minute bars, where equity falls below a few units and SMA ties occur:
    the same trade list and final equity as backtesting.py with its own (pandas) SMA."""
    from backtesting import Backtest

    from tradekit.data import datasets

    bars = datasets.synthetic_intraday("SPY", start="2020-01-02", days=257, seed=5).iloc[:100_000]
    frame = bars.rename(columns=str.capitalize)[["Open", "High", "Low", "Close", "Volume"]]
    frame.index = frame.index.tz_convert(None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = Backtest(frame, _reference_strategy("long"), cash=10_000, commission=0.001,
                       finalize_trades=True).run()  # fmt: skip
    up, down = sma_cross_signals(bars["close"], 10, 50)
    res = backtest_signals(bars, up, down, commission=0.001, initial_cash=10_000.0,
                           close_at_end=True)  # fmt: skip
    theirs, ours = ref["_trades"], res.trades
    assert len(ours) == len(theirs) > 1000
    np.testing.assert_array_equal(ours["entry_bar"], theirs["EntryBar"])
    np.testing.assert_array_equal(ours["exit_bar"], theirs["ExitBar"])
    np.testing.assert_array_equal(ours["quantity"], theirs["Size"])
    np.testing.assert_array_equal(ours["entry_price"], theirs["EntryPrice"])
    np.testing.assert_array_equal(ours["exit_price"], theirs["ExitPrice"])
    assert res.final_equity == pytest.approx(float(ref["Equity Final [$]"]), rel=1e-12)


def test_plot_is_a_bokeh_layout_of_price_equity_drawdown() -> None:
    from bokeh.models import Column

    bars = _bars([10, 10, 11, 12], [10, 11, 12, 13])
    layout = backtest_signals(bars, _flags(4, 0), _flags(4, 2)).plot()
    assert isinstance(layout, Column) and len(layout.children) == 3
