"""The Jupyter-native front: Panel/Bokeh components (``components/``) and the Control Center
(:func:`tradekit.dashboards.app.control_center`).

Components are ``param.Parameterized`` models with Panel views, fed by a
:class:`~tradekit.dashboards.components.collector.BusCollector`: the bus handler only appends to
a bounded deque (it never touches a document), and a periodic callback on the server loop drains
it into the views. So a slow browser can never slow the trader down.
"""
