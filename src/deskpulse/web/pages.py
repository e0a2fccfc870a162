"""The pages' content: each function turns the library's results for some filters into a `Page`.

The functions take the viewer, so that an agent's pages leave out other agents' individual figures here, where
the numbers are chosen, and not only in the templates.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import ibis

from deskpulse import charts, render
from deskpulse.errors import UserError
from deskpulse.insight.taxonomy import SEPARATOR
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.store import Store
from deskpulse.web.accounts import Viewer
from deskpulse.web.data import Dashboard, Filters
from deskpulse.web.views import Cell, Page, TableData, confidence, is_duration, metric_label, show, show_delta

TEAM = "(another agent)"  # what an agent sees in place of a colleague's address


def shown_agent(viewer: Viewer, agent: str | None) -> str | None:
    """An agent's address as ``viewer`` may see it: a colleague's is `TEAM` for an agent."""
    return agent if agent is None or viewer.may_see_agent(agent) else TEAM


class Forbidden(UserError):
    """The viewer may not see this."""


def allowed_filters(viewer: Viewer, filters: Filters) -> Filters:
    """The filters, checked: an agent may narrow to their own figures, never to another agent's."""
    if not viewer.sees_everyone and any(agent != viewer.agent for agent in filters.agent):
        raise Forbidden("agents see the team's figures and their own, not another agent's")
    return filters


def _link(path: str, pairs: list[tuple[str, str]]) -> str:
    return f"{path}?{urlencode(pairs)}" if pairs else path


def drill_link(filters: Filters, metric: str, period: str | None, group: dict[str, Any] | None = None) -> str:
    pairs = [("metric", metric), *filters.pairs()]
    if period is not None:
        pairs.append(("at", period))
    pairs += [(f"by_{dim}", str(value)) for dim, value in (group or {}).items() if value is not None]
    return _link("/drill", pairs)


def query_key(query: KpiQuery) -> tuple[Any, ...]:
    """A KPI query as a key of the dashboard's memory."""
    return (
        query.period,
        tuple(query.metrics),
        tuple(query.by),
        query.since,
        query.until,
        tuple(sorted(query.filters.items())),
    )


def kpis(dashboard: Dashboard, query: KpiQuery) -> Any:
    return dashboard.cached(("kpis", *query_key(query)), lambda store: compute_kpis(store, dashboard.config, query))


def kpi_query(filters: Filters, metrics: list[str], by: list[str] | None = None, period: str | None = None) -> KpiQuery:
    return KpiQuery(
        metrics=metrics,
        period=period or filters.period,
        by=by or [],
        since=filters.since,
        until=filters.until,
        filters=filters.kpi_filters(),
    )


def scorecard_of(dashboard: Dashboard, viewer: Viewer, filters: Filters, at: str | None) -> Any:
    """The scorecard for the filters, with the guardrails the viewer may see (an agent: not a colleague's)."""
    from deskpulse.metrics.scorecard import build_scorecard

    filters = allowed_filters(viewer, filters)

    def compute(store: Store) -> Any:
        return build_scorecard(
            store,
            dashboard.config,
            at=at,
            period=filters.period,
            since=filters.since,
            until=filters.until,
            filters=filters.kpi_filters(),
        )

    card = dashboard.cached(("scorecard", at, filters), compute)
    if viewer.sees_everyone:
        return card
    # A guardrail's subject is a team or an agent (an address): a colleague's is left out.
    shown = [g for g in card.guardrails if not (g.subject and "@" in g.subject and not viewer.may_see_agent(g.subject))]
    return replace(card, guardrails=shown)


