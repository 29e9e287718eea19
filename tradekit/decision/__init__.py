"""tradekit.decision: the seven-gate directional engine and the options-aware engine.

See ``docs/DECISIONS.md``. A :class:`~tradekit.core.events.Setup` goes in, a
:class:`~tradekit.core.events.Decision` with every gate's result comes out.
"""

from tradekit.decision.base import (
    MarketView,
    OptionsMarketView,
    SessionCalendar,
    VixFunction,
    as_market_view,
)
from tradekit.decision.cooldowns import Cooldown, EntryLog
from tradekit.decision.engine import DecisionEngine, run_gates
from tradekit.decision.event_calendar import (
    EventAssessment,
    EventCalendar,
    MarketEvent,
    assess_events,
    opex_dates,
    third_friday,
)
from tradekit.decision.exit_rules import option_exit_plan, stock_exit_plan
from tradekit.decision.gates import (
    DailyLimitsGate,
    FactorizationGate,
    Gate,
    GateContext,
    RiskSizingGate,
    RoleAssignmentGate,
    ScoreModeGate,
    SessionVolatilityGate,
    SignalIntegrityGate,
)
from tradekit.decision.option_gates import (
    EventCalendarGate,
    OptionQualityGate,
    choose_strategy,
    classify_timeframe,
    greek_cap,
)
from tradekit.decision.options_engine import (
    OptionsDecisionEngine,
    OptionsEvaluation,
    StructureSelector,
    default_selector,
)
from tradekit.decision.scoring import Scorer, SetupScore, classify_mode, score_setup
from tradekit.decision.sessions import SessionWindow
from tradekit.decision.sizing import Sizing, size_units

__all__ = [
    "Cooldown",
    "DailyLimitsGate",
    "DecisionEngine",
    "EntryLog",
    "EventAssessment",
    "EventCalendar",
    "EventCalendarGate",
    "FactorizationGate",
    "Gate",
    "GateContext",
    "MarketEvent",
    "MarketView",
    "OptionQualityGate",
    "OptionsDecisionEngine",
    "OptionsEvaluation",
    "OptionsMarketView",
    "RiskSizingGate",
    "RoleAssignmentGate",
    "ScoreModeGate",
    "Scorer",
    "SessionCalendar",
    "SessionVolatilityGate",
    "SessionWindow",
    "SetupScore",
    "SignalIntegrityGate",
    "Sizing",
    "StructureSelector",
    "VixFunction",
    "as_market_view",
    "assess_events",
    "choose_strategy",
    "classify_mode",
    "classify_timeframe",
    "default_selector",
    "greek_cap",
    "opex_dates",
    "option_exit_plan",
    "run_gates",
    "score_setup",
    "size_units",
    "stock_exit_plan",
    "third_friday",
]
