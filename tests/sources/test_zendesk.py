"""The Zendesk connector: the shared fixtures import with hand-checked counts, a small export written as the API
writes it shows every mapping (statuses, changes, roles, merges, ratings) with its KPIs worked out, and the
comparison with Zendesk's ticket_metrics puts each difference in its kind.

Fixtures (../shared/data, see each PROVENANCE.md): zenpy-zendesk-cassettes (`extracted/` holds 1,510 tickets and
121 audits; the users, groups and organizations pages are decoded from the recorded responses), the Airbyte
excerpt (JSONL records, with ticket_metrics and satisfaction ratings) and the Fivetran dbt seeds (warehouse CSVs).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import skip_or_fail
from tests.sources.zendesk_cassettes import ZENPY, write_pages
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.config import parse_config
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.sources.zendesk import import_zendesk, store_zendesk
from deskpulse.sources.zendesk_agreement import compare_ticket_metrics
from deskpulse.sources.zendesk_files import read_zendesk
from deskpulse.store import Store

CONFIG = parse_config(
    {
        "helpdesk": {"timezone": "UTC"},
        "escalation": {"groups": ["Engineering"]},
        "guardrails": {"min_survey_answers": 1},
    }
)
AIRBYTE = "airbyte-zendesk-expected-records-excerpt"
FIVETRAN = "fivetran-dbt-zendesk-seeds/integration_tests/seeds"
USER_PAGES = ("/api/v2/users.json", "/api/v2/incremental/users/cursor.json", "/api/v2/groups.json",
              "/api/v2/organizations.json")  # fmt: skip


def fixture(shared_data: Path, name: str) -> Path:
    path = shared_data / name
    if not path.exists():
        skip_or_fail(f"{path} not found")
    return path


@pytest.fixture(scope="module")
def zenpy_paths(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """The extracted tickets and audits, and the recorded users, groups and organizations pages."""
    extracted = fixture(shared_data, ZENPY) / "extracted"
    pages = tmp_path_factory.mktemp("zenpy-pages")
    for path in USER_PAGES:
        write_pages(shared_data, path, pages)
    return [pages, extracted]


def counts(store: Store) -> dict[str, int]:
    return {t: store.count(t) for t in ("source_tickets", "messages", "ticket_events", "source_users", "surveys")}


# --- the shared fixtures ------------------------------------------------------------------------------------


def test_zenpy_fixture_imports_with_its_counts_and_a_second_read_changes_nothing(
    zenpy_paths: list[Path], tmp_path: Path
) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        first = import_zendesk(store, CONFIG, zenpy_paths)
        stored = counts(store)
        again = import_zendesk(store, CONFIG, zenpy_paths)
        assert counts(store) == stored
        statuses = dict(store.execute("SELECT excluded_reason, count(*) FROM tickets GROUP BY 1"))
        events = dict(store.execute("SELECT kind, count(*) FROM ticket_events GROUP BY 1"))
        quarantined = store.execute("SELECT source_position, reason FROM quarantine")
        fields = store.execute(
            "SELECT ticket_id, requester, channel, priority, organisation FROM tickets "
            "WHERE ticket_id IN ('zendesk-1', 'zendesk-4037') ORDER BY 1"
        )
        ticket_1 = store.execute(
            "SELECT kind, old_value, new_value FROM ticket_events WHERE ticket_id = 'zendesk-1' AND kind IN "
            "('status', 'deleted') ORDER BY occurred_at"
        )
    # PROVENANCE: 1,510 tickets; 121 audits holding 118 comments, 1,041 Create and 4 Change events.
    # One comment's author (6295881799834, on ticket 4035) is in none of the recorded users pages: quarantined.
    assert stored["source_tickets"] == 1510
    assert stored["messages"] == 118 - 1
    assert quarantined == [(str(zenpy_paths[1] / "ticket_audits_dedup.json") + "[108]", "unknown_author")]
    # Events: 116 tickets were created with a status (107 new, 8 pending, 1 open) and ticket 1 went open → deleted
    # → open (one `deleted` event, one status event back to open): 117 status events. Priority: 115 creations, 110
    # of them without one, leave 5 (high), plus ticket 1's change to normal: 6. Groups: 2 creations. Assignee: 1.
    # Tags: tickets 1 (sample, support, zendesk) and 4043 (foo, new, tag) were created with 3 each: 6.
    assert events == {"status": 117, "deleted": 1, "priority": 6, "group": 2, "assignee": 1, "tag": 6}
    assert ticket_1 == [("status", None, "open"), ("deleted", "open", "deleted"), ("status", None, "open")]
    # Requesters by their address; 4037's organization by its name (ticket 1 has none: the requester's domain).
    assert fields == [
        ("zendesk-1", "customer@example.com", "sample_ticket", "normal", "example.com"),
        ("zendesk-4037", "automationsqa@z3nmail.com", "api", None, "Z3n Tests (09cace/1694303517)"),
    ]
    # The 517 deleted tickets count nowhere.
    assert statuses == {None: 993, "deleted": 517}
    # The users pages hold 1,763 distinct users; 4 are staff (3 admins, 1 agent).
    assert stored["source_users"] == 1763
    assert (again.stored, again.updated) == (0, 0)
    assert first.stored == 1510 + 117 + 133 + 1763


def test_kpis_on_the_zenpy_fixture(zenpy_paths: list[Path], tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        import_zendesk(store, CONFIG, zenpy_paths)
        result = compute_kpis(store, CONFIG, KpiQuery(["tickets_created", "first_response_time"], period="month"))
    rows = {row["period"]: row for row in result.rows}
    # tickets_dedup.json by month and status, the deleted left out: 2023-09 967 new + 1 open; 2023-10 5 new +
    # 7 pending; 2023-12 1 new; 2024-02 11 new + 1 pending.
    assert {p: r["tickets_created"]["value"] for p, r in rows.items()} == {
        "2023-09": 968,
        "2023-10": 12,
        "2023-12": 1,
        "2024-02": 12,
    }
    assert result.left_out == {"deleted": 517}
    # Only ticket 1 has a customer comment (The Customer, 2023-09-09 23:52:05); the admin's public reply came
    # 2024-02-07 00:09:24: 151 days less 23:42:41 = 150 days 00:17:19 = 12,960,000 + 1,039 s. Every other
    # ticket was written first by an admin (proactive): no first response time.
    frt = rows["2024-02"]["first_response_time"]
    assert (frt["n"], frt["median"]) == (1, 12_961_039.0)


def test_airbyte_records_read_ratings_as_surveys_and_report_what_they_cannot_use(
    shared_data: Path, tmp_path: Path
) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        summary = import_zendesk(store, CONFIG, [fixture(shared_data, AIRBYTE)])
        surveys = store.execute(
            "SELECT survey_id, ticket_id, kind, sent_at, answered_at, score FROM surveys ORDER BY 1"
        )
        reasons = store.execute("SELECT reason, count(*) FROM quarantine GROUP BY 1")
    # 3 satisfaction ratings, all "offered": invitations, not answers.
    assert surveys == [
        ("zendesk-7235633102607", "zendesk-146", "csat", datetime(2023, 6, 19, 18, 1, 40), None, None),
        ("zendesk-8178725484175", "zendesk-158", "csat", datetime(2023, 10, 20, 12, 1, 58), None, None),
        ("zendesk-9862120719631", "zendesk-161", "csat", datetime(2024, 5, 28, 21, 1, 33), None, None),
    ]
    # The 2 comments' author (360786799676) is not in the excerpt (its users stream was not copied).
    assert reasons == [("unknown_author", 2)]
    assert ("ticket_metric_events", "not_used", "3 records deskpulse does not read") in summary.problems


def test_fivetran_tables_give_the_status_history_and_its_resolution(shared_data: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        summary = import_zendesk(store, CONFIG, [fixture(shared_data, FIVETRAN)])
        tickets = dict(store.execute("SELECT ticket_id, coalesce(excluded_reason, status) FROM tickets"))
        history = [
            value
            for (value,) in store.execute(
                "SELECT new_value FROM ticket_events WHERE ticket_id = 'zendesk-11071' AND kind = 'status' "
                "ORDER BY occurred_at"
            )
        ]
        [(resolved_at,)] = store.execute("SELECT resolved_at FROM tickets WHERE ticket_id = 'zendesk-11071'")
        result = compute_kpis(store, CONFIG, KpiQuery(["tickets_created", "full_resolution_time"], period="all"))
    # ticket_data.csv: 10 tickets, 2 deleted, the rest solved or closed.
    assert len(tickets) == 10
    assert sorted(tickets.values()).count("deleted") == 2
    # ticket_field_history: 11071 goes open, pending, on-hold, pending, open, pending, on-hold, open, on-hold,
    # pending, open, solved, closed; closing the solved ticket is no new status.
    assert history == ["open", "pending", "on_hold", "pending", "open", "pending", "on_hold", "open", "on_hold",
                       "pending", "open", "resolved"]  # fmt: skip
    assert resolved_at == datetime(2020, 11, 14, 11, 1, 27)
    # The seed's history starts 2020-08-28 11:01:27, before the ticket's created_at (18:06:36): reported.
    assert any(p[1] == "before_created" and "11071" in p[0] for p in summary.problems)
    # The 20 comments' authors are not in user_data.csv: quarantined, not guessed.
    assert summary.quarantined == 20
    [row] = result.rows
    assert row["tickets_created"]["value"] == 8
    # 11071: created 2020-08-28 18:06:36, solved 2020-11-14 11:01:27: 78 days less 7:05:09 = 77 d 16:54:51
    # = 6,652,800 + 60,891 s. The other solved tickets have no history and no metrics: no solve time.
    assert (row["full_resolution_time"]["n"], row["full_resolution_time"]["median"]) == (1, 6_713_691.0)


# --- a small export, as the API writes it -------------------------------------------------------------------
#
# Users: 100 ana (end-user), 200 bob (agent), 300 carl (admin). Groups 10 Support, 20 Engineering. March 2026.
#
#   ticket 1  Mon 2 09:00  ana   "Login"         solved (closed Fri 6 by an automation)
#     09:00 ana    comment  "I cannot log in."           status new, assignee bob, group Support, tag login
#     11:00 bob    reply                                  status pending
#     11:05 bob    private note                           group Support → Engineering (an escalation)
#     12:00 trigger (via rule) public "We got your message" — automation, no reply
#     13:00 ana    "Still broken?"                        status open
#     14:00 bob    —                                      status solved
#     Fri 6 14:00 Zendesk (-1), via rule                  status closed: no new status
#   ticket 2  Mon 10:00  ana  "Login again": closed by merge into 1
#     10:00 ana    "Hello? I still cannot log in."
#     10:30 bob    private "This request was closed and merged into request #1 "Login"."  tag closed_by_merge
#   ticket 3  Tue 3 09:00  ana  "Printer": carl (admin) wrote first (a phone call), ana answered 10:00, bob
#             replied 12:00; open
#   ticket 4  Wed 4 09:00  ana  "Invoice": only later comments were read: ana 10:00, bob 11:00; solved, and
#             ticket_metrics say solved_at Wed 12:00
#   rating 900 on ticket 1: offered Mon 14:00, "good" Mon 15:00 ("Thanks!")


def at(day: int, hour: int, minute: int = 0) -> str:
    return f"2026-03-{day:02d}T{hour:02d}:{minute:02d}:00Z"


def comment(cid: int, author: int, body: str, public: bool = True) -> dict[str, Any]:
    return {"id": cid, "type": "Comment", "author_id": author, "body": body, "public": public, "attachments": []}


def change(eid: int, field: str, value: Any, previous: Any = None, kind: str = "Change") -> dict[str, Any]:
    event = {"id": eid, "type": kind, "field_name": field, "value": value}
    return event if kind == "Create" else {**event, "previous_value": previous}


def audit(aid: int, ticket: int, when: str, author: int, events: list[Any], channel: str = "web") -> dict[str, Any]:
    via = {"channel": channel, "source": {"from": {}, "to": {}, "rel": "trigger" if channel == "rule" else None}}
    return {"id": aid, "ticket_id": ticket, "created_at": when, "author_id": author, "via": via, "events": events}


def ticket(tid: int, when: str, subject: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"url": f"https://acme.zendesk.com/api/v2/tickets/{tid}.json", "id": tid, "created_at": when,
            "updated_at": when, "subject": subject, "status": status, "requester_id": 100, "via": {"channel": "email"},
            "priority": "normal", "tags": [], **extra}  # fmt: skip


def metric(tid: int, reply: int | None, full: int | None, solved_at: str | None = None) -> dict[str, Any]:
    return {"ticket_id": tid, "solved_at": solved_at, "reply_time_in_minutes": {"calendar": reply, "business": reply},
            "full_resolution_time_in_minutes": {"calendar": full, "business": full}}  # fmt: skip


EXPORT: dict[str, Any] = {
    "users.json": {"users": [
        {"id": 100, "name": "Ana", "email": "Ana@Cust.test", "role": "end-user"},
        {"id": 200, "name": "Bob", "email": "bob@acme.test", "role": "agent", "default_group_id": 10},
        {"id": 300, "name": "Carl", "email": "carl@acme.test", "role": "admin"},
    ], "next_page": None},
    "groups.json": {"groups": [{"id": 10, "name": "Support"}, {"id": 20, "name": "Engineering"}]},
    "tickets.json": {"tickets": [
        ticket(1, at(2, 9), "Login", "closed", tags=["login"], assignee_id=200, group_id=20, updated_at=at(6, 14)),
        ticket(2, at(2, 10), "Login again", "closed", tags=["closed_by_merge"]),
        ticket(3, at(3, 9), "Printer", "open", via={"channel": "voice"}),
        ticket(4, at(4, 9), "Invoice", "solved"),
    ], "end_of_stream": True, "after_cursor": "x"},
    "ticket_audits.json": {"audits": [
        audit(11, 1, at(2, 9), 100, [comment(101, 100, "I cannot log in."), change(1, "status", "new", kind="Create"),
              change(2, "assignee_id", "200", kind="Create"), change(3, "group_id", "10", kind="Create"),
              change(4, "tags", ["login"], kind="Create")], channel="email"),
        audit(12, 1, at(2, 11), 200, [comment(102, 200, "I sent you a reset link."),
                                      change(5, "status", "pending", "new")]),
        audit(13, 1, at(2, 11, 5), 200, [comment(103, 200, "Checked the logs.", public=False),
                                         change(6, "group_id", "20", "10")]),
        audit(14, 1, at(2, 12), 200, [comment(104, 200, "We got your message.")], channel="rule"),
        audit(15, 1, at(2, 13), 100, [comment(105, 100, "Still broken?"), change(7, "status", "open", "pending")]),
        audit(16, 1, at(2, 14), 200, [change(8, "status", "solved", "open")]),
        audit(17, 1, at(6, 14), -1, [change(9, "status", "closed", "solved")], channel="rule"),
        audit(21, 2, at(2, 10), 100, [comment(201, 100, "Hello? I still cannot log in."),
                                      change(10, "status", "new", kind="Create")]),
        audit(22, 2, at(2, 10, 30), 200, [
            comment(202, 200, 'This request was closed and merged into request #1 "Login".', public=False),
            change(11, "status", "closed", "new"), change(12, "tags", ["closed_by_merge"], [])]),
        audit(31, 3, at(3, 9), 300, [comment(301, 300, "Customer phoned: printer broken."),
                                     change(13, "status", "new", kind="Create")]),
        audit(32, 3, at(3, 10), 100, [comment(302, 100, "It still is.")]),
        audit(33, 3, at(3, 12), 200, [comment(303, 200, "A technician is on the way.")]),
        audit(41, 4, at(4, 10), 100, [comment(401, 100, "Any news on my invoice?")]),
        audit(42, 4, at(4, 11), 200, [comment(402, 200, "Fixed, sorry.")]),
    ]},
    "ticket_metrics.jsonl": [metric(1, 120, 300, at(2, 14)), metric(2, None, None), metric(3, 180, None),
                             metric(4, 120, 180, at(4, 12)), metric(9, 30, 60)],
    "satisfaction_ratings.json": {"satisfaction_ratings": [
        {"id": 900, "ticket_id": 1, "score": "good", "comment": "Thanks!", "assignee_id": 200,
         "created_at": at(2, 14), "updated_at": at(2, 15)},
        {"id": 901, "ticket_id": 3, "score": "unoffered", "created_at": at(3, 9)},
    ]},
}  # fmt: skip


def write_export(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in EXPORT.items():
        if name.endswith(".jsonl"):
            text = "\n".join(json.dumps(line) for line in content) + "\n"
        else:
            text = json.dumps(content)
        (directory / name).write_text(text)
    return directory


def test_statuses_changes_roles_merges_and_ratings_map(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        import_zendesk(store, CONFIG, [write_export(tmp_path / "export")])
        tickets = store.execute(
            "SELECT ticket_id, status, merged_into, excluded_reason, requester, assignee, message_count FROM tickets "
            "ORDER BY 1"
        )
        roles = store.execute("SELECT message_key, author_role, is_public FROM messages ORDER BY 1")
        events = store.execute(
            "SELECT kind, old_value, new_value, actor FROM ticket_events WHERE ticket_id = 'zendesk-1' "
            "ORDER BY occurred_at, event_id"
        )
        agents = store.execute("SELECT address FROM agents ORDER BY 1")
        survey = store.execute("SELECT survey_id, scale, score, agent, answered_at FROM surveys")
    assert tickets == [
        # 1 absorbed 2: its messages 101–105 and 2's 201, 202 (the merge note). Closed after solved: resolved.
        ("zendesk-1", "resolved", None, None, "ana@cust.test", "bob@acme.test", 7),
        ("zendesk-2", "resolved", "zendesk-1", "merged", "ana@cust.test", None, 0),
        # No assignee in Zendesk: the ticket takes the last agent who wrote in it.
        ("zendesk-3", "open", None, None, "ana@cust.test", "bob@acme.test", 3),
        ("zendesk-4", "resolved", None, None, "ana@cust.test", "bob@acme.test", 2),
    ]
    assert {key: (role, public) for key, role, public in roles} == {
        "zendesk:101": ("customer", True),
        "zendesk:102": ("agent", True),
        "zendesk:103": ("agent", False),  # a private note
        "zendesk:104": ("automation", True),  # via rule: a trigger's message
        "zendesk:105": ("customer", True),
        "zendesk:201": ("customer", True),
        "zendesk:202": ("agent", False),
        "zendesk:301": ("agent", True),  # the admin's note of the call
        "zendesk:302": ("customer", True),
        "zendesk:303": ("agent", True),
        "zendesk:401": ("customer", True),
        "zendesk:402": ("agent", True),
    }
    assert events == [
        ("status", None, "open", "ana@cust.test"),  # new
        ("assignee", None, "bob@acme.test", "ana@cust.test"),
        ("group", None, "Support", "ana@cust.test"),
        ("tag", None, "login", "ana@cust.test"),
        ("status", "open", "pending", "bob@acme.test"),
        ("group", "Support", "Engineering", "bob@acme.test"),
        ("status", "pending", "open", "ana@cust.test"),
        ("status", "open", "resolved", "bob@acme.test"),
        # Fri: solved → closed by Zendesk is left out.
    ]
    # The staff users (ana is an end-user); both also wrote, so the rebuild lists them as seen in the mail.
    assert agents == [("bob@acme.test",), ("carl@acme.test",)]
    assert survey == [("zendesk-900@2026-03-02T15:00:00Z", "good-bad", 5, "bob@acme.test", datetime(2026, 3, 2, 15))]


def test_kpis_on_the_small_export(tmp_path: Path) -> None:
    metrics = ["tickets_created", "first_response_time", "full_resolution_time", "escalation_rate", "csat"]
    with Store.open(tmp_path / "s.duckdb") as store:
        import_zendesk(store, CONFIG, [write_export(tmp_path / "export")])
        result = compute_kpis(store, CONFIG, KpiQuery(metrics, period="all"))
    [row] = result.rows
    # Counted: 1, 3 and 4 (2 merged away).
    assert row["tickets_created"]["value"] == 3
    assert result.left_out == {"merged": 1}
    # First response: ticket 1 09:00 → 11:00 = 7,200 s; ticket 4 10:00 → 11:00 = 3,600 s (the first comment read);
    # ticket 3 is proactive (carl wrote first). Median of two: 5,400 s.
    frt = row["first_response_time"]
    assert (frt["n"], frt["median"]) == (2, 5400.0)
    # Full resolution: 1 09:00 → 14:00 (the solve; the close is none) = 18,000 s; 4 09:00 → 12:00 (solved_at of
    # its metrics, having no history) = 10,800 s. Median 14,400 s.
    full = row["full_resolution_time"]
    assert (full["n"], full["median"]) == (2, 14400.0)
    # Handled (a human agent replied): 1, 3 and 4; escalated to Engineering: 1. One in three.
    assert row["escalation_rate"]["value"] == pytest.approx(1 / 3)
    # One good rating: CSAT 100 %.
    assert (row["csat"]["value"], row["csat"]["n"]) == (1.0, 1)


def test_a_second_read_of_the_small_export_changes_nothing(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export")
    with Store.open(tmp_path / "s.duckdb") as store:
        first = import_zendesk(store, CONFIG, [export])
        tables = ("source_tickets", "messages", "ticket_events", "ticket_tags", "surveys", "agents", "tickets")
        before = {t: store.execute(f"SELECT * FROM {t} ORDER BY ALL") for t in tables if t != "source_tickets"}
        again = import_zendesk(store, CONFIG, [export])
        after = {t: store.execute(f"SELECT * FROM {t} ORDER BY ALL") for t in tables if t != "source_tickets"}
    assert before == after
    assert first.stored > 0
    assert (again.stored, again.updated, again.duplicates) == (0, 0, first.stored)


def test_agreement_with_ticket_metrics_puts_each_difference_in_its_kind(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export")
    with Store.open(tmp_path / "s.duckdb") as store:
        objects = read_zendesk([export])
        store_zendesk(store, CONFIG, objects)
        agreement = compare_ticket_metrics(store, CONFIG, objects)
    kinds = {(c.ticket, c.measure, c.clock): c.kind for c in agreement.comparisons}
    # Ticket 1: reply 120 min (09:00 → 11:00) and full resolution 300 min (09:00 → 14:00) agree.
    assert kinds["1", "first reply", "calendar"] == kinds["1", "full resolution", "calendar"] == "agree"
    # Ticket 2 was merged away: it counts nowhere here. Ticket 9 was never read.
    assert kinds["2", "first reply", "calendar"] == "not_counted"
    assert kinds["9", "first reply", "calendar"] == "not_imported"
    # Ticket 3: carl wrote first; Zendesk's 180 min run from creation, we count no first response.
    assert kinds["3", "first reply", "calendar"] == "started_by_agent"
    assert kinds["3", "full resolution", "calendar"] == "agree"  # unsolved on both sides
    # Ticket 4: Zendesk's 120 min run from creation (09:00 → 11:00); ours from ana's first comment read (60 min).
    assert kinds["4", "first reply", "calendar"] == "from_creation"
    assert kinds["4", "full resolution", "calendar"] == "agree"
    # No business hours configured: nothing to compare in business time.
    assert {k for (_, _, clock), k in kinds.items() if clock == "business"} <= {"no_business_hours", "not_counted",
                                                                                "not_imported"}  # fmt: skip
    first_reply = next(r for r in agreement.summary() if (r["measure"], r["clock"]) == ("first reply", "calendar"))
    # Compared: 1, 3 and 4 (2 and 9 are not); 1 of 3 agrees.
    assert (first_reply["compared"], first_reply["agree"]) == (3, 1)


def test_a_malformed_page_or_line_is_quarantined_and_the_rest_imported(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export")
    (export / "broken_page.json").write_text('{"tickets": [{"id": 5, ')
    (export / "ticket_metrics.jsonl").write_text(
        json.dumps(metric(1, 120, 300)) + "\n{not json\n" + json.dumps({"stream": "tickets", "data": [1]}) + "\n"
    )
    with Store.open(tmp_path / "s.duckdb") as store:
        summary = import_zendesk(store, CONFIG, [export])
        reasons = store.execute("SELECT source_position, reason FROM quarantine ORDER BY 1")
        [(tickets,)] = store.execute("SELECT count(*) FROM source_tickets")
    assert reasons == [
        (str(export / "broken_page.json"), "malformed_json"),
        (str(export / "ticket_metrics.jsonl") + ":2", "malformed_json"),
        (str(export / "ticket_metrics.jsonl") + ":3", "not_an_object"),
    ]
    assert summary.quarantined == 3
    assert tickets == 4


def test_import_zendesk_command_prints_the_summary_and_the_agreement(tmp_path: Path) -> None:
    export = write_export(tmp_path / "export")
    db = str(tmp_path / "s.duckdb")
    command = ["--db", db, "import", "zendesk", str(export), "--compare-metrics"]
    result = CliRunner().invoke(app, [*command, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["source"] == "zendesk"
    assert report["quarantined"] == 0
    assert report["ticket_metrics_agreement"]["tickets_with_metrics"] == 5
    text = CliRunner().invoke(app, command).stdout
    assert "first reply (calendar): 1 of 3 agree within a minute (33.3%)" in text
    assert "from_creation: Zendesk counts from ticket creation" in text
