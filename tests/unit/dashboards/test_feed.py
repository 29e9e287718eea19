from __future__ import annotations

from tradekit.core.events import Decision, Setup, Signal
from tradekit.dashboards.components.feed import SignalFeed, gates_frame


def test_feed_shows_newest_first_with_each_setups_decision(replayed) -> None:
    _bars, events = replayed
    feed = SignalFeed(max_rows=50)
    half = len(events) // 2
    feed.push(events[:half])
    n_sig_half = feed.n_signals
    feed.push(events[half:])
    signals = [e for _t, e in events if isinstance(e, Signal)]
    setups = [e for _t, e in events if isinstance(e, Setup)]
    decisions = {e.setup_id: e for _t, e in events if isinstance(e, Decision)}
    assert 0 < n_sig_half < feed.n_signals == len(signals)
    st = feed.setups_table.value
    assert len(st) == min(50, len(setups))
    assert st["id"].iloc[0] == setups[-1].id  # newest first
    for _, row in st.iterrows():
        d = decisions[row["id"]]
        assert row["action"] == d.action.value
        assert row["gates"] == f"{sum(g.passed for g in d.gates)}/{len(d.gates)}"
        assert row["reason"] == (d.block_reason or "")
    assert len(feed.signals_table.value) == 50


def test_gates_frame_lists_every_gate_with_reason(replayed) -> None:
    _bars, events = replayed
    d = next(e for _t, e in events if isinstance(e, Decision) and e.block_reason)
    g = gates_frame(d)
    assert list(g["gate"]) == [x.name for x in d.gates]
    assert set(g["result"]) <= {"PASS", "FAIL"} and "FAIL" in set(g["result"])
    assert gates_frame(None).empty
