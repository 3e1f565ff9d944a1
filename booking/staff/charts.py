"""Charts drawn on the server as SVG with pygal, for the reports.

The SVG is a document of its own, fit to be inlined in a page whose Content-Security-Policy
allows no script: pygal's tooltip script and its configuration script are left out, and the
chart's element id (a random UUID in pygal) is derived from its title, so the same numbers
draw the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pygal
from pygal.style import Style

STYLE = Style(
    background="white",
    plot_background="white",
    foreground="#1f3a3d",
    foreground_strong="#1f3a3d",
    foreground_subtle="#5b6b6d",
    colors=("#1f6f78", "#c8553d", "#588b8b", "#f2a541", "#8e6c8a", "#93a8ac"),
    font_family="system-ui, sans-serif",
)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)
_CHART_ID = re.compile(r"chart-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)


def stacked_bar_chart(
    title: str, labels: Sequence[str], series: Mapping[str, Sequence[int]]
) -> str:
    """Bars stacked per label, one colour per series."""
    return _render(pygal.StackedBar(**_config(title, labels)), title, series)


def bar_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[int | float]],
    *,
    percent: bool = False,
) -> str:
    """Bars side by side per label; `percent` fixes the scale at 0 to 100."""
    config = _config(title, labels)
    if percent:
        config["range"] = (0, 100)
    return _render(pygal.Bar(**config), title, series)


def _config(title: str, labels: Sequence[str]) -> dict[str, object]:
    return {
        "title": title,
        "x_labels": list(labels),
        "x_label_rotation": 30 if len(labels) > 6 else 0,
        "style": STYLE,
        "js": [],
        "disable_xml_declaration": True,
        "print_values": False,
        "show_y_guides": True,
        "legend_at_bottom": True,
        "width": 800,
        "height": 400,
    }


def _render(
    chart: pygal.graph.graph.Graph, title: str, series: Mapping[str, Sequence[int | float]]
) -> str:
    for name, values in series.items():
        chart.add(name, list(values))
    svg = chart.render(is_unicode=True)
    chart_id = "chart-" + (re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "report")
    svg = _SCRIPT.sub("", svg)
    svg = _COMMENT.sub("", svg)
    return _CHART_ID.sub(chart_id, svg)