def scorecard_page(dashboard: Dashboard, viewer: Viewer, filters: Filters, at: str | None) -> Page:
    card = scorecard_of(dashboard, viewer, filters, at)
    page = Page("Scorecard")
    page.warnings += card.warnings
    if card.period is None:
        page.notes.append("No tickets match these filters.")
        return page
    page.notes.append(
        f"{filters.period.capitalize()} {card.period}"
        + (f", compared with {card.previous_period}" if card.previous_period else " (no earlier period to compare)")
        + f"; times in {card.timezone}."
    )
    table = TableData(
        "scorecard", "Headline KPIs", ["kpi", "value", "target", "status", "previous", "change", "n", "confidence"]
    )
    for line in card.lines:
        target = None if line.target is None else line.target.target
        table.rows.append(
            [
                Cell(line.metric, metric_label(line.metric)),
                Cell(
                    line.value,
                    show(line.metric, line.value),
                    drill_link(filters, line.metric, card.period),
                    metric=line.metric,
                ),
                Cell(target, show(line.metric, target)),
                Cell(line.status, line.status or "–", css=(line.status or "").replace(" ", "-") or None),
                Cell(line.previous, show(line.metric, line.previous)),
                Cell(line.delta, show_delta(line.metric, line.delta)),
                Cell(line.n, f"{line.n:,}"),
                Cell(confidence(line.metric, line.detail), confidence(line.metric, line.detail)),
            ]
        )
    page.tables.append(table)
    if card.guardrails:
        guard = TableData("guardrails", "Guardrails (whole team)", ["guardrail", "subject", "finding"])
        for g in card.guardrails:
            data = g.as_json()
            guard.rows.append(
                [
                    Cell(data.get("kind"), str(data.get("kind", ""))),
                    Cell(data.get("subject"), str(data.get("subject") or "team")),
                    Cell(data.get("message"), str(data.get("message", ""))),
                ]
            )
        page.tables.append(guard)
    # Volume over the periods up to this one: the context for the headline numbers.
    volume = kpis(dashboard, kpi_query(filters, ["tickets_created"]))
    records = [
        {
            "period": row["period"],
            "tickets": row["tickets_created"]["value"] or 0,
            "current": row["period"] == card.period,
        }
        for row in volume.rows
        if row.get("period")
    ]
    page.charts.append(
        charts.line_chart(
            records, x="period", y="tickets", title="Tickets created", marked="current", x_title=filters.period
        )
    )
    return page


def trends_page(dashboard: Dashboard, viewer: Viewer, filters: Filters, metric: str) -> Page:
    filters = allowed_filters(viewer, filters)
    if metric not in METRICS:
        raise UserError(f"unknown metric {metric!r}")
    result = kpis(dashboard, kpi_query(filters, [metric]))
    page = Page(f"Trend: {metric_label(metric)}")
    page.notes.append(METRICS[metric].definition)
    table = TableData("trend", metric_label(metric), ["period", "value", "n", "confidence"])
    records = []
    for row in result.rows:
        value = row[metric]
        table.rows.append(
            [
                Cell(row["period"], str(row["period"])),
                Cell(
                    value["value"],
                    show(metric, value["value"]),
                    drill_link(filters, metric, row["period"]),
                    metric=metric,
                ),
                Cell(value["n"], f"{value['n']:,}"),
                Cell(confidence(metric, value), confidence(metric, value)),
            ]
        )
        if value["value"] is not None:
            shown = value["value"] / 3600 if is_duration(metric) else value["value"]
            records.append({"period": row["period"], "value": shown})
    unit = "hours" if is_duration(metric) else METRICS[metric].unit
    page.charts.append(
        charts.line_chart(
            records, x="period", y="value", title=metric_label(metric), y_title=unit, x_title=filters.period
        )
    )
    page.tables.append(table)
    return page


def agents_page(dashboard: Dashboard, viewer: Viewer, filters: Filters) -> Page:
    """Every agent's headline KPIs in the latest period (managers and admins)."""
    if not viewer.sees_everyone:
        raise Forbidden("agents see their own page only")
    metrics = list(dashboard.config.scorecard.metrics)
    result = kpis(dashboard, kpi_query(filters, metrics, by=["agent"]))
    periods = sorted({row["period"] for row in result.rows if row.get("period")})
    page = Page("Agents")
    if not periods:
        page.notes.append("No agent activity matches these filters.")
        return page
    latest = periods[-1]
    page.notes.append(f"{filters.period.capitalize()} {latest}. Open an agent for their progress.")
    table = TableData("agents", f"Agents, {latest}", ["agent", *metrics])
    for row in result.rows:
        if row.get("period") != latest or row.get("agent") is None:
            continue
        agent = row["agent"]
        cells = [Cell(agent, agent, _link(f"/agents/{agent}", filters.pairs()))]
        for m in metrics:
            cells.append(
                Cell(
                    row[m]["value"],
                    show(m, row[m]["value"]),
                    drill_link(filters, m, latest, {"agent": agent}),
                    metric=m,
                )
            )
        table.rows.append(cells)
    page.tables.append(table)
    return page


