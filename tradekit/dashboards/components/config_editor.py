"""``ConfigEditor``: edit weights, thresholds and limits, validated by ``AlgorithmConfig``.

Every field is a text input (so a typo is a validation error, not a silently clamped number).
Each change is validated on its own against the current config (``with_overrides``), and the
error is shown under that field; *Save* validates all changes together and stores them as a new
version (next patch number of the config's name in ``algorithm_configs``); *Activate* asks for
confirmation and calls ``trader.activate_config(version)``.
"""

from __future__ import annotations

import math
from typing import Any

import panel as pn
import param

from tradekit.config import AlgorithmConfig
from tradekit.dashboards.components.base import Messages, TraderLike
from tradekit.dashboards.components.controls import Confirm
from tradekit.errors import ConfigError

__all__ = ["EDITABLE_FIELDS", "ConfigEditor", "next_version"]

#: (dotted path, label) of the fields the editor offers, by section.
EDITABLE_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "Thresholds": (
        ("decision.min_confidence", "min confidence (0-10)"),
        ("decision.min_confluence", "min confluence (signals)"),
        ("confluence.min_score", "confluence min score"),
        ("confluence.min_types", "confluence min types"),
        ("decision.max_vix", "max VIX"),
        ("decision.min_rr_default", "min R:R"),
    ),
    "Limits": (
        ("decision.risk_per_trade", "risk per trade (fraction of equity)"),
        ("decision.max_trades_per_day", "max trades per day"),
        ("decision.daily_loss_limit", "daily loss limit (fraction)"),
        ("risk.max_open_positions", "max open positions"),
        ("risk.max_portfolio_delta_pct", "max portfolio delta (fraction)"),
    ),
}


def next_version(version: str, taken: set[str]) -> str:
    """The next free patch version after ``version`` (``1.0.0`` → ``1.0.1``).

    Examples
    --------
    >>> next_version("1.0.0", {"1.0.0", "1.0.1"})
    '1.0.2'
    >>> next_version("v7", set())
    'v7.1'
    """
    parts = version.split(".")
    if parts[-1].isdigit():
        head, n = parts[:-1], int(parts[-1])
    else:
        head, n = parts, 0
    while True:
        n += 1
        cand = ".".join([*head, str(n)])
        if cand not in taken:
            return cand


def _get(cfg: AlgorithmConfig, path: str) -> Any:
    node: Any = cfg
    for key in path.split("."):
        node = node[key] if isinstance(node, dict) else getattr(node, key)
    return node


def _parse_number(text: str, like: Any) -> float | int:
    value = float(text.strip().replace(",", ""))
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    if isinstance(like, int) and not isinstance(like, bool):
        if value != int(value):
            raise ValueError("must be a whole number")
        return int(value)
    return value


class ConfigEditor(param.Parameterized):
    """Edit, validate, save and activate a new version of the trader's config."""

    saved_version = param.String(default="")

    def __init__(self, trader: TraderLike, messages: Messages, **params: Any) -> None:
        super().__init__(**params)
        self.trader, self.messages = trader, messages
        self.base: AlgorithmConfig = trader.engine.config
        self.inputs: dict[str, pn.widgets.TextInput] = {}
        self.errors: dict[str, pn.pane.Markdown] = {}
        weights = tuple((f"confluence.weights.{k}", f"weight {k}")
                        for k in sorted(self.base.confluence.weights))  # fmt: skip
        self.fields = {**EDITABLE_FIELDS, "Confluence weights": weights}
        for section in self.fields.values():
            for path, label in section:
                w = pn.widgets.TextInput(name=label, value=str(_get(self.base, path)), width=220,
                                         css_classes=[f"cfg-{path.replace('.', '-')}"])  # fmt: skip
                err = pn.pane.Markdown("", styles={"color": "#c62828"}, margin=(0, 10),
                                       css_classes=["field-error"])  # fmt: skip
                w.param.watch(lambda e, p=path: self._validate_field(p), "value")
                self.inputs[path], self.errors[path] = w, err
        self.version_info = pn.pane.Markdown(self._version_text())
        self.save_btn = pn.widgets.Button(name="Save as new version", button_type="primary")
        self.save_btn.on_click(messages.guard(lambda _e: self.save(), "save config"))
        self.activate = Confirm("Activate saved version", "Switch the running trader to it?",
                                self._activate, messages, button_type="success")  # fmt: skip
        self.activate.button.disabled = True

    def _version_text(self) -> str:
        return f"editing **{self.base.name} v{self.base.version}** (`{self.base.content_hash}`)"

    # -- validation -------------------------------------------------------------------------------
    def _value(self, path: str) -> float | int:
        return _parse_number(self.inputs[path].value or "", _get(self.base, path))

    def _validate_field(self, path: str) -> bool:
        try:
            value = self._value(path)
            self.base.with_overrides(self._override(path, value))
        except (ValueError, ConfigError) as exc:
            msg = str(exc).removeprefix("invalid AlgorithmConfig: ")
            if "could not convert" in msg:
                msg = f"not a number: {self.inputs[path].value!r}"
            self.errors[path].object = f"⚠ {msg}"
            return False
        self.errors[path].object = ""
        return True

    def _override(self, path: str, value: Any) -> dict[str, Any]:
        if path.startswith("confluence.weights."):
            weights = dict(self.base.confluence.weights)
            weights[path.rsplit(".", 1)[1]] = value
            return {"confluence.weights": weights}
        return {path: value}

    def candidate(self) -> AlgorithmConfig:
        """The edited config (raises ConfigError / ValueError on the first bad field)."""
        bad = [p for p in self.inputs if not self._validate_field(p)]
        if bad:
            raise ConfigError(f"{len(bad)} field(s) invalid: {', '.join(bad)}")
        overrides: dict[str, Any] = {}
        for path in self.inputs:
            for k, v in self._override(path, self._value(path)).items():
                if k == "confluence.weights" and k in overrides:
                    overrides[k].update({kk: vv for kk, vv in v.items()
                                         if path.endswith("." + kk)})  # fmt: skip
                else:
                    overrides[k] = v
        return self.base.with_overrides(overrides)

    # -- actions ---------------------------------------------------------------------------------
    def save(self) -> str | None:
        """Validate and save as a new version; returns the version (None if invalid)."""
        try:
            cfg = self.candidate()
        except (ConfigError, ValueError) as exc:
            self.messages.show(f"config not saved: {exc}", "warning")
            return None
        store = self.trader.store
        taken = set(store.configs().query("name == @cfg.name")["version"].astype(str))
        version = next_version(self.base.version, taken | {self.base.version})
        new = cfg.model_copy(update={"version": version})
        store.save_config(new)
        self.saved_version = version
        self.activate.button.disabled = False
        self.messages.show(f"saved {new.name} v{version} ({new.content_hash})", "success")
        return version

    def _activate(self) -> None:
        if not self.saved_version:
            return
        self.trader.activate_config(self.saved_version)
        self.base = self.trader.engine.config
        self.version_info.object = self._version_text()
        self.messages.show(f"activated v{self.saved_version}", "success")

    def view(self) -> pn.viewable.Viewable:
        sections = []
        for title, fields in self.fields.items():
            grid = pn.FlexBox(*(pn.Column(self.inputs[p], self.errors[p], width=240)
                                for p, _ in fields))  # fmt: skip
            sections.append(pn.Column(pn.pane.Markdown(f"#### {title}"), grid))
        return pn.Column(self.version_info, *sections,
                         pn.Row(self.save_btn, self.activate.view),
                         sizing_mode="stretch_width", name="config-editor")  # fmt: skip
