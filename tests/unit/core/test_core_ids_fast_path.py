"""``make_id`` joins all-string parts directly; every id must equal the documented derivation
(``repr`` for floats, ``str`` otherwise, joined by U+001F, blake2b-64), so ids stay the same
whichever path computed them."""

from __future__ import annotations

import hashlib

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.core.enums import OrderStatus, Right, SignalKind
from tradekit.core.ids import make_id


def _reference(prefix: str, *parts: object) -> str:
    text = "\x1f".join(repr(p) if isinstance(p, float) else str(p) for p in parts)
    return f"{prefix}-{hashlib.blake2b(text.encode('utf-8'), digest_size=8).hexdigest()}"


class TestMakeIdMatchesTheDerivation:
    def test_known_value_is_pinned(self) -> None:
        # a literal: a change of the id function would change every stored id
        assert make_id("ord", "dec-1", "entry") == _reference("ord", "dec-1", "entry")
        expected = hashlib.blake2b(b"dec-1\x1fentry", digest_size=8).hexdigest()
        assert make_id("ord", "dec-1", "entry") == f"ord-{expected}"

    def test_str_enum_members_give_their_value(self) -> None:
        parts = (OrderStatus.FILLED, Right.CALL, next(iter(SignalKind)))
        assert make_id("x", *parts) == _reference("x", *parts)
        assert make_id("x", *parts) == make_id("x", *(str(p) for p in parts))

    def test_numpy_float_keeps_its_repr(self) -> None:
        v = np.float64(1.5)
        assert make_id("x", "a", v) == _reference("x", "a", v)

    def test_no_parts(self) -> None:
        assert make_id("x") == _reference("x")


part = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.none(),
    st.booleans(),
)


@settings(max_examples=200, deadline=None)
@given(prefix=st.text(min_size=1, max_size=5), parts=st.lists(part, max_size=6))
def test_any_parts_equal_the_reference(prefix: str, parts: list[object]) -> None:
    assert make_id(prefix, *parts) == _reference(prefix, *parts)
