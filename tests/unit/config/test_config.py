"""AlgorithmConfig: defaults from the specs, validation errors, hashing, hard limits."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tradekit.config import SIGNAL_FAMILIES, AlgorithmConfig, HardLimits
from tradekit.core.enums import TimeframeClass
from tradekit.errors import ConfigError


class TestDefaults:
    def test_signal_and_decision_defaults_match_the_specs(self) -> None:
        c = AlgorithmConfig()
        assert (c.signals.swing_left, c.signals.swing_right, c.signals.rr) == (5, 5, 2.0)
        assert c.signals.displacement_body_atr_mult == 1.5
        assert c.confluence.window == 5 and c.confluence.min_score == 5.0
        assert c.confluence.weights["CHOCH"] == 2.5
        assert c.decision.min_confidence == 5.5 and c.decision.max_vix == 30.0
        assert c.decision.vix_missing_policy == "block"
        assert c.decision.family_weights == {
            "structure": 2.5,
            "liquidity": 2.0,
            "order_flow": 3.0,
            "volume": 2.0,
        }
        intraday = c.options.classes[TimeframeClass.INTRADAY]
        assert (intraday.dte_min, intraday.dte_max, intraday.delta_min) == (0, 7, 0.40)
        assert c.options.classes[TimeframeClass.SWING].strategies["high_iv"] == "credit_spread"

    def test_twelve_kinds_in_four_families(self) -> None:
        assert len(SIGNAL_FAMILIES) == 12
        assert set(SIGNAL_FAMILIES.values()) == {"structure", "liquidity", "order_flow", "volume"}


class TestValidation:
    @pytest.mark.parametrize(
        ("data", "fragment"),
        [
            ({"unknown_key": 1}, "unknown_key: Extra inputs are not permitted"),
            ({"decision": {"max_vix": -1}}, "decision.max_vix"),
            ({"decision": {"session_start": "9:30"}}, "HH:MM"),
            ({"decision": {"session_start": "16:00", "session_end": "09:30"}}, "after"),
            ({"signals": {"kinds": ["FVG", "NOPE"]}}, "NOPE"),
            ({"confluence": {"weights": {"XYZ": 1.0}}}, "XYZ"),
            ({"execution": {"scale_out": [0.5, 0.5, 0.5]}}, "sum to 1"),
            ({"options": {"classes": {}}}, "classes needs all"),
        ],
    )
    def test_bad_values_raise_config_error_naming_the_field(
        self, data: dict[str, object], fragment: str
    ) -> None:
        with pytest.raises(
            ConfigError, match=fragment.replace(".", r"\.") if "." in fragment else fragment
        ):
            AlgorithmConfig.parse(data)

    def test_config_error_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match="max_vix"):
            AlgorithmConfig(decision={"max_vix": "high"})

    def test_frozen(self) -> None:
        c = AlgorithmConfig()
        with pytest.raises(ValidationError, match="frozen"):
            c.decision.max_vix = 10.0  # type: ignore[misc]

    def test_parse_rejects_non_mapping(self) -> None:
        with pytest.raises(ConfigError):
            AlgorithmConfig.parse([1, 2])  # type: ignore[arg-type]

    def test_from_json_rejects_garbage(self) -> None:
        with pytest.raises(ConfigError, match="JSON"):
            AlgorithmConfig.from_json("{not json")


class TestHardLimits:
    @pytest.mark.parametrize(
        ("key", "value"),
        [
            ("max_contracts_per_order", HardLimits.MAX_CONTRACTS_PER_ORDER + 1),
            ("max_order_qty", HardLimits.MAX_SHARES_PER_ORDER + 1),
            ("max_order_notional", HardLimits.MAX_ORDER_NOTIONAL * 2),
            ("max_orders_per_minute", HardLimits.MAX_ORDERS_PER_MINUTE + 1),
        ],
    )
    def test_config_cannot_raise_a_hard_limit(self, key: str, value: float) -> None:
        with pytest.raises(ConfigError, match="hard limit"):
            AlgorithmConfig(risk={key: value})

    def test_config_may_tighten_a_hard_limit(self) -> None:
        c = AlgorithmConfig(risk={"max_contracts_per_order": 10})
        assert c.risk.max_contracts_per_order == 10

    def test_risk_per_trade_capped(self) -> None:
        with pytest.raises(ConfigError, match="hard limit"):
            AlgorithmConfig(decision={"risk_per_trade": 0.2})


class TestHashingAndRoundTrip:
    def test_json_round_trip(self) -> None:
        c = AlgorithmConfig(version="2.0", decision={"max_vix": 25.0})
        back = AlgorithmConfig.from_json(c.to_json())
        assert back == c and back.content_hash == c.content_hash

    def test_hash_ignores_name_and_version_but_not_parameters(self) -> None:
        a = AlgorithmConfig()
        assert AlgorithmConfig(name="x", version="9").content_hash == a.content_hash
        assert a.with_overrides({"signals.swing_left": 3}).content_hash != a.content_hash

    def test_overrides_reject_unknown_paths(self) -> None:
        with pytest.raises(ConfigError, match="unknown config key"):
            AlgorithmConfig().with_overrides({"signals.nope": 1})
        with pytest.raises(ConfigError, match="unknown config section"):
            AlgorithmConfig().with_overrides({"nope.x": 1})
