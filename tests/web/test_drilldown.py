"""The rows behind a number are the number's population: for every metric of the catalog, in a cell grouped by
agent and month and in one filtered by category, the drill-down has n rows, and the number recomputed from those
rows (a count, the share of hits, the median of the values) is the number the engine reported."""

from __future__ import annotations

from statistics import mean, median

import pytest
from tests.web.conftest import Site

from deskpulse.config import load_config
from deskpulse.errors import UserError
from deskpulse.metrics.catalog import METRICS
from deskpulse.metrics.drilldown import drill_down
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.metric import COUNT, DURATION, MEAN, RATE, RATIO, SHARE
from deskpulse.store import Store


def recomputed(metric_id: str, columns: list[str], rows: list[dict[str, object]]) -> float | None:
    """The metric's value from its drilled rows alone, as the engine's aggregate defines it."""
    metric = METRICS[metric_id]
    if metric.kind == RATIO:
        return None  # a ratio drills into its denominator: checked by n only
    if metric.kind == COUNT:
        return float(len(rows))
    if metric.kind == RATE:
        return sum(bool(r["hit"]) for r in rows) / len(rows)
    if metric.kind == DURATION:
        return float(median(float(r["value"]) for r in rows))  # type: ignore[arg-type]
    if metric.kind == MEAN:
        return float(mean(float(r["value"]) for r in rows))  # type: ignore[arg-type]
    if metric.kind == SHARE and "per" in columns:
        return sum(float(r["value"] or 0) for r in rows) / sum(float(r["per"]) for r in rows)  # type: ignore[arg-type]
    return None


@pytest.mark.parametrize(
    ("by", "filters"),
    [(["agent"], {}), ([], {"category": ("Billing", "Account")})],
    ids=["per-agent", "two-categories"],
)
def test_every_metric_drills_into_its_own_population(demo_site: Site, by: list[str], filters: dict) -> None:
    config = load_config(demo_site.config)
    query = KpiQuery(metrics=list(METRICS), period="month", by=by, filters=filters)
    with Store.open(demo_site.db, read_only=True) as store:
        result = compute_kpis(store, config, query)
        row = max((r for r in result.rows if all(r.get(d) for d in by)), key=lambda r: r["tickets_created"]["n"])
        group = {d: row[d] for d in by}
        checked = 0
        for metric_id in METRICS:
            drill = drill_down(store, config, query, metric_id, period=row["period"], group=group, limit=100_000)
            number = row[metric_id]
            assert drill.n == number["n"] == len(drill.rows), metric_id
            value = recomputed(metric_id, drill.columns, drill.rows) if drill.rows else None
            if value is not None:
                assert value == pytest.approx(number["value"]), metric_id
                checked += 1
        assert checked >= 25  # most of the catalog is recomputed from its rows, not only counted


def test_a_cell_must_name_its_group(demo_site: Site) -> None:
    config = load_config(demo_site.config)
    with Store.open(demo_site.db, read_only=True) as store, pytest.raises(UserError, match="name the agent"):
        drill_down(store, config, KpiQuery(["tickets_created"], by=["agent"]), "tickets_created", group={})
