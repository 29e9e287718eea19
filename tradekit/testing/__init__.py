"""tradekit.testing: the shipped test kit (readable bar builders; see :mod:`.bars`)."""

from tradekit.testing.bars import bar, bars_from_closes, bars_from_rows, bars_to_events

__all__ = ["bar", "bars_from_closes", "bars_from_rows", "bars_to_events"]
