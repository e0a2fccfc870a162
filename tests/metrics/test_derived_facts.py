"""The derived fact tables an import stores give exactly what the expressions give, and are never read stale.

An import stores the per-ticket facts, wait cycles, per-ticket waits, resolution events and inferred handoffs as tables
(`deskpulse.metrics.facts.store_derived_facts`), so a query aggregates them instead of recomputing them from
every message. They must change no number: on each golden mailbox every catalog metric and every ticket row is
the same read from the tables as computed from the canonical tables (which is what PostgreSQL and Spark do). And
they must never be used for settings or data they were not built from.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa
import pytest
from tests import test_first_response_golden as first_response
from tests.mailbuilder import write_mbox
from tests.metrics import test_handoffs_golden, test_resolution_golden, test_responses_golden

from deskpulse.config import Config, parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.metrics.catalog import resolve_metric_ids
from deskpulse.metrics.engine import KpiQuery, compute_kpis, fact_tables
from deskpulse.metrics.facts import build_calendar, list_tickets
from deskpulse.schema import TICKET_EVENTS
from deskpulse.store import Store
from deskpulse.tickets import ticket_id_for

SCENARIOS = [first_response, test_responses_golden, test_resolution_golden, test_handoffs_golden]
QUERIES = [
    {"period": "all"},
    {"period": "day", "by": ["agent"]},
    {"period": "week", "by": ["mailbox"]},
    {"period": "month", "by": ["agent"]},
]
DERIVED_TABLES = ("resolution_events", "ticket_facts", "cycles", "ticket_waits", "inferred_reassignments")


def _ingested(module: ModuleType, directory: Path) -> Store:
    store = Store.open(directory / "deskpulse.duckdb")
    ingest_paths(store, module.CONFIG, [write_mbox(directory / "support.mbox", module.MAILS, "Europe/Berlin")])
    return store


def _everything(store: Store, config: Config) -> tuple[list[Any], list[Any], dict[str, list[Any]]]:
    """Every metric for each query, every ticket row, and the rows of the fact tables the derived ones stand for."""
    kpis = [compute_kpis(store, config, KpiQuery(resolve_metric_ids("all"), **q)).rows for q in QUERIES]
    calendar = build_calendar(store, config)
    tickets = list_tickets(store, calendar)
    tables = fact_tables(store, calendar, {"cycles", "ticket_waits", "handoffs"})
    rows = {name: _sorted_rows(table) for name, table in tables.items()}
    return kpis, tickets, rows


def _sorted_rows(table: Any) -> list[dict[str, Any]]:
    return sorted(table.to_pyarrow().to_pylist(), key=lambda row: [(v is None, str(v)) for v in row.values()])


@pytest.mark.parametrize("module", SCENARIOS, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
def test_derived_tables_change_no_number(module: ModuleType, tmp_path: Path) -> None:
    with _ingested(module, tmp_path) as store:
        # The import stored every derived table, for these settings.
        assert build_calendar(store, module.CONFIG).derived == frozenset(DERIVED_TABLES)
        from_tables = _everything(store, module.CONFIG)
        store.forget_derived()  # from here on every fact table is computed from the canonical tables
        assert build_calendar(store, module.CONFIG).derived == frozenset()
        computed = _everything(store, module.CONFIG)
    assert from_tables == computed


def test_other_settings_do_not_read_the_tables(tmp_path: Path) -> None:
    """The tables were built with business hours Mon–Fri 09:00–17:00. Asked without business hours, the
    business first response time is unknown (null), as test_no_business_hours_gives_null_not_zero has it for a
    store imported that way; read from the tables it would be the stored 3,600 s median."""
    no_hours = parse_config({"helpdesk": {"support_addresses": ["help@acme.test"], "agent_domains": ["acme.test"]}})
    with _ingested(first_response, tmp_path) as store:
        assert build_calendar(store, no_hours).derived == frozenset()
        [row] = compute_kpis(store, no_hours, KpiQuery(first_response.METRICS, period="all")).rows
    assert row["first_response_time_business"]["value"] is None
    assert row["first_response_time_business"]["n"] == 0
    # Calendar time needs no business hours: the golden test's four first responses, median 22,950 s.
    assert row["first_response_time"]["median"] == 22950.0
    assert row["first_response_time"]["n"] == 4


def test_a_write_after_the_import_is_not_hidden(tmp_path: Path) -> None:
    """The first-response mailbox ends on Fri 16 Jan 2026, too soon after its replies for any resolution to be
    inferred (7 quiet days are needed): nothing is resolved. A help desk's own status history arriving after the
    import resolves "Where is my parcel?" (created Tue 13 Jan 09:30 Berlin = 08:30 UTC) at 10:00 UTC: one
    resolution, 5,400 s after creation. Read from the tables built before, it would not be there."""
    metrics = ["resolutions", "first_resolution_time"]
    with _ingested(first_response, tmp_path) as store:
        [before] = compute_kpis(store, first_response.CONFIG, KpiQuery(metrics, period="all")).rows
        resolution = {
            "event_id": "helpdesk:1",
            "ticket_id": ticket_id_for("t2-1@example.com"),
            "occurred_at": datetime(2026, 1, 13, 10, 0),
            "kind": "status",
            "actor": "ben@acme.test",
            "old_value": "open",
            "new_value": "resolved",
            "inferred": False,
            "source": "helpdesk",
        }
        store.insert_new("ticket_events", pa.Table.from_pylist([resolution], schema=TICKET_EVENTS.arrow_schema()))
        assert build_calendar(store, first_response.CONFIG).derived == frozenset()
        [after] = compute_kpis(store, first_response.CONFIG, KpiQuery(metrics, period="all")).rows
    assert before["resolutions"]["n"] == 0
    assert after["resolutions"] == {"value": 1, "n": 1}
    assert after["first_resolution_time"]["median"] == 5400.0
