from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradekit.core.events import Bar
from tradekit.dashboards.components.chart import LiveChart


def _bars_only(events: list[tuple[str, object]]) -> list[tuple[str, object]]:
    return [(t, e) for t, e in events if isinstance(e, Bar)]


def test_streams_every_bar_and_draws_overlays(replayed) -> None:
    bars, events = replayed
    chart = LiveChart(base_timeframe="1min")
    for i in range(0, len(events), 300):  # as the periodic callback does, chunk by chunk
        chart.push(events[i : i + 300])
    d = chart.candles.data
    assert chart.symbol == "SPY" and chart.bars_seen == len(bars) == len(d["x"])
    np.testing.assert_allclose(d["close"], bars["close"].to_numpy())
    wall = bars.index.tz_convert("America/New_York").tz_localize(None).as_unit("ns").asi8
    np.testing.assert_allclose(np.asarray(d["x"]) * 1e6, wall)  # exchange wall-clock time
    assert all(c in ("#26a69a", "#ef5350") for c in d["color"])
    kinds = {e.kind for _t, e in events if getattr(e, "kind", None)}
    assert "FVG" in kinds and len(chart.fvg.data["top"]) > 0
    assert len(chart.levels.data["y"]) > 0  # BOS / CHoCH levels
    assert len(chart.fills.data["x"]) > 0 and len(chart.plans.data["y"]) > 0


@pytest.mark.parametrize("tf", ["5min", "15min", "1h"])
def test_higher_timeframe_live_equals_redraw_equals_pandas(replayed, tf: str) -> None:
    bars, events = replayed
    live = LiveChart(base_timeframe="1min")
    live.timeframe = tf
    only = _bars_only(events)
    for i in range(0, len(only), 7):
        live.push(only[i : i + 7])
    redrawn = LiveChart(base_timeframe="1min")
    redrawn.push(only)
    redrawn.timeframe = tf
    ref = (
        bars.resample(tf, origin="epoch")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
        .dropna()
    )
    for chart in (live, redrawn):
        d = chart.candles.data
        assert len(d["x"]) == len(ref)
        for col in ("open", "high", "low", "close", "volume"):
            np.testing.assert_allclose(d[col], ref[col].to_numpy(), err_msg=f"{tf} {col}")


def test_rollover_bounds_the_candles(replayed) -> None:
    bars, events = replayed
    chart = LiveChart(base_timeframe="1min", rollover=100)
    chart.push(_bars_only(events))
    assert len(chart.candles.data["x"]) == 100
    assert chart.candles.data["close"][-1] == pytest.approx(bars["close"].iloc[-1])


def test_load_history_then_stream(replayed) -> None:
    bars, events = replayed
    chart = LiveChart(base_timeframe="1min")
    chart.load(bars.iloc[:500])
    chart.push(_bars_only(events)[500:510])
    assert len(chart.candles.data["x"]) == 510


def test_other_symbols_are_ignored() -> None:
    chart = LiveChart(symbol="SPY")
    ts = int(pd.Timestamp("2024-01-02 14:30", tz="UTC").value)
    chart.push([("bars.QQQ", Bar("QQQ", "1min", ts, 1, 2, 0.5, 1.5, 10))])
    assert chart.candles.data["x"] == []