def agent_page(dashboard: Dashboard, viewer: Viewer, filters: Filters, agent: str) -> Page:
    """One agent in their latest period with data, against their own period before and the team median
    (`deskpulse progress`, with the page's filters), and their first headline KPI period by period."""
    from deskpulse.metrics.progress import better, progress_of

    if not viewer.may_see_agent(agent):
        raise Forbidden("agents see the team's figures and their own, not another agent's")
    metrics = list(dashboard.config.scorecard.metrics)
    result = kpis(dashboard, kpi_query(replace(filters, agent=()), metrics, by=["agent"]))
    own_periods = sorted({row["period"] for row in result.rows if row.get("agent") == agent and row.get("period")})
    page = Page(f"Progress: {agent}")
    if not own_periods:
        page.notes.append("No replies from this agent match these filters.")
        return page
    [progress] = progress_of(result, metrics, filters.period, at=own_periods[-1], agents=[agent])
    page.notes.append(
        f"{filters.period.capitalize()} {progress.period} against {progress.previous_period or 'no earlier period'} "
        "and the team median of that period (the median of every agent's value)."
    )
    table = TableData(
        "progress",
        "Your numbers" if viewer.agent == agent else "Progress",
        ["kpi", "value", "previous", "change", "team median", "n"],
    )
    for line in progress.lines:
        m = line.metric
        table.rows.append(
            [
                Cell(m, metric_label(m)),
                Cell(
                    line.value, show(m, line.value), drill_link(filters.with_agent(agent), m, progress.period), metric=m
                ),
                Cell(line.previous, show(m, line.previous)),
                Cell(line.change, show_delta(m, line.change)),
                Cell(line.team_median, show(m, line.team_median)),
                Cell(line.n, f"{line.n:,}"),
            ]
        )
    page.tables.append(table)
    # The chart follows the first headline KPI with a direction (a volume is neither better nor worse).
    first = next((m for m in metrics if METRICS[m].better != "neutral"), metrics[0])
    scale = 3600 if is_duration(first) else 1
    records = []
    for period in own_periods:
        [then] = progress_of(result, [first], filters.period, at=period, agents=[agent])
        own, team = then.lines[0].value, then.lines[0].team_median
        if own is not None:
            worse = better(METRICS[first].better, team, own) is True
            records.append({"period": period, "value": own / scale, "worse_than_team": worse})
    page.charts.append(
        charts.line_chart(
            records,
            x="period",
            y="value",
            marked="worse_than_team",
            title=f"{metric_label(first)} (red: worse than the team median)",
            y_title="hours" if is_duration(first) else "",
            x_title=filters.period,
        )
    )
    return page


def categories_page(dashboard: Dashboard, viewer: Viewer, filters: Filters, level: str) -> Page:
    from deskpulse.insight.trends import TrendOptions, find_trends

    filters = allowed_filters(viewer, filters)
    dimension = "subcategory" if level == "subcategory" else "category"
    metrics = ["tickets_created", *(m for m in dashboard.config.scorecard.metrics if m != "tickets_created")]
    result = kpis(dashboard, kpi_query(filters, metrics, by=[dimension], period="all"))
    # Every spike in the range (from the first ticket when the range is open), not only the recent ones.
    options = TrendOptions(since=filters.since or date(1970, 1, 1), until=filters.until, find_topics=False)
    report = dashboard.cached(("trends", options), lambda store: find_trends(store, dashboard.config, options))
    spiking = {f.series: f for f in report.spikes if f.level == dimension}
    page = Page("Categories")
    page.notes.append(
        f"Spikes are marked red: days far above the category's weekday-aware baseline, ending on or "
        f"after {report.reported_from}."
    )
    table = TableData("categories", "Volume and KPIs per category", [dimension, *metrics, "spike"])
    records = []
    rows = sorted(result.rows, key=lambda r: -(r["tickets_created"]["value"] or 0))
    for row in rows:
        name = row.get(dimension)
        spike = spiking.get(name) if name else None
        group = {dimension: name} if name is not None else None
        cells = [Cell(name, name or "(none)")]
        for m in metrics:
            href = drill_link(filters, m, None, group) if group else None
            cells.append(Cell(row[m]["value"], show(m, row[m]["value"]), href, metric=m))
        spike_text = (
            f"{spike.first_day} … {spike.last_day}: {spike.observed} tickets, {spike.expected:.1f} expected"
            if spike
            else ""
        )
        cells.append(Cell(spike_text or None, spike_text or "–", css="spike" if spike else None))
        table.rows.append(cells)
        if name is not None:
            records.append(
                {"category": name, "tickets": row["tickets_created"]["value"] or 0, "spike": spike is not None}
            )
    page.charts.append(
        charts.bar_chart(
            records, category="category", value="tickets", title="Tickets per category (red: spiking)", marked="spike"
        )
    )
    page.tables.append(table)
    return page


