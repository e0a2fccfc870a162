"""The resolution golden mailbox (reopens, acknowledgements, proactive tickets, backlog snapshots) computed on
DuckDB, PostgreSQL and Spark: every query must give the same rows everywhere."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from tests.conftest import skip_or_fail
from tests.mailbuilder import write_mbox
from tests.metrics.test_resolution_golden import CONFIG, MAILS, RESOLUTION_METRICS

from deskpulse.engines import EngineStore, connect_engine, publish
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.facts import build_calendar, list_tickets
from deskpulse.store import Store

QUERIES = [
    KpiQuery(RESOLUTION_METRICS, period="all"),
    KpiQuery(RESOLUTION_METRICS, period="week", by=["agent"]),
    KpiQuery(RESOLUTION_METRICS, period="day"),
    KpiQuery(RESOLUTION_METRICS, period="month", by=["mailbox"]),
]


@pytest.fixture(scope="module")
def duckdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    directory = tmp_path_factory.mktemp("resolution-engines")
    with Store.open(directory / "deskpulse.duckdb") as store:
        ingest_paths(store, CONFIG, [write_mbox(directory / "support.mbox", MAILS, "Europe/Berlin")])
        yield store


def _rounded(value: Any) -> Any:
    """Floats to 9 significant digits (engines sum in different orders), recursively."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def _check_engine(store: Store, engine: EngineStore, *, temporary: bool = False) -> None:
    publish(store, engine, temporary=temporary)
    for query in QUERIES:
        expected = compute_kpis(store, CONFIG, query).rows
        assert _rounded(compute_kpis(engine, CONFIG, query).rows) == _rounded(expected)
    expected_tickets = list_tickets(store, build_calendar(store, CONFIG))
    actual_tickets = list_tickets(engine, build_calendar(engine, CONFIG))
    assert _rounded(actual_tickets) == _rounded(expected_tickets)


def test_postgresql_gives_the_same_resolution_numbers(duckdb_store: Store, postgres_url: str) -> None:
    with connect_engine(postgres_url) as engine:
        _check_engine(duckdb_store, engine)


@pytest.fixture(scope="module")
def spark() -> Iterator[EngineStore]:
    pytest.importorskip("pyspark", reason="install the spark extra: pip install -e '.[spark]'")
    if shutil.which("java") is None:
        skip_or_fail("Spark needs Java 17 (apt-get install openjdk-17-jre-headless)")
    with connect_engine("spark") as engine:
        yield engine


def test_spark_gives_the_same_resolution_numbers(duckdb_store: Store, spark: EngineStore) -> None:
    _check_engine(duckdb_store, spark, temporary=True)
