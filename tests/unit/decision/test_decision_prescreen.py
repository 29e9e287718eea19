"""Certain refusals in batch (tradekit.decision.prescreen): the vectorised twins of the
setup-only gates agree with the gates themselves, setup by setup — on the setups of real
replays (stock, options, daily) and on random setups, including broken ones — and the
session window's vectorised test agrees with ``SessionWindow.check``."""

from __future__ import annotations

import math
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.columns import SetupColumns
from tradekit.core.events import Setup
from tradekit.data.calendar import get_calendar
from tradekit.data.datasets import load, synthetic_intraday, synthetic_vix
from tradekit.data.market import MarketDataService
from tradekit.data.schema import bars_to_arrays
from tradekit.decision.engine import DecisionEngine
from tradekit.decision.sessions import SessionWindow
from tradekit.portfolio.ledger import Ledger
from tradekit.runtime.backtest import run_backtest
from tradekit.signals.confluence import CONFLUENCE_TYPES, ConfluenceParams, active_kinds
from tradekit.signals.pipeline import BatchSetups, setup_arrays

#: the gates that read only the setup, its time and the VIX (each offers ``fails_batch``)
SETUP_ONLY = {"signal_integrity", "session_volatility", "factorization", "role_assignment",
              "score_mode"}  # fmt: skip


def _refused_on_the_setup(gates: list[dict[str, Any]]) -> bool:
    for g in gates:
        if g["passed"]:
            continue
        if g["name"] in SETUP_ONLY:
            return True
        if g["name"] == "option_quality" and g["reason"].startswith("IV rank"):
            return True  # an IV rank outside the band refuses every contract
    return False


@lru_cache(maxsize=1)
def _options_history() -> pd.DataFrame:
    return synthetic_intraday("SPY", start="2023-02-27", days=40, seed=3)


def _cases() -> dict[str, tuple[pd.DataFrame, AlgorithmConfig, Any, Any]]:
    hist = _options_history()
    vix = synthetic_vix(hist, per="day")
    opt = MarketDataService.with_synthetic_chains({"SPY": hist}, vix=vix, seed=3)
    intraday = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    return {
        "aapl_daily": (load("aapl").iloc[:900], AlgorithmConfig(symbols=("AAPL",), timeframe="1D"),
                       lambda ts: 18.0, None),
        "spy_stock_1min": (hist.iloc[-6000:], intraday, MarketDataService({"SPY": hist}, vix=vix),
                           None),
        "spy_options_1min": (hist.iloc[-6000:], intraday, opt, opt.chain_provider),
    }  # fmt: skip


@pytest.mark.parametrize("case", ["aapl_daily", "spy_stock_1min", "spy_options_1min"])
def test_certain_skips_are_exactly_the_setups_a_setup_only_gate_refused(case: str) -> None:
    bars, cfg, market, quotes = _cases()[case]
    res = run_backtest(bars, cfg, market=market, quotes=quotes, keep_engine=True)
    assert res.engine is not None
    pre = res.engine._pipelines[cfg.symbols[0]]
    cols = pre.setup_columns()  # type: ignore[attr-defined]
    skips = res.engine.decider.certain_skips(cols)
    truth = np.array([_refused_on_the_setup(g) for g in res.decisions["gates"]])
    assert len(cols) == len(res.decisions) > 20
    assert (cols.ts_ns == res.decisions["ts_ns"].to_numpy()).all()
    assert (skips == truth).all(), np.flatnonzero(skips != truth)[:10]
    assert 0 < skips.sum() < len(skips)  # both kinds occur


def test_setup_columns_hold_the_fields_of_the_records() -> None:
    bars = _options_history().iloc[-3000:]
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    arrays = bars_to_arrays(bars)
    res = setup_arrays(arrays, cfg, symbol="SPY", timeframe="1min")
    batch = BatchSetups(res, arrays, ConfluenceParams.from_config(cfg), "SPY", "1min")
    cols = batch.columns()
    records = [s for _, s in batch]
    assert len(records) == len(cols) > 20 and all(s is not None for s in records)
    for i, s in enumerate(records):
        assert s is not None
        got = (int(cols.index[i]), int(cols.ts_ns[i]), int(cols.direction[i]),
               float(cols.entry[i]), float(cols.stop[i]), float(cols.tp1[i]),
               float(cols.confidence[i]), int(cols.confluence_count[i]),
               cols.kinds[cols.kind_code[i]])  # fmt: skip
        want = (s.index, s.ts_ns, s.direction, s.entry, s.stop, s.tp1, s.confidence,
                s.confluence_count, s.active_signals)  # fmt: skip
        assert got == want, i


