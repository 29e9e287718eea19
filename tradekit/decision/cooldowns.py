"""The engine's own memory of entries: daily trade counts and cooldowns (gate 7).

Entries are keyed by the **bar time** of the setup, so a backtest and a live run see the same
cooldowns. A standalone decision engine records every ENTER (and SHADOW) decision it makes;
the engine kernel records an entry only once risk approved it and the broker accepted the
order, so a refused entry is no trade. Counting entries (instead of the ledger's fills) keeps
gate 7 deterministic and independent of fill timing; the day is the New York trading date of
the bar.

The state is plain data (:meth:`EntryLog.state_dict` / :meth:`EntryLog.load_state_dict`) so a
restarted trader resumes with its cooldowns and today's count intact.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.config import DecisionConfig
from tradekit.core.clock import NS_PER_MINUTE
from tradekit.decision.sessions import DayIndex

__all__ = ["Cooldown", "EntryLog"]

_KEEP_ENTRIES = 256
_KEEP_DAYS = 10


@dataclass(frozen=True, slots=True)
class Cooldown:
    """An active cooldown: which one (``"symbol"``, ``"kind:<KIND>"``, ``"global"``) and until
    when (int ns UTC)."""

    which: str
    until_ns: int


class EntryLog:
    """Entries (ts, symbol, kinds) and per-day counts, with cooldown queries.

    Examples
    --------
    >>> from zoneinfo import ZoneInfo
    >>> log = EntryLog(ZoneInfo("America/New_York"))
    >>> t = 1_704_205_800_000_000_000  # 2024-01-02 09:30 NY
    >>> log.record(t, "SPY", ("FVG", "BOS"))
    >>> log.trades_on_day_of(t)
    1
    >>> log.active_cooldown(t + 60_000_000_000, "SPY", ("ORB",), DecisionConfig()).which
    'symbol'
    >>> log.blocked_until(t + 60_000_000_000, "SPY", DecisionConfig()) > t + 60_000_000_000
    True
    >>> log.blocked_until(t + 60_000_000_000, "QQQ", DecisionConfig()) == t + 60_000_000_000
    True
    """

    def __init__(self, tz: ZoneInfo) -> None:
        self._tz = tz
        self._days = DayIndex(tz)
        self._entries: deque[tuple[int, str, tuple[str, ...]]] = deque(maxlen=_KEEP_ENTRIES)
        self._last_symbol: dict[str, int] = {}
        self._last_kind: dict[str, int] = {}
        self._per_day: dict[str, int] = {}
        self._times: list[int] = []  # entry times, sorted (global cooldown)
        self._spans_for: DecisionConfig | None = None
        self._spans_ns = (0, 0, 1, 0, 0)
        #: changes with every change of the log (a record, a clear, a load): an answer
        #: computed from the log stays true while it is the same
        self.version = 0

    @property
    def tz(self) -> ZoneInfo:
        """Zone of the trading date (New York)."""
        return self._tz

    def clear(self) -> None:
        """Forget every entry (a new run)."""
        self.version += 1
        self._entries.clear()
        self._last_symbol.clear()
        self._last_kind.clear()
        self._per_day.clear()
        self._times.clear()

    def record(self, ts_ns: int, symbol: str, kinds: tuple[str, ...]) -> None:
        """Remember an ENTER decision taken on the bar at ``ts_ns``."""
        self.version += 1
        ts_ns = int(ts_ns)
        kinds = tuple(kinds)
        self._entries.append((ts_ns, symbol, kinds))
        times = self._times
        if not times or ts_ns >= times[-1]:  # bars arrive in time order: append
            times.append(ts_ns)
        else:
            bisect.insort(times, ts_ns)
        if len(times) > _KEEP_ENTRIES:
            del times[0]
        # last[key] = max(last[key], ts_ns), inline (hot path)
        last = self._last_symbol
        prev = last.get(symbol)
        if prev is None or ts_ns > prev:
            last[symbol] = ts_ns
        last = self._last_kind
        for kind in kinds:
            prev = last.get(kind)
            if prev is None or ts_ns > prev:
                last[kind] = ts_ns
        day = self._days.key(ts_ns)
        self._per_day[day] = self._per_day.get(day, 0) + 1
        if len(self._per_day) > _KEEP_DAYS:
            for old in sorted(self._per_day)[:-_KEEP_DAYS]:
                del self._per_day[old]

    def trades_on_day_of(self, ts_ns: int) -> int:
        """Entries recorded on the New York trading date of ``ts_ns``."""
        if not self._per_day:
            return 0
        return self._per_day.get(self._days.key(ts_ns), 0)

    def blocked_until(self, ts_ns: int, symbol: str, cfg: DecisionConfig) -> int:
        """Until when (int ns UTC, exclusive) every entry on ``symbol`` is refused whatever
        its kinds, as the log stands at ``ts_ns``: the end of that New York date once its
        trades reached ``max_trades_per_day``, else the end of the longer of the symbol and
        global cooldowns; ``ts_ns`` when neither blocks. Kind cooldowns depend on the setup
        and are left out (a setup may still be refused by one)."""
        if self.trades_on_day_of(ts_ns) >= cfg.max_trades_per_day:
            return self._days.end_ns(ts_ns)
        cd = self.active_cooldown(ts_ns, symbol, (), cfg)
        return ts_ns if cd is None else cd.until_ns

    def _spans(self, cfg: DecisionConfig) -> tuple[int, int, int, int, int]:
        """Cooldown spans in ns for ``cfg`` (memoised on the config object)."""
        if self._spans_for is not cfg:
            self._spans_for = cfg
            self._spans_ns = (
                int(cfg.cooldown_symbol_minutes * NS_PER_MINUTE),
                int(cfg.cooldown_kind_minutes * NS_PER_MINUTE),
                cfg.cooldown_global_entries,
                int(cfg.cooldown_global_window_minutes * NS_PER_MINUTE),
                int(cfg.cooldown_global_minutes * NS_PER_MINUTE),
            )
        return self._spans_ns

    def active_cooldown(
        self, ts_ns: int, symbol: str, kinds: tuple[str, ...], cfg: DecisionConfig
    ) -> Cooldown | None:
        """The cooldown that blocks an entry at ``ts_ns`` (the one lasting longest), or None.

        Per symbol: ``cooldown_symbol_minutes`` after the last entry on ``symbol``. Per kind:
        ``cooldown_kind_minutes`` after the last entry that used the kind (any symbol).
        Global: ``cooldown_global_minutes`` after the latest of ``cooldown_global_entries``
        entries that fall within ``cooldown_global_window_minutes``.
        """
        sym_ns, kind_ns, n, window_ns, glob_ns = self._spans(cfg)
        best_which, best_until = "", ts_ns  # only cooldowns ending after ts_ns count
        last = self._last_symbol.get(symbol)
        if last is not None and last + sym_ns > best_until:
            best_which, best_until = "symbol", last + sym_ns
        last_kind = self._last_kind
        for kind in kinds:
            last = last_kind.get(kind)
            if last is not None and last + kind_ns > best_until:
                best_which, best_until = f"kind:{kind}", last + kind_ns
        times = self._times
        if (
            len(times) >= n
            and times[-1] - times[-n] <= window_ns
            and times[-1] + glob_ns > best_until
        ):
            best_which, best_until = "global", times[-1] + glob_ns
        return Cooldown(best_which, best_until) if best_which else None

    # -- persistence -----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """JSON-friendly state (lists of ints and strings only)."""
        return {
            "entries": [[ts, sym, list(kinds)] for ts, sym, kinds in self._entries],
            "per_day": dict(self._per_day),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Replace the state with one produced by :meth:`state_dict`."""
        self.version += 1
        try:
            entries = [
                (int(ts), str(sym), tuple(str(k) for k in kinds))
                for ts, sym, kinds in state["entries"]
            ]
            per_day = {str(d): int(c) for d, c in state["per_day"].items()}
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"invalid EntryLog state: {exc}") from None
        self.clear()
        for ts, sym, kinds in entries:
            self._entries.append((ts, sym, kinds))
            bisect.insort(self._times, ts)
            self._last_symbol[sym] = max(ts, self._last_symbol.get(sym, ts))
            for kind in kinds:
                self._last_kind[kind] = max(ts, self._last_kind.get(kind, ts))
        self._per_day = per_day
