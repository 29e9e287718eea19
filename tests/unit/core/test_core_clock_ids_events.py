"""Clocks, deterministic ids and event records."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from tradekit.core.clock import Clock, SimClock, WallClock
from tradekit.core.enums import OrderStatus, Right, Side
from tradekit.core.events import Bar, Fill, Leg, OptionContract, to_dict
from tradekit.core.ids import make_id


class TestSimClock:
    def test_set_and_advance(self) -> None:
        c = SimClock(10)
        c.set_time(20)
        c.advance(5)
        assert c.now_ns() == 25

    def test_never_goes_back(self) -> None:
        c = SimClock(100)
        with pytest.raises(ValueError, match="back in time"):
            c.set_time(99)

    def test_both_clocks_satisfy_protocol(self) -> None:
        assert isinstance(SimClock(), Clock)
        assert isinstance(WallClock(), Clock)
        assert WallClock().now_ns() > 1_600_000_000 * 10**9


class TestIds:
    def test_deterministic_and_distinct(self) -> None:
        assert make_id("f", "SPY", 1, 2.5) == make_id("f", "SPY", 1, 2.5)
        assert make_id("f", "a", "bc") != make_id("f", "ab", "c")
        assert make_id("f", 0.1 + 0.2) != make_id("f", 0.3)
        assert make_id("ord", "x").startswith("ord-")


class TestEvents:
    def test_records_are_frozen(self) -> None:
        bar = Bar("SPY", "1min", 0, 1.0, 2.0, 0.5, 1.5, 100.0)
        with pytest.raises(dataclasses.FrozenInstanceError):
            bar.close = 3.0  # type: ignore[misc]
        assert bar.close_ts_ns == 60_000_000_000

    def test_option_contract_occ_symbol(self) -> None:
        c = OptionContract("SPY", dt.date(2025, 1, 17), 450.5, Right.PUT)
        assert c.symbol == "SPY   250117P00450500"

    def test_to_dict_is_json_serialisable(self) -> None:
        c = OptionContract("SPY", dt.date(2025, 1, 17), 450.0, Right.CALL)
        d = to_dict(Leg(c, -1, price=1.25, delta=-0.3))
        assert json.loads(json.dumps(d))["contract"]["expiry"] == "2025-01-17"
        f = Fill("fill-1", "ord-1", "SPY", Side.SELL, 10, 101.0, 5)
        assert to_dict(f)["side"] == -1

    def test_terminal_statuses(self) -> None:
        assert OrderStatus.FILLED.is_terminal and not OrderStatus.PARTIALLY_FILLED.is_terminal
