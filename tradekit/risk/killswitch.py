"""The kill switch: a latched HALTED state, not an exception.

:meth:`KillSwitch.trigger` latches the :class:`~tradekit.risk.engine.RiskEngine` to HALTED
(persisted, so it survives a restart), cancels every working order through an
:class:`OrderCanceller` (the paper broker's ``cancel_all()``), and publishes a CRITICAL
:class:`~tradekit.core.events.Alert` on ``alerts.risk``. From then on every new order is
refused. Flattening open positions is a separate, explicit :meth:`KillSwitch.flatten` action
(closing orders are sent by the flattener directly to the broker; the HALTED gateway refuses
everything by design). Only :meth:`KillSwitch.reset` with who and why leaves HALTED.

Another process (``tradekit kill``) trips the switch without the database lock by writing a
flag file (:func:`write_kill_flag`); the live runtime polls :meth:`KillSwitch.check_external`.
A reset removes the flag so the next poll does not trip again.

Examples
--------
>>> import tempfile, pathlib
>>> flag = pathlib.Path(tempfile.mkdtemp()) / "KILL"
>>> write_kill_flag(flag, "operator: runaway orders")
>>> read_kill_flag(flag)
'operator: runaway orders'
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, runtime_checkable

from tradekit.core.clock import event_time_ns
from tradekit.core.enums import AlertLevel, TradingState
from tradekit.core.events import Alert
from tradekit.core.ids import make_id
from tradekit.risk.engine import RiskEngine

__all__ = ["KillSwitch", "OrderCanceller", "read_kill_flag", "write_kill_flag"]

log = logging.getLogger("tradekit.risk")


@runtime_checkable
class OrderCanceller(Protocol):
    """Anything that can cancel every working order (``PaperBroker`` fits)."""

    def cancel_all(self) -> object: ...


def write_kill_flag(path: str | os.PathLike[str], reason: str) -> None:
    """Write the kill flag file atomically (used by ``tradekit kill`` from another process)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(reason.strip() or "external kill", encoding="utf-8")
    os.replace(tmp, target)


def read_kill_flag(path: str | os.PathLike[str]) -> str | None:
    """The reason written in the flag file, or ``None`` when there is no flag."""
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return text or "external kill"


class KillSwitch:
    """Latch the risk engine to HALTED and stop all order flow.

    Parameters
    ----------
    risk:
        The risk engine whose state is latched.
    canceller:
        Cancels every working order on trigger (``broker.cancel_all``).
    flattener:
        Called by :meth:`flatten` to close every position (explicit action only).
    flag_path:
        Default flag file for :meth:`check_external` (e.g. ``data/KILL``).
    """

    def __init__(
        self,
        risk: RiskEngine,
        *,
        canceller: OrderCanceller | None = None,
        flattener: Callable[[], object] | None = None,
        flag_path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.risk = risk
        self.canceller = canceller
        self.flattener = flattener
        self.flag_path = Path(flag_path) if flag_path is not None else None
        self._tripped_by: Path | None = None

    @property
    def is_halted(self) -> bool:
        return self.risk.trading_state is TradingState.HALTED

    def _alert(self, message: str, level: AlertLevel, data: dict[str, object]) -> None:
        bus = self.risk.bus
        if bus is None:
            return
        now = event_time_ns(self.risk.clock)
        bus.publish(
            "alerts.risk",
            Alert(
                make_id("alert", "killswitch", now, message),
                now,
                level,
                "killswitch",
                message,
                data,
            ),
        )

    def trigger(self, reason: str, *, by: str = "killswitch") -> None:
        """Latch HALTED, cancel all working orders, publish a CRITICAL alert.

        Idempotent for the state; working orders are cancelled on every call.
        """
        self.risk.halt(reason, by=by)
        cancelled: object = None
        if self.canceller is not None:
            cancelled = self.canceller.cancel_all()
        log.critical("kill switch triggered by %s: %s", by, reason)
        self._alert(
            f"kill switch: {reason}", AlertLevel.CRITICAL, {"by": by, "cancelled": repr(cancelled)}
        )

    def flatten(self) -> object:
        """Close every open position through the flattener (explicit; not part of trigger)."""
        if self.flattener is None:
            raise RuntimeError("KillSwitch has no flattener; pass flattener= to flatten positions")
        log.warning("flatten requested (state %s)", self.risk.trading_state.value)
        result = self.flattener()
        self._alert("flatten all positions", AlertLevel.WARNING, {"result": repr(result)})
        return result

    def check_external(self, path: str | os.PathLike[str] | None = None) -> bool:
        """Trip the switch when the flag file exists; returns whether the engine is HALTED.

        Cheap when there is no flag (one ``stat``); polled by the live runtime.
        """
        target = Path(path) if path is not None else self.flag_path
        if target is None:
            raise ValueError("no flag path given")
        reason = read_kill_flag(target)
        if reason is not None and not self.is_halted:
            self._tripped_by = target
            self.trigger(f"external flag {target}: {reason}", by="external")
        return self.is_halted

    def reset(self, by: str, reason: str) -> None:
        """Leave HALTED explicitly (logged, published, persisted) and remove the flag file."""
        self.risk.reset(by, reason)
        for flag in {p for p in (self.flag_path, self._tripped_by) if p is not None}:
            flag.unlink(missing_ok=True)
            log.warning("kill flag %s removed by reset", flag)
        self._tripped_by = None
        self._alert(f"kill switch reset by {by}: {reason}", AlertLevel.WARNING, {"by": by})
