"""The scorecard: the team's headline KPIs for one period, each with its n, target status and change.

Which KPIs and their target bands come from `[scorecard]` in deskpulse.toml; the numbers come from the
engine, so the scorecard and `deskpulse kpis` always agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from deskpulse.config import SCORECARD_ADVISED_MAXIMUM, Config, Target
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.guardrails import Guardrail, guardrails_for
from deskpulse.store import Store

ON_TARGET = "on target"
AT_RISK = "at risk"
OFF_TARGET = "off target"


@dataclass(frozen=True)
class ScorecardLine:
    metric: str
    value: float | None
    n: int
    previous: float | None
    delta: float | None  # value − previous
    target: Target | None
    status: str | None  # on target | at risk | off target; None without a target or a value
    detail: dict[str, Any]  # the metric's whole result (median, p90, open, interval…)


@dataclass
class Scorecard:
    period_kind: str
    period: str | None
    previous_period: str | None
    timezone: str
    lines: list[ScorecardLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    guardrails: list[Guardrail] = field(default_factory=list)  # the speed trap, utilization outside its band

    def as_json(self) -> dict[str, Any]:
        return {
            "period_kind": self.period_kind,
            "period": self.period,
            "previous_period": self.previous_period,
            "timezone": self.timezone,
            "warnings": self.warnings,
            "guardrails": [g.as_json() for g in self.guardrails],
            "lines": [
                {
                    "metric": line.metric,
                    "value": line.value,
                    "n": line.n,
                    "previous": line.previous,
                    "delta": line.delta,
                    "target": None if line.target is None else line.target.target,
                    "warning": None if line.target is None else line.target.warning,
                    "status": line.status,
                    "detail": line.detail,
                }
                for line in self.lines
            ],
        }


def target_status(better: str, value: float | None, target: Target | None) -> str | None:
    """Where ``value`` stands in the target band: lower-is-better metrics are on target at or below it."""
    if value is None or target is None:
        return None
    sign = 1 if better == "lower" else -1
    if sign * value <= sign * target.target:
        return ON_TARGET
    if target.warning is not None and sign * value <= sign * target.warning:
        return AT_RISK
    return OFF_TARGET


def period_and_previous(
    labels: list[str], at: str | None, period_kind: str, what: str = "data"
) -> tuple[str, str | None]:
    """The period to show (``at``, or the latest of the sorted, non-empty ``labels``) and the one before it."""
    if at is not None and at not in labels:
        raise UserError(f"no {what} for {period_kind} {at!r}; periods with data: {labels[0]} … {labels[-1]}")
    current = at or labels[-1]
    index = labels.index(current)
    return current, labels[index - 1] if index > 0 else None


def build_scorecard(
    store: Store,
    config: Config,
    *,
    at: str | None = None,
    period: str | None = None,
    since: date | None = None,
    until: date | None = None,
    filters: dict[str, tuple[str, ...]] | None = None,
) -> Scorecard:
    """The scorecard for period ``at`` (a label such as '2026-03' or '2026-W09'), by default the latest one.

    ``since``, ``until`` and ``filters`` narrow the facts as `deskpulse kpis` does (the web app's filters); the
    guardrails stay the whole team's."""
    settings = config.scorecard
    period_kind = period or settings.period
    query = KpiQuery(
        metrics=list(settings.metrics), period=period_kind, since=since, until=until, filters=dict(filters or {})
    )
    result = compute_kpis(store, config, query)
    rows = {row["period"]: row for row in result.rows if row["period"] is not None}
    labels = sorted(rows)
    scorecard = Scorecard(period_kind, None, None, result.timezone)
    if len(settings.metrics) > SCORECARD_ADVISED_MAXIMUM:
        scorecard.warnings.append(
            f"{len(settings.metrics)} headline KPIs: more than {SCORECARD_ADVISED_MAXIMUM} dilute attention; "
            "keep the rest in `deskpulse kpis`"
        )
    if not labels:
        return scorecard
    current, previous = period_and_previous(labels, at, period_kind)
    scorecard.period, scorecard.previous_period = current, previous
    for metric_id in settings.metrics:
        result_now = rows[current][metric_id]
        before = rows[previous][metric_id]["value"] if previous else None
        value = result_now["value"]
        target = settings.targets.get(metric_id)
        scorecard.lines.append(
            ScorecardLine(
                metric=metric_id,
                value=value,
                n=result_now["n"],
                previous=before,
                delta=None if value is None or before is None else value - before,
                target=target,
                status=target_status(METRICS[metric_id].better, value, target),
                detail=result_now,
            )
        )
    scorecard.guardrails = guardrails_for(store, config, period_kind, current, previous)
    return scorecard