def flags_page(dashboard: Dashboard, viewer: Viewer, filters: Filters, include_reviewed: bool) -> Page:
    """The review queue, narrowed by the page filters: the flagged ticket's category, mailbox, priority and
    assignee (agent, or the assignee's team), and the local day the flag was raised."""
    from deskpulse.insight.flags import list_flags

    filters = allowed_filters(viewer, filters)

    def compute(store: Store) -> tuple[list[dict[str, Any]], dict[str, tuple[Any, ...]], dict[str, str]]:
        from deskpulse.inputs.agents import agent_teams

        flags = list_flags(store, include_reviewed=include_reviewed)
        rows = store.execute(
            "SELECT ticket_id, category, mailbox, priority, assignee FROM tickets WHERE ticket_id IN "
            "(SELECT ticket_id FROM ticket_flags)"
        )
        teams = agent_teams(store, dashboard.config).to_pyarrow().to_pylist()
        return flags, {row[0]: row[1:] for row in rows}, {t["agent"]: t["team"] for t in teams}

    flags, tickets, teams = dashboard.cached(("flags", include_reviewed), compute)
    zone = ZoneInfo(dashboard.config.helpdesk.timezone)

    def kept(flag: dict[str, Any]) -> bool:
        category, mailbox, priority, assignee = tickets.get(flag["ticket_id"], (None, None, None, None))
        top = category.split(SEPARATOR)[0].strip() if category else None
        raised = flag.get("raised_at")
        day = raised.replace(tzinfo=UTC).astimezone(zone).date() if raised is not None else None
        checks = [
            (filters.category, top),
            (filters.mailbox, mailbox),
            (filters.priority, priority),
            (filters.agent, assignee),
            (filters.team, teams.get(assignee) if assignee else None),
        ]
        if any(wanted and value not in wanted for wanted, value in checks):
            return False
        if filters.since and (day is None or day < filters.since):
            return False
        return not (filters.until and (day is None or day > filters.until))

    shown = [flag for flag in flags if kept(flag)]
    page = Page("Review queue")
    page.notes.append(
        "Tickets flagged for a manager (very negative, getting worse, chargeback, legal or leaving threats), "
        "angriest first; then the SLA targets still running that are breached or at risk."
    )
    table = TableData(
        "flags",
        f"{len(shown)} flags",
        ["ticket_id", "kind", "score", "subject", "requester", "reason", "state", "raised_at"],
    )
    for flag in shown:
        table.rows.append(
            [
                Cell(flag["ticket_id"], flag["ticket_id"], f"/tickets/{flag['ticket_id']}"),
                Cell(flag.get("kind"), str(flag.get("kind") or "")),
                Cell(flag.get("score"), show(None, flag.get("score"))),
                Cell(flag.get("subject"), str(flag.get("subject") or "")),
                Cell(flag.get("requester"), str(flag.get("requester") or "")),
                Cell(flag.get("reason"), str(flag.get("reason") or "")),
                Cell(flag.get("state"), str(flag.get("state") or "")),
                Cell(flag.get("raised_at"), show(None, flag.get("raised_at"))),
            ]
        )
    page.tables.append(table)
    page.tables.append(sla_risk_table(dashboard, viewer))
    return page


