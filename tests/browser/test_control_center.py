"""The Control Center as ``tradekit serve`` mounts it, driven in a real Chromium.

One server per test, on the test's own asyncio loop as in ``tradekit serve``: a paper
AutoTrader replaying labelled synthetic SPY 1-minute bars (with synthetic option chains) into a
DuckDB file, the REST API, the event stream and the Control Center page at ``/``. The test
clicks what a user clicks and checks both the page and the database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import free_port
from tradekit.api.server import build_server
from tradekit.cli.serve import _apps
from tradekit.runtime.replay import replay_trader
from tradekit.testing.api import TEST_TOKENS

#: seed 11 opens its first option position about 70 bars into the replay (after 60 sessions
#: of history), so a position is on the page within seconds at 25 bars/s.
SEED, HISTORY_DAYS, SPEED = 11, 60, 1500.0


async def _until(cond: Callable[[], Any] | Callable[[], Awaitable[Any]], timeout: float,
                 what: str) -> Any:  # fmt: skip
    t_end = time.monotonic() + timeout
    while True:
        out = cond()
        if asyncio.iscoroutine(out):
            out = await out
        if out:
            return out
        if time.monotonic() > t_end:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(0.1)


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[Any, str]]:
    trader = replay_trader("synthetic", days=3, history_days=HISTORY_DAYS, seed=SEED,
                           speed=SPEED, db=str(tmp_path / "cc.duckdb"), new_run=True)  # fmt: skip
    server = build_server(trader, port=free_port(), apps=_apps(trader), tokens=TEST_TOKENS,
                          discovery=False)  # fmt: skip
    server.start()
    try:
        yield trader, server.url
    finally:
        await server.stop()
        await trader.stop()
        trader.store.close()


async def _open(browser: Any, url: str) -> Any:
    page = await browser.new_page(viewport={"width": 1400, "height": 950})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors
    await page.goto(url + "/")
    await page.get_by_role("button", name="Start").wait_for(timeout=30_000)
    return page


def _tab(page: Any, name: str) -> Any:
    return page.locator(".bk-tab", has_text=name).first


async def _text(loc: Any) -> str:
    """Text of an element, its shadow root included (Panel panes render into one)."""
    return str(await loc.evaluate("e => (e.shadowRoot ? e.shadowRoot.textContent : '')"
                                  " + e.textContent"))  # fmt: skip


def _badge(page: Any, name: str) -> Any:
    return page.locator(f'span.tk-badge[data-name="{name}"]')


def _orders(trader: Any) -> int:
    return int(trader.store.query("SELECT count(*) AS n FROM orders WHERE run_id = ?",
                                  [trader.run_id])["n"].iloc[0])  # fmt: skip


async def test_start_watch_position_kill_halts(served: tuple[Any, str], browser: Any,
                                               artifacts: Path) -> None:  # fmt: skip
    trader, url = served
    page = await _open(browser, url)
    assert await _badge(page, "state").inner_text() == "STOPPED"
    assert "SYNTHETIC" in await _badge(page, "data").inner_text()

    await page.get_by_role("button", name="Start").click()
    n_candles = "Bokeh.documents[0].get_model_by_name('candles').data.x.length"
    await page.wait_for_function(f"() => {n_candles} > 5", timeout=20_000)
    first = await page.evaluate(n_candles)
    feed = page.get_by_text("signals ·")
    await feed.first.wait_for(timeout=20_000)
    await page.wait_for_function(f"() => {n_candles} > {first}", timeout=20_000)  # candles grow

    async def signals_shown() -> int:
        txt = await page.get_by_text("signals ·").first.inner_text()
        return int(txt.split()[0].replace(",", ""))

    s0 = await _until(signals_shown, 20, "signals in the feed")
    await _until(lambda: trader.engine.ledger.snapshot(), 30, "an open position")
    await page.get_by_role("button", name="Pause").click()
    await _until(lambda: trader.state.value == "PAUSED", 10, "PAUSED")
    assert await signals_shown() >= s0  # the feed only grows

    symbol = trader.engine.ledger.snapshot()[0].symbol
    await _tab(page, "Positions").click()
    card = page.get_by_text(symbol, exact=True).first
    await card.wait_for(timeout=10_000)
    await card.click()  # expand the position's card: its details
    await page.get_by_text("unrealized").first.wait_for(timeout=10_000)
    details = await page.get_by_text("unrealized").first.inner_text()
    assert "mark" in details or "unrealized" in details
    await page.screenshot(path=str(artifacts / "control_center_position.png"))

    await page.get_by_role("button", name="Resume").click()
    await _until(lambda: trader.state.value == "RUNNING", 10, "RUNNING again")
    await page.get_by_role("button", name="KILL SWITCH").click()
    await page.get_by_role("button", name="Confirm: KILL SWITCH").click()
    await _until(lambda: trader.state.value == "HALTED", 10, "HALTED in the trader")

    async def badge_halted() -> bool:
        return await _badge(page, "state").inner_text() == "HALTED"

    await _until(badge_halted, 10, "HALTED on the page")
    orders_at_kill = _orders(trader)
    bars_at_kill = trader.bars_seen
    await asyncio.sleep(2.0)
    assert _orders(trader) == orders_at_kill, "orders were placed after the kill switch"
    states = trader.store.query("SELECT key, value FROM auto_trade_state WHERE run_id = ?",
                                [trader.run_id])  # fmt: skip
    assert "HALTED" in " ".join(states["value"].astype(str)), states
    assert trader.bars_seen > bars_at_kill, "HALTED still marks positions on new bars"
    await page.screenshot(path=str(artifacts / "control_center_halted.png"))
    assert not page.errors, page.errors


async def test_invalid_config_value_shows_field_error(served: tuple[Any, str], browser: Any,
                                                      artifacts: Path) -> None:  # fmt: skip
    trader, url = served
    page = await _open(browser, url)
    await _tab(page, "Config").click()
    field = page.locator(".cfg-decision-max_vix input").first
    await field.wait_for(timeout=10_000)
    await field.fill("lots")
    await field.press("Enter")
    err = page.locator(".field-error").filter(has_text="⚠").first
    await err.wait_for(timeout=10_000)
    assert "not a number" in (await _text(err)).lower()
    await field.fill("-5")
    await field.press("Enter")

    async def range_error() -> str:
        txt = await _text(page.locator(".field-error").filter(has_text="⚠").first)
        return txt if "⚠" in txt and "not a number" not in txt else ""

    assert "max_vix" in await _until(range_error, 10, "the range error of a negative VIX")
    versions_before = trader.store.query("SELECT count(*) AS n FROM algorithm_configs")["n"][0]
    await page.get_by_role("button", name="Save as new version").click()
    await asyncio.sleep(1.0)
    after = trader.store.query("SELECT count(*) AS n FROM algorithm_configs")["n"][0]
    assert after == versions_before, "an invalid config was saved"
    await page.screenshot(path=str(artifacts / "control_center_config_error.png"))
    assert not page.errors, page.errors


async def test_small_backtest_from_the_ui(served: tuple[Any, str], browser: Any,
                                          artifacts: Path) -> None:  # fmt: skip
    trader, url = served
    page = await _open(browser, url)
    await _tab(page, "Backtest").click()
    # a failing run first: the shipped daily AAPL bars hold too few bars in the default 2 days
    await page.locator("select").first.select_option("aapl")
    await page.get_by_role("button", name="Run backtest").click()
    await page.get_by_text("backtest failed").first.wait_for(timeout=30_000)
    assert "Traceback" not in await page.content()
    await page.locator("select").first.select_option("synthetic")
    await page.locator(".tk-wf-toggle input").first.check()
    await page.get_by_role("button", name="Run backtest").click()
    await page.get_by_text("done:").first.wait_for(timeout=90_000)
    assert await page.get_by_text("metric").count() >= 1  # the stats table
    await page.get_by_text("probability of ruin").first.wait_for(timeout=10_000)  # Monte Carlo
    await page.get_by_text("OOS return").first.wait_for(timeout=10_000)  # walk-forward
    assert await page.locator(".tk-montecarlo").count() == 1
    await page.screenshot(path=str(artifacts / "control_center_backtest.png"), full_page=True)
    runs = trader.store.query(
        "SELECT status, results FROM backtest_runs WHERE run_id LIKE 'ui-%' ORDER BY created_at"
    )
    assert (
        list(runs["status"]) == ["failed", "done"] and "sharpe" in str(runs["results"][1]).lower()
    )
    assert "walk_forward" in str(runs["results"][1]) and "monte_carlo" in str(runs["results"][1])
    assert not page.errors, page.errors


async def test_ab_comparison_of_a_version_saved_in_the_ui(served: tuple[Any, str], browser: Any,
                                                          artifacts: Path) -> None:  # fmt: skip
    trader, url = served
    page = await _open(browser, url)
    await _tab(page, "Config").click()
    field = page.locator(".cfg-decision-min_confidence input").first
    await field.wait_for(timeout=10_000)
    await field.fill("7")
    await field.press("Enter")
    await page.get_by_role("button", name="Save as new version").click()
    await page.get_by_text("saved default").first.wait_for(timeout=10_000)
    await _tab(page, "A/B").click()
    selects = page.locator("select:visible")
    await _until(lambda: selects.count(), 10, "the A/B form")
    saved = trader.store.configs()
    new_label = f"default v{saved['version'].iloc[-1]}"
    await selects.nth(2).select_option(new_label)  # data set, version A, version B
    await page.get_by_role("button", name="Compare").click()
    verdict = page.locator(".tk-ab-verdict")
    await page.get_by_text("Verdict").first.wait_for(timeout=90_000)
    text = await _text(verdict)
    assert "paired days" in text and ("is better" in text or "cannot tell" in text), text
    assert "Traceback" not in await page.content()
    await page.screenshot(path=str(artifacts / "control_center_ab.png"), full_page=True)
    runs = trader.store.query("SELECT status, params, results FROM backtest_runs "
                              "WHERE run_id LIKE 'ab-%'")  # fmt: skip
    assert list(runs["status"]) == ["done"] and new_label in str(runs["params"][0])
    assert not page.errors, page.errors


async def test_page_opened_mid_run_shows_the_session_so_far(served: tuple[Any, str],
                                                            browser: Any) -> None:  # fmt: skip
    trader, url = served
    trader.start()
    await _until(lambda: trader.bars_seen >= 120 and trader.engine.ledger.snapshot(), 60,
                 "120 replayed bars and a position before the page opens")  # fmt: skip
    trader.pause()
    await _until(lambda: trader.state.value == "PAUSED", 10, "PAUSED")
    seen = trader.bars_seen
    page = await _open(browser, url)
    n_candles = "Bokeh.documents[0].get_model_by_name('candles').data.x.length"
    assert await page.evaluate(n_candles) == seen  # every bar so far, without a new one
    txt = await page.get_by_text("signals ·").first.inner_text()
    assert int(txt.split()[0].replace(",", "")) > 0
    assert not page.errors, page.errors


async def test_shadow_mode_from_the_next_session(served: tuple[Any, str], browser: Any) -> None:
    trader, url = served
    page = await _open(browser, url)
    await page.get_by_role("button", name="SHADOW", exact=True).click()
    await _until(lambda: trader.status().next_mode == "SHADOW", 10, "the mode request")
    badge_text = _badge(page, "mode")
    await _until(lambda: badge_text.inner_text(), 10, "the mode badge")

    async def says_next() -> bool:
        return "SHADOW next session" in await badge_text.inner_text()

    await _until(says_next, 10, "the badge to say SHADOW from the next session")
    assert (await badge_text.inner_text()).startswith("PAPER")  # not inside this session
    assert any(m.startswith("mode SHADOW requested") for m in trader.store.alerts()["message"])
    assert not page.errors, page.errors
