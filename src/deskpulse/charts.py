"""Charts: one Vega-Lite definition, drawn by the browser on the web pages and as SVG in the reports.

A chart is a plain Vega-Lite spec (a dict) with its data inline. The web app embeds the spec and draws it with
the Vega script it serves itself (`vega_script`: no CDN); a report turns the same spec into SVG with
vl-convert, which needs no browser. Builders here take records (lists of dicts) and say what each axis shows.
"""

from __future__ import annotations

from functools import cache
from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"
WIDTH, HEIGHT = 560, 220
# Colour for "the series" and for marking something (a spike, a breach); both readable in greyscale print.
COLOUR, MARK = "#2f6f9f", "#c0392b"


def _base(title: str, records: list[dict[str, Any]], width: int, height: int) -> dict[str, Any]:
    return {
        "$schema": SCHEMA,
        "title": title,
        "width": width,
        "height": height,
        "data": {"values": records},
        "config": {"font": "DejaVu Sans, Helvetica, Arial, sans-serif", "view": {"stroke": None}},
    }


def line_chart(
    records: list[dict[str, Any]],
    *,
    x: str,
    y: str,
    title: str,
    y_title: str | None = None,
    x_title: str | None = None,
    marked: str | None = None,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> dict[str, Any]:
    """A line over ordinal ``x`` (period labels) of the number ``y``; where the boolean field ``marked`` is true
    the point is drawn larger and red (a spike, a missed target)."""
    spec = _base(title, records, width, height)
    encoding = {
        "x": {"field": x, "type": "ordinal", "title": x_title or x, "sort": None},
        "y": {"field": y, "type": "quantitative", "title": y_title or y},
        "tooltip": [{"field": x, "type": "ordinal"}, {"field": y, "type": "quantitative", "format": ",.2f"}],
    }
    layers: list[dict[str, Any]] = [
        {"mark": {"type": "line", "color": COLOUR, "point": True}, "encoding": encoding},
    ]
    if marked is not None:
        layers.append(
            {
                "transform": [{"filter": f"datum['{marked}'] === true"}],
                "mark": {"type": "point", "color": MARK, "size": 120, "filled": True},
                "encoding": {key: encoding[key] for key in ("x", "y", "tooltip")},
            }
        )
    spec["layer"] = layers
    return spec


def bar_chart(
    records: list[dict[str, Any]],
    *,
    category: str,
    value: str,
    title: str,
    value_title: str | None = None,
    marked: str | None = None,
    width: int = WIDTH,
    height: int | None = None,
) -> dict[str, Any]:
    """Horizontal bars, one per ``category`` in the records' order, of the number ``value``; bars whose boolean
    field ``marked`` is true are red."""
    spec = _base(title, records, width, height or max(60, 22 * len(records)))
    colour: dict[str, Any] = {"value": COLOUR}
    if marked is not None:
        colour = {"condition": {"test": f"datum['{marked}'] === true", "value": MARK}, "value": COLOUR}
    spec["mark"] = {"type": "bar"}
    spec["encoding"] = {
        "y": {"field": category, "type": "nominal", "sort": None, "title": None},
        "x": {"field": value, "type": "quantitative", "title": value_title or value},
        "color": colour,
        "tooltip": [{"field": category, "type": "nominal"}, {"field": value, "type": "quantitative"}],
    }
    return spec


def svg(spec: dict[str, Any]) -> str:
    """The chart as an SVG document, drawn without a browser (for PDF and HTML reports)."""
    import vl_convert

    return str(vl_convert.vegalite_to_svg(spec))


@cache
def vega_script() -> str:
    """The JavaScript that draws the charts in the browser (Vega, Vega-Lite and vega-embed in one bundle, as
    `vegaEmbed`), served by the app itself so that the pages work offline."""
    import vl_convert

    return str(vl_convert.javascript_bundle("window.vegaEmbed = vegaEmbed;"))