# A running target this far through its time is at risk; past it, breached.
SLA_RISK_SHARE = 0.8


def sla_risk_table(dashboard: Dashboard, viewer: Viewer) -> TableData:
    """SLA targets still running (not yet replied or resolved) that are breached or at risk, most overdue first."""
    from deskpulse.metrics.engine import fact_tables
    from deskpulse.metrics.facts import build_calendar

    def compute(store: Store) -> list[dict[str, Any]]:
        targets = fact_tables(store, build_calendar(store, dashboard.config), {"sla_targets"})["sla_targets"]
        share = targets.elapsed_seconds / targets.target_seconds
        risky = targets.filter(targets.running & (share >= SLA_RISK_SHARE))
        tickets = store.table("tickets").select("ticket_id", "subject")
        rows = risky.select("ticket_id", "kind", "agent", "target_seconds", "elapsed_seconds", share=share)
        joined = rows.left_join(tickets, rows.ticket_id == tickets.ticket_id).select(
            rows.ticket_id,
            tickets.subject,
            rows.kind,
            rows.agent,
            rows.target_seconds,
            rows.elapsed_seconds,
            rows.share,
        )
        return list(joined.order_by(ibis.desc("share")).limit(200).to_pyarrow().to_pylist())

    rows = dashboard.cached(("sla-risk",), compute)
    table = TableData(
        "sla_risk",
        f"SLA risk: {len(rows)} running targets breached or past {SLA_RISK_SHARE:.0%} of their time",
        ["ticket_id", "subject", "target", "agent", "target_time", "elapsed", "share_of_target"],
    )
    for row in rows:
        agent = shown_agent(viewer, row["agent"])
        table.rows.append(
            [
                Cell(row["ticket_id"], row["ticket_id"], f"/tickets/{row['ticket_id']}"),
                Cell(row["subject"], row["subject"] or ""),
                Cell(row["kind"], row["kind"]),
                Cell(agent, agent or "–"),
                Cell(row["target_seconds"], render.human_duration(row["target_seconds"])),
                Cell(row["elapsed_seconds"], render.human_duration(row["elapsed_seconds"])),
                Cell(
                    row["share"],
                    f"{row['share']:.0%} (breached)" if row["share"] > 1 else f"{row['share']:.0%} (at risk)",
                    css="off-target" if row["share"] > 1 else "at-risk",
                ),
            ]
        )
    return table


def bottlenecks_page(dashboard: Dashboard, viewer: Viewer, filters: Filters) -> Page:
    from deskpulse.insight.bottlenecks import MEASURES, BottleneckOptions, find_bottlenecks

    filters = allowed_filters(viewer, filters)
    options = BottleneckOptions(
        since=filters.since, until=filters.until, ticket_filters=tuple(sorted(filters.kpi_filters().items()))
    )
    report = dashboard.cached(
        ("bottlenecks", options), lambda store: find_bottlenecks(store, dashboard.config, options)
    )
    page = Page("Bottlenecks")
    page.notes.append(
        "Per category, each measure as a ratio to the median category (1.0 = typical); the worst category first."
    )
    columns = ["category", "tickets", "reopen_loops", *(f"{m.id} ratio" for m in MEASURES)]
    table = TableData("bottlenecks", "Categories", columns)
    for category in report.categories:
        cells = [
            Cell(category.category, category.category),
            Cell(category.tickets, f"{category.tickets:,}"),
            Cell(category.reopen_loops, str(category.reopen_loops)),
        ]
        for m in MEASURES:
            figure = category.figures.get(m.id)
            ratio = None if figure is None else figure.ratio
            cells.append(
                Cell(
                    ratio,
                    "–" if ratio is None else f"{ratio:.2f}×",
                    css="off-target" if ratio is not None and ratio >= 1.5 else None,
                )
            )
        table.rows.append(cells)
    page.tables.append(table)
    for measure, tickets in report.top_tickets.items():
        top = TableData(
            f"top_{measure}", f"Top tickets: {measure.replace('_', ' ')}", ["ticket_id", "subject", "category", "value"]
        )
        for t in tickets:
            shown = (
                f"{t.value:,.2f}"
                if measure not in ("handle_time", "customer_wait")
                else show("first_response_time", t.value)
            )
            top.rows.append(
                [
                    Cell(t.ticket_id, t.ticket_id, f"/tickets/{t.ticket_id}"),
                    Cell(t.subject, t.subject or ""),
                    Cell(t.category, t.category),
                    Cell(t.value, shown),
                ]
            )
        page.tables.append(top)
    return page


