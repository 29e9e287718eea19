"""Exit plans: how the broker's position monitor manages a position after its entry fills.

The decision layer attaches an :class:`ExitPlan` to an entry order
(``PaperBroker.submit(request, exit_plan=plan)`` or ``PaperBroker.open_position(decision, plan)``).
From the first entry fill on, the monitor checks the plan on every bar of the position's symbol
(for option structures: every bar of the underlying):

* **Price exits (stock / underlying-priced positions).** ``stop`` and ``targets`` are prices of the
  traded symbol. The stop is a resting stop order (gap through → fill at the open), targets are
  resting limits (gap through → fill at the open, the better price). When one bar touches the stop
  and a target, **the stop wins**. Target *i* closes ``fractions[i]`` of the position
  (40/40/20 by default from ``ExecutionConfig.scale_out``); after TP1 the stop moves to the entry
  price (break-even) from the next bar on, when ``breakeven_after_tp1``.
* **Premium exits (option structures).** With ``entry`` the net premium per unit paid (> 0, debit)
  or received (< 0, credit), and ``mark`` the net mid at the bar close, the return is
  ``(mark - entry) / |entry|``. At ``<= -premium_stop_pct`` everything closes; at
  ``>= take_all_pct`` everything closes; at ``>= take_half_pct`` half of the contracts close once.
  Premium exits are evaluated at the bar's close on the quote source and filled there at bid/ask.
* **Time exits.** ``time_stop_ns`` (absolute UTC ns) or ``time_stop_minutes_before_close``;
  ``close_at_dte`` (calendar days before the nearest leg's expiry, New York date); ``flatten_eod``
  (intraday classes: flat ``ExecutionConfig.flatten_intraday_minutes_before_close`` minutes before the
  session close). Time exits fill at the bar's close (stock) or close-time quote (options).

Price exits apply to stock positions; for option packages ``stop``/``targets`` are not used
(premium and time exits only). Exit fills are not volume-capped (a protective exit is never
held back by the participation limit) and never exceed what the ledger still holds, so an exit
cannot open a position on the other side.

Stops and targets are never 0: a plan with a non-positive or non-finite level is refused with
``ValueError`` (the origin system stored missing levels as 0 and then "hit" them).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from tradekit.config import OptionClassParams

__all__ = ["ExitPlan", "resolve_fractions"]


def _check_level(name: str, value: float | None) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(
            f"{name} must be a finite price > 0 (or None for 'no {name}'), got {value!r}"
        )


def _check_pct(name: str, value: float | None) -> None:
    if value is None:
        return
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"{name} must be a finite fraction > 0 (or None), got {value!r}")


@dataclass(frozen=True, slots=True)
class ExitPlan:
    """Parameters of the exit rules for one position (see the module docstring).

    Parameters
    ----------
    stop:
        Protective stop price of the traded symbol (currency), or None.
    targets:
        Take-profit prices TP1..TPn in the order they are reached (currency).
    fractions:
        Fraction of the position closed at each target; None → ``ExecutionConfig.scale_out``
        trimmed to ``len(targets)`` (the last target always closes what is left).
    breakeven_after_tp1:
        Move the stop to the average entry price after TP1; None → the config default.
    premium_stop_pct, take_half_pct, take_all_pct:
        Option premium exits as fractions of the entry premium (0.3 = 30 %).
    time_stop_ns:
        Close everything at the first bar closing at or after this UTC instant (ns).
    time_stop_minutes_before_close:
        Close everything this many minutes before the session close.
    close_at_dte:
        Close option structures when the nearest expiry is this many calendar days away or less.
    flatten_eod:
        Flatten before the session close (intraday timeframe classes).
    """

    stop: float | None = None
    targets: tuple[float, ...] = ()
    fractions: tuple[float, ...] | None = None
    breakeven_after_tp1: bool | None = None
    premium_stop_pct: float | None = None
    take_half_pct: float | None = None
    take_all_pct: float | None = None
    time_stop_ns: int | None = None
    time_stop_minutes_before_close: float | None = None
    close_at_dte: int | None = None
    flatten_eod: bool = False

    def __post_init__(self) -> None:
        _check_level("stop", self.stop)
        object.__setattr__(self, "targets", tuple(float(t) for t in self.targets))
        for i, t in enumerate(self.targets):
            _check_level(f"targets[{i}]", t)
        if self.fractions is not None:
            fr = tuple(float(f) for f in self.fractions)
            object.__setattr__(self, "fractions", fr)
            if len(fr) != len(self.targets):
                raise ValueError("fractions needs one entry per target")
            if any(not math.isfinite(f) or f < 0 for f in fr) or abs(sum(fr) - 1.0) > 1e-9:
                raise ValueError("fractions must be >= 0 and sum to 1")
        _check_pct("premium_stop_pct", self.premium_stop_pct)
        _check_pct("take_half_pct", self.take_half_pct)
        _check_pct("take_all_pct", self.take_all_pct)
        if self.premium_stop_pct is not None and self.premium_stop_pct > 1.0:
            raise ValueError("premium_stop_pct is a loss fraction of the premium, at most 1")
        if self.time_stop_minutes_before_close is not None and not (
            0.0 <= self.time_stop_minutes_before_close < 24 * 60
        ):
            raise ValueError("time_stop_minutes_before_close must be in [0, 1440)")
        if self.close_at_dte is not None and self.close_at_dte < 0:
            raise ValueError("close_at_dte must be >= 0")

    @property
    def has_price_exits(self) -> bool:
        """True when the plan has a stop or a target on the traded symbol's price."""
        return self.stop is not None or bool(self.targets)

    @property
    def has_premium_exits(self) -> bool:
        """True when the plan has an option premium stop or take-profit."""
        return (
            self.premium_stop_pct is not None
            or self.take_half_pct is not None
            or self.take_all_pct is not None
        )

    def with_stop(self, stop: float | None) -> ExitPlan:
        """A copy with a new stop (validated)."""
        return replace(self, stop=stop)

    @classmethod
    def from_option_class(cls, params: OptionClassParams, *, flatten_eod: bool = False) -> ExitPlan:
        """The premium/time exits of one timeframe class of ``OptionsConfig.classes``.

        Examples
        --------
        >>> from tradekit.config import AlgorithmConfig
        >>> from tradekit.core.enums import TimeframeClass
        >>> p = AlgorithmConfig().options.classes[TimeframeClass.INTRADAY]
        >>> ExitPlan.from_option_class(p, flatten_eod=True).premium_stop_pct
        0.3
        """
        return cls(
            premium_stop_pct=params.stop_loss_pct,
            take_half_pct=params.take_half_pct,
            take_all_pct=params.take_all_pct,
            time_stop_minutes_before_close=params.time_stop_minutes_before_close,
            close_at_dte=params.close_at_dte,
            flatten_eod=flatten_eod,
        )


def resolve_fractions(plan: ExitPlan, default: tuple[float, ...]) -> tuple[float, ...]:
    """Fractions per target: the plan's own, else ``default`` trimmed to the number of targets
    with the last target taking the rest (so they always sum to 1).

    Examples
    --------
    >>> resolve_fractions(ExitPlan(targets=(11.0, 12.0)), (0.4, 0.4, 0.2))
    (0.4, 0.6)
    """
    n = len(plan.targets)
    if n == 0:
        return ()
    if plan.fractions is not None:
        return plan.fractions
    if len(default) == n:
        return tuple(float(f) for f in default)
    head = [float(f) for f in default[: n - 1]]
    head += [0.0] * (n - 1 - len(head))
    return (*head, max(0.0, 1.0 - sum(head)))
