"""``TraderControl``: an anywidget that controls an in-kernel :class:`AutoTrader`.

The Python side keeps synced traitlets (``state``, the counters, ``equity``, ``day_pnl``...)
up to date from the trader's bus: every ``state.trader`` change refreshes at once, bars and
fills refresh at most every ``refresh_s`` wall seconds (a replay at full speed must not
flood the comm channel with one message per bar). The front end (:data:`_ESM`) renders the
badge, the counters and the buttons and sends ``{"cmd": name}`` messages; :meth:`command`
runs them on the kernel's loop (``start`` needs the running loop; ``stop`` is a coroutine,
scheduled as a task). ``kill`` needs ``confirm=True``: the front end asks first.

Examples
--------
In a notebook::

    from tradekit.runtime.replay import replay_trader
    from tradekit.widgets import TraderControl
    trader = replay_trader("aapl")
    TraderControl(trader)          # shows the control; press start
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable
from typing import Any

import anywidget
import traitlets

from tradekit.errors import TradekitError
from tradekit.runtime.autotrader import AutoTrader, TraderState

__all__ = ["COMMANDS", "TraderControl"]

#: What the front end may ask for (``{"cmd": name}``; ``kill`` also ``"confirm": true``).
COMMANDS: tuple[str, ...] = ("start", "pause", "resume", "stop", "kill", "refresh")

_ESM = r"""
const STATE_COLORS = {RUNNING: "#1a7f37", PAUSED: "#9a6700", STOPPED: "#57606a", HALTED: "#cf222e"};
const COUNTERS = [["bars", "bars"], ["signals", "signals"], ["decisions", "decisions"],
                  ["orders", "orders"], ["fills", "fills"]];
const money = (v) => (v >= 0 ? "" : "-") + "$" + Math.abs(v).toLocaleString(undefined,
  {minimumFractionDigits: 2, maximumFractionDigits: 2});