SLA_METRICS = ("sla_compliance", "first_response_time", "full_resolution_time")


def sla_page(dashboard: Dashboard, viewer: Viewer, filters: Filters) -> Page:
    filters = allowed_filters(viewer, filters)
    result = kpis(dashboard, kpi_query(filters, list(SLA_METRICS), by=["priority"], period="all"))
    page = Page("SLA")
    page.notes.append(METRICS["sla_compliance"].definition)
    table = TableData("sla", "SLA per priority", ["priority", *SLA_METRICS, "n"])
    for row in result.rows:
        priority = row.get("priority")
        group = {"priority": priority} if priority is not None else None
        cells = [Cell(priority, priority or "(none)")]
        for m in SLA_METRICS:
            cells.append(
                Cell(
                    row[m]["value"],
                    show(m, row[m]["value"]),
                    drill_link(filters, m, None, group) if group else None,
                    metric=m,
                )
            )
        cells.append(Cell(row["sla_compliance"]["n"], f"{row['sla_compliance']['n']:,}"))
        table.rows.append(cells)
    page.tables.append(table)
    breaches = _breaches(dashboard, viewer, filters)
    page.tables.append(breaches)
    return page


def _breaches(dashboard: Dashboard, viewer: Viewer, filters: Filters) -> TableData:
    """The targets missed in the range: the drill-down of sla_compliance, rows that are not hits."""
    from deskpulse.metrics.drilldown import drill_down

    query = kpi_query(filters, ["sla_compliance"], period="all")
    drill = dashboard.cached(
        ("drill", *query_key(query), "sla_compliance", None, ()),
        lambda store: drill_down(store, dashboard.config, query, "sla_compliance", limit=5000),
    )
    table = TableData("breaches", "Missed SLA targets (latest first)", ["ticket_id", "agent", "at"])
    for row in drill.rows:
        if row.get("hit"):
            continue
        agent = shown_agent(viewer, row.get("agent"))
        table.rows.append(
            [
                Cell(row.get("ticket_id"), str(row.get("ticket_id")), f"/tickets/{row.get('ticket_id')}"),
                Cell(agent, agent or "–"),
                Cell(row.get("at"), show(None, row.get("at"))),
            ]
        )
        if len(table.rows) >= 200:
            break
    return table


def drill_page(
    dashboard: Dashboard, viewer: Viewer, filters: Filters, metric: str, at: str | None, group: dict[str, str]
) -> Page:
    from deskpulse.metrics.drilldown import drill_down

    filters = allowed_filters(viewer, filters)
    if "agent" in group and not viewer.may_see_agent(group["agent"]):
        raise Forbidden("agents see the team's figures and their own, not another agent's")
    if metric not in METRICS:
        raise UserError(f"unknown metric {metric!r}")
    query = kpi_query(filters, [metric], by=sorted(group), period=filters.period if at else "all")
    key = ("drill", *query_key(query), metric, at, tuple(sorted(group.items())))
    drill = dashboard.cached(
        key, lambda store: drill_down(store, dashboard.config, query, metric, period=at, group=group)
    )
    page = Page(f"Behind the number: {metric_label(metric)}")
    where = ", ".join(f"{k} {v}" for k, v in group.items())
    page.notes.append(
        f"{drill.n:,} rows make the number's population"
        + (f" in {at}" if at else "")
        + (f" for {where}" if where else "")
        + (f" (the population of {metric_label(drill.source_metric)})" if drill.source_metric != metric else "")
        + (f"; the first {len(drill.rows):,} are shown" if len(drill.rows) < drill.n else "")
        + "."
    )
    value_metric = drill.source_metric if drill.source_metric in METRICS else metric
    table = TableData("tickets", "Tickets", drill.columns)
    for row in drill.rows:
        cells = []
        for column in drill.columns:
            value = row.get(column)
            if column == "agent":
                value = shown_agent(viewer, value)
            if column == "ticket_id" and value is not None:
                cells.append(Cell(value, str(value), f"/tickets/{value}"))
            elif column in ("value", "age"):
                shown = (
                    render.human_duration(value) if is_duration(value_metric) or column == "age" else show(None, value)
                )
                cells.append(Cell(value, shown))
            else:
                cells.append(Cell(value, show(None, value)))
        table.rows.append(cells)
    page.tables.append(table)
    return page


