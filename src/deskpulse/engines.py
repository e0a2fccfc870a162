"""Other engines: the canonical tables published to PostgreSQL or Spark, where the same metric code runs.

Imports stay in DuckDB (`deskpulse ingest`); `deskpulse --engine URL publish` copies the canonical tables to
a bigger engine, and `deskpulse --engine URL kpis …` computes there. The metric engine only asks its store
for tables by name, so an `EngineStore` stands in for the DuckDB store.
"""

from __future__ import annotations

import os
from typing import Any

from deskpulse.errors import UserError
from deskpulse.store import Store

# What the metric engine reads. Derived tables are published as they are, so every engine sees the same tickets.
PUBLISHED_TABLES = (
    "messages",
    "message_threads",
    "tickets",
    "source_tickets",
    "ticket_events",
    "ticket_tags",
    "ticket_flags",
    "message_sentiment",
    "ticket_categories",
    "agents",
    "surveys",
    "time_entries",
)


class EngineStore:
    """Canonical tables on another Ibis engine."""

    def __init__(self, backend: Any, url: str, spark_session: Any = None) -> None:
        self.ibis = backend
        self.url = url
        self.spark_session = spark_session

    def table(self, name: str) -> Any:
        return self.ibis.table(name)

    def register(self, name: str, rows: Any) -> Any:
        """A temporary table of ``rows`` for this session's queries (the calendars), as an Ibis table."""
        if self.spark_session is not None:
            _spark_view(self.spark_session, name, rows)
            return self.ibis.table(name)
        return self.ibis.create_table(name, rows, temp=True, overwrite=True)

    def close(self) -> None:
        self.ibis.disconnect()

    def __enter__(self) -> EngineStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect_engine(url: str) -> EngineStore:
    """``postgresql://user@host:port/database`` or ``spark`` (Spark in local mode on this machine)."""
    import ibis

    if url.startswith(("postgresql://", "postgres://")):
        try:
            return EngineStore(ibis.connect(url), url)
        except Exception as exc:  # the driver raises its own families
            raise UserError(f"cannot connect to {url}: {exc}") from exc
    if url == "spark":
        session = _local_spark_session()
        return EngineStore(ibis.pyspark.connect(session), url, session)
    raise UserError(f"unknown engine {url!r}: use postgresql://user@host:port/database or spark")


def _local_spark_session() -> Any:
    # Spark binds to the machine's public address unless told otherwise; loopback works everywhere.
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    return (
        SparkSession.builder.master("local[2]")
        .appName("deskpulse")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )


def publish(store: Store, engine: EngineStore, *, temporary: bool = False) -> dict[str, int]:
    """Copy the canonical tables to ``engine``, replacing what was there; returns the rows per table.

    ``temporary``: tables that live as long as the engine's session (Spark in local mode keeps no catalog
    between runs, so `--engine spark` publishes the store afresh into each session).
    """
    counts = {}
    for name in PUBLISHED_TABLES:
        rows = store.arrow(store.table(name))
        if temporary and engine.spark_session is not None:
            _spark_view(engine.spark_session, name, rows)
        else:
            engine.ibis.create_table(name, rows, overwrite=True, temp=temporary)
        counts[name] = rows.num_rows
    return counts


def _spark_view(session: Any, name: str, rows: Any) -> None:
    """Ibis has no temporary tables on Spark; a temporary view of the rows is the same thing there. The schema
    is given, so an all-null column keeps its type instead of being guessed (as 'NaN' text)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    schema = from_arrow_schema(rows.schema)
    # An empty table (no help desk tickets in a mailbox's store) goes as no rows: Spark cannot read the timestamps
    # of an Arrow table that holds no chunk at all.
    frame = session.createDataFrame([], schema=schema) if rows.num_rows == 0 else session.createDataFrame(rows, schema)
    frame.createOrReplaceTempView(name)
