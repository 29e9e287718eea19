"""Characterisation of the directional engine's decision records (speed work must not move them).

Hand-made setups hit every gate's pass and fail path (session closed / outside the window /
half day, VIX missing under both policies, VIX too high, cooldowns, trade count, daily loss,
sizing caps, SHADOW mode, a plug-in gate that raises). The records were produced by the engine
before its hot path was memoised (commit 16742f1); the tests compare

* a few complete records field by field (readable when they fail), and
* a SHA-256 digest of every record of the whole sweep (each variant decides the cases twice,
  so the second pass is answered from the warm memos).

A hypothesis test checks the memos directly: an engine that has decided many other setups
gives the same records as a fresh one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.events import Decision, GateResult, Setup
from tradekit.core.ids import make_id
from tradekit.data.calendar import get_calendar
from tradekit.decision import DecisionEngine
from tradekit.decision.gates import GateContext
from tradekit.testing import StaticAccount

CAL = get_calendar("XNYS")
MIN_NS = 60_000_000_000


def ny(text: str) -> int:
    return int(pd.Timestamp(text, tz="America/New_York").value)


T0 = ny("2024-01-08 10:00")


def mk(i: int, ts: int = T0, **kw: Any) -> Setup:
    fields: dict[str, Any] = {
        "id": f"h{i}",
        "symbol": "SPY",
        "timeframe": "1min",
        "ts_ns": ts,
        "index": i,
        "direction": 1,
        "entry": 470.0,
        "stop": 469.0,
        "tp1": 472.5,
        "tp2": 473.0,
        "tp3": 474.0,
        "confidence": 7.5,
        "score": 8.0,
        "confluence_count": 3,
        "active_signals": ("FVG", "BOS", "VOLUME_SURGE"),
    }
    fields.update(kw)
    return Setup(**fields)


def cases() -> list[Setup]:
    """Setups in time order where it matters (cooldowns and trade counts build up)."""
    out = [
        mk(1),
        mk(2, confidence=3.0),
        mk(3, confidence=float("nan")),
        mk(4, confluence_count=1),
        mk(5, active_signals=()),
        mk(6, active_signals=("FVG", "WHAT")),
        mk(7, direction=0),
        mk(8, entry=float("inf")),
        mk(9, stop=471.0),
        mk(10, tp1=469.5),
        mk(11, ts=ny("2024-01-06 10:00")),  # Saturday
        mk(12, ts=ny("2024-01-09 08:00")),  # before the open of a day not seen yet
        mk(13, ts=ny("2024-01-08 16:30")),  # after the close of a day seen already
        mk(14, ts=ny("2024-11-29 12:00")),  # half day, inside
        mk(15, ts=ny("2024-11-29 13:30")),  # half day, after the early close
        mk(16, ts=ny("2024-12-25 11:00")),  # holiday
        mk(17, ts=ny("2024-01-08 15:59")),
        mk(18, active_signals=("SWEEP",)),
        mk(19, active_signals=("BOS",)),
        mk(20, tp1=470.5),
        mk(21, direction=-1, stop=471.0, tp1=467.0, tp2=466.0, tp3=-5.0),
        mk(22, entry=1.0, stop=0.5, tp1=2.0, tp2=float("nan"), tp3=0.9),
        mk(23, stop=100.0),
        mk(24, active_signals=("SWEEP", "BOS", "FVG"), tp1=473.5),
        mk(25, symbol="QQQ", ts=T0 + MIN_NS),
        mk(26, symbol="IWM", ts=T0 + 60 * MIN_NS, active_signals=("BOS", "CHOCH")),
    ]
    kinds = ("FVG", "BOS", "CHOCH", "VOLUME_SURGE", "SWEEP", "ORB", "MSS")
    for j in range(20):  # a day of setups, 4 minutes apart, varied kinds and R:R
        ks = tuple(dict.fromkeys(kinds[(j * 3 + m * 2) % len(kinds)] for m in range(1 + j % 4)))
        out.append(
            mk(
                100 + j,
                ts=T0 + j * 4 * MIN_NS,
                active_signals=ks,
                confluence_count=len(ks) + 1,
                tp1=471.0 + (j % 5) * 0.7,
            )
        )
    return out


class _Boom:
    """A plug-in gate with a bug: the engine must turn it into a failed gate."""

    name = "boom"

    def evaluate(self, ctx: GateContext) -> GateResult:
        raise ValueError("bad plug-in")


VIX_CYCLE: tuple[float | None, ...] = (15.0, 40.0, float("nan"), None, -1.0, 22.5, 29.999)

Variant = tuple[dict[str, Any], Any, StaticAccount, tuple[Any, ...]]
VARIANTS: dict[str, Variant] = {
    "default": ({}, lambda ts: 15.0, StaticAccount(), ()),
    "shadow": ({"decision.mode": "SHADOW"}, lambda ts: 15.0, StaticAccount(), ()),
    "vix_block": ({}, None, StaticAccount(), ()),
    "vix_allow": ({"decision.vix_missing_policy": "allow"}, None, StaticAccount(), ()),
    "vix_cycle": (
        {"decision.vix_missing_policy": "allow"},
        lambda ts: VIX_CYCLE[(ts // MIN_NS) % 7],
        StaticAccount(),
        (),
    ),
    "day_loss": ({}, lambda ts: 15.0, StaticAccount(day_pnl=-5000.0), ()),
    "pnl_nan": ({}, lambda ts: 15.0, StaticAccount(day_pnl=float("nan"), sod=0.0), ()),
    "full": ({}, lambda ts: 15.0, StaticAccount(open_positions=50), ()),
    "held": ({}, lambda ts: 15.0, StaticAccount(open_positions=50, qty=10.0), ()),
    "small": ({}, lambda ts: 15.0, StaticAccount(equity=100.0), ()),
    "broke": ({}, lambda ts: 15.0, StaticAccount(equity=0.0), ()),
    "exposed": ({}, lambda ts: 15.0, StaticAccount(gross=190_000.0, notional=19_000.0), ()),
    "trades": ({"decision.max_trades_per_day": 2}, lambda ts: 15.0, StaticAccount(), ()),
    "window": (
        {"decision.session_start": "10:00", "decision.session_end": "15:30"},
        lambda ts: 15.0,
        StaticAccount(),
        (_Boom(),),
    ),
}


def engine(name: str) -> DecisionEngine:
    overrides, market, account, extra = VARIANTS[name]
    cfg = AlgorithmConfig().with_overrides(overrides) if overrides else AlgorithmConfig()
    return DecisionEngine(cfg, account=account, market=market, calendar=CAL, extra_gates=extra)


def gate_row(g: GateResult) -> list[Any]:
    return [g.name, g.passed, g.observed, g.threshold, g.reason, g.evaluated_after_block]


def record(d: Decision) -> dict[str, Any]:
    """Every field of the decision except the measured processing time."""
    return {
        "id": d.id,
        "setup_id": d.setup_id,
        "symbol": d.symbol,
        "ts_ns": d.ts_ns,
        "action": d.action.value,
        "gates": [gate_row(g) for g in d.gates],
        "block_reason": d.block_reason,
        "direction": d.direction,
        "quantity": d.quantity,
        "entry": d.entry,
        "stop": d.stop,
        "targets": list(d.targets),
        "mode": None if d.mode is None else d.mode.value,
        "strategy": d.strategy,
        "legs": list(d.legs),
        "timeframe_class": d.timeframe_class,
        "risk_amount": d.risk_amount,
        "expected_rr": d.expected_rr,
        "score_breakdown": list(d.score_breakdown.items()),
        "config_version": d.config_version,
        "config_hash": d.config_hash,
        "warnings": list(d.warnings),
    }


#: fields that only echo the configuration (its hash changes whenever a config field is added)
CONFIG_ECHO = ("id", "config_hash", "config_version")


def sweep() -> Iterator[dict[str, Any]]:
    for name in VARIANTS:
        eng = engine(name)
        for _ in range(2):  # the second pass meets warm memos (and the first pass's entries)
            for s in cases():
                d = eng.decide(s)
                assert d.id == make_id("dec", s.id, eng.config.content_hash)
                assert (d.config_hash, d.config_version) == (
                    eng.config.content_hash,
                    eng.config.version,
                )
                rec = record(d)
                yield {"variant": name, **{k: v for k, v in rec.items() if k not in CONFIG_ECHO}}
        yield {"variant": name, "state": eng.state_dict()}


def digest(rows: Iterator[dict[str, Any]]) -> str:
    text = json.dumps(list(rows), sort_keys=True, allow_nan=True)  # floats: repr, exact
    return hashlib.sha256(text.encode()).hexdigest()


#: ``digest(sweep())`` of the engine before the memoised hot path (commit 16742f1), with one
#: deliberate change since: a time outside the session on a trading day is reported against
#: that day's window whatever the engine saw before (it said "market closed" until a bar of
#: that day had been inside the window); the sweep differed from 16742f1 in exactly those
#: session reasons and nothing else.
SWEEP_SHA256 = "b51153f5c3dcde18ca324cb33c9235c4851349d6c82ef47d03a5323520cd1aa5"


def test_sweep_matches_the_pre_optimisation_engine() -> None:
    rows = list(sweep())
    assert len(rows) == len(VARIANTS) * (2 * len(cases()) + 1)
    assert digest(iter(rows)) == SWEEP_SHA256


ENTER_GATES = [
    ["signal_integrity", True, 7.5, 5.5, "setup is sane", False],
    ["session_volatility", True, 15.0, 30.0, "2024-01-08 10:00 NY inside session; VIX 15.00", False],
    ["factorization", True, 7.5, 6.0, "factor score 7.5 >= 6", False],
    ["role_assignment", True, 3.0, 2.0, "primary FVG, confirmations ['BOS', 'VOLUME_SURGE']", False],
    ["score_mode", True, 2.5, 2.0, "TREND: R:R 2.50 >= 2", False],
    ["risk_sizing", True, 42.0, 1.0, "qty 42 @ 470 (budget 1000.00 / unit risk 1 = 1000; bound by symbol_notional)", False],
    ["daily_limits", True, 0.0, 5.0, "0 trades today; no cooldown", False],
]  # fmt: skip


def test_enter_record_in_full() -> None:
    rec = record(engine("default").decide(mk(1)))
    assert rec["gates"] == ENTER_GATES
    assert (rec["action"], rec["block_reason"], rec["quantity"]) == ("ENTER", None, 42.0)
    assert (rec["targets"], rec["mode"], rec["risk_amount"]) == (
        [472.5, 473.0, 474.0],
        "TREND",
        42.0,
    )
    assert rec["score_breakdown"] == [
        ("structure", 2.5), ("liquidity", 0.0), ("order_flow", 3.0), ("volume", 2.0),
        ("total", 7.5), ("confidence", 7.5),
    ]  # fmt: skip


def _blocks(name: str) -> dict[str, tuple[str, str | None, float]]:
    eng = engine(name)
    return {
        s.id: (d.action.value, d.block_reason, d.quantity) for s in cases() for d in [eng.decide(s)]
    }


def test_block_reasons_of_the_default_engine() -> None:
    got = _blocks("default")
    closed = "NY (weekend or holiday)"
    expected = {
        "h1": ("ENTER", None, 42.0),
        "h2": ("SKIP", "signal_integrity: confidence 3.0 < 5.5", 42.0),
        "h3": ("SKIP", "signal_integrity: confidence nan < 5.5", 42.0),
        "h5": ("SKIP", "signal_integrity: no active signals", 42.0),
        "h6": ("SKIP", "signal_integrity: unknown signal kinds ['WHAT']", 42.0),
        "h8": ("SKIP", "signal_integrity: entry/stop/tp1 must be finite and > 0 (got inf, 469.0, 472.5)", 0.0),
        "h11": ("SKIP", f"session_volatility: market closed at Sat 2024-01-06 10:00 {closed}", 42.0),
        # before the session of a day not seen yet, and after that of a day seen: alike
        "h12": ("SKIP", "session_volatility: Tue 2024-01-09 08:00 NY outside session 09:30-16:00", 42.0),
        "h13": ("SKIP", "session_volatility: Mon 2024-01-08 16:30 NY outside session 09:30-16:00", 42.0),
        "h15": ("SKIP", "session_volatility: Fri 2024-11-29 13:30 NY outside session 09:30-13:00", 42.0),
        "h17": ("SKIP", "daily_limits: symbol cooldown active until 12:15 NY", 42.0),
        "h19": ("SKIP", "factorization: factor score 2.5 < 6", 42.0),
        "h23": ("SKIP", "score_mode: TREND: R:R 0.01 < 2", 2.0),
    }  # fmt: skip
    assert {sid: got[sid] for sid in expected} == expected


def test_shadow_and_vix_policies() -> None:
    assert _blocks("shadow")["h1"] == ("SHADOW", None, 42.0)
    assert _blocks("vix_block")["h1"][1] == (
        "session_volatility: 2024-01-08 10:00 NY inside session; VIX missing: block"
    )
    allow = engine("vix_allow").decide(mk(1))
    assert allow.action.value == "ENTER"
    assert allow.gates[1].reason == "2024-01-08 10:00 NY inside session; VIX missing: allow"
    assert _blocks("day_loss")["h1"][1] == "daily_limits: day P&L -5000.00 <= limit -2500.00"


def _noise() -> list[Setup]:
    """Setups on another day than the checked ones, with other confidences and R:R."""
    day = ny("2024-02-05 10:00")
    return [mk(500 + i, ts=day + (i * 7 % 300) * MIN_NS, confidence=5.0 + i % 5,
               tp1=471.0 + i % 4) for i in range(60)]  # fmt: skip


setup_st = st.builds(
    lambda minute, conf, tp1, kinds, direction, count: mk(
        minute,
        ts=T0 + minute * MIN_NS,
        confidence=conf,
        tp1=470.0 + direction * tp1,
        stop=470.0 - direction,
        direction=direction,
        active_signals=kinds,
        confluence_count=count,
    ),
    st.integers(0, 300),
    st.sampled_from([5.0, 5.5, 7.5, 9.0]),
    st.sampled_from([1.5, 2.0, 2.5, 3.0, 4.0]),
    st.lists(
        st.sampled_from(["FVG", "BOS", "CHOCH", "SWEEP", "VOLUME_SURGE", "ORB"]),
        min_size=1,
        max_size=4,
        unique=True,
    ).map(tuple),
    st.sampled_from([1, -1]),
    st.integers(1, 4),
)
WARM = engine("default")


@settings(max_examples=60, deadline=None)
@given(st.lists(setup_st, min_size=1, max_size=12))
def test_a_warm_engine_decides_like_a_fresh_one(setups: list[Setup]) -> None:
    for s in _noise():
        WARM.decide(s)
    WARM.entries.clear()  # same trade history as the fresh engine; the memos stay warm
    fresh = engine("default")
    for s in sorted(setups, key=lambda x: x.ts_ns):
        assert record(WARM.decide(s)) == record(fresh.decide(s))


def test_session_reason_does_not_depend_on_what_was_seen_before() -> None:
    """The reason for a bar outside the window names its date's window, for a fresh engine
    and for one that already saw that date inside the window (a restarted trader and a
    running one write the same audit row)."""
    pre, inside = mk(900, ts=ny("2024-01-09 08:00")), mk(901, ts=ny("2024-01-09 10:00"))
    fresh = engine("default").decide(pre)
    warm_engine = engine("default")
    warm_engine.decide(inside)
    warm = warm_engine.decide(pre)
    assert (
        fresh.block_reason
        == warm.block_reason
        == ("session_volatility: Tue 2024-01-09 08:00 NY outside session 09:30-16:00")
    )
