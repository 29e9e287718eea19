"""``AlgorithmConfig``: every tunable number of tradekit, typed, validated and versioned.

One frozen pydantic model tree holds the defaults of SIGNALS.md and DECISIONS.md plus the
execution and risk settings. Unknown keys are rejected; every validation failure surfaces as a
:class:`~tradekit.errors.ConfigError` whose message names the field. ``content_hash`` identifies
the *parameters* (name and version excluded), so two configs that trade identically share it.

Hard safety limits are module constants in :class:`HardLimits`. A configuration may tighten
them but never raise them: a config above a hard limit is refused at construction, and the risk
layer checks the constants again at order time.

Examples
--------
>>> cfg = AlgorithmConfig()
>>> cfg.decision.max_vix
30.0
>>> cfg2 = cfg.with_overrides({"decision.max_vix": 25.0})
>>> cfg2.decision.max_vix, cfg2.content_hash != cfg.content_hash
(25.0, True)
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from tradekit.core.enums import RunMode, TimeframeClass
from tradekit.errors import ConfigError

__all__ = [
    "SIGNAL_FAMILIES",
    "AlgorithmConfig",
    "CommissionSpec",
    "ConfluenceConfig",
    "DecisionConfig",
    "ExecutionConfig",
    "HardLimits",
    "OptionClassParams",
    "OptionsConfig",
    "RiskConfig",
    "SignalConfig",
    "SlippageSpec",
]


class HardLimits:
    """Safety limits that live in code. No configuration can raise them."""

    MAX_CONTRACTS_PER_ORDER: Final[int] = 50
    MAX_SHARES_PER_ORDER: Final[int] = 10_000
    MAX_ORDER_NOTIONAL: Final[float] = 1_000_000.0
    MAX_POSITION_NOTIONAL: Final[float] = 2_000_000.0
    MAX_ORDERS_PER_MINUTE: Final[int] = 60
    MAX_RISK_PER_TRADE: Final[float] = 0.05
    MAX_DAILY_LOSS: Final[float] = 0.10
    MAX_PRICE_COLLAR: Final[float] = 0.25


#: Signal kind → family (DECISIONS.md, "Signal vocabulary and families").
SIGNAL_FAMILIES: Final[dict[str, str]] = {
    "STRAT_212": "structure",
    "BOS": "structure",
    "MSS": "structure",
    "CHOCH": "structure",
    "SWEEP_LOW": "liquidity",
    "SWEEP_HIGH": "liquidity",
    "SMT": "liquidity",
    "FVG": "order_flow",
    "DISPLACEMENT": "order_flow",
    "BREAKER": "order_flow",
    "VOLUME_SURGE": "volume",
    "ORB": "volume",
}


def _check_hhmm(text: str, name: str) -> None:
    parts = text.split(":")
    ok = len(parts) == 2 and all(p.isdigit() and len(p) == 2 for p in parts)
    if not ok or int(parts[0]) > 23 or int(parts[1]) > 59:
        raise ValueError(f"{name} must be HH:MM, got {text!r}")


def _validate_kind_families(kinds: dict[str, str]) -> None:
    families = set(_default_family_weights())
    for kind, family in kinds.items():
        if not kind or kind != kind.strip():
            raise ValueError(f"kind_families: bad kind name {kind!r}")
        if kind in SIGNAL_FAMILIES or kind == "SWEEP":
            raise ValueError(f"kind_families: {kind!r} is a built-in kind")
        if family not in families:
            raise ValueError(f"kind_families: family of {kind!r} must be one of {sorted(families)}")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)


PositiveFloat = Field(gt=0)


class SignalConfig(_Model):
    """Detector parameters (SIGNALS.md §3). Units: bars unless named otherwise."""

    atr_period: int = Field(14, ge=1)
    rr: float = Field(2.0, gt=0, description="R multiple of R-based targets")
    swing_left: int = Field(5, ge=1)
    swing_right: int = Field(5, ge=1)
    break_on: Literal["close", "wick"] = "close"
    fvg_min_gap: float = Field(0.0, ge=0)
    fvg_min_gap_atr: float = Field(0.0, ge=0)
    fvg_require_middle_color: bool = False
    fvg_max_age_bars: int | None = Field(None, ge=1)
    fvg_max_active: int = Field(
        256, ge=1, description="active-gap pool size; when full the oldest gap is evicted"
    )
    sweep_max_age_bars: int | None = Field(None, ge=1)
    sweep_equal_levels_atr: float = Field(0.1, ge=0)
    sweep_max_levels: int = Field(
        64, ge=1, description="active swing levels kept per side; when full the oldest is evicted"
    )
    day_offset_hours: float = Field(0.0, ge=-24, le=24)
    displacement_body_atr_mult: float = Field(1.5, gt=0)
    displacement_min_body_ratio: float = Field(0.6, gt=0, le=1)
    breaker_max_age_bars: int = Field(50, ge=1)
    breaker_max_zones: int = Field(16, ge=1, description="active zones kept; oldest evicted")
    smt_max_lag_bars: int = Field(
        20, ge=0, description="max distance between the two instruments' swing bars of an SMT"
    )
    volume_window: int = Field(20, ge=1)
    volume_mult: float = Field(2.0, gt=0)
    volume_min_body_ratio: float = Field(0.5, ge=0, le=1)
    orb_minutes: int = Field(15, ge=1, le=390)
    smt_pairs: tuple[tuple[str, str], ...] = (("SPY", "QQQ"),)
    htf: tuple[str, ...] = Field(
        (), description="higher timeframes (pandas offsets); empty = defaults by base timeframe"
    )
    htf_bias_method: Literal["structure", "ema"] = "structure"
    htf_ema_period: int = Field(20, ge=1)
    drop_partial_first: bool = True
    kinds: tuple[str, ...] | None = Field(None, description="enabled kinds; None = all twelve")

    @model_validator(mode="after")
    def _validate_kinds(self) -> SignalConfig:
        if self.kinds is not None:
            unknown = sorted(set(self.kinds) - set(SIGNAL_FAMILIES))
            if unknown:
                raise ValueError(
                    f"unknown signal kinds {unknown}; known: {sorted(SIGNAL_FAMILIES)}"
                )
        return self


def _default_confluence_weights() -> dict[str, float]:
    return {
        "CHOCH": 2.5,
        "BOS": 2.0,
        "SWEEP": 2.0,
        "DISPLACEMENT": 1.5,
        "STRAT_212": 1.5,
        "FVG": 1.0,
        "MSS": 1.5,
        "SMT": 1.5,
        "BREAKER": 1.5,
        "VOLUME_SURGE": 1.5,
        "ORB": 1.5,
    }


class ConfluenceConfig(_Model):
    """Confluence score (SIGNALS.md §5) and setup construction (§5.1)."""

    window: int = Field(5, ge=1, description="bars; events with index in [t-W+1, t]")
    min_score: float = Field(5.0, ge=0)
    min_types: int = Field(2, ge=1)
    weights: dict[str, float] = Field(default_factory=_default_confluence_weights)
    htf_weight: float = Field(2.0, ge=0, description="HTF bias term of the higher HTF")
    htf_weight_lower: float = Field(1.0, ge=0, description="HTF bias term of the lower HTF")
    tp2_extension: float = Field(0.5, ge=0)
    tp3_extension: float = Field(1.0, ge=0)
    max_confidence: float = Field(10.0, gt=0)

    @model_validator(mode="after")
    def _validate_weights(self) -> ConfluenceConfig:
        allowed = (set(SIGNAL_FAMILIES) - {"SWEEP_LOW", "SWEEP_HIGH"}) | {"SWEEP"}
        unknown = sorted(set(self.weights) - allowed)
        if unknown:
            raise ValueError(f"unknown confluence weight keys {unknown}; allowed {sorted(allowed)}")
        if any(w < 0 for w in self.weights.values()):
            raise ValueError("confluence weights must be >= 0")
        if self.tp3_extension < self.tp2_extension:
            raise ValueError("tp3_extension must be >= tp2_extension")
        return self


def _default_family_weights() -> dict[str, float]:
    return {"structure": 2.5, "liquidity": 2.0, "order_flow": 3.0, "volume": 2.0}


class DecisionConfig(_Model):
    """The seven gates (DECISIONS.md). Times are New York wall times ``HH:MM``."""

    mode: RunMode = RunMode.PAPER
    min_confidence: float = Field(5.5, ge=0, le=10)
    min_confluence: int = Field(2, ge=1)
    timezone: str = "America/New_York"
    calendar: str = "XNYS"
    session_start: str = "09:30"
    session_end: str = "16:00"
    max_vix: float = Field(30.0, gt=0)
    vix_missing_policy: Literal["block", "allow"] = "block"
    family_weights: dict[str, float] = Field(default_factory=_default_family_weights)
    kind_families: dict[str, str] = Field(
        default_factory=dict,
        description="signal kinds of user strategies -> family (extends SIGNAL_FAMILIES)",
    )
    min_factor_score: float = Field(6.0, ge=0)
    min_roles: int = Field(2, ge=1, le=3)
    min_rr_reversal: float = Field(3.0, gt=0)
    min_rr_default: float = Field(2.0, gt=0)
    risk_per_trade: float = Field(0.01, gt=0, description="fraction of current equity")
    reversal_risk_factor: float = Field(0.5, gt=0, le=1)
    max_trades_per_day: int = Field(5, ge=0)
    daily_loss_limit: float = Field(0.025, gt=0, description="fraction of start-of-day equity")
    cooldown_symbol_minutes: float = Field(15.0, ge=0)
    cooldown_kind_minutes: float = Field(10.0, ge=0)
    cooldown_global_minutes: float = Field(30.0, ge=0)
    cooldown_global_entries: int = Field(3, ge=1)
    cooldown_global_window_minutes: float = Field(60.0, gt=0)

    @model_validator(mode="after")
    def _validate(self) -> DecisionConfig:
        _check_hhmm(self.session_start, "session_start")
        _check_hhmm(self.session_end, "session_end")
        if self.session_end <= self.session_start:
            raise ValueError("session_end must be after session_start")
        if set(self.family_weights) != set(_default_family_weights()):
            raise ValueError(f"family_weights needs exactly {sorted(_default_family_weights())}")
        _validate_kind_families(self.kind_families)
        if self.risk_per_trade > HardLimits.MAX_RISK_PER_TRADE:
            raise ValueError(f"risk_per_trade above hard limit {HardLimits.MAX_RISK_PER_TRADE}")
        if self.daily_loss_limit > HardLimits.MAX_DAILY_LOSS:
            raise ValueError(f"daily_loss_limit above hard limit {HardLimits.MAX_DAILY_LOSS}")
        return self


class RiskConfig(_Model):
    """Configured pre-trade limits (tighter than or equal to :class:`HardLimits`)."""

    max_open_positions: int = Field(5, ge=0)
    max_symbol_notional_pct: float = Field(0.20, gt=0, le=1)
    max_total_exposure_pct: float = Field(1.0, gt=0, le=4)
    max_portfolio_delta_pct: float = Field(0.05, gt=0, description="|Δ|·$1 move / equity")
    max_portfolio_theta_pct: float = Field(0.005, gt=0, description="|θ| per day / equity")
    max_portfolio_vega_pct: float = Field(0.01, gt=0, description="|vega| per vol point / equity")
    daily_loss_action: Literal["REDUCING", "HALTED"] = Field(
        "REDUCING",
        description="REDUCING: only risk-reducing orders until the next trading day; "
        "HALTED: latched until an explicit reset",
    )
    price_collar_pct: float = Field(0.10, gt=0)
    max_order_qty: int = Field(HardLimits.MAX_SHARES_PER_ORDER, ge=1)
    max_contracts_per_order: int = Field(HardLimits.MAX_CONTRACTS_PER_ORDER, ge=1)
    max_order_notional: float = Field(HardLimits.MAX_ORDER_NOTIONAL, gt=0)
    max_orders_per_minute: int = Field(HardLimits.MAX_ORDERS_PER_MINUTE, ge=1)

    @model_validator(mode="after")
    def _validate_hard_limits(self) -> RiskConfig:
        pairs = [
            ("max_order_qty", self.max_order_qty, HardLimits.MAX_SHARES_PER_ORDER),
            (
                "max_contracts_per_order",
                self.max_contracts_per_order,
                HardLimits.MAX_CONTRACTS_PER_ORDER,
            ),
            ("max_order_notional", self.max_order_notional, HardLimits.MAX_ORDER_NOTIONAL),
            ("max_orders_per_minute", self.max_orders_per_minute, HardLimits.MAX_ORDERS_PER_MINUTE),
            ("price_collar_pct", self.price_collar_pct, HardLimits.MAX_PRICE_COLLAR),
        ]
        for name, value, hard in pairs:
            if value > hard:
                raise ValueError(f"{name}={value} exceeds the hard limit {hard} (set in code)")
        return self


class SlippageSpec(_Model):
    """Which slippage model and its parameters. ``bps`` = basis points of price;
    ``impact`` = bps per 1% of bar volume taken (volume model)."""

    kind: Literal["none", "fixed_bps", "volume", "half_spread"] = "fixed_bps"
    bps: float = Field(1.0, ge=0)
    impact: float = Field(10.0, ge=0)
    max_bps: float = Field(100.0, ge=0)


class CommissionSpec(_Model):
    """Which commission model; currency amounts per unit named by the field."""

    kind: Literal["none", "per_share", "per_contract", "percent", "fixed_plus_percent"] = (
        "per_share"
    )
    per_share: float = Field(0.005, ge=0)
    per_contract: float = Field(0.65, ge=0)
    percent: float = Field(0.0, ge=0, le=0.05, description="fraction of traded value")
    fixed: float = Field(0.0, ge=0)
    minimum: float = Field(0.0, ge=0)


class ExecutionConfig(_Model):
    """Paper execution: costs, fills, partials, scale-outs."""

    initial_cash: float = Field(100_000.0, gt=0)
    slippage: SlippageSpec = SlippageSpec()
    commission: CommissionSpec = CommissionSpec()
    option_commission: CommissionSpec = CommissionSpec(kind="per_contract")
    participation: float = Field(0.10, gt=0, le=1, description="max fraction of bar volume")
    random_partial_prob: float = Field(0.0, ge=0, le=1)
    random_reject_prob: float = Field(0.0, ge=0, le=1)
    seed: int | None = None
    scale_out: tuple[float, float, float] = (0.4, 0.4, 0.2)
    breakeven_after_tp1: bool = True
    flatten_intraday_minutes_before_close: float = Field(5.0, ge=0)

    @model_validator(mode="after")
    def _validate_scale_out(self) -> ExecutionConfig:
        if any(x < 0 for x in self.scale_out) or abs(sum(self.scale_out) - 1.0) > 1e-9:
            raise ValueError("scale_out fractions must be >= 0 and sum to 1")
        return self


class OptionClassParams(_Model):
    """Per-timeframe-class parameters of the options engine (DECISIONS.md table)."""

    dte_min: int = Field(ge=0)
    dte_max: int = Field(ge=0)
    delta_min: float = Field(gt=0, le=1)
    delta_max: float = Field(gt=0, le=1)
    ivr_min: float = Field(ge=0, le=100)
    ivr_max: float = Field(ge=0, le=100)
    max_theta_ratio: float = Field(gt=0, description="|θ per day| / premium")
    min_rr: float = Field(gt=0)
    risk_multiplier: float = Field(gt=0)
    gate3_threshold: float = Field(ge=0)
    session_start: str | None = "09:30"
    session_end: str | None = "16:00"
    min_liquidity: float = Field(500.0, ge=0, description="0.4·volume + 0.6·open interest")
    max_spread_pct: float = Field(0.15, gt=0, description="(ask - bid) / mid")
    stop_loss_pct: float = Field(0.5, gt=0, le=1, description="exit at this premium loss")
    take_half_pct: float = Field(0.5, gt=0)
    take_all_pct: float = Field(1.0, gt=0)
    time_stop_minutes_before_close: float | None = None
    close_at_dte: int | None = None
    family_weights: dict[str, float] | None = None
    strategies: dict[str, str] = Field(
        default_factory=lambda: {
            "high_iv": "long_option",
            "low_iv_high_conviction": "long_option",
            "default": "long_option",
        }
    )

    @model_validator(mode="after")
    def _validate(self) -> OptionClassParams:
        if self.dte_max < self.dte_min:
            raise ValueError("dte_max must be >= dte_min")
        if self.delta_max <= self.delta_min:
            raise ValueError("delta_max must be > delta_min")
        if self.ivr_max < self.ivr_min:
            raise ValueError("ivr_max must be >= ivr_min")
        if (self.session_start is None) != (self.session_end is None):
            raise ValueError("session_start and session_end are set together")
        if self.session_start is not None and self.session_end is not None:
            _check_hhmm(self.session_start, "session_start")
            _check_hhmm(self.session_end, "session_end")
        known = {"long_option", "debit_spread", "credit_spread"}
        bad = {k: v for k, v in self.strategies.items() if v not in known}
        if bad or set(self.strategies) != {"high_iv", "low_iv_high_conviction", "default"}:
            raise ValueError(
                f"strategies needs keys high_iv/low_iv_high_conviction/default "
                f"with values in {sorted(known)}"
            )
        return self


def _default_option_classes() -> dict[TimeframeClass, OptionClassParams]:
    spread_table = {
        "high_iv": "credit_spread",
        "low_iv_high_conviction": "long_option",
        "default": "debit_spread",
    }
    return {
        TimeframeClass.INTRADAY: OptionClassParams(
            dte_min=0,
            dte_max=7,
            delta_min=0.40,
            delta_max=0.70,
            ivr_min=20,
            ivr_max=100,
            max_theta_ratio=0.05,
            min_rr=1.5,
            risk_multiplier=0.5,
            gate3_threshold=6.0,
            session_start="09:45",
            session_end="15:45",
            min_liquidity=1000,
            max_spread_pct=0.10,
            stop_loss_pct=0.30,
            time_stop_minutes_before_close=15.0,
        ),
        TimeframeClass.SWING: OptionClassParams(
            dte_min=14,
            dte_max=45,
            delta_min=0.30,
            delta_max=0.60,
            ivr_min=15,
            ivr_max=70,
            max_theta_ratio=0.02,
            min_rr=2.0,
            risk_multiplier=1.0,
            gate3_threshold=6.0,
            stop_loss_pct=0.40,
            close_at_dte=7,
            strategies=spread_table,
        ),
        TimeframeClass.MONTHLY: OptionClassParams(
            dte_min=30,
            dte_max=60,
            delta_min=0.25,
            delta_max=0.55,
            ivr_min=10,
            ivr_max=60,
            max_theta_ratio=0.015,
            min_rr=2.5,
            risk_multiplier=1.0,
            gate3_threshold=7.0,
            stop_loss_pct=0.50,
            close_at_dte=14,
            strategies=spread_table,
        ),
        TimeframeClass.LEAPS: OptionClassParams(
            dte_min=180,
            dte_max=730,
            delta_min=0.60,
            delta_max=0.85,
            ivr_min=0,
            ivr_max=40,
            max_theta_ratio=0.005,
            min_rr=3.0,
            risk_multiplier=1.5,
            gate3_threshold=8.0,
            session_start=None,
            session_end=None,
            stop_loss_pct=0.50,
            close_at_dte=90,
        ),
    }


class OptionsConfig(_Model):
    """The options-aware engine (DECISIONS.md "Options-aware engine")."""

    enabled: bool = True
    underlyings: tuple[str, ...] = ("SPX", "SPY", "QQQ")
    classes: dict[TimeframeClass, OptionClassParams] = Field(
        default_factory=_default_option_classes
    )
    ivr_high: float = Field(50.0, ge=0, le=100)
    conviction_high: float = Field(7.0, ge=0, le=10)
    conviction_medium: float = Field(6.0, ge=0, le=10)
    spread_width_min_pct: float = Field(0.025, gt=0)
    spread_width_max_pct: float = Field(0.10, gt=0)
    max_event_warnings: int = Field(3, ge=1, description="this many warnings block (gate 8)")
    event_size_factor: float = Field(0.5, gt=0, le=1, description="size factor per warning")
    risk_free_rate: float = Field(0.04, ge=-0.05, le=0.25)
    dividend_yield: float = Field(0.013, ge=0, le=0.2)

    @model_validator(mode="after")
    def _validate(self) -> OptionsConfig:
        if set(self.classes) != set(TimeframeClass):
            raise ValueError(f"classes needs all of {[c.value for c in TimeframeClass]}")
        if self.spread_width_max_pct < self.spread_width_min_pct:
            raise ValueError("spread_width_max_pct must be >= spread_width_min_pct")
        return self


class AlgorithmConfig(_Model):
    """The whole configuration of one algorithm version.

    Construct with keywords (nested sections accept dicts); unknown keys or bad values raise
    :class:`~tradekit.errors.ConfigError`.
    """

    name: str = "default"
    version: str = "1.0.0"
    symbols: tuple[str, ...] = ("SPY",)
    timeframe: str = "1min"
    signals: SignalConfig = SignalConfig()
    confluence: ConfluenceConfig = ConfluenceConfig()
    decision: DecisionConfig = DecisionConfig()
    risk: RiskConfig = RiskConfig()
    execution: ExecutionConfig = ExecutionConfig()
    options: OptionsConfig = OptionsConfig()

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(_format_errors(exc)) from None

    @classmethod
    def parse(cls, data: dict[str, Any]) -> AlgorithmConfig:
        """Build from a plain dict (TOML/JSON/papermill parameters); errors are ConfigError."""
        if not isinstance(data, dict):
            raise ConfigError(f"config must be a mapping, got {type(data).__name__}")
        return cls(**data)

    # -- serialisation -------------------------------------------------------------------
    def to_json(self, *, indent: int | None = None) -> str:
        """Canonical JSON (keys sorted) that :meth:`from_json` reads back."""
        return json.dumps(self.model_dump(mode="json"), sort_keys=True, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> AlgorithmConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"config is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError("config JSON must be an object")
        return cls(**data)

    @property
    def content_hash(self) -> str:
        """SHA-256 (first 16 hex chars) of the parameters, excluding ``name`` and ``version``."""
        data = self.model_dump(mode="json", exclude={"name", "version"})
        if not data["decision"]["kind_families"]:  # added later: empty keeps the older hashes
            del data["decision"]["kind_families"]
        blob = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def with_overrides(self, overrides: dict[str, Any]) -> AlgorithmConfig:
        """A new config with dotted-path overrides, e.g. ``{"signals.swing_left": 3}``."""
        data = self.model_dump(mode="json")
        for path, value in overrides.items():
            node = data
            *parents, leaf = path.split(".")
            for key in parents:
                if not isinstance(node.get(key), dict):
                    raise ConfigError(f"unknown config section {path!r}")
                node = node[key]
            if leaf not in node:
                raise ConfigError(f"unknown config key {path!r}")
            node[leaf] = value
        return type(self)(**data)


def _format_errors(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<config>"
        lines.append(f"{loc}: {err['msg']}")
    return "invalid AlgorithmConfig: " + "; ".join(lines)
