"""The notebook control's ES module in a real Chromium, wired to its real Python side.

No Jupyter here: a page imports the widget's ``_esm`` and renders it with a small model object
(``get`` / ``on`` / ``send``, the part of the anywidget model API the module uses). ``send`` goes
to :meth:`TraderControl._on_front_end` through Playwright, on this test's loop, against a real
:class:`AutoTrader` on a replay feed; the traits are pushed back to the page, as the comm does.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any

import pytest

from tradekit.runtime.replay import replay_inputs, replay_trader
from tradekit.widgets import TraderControl

pytest.importorskip("playwright")

PAGE = """<!doctype html><html><body><div id="root"></div><script type="module">
const listeners = {};
const state = {};
window.tkSet = (s) => {
  for (const [k, v] of Object.entries(s)) {
    if (state[k] !== v) { state[k] = v; (listeners["change:" + k] || []).forEach((f) => f()); }
  }
};
window.tkBoot = async (esm, initial) => {
  Object.assign(state, initial);
  const model = {
    get: (k) => state[k],
    on: (name, f) => { (listeners[name] = listeners[name] || []).push(f); },
    send: (content) => window.pySend(content),
  };
  const url = URL.createObjectURL(new Blob([esm], { type: "text/javascript" }));
  const mod = (await import(url)).default;
  mod.render({ model, el: document.getElementById("root") });
};
</script></body></html>"""

TRAITS = ("state", "running", "run_id", "data_label", "bars", "signals", "decisions", "orders",
          "fills", "equity", "day_pnl", "message")  # fmt: skip


def _traits(w: TraderControl) -> dict[str, Any]:
    return {k: getattr(w, k) for k in TRAITS}


async def test_widget_renders_and_its_buttons_drive_the_trader(
    browser: Any, artifacts: Path
) -> None:
    inp = replay_inputs("aapl")
    inp = type(inp)(
        **{**inp.__dict__, "bars": inp.bars.iloc[:2000], "history": inp.bars.iloc[:2000]}
    )
    # paced at ~20 daily bars per wall second: the replay outlasts the clicks even under load
    trader = replay_trader(inputs=inp, speed=86_400.0 * 20)
    w = TraderControl(trader, refresh_s=0.0)
    page = await browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    await page.expose_function("pySend", lambda content: w._on_front_end(w, content, []))
    await page.set_content(PAGE)
    await page.evaluate("([esm, s]) => window.tkBoot(esm, s)", [w._esm, _traits(w)])

    async def push_forever() -> None:
        while True:
            await page.evaluate("s => window.tkSet(s)", _traits(w))
            await asyncio.sleep(0.05)

    pusher = asyncio.ensure_future(push_forever())
    try:
        badge = page.locator(".tk-state")
        assert await badge.text_content() == "STOPPED"
        assert await page.locator(".tk-pause").is_disabled()
        await page.click(".tk-start")
        await page.wait_for_function(
            "document.querySelector('.tk-state').textContent === 'RUNNING'"
        )
        await page.wait_for_function(
            "Number(document.querySelector('.tk-bars').textContent.replace(/,/g, '')) > 5"
        )
        await page.click(".tk-pause")
        await page.wait_for_function("document.querySelector('.tk-state').textContent === 'PAUSED'")
        assert trader.state.value == "PAUSED"
        await page.click(".tk-resume")
        await page.wait_for_function(
            "document.querySelector('.tk-state').textContent === 'RUNNING'"
        )
        await page.click(".tk-pause")  # paused again: the replay cannot end under the test
        await page.wait_for_function("document.querySelector('.tk-state').textContent === 'PAUSED'")
        await page.click(".tk-kill")  # asks first; cancel changes nothing
        assert await page.locator(".tk-confirm").is_visible()
        await page.click(".tk-kill-cancel")
        assert not await page.locator(".tk-confirm").is_visible()
        assert trader.state.value == "PAUSED"
        await page.click(".tk-kill")
        await page.click(".tk-kill-confirm")
        await page.wait_for_function("document.querySelector('.tk-state').textContent === 'HALTED'")
        assert trader.state.value == "HALTED"
        shown = int((await page.locator(".tk-bars").text_content() or "0").replace(",", ""))
        assert 0 < shown <= trader.bars_seen
        await page.screenshot(path=str(artifacts / "widget_control_halted.png"))
        await page.click(".tk-stop")
        await trader.wait()
        await page.wait_for_function("document.querySelector('.tk-stop').disabled")
    finally:
        pusher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pusher
        if trader.is_running:
            await trader.stop()
    assert errors == []
