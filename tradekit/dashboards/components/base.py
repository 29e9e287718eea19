"""What the dashboards need of a trader, and how they report errors without dying.

:class:`TraderLike` is the part of :class:`tradekit.runtime.autotrader.AutoTrader` the views
call (TEAM.md contract), so a component can be reused by the notebook panel and tested against
the real AutoTrader. :class:`Messages` is the one place a view shows what went wrong: every
widget callback runs through :meth:`Messages.guard`, so an exception becomes a red message in the
page, never a traceback or a dead session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import panel as pn
import param

__all__ = ["Messages", "TraderLike"]

log = logging.getLogger(__name__)


class TraderLike(Protocol):
    """The AutoTrader surface used by the Control Center."""

    engine: Any
    bus: Any
    store: Any
    run_id: str

    def start(self) -> Any: ...
    def pause(self) -> Any: ...
    def resume(self) -> Any: ...
    async def stop(self) -> Any: ...
    def kill(self, reason: str, *, flatten: bool = False, by: str = "operator") -> Any: ...
    def flatten(self) -> Any: ...
    def reset(self, by: str) -> Any: ...
    def close_position(self, symbol: str) -> Any: ...
    def activate_config(self, version: str) -> Any: ...
    def set_mode(self, mode: str) -> Any: ...
    def status(self) -> Any: ...


class Messages(param.Parameterized):
    """A bounded list of user-facing messages (newest first) with a Panel view."""

    limit = param.Integer(default=5, bounds=(1, None))

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.view = pn.Column(sizing_mode="stretch_width", css_classes=["tk-messages"])
        self._keyed: dict[str, Any] = {}

    def show(self, text: str, kind: str = "danger", *, key: str | None = None) -> None:
        """Add a message; ``kind`` is a Bootstrap alert type (danger, warning, success, info).
        A ``key`` replaces the earlier message with that key (one per source, e.g. a job)."""
        alert = pn.pane.Alert(text, alert_type=kind, sizing_mode="stretch_width", margin=(2, 5))
        old = self._keyed.pop(key, None) if key is not None else None
        self.view.objects = [alert, *(a for a in self.view.objects if a is not old)][: self.limit]
        if key is not None:
            self._keyed[key] = alert

    def clear(self, key: str | None = None) -> None:
        """Remove every message, or only the one shown under ``key``."""
        if key is None:
            self.view.objects, self._keyed = [], {}
            return
        old = self._keyed.pop(key, None)
        if old is not None:
            self.view.objects = [a for a in self.view.objects if a is not old]

    def guard(self, fn: Callable[..., Any], what: str) -> Callable[..., Any]:
        """Wrap a callback: an exception is logged and shown as ``"<what> failed: ..."``."""

        def run(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # shown to the user, never propagated into Bokeh
                log.exception("%s failed", what)
                self.show(f"{what} failed: {type(exc).__name__}: {exc}")
                return None

        return run
