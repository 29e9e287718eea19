"""Records → Arrow columns for the store's bulk inserts, with validation.

Each table has a tuple of :class:`Col` specs: the column name, its logical kind, how to read it
from a record, and whether it may be NULL. :func:`to_arrow` builds one Arrow table per batch,
column by column (a list comprehension per column is ~20x cheaper than per-row tuples), and
refuses bad input with a :class:`~tradekit.errors.StoreError` that names the table, column,
row position and record id. DuckDB then inserts the whole table in one statement.

NULL policy: a NOT NULL float column must be finite; in a nullable float column NaN and ±inf
become NULL (SQL aggregates then skip them instead of turning into NaN).

JSON policy: non-finite floats inside nested values become ``null`` (JSON has no NaN).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, methodcaller
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from tradekit.errors import StoreError

__all__ = ["Col", "dumps_json", "field_names", "jsonable", "record_payload", "to_arrow"]

Kind = Literal["str", "int", "float", "bool", "ts", "json", "map", "str_list", "float_list", "date"]

_KEYS = methodcaller("keys")
_VALUES = methodcaller("values")


def _default(value: Any) -> Any:
    """JSON fallback for numpy scalars / arrays (engine code often yields ``np.int64``)."""
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


_ENCODE = json.JSONEncoder(
    separators=(",", ":"), allow_nan=False, ensure_ascii=False, default=_default
).encode


@dataclass(frozen=True, slots=True)
class Col:
    """One column of a table as written from a record.

    Parameters
    ----------
    name:
        Column name in DuckDB.
    kind:
        Logical type: ``ts`` is int ns UTC, ``json`` is an already encoded JSON string.
    get:
        Reads the column's value from a record.
    nullable:
        Whether NULL (``None``, or a non-finite float) is allowed.
    """

    name: str
    kind: Kind
    get: Callable[[Any], Any]
    nullable: bool = True


def _sanitize(value: Any) -> Any:
    if isinstance(value, np.generic | np.ndarray):
        value = value.tolist()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(k): _sanitize(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_sanitize(v) for v in value]
    return value


def dumps_json(value: Any) -> str | None:
    """Compact JSON text of ``value``; NaN/inf become ``null``; ``None`` stays ``None``.

    Raises
    ------
    StoreError
        The value holds something JSON cannot represent (an object, bytes, ...).
    """
    if value is None:
        return None
    try:
        try:
            return str(_ENCODE(value))
        except ValueError:  # non-finite float somewhere: slow path
            return str(_ENCODE(_sanitize(value)))
    except (TypeError, ValueError) as exc:
        raise StoreError(f"value is not JSON-serialisable: {exc}") from exc


def jsonable(value: Any) -> Any:
    """``value`` with dates as ISO strings and nested records / mappings / sequences as plain
    dicts and lists (what :func:`tradekit.core.events.to_dict` does to a field).

    Scalars (including str/int enums) are returned as they are; checks are ordered by how
    often each case occurs in event records, cheapest first.
    """
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(type(value), "__dataclass_fields__"):
        return record_payload(value)
    if isinstance(value, Mapping):
        return {k: jsonable(v) for k, v in value.items()}
    return value


_PLAIN: frozenset[type] = frozenset({str, int, float, bool, type(None)})
_FIELDS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]] = {}


def field_names(record: Any) -> tuple[str, ...]:
    """The field names of an event record's dataclass, in declaration order (cached per type).

    Raises
    ------
    StoreError
        ``record`` is not a dataclass instance.
    """
    return _spec(record)[0]


def _spec(record: Any) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]]:
    cls = type(record)
    spec = _FIELDS.get(cls)
    if spec is None:
        if not dataclasses.is_dataclass(record) or isinstance(record, type):
            raise StoreError(f"cannot serialise {cls.__name__}: not an event record (dataclass)")
        names = tuple(f.name for f in dataclasses.fields(record))
        get = attrgetter(*names)
        spec = (names, (lambda r: (get(r),)) if len(names) == 1 else get)
        _FIELDS[cls] = spec
    return spec


def record_payload(record: Any) -> dict[str, Any]:
    """The JSON-ready dict of an event record; same result as :func:`tradekit.core.events.to_dict`.

    A shallow walk over the dataclass fields (names and a getter cached per type) instead of
    ``asdict``'s deep copy; plain scalars are taken as they are. This is what makes journaling
    100k signals affordable.

    Raises
    ------
    StoreError
        ``record`` is not a dataclass instance.
    """
    names, getter = _spec(record)
    plain = _PLAIN
    return {
        n: (v if type(v) in plain else jsonable(v))
        for n, v in zip(names, getter(record), strict=True)
    }


def _fail(table: str, col: Col, pos: int, ids: Sequence[Any], value: Any, why: str) -> StoreError:
    rid = ids[pos] if pos < len(ids) else "?"
    return StoreError(f"{table}.{col.name}: row {pos} (id={rid!r}) has {value!r}; {why}")


def _float_array(table: str, col: Col, values: list[Any], ids: Sequence[Any]) -> pa.Array:
    try:
        arr = np.array(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        pos = next(i for i, v in enumerate(values) if not _is_number(v))
        raise _fail(table, col, pos, ids, values[pos], "expected a number") from exc
    finite = np.isfinite(arr)
    if finite.all():
        return pa.array(arr)
    if not col.nullable:
        pos = int(np.argmin(finite))
        raise _fail(table, col, pos, ids, values[pos], "column is NOT NULL and must be finite")
    return pa.array(arr, mask=~finite)


def _is_number(v: Any) -> bool:
    if v is None:
        return True
    try:
        float(v)
    except (TypeError, ValueError):
        return False
    return True


def _check_nulls(table: str, col: Col, values: list[Any], ids: Sequence[Any]) -> None:
    if not col.nullable and None in values:
        pos = values.index(None)
        raise _fail(table, col, pos, ids, None, "column is NOT NULL")


def _int_array(
    table: str, col: Col, values: list[Any], ids: Sequence[Any], *, floats: bool = True
) -> pa.Array:
    """Integers (ints, numpy ints, IntEnums and, if ``floats``, integral floats).

    Timestamps pass ``floats=False``: a float cannot hold int64 nanoseconds exactly.
    """
    _check_nulls(table, col, values, ids)
    arr = np.asarray(values) if values else np.empty(0, np.int64)
    if arr.dtype.kind == "i":
        return pa.array(arr.astype(np.int64, copy=False))
    integral = floats and arr.dtype.kind == "f" and np.isfinite(arr).all()
    if integral and (arr == np.round(arr)).all():
        return pa.array(arr.astype(np.int64))
    why = "expected an integer" if floats else "expected int nanoseconds"
    bad = next((i for i, v in enumerate(values) if v is not None and not _is_int(v, floats)), None)
    if bad is not None:
        raise _fail(table, col, bad, ids, values[bad], why)
    try:
        return pa.array([None if v is None else int(v) for v in values], pa.int64())
    except (pa.ArrowInvalid, OverflowError) as exc:
        raise StoreError(f"{table}.{col.name}: integer out of int64 range: {exc}") from exc


def _is_int(v: Any, floats: bool = True) -> bool:
    if isinstance(v, bool | np.bool_):
        return False
    if isinstance(v, int | np.integer):
        return True
    if not floats:
        return False
    return isinstance(v, float | np.floating) and math.isfinite(v) and float(v).is_integer()


def _map_array(table: str, col: Col, values: list[Any], ids: Sequence[Any]) -> pa.Array:
    """``MAP(VARCHAR, DOUBLE)`` from mappings of name -> number (non-finite -> NULL value)."""
    _check_nulls(table, col, values, ids)
    present = values if None not in values else [m or {} for m in values]
    keys: list[Any] = list(chain.from_iterable(map(_KEYS, present)))
    vals: list[Any] = list(chain.from_iterable(map(_VALUES, present)))
    offsets = np.zeros(len(values) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, present), np.int32, len(values)), out=offsets[1:])
    try:
        v_np = np.array(vals, dtype=np.float64)
        k_arr = pa.array(keys, pa.string())
    except (TypeError, ValueError, pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        flat = next(
            i
            for i, (k, v) in enumerate(zip(keys, vals, strict=True))
            if not isinstance(k, str) or not _is_number(v)
        )
        row = int(np.searchsorted(offsets, flat, side="right")) - 1
        raise _fail(
            table, col, row, ids, values[row], "expected a mapping of str -> number"
        ) from exc
    finite = np.isfinite(v_np)
    v_arr = pa.array(v_np) if finite.all() else pa.array(v_np, mask=~finite)
    mask = pa.array([v is None for v in values]) if None in values else None
    return pa.MapArray.from_arrays(pa.array(offsets), k_arr, v_arr, mask=mask)


_TYPES: dict[str, pa.DataType] = {
    "str": pa.string(),
    "bool": pa.bool_(),
    "json": pa.string(),
    "str_list": pa.list_(pa.string()),
    "float_list": pa.list_(pa.float64()),
    "date": pa.date32(),
}


def _column(table: str, col: Col, records: Sequence[Any], ids: Sequence[Any]) -> pa.Array:
    try:
        values = list(map(col.get, records))
    except (AttributeError, KeyError, TypeError) as exc:
        raise StoreError(f"{table}.{col.name}: cannot read field from record: {exc}") from exc
    if col.kind == "float":
        return _float_array(table, col, values, ids)
    if col.kind == "int":
        return _int_array(table, col, values, ids)
    if col.kind == "ts":
        return _int_array(table, col, values, ids, floats=False).cast(pa.timestamp("ns"))
    if col.kind == "map":
        return _map_array(table, col, values, ids)
    _check_nulls(table, col, values, ids)
    if col.kind == "float_list":
        values = [None if v is None else [_finite_or_none(x) for x in v] for v in values]
    try:
        return pa.array(values, _TYPES[col.kind])
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError) as exc:
        raise StoreError(f"{table}.{col.name}: values of the wrong type: {exc}") from exc


def _finite_or_none(x: Any) -> float | None:
    f = float(x)
    return f if math.isfinite(f) else None


def to_arrow(
    table: str,
    cols: Sequence[Col],
    records: Sequence[Any],
    ids: Sequence[Any],
    constants: Mapping[str, str | None] | None = None,
) -> pa.Table:
    """Build the Arrow table of one batch, validating every column.

    Parameters
    ----------
    table:
        Target table name (for error messages).
    cols:
        The column specs, in insert order.
    records:
        The records of the batch.
    ids:
        Each record's id, for error messages.
    constants:
        Extra string columns with one value for the whole batch (``run_id``, ``config_hash``).

    Raises
    ------
    StoreError
        A value breaks its column's type or NULL rule.
    """
    arrays = {c.name: _column(table, c, records, ids) for c in cols}
    n = len(records)
    for name, value in (constants or {}).items():
        arrays[name] = pa.array([value] * n, pa.string())
    return pa.table(arrays)
