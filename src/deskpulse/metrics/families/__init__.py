"""Metric families: each module declares its metrics (`METRICS`) and the fact tables they read (`FACT_TABLES`).

A fact table builder takes the store, the calendar and the per-ticket facts, and returns an Ibis table with
the columns its metrics name, plus `agent` and `mailbox` for grouping.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deskpulse.metrics.families import handoffs, resolution, responses, sla, surveys, volume, work
from deskpulse.metrics.metric import Metric

FactBuilder = Callable[[Any, Any, Any], Any]  # (store, calendar, ticket facts) → Ibis table

FAMILIES = (volume, responses, resolution, handoffs, work, surveys, sla)

METRICS: tuple[Metric, ...] = tuple(metric for family in FAMILIES for metric in family.METRICS)
FACT_TABLES: dict[str, FactBuilder] = {
    name: builder for family in FAMILIES for name, builder in getattr(family, "FACT_TABLES", {}).items()
}
