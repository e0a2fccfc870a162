"""Agent self-progress: each agent's KPIs in one period against their own previous period and the team median.

The comparison is with the agent's own past first ("twelve minutes faster than last month"), the team
second: that is the order in which people take numbers about their own work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.engine import KpiQuery, KpiResult, compute_kpis
from deskpulse.metrics.scorecard import period_and_previous
from deskpulse.store import Store


@dataclass(frozen=True)
class ProgressLine:
    metric: str
    value: float | None
    n: int
    previous: float | None  # the same agent, the period before
    change: float | None  # value − previous
    team_median: float | None  # the median of every agent's value in this period
    better_than_team: bool | None  # None when either side is missing or the metric has no direction


@dataclass
class AgentProgress:
    agent: str
    period: str
    previous_period: str | None
    lines: list[ProgressLine] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "agent": self.agent,
            "period": self.period,
            "previous_period": self.previous_period,
            "lines": [line.__dict__ for line in self.lines],
        }


def agent_progress(
    store: Store,
    config: Config,
    *,
    period: str | None = None,
    at: str | None = None,
    agents: list[str] | None = None,
) -> list[AgentProgress]:
    """One `AgentProgress` per agent with data in period ``at`` (default: the latest period with data)."""
    period_kind = period or config.scorecard.period
    metrics = list(config.scorecard.metrics)
    result = compute_kpis(store, config, KpiQuery(metrics=metrics, period=period_kind, by=["agent"]))
    return progress_of(result, metrics, period_kind, at=at, agents=agents)


def progress_of(
    result: KpiResult, metrics: list[str], period_kind: str, *, at: str | None = None, agents: list[str] | None = None
) -> list[AgentProgress]:
    """`agent_progress` from a KPI result grouped by period and agent (``period_kind`` periods), such as one the
    web app computed with its filters."""
    by_period: dict[str, dict[str, dict[str, Any]]] = {}
    for row in result.rows:
        if row["period"] is not None and row["agent"] is not None:
            by_period.setdefault(row["period"], {})[row["agent"]] = row
    labels = sorted(by_period)
    if not labels:
        return []
    current, previous = period_and_previous(labels, at, period_kind, "agent data")
    team = by_period[current]
    wanted = agents if agents is not None else sorted(team)
    unknown = [a for a in wanted if a not in team]
    if unknown:
        raise UserError(f"no data for agent {', '.join(unknown)} in {current}; agents then: {', '.join(sorted(team))}")
    out = []
    for agent in wanted:
        progress = AgentProgress(agent, current, previous)
        for metric_id in metrics:
            now = team[agent][metric_id]
            before = by_period[previous].get(agent, {}).get(metric_id, {}).get("value") if previous else None
            values = [row[metric_id]["value"] for row in team.values() if row[metric_id]["value"] is not None]
            team_median = median(values) if values else None
            progress.lines.append(
                ProgressLine(
                    metric=metric_id,
                    value=now["value"],
                    n=now["n"],
                    previous=before,
                    change=None if now["value"] is None or before is None else now["value"] - before,
                    team_median=team_median,
                    better_than_team=better(METRICS[metric_id].better, now["value"], team_median),
                )
            )
        out.append(progress)
    return out


def better(direction: str, value: float | None, reference: float | None) -> bool | None:
    """Whether ``value`` is better than ``reference`` for a metric whose ``direction`` is lower or higher; None
    when either is missing or the metric has no direction."""
    if value is None or reference is None or direction == "neutral":
        return None
    return value < reference if direction == "lower" else value > reference
