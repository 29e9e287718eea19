"""SyntheticChainProvider.quote_path: a contract priced over a span of times in one kernel call
gives, time by time, exactly the quote and Greeks a single contract's ``contract_row`` gives
(NaN where that is None: unlisted, expired, spot or vol unknown), whatever the vol does
within the span."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from tradekit.core.enums import Right
from tradekit.core.events import OptionContract
from tradekit.data.datasets import synthetic_intraday, synthetic_vix
from tradekit.data.market import MarketDataService
from tradekit.options.chain import SyntheticChainProvider

_MIN = 60_000_000_000


def _bars() -> pd.DataFrame:
    return synthetic_intraday("SPY", start="2024-06-13", days=4, seed=5)  # Thu .. Tue


def _quotes(prov: SyntheticChainProvider, c: OptionContract, ts: np.ndarray) -> np.ndarray:
    """Per time: bid, ask, delta, gamma, theta, vega, iv of the contract, one by one."""
    out = np.full((7, ts.shape[0]), np.nan)
    for k, t in enumerate(ts):
        row = prov.contract_row(c, int(t))
        if row is not None:
            out[:, k] = [row[f] for f in ("bid", "ask", "delta", "gamma", "theta", "vega", "iv")]
    return out


def _contracts(prov: SyntheticChainProvider, ts: int) -> list[OptionContract]:
    ch = prov.chain("SPY", ts)
    picks = np.random.default_rng(1).choice(len(ch.strike), 12, replace=False)
    out = [ch.contract(int(k)) for k in picks]
    # a same-day expiry (expires inside the span), an off-grid strike and a far put
    today = pd.Timestamp(ts, tz="UTC").tz_convert("America/New_York").date()
    out.append(OptionContract("SPY", today, 540.25, Right.CALL))
    out.append(OptionContract("SPY", today + dt.timedelta(days=1), 500.0, Right.PUT))
    return out


@pytest.mark.parametrize("vix", ["daily", "intraday", "constant"])
def test_a_path_is_the_quotes_one_by_one(vix: str) -> None:
    bars = _bars()
    if vix == "constant":
        svc = MarketDataService({"SPY": bars})
        prov = SyntheticChainProvider(svc.price, 0.21, seed=3, spot_path_fn=svc.price_path)
    else:
        series = synthetic_vix(bars, per="day" if vix == "daily" else "bar")
        svc = MarketDataService.with_synthetic_chains({"SPY": bars}, vix=series, seed=3)
        prov = svc.chain_provider
        assert isinstance(prov, SyntheticChainProvider)
    assert prov.prices_paths
    # every bar close, from before the first close (no spot yet) to after the last session
    ts = np.r_[bars.index.asi8[0], bars.index.asi8 + _MIN, bars.index.asi8[-1] + 600 * _MIN]
    for c in _contracts(prov, int(ts[200])):
        greeks = np.empty((5, ts.shape[0]))
        path = prov.quote_path(c, ts, greeks=greeks)
        assert path is not None
        one_by_one = _quotes(prov, c, ts)
        np.testing.assert_array_equal(np.vstack(path), one_by_one[:2], err_msg=c.symbol)
        np.testing.assert_array_equal(greeks, one_by_one[2:], err_msg=c.symbol)
        assert np.array_equal(np.vstack(prov.quote_path(c, ts)), one_by_one[:2], equal_nan=True)
    assert np.isnan(prov.quote_path(c, ts[:1])[0]).all()  # before the first close: no spot


def test_no_path_without_the_array_twins_of_spot_and_vol() -> None:
    bars = _bars()
    svc = MarketDataService({"SPY": bars})
    prov = SyntheticChainProvider(svc.price, lambda u, t: 0.2)
    assert not prov.prices_paths
    c = prov.chain("SPY", int(bars.index.asi8[100])).contract(0)
    assert prov.quote_path(c, bars.index.asi8[100:110]) is None


def test_market_paths_equal_the_scalar_lookups() -> None:
    bars = _bars()
    series = synthetic_vix(bars, per="bar")
    svc = MarketDataService({"SPY": bars}, vix=series)
    ts = np.r_[bars.index.asi8[0] - _MIN, bars.index.asi8 + _MIN // 2, bars.index.asi8 + _MIN]
    price = [svc.price("SPY", int(t)) for t in ts]
    vix = [svc.vix(int(t)) for t in ts]
    none = np.nan
    np.testing.assert_array_equal(
        svc.price_path("SPY", ts), [none if p is None else p for p in price]
    )
    np.testing.assert_array_equal(svc.vix_path(ts), [none if v is None else v for v in vix])
    assert np.isnan(MarketDataService({"SPY": bars}).vix_path(ts)).all()
    daily = MarketDataService({"SPY": bars}, vix=synthetic_vix(bars, per="day"), ivr_min_periods=2)
    rank = [daily.iv_rank("SPY", int(t)) for t in ts]
    np.testing.assert_array_equal(
        daily.iv_rank_path("SPY", ts), [none if r is None else r for r in rank]
    )
    assert not np.isnan(daily.iv_rank_path("SPY", ts)).all()
