"""The ledger: cash, signed positions, P&L, day accounting and closed trades.

The paper broker calls :meth:`Ledger.apply_fill` for every fill and :meth:`Ledger.mark` with
each bar's close (options: the quote mid). Gates and risk checks read it only through
:class:`~tradekit.portfolio.base.AccountView` (``summary``, ``position_qty``,
``symbol_notional``), which it implements.

Accounting identities (property-tested):

* ``equity == cash + Σ qty × price × multiplier`` (``price`` = mark, or cost while unmarked);
* ``equity == initial_cash + realized_pnl + unrealized_pnl`` with both P&L figures net of
  commissions (commission on open quantity is part of unrealized until it closes);
* ``realized_pnl == Σ closed_trades.pnl + Σ P&L already realised by open round trips``;
* each symbol's quantity equals the sum of its signed fills; re-applying a fill id is a no-op.

Cash moves by ``-side × qty × price × multiplier - commission`` on every fill: a short sale
adds its proceeds, a credit spread adds its credit. Buying power is cash minus the margin
requirements of :mod:`tradekit.portfolio.margin`. The account day is the New York calendar date
of the events it sees (fills and marks): on the first event of a new date the start-of-day
equity is set to the equity carried over and ``trades_today`` (distinct orders that opened or
added to a position that day) restarts at 0.

Examples
--------
>>> from tradekit.core.enums import Side
>>> from tradekit.core.events import Fill
>>> led = Ledger(10_000.0)
>>> led.apply_fill(Fill("f1", "o1", "AAPL", Side.BUY, 10, 100.0, 0, commission=1.0))
True
>>> led.mark("AAPL", 103.0, 1)
>>> led.cash, led.equity, led.unrealized_pnl
(8999.0, 10029.0, 29.0)
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType

from tradekit.config import ExecutionConfig
from tradekit.core.enums import Right
from tradekit.core.events import Fill, OptionContract, PositionSnapshot
from tradekit.errors import DataError
from tradekit.portfolio._dates import day_end_ns, ny_date
from tradekit.portfolio.base import AccountSummary, GreekTotals
from tradekit.portfolio.margin import options_requirement
from tradekit.portfolio.position import ClosedTrade, OpenTrade, Position

__all__ = [
    "ClosedTrade",
    "GreeksFn",
    "HypotheticalFill",
    "Ledger",
    "OpenTrade",
    "Position",
    "greeks_from_rows",
    "parse_occ",
]

#: ``greeks(contract, ts_ns) -> (delta, gamma, theta_per_day, vega_per_vol_point[, iv])`` per
#: unit of one contract (before ×quantity×multiplier), or None when unknown. The optional fifth
#: item is the contract's implied volatility (annualised), shown in position snapshots.
GreeksFn = Callable[[OptionContract, int], "tuple[float, ...] | None"]
#: ``(symbol, signed_qty, price, multiplier, contract, commission)`` of a fill being considered.
HypotheticalFill = tuple[str, float, float, float, "OptionContract | None", float]
_Change = tuple[float, float, float, "OptionContract | None"]  # (dq, price, multiplier, contract)

_EPS = 1e-9


def _greek_tuple(g: GreekTotals) -> tuple[float, float, float, float]:
    """``(delta, gamma, theta, vega)`` of a :class:`GreekTotals`."""
    return g.delta, g.gamma, g.theta, g.vega


def greeks_from_rows(source: object) -> GreeksFn:
    """A :data:`GreeksFn` reading ``source.contract_row(contract, ts_ns)`` (a dict with
    ``delta``, ``gamma``, ``theta`` per day, ``vega`` per vol point, per share, and ``iv``), as
    :class:`tradekit.options.chain.SyntheticChainProvider` provides."""
    row_fn = source.contract_row  # type: ignore[attr-defined]

    def greeks(contract: OptionContract, ts_ns: int) -> tuple[float, ...] | None:
        row = row_fn(contract, ts_ns)
        if row is None:
            return None
        d, g, t, v = row["delta"], row["gamma"], row["theta"], row["vega"]
        return float(d), float(g), float(t), float(v), float(row.get("iv", math.nan))

    return greeks


_OCC = re.compile(r"^(.{6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$")


def parse_occ(symbol: str, multiplier: float = 100.0) -> OptionContract | None:
    """The contract of an OCC-style symbol as written by ``OptionContract.symbol`` (None when
    ``symbol`` is not one). Lets a ledger rebuilt from stored fills find option underlyings.

    Examples
    --------
    >>> parse_occ("SPY   250117C00450000").strike
    450.0
    """
    m = _OCC.match(symbol)
    if m is None or not m.group(1).strip():
        return None
    try:
        expiry = dt.date(2000 + int(m.group(2)), int(m.group(3)), int(m.group(4)))
    except ValueError:
        return None
    right = Right.CALL if m.group(5) == "C" else Right.PUT
    return OptionContract(m.group(1).strip(), expiry, int(m.group(6)) / 1000.0, right, multiplier)


_INF = math.inf


def _validate_fill(fill: Fill) -> None:
    # chained comparisons are False for NaN, so ``0 < x < inf`` means "finite and > 0"
    try:
        ok = (
            fill.id
            and int(fill.side) in (1, -1)
            and 0.0 < fill.quantity < _INF
            and 0.0 <= fill.price < _INF
            and 0.0 <= fill.commission < _INF
            and 0.0 < fill.multiplier < _INF
        )
    except (TypeError, ValueError):  # a field of the wrong type (a str price, None side)
        ok = False
    if not ok:
        raise DataError(f"invalid fill {fill!r}", rule="invalid_fill")


class Ledger:
    """Cash, positions and P&L of one paper account (see the module docstring).

    Parameters
    ----------
    initial_cash:
        Starting cash (currency, > 0).
    greeks:
        Optional option Greeks callback (:data:`GreeksFn`), used on fills and marks.
    short_stock_margin:
        Requirement per currency of short stock value (1.5 = Reg-T).
    naked_call_pct:
        Requirement per currency of underlying value for each net short call.
    """

    def __init__(
        self,
        initial_cash: float = 100_000.0,
        *,
        greeks: GreeksFn | None = None,
        short_stock_margin: float = 1.5,
        naked_call_pct: float = 0.2,
    ) -> None:
        if not (math.isfinite(initial_cash) and initial_cash > 0):
            raise ValueError(f"initial_cash must be finite and > 0, got {initial_cash!r}")
        if short_stock_margin < 1.0 or not 0.0 <= naked_call_pct <= 1.0:
            raise ValueError("short_stock_margin must be >= 1 and naked_call_pct in [0, 1]")
        self._initial = float(initial_cash)
        self._cash = float(initial_cash)
        self._greeks = greeks
        self._short_margin = short_stock_margin
        self._naked_pct = naked_call_pct
        self._positions: dict[str, Position] = {}
        self._reindex()
        self._seen: set[str] = set()
        self._closed: list[ClosedTrade] = []
        self._last_px: dict[str, float] = {}
        self._ts = 0
        self._day: dt.date | None = None
        self._day_end_ns = 0
        self._sod_equity = float(initial_cash)
        self._day_orders: set[str] = set()
        self._commissions = 0.0
        #: ``summary()`` as of the last change; every method that changes an input of the
        #: summary (fills, marks, day rolls) resets it to None.
        self._summary: AccountSummary | None = None
        #: ``margin_requirement()`` as of the last change (dropped with ``_summary``).
        self._margin: float | None = None

    @classmethod
    def from_config(cls, cfg: ExecutionConfig, **kwargs: object) -> Ledger:
        """A ledger starting with ``cfg.initial_cash``; keywords go to the constructor."""
        return cls(cfg.initial_cash, **kwargs)  # type: ignore[arg-type]

    # -- position indexes ---------------------------------------------------------------------
    # ``_positions`` keeps every position ever held (a flat one keeps its realised P&L), which
    # in an options replay is one per contract traded: it grows with the run. The reads made
    # on every bar (equity, summary, margin, option marks) walk these indexes instead, in the
    # same order and with the same sums, so their cost is that of the open positions:
    #
    # * ``_live``: the positions holding a quantity, in ``_positions`` order;
    # * ``_order`` / ``_slot``: ``_positions`` as a list, and each symbol's place in it;
    # * ``_realized_sums[k]``: the realised P&L of the first ``k`` positions, added up in order
    #   (the very sum a pass over all of them makes); cut back when a position realises P&L.
    #
    # ``_indexed`` is the dict they describe: a checkpoint restore replaces ``_positions``
    # (``vars(ledger).update``), and the indexes are then rebuilt on first use.
    def _reindex(self) -> None:
        """Rebuild the position indexes from ``_positions``."""
        self._live: dict[str, Position] = {s: p for s, p in self._positions.items() if p.qty}
        self._order: list[Position] = list(self._positions.values())
        self._slot: dict[str, int] = {s: k for k, s in enumerate(self._positions)}
        self._realized_sums: list[float] = [0.0]
        self._indexed: dict[str, Position] = self._positions

    def _live_positions(self) -> dict[str, Position]:
        """``_live``, rebuilt first when ``_positions`` was replaced."""
        if self._indexed is not self._positions:
            self._reindex()
        return self._live

    def _relist(self, symbol: str, pos: Position) -> None:
        """Keep ``_live`` right after ``pos`` (``_positions[symbol]``) was booked."""
        live = self._live
        if not pos.qty:
            live.pop(symbol, None)
        elif symbol not in live:
            slot = self._slot
            if live and slot[next(reversed(live))] > slot[symbol]:  # reopened an older one
                self._live = {s: p for s, p in self._positions.items() if p.qty}
            else:
                live[symbol] = pos

    # -- events -------------------------------------------------------------------------------
    def _roll(self, ts_ns: int) -> None:
        self._summary = self._margin = None
        if ts_ns > self._ts:
            self._ts = ts_ns
        if ts_ns < self._day_end_ns:  # same trading date (or an older one): nothing rolls
            return
        self._day_end_ns = day_end_ns(ts_ns)
        day = ny_date(ts_ns)
        if self._day is None or day > self._day:
            if self._day is not None:
                self._sod_equity = self.equity
            self._day = day
            self._day_orders.clear()

    def roll_day(self, ts_ns: int) -> None:
        """Advance the account day to the New York date of ``ts_ns`` (no-op on the same day)."""
        self._roll(ts_ns)

    def _position_for(self, fill: Fill, contract: OptionContract | None) -> Position:
        pos = self._positions.get(fill.symbol)
        if contract is None and fill.multiplier != 1.0 and (pos is None or pos.contract is None):
            contract = parse_occ(fill.symbol, fill.multiplier)
        if pos is None:
            underlying = contract.underlying if contract is not None else fill.symbol
            pos = Position(fill.symbol, underlying, float(fill.multiplier), contract)
            self._positions[fill.symbol] = pos
            self._slot[fill.symbol] = len(self._order)
            self._order.append(pos)
        elif contract is not None and pos.contract is None:
            pos.contract, pos.underlying = contract, contract.underlying
        return pos

    def apply_fill(
        self,
        fill: Fill,
        *,
        contract: OptionContract | None = None,
        tag: str | None = None,
        setup_id: str | None = None,
        strategy: str | None = None,
    ) -> bool:
        """Book ``fill``; returns False (and changes nothing) when its id was already booked.

        ``contract`` links an option fill to its contract (underlying, Greeks, margin); it is
        needed once per option symbol. ``tag`` is the fill's order tag (``exit:stop``...: a
        closing fill's tag becomes the trade's ``exit_reason``); ``setup_id`` and ``strategy``
        name the decision an opening fill came from (kept on the round trip it opens). Raises :class:`~tradekit.errors.DataError` for a fill
        with a non-positive quantity, a negative or non-finite price or commission.
        """
        fid = fill.id
        if fid in self._seen:
            return False
        _validate_fill(fill)
        ts = fill.ts_ns
        self._roll(ts)  # also drops the cached summary
        self._seen.add(fid)
        self._live_positions()  # the indexes are current before anything is booked
        pos = self._positions.get(fill.symbol)
        if pos is None or contract is not None or (pos.contract is None and fill.multiplier != 1.0):
            pos = self._position_for(fill, contract)
        side, qty, px, comm = (
            int(fill.side),
            float(fill.quantity),
            float(fill.price),
            fill.commission,
        )
        self._cash -= side * qty * px * pos.multiplier + comm
        self._commissions += comm
        held = pos.qty
        if held == 0.0 or (held > 0) == (side > 0):
            self._open(pos, fill, qty, comm, setup_id, strategy)
        else:
            close_qty = min(qty, abs(held))
            close_comm = comm * close_qty / qty
            self._close(pos, fill, close_qty, close_comm, tag)
            if qty - close_qty > _EPS:  # flip: the rest opens the other side
                self._open(pos, fill, qty - close_qty, comm - close_comm, setup_id, strategy)
        self._relist(fill.symbol, pos)
        if pos.mark != pos.mark or ts >= pos.mark_ts_ns:
            pos.mark, pos.mark_ts_ns = px, ts
            if pos.trade is not None:
                pos.trade.excursion(pos.qty * (px - pos.avg_price) * pos.multiplier)
        if pos.contract is not None:
            self._refresh_greeks(pos, ts)
        return True

    def _open(
        self,
        pos: Position,
        fill: Fill,
        qty: float,
        commission: float,
        setup_id: str | None,
        strategy: str | None,
    ) -> None:
        side = int(fill.side)
        held = abs(pos.qty)
        pos.avg_price = (
            fill.price if held == 0 else (pos.avg_price * held + fill.price * qty) / (held + qty)
        )
        pos.qty += side * qty
        pos.open_commission += commission
        trade = pos.trade
        if trade is None:
            trade = pos.start_trade(side, fill.ts_ns, fill.id)
            trade.decision_id, trade.entry_order_id = fill.decision_id, fill.order_id
            trade.setup_id, trade.strategy = setup_id, strategy
        trade.entry_qty += qty
        trade.entry_value += qty * fill.price
        trade.commission += commission
        self._day_orders.add(fill.order_id)

    def _close(
        self, pos: Position, fill: Fill, qty: float, commission: float, tag: str | None
    ) -> None:
        held = abs(pos.qty)
        sign = 1.0 if pos.qty > 0 else -1.0
        alloc = pos.open_commission * qty / held
        net = (fill.price - pos.avg_price) * qty * sign * pos.multiplier - alloc - commission
        pos.realized_pnl += net
        del self._realized_sums[self._slot[fill.symbol] + 1 :]  # sums including pos are stale
        pos.open_commission -= alloc
        pos.qty -= sign * qty
        trade = pos.trade
        if trade is None:  # cannot happen: a position with qty != 0 has an open trade
            trade = pos.start_trade(int(sign), fill.ts_ns, fill.id)
        trade.exit_qty += qty
        trade.exit_value += qty * fill.price
        trade.commission += commission
        trade.pnl += net
        trade.exit_order_id = fill.order_id
        trade.exit_reason = tag.removeprefix("exit:") if tag else "manual"
        if abs(pos.qty) <= _EPS:
            self._closed.append(trade.close(pos, fill.ts_ns))
            pos.qty, pos.avg_price, pos.open_commission = 0.0, math.nan, 0.0
            pos.trade, pos.stop, pos.targets = None, None, ()

    def mark(
        self, symbol: str, price: float, ts_ns: int, *, greeks: Sequence[float] | None = None
    ) -> None:
        """Record the market price of ``symbol`` at ``ts_ns`` (bar close, option mid).

        Non-finite or non-positive prices are ignored (a missing quote keeps the last mark).
        Also remembered for symbols without a position (underlying prices for margin, reference
        prices for the broker's buying-power estimate). An option position takes its unit
        Greeks and IV at ``ts_ns`` from the Greeks callback, or from ``greeks`` when the
        caller priced them already (what the callback gives: delta, gamma, theta, vega, iv).
        """
        if not (price > 0.0 and math.isfinite(price)):
            return
        self._roll(ts_ns)  # also drops the cached summary
        self._last_px[symbol] = price
        pos = self._positions.get(symbol)
        if pos is not None and ts_ns >= pos.mark_ts_ns:
            pos.mark, pos.mark_ts_ns = price, ts_ns
            if pos.trade is not None:
                pos.trade.excursion(pos.qty * (price - pos.avg_price) * pos.multiplier)
            if pos.contract is not None:
                self._refresh_greeks(pos, ts_ns, greeks)

    def _refresh_greeks(
        self, pos: Position, ts_ns: int, priced: Sequence[float] | None = None
    ) -> None:
        if pos.contract is None or self._greeks is None or not pos.qty:
            return
        g = self._greeks(pos.contract, ts_ns) if priced is None else priced
        if g is not None and all(math.isfinite(x) for x in g[:4]):
            pos.unit_greeks = (float(g[0]), float(g[1]), float(g[2]), float(g[3]))
            if len(g) > 4 and math.isfinite(g[4]):
                pos.unit_iv = float(g[4])

    def set_stop(
        self, symbol: str, stop: float | None, targets: tuple[float, ...] | None = None
    ) -> None:
        """Attach the current stop (and targets) to an open position; the first stop known
        while a round trip is open defines its initial risk (for ``r_multiple``)."""
        pos = self._positions.get(symbol)
        if pos is None or not pos.qty:
            return
        if stop is not None and not (math.isfinite(stop) and stop > 0):
            raise ValueError(f"stop must be a finite price > 0 or None, got {stop!r}")
        pos.stop = stop
        if targets is not None:
            pos.targets = tuple(targets)
        trade = pos.trade
        if trade is not None and stop is not None and trade.initial_stop is None:
            trade.initial_stop = stop
            trade.risk_per_unit = abs(pos.avg_price - stop)

    def set_risk_per_unit(self, symbol: str, risk: float, stop: float | None = None) -> None:
        """Initial risk per unit (currency before multiplier) of the open round trip on
        ``symbol`` when it is not a price stop (option premium stops); ``stop`` is the premium
        at which that stop triggers (the trade's ``initial_stop``)."""
        pos = self._positions.get(symbol)
        if pos is not None and pos.trade is not None and risk > 0 and math.isfinite(risk):
            pos.trade.risk_per_unit = risk
            if stop is not None and math.isfinite(stop) and pos.trade.initial_stop is None:
                pos.trade.initial_stop = stop

    # -- reads --------------------------------------------------------------------------------
    @property
    def initial_cash(self) -> float:
        return self._initial

    @property
    def cash(self) -> float:
        """Cash balance (currency); short proceeds and credits included."""
        return self._cash

    @property
    def commissions(self) -> float:
        """Total commission paid (currency)."""
        return self._commissions

    @property
    def ts_ns(self) -> int:
        """Time of the latest event booked (int ns UTC)."""
        return self._ts

    def _open_positions(self) -> Iterable[Position]:
        return self._live_positions().values()

    def open_positions(self) -> list[Position]:
        """The positions holding a quantity, in the order they were first opened."""
        return list(self._open_positions())

    @property
    def day_end_ns(self) -> int:
        """End (int ns UTC) of the New York date being booked: a later event rolls the day
        (start-of-day equity, trades today)."""
        return self._day_end_ns

    @property
    def equity(self) -> float:
        """Cash plus the signed market value of every position (currency)."""
        return self._cash + sum(p.market_value for p in self._open_positions())

    @property
    def realized_pnl(self) -> float:
        """Realised P&L net of the commissions of closed quantity (currency)."""
        return sum(p.realized_pnl for p in self._positions.values())

    @property
    def unrealized_pnl(self) -> float:
        """Open P&L net of the commissions already paid on open quantity (currency)."""
        return sum(p.unrealized_pnl for p in self._open_positions())

    @property
    def gross_exposure(self) -> float:
        return sum(abs(p.market_value) for p in self._open_positions())

    @property
    def net_exposure(self) -> float:
        return sum(p.market_value for p in self._open_positions())

    @property
    def start_of_day_equity(self) -> float:
        return self._sod_equity

    @property
    def day_pnl(self) -> float:
        """Equity change since the start of the current New York trading date."""
        return self.equity - self._sod_equity

    @property
    def trades_today(self) -> int:
        """Distinct orders that opened or added to a position on the current trading date."""
        return len(self._day_orders)

    @property
    def closed_trades(self) -> tuple[ClosedTrade, ...]:
        """Finished round trips in the order they closed."""
        return tuple(self._closed)

    @property
    def closed_count(self) -> int:
        """Number of round trips closed so far."""
        return len(self._closed)

    def closed_since(self, n: int) -> list[ClosedTrade]:
        """Round trips closed after the first ``n`` (for incremental publishing)."""
        return self._closed[n:]

    @property
    def positions(self) -> Mapping[str, Position]:
        """Read-only view of every position ever held (flat ones have ``qty == 0``).

        Read the positions, never assign to their fields: the ledger changes them only in
        :meth:`apply_fill` and :meth:`mark`, which is what keeps :meth:`summary` current."""
        return MappingProxyType(self._positions)

    def position(self, symbol: str) -> Position | None:
        pos = self._positions.get(symbol)
        return pos if pos is not None and pos.qty else None

    def position_qty(self, symbol: str) -> float:
        """Signed quantity held in ``symbol`` (0.0 when flat)."""
        pos = self._positions.get(symbol)
        return pos.qty if pos is not None else 0.0

    def symbol_notional(self, underlying: str) -> float:
        """Absolute market value of every position on ``underlying`` (stock + options)."""
        total = 0.0
        for p in self._live_positions().values():  # market_value inlined: read for every setup
            qty = p.qty
            if qty and p.underlying == underlying:
                mark = p.mark
                total += abs(qty * (mark if mark == mark else p.avg_price) * p.multiplier)
        return total

    def last_price(self, symbol: str) -> float:
        """Latest mark seen for ``symbol`` (NaN when none)."""
        return self._last_px.get(symbol, math.nan)

    def is_reducing(self, symbol: str, signed_qty: float) -> bool:
        """True when adding ``signed_qty`` to ``symbol`` only shrinks the position."""
        q = self.position_qty(symbol)
        return q != 0 and (q > 0) != (signed_qty > 0) and abs(signed_qty) <= abs(q) + _EPS

    # -- margin -------------------------------------------------------------------------------
    def _requirement(self, changes: Mapping[str, _Change]) -> float:
        stock = 0.0
        holdings: list[tuple[OptionContract, float]] = []
        # the open positions, plus the flat ones a change reopens, in ``_positions`` order (a
        # flat position without a change adds nothing: no holding, no short stock)
        live = self._live_positions()
        items: Iterable[tuple[str, Position]] = live.items()
        if changes:
            flat = [s for s in changes if s not in live and s in self._positions]
            if flat:
                syms = sorted((*live, *flat), key=self._slot.__getitem__)
                items = [(s, self._positions[s]) for s in syms]
        for sym, pos in items:
            q, contract = pos.qty, pos.contract
            change = changes.get(sym) if changes else None
            if change is not None:
                q += change[0]
            if contract is not None:
                holdings.append((contract, q))
            elif q < 0:  # short stock: valued at the mark (the fill price while unpriced)
                px = pos.price
                if px != px and change is not None:
                    px = change[1]
                stock += -q * px * pos.multiplier
        for sym, (dq, cpx, mult, contract) in changes.items():
            if sym not in self._positions:
                if contract is not None:
                    holdings.append((contract, dq))
                elif dq < 0:
                    stock += -dq * cpx * mult
        opts = options_requirement(holdings, self._last_px, self._naked_pct) if holdings else 0.0
        return self._short_margin * stock + opts

    def margin_requirement(self) -> float:
        """Currency held against short stock and short options (see :mod:`.margin`);
        computed once per state, like :meth:`summary`."""
        margin = self._margin
        if margin is None:
            margin = self._margin = self._requirement({})
        return margin

    @property
    def buying_power(self) -> float:
        """Cash available for new risk: ``cash - margin_requirement()`` (currency)."""
        return self._cash - self.margin_requirement()

    def buying_power_after(self, fills: Iterable[HypotheticalFill]) -> float:
        """Buying power if ``fills`` were booked now (nothing is changed).

        Each item is ``(symbol, signed_qty, price, multiplier, contract, commission)``.
        """
        cash = self._cash
        changes: dict[str, _Change] = {}
        for sym, dq, px, mult, contract, comm in fills:
            cash -= dq * px * mult + comm
            prev = changes.get(sym)
            changes[sym] = ((prev[0] if prev else 0.0) + dq, px, mult, contract)
        return cash - self._requirement(changes)

    def stock_buying_power_after(
        self, symbol: str, signed_qty: float, price: float, commission: float
    ) -> float:
        """:meth:`buying_power_after` of one stock fill (multiplier 1, no contract).

        The broker asks this before accepting and again before filling every stock order; it
        skips the general method's per-item tuple handling (same arithmetic, same result).

        Parameters
        ----------
        symbol:
            Stock symbol.
        signed_qty:
            Shares, > 0 bought, < 0 sold.
        price:
            Fill price per share (currency).
        commission:
            Commission of the fill (currency).

        Returns
        -------
        float
            Buying power (currency) if the fill were booked now; nothing is changed.
        """
        cash = self._cash - (signed_qty * price + commission)
        pos = self._positions.get(symbol)
        held = pos.qty if pos is not None else 0.0
        if held >= 0.0 and held + signed_qty >= 0.0 and (pos is None or pos.contract is None):
            # no short stock before or after: the requirement is the current one, exactly
            return cash - self.margin_requirement()
        return cash - self._requirement({symbol: (signed_qty, price, 1.0, None)})

    def greek_totals(self) -> GreekTotals:
        """Portfolio Greeks (stock counts as delta)."""
        d = g = t = v = 0.0
        for p in self._open_positions():
            pd_, pg, pt, pv = p.greeks()
            d, g, t, v = d + pd_, g + pg, t + pt, v + pv
        return GreekTotals(d, g, t, v)

    def summary(self) -> AccountSummary:
        """The account as of the last event (implements ``AccountView.summary``).

        Computed once per state: the decision and risk engines both read it for every setup,
        and it is recomputed only after the next fill, mark or day roll (each of which drops
        the cached value), so it never differs from a fresh computation.
        """
        summary = self._summary
        if summary is None:
            summary = self._summary = self._compute_summary()
        return summary

    def _compute_summary(self) -> AccountSummary:
        """One pass over the open positions (the realised P&L from its running sums); sums in
        the same order as the single-figure properties (``equity``, ``gross_exposure``, ...),
        so the figures agree exactly."""
        market_value = gross = unrealized = 0.0
        d = g = t = v = 0.0
        n_open = 0
        live = self._live_positions()
        sums, order = self._realized_sums, self._order  # realised P&L of every position,
        realized = sums[-1]  # summed in order
        if len(sums) <= len(order):
            for p in order[len(sums) - 1 :]:
                realized += p.realized_pnl
                sums.append(realized)
        for p in live.values():
            qty = p.qty
            if qty:
                # Position.market_value / unrealized_pnl / greeks() inlined, same arithmetic
                mult, avg, mark = p.multiplier, p.avg_price, p.mark
                price = mark if mark == mark else avg
                mv = qty * price * mult
                market_value += mv
                gross += abs(mv)
                unrealized += qty * (price - avg) * mult - p.open_commission
                n_open += 1
                if p.contract is None:
                    d += qty * mult
                else:
                    pd_, pg, pt, pv = p.greeks()
                    d, g, t, v = d + pd_, g + pg, t + pt, v + pv
        equity = self._cash + market_value
        sod = self._sod_equity
        # positional: ts, cash, equity, buying_power, gross, net, realized, unrealized,
        # day_pnl, start_of_day_equity, open_positions, trades_today, greeks
        return AccountSummary(self._ts, self._cash, equity, self._cash - self.margin_requirement(),
                              gross, market_value, realized, unrealized, equity - sod, sod,
                              n_open, len(self._day_orders), GreekTotals(d, g, t, v))  # fmt: skip

    def snapshot(self) -> list[PositionSnapshot]:
        """One :class:`~tradekit.core.events.PositionSnapshot` per open position, each with
        the portfolio's Greek totals."""
        open_ = list(self._open_positions())
        if not open_:
            return []
        totals = _greek_tuple(self.summary().greeks)
        return [p.snapshot(self._ts, totals) for p in open_]

    def position_snapshot(self, symbol: str) -> PositionSnapshot | None:
        """Snapshot of ``symbol`` (also when it just went flat), None if never held."""
        pos = self._positions.get(symbol)
        if pos is None:
            return None
        return pos.snapshot(self._ts, _greek_tuple(self.summary().greeks))

    def __repr__(self) -> str:
        n = sum(1 for _ in self._open_positions())
        return f"Ledger(cash={self._cash:.2f}, equity={self.equity:.2f}, open_positions={n})"
