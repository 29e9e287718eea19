"""Records a replay writes besides the bus journal: the event calendar and the backtest run.

* :func:`record_event_calendar` fills ``event_calendar`` with the events the decision engine's
  gate 8 knows for the replayed span (computed monthly OPEX and any user events), so the table
  says which events the decisions were checked against.
* :func:`recorded_backtest` runs :func:`~tradekit.runtime.backtest.run_backtest` as a row of
  ``backtest_runs``: ``running`` with its config hash, data label and parameters before the
  first bar, then ``done`` with the results (or ``failed`` with the error). The engine's
  records go to the same database under the run's id, so the printed ``run_id`` names rows
  that exist.

Examples
--------
>>> from tradekit import AlgorithmConfig
>>> from tradekit.data.datasets import load
>>> from tradekit.store import Store
>>> cfg = AlgorithmConfig(symbols=("AAPL",), timeframe="1D")
>>> with Store.open(":memory:") as store:
...     res = recorded_backtest(store, load("aapl").iloc[:300], cfg, data_label="aapl",
...                             market=lambda ts: 18.0)
...     row = store.query("SELECT status, data_label FROM backtest_runs").iloc[0]
>>> row["status"], row["data_label"]
('done', 'aapl')
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from typing import Any

import pandas as pd

from tradekit.config import AlgorithmConfig
from tradekit.core.bus import EventBus
from tradekit.core.clock import SimClock
from tradekit.decision.event_calendar import EventCalendar
from tradekit.runtime.backtest import BacktestResult, run_backtest
from tradekit.store.records import CalendarEvent
from tradekit.store.repository import Store

__all__ = ["calendar_rows", "record_event_calendar", "recorded_backtest"]

#: Days after the replay's end the calendar also covers (an option bought on the last day
#: may be held to an expiry about this far out; gate 8 looks at the holding period).
CALENDAR_HORIZON_DAYS = 45
_KIND = {"EARNINGS": "earnings", "OTHER": "other"}


def calendar_rows(
    engine: Any, symbols: tuple[str, ...], start: dt.date, end: dt.date
) -> list[CalendarEvent]:
    """The events the engine's decision engine knows between ``start`` and ``end`` +
    :data:`CALENDAR_HORIZON_DAYS`, for each of ``symbols``, as ``event_calendar`` rows."""
    events = getattr(engine.decider, "events", None)
    if not isinstance(events, EventCalendar):  # the stock engine has no gate 8: OPEX anyway
        events = EventCalendar(is_session=engine.calendar.is_session)
    last = end + dt.timedelta(days=CALENDAR_HORIZON_DAYS)
    rows: dict[str, CalendarEvent] = {}
    for symbol in symbols:
        for ev in events.events_between(symbol, start, last):
            row = CalendarEvent(ev.date, _KIND.get(ev.kind, ev.kind), ev.description or ev.kind,
                                ev.symbol)  # fmt: skip
            rows[row.id] = row
    return list(rows.values())


def _dates(data: pd.DataFrame | Mapping[str, pd.DataFrame]) -> tuple[dt.date, dt.date]:
    frames = [data] if isinstance(data, pd.DataFrame) else list(data.values())
    idx = [f.index for f in frames if len(f)]
    if not idx:
        today = dt.datetime.now(dt.UTC).date()
        return today, today
    first = min(i[0] for i in idx).tz_convert("America/New_York").date()
    last = max(i[-1] for i in idx).tz_convert("America/New_York").date()
    return first, last


def record_event_calendar(
    store: Store, engine: Any, data: pd.DataFrame | Mapping[str, pd.DataFrame]
) -> int:
    """Write the calendar events of the span of ``data`` (see :func:`calendar_rows`)."""
    start, end = _dates(data)
    return store.write_calendar(calendar_rows(engine, tuple(engine.config.symbols), start, end))


def _jsonable_results(summary: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in summary.items():
        if isinstance(v, float) and not math.isfinite(v):
            out[k] = None if math.isnan(v) else ("inf" if v > 0 else "-inf")
        else:
            out[k] = v
    return out


def recorded_backtest(
    store: Store,
    data: pd.DataFrame | Mapping[str, pd.DataFrame],
    config: AlgorithmConfig,
    *,
    data_label: str,
    params: Mapping[str, Any] | None = None,
    on_start: Callable[[str], None] | None = None,
    **kwargs: Any,
) -> BacktestResult:
    """:func:`run_backtest` with its run and its records stored in ``store``.

    Parameters
    ----------
    store:
        A writable store; the config is saved, the run registered, and every signal, setup,
        decision, order, fill, trade, snapshot and alert written under the run id.
    data, config, kwargs:
        As for :func:`run_backtest` (``market``, ``quotes``...).
    data_label:
        What the bars are (``"aapl"``, ``"SYNTHETIC SPY 1min seed 11"``, a file path).
    params:
        Extra parameters recorded with the run (days, seed...).
    on_start:
        Called with the run id once the run row exists (before the first bar).

    Returns
    -------
    BacktestResult
        Its ``run_id`` is the ``backtest_runs`` row's.
    """
    from tradekit.store.journal import StoreSubscriber

    config_id = store.save_config(config)
    start, end = _dates(data)
    run_params = {"data_label": data_label, "first_date": start.isoformat(),
                  "last_date": end.isoformat(), "config_name": config.name,
                  "config_version": config.version, **dict(params or {})}  # fmt: skip
    run_id = store.start_backtest_run(config_id, run_params, data_label=data_label)
    if on_start is not None:
        on_start(run_id)
    bus = EventBus()
    # a replay needs no per-fill durability (it is rerun, not resumed): everything is
    # batched, so the records cost a few large transactions instead of two per fill
    sub = StoreSubscriber(store, bus, run_id=run_id, batch_size=20_000, flush_interval_s=None,
                          clock=SimClock(), sync_topics=(), config_hash=config_id,
                          algorithm_version=config.version)  # fmt: skip
    try:
        res = run_backtest(data, config, bus=bus, run_id=run_id, keep_engine=True, **kwargs)
        sub.close()
        if res.engine is not None:
            record_event_calendar(store, res.engine, data)
    except BaseException as exc:
        sub.close()
        store.fail_backtest_run(run_id, exc)
        raise
    store.finish_backtest_run(run_id, _jsonable_results(res.summary))
    return res
