"""tradekit.testing: the shipped test kit.

* readable bar builders (:mod:`.bars`): ``bar``, ``bars_from_rows``, ``bars_from_closes``,
  ``bars_to_events``;
* a fake feed for the live runner (:mod:`.feeds`): ``FakeFeed``;
* a fixed account for gates and risk checks (:mod:`.account`): ``StaticAccount``;
* a recording bus subscriber: ``EventRecorder`` (from :mod:`tradekit.runtime.backtest`, where
  the replay backtest uses it), which also stamps every record with the bar close at which it
  became known — the yardstick of no-look-ahead tests.
"""

from tradekit.runtime.backtest import EventRecorder
from tradekit.testing.account import StaticAccount
from tradekit.testing.bars import bar, bars_from_closes, bars_from_rows, bars_to_events
from tradekit.testing.feeds import FakeFeed

__all__ = [
    "EventRecorder",
    "FakeFeed",
    "StaticAccount",
    "bar",
    "bars_from_closes",
    "bars_from_rows",
    "bars_to_events",
]
