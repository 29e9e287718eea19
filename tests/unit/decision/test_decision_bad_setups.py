"""Hand-made setups with mistyped fields get a typed error, never a crash deep in scoring;
bad values of the right type are ordinary gate failures."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tradekit.config import AlgorithmConfig
from tradekit.core.enums import DecisionAction
from tradekit.core.events import Setup
from tradekit.data.calendar import get_calendar
from tradekit.decision import DecisionEngine
from tradekit.errors import DataError
from tradekit.testing import StaticAccount

T0 = 1_704_726_000_000_000_000  # Mon 2024-01-08 10:00 New York
ENGINE = DecisionEngine(
    AlgorithmConfig(), account=StaticAccount(), market=lambda ts: 15.0, calendar=get_calendar()
)
_junk = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-(10**6), 10**6),
    st.booleans(),
)
price = st.one_of(st.floats(400, 500), _junk)


def setup(**kw: Any) -> Setup:
    base: dict[str, Any] = dict(
        id="s", symbol="SPY", timeframe="1min", ts_ns=T0, index=0, direction=1, entry=470.0,
        stop=469.0, tp1=472.5, tp2=473.0, tp3=474.0, confidence=7.5, score=8.0,
        confluence_count=3, active_signals=("FVG", "BOS", "VOLUME_SURGE"),
    )  # fmt: skip
    return Setup(**{**base, **kw})


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    ts=st.one_of(st.integers(T0 - 10**14, T0 + 10**14), _junk),
    direction=st.one_of(st.sampled_from([1, -1]), _junk),
    entry=price,
    stop=price,
    tp1=price,
    confidence=st.one_of(st.floats(0, 10), _junk),
    count=st.one_of(st.integers(0, 5), _junk),
    kinds=st.one_of(
        st.just(("FVG", "BOS", "VOLUME_SURGE")), st.lists(st.text(max_size=4)).map(tuple), _junk
    ),
)
def test_a_decision_or_a_typed_error(
    ts: Any, direction: Any, entry: Any, stop: Any, tp1: Any, confidence: Any, count: Any,
    kinds: Any,
) -> None:  # fmt: skip
    s = setup(ts_ns=ts, direction=direction, entry=entry, stop=stop, tp1=tp1,
              confidence=confidence, confluence_count=count, active_signals=kinds)  # fmt: skip
    try:
        d = ENGINE.decide(s)
    except DataError as exc:
        assert exc.rule == "setup_fields" and "malformed setup 's'" in str(exc)
        return
    assert d.action in (DecisionAction.ENTER, DecisionAction.SKIP)
    assert len(d.gates) == 7


def test_messages_name_the_field() -> None:
    with pytest.raises(DataError, match="entry None is not a number"):
        ENGINE.decide(setup(entry=None))
    with pytest.raises(DataError, match="ts_ns '10:00' is not an integer"):
        ENGINE.decide(setup(ts_ns="10:00"))
    with pytest.raises(DataError, match="active_signals 'FVG' is not a sequence"):
        ENGINE.decide(setup(active_signals="FVG"))


def test_bad_values_of_the_right_type_are_gate_failures() -> None:
    d = ENGINE.decide(setup(id="nan-entry", entry=math.nan))
    assert d.action is DecisionAction.SKIP and d.block_reason is not None
    assert d.block_reason.startswith("signal_integrity")