function render({ model, el }) {
  el.classList.add("tradekit-control");
  el.style.cssText = "font-family: system-ui, sans-serif; font-size: 13px; border: 1px solid #d0d7de;" +
    "border-radius: 6px; padding: 8px 10px; display: inline-block; min-width: 420px;";
  const head = document.createElement("div");
  const badge = document.createElement("span");
  badge.className = "tk-state";
  badge.style.cssText = "color: white; border-radius: 4px; padding: 2px 8px; font-weight: 600;";
  const label = document.createElement("span");
  label.className = "tk-label";
  label.style.cssText = "margin-left: 8px; color: #57606a;";
  head.append(badge, label);

  const grid = document.createElement("div");
  grid.style.cssText = "display: grid; grid-template-columns: repeat(7, auto); gap: 2px 12px; margin: 8px 0;";
  const cells = {};
  for (const [key, title] of [...COUNTERS, ["equity", "equity"], ["day_pnl", "day P&L"]]) {
    const t = document.createElement("div");
    t.textContent = title;
    t.style.cssText = "color: #57606a; font-size: 11px;";
    grid.append(t);
  }
  for (const [key] of [...COUNTERS, ["equity"], ["day_pnl"]]) {
    const v = document.createElement("div");
    v.className = "tk-" + key;
    v.style.cssText = "font-variant-numeric: tabular-nums; font-weight: 600;";
    cells[key] = v;
    grid.append(v);
  }

  const bar = document.createElement("div");
  const button = (name, text) => {
    const b = document.createElement("button");
    b.textContent = text;
    b.className = "tk-btn tk-" + name;
    b.style.cssText = "margin-right: 4px;";
    b.addEventListener("click", () => model.send({ cmd: name }));
    bar.append(b);
    return b;
  };
  const buttons = {
    start: button("start", "Start"), pause: button("pause", "Pause"),
    resume: button("resume", "Resume"), stop: button("stop", "Stop"),
  };
  const kill = document.createElement("button");
  kill.textContent = "KILL";
  kill.className = "tk-btn tk-kill";
  kill.style.cssText = "margin-left: 8px; color: white; background: #cf222e; border: none; padding: 2px 8px;";
  const confirmBox = document.createElement("span");
  confirmBox.className = "tk-confirm";
  confirmBox.style.display = "none";
  confirmBox.append(" Halt trading and cancel working orders? ");
  const yes = document.createElement("button");
  yes.textContent = "Confirm kill";
  yes.className = "tk-btn tk-kill-confirm";
  const no = document.createElement("button");
  no.textContent = "Cancel";
  no.className = "tk-btn tk-kill-cancel";
  confirmBox.append(yes, no);
  kill.addEventListener("click", () => { confirmBox.style.display = "inline"; });
  no.addEventListener("click", () => { confirmBox.style.display = "none"; });
  yes.addEventListener("click", () => {
    confirmBox.style.display = "none";
    model.send({ cmd: "kill", confirm: true });
  });
  bar.append(kill, confirmBox);

  const msg = document.createElement("div");
  msg.className = "tk-message";
  msg.style.cssText = "margin-top: 6px; color: #cf222e;";

  el.append(head, grid, bar, msg);

  const update = () => {
    const state = model.get("state");
    badge.textContent = state;
    badge.style.background = STATE_COLORS[state] || "#57606a";
    label.textContent = model.get("data_label") + "  ·  run " + model.get("run_id");
    for (const [key] of COUNTERS) cells[key].textContent = model.get(key).toLocaleString();
    cells.equity.textContent = money(model.get("equity"));
    const pnl = model.get("day_pnl");
    cells.day_pnl.textContent = money(pnl);
    cells.day_pnl.style.color = pnl < 0 ? "#cf222e" : "#1a7f37";
    const running = model.get("running");
    buttons.start.disabled = running;
    buttons.pause.disabled = state !== "RUNNING";
    buttons.resume.disabled = state !== "PAUSED";
    buttons.stop.disabled = !running;
    kill.disabled = state === "HALTED";
    kill.style.opacity = kill.disabled ? "0.45" : "1";
    msg.textContent = model.get("message");
  };
  const names = ["state", "data_label", "run_id", "equity", "day_pnl", "running", "message",
                 ...COUNTERS.map(([k]) => k)];
  for (const n of names) model.on("change:" + n, update);
  update();
}
export default { render };
"""


class TraderControl(anywidget.AnyWidget):
    """A start / pause / resume / stop / kill control with a state badge and counters for an
    :class:`AutoTrader` on this kernel's loop (see the module docstring).

    Parameters
    ----------
    trader:
        The trader to drive; it runs on the loop the widget was created on.
    refresh_s:
        Least wall time between two counter refreshes while bars stream (seconds).
    """

    _esm = traitlets.Unicode(_ESM).tag(sync=True)

    state = traitlets.Unicode("STOPPED").tag(sync=True)
    running = traitlets.Bool(False).tag(sync=True)
    run_id = traitlets.Unicode("").tag(sync=True)
    data_label = traitlets.Unicode("").tag(sync=True)
    bars = traitlets.Int(0).tag(sync=True)
    signals = traitlets.Int(0).tag(sync=True)
    decisions = traitlets.Int(0).tag(sync=True)
    orders = traitlets.Int(0).tag(sync=True)
    fills = traitlets.Int(0).tag(sync=True)
    equity = traitlets.Float(0.0).tag(sync=True)
    day_pnl = traitlets.Float(0.0).tag(sync=True)
    message = traitlets.Unicode("").tag(sync=True)

    def __init__(self, trader: AutoTrader, *, refresh_s: float = 0.25, **kwargs: Any) -> None:
        if refresh_s < 0:
            raise ValueError(f"refresh_s must be >= 0, got {refresh_s}")
        super().__init__(**kwargs)
        self.trader = trader
        self.refresh_s = refresh_s
        self._last_refresh = -float("inf")
        self._tasks: set[asyncio.Task[Any]] = set()
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:  # built outside a loop: bind to the one running the first command
            self._loop = None
        bus = trader.bus
        self._subs = [
            bus.subscribe("state.trader", self._on_state, priority=-100),
            bus.subscribe("bars.*", self._on_activity, priority=-100),
            bus.subscribe("fills.*", self._on_activity, priority=-100),
        ]
        self.on_msg(self._on_front_end)
        self.refresh()

    # -- commands ------------------------------------------------------------------------------
    def command(self, name: str, *, confirm: bool = False) -> asyncio.Task[Any] | None:
        """Run one control command on the trader; returns the task for ``start`` / ``stop``.

        A refused command (unknown name, kill without ``confirm``, start while running...) is
        shown in :attr:`message` and raised as :class:`~tradekit.errors.TradekitError`.
        """
        if name not in COMMANDS:
            raise self._refuse(f"unknown command {name!r}; one of {', '.join(COMMANDS)}")
        self.message = ""
        t = self.trader
        task: asyncio.Task[Any] | None = None
        try:
            if name == "start":
                task = t.start()
            elif name == "pause":
                if t.state is not TraderState.RUNNING:
                    raise self._refuse(f"pause needs RUNNING, the trader is {t.state.value}")
                t.pause()
            elif name == "resume":
                if t.state is not TraderState.PAUSED:
                    raise self._refuse(f"resume needs PAUSED, the trader is {t.state.value}")
                t.resume()
            elif name == "stop":
                task = self._spawn(t.stop())
            elif name == "kill":
                if not confirm:
                    raise self._refuse("kill needs confirmation (confirm=True)")
                t.kill("kill switch (notebook control)", by="notebook")
        except TradekitError as exc:
            if not self.message:
                self.message = str(exc)
            raise
        self.refresh()
        return task

    def start(self) -> asyncio.Task[Any] | None:
        return self.command("start")

    def pause(self) -> None:
        self.command("pause")

    def resume(self) -> None:
        self.command("resume")

    def stop(self) -> asyncio.Task[Any] | None:
        return self.command("stop")

    def kill(self, *, confirm: bool = False) -> None:
        self.command("kill", confirm=confirm)

    def _refuse(self, text: str) -> TradekitError:
        self.message = text
        return TradekitError(text)

    def _spawn(self, coro: Awaitable[Any]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.message = f"{type(task.exception()).__name__}: {task.exception()}"
        self.refresh()

    def _on_front_end(self, widget: Any, content: Any, buffers: Any) -> None:
        """A message from the browser: ``{"cmd": name, "confirm": bool}``, run on the loop."""
        if not isinstance(content, dict) or not isinstance(content.get("cmd"), str):
            self.message = f"ignored a malformed control message: {content!r}"
            return
        name, confirm = content["cmd"], bool(content.get("confirm", False))
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop:
            loop.call_soon_threadsafe(self._run_quiet, name, confirm)
        else:
            self._loop = running
            self._run_quiet(name, confirm)

    def _run_quiet(self, name: str, confirm: bool) -> None:
        # the refusal is already in ``message`` for the user; a comm handler must not raise
        with contextlib.suppress(TradekitError):
            self.command(name, confirm=confirm)

    # -- sync from the trader ------------------------------------------------------------------
    def _on_state(self, topic: str, event: Any) -> None:
        self.refresh()

    def _on_activity(self, topic: str, event: Any) -> None:
        if time.monotonic() - self._last_refresh >= self.refresh_s:
            self.refresh()

    def refresh(self) -> None:
        """Copy the trader's status and counts into the synced traits (one comm message)."""
        from tradekit.cli._printer import named_counts

        t = self.trader
        s = t.status()
        n = named_counts(t.engine)
        self._last_refresh = time.monotonic()
        with self.hold_sync():
            self.state = s.state
            self.running = t.is_running
            self.run_id = s.run_id
            self.data_label = s.data_label
            self.bars = int(n["bars"])
            self.signals = int(n["signals"])
            self.decisions = int(n["decisions"])
            self.orders = int(n["orders"])
            self.fills = int(n["fills"])
            self.equity = float(s.equity)
            self.day_pnl = float(s.day_pnl)

    def close(self) -> None:
        """Unsubscribe from the trader's bus and close the widget."""
        subs = getattr(self, "_subs", [])  # also from __del__ of a half-built widget
        for sub in subs:
            self.trader.bus.unsubscribe(sub)
        subs.clear()
        super().close()

    def __repr__(self) -> str:
        return f"TraderControl(state={self.state}, bars={self.bars}, run_id={self.run_id!r})"
