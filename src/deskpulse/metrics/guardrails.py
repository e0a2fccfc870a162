"""Guardrails: warnings where the numbers mislead when read alone.

* The speed trap: first response or handle time got better while a quality metric (one-touch rate, reopens,
  replies per resolution, CSAT) got worse over the same two periods. Faster answers that need more answers,
  or that come back, are not an improvement.
* Utilization outside its band (default 70–80 %; above 85 % is a burnout risk), per agent and per team.

The numbers come from the engine, so a warning can always be checked with `deskpulse kpis`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deskpulse.config import Config, GuardrailsConfig
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.render import human_duration
from deskpulse.store import Store

SPEED_METRICS = ("first_response_time", "handle_time")
QUALITY_METRICS = ("one_touch_rate", "reopen_rate", "replies_per_resolution", "csat")

LOW, HIGH, BURNOUT = "low", "high", "burnout risk"


@dataclass(frozen=True)
class Guardrail:
    kind: str  # speed_trap | utilization
    message: str
    subject: str | None = None  # the agent or team, for utilization

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "subject": self.subject, "message": self.message}


def change(metric_id: str, now: dict[str, Any], before: dict[str, Any]) -> str | None:
    """ "better", "worse" or "same" from ``before`` to ``now`` (two results of one metric); None without both."""
    a, b = before.get("value"), now.get("value")
    if a is None or b is None or not before.get("n") or not now.get("n"):
        return None
    better = METRICS[metric_id].better
    if b == a or better == "neutral":
        return "same"
    return "better" if (b < a) == (better == "lower") else "worse"


def speed_trap(now: dict[str, Any], before: dict[str, Any], period: str, previous: str) -> Guardrail | None:
    """The speed trap between two rows of results (``metric id → result``), or None when it is not sprung."""
    faster = [m for m in SPEED_METRICS if m in now and m in before and change(m, now[m], before[m]) == "better"]
    worse = [m for m in QUALITY_METRICS if m in now and m in before and change(m, now[m], before[m]) == "worse"]
    if not faster or not worse:
        return None
    sped = ", ".join(f"{METRICS[m].label} {_show(m, before[m])} → {_show(m, now[m])}" for m in faster)
    lost = ", ".join(
        f"{METRICS[m].label} {_show(m, before[m])} → {_show(m, now[m])} (n {before[m]['n']} → {now[m]['n']})"
        for m in worse
    )
    return Guardrail(
        "speed_trap",
        f"speed trap, {previous} → {period}: faster ({sped}) while worse ({lost}); faster answers that need "
        "more answers, or come back, are not an improvement",
    )


def utilization_flag(value: float | None, guardrails: GuardrailsConfig) -> str | None:
    """low / high / burnout risk against the configured band; None inside it or without a value."""
    if value is None:
        return None
    if value > guardrails.burnout_above:
        return BURNOUT
    if value > guardrails.utilization_high:
        return HIGH
    if value < guardrails.utilization_low:
        return LOW
    return None


def guardrails_for(
    store: Store, config: Config, period_kind: str, period: str, previous: str | None
) -> list[Guardrail]:
    """Every guardrail warning for ``period`` (compared with ``previous`` for the speed trap)."""
    warnings: list[Guardrail] = []
    trap = compute_kpis(store, config, KpiQuery([*SPEED_METRICS, *QUALITY_METRICS], period=period_kind))
    rows = {row["period"]: row for row in trap.rows}
    if previous is not None and period in rows and previous in rows:
        sprung = speed_trap(rows[period], rows[previous], period, previous)
        if sprung is not None:
            warnings.append(sprung)
    band = config.guardrails
    for dimension in ("team", "agent"):
        result = compute_kpis(store, config, KpiQuery(["utilization"], period=period_kind, by=[dimension]))
        for row in result.rows:
            subject, utilization = row[dimension], row["utilization"]
            if row["period"] != period or subject is None:
                continue
            flag = utilization_flag(utilization["value"], band)
            if flag is not None:
                warnings.append(
                    Guardrail(
                        "utilization",
                        f"utilization of {dimension} {subject} in {period}: {utilization['value']:.1%} is {flag} "
                        f"(band {band.utilization_low:.0%}–{band.utilization_high:.0%}, burnout risk above "
                        f"{band.burnout_above:.0%})",
                        subject,
                    )
                )
    return warnings


def _show(metric_id: str, result: dict[str, Any]) -> str:
    value = result["value"]
    metric = METRICS[metric_id]
    if metric.unit == "seconds":
        return human_duration(value)
    if metric.unit == "ratio":
        return f"{value:.0%}"
    return f"{value:.2f}"
