"""The tradekit exception tree.

Every error tradekit raises on purpose derives from :class:`TradekitError`, so callers can
catch "anything tradekit refused" in one clause and still tell the kinds apart. Errors that
describe bad *input* also derive from :class:`ValueError` so generic callers keep working.
"""

from __future__ import annotations

__all__ = [
    "BrokerError",
    "ConfigError",
    "DataError",
    "FeedError",
    "FeedStalled",
    "IllegalTransition",
    "OrderRejected",
    "PluginError",
    "RecoveryError",
    "RiskDenied",
    "StoreError",
    "StoreLockedError",
    "TradekitError",
    "TraderError",
]


class TradekitError(Exception):
    """Base class of every error tradekit raises deliberately."""


class ConfigError(TradekitError, ValueError):
    """A configuration is invalid (unknown key, out-of-range value, inconsistent fields)."""


class DataError(TradekitError, ValueError):
    """Market data breaks the bar contract.

    Parameters
    ----------
    message:
        Human-readable description.
    row:
        Position (0-based) of the offending row in the input, when one row is to blame.
    rule:
        Short machine-readable name of the violated rule (``"nan"``, ``"high_lt_low"``, ...).
    """

    def __init__(self, message: str, *, row: int | None = None, rule: str | None = None) -> None:
        super().__init__(message)
        self.row = row
        self.rule = rule


class RiskDenied(TradekitError):
    """A pre-trade risk check refused an order; ``reason`` says which check and why."""

    def __init__(self, reason: str, *, check: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.check = check


class BrokerError(TradekitError):
    """The broker could not process a request."""


class OrderRejected(BrokerError):
    """An order was rejected (insufficient buying power, market closed, invalid order...)."""

    def __init__(self, reason: str, *, order_id: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.order_id = order_id


class IllegalTransition(BrokerError):
    """An order state change that the order state machine does not allow."""


class StoreError(TradekitError):
    """The DuckDB store failed (schema, migration, write)."""


class StoreLockedError(StoreError):
    """Another process holds the database file's write lock."""


class FeedError(TradekitError):
    """A market-data feed failed."""


class FeedStalled(FeedError):
    """A feed produced no data within its stall timeout."""


class PluginError(TradekitError):
    """A user-supplied callback (custom detector, gate, model) raised; it is wrapped in this."""


class TraderError(TradekitError):
    """The auto-trader (or live runner) cannot do what was asked in its current state."""


class RecoveryError(TraderError):
    """A restart could not reconcile the stored state; the trader starts HALTED."""
