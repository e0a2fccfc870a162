"""Turn library results into what people read: Rich tables, JSON and CSV. No computation happens here."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.table import Table

from deskpulse.metrics.catalog import DURATION, METRICS

if TYPE_CHECKING:
    from deskpulse.metrics.engine import KpiResult
    from deskpulse.metrics.progress import AgentProgress
    from deskpulse.metrics.scorecard import Scorecard


def human_duration(seconds: float | None) -> str:
    """3725 → '1h 02m'; 90061 → '1d 1h'; None → '–'."""
    if seconds is None:
        return "–"
    seconds = float(seconds)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds:.0f}s"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{sign}{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{sign}{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{sign}{days}d {hours}h"


def kpi_table(result: KpiResult, title: str = "deskpulse KPIs") -> Table:
    """Counts take one column; a duration takes four: median, p90, n and open (still waiting)."""
    table = Table(title=f"{title} ({result.timezone})", header_style="bold")
    for column in result.group_by:
        table.add_column(column, no_wrap=True)
    for metric_id in result.metrics:
        metric = METRICS[metric_id]
        if metric.kind == DURATION:
            table.add_column(f"{metric.header}\nmedian", justify="right", min_width=7)
            table.add_column("p90", justify="right", min_width=7)
            table.add_column("n", justify="right")
            table.add_column("open", justify="right")
        else:
            table.add_column(metric.header, justify="right")
    for row in result.rows:
        cells = ["(none)" if row.get(c) is None else str(row[c]) for c in result.group_by]
        for metric_id in result.metrics:
            value = row[metric_id]
            if METRICS[metric_id].kind == DURATION:
                cells += [
                    human_duration(value["median"]),
                    human_duration(value["p90"]),
                    str(value["n"]),
                    str(value["open"]),
                ]
            else:
                show = human_duration if METRICS[metric_id].unit == "seconds" else _number
                cells.append(show(value["value"]) + (" (inconclusive)" if value.get("inconclusive") else ""))
        table.add_row(*cells)
    if result.left_out:
        reasons = ", ".join(
            f"{count:,} {reason.replace('_', ' ')}" for reason, count in sorted(result.left_out.items())
        )
        table.caption = f"Left out of every metric: {reasons}"
    return table


def scorecard_table(scorecard: Scorecard) -> Table:
    title = f"Scorecard, {scorecard.period_kind} {scorecard.period or '–'} ({scorecard.timezone})"
    table = Table(title=title, header_style="bold")
    for column in ("KPI", "value", "n", "target", "status", f"Δ vs {scorecard.previous_period or '–'}"):
        table.add_column(column, justify="left" if column in ("KPI", "status") else "right")
    for line in scorecard.lines:
        metric = METRICS[line.metric]
        show = human_duration if metric.unit == "seconds" else _number
        delta = "–" if line.delta is None else ("+" if line.delta > 0 else "") + show(line.delta)
        table.add_row(
            metric.label,
            show(line.value),
            str(line.n),
            "–" if line.target is None else show(line.target.target),
            "[yellow]inconclusive[/]" if line.detail.get("inconclusive") else _STATUS_STYLE.get(line.status or "", "–"),
            delta,
        )
    return table


_STATUS_STYLE = {
    "on target": "[green]on target[/]",
    "at risk": "[yellow]at risk[/]",
    "off target": "[red]off target[/]",
}


def progress_table(progress: AgentProgress) -> Table:
    title = f"{progress.agent}, {progress.period}"
    table = Table(title=title, header_style="bold")
    for column in ("KPI", "value", "n", progress.previous_period or "before", "change", "team median", "vs team"):
        table.add_column(column, justify="left" if column == "KPI" else "right")
    for line in progress.lines:
        metric = METRICS[line.metric]
        show = human_duration if metric.unit == "seconds" else _number
        change = "–" if line.change is None else ("+" if line.change > 0 else "") + show(line.change)
        versus = {True: "[green]better[/]", False: "[yellow]behind[/]"}.get(line.better_than_team, "–")  # type: ignore[arg-type]
        table.add_row(
            metric.label, show(line.value), str(line.n), show(line.previous), change, show(line.team_median), versus
        )
    return table


def _number(value: float | None) -> str:
    if value is None:
        return "–"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.3f}" if abs(value) < 1 else f"{value:,.1f}"


def kpi_json(result: KpiResult) -> str:
    return json.dumps(result.as_json(), indent=2, default=_json_default)


def kpi_csv(result: KpiResult) -> str:
    """One line per row; each metric field becomes a column named ``metric.field``."""
    header = list(result.group_by)
    records = []
    for row in result.rows:
        record = {c: row.get(c) for c in result.group_by}
        for metric_id in result.metrics:
            record.update(_flattened(metric_id, row[metric_id]))
        records.append(record)
    for metric_id in result.metrics:
        # Every row of a metric has the same fields (an empty result lists them too), so the first row's will do.
        fields = list(_flattened(metric_id, result.rows[0][metric_id])) if result.rows else [f"{metric_id}.value"]
        header += fields
    return records_csv(header, records)


def _flattened(prefix: str, value: dict[str, Any]) -> dict[str, Any]:
    """{"value": 1, "by_target": {"first_reply": {"value": 1}}} → {"p.value": 1, "p.by_target.first_reply.value": 1}."""
    flat: dict[str, Any] = {}
    for name, item in value.items():
        if isinstance(item, dict):
            flat.update(_flattened(f"{prefix}.{name}", item))
        else:
            flat[f"{prefix}.{name}"] = item
    return flat


def records_csv(header: Sequence[str], records: Iterable[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(header), extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _csv_value(v) for k, v in record.items()})
    return buffer.getvalue()


def records_json(records: Iterable[dict[str, Any]]) -> str:
    return json.dumps(list(records), indent=2, default=_json_default)


def records_table(header: Sequence[str], records: Iterable[dict[str, Any]], title: str) -> Table:
    table = Table(title=title, header_style="bold")
    for column in header:
        name = METRICS[column].header if column in METRICS else column.replace("_", " ")
        if column == "subject":
            table.add_column(name, overflow="ellipsis", no_wrap=True, max_width=32)
        else:
            table.add_column(name, no_wrap=True)
    for record in records:
        table.add_row(*(_cell(column, record.get(column)) for column in header))
    return table


def _cell(column: str, value: Any) -> str:
    if value is None:
        return "–"
    if (column in METRICS and METRICS[column].kind == DURATION) or column.endswith("_age"):
        return human_duration(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")  # UTC, as stored
    return str(value)


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
