"""Deterministic identifiers.

An id is a short prefix plus a hash of the parts that define the object (symbol, timestamp,
kind, ...). Re-running the same bars therefore produces the same ids, which is what makes
store inserts idempotent and lets a restarted trader recognise an order it already sent.
"""

from __future__ import annotations

import hashlib

__all__ = ["make_id"]


def make_id(prefix: str, *parts: object) -> str:
    """Return ``"<prefix>-<16 hex chars>"`` derived only from ``parts``.

    Parts are converted with ``repr`` for floats (round-trip exact) and ``str`` otherwise,
    joined with a unit separator so that ``("a", "bc")`` and ``("ab", "c")`` differ.

    Examples
    --------
    >>> make_id("sig", "SPY", 1, "FVG") == make_id("sig", "SPY", 1, "FVG")
    True
    """
    text = "\x1f".join(repr(p) if isinstance(p, float) else str(p) for p in parts)
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()
    return f"{prefix}-{digest}"
