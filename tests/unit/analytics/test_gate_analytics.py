"""Gate analytics: the counterfactual kernel by hand, pass rates and blocks of a real run."""

from __future__ import annotations

import numpy as np
import pytest

import tradekit
from tradekit.analytics import gate_analytics
from tradekit.analytics.nb import first_exit_nb
from tradekit.data.datasets import load


def run(o, h, lo, c, start, d, stop, tp, max_bars=10**9):  # type: ignore[no-untyped-def]
    arr = [np.asarray(x, np.float64) for x in (o, h, lo, c)]
    return first_exit_nb(*arr, np.asarray(start, np.int64), np.asarray(d, np.int64),
                         np.asarray(stop, np.float64), np.asarray(tp, np.float64), max_bars)  # fmt: skip


OPEN = [10.0, 10.0, 10.2, 10.5, 9.0]
H = [10.1, 10.4, 10.6, 11.5, 9.2]
L = [9.9, 9.6, 10.1, 10.4, 8.5]
C = [10.0, 10.2, 10.5, 11.0, 9.0]


def test_long_target_stop_tie_gap_and_timeout() -> None:
    # entry at bar 1's open 10.0, stop 9.5, target 11.0: bar 3 reaches 11.5 -> +2R
    pos, px, r = run(OPEN, H, L, C, [1], [1], [9.5], [11.0])
    assert (pos[0], px[0], r[0]) == (3, 11.0, pytest.approx(2.0))
    # stop 9.7: bar 1's low 9.6 hits it first -> -1R
    pos, px, r = run(OPEN, H, L, C, [1], [1], [9.7], [11.0])
    assert (pos[0], px[0], r[0]) == (1, 9.7, pytest.approx(-1.0))
    # a bar reaching both: the stop wins
    pos, px, r = run(OPEN[:2], [10.1, 12.0], [9.9, 9.0], C[:2], [1], [1], [9.5], [11.0])
    assert (px[0], r[0]) == (9.5, pytest.approx(-1.0))
    # bar 4 gaps below the stop 9.5: filled at its open 9.0, worse than the stop
    pos, px, r = run(OPEN, H, L, C, [3], [1], [9.5], [20.0])
    assert (pos[0], px[0]) == (4, 9.0) and r[0] == pytest.approx((9.0 - 10.5) / 1.0)
    # neither within 2 bars: out at the close of the last bar
    pos, px, r = run(OPEN, H, L, C, [1], [1], [5.0], [20.0], 2)
    assert (pos[0], px[0]) == (2, 10.5) and r[0] == pytest.approx(0.5 / 5.0)
    # starting past the data: unknown
    pos, px, r = run(OPEN, H, L, C, [5], [1], [9.0], [11.0])
    assert pos[0] == -1 and np.isnan(r[0])


def test_short_side_mirrors() -> None:
    # short from 10.0 (bar 1), stop 10.45, target 9.65: bar 1's low 9.6 -> +0.35/0.45 R
    pos, px, r = run(OPEN, H, L, C, [1], [-1], [10.45], [9.65])
    assert (pos[0], px[0]) == (1, 9.65) and r[0] == pytest.approx(0.35 / 0.45)
    pos, px, r = run(OPEN, H, L, C, [1], [-1], [10.3], [5.0])
    assert (pos[0], px[0]) == (1, 10.3) and r[0] == pytest.approx(-1.0)


def test_gate_table_of_a_real_run() -> None:
    res = tradekit.backtest(load("aapl").iloc[:1500], market=lambda ts: 18.0)
    ga = gate_analytics(res)
    g = ga.by_gate.set_index("gate")
    n = len(res.decisions)
    assert (g["evaluated"] == n).all()  # every gate on every decision, also after a block
    assert g["blocked"].sum() == (res.decisions["action"] == "SKIP").sum() == len(ga.blocked)
    first = res.decisions["block_reason"].dropna().str.split(":").str[0].value_counts()
    assert g.loc[first.index, "blocked"].tolist() == first.tolist()
    assert (g["passed"] <= g["evaluated"]).all() and g["pass_rate"].between(0, 1).all()
    counted = g["missed_wins"] + g["avoided_losses"] + g["unknown"]
    flat = ga.blocked.groupby("blocked_by")["outcome"].apply(lambda s: (s == "flat").sum())
    assert (counted + flat.reindex(g.index, fill_value=0) == g["blocked"]).all()
    assert ga.blocked["cf_r"].notna().all() and set(ga.blocked["outcome"]) <= {
        "missed win", "avoided loss", "flat",
    }  # fmt: skip
    # a counterfactual enters after the setup bar, never at or before it
    assert (ga.blocked["cf_exit_ts"].astype("int64") > ga.blocked["ts_ns"]).all()
