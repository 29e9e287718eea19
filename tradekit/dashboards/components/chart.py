"""``LiveChart``: streaming Bokeh candlesticks with the strategy's overlays.

Candles are a ``segment`` (high-low wick) plus a ``vbar`` (open-close body) over one
``ColumnDataSource`` that grows with :meth:`ColumnDataSource.stream` and a ``rollover`` (the
browser never holds more than ``rollover`` candles); a volume pane shares the x range. Overlays:
FVG zones (quads), BOS / CHoCH / MSS broken levels (segments), liquidity sweeps (markers),
entries with their stop and targets (segments), and fills (triangles: buy up, sell down).
A crosshair spans both panes; hovering a candle shows its time and OHLCV.

The higher-timeframe selector re-aggregates the kept base bars (bucket = bar open time floored
to the timeframe, in UTC) and, live, patches the forming HTF candle in place.

Times on the x axis are bar *open* times in milliseconds since the epoch (Bokeh's datetime unit).
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, CrosshairTool, HoverTool, LayoutDOM
from bokeh.models.annotations import Span, Title
from bokeh.plotting import figure

from tradekit.core.events import Bar, Decision, Fill, Signal
from tradekit.signals.mtf import timeframe_ns

__all__ = ["LiveChart"]

_NS_PER_MS = 1_000_000
_UP, _DOWN = "#26a69a", "#ef5350"
_LEVEL_KINDS = {"BOS": "#1e88e5", "CHOCH": "#8e24aa", "MSS": "#fb8c00"}
_CANDLE_COLS = ("x", "open", "high", "low", "close", "volume", "color", "width")


#: The axis shows exchange wall-clock time, like the signal feed and the replay clock.
EXCHANGE_TZ = ZoneInfo("America/New_York")


def _ms(ts_ns: int) -> float:
    """Bokeh x of a UTC nanosecond stamp: milliseconds of the exchange's wall-clock time
    (Bokeh's datetime axis has no time zone, so the offset is applied to the value)."""
    off = dt.datetime.fromtimestamp(ts_ns / 1e9, EXCHANGE_TZ).utcoffset()
    return (ts_ns + (off.total_seconds() * 1e9 if off else 0.0)) / _NS_PER_MS


class LiveChart(param.Parameterized):
    """Live candlestick chart of one symbol fed with bus events.

    Parameters
    ----------
    symbol:
        The symbol whose bars are drawn (others are ignored); empty: the first one seen.
    base_timeframe:
        Timeframe label of the incoming bars (``"1min"``); the selector offers it and higher
        ones.
    rollover:
        Candles kept in the browser and base bars kept for re-aggregation.
    """

    symbol = param.String(default="", doc="symbol drawn (first seen when empty)")
    timeframe: param.Selector[str] = param.Selector(
        default="1min", objects=["1min"], doc="candle timeframe"
    )
    rollover = param.Integer(default=20_000, bounds=(10, None))
    overlay_rollover = param.Integer(default=500, bounds=(10, None))
    height = param.Integer(default=420, bounds=(100, None))

    def __init__(self, base_timeframe: str = "1min", **params: Any) -> None:
        htfs = [tf for tf in ("1min", "5min", "15min", "1h", "1D") if
                timeframe_ns(tf) >= timeframe_ns(base_timeframe)]  # fmt: skip
        if base_timeframe not in htfs:
            htfs.insert(0, base_timeframe)
        super().__init__(**params)
        self.param.timeframe.objects = htfs
        self.base_timeframe = base_timeframe
        self.timeframe = base_timeframe
        self._base_ns = timeframe_ns(base_timeframe)
        self._bars: deque[tuple[int, float, float, float, float, float]] = deque(
            maxlen=self.rollover
        )
        self.candles = ColumnDataSource({c: [] for c in _CANDLE_COLS}, name="candles")
        self.fvg = ColumnDataSource({"left": [], "right": [], "top": [], "bottom": [], "color": []})
        self.levels = ColumnDataSource(
            {"x0": [], "x1": [], "y": [], "color": [], "kind": []}
        )  # fmt: skip
        self.sweeps = ColumnDataSource({"x": [], "y": [], "marker": [], "kind": []})
        self.plans = ColumnDataSource({"x0": [], "x1": [], "y": [], "color": [], "what": []})
        self.fills = ColumnDataSource({"x": [], "y": [], "marker": [], "color": [], "side": []})
        self.bars_seen = 0
        self._last_bucket: int | None = None
        self.layout = self._build()
        self.param.watch(self._on_timeframe, "timeframe")

    # -- figure -----------------------------------------------------------------------------
    def _build(self) -> LayoutDOM:
        self._title = Title(text=f"{self.symbol or 'waiting for bars'} {self.timeframe}")
        price = figure(
            x_axis_type="datetime", height=self.height, sizing_mode="stretch_width",
            tools="xpan,xwheel_zoom,box_zoom,reset,save", active_scroll="xwheel_zoom",
            title=self._title, name="price",
        )  # fmt: skip
        price.quad(left="left", right="right", top="top", bottom="bottom", color="color",
                   alpha=0.15, source=self.fvg, legend_label="FVG")  # fmt: skip
        price.segment(x0="x", y0="high", x1="x", y1="low", color="color", source=self.candles)
        bodies = price.vbar(x="x", width="width", top="open", bottom="close", fill_color="color",
                            line_color="color", source=self.candles)  # fmt: skip
        price.segment(x0="x0", y0="y", x1="x1", y1="y", color="color", line_width=2,
                      line_dash="dashed", source=self.levels, legend_label="BOS/CHoCH")  # fmt: skip
        price.scatter(x="x", y="y", marker="marker", size=11, color="#ffb300",
                      source=self.sweeps, legend_label="sweep")  # fmt: skip
        price.segment(x0="x0", y0="y", x1="x1", y1="y", color="color", line_width=2,
                      source=self.plans, legend_label="entry/stop/target")  # fmt: skip
        price.scatter(x="x", y="y", marker="marker", size=13, color="color",
                      line_color="black", source=self.fills, legend_label="fills")  # fmt: skip
        price.legend.location = "top_left"
        price.legend.click_policy = "hide"
        price.add_tools(HoverTool(
            renderers=[bodies], formatters={"@x": "datetime"}, mode="vline",
            tooltips=[("time", "@x{%F %H:%M}"), ("open", "@open{0,0.00}"),
                      ("high", "@high{0,0.00}"), ("low", "@low{0,0.00}"),
                      ("close", "@close{0,0.00}"), ("volume", "@volume{0,0}")],
        ))  # fmt: skip
        volume = figure(x_axis_type="datetime", height=120, sizing_mode="stretch_width",
                        x_range=price.x_range, tools="", toolbar_location=None,
                        name="volume")  # fmt: skip
        volume.vbar(x="x", width="width", top="volume", bottom=0, color="color", alpha=0.6,
                    source=self.candles)  # fmt: skip
        volume.yaxis.axis_label = "volume"
        span_w, span_h = Span(dimension="width"), Span(dimension="height")
        crosshair = CrosshairTool(overlay=(span_w, span_h))
        price.add_tools(crosshair)
        volume.add_tools(CrosshairTool(overlay=span_h))
        return column(price, volume, sizing_mode="stretch_width", name="live-chart")

    def panel(self) -> pn.viewable.Viewable:
        """The chart with its timeframe selector, as a Panel layout."""
        return pn.Column(
            pn.widgets.RadioButtonGroup.from_param(self.param.timeframe),
            pn.pane.Bokeh(self.layout, sizing_mode="stretch_width"),
            sizing_mode="stretch_width",
        )

    # -- data -------------------------------------------------------------------------------
    def load(self, bars: pd.DataFrame) -> None:
        """Replace the candles with a bar frame (history before a live stream; the loop-lag
        test loads 20,000)."""
        idx = bars.index.as_unit("ns").asi8
        cols = [bars[c].to_numpy(dtype=float) for c in ("open", "high", "low", "close", "volume")]
        self._bars.clear()
        self._bars.extend(zip(idx.tolist(), *(c.tolist() for c in cols), strict=True))
        self._redraw()

    def push(self, events: Iterable[tuple[str, Any]]) -> int:
        """Apply drained bus events to the sources; returns the number of new bars."""
        new: list[Bar] = []
        for topic, ev in events:
            if isinstance(ev, Bar):
                if not self.symbol:
                    self.symbol = ev.symbol
                    self._title.text = f"{ev.symbol} {self.timeframe}"
                if ev.symbol == self.symbol:
                    new.append(ev)
            elif isinstance(ev, Signal) and ev.symbol == self.symbol:
                self._signal(ev)
            elif isinstance(ev, Decision) and ev.symbol == self.symbol:
                self._decision(ev)
            elif isinstance(ev, Fill) and topic.startswith("fills"):
                self._fill(ev)
        if new:
            self._bars_in(new)
        return len(new)

    def _bars_in(self, bars: list[Bar]) -> None:
        for b in bars:
            self._bars.append((b.ts_ns, b.open, b.high, b.low, b.close, b.volume))
        self.bars_seen += len(bars)
        if self.timeframe == self.base_timeframe:
            self.candles.stream(self._rows(self._bars_tail(len(bars)), self._base_ns),
                                rollover=self.rollover)  # fmt: skip
            return
        step = timeframe_ns(self.timeframe)
        for row in self._bars_tail(len(bars)):
            bucket = row[0] - row[0] % step
            if bucket == self._last_bucket and len(self.candles.data["x"]):
                i = len(self.candles.data["x"]) - 1
                d = self.candles.data
                hi, lo = max(d["high"][i], row[2]), min(d["low"][i], row[3])
                op = d["open"][i]
                self.candles.patch({
                    "high": [(i, hi)], "low": [(i, lo)], "close": [(i, row[4])],
                    "volume": [(i, d["volume"][i] + row[5])],
                    "color": [(i, _UP if row[4] >= op else _DOWN)],
                })  # fmt: skip
            else:
                self._last_bucket = bucket
                self.candles.stream(self._rows([(bucket, *row[1:])], step),
                                    rollover=self.rollover)  # fmt: skip

    def _bars_tail(self, n: int) -> list[tuple[int, float, float, float, float, float]]:
        return list(self._bars)[-n:] if n < len(self._bars) else list(self._bars)

    @staticmethod
    def _rows(rows: list[tuple[int, float, float, float, float, float]], step_ns: int
              ) -> dict[str, Any]:  # fmt: skip
        if not rows:
            return {c: [] for c in _CANDLE_COLS}
        ts, o, h, lo, c, v = (list(col) for col in zip(*rows, strict=True))
        return {
            "x": [_ms(t) for t in ts], "open": o, "high": h, "low": lo, "close": c, "volume": v,
            "color": [_UP if cc >= oo else _DOWN for oo, cc in zip(o, c, strict=True)],
            "width": [0.7 * step_ns / _NS_PER_MS] * len(ts),
        }  # fmt: skip

    def _aggregate(self, step_ns: int) -> list[tuple[int, float, float, float, float, float]]:
        if not self._bars:
            return []
        a = np.array(self._bars, dtype=float)
        ts = a[:, 0].astype(np.int64)
        bucket = ts - ts % step_ns
        starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
        ends = np.r_[starts[1:], len(ts)] - 1
        hi = np.maximum.reduceat(a[:, 2], starts)
        lo = np.minimum.reduceat(a[:, 3], starts)
        vol = np.add.reduceat(a[:, 5], starts)
        return list(zip(bucket[starts].tolist(), a[starts, 1].tolist(), hi.tolist(), lo.tolist(),
                        a[ends, 4].tolist(), vol.tolist(), strict=True))  # fmt: skip

    def _redraw(self) -> None:
        step = timeframe_ns(self.timeframe)
        rows = list(self._bars) if step == self._base_ns else self._aggregate(step)
        self._last_bucket = rows[-1][0] if rows else None
        self.candles.data = self._rows(rows, step)
        self._title.text = f"{self.symbol or 'waiting for bars'} {self.timeframe}"

    def _on_timeframe(self, _event: Any) -> None:
        self._redraw()

    # -- overlays -----------------------------------------------------------------------------
    def _span(self, ts_ns: int, bars: int) -> tuple[float, float]:
        return _ms(ts_ns), _ms(ts_ns + bars * self._base_ns)

    def _signal(self, s: Signal) -> None:
        lv: Mapping[str, float] = s.levels
        if s.kind == "FVG" and "top" in lv and "bottom" in lv:
            x0, x1 = self._span(s.ts_ns, 30)
            self.fvg.stream({"left": [x0], "right": [x1], "top": [lv["top"]],
                             "bottom": [lv["bottom"]], "color": [_UP if s.direction > 0 else _DOWN]},
                            rollover=self.overlay_rollover)  # fmt: skip
        elif s.kind in _LEVEL_KINDS and "level" in lv:
            x0, x1 = self._span(s.ts_ns, -15)
            self.levels.stream({"x0": [x1], "x1": [x0], "y": [lv["level"]],
                                "color": [_LEVEL_KINDS[s.kind]], "kind": [s.kind]},
                               rollover=self.overlay_rollover)  # fmt: skip
        elif s.kind in ("SWEEP_LOW", "SWEEP_HIGH"):
            y = lv.get("extreme", lv.get("level", s.entry))
            self.sweeps.stream({"x": [_ms(s.ts_ns)], "y": [y],
                                "marker": ["triangle" if s.kind == "SWEEP_LOW" else
                                           "inverted_triangle"], "kind": [s.kind]},
                               rollover=self.overlay_rollover)  # fmt: skip

    def _decision(self, d: Decision) -> None:
        if d.action.value != "ENTER":
            return
        x0, x1 = self._span(d.ts_ns, 30)
        ys = [d.entry, d.stop, *d.targets]
        what = ["entry", "stop", *(f"target {i + 1}" for i in range(len(d.targets)))]
        colors = ["#424242", _DOWN, *([_UP] * len(d.targets))]
        n = len(ys)
        self.plans.stream({"x0": [x0] * n, "x1": [x1] * n, "y": ys, "color": colors,
                           "what": what}, rollover=self.overlay_rollover)  # fmt: skip

    def _fill(self, f: Fill) -> None:
        if f.symbol != self.symbol:
            return
        buy = f.side.value > 0
        self.fills.stream({"x": [_ms(f.ts_ns)], "y": [f.price],
                           "marker": ["triangle" if buy else "inverted_triangle"],
                           "color": [_UP if buy else _DOWN], "side": ["BUY" if buy else "SELL"]},
                          rollover=self.overlay_rollover)  # fmt: skip
