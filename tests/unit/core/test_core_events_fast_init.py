"""The hot records built through ``fast_record`` behave like plain frozen dataclasses.

``tradekit.core.records.fast_record`` gives the event records, the order request and the closed
trade a faster constructor. These tests pin that the records keep their public contract:
signature, positional/keyword construction and defaults, immutability, equality, hashing,
``dataclasses.replace``/``asdict``, ``to_dict`` and pickling.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
import pickle
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.enums import (
    DecisionAction,
    OrderStatus,
    OrderType,
    Side,
    TimeframeClass,
    TimeInForce,
    TradeMode,
)
from tradekit.core.events import (
    Bar,
    Decision,
    Fill,
    GateResult,
    Order,
    PositionSnapshot,
    to_dict,
)
from tradekit.execution.orders import OrderRequest
from tradekit.portfolio.position import ClosedTrade


def _reference(cls: type) -> type:
    """A plain frozen slotted dataclass with the same fields (the generated ``__init__``)."""
    specs = []
    for f in dataclasses.fields(cls):
        if f.default is not dataclasses.MISSING:
            specs.append((f.name, f.type, dataclasses.field(default=f.default)))
        elif f.default_factory is not dataclasses.MISSING:
            specs.append((f.name, f.type, dataclasses.field(default_factory=f.default_factory)))
        else:
            specs.append((f.name, f.type))
    return dataclasses.make_dataclass(f"Ref{cls.__name__}", specs, frozen=True, slots=True)


def _as_tuple(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


def _required(cls: type) -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(cls)
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]


GATE = GateResult("vix", True, 15.0, 30.0, "ok", True)
SAMPLES: dict[type, tuple[Any, ...]] = {
    Bar: ("SPY", "1min", 5, 470.0, 471.0, 469.0, 470.5, 1e6, 60_000_000_000),
    GateResult: ("vix", True, 15.0, 30.0, "ok", True),
    Decision: (
        "dec-1",
        "s1",
        "SPY",
        5,
        DecisionAction.ENTER,
        (GATE,),
        None,
        1,
        10.0,
        470.0,
        469.0,
        (472.5,),
        TradeMode.TREND,
        "stock",
        (),
        TimeframeClass.INTRADAY,
        10.0,
        2.5,
        {"total": 8.0},
        "v1",
        "abc",
        12.5,
        ("w",),
    ),
    Order: (
        "o1",
        "SPY",
        Side.BUY,
        10.0,
        OrderType.LIMIT,
        5,
        OrderStatus.FILLED,
        TimeInForce.GTC,
        470.0,
        None,
        10.0,
        469.5,
        1.0,
        (),
        "d1",
        "entry",
        "why",
    ),
    OrderRequest: (
        "SPY",
        Side.BUY,
        10.0,
        OrderType.LIMIT,
        TimeInForce.IOC,
        470.0,
        None,
        (),
        "d1",
        "entry",
        "c1",
    ),
    ClosedTrade: (
        "trd-1",
        "SPY",
        "SPY",
        1,
        10.0,
        5,
        9,
        470.0,
        471.0,
        9.0,
        10.0,
        1.0,
        1.0,
        0.9,
        469.0,
        10.0,
        -3.0,
        12.0,
        "d1",
        "s1",
        "stock",
        "o1",
        "o2",
        "tp1",
    ),
    Fill: ("f1", "o1", "SPY", Side.SELL, 10.0, 470.0, 7, 0.5, 0.2, 1.0, 0, "d1"),
    PositionSnapshot: (
        7,
        "SPY",
        -10.0,
        470.0,
        471.0,
        1.0,
        -10.0,
        3.0,
        -10.0,
        0.0,
        0.0,
        0.0,
        472.0,
        (465.0,),
        "SPY",
        0.2,
        3.0,
        -10.0,
        0.0,
        0.0,
        0.0,
    ),
}


#: records with the fast constructor (hot events, the order request, the closed trade)
FAST = (Bar, GateResult, Decision, Order, Fill, PositionSnapshot, OrderRequest, ClosedTrade)


@pytest.mark.parametrize("cls", list(FAST))
class TestFastInitContract:
    def test_fast_constructor_is_installed(self, cls: type) -> None:
        assert cls.__init__.__qualname__ == f"{cls.__name__}.__init__"
        assert "_set_class" in cls.__init__.__code__.co_names  # the generated one
        assert "__new__" not in cls.__dict__  # allocation untouched: bare cls.__new__(cls)

    def test_pydantic_validates_and_builds_the_record(self, cls: type) -> None:
        names = [f.name for f in dataclasses.fields(cls)]
        data = dict(zip(names, SAMPLES[cls], strict=True))
        got = pydantic.TypeAdapter(cls).validate_python(data)
        assert type(got) is cls and got == cls(*SAMPLES[cls])

    def test_signature_matches_the_dataclass_one(self, cls: type) -> None:
        ref = inspect.signature(_reference(cls))
        got = inspect.signature(cls)
        assert list(got.parameters) == list(ref.parameters)
        for name, p in got.parameters.items():
            q = ref.parameters[name]
            assert p.kind == q.kind, name
            field = {f.name: f for f in dataclasses.fields(cls)}.get(name)
            if field is not None and field.default_factory is not dataclasses.MISSING:
                assert cls(*SAMPLES[cls][: len(_required(cls))]).__getattribute__(name) is (
                    field.default_factory()
                ), name  # e.g. the shared empty map
            elif isinstance(q.default, float) and math.isnan(q.default):
                assert math.isnan(p.default), name
            else:
                assert p.default == q.default, name

    def test_positional_and_keyword_agree_with_reference(self, cls: type) -> None:
        args = SAMPLES[cls]
        names = [f.name for f in dataclasses.fields(cls)]
        ref = _reference(cls)
        assert _as_tuple(cls(*args)) == _as_tuple(ref(*args))
        assert cls(*args) == cls(**dict(zip(names, args, strict=True)))

    def test_defaults_agree_with_reference(self, cls: type) -> None:
        req = _required(cls)
        args = SAMPLES[cls][: len(req)]
        got, ref = _as_tuple(cls(*args)), _as_tuple(_reference(cls)(*args))
        for a, b in zip(got, ref, strict=True):
            assert a == b or (isinstance(a, float) and math.isnan(a) and math.isnan(b))

    def test_bad_arguments_raise_type_error(self, cls: type) -> None:
        with pytest.raises(TypeError):
            cls()
        with pytest.raises(TypeError):
            cls(*SAMPLES[cls], "one too many")
        with pytest.raises(TypeError):
            cls(*SAMPLES[cls], not_a_field=1)

    def test_immutable(self, cls: type) -> None:
        obj = cls(*SAMPLES[cls])
        for f in dataclasses.fields(cls):
            with pytest.raises(dataclasses.FrozenInstanceError):
                setattr(obj, f.name, None)
        # a non-field name fails too (TypeError on 3.11: the slots=True dataclass quirk)
        with pytest.raises((dataclasses.FrozenInstanceError, AttributeError, TypeError)):
            obj.extra = 1  # type: ignore[attr-defined]
        assert not hasattr(obj, "__dict__")

    def test_equality_hash_replace_asdict_pickle(self, cls: type) -> None:
        a, b = cls(*SAMPLES[cls]), cls(*SAMPLES[cls])
        assert a == b
        try:  # records holding a dict (Decision.score_breakdown) were never hashable
            expected = hash(_reference(cls)(*SAMPLES[cls]))
        except TypeError:
            with pytest.raises(TypeError):
                hash(a)
        else:
            assert hash(a) == hash(b) == expected
        first = dataclasses.fields(cls)[0].name
        changed = dataclasses.replace(a, **{first: SAMPLES[cls][0] * 2})
        assert changed != a and type(changed) is cls
        assert dataclasses.replace(a) == a
        assert dataclasses.asdict(a) == dataclasses.asdict(_reference(cls)(*SAMPLES[cls]))
        assert to_dict(a)[first] == SAMPLES[cls][0]
        assert pickle.loads(pickle.dumps(a)) == a
        assert repr(a).startswith(f"{cls.__name__}(")


@settings(max_examples=100, deadline=None)
@given(
    qty=st.floats(allow_nan=False, min_value=0, max_value=1e9),
    price=st.floats(allow_nan=False, allow_infinity=False),
    ts=st.integers(min_value=0, max_value=2**62),
    decision_id=st.none() | st.text(max_size=5),
)
def test_fill_matches_reference_on_random_values(
    qty: float, price: float, ts: int, decision_id: str | None
) -> None:
    args = ("f", "o", "SPY", Side.BUY, qty, price, ts)
    ref = _reference(Fill)
    assert _as_tuple(Fill(*args, decision_id=decision_id)) == _as_tuple(
        ref(*args, decision_id=decision_id)
    )
    assert Fill(*args) == Fill(*args)
    assert Fill(*args) != Fill(*args, commission=1.0)
