"""SmaCross: crossovers against a pandas reference, exits, the gate overrides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradekit.config import AlgorithmConfig
from tradekit.core.events import Bar
from tradekit.portfolio.ledger import Ledger
from tradekit.strategy import BarHistory, SmaCross, StrategyContext, strategy_config


def closes_to_bars(closes: np.ndarray) -> list[Bar]:
    return [
        Bar("X", "1D", i * 86_400_000_000_000, c, c * 1.01, c * 0.99, c, 1e6)
        for i, c in enumerate(closes.tolist())
    ]


def run(strategy: SmaCross, closes: np.ndarray, qty: float = 0.0) -> tuple[list[int], list[int]]:
    """Bars with a setup and bars with a close request, with a fixed position ``qty``."""
    ledger = Ledger(1e5)
    if qty:
        from tradekit.core.enums import Side
        from tradekit.core.events import Fill

        side = Side.BUY if qty > 0 else Side.SELL
        ledger.apply_fill(Fill("f", "o", "X", side, abs(qty), 10.0, 0))
    ctx = StrategyContext(ledger)
    hist = BarHistory(strategy.lookback)
    entries, closes_at = [], []
    for i, b in enumerate(closes_to_bars(closes)):
        hist.append(b)
        ctx._reset(b, i, hist, (), ())
        out = strategy.on_bar(b, ctx)
        if out:
            entries.append(i)
            (s,) = out
            assert s.index == i and s.entry == b.close
            assert s.direction * (s.entry - s.stop) > 0 and s.direction * (s.tp1 - s.entry) > 0
            risk = abs(s.entry - s.stop)
            assert s.tp1 == pytest.approx(s.entry + s.direction * 2.0 * risk)
        if ctx._closes:
            closes_at.append(i)
    return entries, closes_at


def reference_crosses(
    closes: np.ndarray, fast: int, slow: int, lookback: int
) -> tuple[list[int], list[int]]:
    c = pd.Series(closes)
    f, s = c.rolling(fast).mean(), c.rolling(slow).mean()
    up = (f.shift() < s.shift()) & (f > s)
    down = (f.shift() > s.shift()) & (f < s)
    ok = np.arange(len(c)) >= lookback - 1
    return list(np.flatnonzero(up & ok)), list(np.flatnonzero(down & ok))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crossovers_match_pandas_rolling_means(seed: int) -> None:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 400)))
    strat = SmaCross(5, 20)
    up, down = reference_crosses(closes, 5, 20, strat.lookback)
    assert up and down
    entries, closes_flat = run(strat, closes)  # flat: every cross up enters, nothing to close
    assert entries == up and closes_flat == []
    entries_long, closes_long = run(strat, closes, qty=10)  # long: no new long, downs close
    assert entries_long == [] and closes_long == down
    short = SmaCross(5, 20, short=True)
    entries_s, closes_s = run(short, closes, qty=-10)  # short: ups close and reverse
    assert entries_s == up and closes_s == up


def test_v_shape_enters_once_at_the_first_bar_above_and_not_before_the_lookback() -> None:
    closes = np.r_[np.linspace(20.0, 10.0, 30), np.linspace(10.5, 25.0, 30)]
    strat = SmaCross(3, 10)
    entries, _ = run(strat, closes)
    c = pd.Series(closes)
    above = c.rolling(3).mean() > c.rolling(10).mean()
    first = int(np.flatnonzero(above.to_numpy() & (np.arange(60) >= 10))[0])
    assert entries == [first] and first > 30
    assert run(strat, closes[: strat.lookback - 1]) == ([], [])
    assert strat.name == "sma_cross_3_10"


@pytest.mark.parametrize(
    "kwargs", [{"fast": 5, "slow": 5}, {"fast": 0, "slow": 5}, {"stop_atr": 0.0},
               {"atr_period": 0}, {"targets_r": ()}, {"targets_r": (2.0, -1.0)}],
)  # fmt: skip
def test_bad_parameters_are_value_errors(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"fast": 2, "slow": 5, **kwargs}
    with pytest.raises(ValueError):
        SmaCross(**args)  # type: ignore[arg-type]


def test_config_overrides_only_touch_gates_1_3_4_and_register_the_kind() -> None:
    base = AlgorithmConfig()
    cfg = strategy_config(SmaCross(10, 50), base)
    dc, bd = cfg.decision, base.decision
    assert dc.kind_families == {"SMA_CROSS": "structure"}
    assert (dc.min_confluence, dc.min_roles, dc.min_factor_score) == (1, 1, 2.5)
    same = {k for k in type(dc).model_fields if getattr(dc, k) == getattr(bd, k)}
    assert set(type(dc).model_fields) - same == {
        "kind_families", "min_confluence", "min_roles", "min_factor_score",
    }  # fmt: skip
    assert cfg.model_dump(exclude={"decision"}) == base.model_dump(exclude={"decision"})
    assert cfg.content_hash != base.content_hash
    assert strategy_config(None, base) is base
