"""Notebook widgets for users who do not want Panel.

:class:`TraderControl` is an anywidget (an ES module string, no npm build) that drives an
:class:`~tradekit.runtime.autotrader.AutoTrader` running on the same kernel's event loop:
start / pause / resume / stop / kill buttons, a state badge and live counters.
"""

from tradekit.widgets.control import COMMANDS, TraderControl

__all__ = ["COMMANDS", "TraderControl"]
