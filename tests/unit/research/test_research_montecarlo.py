"""Monte Carlo: seeded reproducibility, exact invariants of each method, ruin and sources."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradekit.errors import ConfigError, DataError
from tradekit.research.montecarlo import monte_carlo, trade_returns
from tradekit.research.vectorized import backtest_signals, sma_cross_signals

R = np.random.default_rng(11).normal(0.002, 0.02, 200)


class TestReproducible:
    @pytest.mark.parametrize("method", ["trades", "shuffle", "skip", "block"])
    def test_same_seed_same_paths_other_seed_other_paths(self, method: str) -> None:
        a = monte_carlo(R, method=method, n=300, seed=5)  # type: ignore[arg-type]
        b = monte_carlo(R, method=method, n=300, seed=5)  # type: ignore[arg-type]
        c = monte_carlo(R, method=method, n=300, seed=6)  # type: ignore[arg-type]
        pd.testing.assert_frame_equal(a.samples, b.samples)
        np.testing.assert_array_equal(a.paths, b.paths)
        assert not a.samples["max_drawdown"].equals(c.samples["max_drawdown"])

    def test_a_generator_is_accepted_and_advanced(self) -> None:
        g = np.random.default_rng(3)
        first = monte_carlo(R, n=50, seed=g).samples
        second = monte_carlo(R, n=50, seed=g).samples
        assert not first.equals(second)
        pd.testing.assert_frame_equal(first, monte_carlo(R, n=50, seed=3).samples)


class TestMethods:
    def test_shuffle_keeps_the_compounded_final_equity_but_not_the_drawdown(self) -> None:
        mc = monte_carlo(R, method="shuffle", n=500, seed=1)
        np.testing.assert_allclose(mc.samples["final_equity"], mc.observed["final_equity"],
                                   rtol=1e-10)  # fmt: skip
        assert mc.samples["max_drawdown"].nunique() > 400

    def test_skip_nothing_is_the_observed_sequence(self) -> None:
        mc = monte_carlo(R, method="skip", skip_prob=0.0, n=20, seed=1)
        assert (mc.samples["final_equity"] == mc.observed["final_equity"]).all()
        assert mc.observed["final_equity"] == pytest.approx(100_000 * np.prod(1 + R))

    def test_skip_drops_about_the_asked_share(self) -> None:
        mc = monte_carlo(np.full(1000, 0.001), method="skip", skip_prob=0.25, n=200, seed=2)
        kept = np.log(mc.samples["final_equity"] / 100_000) / math.log(1.001)
        assert kept.mean() == pytest.approx(750, abs=5)

    def test_trade_bootstrap_mean_matches_its_expectation(self) -> None:
        # E[prod(1 + r_I)] over iid uniform draws I = (1 + mean(r))^m
        mc = monte_carlo(R, n=20_000, seed=4)
        expected = 100_000 * (1 + R.mean()) ** len(R)
        se = mc.samples["final_equity"].std() / math.sqrt(20_000)
        assert abs(mc.samples["final_equity"].mean() - expected) < 4 * se

    def test_block_of_infinite_length_is_a_rotation(self) -> None:
        mc = monte_carlo(R, method="block", block=1e15, n=200, seed=9)
        np.testing.assert_allclose(mc.samples["final_equity"], mc.observed["final_equity"],
                                   rtol=1e-10)  # fmt: skip

    def test_block_of_length_one_is_an_iid_bootstrap(self) -> None:
        blk = monte_carlo(R, method="block", block=1.0, n=20_000, seed=4)
        boot = monte_carlo(R, method="trades", n=20_000, seed=8)
        a, b = blk.samples["final_equity"], boot.samples["final_equity"]
        assert abs(a.mean() - b.mean()) < 4 * math.hypot(a.std(), b.std()) / math.sqrt(20_000)


class TestRuinAndSharpe:
    def test_certain_ruin(self) -> None:
        mc = monte_carlo(np.full(10, -0.1), n=100, seed=0, ruin=0.5)
        assert mc.prob_ruin == 1.0 and mc.ruin_level == 50_000.0

    def test_additive_pnl_and_absorbing_zero(self) -> None:
        mc = monte_carlo(pd.DataFrame({"pnl": [-60_000.0, -60_000.0, 10.0]}), method="shuffle",
                         n=50, seed=0, compounding=False)  # fmt: skip
        assert (mc.samples["final_equity"] == 0.0).all() and mc.prob_ruin == 1.0

    def test_sharpe_is_annualised_with_periods_per_year(self) -> None:
        raw = monte_carlo(R, n=10, seed=1)
        ann = monte_carlo(R, n=10, seed=1, periods_per_year=252)
        assert raw.periods_per_year is None
        np.testing.assert_allclose(ann.samples["sharpe"], raw.samples["sharpe"] * math.sqrt(252))
        assert raw.observed["sharpe"] == pytest.approx(R.mean() / R.std(ddof=1))


class TestSources:
    def test_trade_returns_compound_to_the_closed_trade_equity(self) -> None:
        pnl = np.array([100.0, -50.0, 25.0])
        r = trade_returns(pd.DataFrame({"pnl": pnl}), 1_000.0)
        np.testing.assert_allclose(1_000 * np.cumprod(1 + r), 1_000 + np.cumsum(pnl))

    def test_a_signal_backtest_result(self) -> None:
        from tradekit.data.datasets import synthetic_intraday

        bars = synthetic_intraday("SPY", days=30, seed=2)
        res = backtest_signals(bars, *sma_cross_signals(bars["close"], 10, 50), initial_cash=1e4)
        mc = monte_carlo(res, n=200, seed=0)
        assert mc.initial_equity == 1e4
        closed = 1e4 + res.trades["pnl"].sum()
        assert mc.observed["final_equity"] == pytest.approx(closed)
        assert mc.periods_per_year is not None and mc.periods_per_year > 1_000
        blk = monte_carlo(res, method="block", n=50, seed=0)
        assert blk.observed["final_equity"] == pytest.approx(res.final_equity)
        assert blk.paths.shape == (50, len(bars))

    def test_summary_fan_and_plot(self) -> None:
        from bokeh.models import Column

        mc = monte_carlo(R, n=400, seed=1, keep_paths=100)
        s = mc.summary()
        assert list(s.index) == ["final_equity", "total_return", "max_drawdown", "sharpe"]
        assert {"mean", "q0.05", "q0.5", "q0.95", "observed"} <= set(s.columns)
        fan = mc.fan()
        assert fan.shape == (len(R) + 1, 5) and (fan[0.05] <= fan[0.95]).all()
        assert isinstance(mc.plot(), Column)

    def test_bad_input(self) -> None:
        with pytest.raises(ConfigError):
            monte_carlo(R, method="jackknife")  # type: ignore[arg-type]
        with pytest.raises(ConfigError):
            monte_carlo(R, ruin=0.0)
        with pytest.raises(ConfigError):
            monte_carlo(R, method="block", block=0.5)
        with pytest.raises(DataError):
            monte_carlo(np.array([]))
        with pytest.raises(DataError):
            monte_carlo(pd.DataFrame({"pnl": [1.0, np.nan]}))
        with pytest.raises(DataError):
            monte_carlo(object())