def ticket_page(dashboard: Dashboard, viewer: Viewer, ticket_id: str) -> Page:
    def compute(store: Store) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        ticket = store.execute(
            "SELECT ticket_id, subject, requester, mailbox, status, priority, category, assignee, created_at, "
            "resolved_at FROM tickets WHERE ticket_id = ?",
            [ticket_id],
        )
        messages = store.execute(
            "SELECT m.received_at, m.author_role, m.from_name, m.from_address, m.is_public, m.subject, m.body_text "
            "FROM message_threads t JOIN messages m USING (message_key) WHERE t.ticket_id = ? "
            "ORDER BY m.received_at, m.message_key",
            [ticket_id],
        )
        return ticket, messages

    ticket, messages = dashboard.cached(("ticket", ticket_id), compute)
    if not ticket:
        raise UserError(f"no ticket {ticket_id!r}")
    (tid, subject, requester, mailbox, status, priority, category, assignee, created, resolved) = ticket[0]
    page = Page(f"Ticket {tid}")
    facts = TableData("ticket", "Ticket", ["field", "value"])
    for name, value in (
        ("subject", subject),
        ("requester", requester),
        ("mailbox", mailbox),
        ("status", status),
        ("priority", priority),
        ("category", category),
        ("assignee", assignee),
        ("created_at", created),
        ("resolved_at", resolved),
    ):
        if name == "assignee":
            value = shown_agent(viewer, value)
        facts.rows.append([Cell(name, name), Cell(value, show(None, value))])
    page.tables.append(facts)
    thread = TableData("thread", f"{len(messages)} messages", ["received_at", "role", "from", "public", "text"])
    for received, role, name, address, public, _subject, body in messages:
        sender = shown_agent(viewer, address) if role == "agent" else address
        thread.rows.append(
            [
                Cell(received, show(None, received)),
                Cell(role, role or ""),
                Cell(sender, f"{name} <{sender}>" if name and sender != TEAM else str(sender or "")),
                Cell(public, "yes" if public else "internal note"),
                Cell(body, body or "", css="message"),
            ]
        )
    page.tables.append(thread)
    return page


def filter_options(dashboard: Dashboard, viewer: Viewer) -> dict[str, list[str]]:
    """The values each filter offers: what the store holds (an agent is offered only their own address)."""

    def compute(store: Store) -> dict[str, list[str]]:
        from deskpulse.inputs.agents import agent_teams
        from deskpulse.metrics.engine import category_levels

        tickets = store.table("tickets")
        top, _ = category_levels(tickets.category)
        options: dict[str, list[str]] = {}
        for name, column in (("mailbox", tickets.mailbox), ("category", top), ("priority", tickets.priority)):
            values = tickets.select(value=column).filter(lambda t: t.value.notnull()).distinct()
            options[name] = sorted(values.to_pyarrow().column("value").to_pylist())
        agents = store.execute(
            "SELECT DISTINCT from_address FROM messages WHERE author_role = 'agent' AND from_address IS NOT NULL "
            "ORDER BY 1"
        )
        options["agent"] = [row[0] for row in agents]
        teams = agent_teams(store, dashboard.config)
        options["team"] = sorted(set(teams.select("team").distinct().to_pyarrow().column("team").to_pylist()) - {None})
        return options

    options = dict(dashboard.cached(("filter-options",), compute))
    if not viewer.sees_everyone:
        options["agent"] = [viewer.agent] if viewer.agent else []
    return options


def latest_month(dashboard: Dashboard) -> str | None:
    """The latest month with tickets: what a report shows when no period is named."""
    result = kpis(dashboard, KpiQuery(metrics=["tickets_created"], period="month"))
    months = [row["period"] for row in result.rows if row.get("period") and row["tickets_created"]["value"]]
    return max(months) if months else None


