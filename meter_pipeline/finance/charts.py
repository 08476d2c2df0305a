"""Charts for the usage report: SVG drawn server-side by pygal, inlined in the page.

The SVG needs no script and no network: pygal's tooltip script (fetched from the web) is left
out, and the generator comment (which carries the date) and the random chart id are replaced,
so the same tables give the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import pygal
from pygal.style import Style

STYLE = Style(
    background="white",
    plot_background="white",
    font_family="system-ui, sans-serif",
    colors=("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#7f7f7f"),
)


def _svg(chart: pygal.graph.graph.Graph, chart_id: str) -> str:
    svg = chart.render(is_unicode=True, disable_xml_declaration=True)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)  # the generator comment holds the date
    svg = re.sub(r"<script\b.*?(</script>|/>)", "", svg, flags=re.S)  # tooltip config only
    found = re.search(r'id="chart-([0-9a-f-]+)"', svg)
    if found:  # pygal's random uuid, also in its CSS selectors
        svg = svg.replace(found.group(1), chart_id)
    return svg


def _config(title: str, labels: Sequence[str], **kwargs) -> dict:
    return dict(
        title=title,
        style=STYLE,
        js=[],  # no tooltip script: nothing to fetch, the SVG renders as it is
        width=900,
        height=360,
        x_label_rotation=45 if len(labels) > 8 else 0,
        legend_at_bottom=True,
        truncate_legend=30,
        **kwargs,
    )


def stacked_bars(
    chart_id: str, title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]]
) -> str:
    """A stacked bar chart: one bar per label, one colour per series (display values only)."""
    chart = pygal.StackedBar(**_config(title, labels))
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _svg(chart, chart_id)


def bars(
    chart_id: str, title: str, labels: Sequence[str], series: Mapping[str, Sequence[float]]
) -> str:
    """Grouped bars: one group per label, one bar per series."""
    chart = pygal.Bar(**_config(title, labels))
    chart.x_labels = list(labels)
    for name, values in series.items():
        chart.add(name, list(values))
    return _svg(chart, chart_id)
