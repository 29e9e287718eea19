"""The options engine asks the market only for the expiries its class can reach (``max_dte``):
the same contracts are chosen, the same fills and equity result as from the whole chain."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.data import datasets
from tradekit.data.market import MarketDataService
from tradekit.options.chain import generate_chain
from tradekit.runtime.backtest import run_backtest


class _WholeChains:
    """The same market, but its ``option_chain`` cannot restrict the chain (no ``max_dte``),
    as a provider of real listed chains might not."""

    def __init__(self, market: MarketDataService) -> None:
        self._m = market
        self.calls = 0

    def option_chain(self, symbol: str, ts: Any) -> Any:
        self.calls += 1
        return self._m.option_chain(symbol, ts)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._m, name)


@pytest.fixture(scope="module")
def replay() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    hist = datasets.synthetic_intraday("SPY", start="2024-01-02", days=34, seed=11)
    vix = datasets.synthetic_vix(hist, per="day")
    first = hist.index.normalize().unique()[30]
    return hist, hist[hist.index >= first], vix


def _run(replay: tuple[pd.DataFrame, pd.DataFrame, pd.Series], whole: bool) -> Any:
    hist, bars, vix = replay
    market = MarketDataService.with_synthetic_chains({"SPY": hist}, vix=vix, seed=3)
    view: Any = _WholeChains(market) if whole else market
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    res = run_backtest(bars, cfg, market=view, quotes=market.chain_provider)
    return res, view


def test_restricted_chains_choose_the_same_contracts_fills_and_equity(replay: Any) -> None:
    fast, _ = _run(replay, whole=False)
    slow, view = _run(replay, whole=True)
    assert view.calls > 0  # the whole-chain path really ran
    assert fast.summary["entries"] > 0 and len(fast.fills) > 0  # something to compare
    dec_cols = ["id", "action", "symbol", "quantity", "block_reason"]
    cols = [c for c in dec_cols if c in fast.decisions]
    pd.testing.assert_frame_equal(fast.decisions[cols].reset_index(drop=True),
                                  slow.decisions[cols].reset_index(drop=True))  # fmt: skip
    pd.testing.assert_frame_equal(fast.fills.reset_index(drop=True),
                                  slow.fills.reset_index(drop=True))  # fmt: skip
    pd.testing.assert_series_equal(fast.equity, slow.equity)
    pd.testing.assert_frame_equal(fast.trades.reset_index(drop=True),
                                  slow.trades.reset_index(drop=True))  # fmt: skip


def test_a_restricted_chain_is_the_whole_chain_cut_at_max_dte() -> None:
    ts = 1_718_721_000_000_000_000
    whole = generate_chain("SPY", ts, 545.0, 0.14)
    cut = generate_chain("SPY", ts, 545.0, 0.14, max_dte=7)
    keep = np.flatnonzero(whole.dte <= 7)
    assert 0 < len(cut.strike) == len(keep) < len(whole.strike)
    for col in ("strike", "right", "dte", "bid", "ask", "iv", "delta", "gamma", "theta", "vega",
                "volume", "open_interest"):  # fmt: skip
        np.testing.assert_array_equal(getattr(cut, col), getattr(whole, col)[keep], err_msg=col)
