"""Enumerations shared by every layer (string-valued, so they serialise as themselves)."""

from __future__ import annotations

from enum import IntEnum, StrEnum

__all__ = [
    "AlertLevel",
    "DecisionAction",
    "Direction",
    "OrderStatus",
    "OrderType",
    "Right",
    "RunMode",
    "Side",
    "SignalKind",
    "TimeInForce",
    "TimeframeClass",
    "TradeMode",
    "TradingState",
]


class Direction(IntEnum):
    """Trade direction: +1 long/bullish, -1 short/bearish."""

    LONG = 1
    SHORT = -1


class Side(IntEnum):
    """Order side: +1 buy, -1 sell (multiply a positive quantity by it to get a signed one)."""

    BUY = 1
    SELL = -1


class SignalKind(StrEnum):
    """Every event the signal generator can emit (SIGNALS.md)."""

    STRAT_212 = "STRAT_212"
    STRAT_21_SETUP = "STRAT_21_SETUP"
    SWING_HIGH = "SWING_HIGH"
    SWING_LOW = "SWING_LOW"
    BOS = "BOS"
    CHOCH = "CHOCH"
    MSS = "MSS"
    SWEEP_LOW = "SWEEP_LOW"
    SWEEP_HIGH = "SWEEP_HIGH"
    SMT = "SMT"
    FVG = "FVG"
    FVG_MITIGATED = "FVG_MITIGATED"
    FVG_FILLED = "FVG_FILLED"
    DISPLACEMENT = "DISPLACEMENT"
    BREAKER = "BREAKER"
    VOLUME_SURGE = "VOLUME_SURGE"
    ORB = "ORB"


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    NEW = "NEW"
    ACCEPTED = "ACCEPTED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELLED = "CANCELLED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        return self in (
            OrderStatus.FILLED,
            OrderStatus.CANCELLED,
            OrderStatus.REJECTED,
            OrderStatus.EXPIRED,
        )


class TradingState(StrEnum):
    """Risk engine state: ACTIVE trades; REDUCING only lets risk-reducing orders through; HALTED
    refuses every new order (kill switch)."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class DecisionAction(StrEnum):
    ENTER = "ENTER"
    SKIP = "SKIP"
    SHADOW = "SHADOW"


class TradeMode(StrEnum):
    TREND = "TREND"
    REVERSAL = "REVERSAL"
    BREAKOUT = "BREAKOUT"


class TimeframeClass(StrEnum):
    INTRADAY = "INTRADAY"
    SWING = "SWING"
    MONTHLY = "MONTHLY"
    LEAPS = "LEAPS"


class Right(StrEnum):
    CALL = "C"
    PUT = "P"


class RunMode(StrEnum):
    """PAPER sends orders to the paper broker; SHADOW decides and records but never sends."""

    PAPER = "PAPER"
    SHADOW = "SHADOW"


class AlertLevel(StrEnum):
    INFO = "INFO"
    WARNING = "WARNING"
    CRITICAL = "CRITICAL"
