"""Signal analytics: causal forward returns and the setup / trade shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import tradekit
from tradekit.analytics import forward_returns, signal_analytics
from tradekit.analytics.run import RunData
from tradekit.analytics.signals import signal_outcomes
from tradekit.data.datasets import synthetic_intraday


def frame(closes: list[float]) -> pd.DataFrame:
    idx = pd.date_range("2024-03-04 14:30", periods=len(closes), freq="min", tz="UTC")
    c = np.asarray(closes)
    return pd.DataFrame({"open": c, "high": c, "low": c, "close": c, "volume": 1.0}, index=idx)


def test_forward_returns_by_hand_and_causal() -> None:
    bars = frame([100.0, 101.0, 99.0, 102.0, 105.0])
    ts = pd.DatetimeIndex(bars.index).as_unit("ns").asi8
    sig = pd.DataFrame({"symbol": "X", "ts_ns": ts[[1, 1, 3]], "direction": [1, -1, 1]})
    fwd = forward_returns(sig, {"X": bars}, (1, 2))
    assert fwd["fwd_1"].tolist() == pytest.approx([99 / 101 - 1, -(99 / 101 - 1), 105 / 102 - 1])
    assert fwd["fwd_2"].iloc[:2].tolist() == pytest.approx([102 / 101 - 1, -(102 / 101 - 1)])
    assert np.isnan(fwd["fwd_2"].iloc[2])  # past the data end
    # changing anything at or before a signal's bar + h never changes... the bars *after* do
    later = bars.copy()
    later.iloc[4] = 1.0
    assert forward_returns(sig, {"X": later}, (1,))["fwd_1"].iloc[:2].tolist() == pytest.approx(
        fwd["fwd_1"].iloc[:2].tolist()
    )
    unknown = sig.assign(ts_ns=ts[[1, 1, 3]] + 1)  # not on a bar: unknown, not guessed
    assert forward_returns(unknown, {"X": bars}, (1,))["fwd_1"].isna().all()


@pytest.fixture(scope="module")
def result() -> tradekit.BacktestResult:
    bars = synthetic_intraday("SPY", start="2024-03-04", days=3, seed=2)
    return tradekit.backtest(bars, market=lambda ts: 15.0)


def test_shares_count_the_linked_setups_and_trades(result: tradekit.BacktestResult) -> None:
    table = signal_analytics(result, by=("kind",))
    assert table["count"].sum() == len(result.signals)
    used = set(result.setups["signal_ids"].explode())
    by_kind = result.signals.assign(used=result.signals["id"].isin(used)).groupby("kind")["used"]
    want = by_kind.mean()
    got = table.set_index("kind")["setup_share"]
    assert got.sort_index().tolist() == pytest.approx(want.sort_index().tolist())
    assert (table["trade_share"] <= table["setup_share"] + 1e-12).all()
    oc = signal_outcomes(RunData.from_result(result))
    assert oc["in_trade"].any() and (oc.loc[oc["in_trade"], "in_setup"]).all()
    traded = table[table["trade_share"] > 0]
    assert traded["win_rate"].between(0, 1).all() and traded["avg_r"].notna().all()


def test_default_grouping_and_horizons(result: tradekit.BacktestResult) -> None:
    table = signal_analytics(result, horizons=(1, 10))
    assert list(table.columns[:4]) == ["kind", "timeframe", "direction", "hour"]
    assert {"fwd_1", "fwd_10", "count"} <= set(table.columns)
    assert set(table["hour"]) <= set(range(9, 17)) and set(table["direction"]) <= {-1, 1}
    assert table["fwd_1"].notna().any()