def test_batch_setups_pass_over_fired_bars_and_build_the_rest_unchanged() -> None:
    bars = _options_history().iloc[-3000:]
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    arrays = bars_to_arrays(bars)
    res = setup_arrays(arrays, cfg, symbol="SPY", timeframe="1min")
    params = ConfluenceParams.from_config(cfg)
    every = list(BatchSetups(res, arrays, params, "SPY", "1min"))
    some = BatchSetups(res, arrays, params, "SPY", "1min")
    kept = []
    for k, (t, _) in enumerate(every):
        if k % 3 == 0:
            assert some.skip_before(t + 1) == 1
        else:
            kept.append(some.build_next())
    assert kept == [e for k, e in enumerate(every) if k % 3] and some.skip_before(10**9) == 0
    with pytest.raises(StopIteration):
        some.build_next()


# -- random setups against the gates themselves -----------------------------------------------

_SESSION_DAY = pd.Timestamp("2024-03-04 14:30", tz="UTC").value  # a Monday, 09:30 New York
_MINUTE = 60_000_000_000
_ODD = [math.nan, math.inf, -math.inf, 0.0, -1.0]


def _price(draw: Any) -> float:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(_ODD))
    return draw(st.floats(90.0, 110.0))


@st.composite
def _setup(draw: Any) -> Setup:
    direction = draw(st.sampled_from([1, -1, 1, -1, 0, 2]))
    mask = draw(st.integers(0, 2 ** len(CONFLUENCE_TYPES) - 1))
    kinds = active_kinds(mask, direction if direction else 1)
    if draw(st.integers(0, 14)) == 0:
        kinds = (*kinds, "NOT_A_KIND")
    ts = _SESSION_DAY + draw(st.integers(-2 * 1440, 7 * 1440)) * _MINUTE  # weekend included
    conf = draw(st.one_of(st.floats(0.0, 12.0), st.sampled_from([math.nan, 5.5, 6.0])))
    return Setup("s", "SPY", "1min", ts, 0, direction, _price(draw), _price(draw), _price(draw),
                 0.0, 0.0, conf, conf, draw(st.integers(0, 6)), kinds)  # fmt: skip


def _vix_fn(seed: int) -> Any:
    def vix(ts: int) -> float | None:
        x = (ts // _MINUTE * 2654435761 + seed) % 97
        return None if x < 8 else 10.0 + x * 0.3  # missing, calm and above the 30 cap

    return vix


def _columns(setups: list[Setup]) -> SetupColumns:
    kinds = sorted({s.active_signals for s in setups})
    code = {k: i for i, k in enumerate(kinds)}
    col = lambda f, dt: np.array([getattr(s, f) for s in setups], dtype=dt)  # noqa: E731
    return SetupColumns("SPY", "1min", col("index", np.int64), col("ts_ns", np.int64),
                        col("direction", np.int64), col("entry", np.float64),
                        col("stop", np.float64), col("tp1", np.float64),
                        col("confidence", np.float64), col("confluence_count", np.int64),
                        np.array([code[s.active_signals] for s in setups], dtype=np.int64),
                        tuple(kinds))  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(_setup(), min_size=1, max_size=40), st.integers(0, 5),
       st.sampled_from(["block", "allow"]))  # fmt: skip
def test_random_setups_get_the_verdict_of_the_gates(
    setups: list[Setup], seed: int, policy: str
) -> None:
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min").with_overrides(
        {"decision.vix_missing_policy": policy}
    )
    ledger = Ledger.from_config(cfg.execution)
    eng = DecisionEngine(cfg, account=ledger, market=_vix_fn(seed))
    skips = eng.certain_skips(_columns(setups))
    for s, skip in zip(setups, skips.tolist(), strict=True):
        gates = eng.decide(s).gates
        truth = any(not g.passed for g in gates if g.name in SETUP_ONLY)
        assert skip == truth, (s, [g for g in gates if not g.passed])


