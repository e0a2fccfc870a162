"""The same metric code on every engine: the golden mailbox computed on DuckDB, PostgreSQL and Spark.

The store is built in DuckDB as usual, published to the other engine (`deskpulse publish`), and every query
must give the same rows there: same periods, same agents, same counts, same durations.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.mailbuilder import write_mbox
from tests.test_first_response_golden import CONFIG, MAILS

from deskpulse.engines import EngineStore, connect_engine, publish
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.catalog import resolve_metric_ids
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.metrics.facts import build_calendar, list_tickets
from deskpulse.store import Store

QUERIES = [
    KpiQuery(resolve_metric_ids("all"), period="all"),
    KpiQuery(resolve_metric_ids("all"), period="week", by=["agent"]),
    KpiQuery(resolve_metric_ids("all"), period="day", by=["mailbox"]),
    KpiQuery(resolve_metric_ids("all"), period="month", by=["agent", "mailbox"]),
]


@pytest.fixture(scope="module")
def duckdb_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    directory = tmp_path_factory.mktemp("engines")
    with Store.open(directory / "deskpulse.duckdb") as store:
        ingest_paths(store, CONFIG, [write_mbox(directory / "support.mbox", MAILS, "Europe/Berlin")])
        yield store


def _same(expected: Any, actual: Any) -> None:
    """Equal, with floating point compared to 1e-9 relative (engines sum in different orders)."""
    if isinstance(expected, float) and isinstance(actual, float | int):
        assert actual == pytest.approx(expected, rel=1e-9)
    elif isinstance(expected, dict):
        assert expected.keys() == actual.keys()
        for key in expected:
            _same(expected[key], actual[key])
    elif isinstance(expected, list):
        assert len(expected) == len(actual)
        for left, right in zip(expected, actual, strict=True):
            _same(left, right)
    else:
        assert expected == actual


def _check_engine(store: Store, engine: EngineStore, *, temporary: bool = False) -> None:
    counts = publish(store, engine, temporary=temporary)
    assert counts["messages"] == store.count("messages")
    for query in QUERIES:
        _same(compute_kpis(store, CONFIG, query).rows, compute_kpis(engine, CONFIG, query).rows)
    expected = list_tickets(store, build_calendar(store, CONFIG), sort="first_response_time", descending=True)
    actual = list_tickets(engine, build_calendar(engine, CONFIG), sort="first_response_time", descending=True)
    assert [t["ticket_id"] for t in actual] == [t["ticket_id"] for t in expected]


def test_postgresql_gives_the_same_numbers(duckdb_store: Store, postgres_url: str) -> None:
    with connect_engine(postgres_url) as engine:
        _check_engine(duckdb_store, engine)


@pytest.fixture(scope="module")
def spark() -> Iterator[EngineStore]:
    import shutil

    pytest.importorskip("pyspark", reason="install the spark extra: pip install -e '.[spark]'")
    if shutil.which("java") is None:
        from tests.conftest import skip_or_fail

        skip_or_fail("Spark needs Java 17 (apt-get install openjdk-17-jre-headless)")
    with connect_engine("spark") as engine:
        yield engine


def test_spark_gives_the_same_numbers(duckdb_store: Store, spark: EngineStore) -> None:
    _check_engine(duckdb_store, spark, temporary=True)
