"""What ``tradekit run`` prints (issue #13, point 12): a line per session by default, decisions
only with ``--verbose``, nothing but the closing summary with ``--quiet``, the closing summary
once; the named counts add up (point 5)."""

from __future__ import annotations

import io
import logging

import pytest

from tradekit.cli._printer import RunPrinter, configure_logging, named_counts
from tradekit.config import AlgorithmConfig
from tradekit.core.clock import SimClock
from tradekit.data.datasets import synthetic_intraday
from tradekit.data.schema import bars_to_events
from tradekit.runtime.kernel import Engine

CFG = AlgorithmConfig(symbols=("SPY",), timeframe="1min")


def _run(verbosity: str) -> tuple[Engine, list[str]]:
    eng = Engine(CFG, clock=SimClock(), market=lambda ts: 18.0)
    out = io.StringIO()
    printer = RunPrinter(eng, verbosity, out=out)  # type: ignore[arg-type]
    df = synthetic_intraday("SPY", start="2024-03-04", days=2, seed=2)
    for bar in bars_to_events(df, "SPY", "1min"):
        eng.clock.set_time(bar.close_ts_ns)  # type: ignore[attr-defined]
        printer(eng.on_bar(bar))
    printer.close(initial_cash=CFG.execution.initial_cash, where="memory")
    printer.close(initial_cash=CFG.execution.initial_cash, where="memory")  # idempotent
    return eng, out.getvalue().splitlines()


@pytest.fixture(scope="module")
def runs() -> dict[str, tuple[Engine, list[str]]]:
    return {v: _run(v) for v in ("quiet", "summary", "verbose")}


def test_default_is_one_line_per_session_and_one_closing_summary(runs: dict) -> None:
    _, lines = runs["summary"]
    sessions = [ln for ln in lines if ln.startswith("2024-03-0")]
    assert [ln[:10] for ln in sessions] == ["2024-03-04", "2024-03-05"]
    assert sum(ln.startswith("done:") for ln in lines) == 1
    assert not [ln for ln in lines if "decision " in ln]
    assert len(lines) == 2 + 1 + 2  # sessions, done, the two count lines


def _day_pnl(line: str) -> float:
    return float(line.split("day P&L ")[1].split(" |")[0].replace(",", ""))


def _equity(line: str) -> float:
    return float(line.split("equity ")[1].split(" ")[0].replace(",", ""))


def test_each_session_line_shows_that_session_as_its_last_bar_left_it(runs: dict) -> None:
    """The first session's line is printed when the second session's first bar arrives, after
    the day roll; it must still show the first session's P&L, not the new day's 0."""
    eng, lines = runs["summary"]
    day1, day2 = (ln for ln in lines if ln.startswith("2024-03-0"))
    initial = CFG.execution.initial_cash
    assert _day_pnl(day1) == pytest.approx(_equity(day1) - initial, abs=0.011)
    assert _day_pnl(day2) == pytest.approx(_equity(day2) - _equity(day1), abs=0.011)
    assert _equity(day2) == pytest.approx(eng.ledger.equity, abs=0.006)
    assert "16:00" in day1 and "16:00" in day2  # stamped with the session's closing bar


def test_verbose_adds_one_line_per_decision(runs: dict) -> None:
    eng, lines = runs["verbose"]
    decisions = [ln for ln in lines if " decision " in ln]
    assert len(decisions) == named_counts(eng)["decisions"] > 0
    assert sum(ln.startswith("done:") for ln in lines) == 1


def test_quiet_prints_the_closing_summary_only(runs: dict) -> None:
    _, lines = runs["quiet"]
    assert lines[0].startswith("done:") and len(lines) == 3


def test_named_counts_add_up(runs: dict) -> None:
    eng, _ = runs["summary"]
    n = named_counts(eng)
    assert n["decisions"] == n["setups"]  # every setup is decided
    assert n["decisions"] == n["decisions_enter"] + n["decisions_skip"] + n["decisions_shadow"]
    assert n["entries_sent"] + n["entries_refused"] == n["decisions_enter"]
    assert n["orders"] >= n["entries_sent"] + n["entries_refused"]
    assert n["closed_trades"] + n["open_trades"] <= n["entries_sent"]  # a trade starts with one


def test_library_messages_go_through_logging(capsys: pytest.CaptureFixture[str]) -> None:
    logger = logging.getLogger("tradekit")
    level, handlers = logger.level, list(logger.handlers)
    try:
        configure_logging("summary")
        eng = Engine(CFG, clock=SimClock(), market=lambda ts: 18.0)
        eng.risk.halt("test halt")
        got = capsys.readouterr()
        assert "HALTED" not in got.out and "HALTED" in got.err  # a log record, on stderr
        configure_logging("quiet")
        eng.risk.reset("test", "again")
        assert "ACTIVE" not in capsys.readouterr().err  # silenced
    finally:
        logger.setLevel(level)
        logger.handlers[:] = handlers
