"""``fast_record``: a faster constructor that keeps every contract of a frozen slotted record."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle
from collections.abc import Mapping
from typing import Any

import pydantic
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.records import fast_record

_EMPTY: Mapping[str, float] = {}


@dataclasses.dataclass(frozen=True, slots=True)
class Plain:
    """The reference: the same record without ``fast_record``."""

    symbol: str
    price: float
    size: float = 1.0
    tags: tuple[str, ...] = ()
    extra: Mapping[str, float] = dataclasses.field(default_factory=lambda: _EMPTY)
    fresh: list[int] = dataclasses.field(default_factory=list)


@fast_record
@dataclasses.dataclass(frozen=True, slots=True)
class Fast:
    symbol: str
    price: float
    size: float = 1.0
    tags: tuple[str, ...] = ()
    extra: Mapping[str, float] = dataclasses.field(default_factory=lambda: _EMPTY)
    fresh: list[int] = dataclasses.field(default_factory=list)


@fast_record
@dataclasses.dataclass(frozen=True, slots=True)
class Tick:
    symbol: str
    price: float


@dataclasses.dataclass(frozen=True, slots=True)
class PlainTick:
    symbol: str
    price: float


def _values(obj: Any) -> tuple[Any, ...]:
    return tuple(getattr(obj, f.name) for f in dataclasses.fields(obj))


class TestConstruction:
    def test_parameters_match_the_dataclass_init(self) -> None:
        ref = list(inspect.signature(Plain).parameters.values())
        got = list(inspect.signature(Fast).parameters.values())
        assert [p.name for p in got] == [p.name for p in ref]
        assert [p.kind for p in got] == [p.kind for p in ref]
        assert [p.default for p in got[:4]] == [p.default for p in ref[:4]]

    @settings(max_examples=60, deadline=None)
    @given(
        symbol=st.text(max_size=5),
        price=st.floats(allow_nan=False),
        size=st.floats(allow_nan=False),
        n_given=st.integers(2, 4),
        keywords=st.booleans(),
    )
    def test_same_values_as_the_reference(
        self, symbol: str, price: float, size: float, n_given: int, keywords: bool
    ) -> None:
        args = (symbol, price, size, ("a",))[:n_given]
        names = ("symbol", "price", "size", "tags")[:n_given]
        if keywords:
            kw = dict(zip(names, args, strict=True))
            got, ref = Fast(**kw), Plain(**kw)
        else:
            got, ref = Fast(*args), Plain(*args)
        assert _values(got) == _values(ref)
        assert type(got) is Fast and isinstance(got, Fast)

    def test_default_factories_run_per_instance(self) -> None:
        a, b = Fast("X", 1.0), Fast("X", 1.0)
        assert a.extra is _EMPTY and a.fresh == [] and a.fresh is not b.fresh

    def test_argument_errors_read_like_the_dataclass_ones(self) -> None:
        with pytest.raises(TypeError, match="missing 1 required positional argument: 'price'"):
            Fast("X")  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="unexpected keyword argument 'bogus'"):
            Fast("X", 1.0, bogus=1)  # type: ignore[call-arg]
        with pytest.raises(TypeError, match="multiple values"):
            Fast("X", 1.0, symbol="Y")  # type: ignore[misc]


class TestRecordContract:
    def test_frozen(self) -> None:
        r = Fast("X", 1.0)
        with pytest.raises(dataclasses.FrozenInstanceError):
            r.price = 2.0  # type: ignore[misc]
        for obj in (r, Plain("X", 1.0)):  # an unknown name fails alike (3.11's slots guard)
            with pytest.raises((AttributeError, TypeError)):
                obj.other = 1  # type: ignore[union-attr]

    def test_eq_hash_repr(self) -> None:
        a, b = Fast("X", 1.0, tags=("t",)), Fast("X", 1.0, tags=("t",))
        assert a == b and a != Fast("X", 2.0) and a != Plain("X", 1.0, tags=("t",))
        assert hash(Tick("X", 1.0)) == hash(Tick("X", 1.0)) == hash(PlainTick("X", 1.0))
        assert repr(a).startswith("Fast(symbol='X', price=1.0, size=1.0, tags=('t',)")

    def test_replace_asdict_pickle_copy(self) -> None:
        a = Fast("X", 1.0, 2.0, ("t",), {"k": 1.0}, [1])
        assert dataclasses.replace(a, price=3.0) == Fast("X", 3.0, 2.0, ("t",), {"k": 1.0}, [1])
        assert dataclasses.asdict(a)["extra"] == {"k": 1.0}
        for clone in (pickle.loads(pickle.dumps(a)), copy.copy(a), copy.deepcopy(a)):
            assert clone == a and type(clone) is Fast

    def test_allocation_protocols_and_pydantic(self) -> None:
        bare = Fast.__new__(Fast)  # what copyreg and pydantic-core do before setting fields
        assert type(bare) is Fast
        got = pydantic.TypeAdapter(Fast).validate_python({"symbol": "X", "price": "2.5"})
        assert got == Fast("X", 2.5) and got.fresh == [] and got.extra == {}
        with pytest.raises(dataclasses.FrozenInstanceError):
            got.price = 1.0  # type: ignore[misc]

    def test_is_final(self) -> None:
        with pytest.raises(TypeError, match="final"):

            class Sub(Fast):
                pass


class TestRefusals:
    def test_not_frozen(self) -> None:
        @dataclasses.dataclass(slots=True)
        class Mutable:
            x: int

        with pytest.raises(TypeError, match="frozen slotted"):
            fast_record(Mutable)

    def test_not_slotted(self) -> None:
        @dataclasses.dataclass(frozen=True)
        class NoSlots:
            x: int

        with pytest.raises(TypeError, match="frozen slotted"):
            fast_record(NoSlots)

    def test_post_init_and_init_false(self) -> None:
        @dataclasses.dataclass(frozen=True, slots=True)
        class Checked:
            x: int

            def __post_init__(self) -> None:
                pass

        @dataclasses.dataclass(frozen=True, slots=True)
        class Derived:
            x: int
            y: int = dataclasses.field(init=False, default=0)

        with pytest.raises(TypeError, match="__post_init__"):
            fast_record(Checked)
        with pytest.raises(TypeError, match="init=False"):
            fast_record(Derived)