def test_a_vix_lookup_that_raises_leaves_the_session_gate_undecided() -> None:
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")

    def broken(ts: int) -> float:
        raise RuntimeError("feed down")

    eng = DecisionEngine(cfg, account=Ledger.from_config(cfg.execution), market=broken)
    s = Setup("s", "SPY", "1min", _SESSION_DAY + 30 * _MINUTE, 0, 1, 100.0, 99.0, 102.0, 103.0,
              104.0, 8.0, 8.0, 3, ("FVG", "BOS", "VOLUME_SURGE"))  # fmt: skip
    assert eng.certain_skips(_columns([s])).tolist() == [False]


@pytest.mark.parametrize("window", [("09:30", "16:00"), ("09:45", "15:45"), (None, None)])
def test_session_window_contains_equals_check(window: tuple[str | None, str | None]) -> None:
    tz = ZoneInfo("America/New_York")
    sw = SessionWindow(get_calendar("XNYS"), window[0], window[1], tz)
    # every 7 minutes over November 2024 (DST end, Thanksgiving, the half day after it)
    ts = np.arange(pd.Timestamp("2024-10-30", tz="UTC").value,
                   pd.Timestamp("2024-12-03", tz="UTC").value, 7 * _MINUTE, dtype=np.int64)  # fmt: skip
    fresh = SessionWindow(get_calendar("XNYS"), window[0], window[1], tz)
    want = np.array([fresh.check(int(t))[0] for t in ts])
    assert (sw.contains(ts) == want).all()
    assert want.any() and not want.all()
    assert sw.contains(np.empty(0, dtype=np.int64)).shape == (0,)


# -- refusals on the account state (StateGate) ---------------------------------------------------
def _state_case(kind: str) -> tuple[pd.DataFrame, AlgorithmConfig, dict[str, Any]]:
    cfg = AlgorithmConfig(symbols=("SPY",), timeframe="1min")
    if kind == "stock":
        bars = synthetic_intraday("SPY", start="2024-03-04", days=10, seed=7)
        return bars, cfg, {"market": lambda ts: 18.0}
    if kind == "halted":
        bars = synthetic_intraday("SPY", start="2024-03-04", days=10, seed=7)
        cfg = cfg.with_overrides(
            {"decision.daily_loss_limit": 0.0015, "risk.daily_loss_action": "HALTED"}
        )
        return bars, cfg, {"market": lambda ts: 18.0}
    hist = synthetic_intraday("SPY", start="2023-02-27", days=40, seed=3)
    svc = MarketDataService.with_synthetic_chains(
        {"SPY": hist}, vix=synthetic_vix(hist, per="day"), seed=3
    )
    cfg = cfg.with_overrides({"decision.max_vix": 90.0})
    return hist.iloc[-8 * 390 :], cfg, {"market": svc, "quotes": svc.chain_provider}


