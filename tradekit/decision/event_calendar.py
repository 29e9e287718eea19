"""Gate 8's event calendar: known market events inside a position's holding period.

The user fills a table (earnings, FOMC, CPI, NFP, other) as a DataFrame with columns
``date``, ``kind`` and optionally ``symbol`` (empty = market-wide) and ``description`` — the
same shape as the store's ``event_calendar`` table. Monthly option expirations (OPEX) are
computed, not typed in: the third Friday of each month, moved to the previous session when
that Friday is an exchange holiday (when a session test is given).

Each event inside the holding period (dates inclusive) becomes a warning and an adjustment:

* ``reduce`` — multiply the size by ``event_size_factor`` (FOMC, CPI, NFP, other);
* ``avoid`` — do not open the trade (earnings of the traded symbol);
* ``close_before`` — close the position before the event's session (OPEX).

``max_event_warnings`` or more warnings, or any ``avoid``, block the trade.

Examples
--------
>>> third_friday(2024, 3)
datetime.date(2024, 3, 15)
>>> cal = EventCalendar(pd.DataFrame({"date": ["2024-03-20"], "kind": ["FOMC"]}))
>>> [e.kind for e in cal.events_between("SPY", dt.date(2024, 3, 11), dt.date(2024, 3, 22))]
['OPEX', 'FOMC']
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from tradekit.errors import DataError

__all__ = [
    "DEFAULT_ADJUSTMENTS",
    "EVENT_KINDS",
    "EventAssessment",
    "EventCalendar",
    "MarketEvent",
    "assess_events",
    "opex_dates",
    "third_friday",
]

#: Kinds the table may hold (OPEX is computed but may also be listed).
EVENT_KINDS: tuple[str, ...] = ("EARNINGS", "FOMC", "CPI", "NFP", "OPEX", "OTHER")

#: What each kind does to a trade whose holding period contains it.
DEFAULT_ADJUSTMENTS: Mapping[str, str] = {
    "EARNINGS": "avoid",
    "FOMC": "reduce",
    "CPI": "reduce",
    "NFP": "reduce",
    "OPEX": "close_before",
    "OTHER": "reduce",
}


@dataclass(frozen=True, slots=True)
class MarketEvent:
    """One calendar event; ``symbol`` ``None`` means it concerns the whole market."""

    date: dt.date
    kind: str
    symbol: str | None = None
    description: str = ""

    def applies_to(self, symbol: str) -> bool:
        return self.symbol is None or self.symbol.upper() == symbol.upper()


def third_friday(year: int, month: int) -> dt.date:
    """The third Friday of ``year``-``month`` (standard monthly option expiration)."""
    first = dt.date(year, month, 1)
    offset = (4 - first.weekday()) % 7  # Friday is weekday 4
    return first + dt.timedelta(days=offset + 14)


def opex_dates(
    start: dt.date, end: dt.date, is_session: Callable[[dt.date], bool] | None = None
) -> list[dt.date]:
    """Monthly OPEX dates in ``[start, end]``; a holiday Friday moves to the previous session."""
    out: list[dt.date] = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        d = third_friday(y, m)
        if is_session is not None:
            for _ in range(5):
                if is_session(d):
                    break
                d -= dt.timedelta(days=1)
        if start <= d <= end:
            out.append(d)
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _parse_table(table: pd.DataFrame) -> list[MarketEvent]:
    missing = {"date", "kind"} - set(table.columns)
    if missing:
        raise DataError(f"event table needs columns {sorted(missing)}", rule="columns")
    events: list[MarketEvent] = []
    symbols = table["symbol"] if "symbol" in table.columns else [None] * len(table)
    descs = table["description"] if "description" in table.columns else [""] * len(table)
    for i, (d, kind, sym, desc) in enumerate(
        zip(table["date"], table["kind"], symbols, descs, strict=True)
    ):
        k = str(kind).strip().upper()
        if k not in EVENT_KINDS:
            raise DataError(
                f"row {i}: unknown event kind {kind!r}; known {list(EVENT_KINDS)}",
                row=i,
                rule="kind",
            )
        try:
            day = pd.Timestamp(d).date()
        except (ValueError, TypeError):
            raise DataError(f"row {i}: invalid date {d!r}", row=i, rule="date") from None
        sym_ok = isinstance(sym, str) and sym.strip() != ""
        events.append(
            MarketEvent(day, k, sym.strip() if sym_ok else None, "" if pd.isna(desc) else str(desc))
        )
    return events


class EventCalendar:
    """User events plus computed OPEX.

    Parameters
    ----------
    table:
        DataFrame (``date``, ``kind``, optional ``symbol``, ``description``) or an iterable of
        :class:`MarketEvent`. Bad rows raise :class:`~tradekit.errors.DataError` naming the row.
    include_opex:
        Add monthly OPEX dates (third Friday).
    is_session:
        ``fn(date) -> bool`` used to move a holiday OPEX to the previous session
        (``MarketCalendar.is_session`` fits).
    adjustments:
        Kind → ``reduce`` / ``avoid`` / ``close_before`` / ``ignore`` (default
        :data:`DEFAULT_ADJUSTMENTS`).
    """

    def __init__(
        self,
        table: pd.DataFrame | Iterable[MarketEvent] | None = None,
        *,
        include_opex: bool = True,
        is_session: Callable[[dt.date], bool] | None = None,
        adjustments: Mapping[str, str] | None = None,
    ) -> None:
        self.adjustments: Mapping[str, str] = dict(adjustments or DEFAULT_ADJUSTMENTS)
        bad = {
            k: v
            for k, v in self.adjustments.items()
            if v not in ("reduce", "avoid", "close_before", "ignore")
        }
        if bad:
            raise ValueError(
                f"unknown event adjustments {bad}; use reduce/avoid/close_before/ignore"
            )
        if table is None:
            events: list[MarketEvent] = []
        elif isinstance(table, pd.DataFrame):
            events = _parse_table(table)
        else:
            events = list(table)
        self._events = sorted(events, key=lambda e: (e.date, e.kind))
        self.include_opex = include_opex
        self._is_session = is_session

    def events_between(
        self, symbol: str, start: dt.date, end: dt.date, *, include_opex: bool | None = None
    ) -> list[MarketEvent]:
        """Events concerning ``symbol`` with ``start <= date <= end``, sorted by date
        (``include_opex`` overrides the calendar's setting for this query)."""
        found = [e for e in self._events if start <= e.date <= end and e.applies_to(symbol)]
        if not (self.include_opex if include_opex is None else include_opex):
            found = [e for e in found if e.kind != "OPEX"]
        else:
            listed = {e.date for e in found if e.kind == "OPEX"}
            found += [
                MarketEvent(d, "OPEX", None, "monthly option expiration")
                for d in opex_dates(start, end, self._is_session)
                if d not in listed
            ]
        return sorted(found, key=lambda e: (e.date, e.kind))


@dataclass(frozen=True, slots=True)
class EventAssessment:
    """Gate 8's view of the holding period."""

    events: tuple[MarketEvent, ...]
    warnings: tuple[str, ...]
    size_factor: float
    avoid: bool
    close_before: dt.date | None
    blocked: bool
    reason: str


def assess_events(
    events: Iterable[MarketEvent],
    *,
    max_warnings: int,
    size_factor: float,
    adjustments: Mapping[str, str] = DEFAULT_ADJUSTMENTS,
    start: dt.date | None = None,
) -> EventAssessment:
    """Turn events (sorted by date) into warnings and adjustments.

    A ``close_before`` event ends the holding period: later events are not held through and are
    dropped. A ``close_before`` event on ``start`` itself (the trade day) cannot be closed
    before, so it reduces the size instead. ``ignore`` drops the event. The trade is blocked
    at ``max_warnings`` warnings or on any ``avoid``.

    Examples
    --------
    >>> ev = [MarketEvent(dt.date(2024, 3, 20), "FOMC")]
    >>> a = assess_events(ev, max_warnings=3, size_factor=0.5)
    >>> a.size_factor, a.blocked
    (0.5, False)
    """
    kept: list[MarketEvent] = []
    warnings: list[str] = []
    factor, avoid, close_before = 1.0, False, None
    for e in sorted(events, key=lambda e: e.date):
        if close_before is not None and e.date > close_before:
            break  # the position is closed before this one
        action = adjustments.get(e.kind, "reduce")
        if action == "ignore":
            continue
        if action == "close_before" and start is not None and e.date <= start:
            action = "reduce"
        kept.append(e)
        warnings.append(
            f"{e.kind} {e.date.isoformat()}{' ' + e.symbol if e.symbol else ''}: {action}"
        )
        if action == "reduce":
            factor *= size_factor
        elif action == "avoid":
            avoid = True
        elif action == "close_before":
            close_before = e.date
    blocked = avoid or len(warnings) >= max_warnings
    listed = "; ".join(warnings)
    if avoid:
        reason = f"event to avoid inside the holding period: {listed}"
    elif blocked:
        reason = f"{len(warnings)} event warnings >= {max_warnings}: {listed}"
    else:
        reason = f"{len(warnings)} event warnings" + (f": {listed}" if warnings else "")
    return EventAssessment(
        tuple(kept), tuple(warnings), factor, avoid, close_before, blocked, reason
    )
