"""Deterministic identifiers.

An id is a short prefix plus a hash of the parts that define the object (symbol, timestamp,
kind, ...). Re-running the same bars therefore produces the same ids, which is what makes
store inserts idempotent and lets a restarted trader recognise an order it already sent.
"""

from __future__ import annotations

import hashlib

__all__ = ["make_id", "text_id"]

_SEP = "\x1f"
#: an empty 8-byte BLAKE2b state: copying it is cheaper than building one with keywords
_EMPTY_HASH = hashlib.blake2b(digest_size=8)


def make_id(prefix: str, *parts: object) -> str:
    """Return ``"<prefix>-<16 hex chars>"`` derived only from ``parts``.

    Parts are converted with ``repr`` for floats (round-trip exact) and ``str`` otherwise,
    joined with a unit separator so that ``("a", "bc")`` and ``("ab", "c")`` differ. Strings
    are joined directly (the common case, twice as fast): a ``str`` subclass then contributes
    its string value, which is what ``str()`` gives for the ``StrEnum`` members of
    :mod:`tradekit.core.enums`.

    Examples
    --------
    >>> make_id("sig", "SPY", 1, "FVG") == make_id("sig", "SPY", 1, "FVG")
    True
    """
    try:  # all parts are strings (ids, tags, StrEnum members): join them as they are
        text = _SEP.join(parts)  # type: ignore[arg-type]
    except TypeError:
        text = _SEP.join([repr(p) if isinstance(p, float) else str(p) for p in parts])
    return text_id(prefix, text)


def text_id(prefix: str, text: str) -> str:
    """:func:`make_id` of parts already joined: ``text`` is their strings joined with
    ``"\x1f"`` (a hot caller that knows its parts' types formats them in one f-string).

    Examples
    --------
    >>> text_id("sig", "SPY\x1f1") == make_id("sig", "SPY", 1)
    True
    """
    h = _EMPTY_HASH.copy()
    h.update(text.encode())
    return prefix + "-" + h.hexdigest()