@pytest.mark.parametrize("kind", ["stock", "halted", "options"])
def test_a_refusal_on_the_account_state_is_a_skip_and_counting_it_changes_nothing(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Wherever ``refused_on_state`` says yes, the full decision taken right after it is a
    SKIP (checked on every decision of per-bar replays that reach the daily trade limit,
    cooldowns and a HALT); and a metrics-only run that counts those refusals instead of
    deciding them (or passing them unbuilt) ends with the summary, equity and trades of the
    run that decides them."""
    from tradekit.runtime.kernel import Engine

    bars, cfg, kw = _state_case(kind)
    seen: list[tuple[bool, str]] = []
    real = Engine._decide

    def checked(self: Engine, setup: Setup) -> Any:
        refused = self.decider.refused_on_state(setup)
        decision = real(self, setup)
        seen.append((refused, decision.action.value))
        return decision

    monkeypatch.setattr(Engine, "_decide", checked)
    full = run_backtest(bars, cfg, record="summary", prescreen=False, **kw)
    monkeypatch.setattr(Engine, "_decide", real)
    refused = [action for r, action in seen if r]
    assert refused and set(refused) == {"SKIP"}, (len(refused), set(refused))
    counted = run_backtest(bars, cfg, record="summary", keep_engine=True, **kw)
    assert counted.engine is not None
    # counted when decided on a bar (a refusal by the loss limit), or passed by the pipeline
    # on a processed bar before the horizon of the state gates, unbuilt
    pipe = counted.engine._pipelines["SPY"]
    assert counted.engine.refusals_counted + pipe.n_refused_passed > 0  # type: ignore[attr-defined]
    assert counted.summary == full.summary
    pd.testing.assert_series_equal(counted.equity, full.equity)
    pd.testing.assert_frame_equal(counted.trades, full.trades)


@pytest.mark.parametrize("kind", ["stock", "halted", "options"])
def test_every_setup_before_the_refusal_horizon_is_refused_on_the_account_state(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``refused_until`` found at one setup holds for every later setup of the same entry
    log, trading state and day: each one before the horizon is ``refused_on_state`` (the
    replay scan passes such setups without building them). Some setups do fall before a
    horizon (the daily trade limit, the symbol cooldown, a HALT)."""
    from tradekit.runtime.kernel import Engine

    bars, cfg, kw = _state_case(kind)
    horizons: dict[tuple[int, object, object], int] = {}
    checked: list[bool] = []
    real = Engine._decide

    def probe(self: Engine, setup: Setup) -> Any:
        day = pd.Timestamp(setup.ts_ns, unit="ns", tz="America/New_York").date()
        key = (self.decider.entries.version, self.risk.trading_state, day)
        if key not in horizons:
            horizons[key] = self.decider.refused_until(setup.symbol, setup.timeframe, setup.ts_ns)
        if setup.ts_ns < horizons[key]:
            checked.append(self.decider.refused_on_state(setup))
        return real(self, setup)

    monkeypatch.setattr(Engine, "_decide", probe)
    run_backtest(bars, cfg, record="summary", prescreen=False, **kw)
    assert checked and all(checked), (len(checked), checked.count(False))


# -- refusals on the option chain (gate 2.5 at every budget) -----------------------------------
def test_a_refusal_on_the_chain_is_a_skip_and_counting_it_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Wherever ``refused_on_chain`` says yes for an equity interval holding the account's
    equity, the full decision taken right after it is a SKIP (every decision of a per-bar
    options replay, probed at its own equity and at an interval around it); flat, the equity
    at a decision is the cash, which is what the replay scan passes. A metrics-only run that
    passes those setups over ends as the run that decides each one."""
    from tradekit.decision.options_engine import OptionsDecisionEngine
    from tradekit.runtime.kernel import Engine

    bars, cfg, kw = _state_case("options")
    seen: list[tuple[bool, bool, str]] = []
    real = Engine._decide

    def checked(self: Engine, setup: Setup) -> Any:
        decider = self.decider
        assert isinstance(decider, OptionsDecisionEngine)
        eq = decider.account.summary().equity
        if not self.ledger.open_positions():
            assert eq == self.ledger.cash
        args = (setup.symbol, setup.timeframe, setup.ts_ns, setup.direction, setup.confidence)
        at = decider.refused_on_chain(*args, (eq, eq))
        around = decider.refused_on_chain(*args, (0.8 * eq, 1.25 * eq))
        decision = real(self, setup)
        seen.append((at, around, decision.action.value))
        return decision

    monkeypatch.setattr(Engine, "_decide", checked)
    full = run_backtest(bars, cfg, record="summary", prescreen=False, **kw)
    monkeypatch.setattr(Engine, "_decide", real)
    refused = [action for at, _, action in seen if at]
    assert refused and set(refused) == {"SKIP"}, (len(refused), set(refused))
    assert all(at for at, around, _ in seen if around)  # a wider interval claims less
    assert any(action == "SKIP" and not at for at, _, action in seen)  # not every SKIP

    passed: list[bool] = []
    probe = OptionsDecisionEngine.refused_on_chain

    def counting(self: OptionsDecisionEngine, *a: Any) -> bool:
        passed.append(probe(self, *a))
        return passed[-1]

    monkeypatch.setattr(OptionsDecisionEngine, "refused_on_chain", counting)
    counted = run_backtest(bars, cfg, record="summary", **kw)
    assert any(passed) and not all(passed)
    assert counted.summary == full.summary
    pd.testing.assert_series_equal(counted.equity, full.equity)
    pd.testing.assert_frame_equal(counted.trades, full.trades)
