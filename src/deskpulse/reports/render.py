"""A report as Markdown, as a standalone HTML document (inline CSS, charts as inline SVG, no external URL), as an
HTML fragment for the web app's own page, and as PDF (WeasyPrint from that same HTML: no browser).

Customer text is hostile input: the HTML is made by Jinja2 with autoescaping, so every value is escaped unless it
is one of the SVG charts `deskpulse.charts` drew (vl-convert escapes the text it draws). Markdown escapes the
characters that would make a quote a link, an image or HTML when the file is rendered.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from deskpulse.reports.initiatives import Initiative

if TYPE_CHECKING:
    from jinja2 import Environment

    from deskpulse.metrics.scorecard import Scorecard
    from deskpulse.reports.department import DepartmentSection, PainPoint, Report


@dataclass(frozen=True)
class Link:
    """A cell that links to the tickets behind its number (the web app's page of the report)."""

    text: str
    href: str


# A table cell: text, (value, how it was worked out) for a score shown with its arithmetic, or a link.
Cell = str | tuple[str, str] | Link
# The address of the tickets behind a pain point: (department, pain point) → URL.
TicketLinks = Callable[[str, str], str]
FORMULA = "score = basis × (1 + growth) × (1 + dissatisfaction)"
FORMULA_TERMS = (
    "basis: tickets × cost per ticket (the tickets themselves without cost data); growth: the rise over the period "
    "before, 0 … 1 (new: 1); dissatisfaction: the share of negative customer messages"
)


def render_markdown(report: Report) -> str:
    """The report as Markdown (readable as plain text)."""
    lines = [f"# {_md(report.title)}", "", _summary(report), ""]
    lines += [f"> **Note:** {note}" for note in _notes(report)]
    if report.scorecard is not None:
        lines += ["", "## Scorecard", "", *_md_table(*_scorecard_rows(report.scorecard))]
        lines += [f"- **Warning:** {_md(w)}" for w in _scorecard_warnings(report.scorecard)]
    for section in report.sections:
        lines += ["", f"## {_md(section.department.title)}", "", _section_summary(section, report), ""]
        lines += [f"Routing: {_md(section.department.describe())}", ""]
        if not section.pain_points:
            lines += ["No ticket of the period reached this department.", ""]
            continue
        lines += ["### Top pain points", "", *_md_table(*_pain_point_rows(section, report))]
        if section.other_pain_points:
            lines += ["", f"{section.other_pain_points} more pain points are not shown."]
        lines += ["", "### Initiatives", "", f"`{FORMULA}` — {_md(FORMULA_TERMS)}.", ""]
        lines += _md_table(*_initiative_rows(section.initiatives, report))
        lines += ["", "### What customers say"]
        for point in section.pain_points:
            if not point.quotes:
                continue
            lines += ["", f"#### {_md(point.name)}", ""]
            for quote in point.quotes:
                lines += [
                    f"> {_md_line(quote.text)}",
                    ">",
                    f"> — {_md(_quote_source(quote.kind, quote.score, quote.ticket_id))}",
                    "",
                ]
    return "\n".join(lines).rstrip() + "\n"


def render_html(report: Report) -> str:
    """The report as one standalone HTML document: inline CSS and SVG, nothing fetched from anywhere."""
    from markupsafe import Markup

    # The style and the body are ours (the body escaped already); the title is escaped here.
    template = _environment().get_template("document")
    return template.render(title=report.title, css=Markup(CSS), body=Markup(report_body_html(report)))


def report_body_html(report: Report, ticket_links: TicketLinks | None = None) -> str:
    """The report's content as an HTML fragment (no <html>, <head> or <body>), for the web app's own layout; its
    style is `CSS`, scoped under `.deskpulse-report`. With ``ticket_links`` each pain point's ticket count links to
    the tickets behind it."""
    return _environment().get_template("body").render(view=_view(report, ticket_links))


def render_pdf(report: Report) -> bytes:
    """The report as PDF: WeasyPrint lays out `render_html`, the charts as vectors. Nothing is fetched."""
    from weasyprint import HTML

    return bytes(HTML(string=render_html(report), url_fetcher=_refuse_fetch).write_pdf())


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    # The report holds no URL of its own; whatever asks for one (a customer's text cannot: it is escaped) gets none.
    raise ValueError(f"deskpulse reports fetch nothing ({url})")


# --- what both formats say -----------------------------------------------------------------------------------


def _summary(report: Report) -> str:
    period = report.period
    routed = report.tickets - report.unrouted_tickets
    if report.scope == "all":
        reached = f"{routed:,} reached a department and {report.unrouted_tickets:,} none"
    else:
        reached = f"{routed:,} of them reached {report.sections[0].department.title}"
    return (
        f"Period {period.current.describe()}, {report.timezone}, compared with {period.previous.label}. "
        f"{report.tickets:,} tickets were created in the period; {reached}. "
        + (
            f"Cost per ticket: {_money(report.cost_per_ticket, report.currency)} (KPI cost_per_ticket)."
            if report.cost_per_ticket is not None
            else "Cost: n/a."
        )
    )


def _notes(report: Report) -> list[str]:
    return [note for note in (report.cost_note, report.sentiment_note) if note]


def _section_summary(section: DepartmentSection, report: Report) -> str:
    return (
        f"{section.tickets:,} tickets in {report.period.label} "
        f"({section.previous_tickets:,} in {report.period.previous.label}, "
        f"{_change(section.tickets, section.previous_tickets)})."
    )


def _scorecard_rows(card: Scorecard) -> tuple[list[str], list[list[Cell]]]:
    from deskpulse.metrics.catalog import METRICS

    header = ["KPI", "value", "n", "target", "status", f"Δ vs {card.previous_period or '–'}"]
    rows: list[list[Cell]] = []
    for line in card.lines:
        status = "inconclusive" if line.detail.get("inconclusive") else (line.status or "–")
        rows.append(
            [
                METRICS[line.metric].label,
                _metric_value(line.metric, line.value),
                f"{line.n:,}",
                "–" if line.target is None else _metric_value(line.metric, line.target.target),
                status,
                _metric_delta(line.metric, line.delta),
            ]
        )
    return header, rows


def _scorecard_warnings(card: Scorecard) -> list[str]:
    return [*card.warnings, *(g.message for g in card.guardrails)]


def _pain_point_rows(
    section: DepartmentSection, report: Report, links: TicketLinks | None = None
) -> tuple[list[str], list[list[Cell]]]:
    header = [
        "pain point", "from", "tickets", report.period.previous.label, "change", "spike", f"cost ({report.currency})",
        "negative", "mean sentiment (n)",
    ]  # fmt: skip
    rows: list[list[Cell]] = []
    for point in section.pain_points:
        rows.append(
            [
                point.name,
                point.kind,
                Link(f"{point.tickets:,}", links(section.department.name, point.name))
                if links
                else f"{point.tickets:,}",
                f"{point.previous_tickets:,}",
                _change(point.tickets, point.previous_tickets),
                "; ".join(s.describe() for s in point.spikes) or "–",
                "n/a" if point.cost is None else f"{point.cost:,.2f}",
                _negative(point),
                "n/a" if point.mean_score is None else f"{point.mean_score:+.2f} ({point.scored_messages:,})",
            ]
        )
    return header, rows


def _initiative_rows(initiatives: list[Initiative], report: Report) -> tuple[list[str], list[list[Cell]]]:
    with_cost = report.cost_per_ticket is not None
    basis = f"basis: cost ({report.currency})" if with_cost else "basis: tickets (no cost data)"
    header = ["#", "initiative", "tickets (before)", basis, "growth", "dissatisfaction", "score"]
    rows: list[list[Cell]] = []
    for item in initiatives:
        rows.append(
            [
                str(item.rank),
                item.title,
                f"{item.tickets:,} ({item.previous_tickets:,})",
                f"{item.basis:,.2f}" if with_cost else f"{item.basis:,.0f}",
                f"{item.growth:.2f}",
                f"{item.dissatisfaction:.2f}",
                (f"{item.score:,.1f}", _score_arithmetic(item, with_cost)),
            ]
        )
    return header, rows


def _score_arithmetic(item: Initiative, with_cost: bool) -> str:
    basis = f"{item.basis:,.2f}" if with_cost else f"{item.basis:,.0f}"
    return f"{basis} × {1 + item.growth:.2f} × {1 + item.dissatisfaction:.2f}"


def _quote_source(kind: str, score: float | None, ticket_id: str) -> str:
    mood = "not scored" if score is None else f"sentiment {score:+.2f}"
    return f"{kind}, {mood}, ticket {ticket_id}"


def _negative(point: PainPoint) -> str:
    share = point.negative_share
    return "n/a" if share is None else f"{share:.0%} of {point.scored_messages:,}"


def _change(now: int, before: int) -> str:
    if before == 0:
        return "new" if now else "–"
    return f"{(now - before) / before:+.0%}"


def _money(value: float | None, currency: str) -> str:
    return "n/a" if value is None else f"{value:,.2f} {currency}"


def _metric_delta(metric_id: str, delta: float | None) -> str:
    """A scorecard change: a rate's in percentage points, anything else in its own unit."""
    from deskpulse.metrics.catalog import METRICS
    from deskpulse.metrics.metric import RATE

    if delta is None:
        return "–"
    sign = "+" if delta > 0 else ""
    if METRICS[metric_id].kind == RATE:
        return f"{sign}{delta * 100:.1f} pp"
    return sign + _metric_value(metric_id, delta)


def _metric_value(metric_id: str, value: float | None) -> str:
    from deskpulse.metrics.catalog import METRICS
    from deskpulse.metrics.metric import RATE
    from deskpulse.render import human_duration

    if value is None:
        return "–"
    metric = METRICS[metric_id]
    if metric.unit == "seconds":
        return human_duration(value)
    if metric.kind == RATE:
        return f"{value:.1%}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


# --- Markdown ------------------------------------------------------------------------------------------------

# What turns text into HTML, a link or an image, or breaks a table; emphasis is harmless and stays readable.
_MD_SPECIAL = re.compile(r"([\\\[\]<>|])")


def _md(text: str) -> str:
    """Data (customer text, category and tag names) as Markdown text: never a link, an image or HTML."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def _md_line(text: str) -> str:
    """Data that starts a line: not a heading or a list item either."""
    escaped = _md(text)
    return "\\" + escaped if escaped.startswith(("#", "-", "+", "*", "=", ">")) else escaped


def _md_table(header: list[str], rows: list[list[Cell]]) -> list[str]:
    def text(cell: Cell) -> str:
        if isinstance(cell, Link):
            return cell.text
        return cell if isinstance(cell, str) else f"{cell[1]} = {cell[0]}"

    lines = ["| " + " | ".join(_md(h) for h in header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(_md(text(cell)).replace("\n", " ") for cell in row) + " |" for row in rows]
    return lines


# --- HTML ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    header: list[str]
    rows: list[list[Cell]]


def _view(report: Report, links: TicketLinks | None = None) -> dict[str, Any]:
    """Everything the HTML template shows, as strings (formatted here, escaped by the template)."""
    from markupsafe import Markup

    sections = []
    for section in report.sections:
        sections.append(
            {
                "id": section.department.name,
                "title": section.department.title,
                "summary": _section_summary(section, report),
                "rules": section.department.describe(),
                "chart": Markup(_pain_point_chart(section, report)) if section.pain_points else None,
                "pain_points": _Table(*_pain_point_rows(section, report, links)),
                "other_pain_points": section.other_pain_points,
                "initiatives": _Table(*_initiative_rows(section.initiatives, report)),
                "quotes": [
                    {
                        "pain_point": point.name,
                        "quotes": [
                            {"text": q.text, "source": _quote_source(q.kind, q.score, q.ticket_id), "kind": q.kind}
                            for q in point.quotes
                        ],
                    }
                    for point in section.pain_points
                    if point.quotes
                ],
            }
        )
    scorecard = None
    if report.scorecard is not None:
        scorecard = {
            "table": _Table(*_scorecard_rows(report.scorecard)),
            "warnings": _scorecard_warnings(report.scorecard),
        }
    return {
        "title": report.title,
        "summary": _summary(report),
        "notes": _notes(report),
        "scorecard": scorecard,
        "departments_chart": Markup(_departments_chart(report)) if report.scope == "all" and report.sections else None,
        "formula": FORMULA,
        "formula_terms": FORMULA_TERMS,
        "sections": sections,
    }


def _pain_point_chart(section: DepartmentSection, report: Report) -> str:
    from deskpulse.charts import bar_chart

    records = [{"pain point": p.name, "tickets": p.tickets, "spike": bool(p.spikes)} for p in section.pain_points]
    title = f"Tickets per pain point, {report.period.label} (red: a spike in the period)"
    return inline_svg(bar_chart(records, category="pain point", value="tickets", title=title, marked="spike"))


def _departments_chart(report: Report) -> str:
    from deskpulse.charts import bar_chart

    records = [{"department": s.department.title, "tickets": s.tickets} for s in report.sections]
    title = f"Tickets per department, {report.period.label}"
    return inline_svg(bar_chart(records, category="department", value="tickets", title=title))


def inline_svg(spec: dict[str, Any]) -> str:
    """A chart as an <svg> element to place in HTML. The namespace declarations are dropped (HTML puts <svg> in
    its namespace by itself), so the document holds no URL at all, not even a namespace name."""
    from deskpulse.charts import svg

    drawn = svg(spec)
    drawn = re.sub(r"<\?xml[^>]*\?>\s*", "", drawn)
    return re.sub(r'\s+xmlns(?::xlink)?="[^"]*"', "", drawn, count=2)


CSS = """
@page { size: A4; margin: 16mm 14mm; }
.deskpulse-report { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 10pt; color: #1d2733;
  line-height: 1.4; max-width: 60rem; }
.deskpulse-report h1 { font-size: 18pt; margin: 0 0 .4em; }
.deskpulse-report h2 { font-size: 14pt; margin: 1.6em 0 .4em; border-bottom: 2px solid #2f6f9f; padding-bottom: .15em;
  break-after: avoid; }
.deskpulse-report h3 { font-size: 11.5pt; margin: 1.2em 0 .3em; break-after: avoid; }
.deskpulse-report h4 { font-size: 10.5pt; margin: .9em 0 .2em; break-after: avoid; }
.deskpulse-report .meta, .deskpulse-report .rules { color: #4a5a6a; }
.deskpulse-report .note { background: #fff6db; border-left: 4px solid #d9a400; padding: .3em .6em; margin: .4em 0; }
.deskpulse-report .warning { background: #fdecea; border-left: 4px solid #c0392b; padding: .3em .6em; margin: .3em 0; }
.deskpulse-report table { border-collapse: collapse; width: 100%; margin: .4em 0; font-size: 9pt; }
.deskpulse-report th, .deskpulse-report td { border-bottom: 1px solid #d5dde5; padding: .25em .4em; text-align: left;
  vertical-align: top; }
.deskpulse-report th { background: #eef3f7; }
.deskpulse-report th.number { text-align: right; }
.deskpulse-report td.number { text-align: right; white-space: nowrap; }
.deskpulse-report td .detail { color: #4a5a6a; font-size: 8pt; }
.deskpulse-report .chart svg { max-width: 100%; height: auto; }
.deskpulse-report table.initiatives td:nth-child(2) { min-width: 12em; }
.deskpulse-report .formula { font-family: "DejaVu Sans Mono", monospace; font-size: 9pt; }
.deskpulse-report blockquote { margin: .3em 0 .6em; padding: .3em .8em; border-left: 4px solid #9fb7cc;
  background: #f5f8fa; break-inside: avoid; overflow-wrap: anywhere; }
.deskpulse-report blockquote.most-negative { border-left-color: #c0392b; }
.deskpulse-report blockquote footer { color: #4a5a6a; font-size: 8.5pt; margin-top: .2em; }
"""

_DOCUMENT = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>{{ css }}</style>
</head>
<body>
{{ body }}
</body>
</html>
"""

_BODY = """<div class="deskpulse-report">
<h1>{{ view.title }}</h1>
<p class="meta">{{ view.summary }}</p>
{% for note in view.notes %}<p class="note">{{ note }}</p>
{% endfor %}
{% macro table(t, numbers, name) %}<table class="{{ name }}">
<thead><tr>{% for h in t.header %}
<th{% if loop.index0 in numbers %} class="number"{% endif %}>{{ h }}</th>{% endfor %}
</tr></thead>
<tbody>
{% for row in t.rows %}<tr>{% for cell in row %}
<td{% if loop.index0 in numbers %} class="number"{% endif %}>{% if cell is string %}{{ cell }}
{% elif cell is not sequence %}<a href="{{ cell.href }}">{{ cell.text }}</a>{% else %}
<strong>{{ cell[0] }}</strong><br><span class="detail">= {{ cell[1] }}</span>{% endif %}</td>{% endfor %}
</tr>
{% endfor %}</tbody>
</table>{% endmacro %}
{% if view.scorecard %}<section class="scorecard">
<h2>Scorecard</h2>
{{ table(view.scorecard.table, [1, 2, 3, 5], "scorecard") }}
{% for warning in view.scorecard.warnings %}<p class="warning">{{ warning }}</p>
{% endfor %}</section>
{% endif %}
{% if view.departments_chart %}<div class="chart">{{ view.departments_chart }}</div>
{% endif %}
{% for s in view.sections %}<section class="department" id="department-{{ s.id }}">
<h2>{{ s.title }}</h2>
<p class="meta">{{ s.summary }}</p>
<p class="rules">Routing: {{ s.rules }}</p>
{% if not s.pain_points.rows %}<p>No ticket of the period reached this department.</p>
{% else %}
<h3>Top pain points</h3>
{% if s.chart %}<div class="chart">{{ s.chart }}</div>{% endif %}
{{ table(s.pain_points, [2, 3, 4, 6, 7, 8], "pain-points") }}
{% if s.other_pain_points %}<p class="meta">{{ s.other_pain_points }} more pain points are not shown.</p>{% endif %}
<h3>Initiatives</h3>
<p class="formula">{{ view.formula }}</p>
<p class="meta">{{ view.formula_terms }}.</p>
{{ table(s.initiatives, [0, 2, 3, 4, 5, 6], "initiatives") }}
<h3>What customers say</h3>
{% for group in s.quotes %}<h4>{{ group.pain_point }}</h4>
{% for q in group.quotes %}<blockquote class="{{ q.kind | replace(' ', '-') }}">
<p>{{ q.text }}</p>
<footer>{{ q.source }}</footer>
</blockquote>
{% endfor %}{% endfor %}
{% endif %}</section>
{% endfor %}</div>
"""


@cache
def _environment() -> Environment:
    from jinja2 import DictLoader, Environment, StrictUndefined, select_autoescape

    return Environment(
        loader=DictLoader({"document": _DOCUMENT, "body": _BODY}),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=False,
    )