def department_report(dashboard: Dashboard, viewer: Viewer, department: str, period: str) -> Any:
    """A department's report (or ``all``: the team's monthly report), for managers and admins."""
    from deskpulse.reports.department import build_report

    if not viewer.sees_everyone:
        raise Forbidden("department reports are for managers and admins")
    key = ("report", department.strip().lower(), period)
    return dashboard.cached(key, lambda store: build_report(store, dashboard.config, department, period))


def reports_page(dashboard: Dashboard, viewer: Viewer, department: str, period: str | None) -> Page:
    from deskpulse.reports.render import CSS, report_body_html

    period = period or latest_month(dashboard)
    page = Page("Department reports")
    if period is None:
        page.notes.append("No tickets in the store yet.")
        return page
    report = department_report(dashboard, viewer, department, period)
    page.title = f"Report: {department}, {period}"

    def tickets(name: str, pain_point: str) -> str:
        return _link("/reports/tickets", [("department", name), ("period", period), ("pain_point", pain_point)])

    # The renderer escapes every piece of customer text itself; its style is scoped to the report's own class.
    page.html_blocks += [f"<style>{CSS}</style>", report_body_html(report, tickets)]
    return page


def pain_point_page(dashboard: Dashboard, viewer: Viewer, department: str, period: str, pain_point: str) -> Page:
    """The tickets behind one pain point of a department's report."""
    from deskpulse.reports.department import pain_point_tickets

    if not viewer.sees_everyone:
        raise Forbidden("department reports are for managers and admins")

    def compute(store: Store) -> list[tuple[Any, ...]]:
        ids = pain_point_tickets(store, dashboard.config, department, period, pain_point)
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return store.execute(
            f"SELECT ticket_id, created_at, subject, requester, category, status FROM tickets "
            f"WHERE ticket_id IN ({marks}) ORDER BY created_at",
            list(ids),
        )

    rows = dashboard.cached(("pain-point", department, period, pain_point), compute)
    page = Page(f"{pain_point}: {department}, {period}")
    page.notes.append(f"{len(rows):,} tickets make this pain point's count in the report.")
    table = TableData("tickets", "Tickets", ["ticket_id", "created_at", "subject", "requester", "category", "status"])
    for ticket_id, created, subject, requester, category, status in rows:
        table.rows.append(
            [
                Cell(ticket_id, ticket_id, f"/tickets/{ticket_id}"),
                Cell(created, show(None, created)),
                Cell(subject, subject or ""),
                Cell(requester, requester or ""),
                Cell(category, category or ""),
                Cell(status, status or ""),
            ]
        )
    page.tables.append(table)
    return page


def ticket_list(dashboard: Dashboard, viewer: Viewer, filters: Filters, limit: int) -> dict[str, Any]:
    """The tickets created in the filters' range that the filters keep (the population of `tickets_created`),
    newest first, with their subject, status, category, priority and assignee."""
    from deskpulse.metrics.drilldown import drill_down

    filters = allowed_filters(viewer, filters)
    query = kpi_query(filters, ["tickets_created"], period="all")
    drill = dashboard.cached(
        ("drill", *query_key(query), "tickets_created", None, (), limit),
        lambda store: drill_down(store, dashboard.config, query, "tickets_created", limit=limit),
    )
    ids = [row["ticket_id"] for row in drill.rows]

    def compute(store: Store) -> list[tuple[Any, ...]]:
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        return store.execute(
            "SELECT ticket_id, created_at, subject, requester, status, category, priority, assignee, resolved_at "
            f"FROM tickets WHERE ticket_id IN ({marks}) ORDER BY created_at DESC, ticket_id",
            ids,
        )

    rows = dashboard.cached(("ticket-list", tuple(ids)), compute)
    columns = [
        "ticket_id",
        "created_at",
        "subject",
        "requester",
        "status",
        "category",
        "priority",
        "assignee",
        "resolved_at",
    ]
    tickets = []
    for row in rows:
        record = dict(zip(columns, row, strict=True))
        record["assignee"] = shown_agent(viewer, record["assignee"])
        tickets.append(record)
    return {"n": drill.n, "tickets": tickets}
