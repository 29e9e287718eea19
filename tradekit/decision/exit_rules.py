"""Exit plans for decisions: what the broker's position monitor does after the entry fills.

The decision layer owns the *rules* (DECISIONS.md: stops and TP1..TP3 for stock; take half at
+50 %, all at +100 %, stop at −30/−40/−50 % of premium, time stop for intraday, close by DTE,
close before OPEX for options); the execution layer owns :class:`~tradekit.execution.exits.ExitPlan`
and applies it on every bar.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from tradekit.config import OptionClassParams
from tradekit.core.enums import TimeframeClass
from tradekit.core.events import Decision
from tradekit.decision.sessions import ns_of_local
from tradekit.execution.exits import ExitPlan

__all__ = ["close_before_ns", "option_exit_plan", "stock_exit_plan"]

#: Local time at which a "close before the event" exit fires on the previous weekday.
_CLOSE_BEFORE_MINUTES = 15 * 60 + 45


def stock_exit_plan(decision: Decision) -> ExitPlan:
    """Stop and TP1..TP3 of a directional decision (fractions from ``ExecutionConfig.scale_out``).

    Targets that are not finite or not beyond the entry in the trade's direction are dropped,
    so a setup with a missing TP3 never becomes a target at 0.
    """
    d = decision.direction
    targets = tuple(
        t for t in decision.targets if t == t and t > 0 and d * (t - decision.entry) > 0
    )
    return ExitPlan(stop=decision.stop, targets=targets)


def close_before_ns(event_day: dt.date, tz: ZoneInfo) -> int:
    """UTC ns of 15:45 local on the last weekday before ``event_day``."""
    day = event_day - dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return ns_of_local(day, _CLOSE_BEFORE_MINUTES, tz)


def option_exit_plan(
    params: OptionClassParams,
    tf_class: TimeframeClass,
    *,
    close_before: dt.date | None = None,
    tz: ZoneInfo,
) -> ExitPlan:
    """Premium and time exits of one timeframe class; ``close_before`` (gate 8's OPEX
    adjustment) adds a time stop on the weekday before the event."""
    plan = ExitPlan.from_option_class(params, flatten_eod=tf_class is TimeframeClass.INTRADAY)
    if close_before is None:
        return plan
    return ExitPlan(
        premium_stop_pct=plan.premium_stop_pct,
        take_half_pct=plan.take_half_pct,
        take_all_pct=plan.take_all_pct,
        time_stop_ns=close_before_ns(close_before, tz),
        time_stop_minutes_before_close=plan.time_stop_minutes_before_close,
        close_at_dte=plan.close_at_dte,
        flatten_eod=plan.flatten_eod,
    )
