"""Reusable dashboard components (models + views); the notebook panel reuses them too."""

from tradekit.dashboards.components.chart import LiveChart
from tradekit.dashboards.components.collector import BusCollector

__all__ = ["BusCollector", "LiveChart"]
