"""The Freshdesk connector on python-freshdesk's sample API responses (freshdesk-api-fixtures, see its PROVENANCE.md).

The samples, as far as these tests use them (all times UTC):

    v2/ticket_1.json          ticket 1, created 2016-05-18 04:36:04, status 2 (open), priority 1, source 2 (portal),
                              requester dummyname@example.com (embedded), responder 6010396333 (named nowhere),
                              tags foo, bar, one attachment; stats.first_responded_at 2020-06-17 20:23:43
    v2/ticket_1_updated.json  the same ticket, same updated_at (2016-05-18 23:42:50), status 4 (resolved),
                              priority 3, tags hello, world, no stats
    v2/conversations.json     1: a private note by user 1 at 2016-05-19 05:36:12
                              2: a public outgoing reply by user 1 at 2016-05-19 05:36:14
    v2/agents.json            user 1 is abc@xyz.com ("Support"), user 432 superman@freshdesk.com
    v1/ticket_1.json          ticket display_id 1 (id 5007268642), created 2014-12-31 12:27:09 +10:00, with a public
                              note by user 5004272350 at 2015-01-01 10:58:36 +10:00
    v1/timeentries_ticket_1   three entries of user 5004272350 (william@freshdesk.com) on ticket 1: 0.50, 0.33 and
                              0.75 hours

Freshdesk's samples hold no satisfaction ratings: the tests write them in the shape of the API's documentation
(GET /api/v2/surveys/satisfaction_ratings).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import skip_or_fail
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.config import parse_config
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.sources.freshdesk import import_freshdesk, read_freshdesk
from deskpulse.store import Store

CONFIG = parse_config({"helpdesk": {"timezone": "UTC"}})


@pytest.fixture
def samples(shared_data: Path) -> Path:
    folder = shared_data / "freshdesk-api-fixtures" / "freshdesk"
    if not folder.is_dir():
        skip_or_fail(f"{folder} not found")
    return folder


def v2(samples: Path, name: str) -> Path:
    return samples / "v2" / "tests" / "sample_json_data" / name


def v1(samples: Path, name: str) -> Path:
    return samples / "v1" / "tests" / "sample_json_data" / name


def write(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content))
    return path


def test_a_v2_ticket_and_its_conversations(samples: Path, tmp_path: Path) -> None:
    files = [v2(samples, "ticket_1.json"), v2(samples, "conversations.json"), v2(samples, "agents.json")]
    with Store.open(tmp_path / "s.duckdb") as store:
        summary, _ = import_freshdesk(store, CONFIG, files)
        ticket = store.execute(
            "SELECT ticket_id, status, source_status, priority, channel, requester, assignee, category "
            "FROM source_tickets"
        )
        tags = store.execute("SELECT tag FROM ticket_tags ORDER BY tag")
        messages = store.execute(
            "SELECT message_key, author_role, from_address, is_public, body_text, attachment_count FROM messages "
            "ORDER BY received_at"
        )
    # One ticket, three messages (its description and two conversations), two agents.
    assert (summary.read, summary.stored, summary.quarantined) == (6, 4, 0)
    assert ticket == [
        # Responder 6010396333 is in no file read: the contract's "else the source's user id".
        ("freshdesk-1", "open", "open", "low", "web", "dummyname@example.com", "freshdesk-user-6010396333",
         "Question"),
    ]  # fmt: skip
    assert tags == [("bar",), ("foo",)]
    assert messages == [
        ("freshdesk:1-description", "customer", "dummyname@example.com", True,
         "This is a sample ticket, feel free to delete it.", 1),
        # Outgoing, by user 1: an agent (agents.json names them), the note internal.
        ("freshdesk:1", "agent", "abc@xyz.com", False, "This is a private note", 0),
        ("freshdesk:2", "agent", "abc@xyz.com", True, "This is a reply", 0),
    ]  # fmt: skip


def test_a_v1_ticket_with_its_note_and_time_entries(samples: Path, tmp_path: Path) -> None:
    files = [v1(samples, "ticket_1.json"), v1(samples, "timeentries_ticket_1.json")]
    with Store.open(tmp_path / "s.duckdb") as store:
        import_freshdesk(store, CONFIG, files)
        ticket = store.execute("SELECT ticket_id, external_id, created_at, status, tags FROM source_tickets, "
                               "(SELECT list(tag ORDER BY tag) AS tags FROM ticket_tags)")  # fmt: skip
        note = store.execute("SELECT from_address, author_role, received_at FROM messages WHERE author_role = 'agent'")
        entries = store.execute("SELECT entry_id, ticket_id, agent, seconds FROM time_entries ORDER BY started_at")
    # v1 numbers tickets by display_id (1), as v2 does by id: both name the same ticket freshdesk-1.
    # 2014-12-31 12:27:09 +10:00 is 02:27:09 UTC.
    assert ticket == [("freshdesk-1", "1", datetime(2014, 12, 31, 2, 27, 9), "open", ["bar", "foo"])]
    # The note's user 5004272350 is William, as the time entries' agent_email says.
    assert note == [("william@freshdesk.com", "agent", datetime(2015, 1, 1, 0, 58, 36))]
    # Decimal hours: 0.33 h = 1,188 s, 0.50 h = 1,800 s, 0.75 h = 2,700 s; oldest first.
    assert entries == [
        ("freshdesk:6000041896", "freshdesk-1", "william@freshdesk.com", 1188),
        ("freshdesk:6000042235", "freshdesk-1", "william@freshdesk.com", 2700),
        ("freshdesk:6000045667", "freshdesk-1", "william@freshdesk.com", 1800),
    ]


def test_status_codes_custom_statuses_and_priorities(samples: Path, tmp_path: Path) -> None:
    sample = json.loads(v2(samples, "ticket_1.json").read_text())
    tickets = [
        {**sample, "id": number, "status": status, "priority": priority}
        for number, status, priority in ((2, 3, 2), (3, 5, 4), (4, 6, 1), (5, 7, 1))
    ]
    path = write(tmp_path / "tickets.json", tickets)
    read = read_freshdesk([path, v2(samples, "ticket_1_updated.json")], {7: "waiting on customer"})
    found = {t.id: (t.status, t.priority, t.resolved_at) for t in read.tickets}
    assert found == {
        "2": ("pending", "normal", None),  # Freshdesk's Medium is deskpulse's normal
        # Closed: resolved at stats.resolved_at, 2020-07-24 15:35:21 (the sample's stats).
        "3": ("closed", "urgent", datetime(2020, 7, 24, 15, 35, 21)),
        "4": (None, "low", None),  # custom status 6, not mapped: no status, and a problem saying how to map it
        "5": ("waiting on customer", "low", None),  # custom status 7, mapped by --status 7="waiting on customer"
        # Resolved without stats: resolved at its updated_at, 2016-05-18 23:42:50.
        "1": ("resolved", "high", datetime(2016, 5, 18, 23, 42, 50)),
    }
    reasons = {(Path(p.position.split("[")[0]).name, p.reason) for p in read.problems}
    assert reasons == {("tickets.json", "unknown_status"), ("ticket_1_updated.json", "resolved_at_from_updated_at")}
    [unknown] = [p for p in read.problems if p.reason == "unknown_status"]
    assert "--status 6=WORD" in unknown.detail


def test_reading_again_changes_nothing_and_a_changed_ticket_replaces_its_row(samples: Path, tmp_path: Path) -> None:
    files = [v2(samples, "ticket_1.json"), v2(samples, "conversations.json"), v2(samples, "time_entries.json")]
    with Store.open(tmp_path / "s.duckdb") as store:
        first, _ = import_freshdesk(store, CONFIG, files)
        counts = store.execute("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM time_entries)")
        again, _ = import_freshdesk(store, CONFIG, files)
        assert store.execute("SELECT (SELECT count(*) FROM messages), (SELECT count(*) FROM time_entries)") == counts
        changed, _ = import_freshdesk(store, CONFIG, [v2(samples, "ticket_1_updated.json")])
        row = store.execute("SELECT status, priority, subject FROM tickets WHERE ticket_id = 'freshdesk-1'")
        tags = store.execute("SELECT tag FROM ticket_tags ORDER BY tag")
    # 1 ticket + 3 messages + 3 time entries.
    assert (first.stored, first.duplicates) == (7, 0)
    assert counts == [(3, 3)]
    assert (again.stored, again.updated, again.duplicates) == (0, 0, 7)
    # The updated ticket replaces the row, its tags the old ones; its description is already stored.
    assert (changed.stored, changed.updated) == (0, 1)
    assert row == [("resolved", "high", "Test subject update")]
    assert tags == [("hello",), ("world",)]


def test_kpis_on_the_import(samples: Path, tmp_path: Path) -> None:
    ratings = [
        # Ticket 1: unhappy (-102) at 07:00, then extremely happy (103) at 08:00; the latest answer counts.
        {"id": 7, "survey_id": 1, "user_id": 6012691534, "agent_id": 1, "feedback": "Slow at first",
         "group_id": None, "ticket_id": 1, "ratings": {"default_question": -102},
         "created_at": "2016-05-19T07:00:00Z", "updated_at": "2016-05-19T07:00:00Z"},
        {"id": 8, "survey_id": 1, "user_id": 6012691534, "agent_id": 1, "feedback": "Solved, thanks",
         "group_id": None, "ticket_id": 1, "ratings": {"default_question": 103},
         "created_at": "2016-05-19T08:00:00Z", "updated_at": "2016-05-19T08:00:00Z"},
        # Ticket 2 is not imported: stored, but no counted ticket's answer.
        {"id": 9, "survey_id": 1, "user_id": 5, "agent_id": 432, "feedback": "", "group_id": None, "ticket_id": 2,
         "ratings": {"default_question": 100}, "created_at": "2016-05-20T08:00:00Z",
         "updated_at": "2016-05-20T08:00:00Z"},
    ]  # fmt: skip
    files = [
        v2(samples, "ticket_1_updated.json"),
        v2(samples, "conversations.json"),
        v2(samples, "agents.json"),
        write(tmp_path / "satisfaction_ratings.json", ratings),
    ]
    with Store.open(tmp_path / "s.duckdb") as store:
        import_freshdesk(store, CONFIG, files)
        surveys = store.execute("SELECT survey_id, ticket_id, agent, scale, score, comment FROM surveys ORDER BY 1")
        metrics = ["tickets_created", "first_response_time", "tickets_resolved", "first_resolution_time", "csat"]
        [row] = compute_kpis(store, CONFIG, KpiQuery(metrics, period="month")).rows
    # Happy, neutral and unhappy on the 5/3/1 points of good-okay-bad; agent 1 is abc@xyz.com.
    assert surveys == [
        ("freshdesk:7@2016-05-19T07:00:00Z", "freshdesk-1", "abc@xyz.com", "good-okay-bad", 1, "Slow at first"),
        ("freshdesk:8@2016-05-19T08:00:00Z", "freshdesk-1", "abc@xyz.com", "good-okay-bad", 5, "Solved, thanks"),
        ("freshdesk:9@2016-05-20T08:00:00Z", "freshdesk-2", "superman@freshdesk.com", "good-okay-bad", 3, None),
    ]
    assert row["period"] == "2016-05"
    assert row["tickets_created"] == {"value": 1, "n": 1}
    # From the description (created 2016-05-18 04:36:04) to the public reply (2016-05-19 05:36:14); the private
    # note two seconds before it is no response: 24 h + 1 h + 10 s = 90,010 s.
    assert (row["first_response_time"]["n"], row["first_response_time"]["median"]) == (1, 90010.0)
    # Resolved (status 4) at its updated_at, 23:42:50: 19 h 6 min 46 s = 68,806 s after its creation.
    assert row["tickets_resolved"]["value"] == 1
    assert (row["first_resolution_time"]["n"], row["first_resolution_time"]["median"]) == (1, 68806.0)
    # Ticket 1's latest answer is happy: 1 of 1.
    assert (row["csat"]["value"], row["csat"]["n"]) == (1.0, 1)


def test_handle_time_from_freshdesk_time_entries(samples: Path, tmp_path: Path) -> None:
    # The v1 sample's entries fall months after its ticket; one of them, moved inside the ticket's life
    # (2014-12-31 23:00 UTC), is work on freshdesk-1 that handle time can count.
    [entry, *_] = json.loads(v1(samples, "timeentries_ticket_1.json").read_text())
    entry["time_entry"]["start_time"] = "2015-01-01T09:00:00+10:00"
    files = [v1(samples, "ticket_1.json"), write(tmp_path / "time_entries.json", [entry])]
    with Store.open(tmp_path / "s.duckdb") as store:
        import_freshdesk(store, CONFIG, files)
        [row] = compute_kpis(store, CONFIG, KpiQuery(["handle_time"], period="all")).rows
    # One entry of 0.50 h on one ticket: 1,800 s per ticket.
    assert (row["handle_time"]["value"], row["handle_time"]["n"]) == (1800.0, 1)


def test_first_responses_compared_with_freshdesk_stats(samples: Path, tmp_path: Path) -> None:
    sample = json.loads(v2(samples, "ticket_1.json").read_text())
    agreeing = {**sample, "id": 2, "stats": {**sample["stats"], "first_responded_at": "2016-05-19T05:36:14Z"}}
    replies = [{**reply, "ticket_id": 2, "id": 20 + reply["id"]} for reply in json.loads(
        v2(samples, "conversations.json").read_text())]  # fmt: skip
    files = [
        v2(samples, "ticket_1.json"),
        v2(samples, "conversations.json"),
        write(tmp_path / "ticket_2.json", agreeing),
        write(tmp_path / "conversations_2.json", replies),
    ]
    with Store.open(tmp_path / "s.duckdb") as store:
        _, agreement = import_freshdesk(store, CONFIG, files)
    # Ticket 2 says its first response was the reply of 2016-05-19 05:36:14, as we find. The sample's ticket 1
    # says 2020-06-17 20:23:43, four years after its only reply: its stats were edited by hand.
    assert (agreement.compared, agreement.agreeing) == (2, 1)
    assert agreement.differing == [("1", datetime(2016, 5, 19, 5, 36, 14), datetime(2020, 6, 17, 20, 23, 43))]


def test_malformed_records_are_quarantined_not_fatal(tmp_path: Path) -> None:
    ticket = {"subject": "fine", "requester_id": 1, "created_at": "2016-05-18T04:36:04Z", "status": 2}
    write(tmp_path / "tickets.json", [
        {**ticket, "id": None},  # no id
        {**ticket, "id": 7, "created_at": "yesterday"},
        {**ticket, "id": 8},
        {**ticket, "id": 9, "tags": 5},  # tags must be a list
    ])  # fmt: skip
    write(tmp_path / "conversations.json", [
        {"id": 30, "ticket_id": 8, "incoming": True, "body_text": "Hello?", "created_at": "2016-05-18T03:00:00Z"},
        {"id": 31, "ticket_id": 8, "incoming": False, "body_text": "when?", "created_at": None},
    ])  # fmt: skip
    write(tmp_path / "time_entries.json", [
        {"id": 40, "ticket_id": 8, "agent_id": 1, "time_spent": "1h", "start_time": "2016-05-18T05:00:00Z"},
        {"id": 41, "ticket_id": 8, "agent_id": 1, "time_spent": "00:05", "timer_running": True,
         "start_time": "2016-05-18T05:00:00Z"},
    ])  # fmt: skip
    write(tmp_path / "ratings.json", [{"id": 50, "ticket_id": 8, "ratings": {"default_question": 7},
                                       "created_at": "2016-05-18T06:00:00Z"}])  # fmt: skip
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "pages.jsonl").write_text(json.dumps({**ticket, "id": 10}) + "\noops\n")
    with Store.open(tmp_path / "s.duckdb") as store:
        summary, _ = import_freshdesk(store, CONFIG, [tmp_path])
        quarantined = store.execute("SELECT reason FROM quarantine WHERE source = 'freshdesk' ORDER BY reason")
        stored = store.execute("SELECT ticket_id FROM source_tickets ORDER BY ticket_id")
        messages = store.execute("SELECT message_key FROM messages ORDER BY message_key")
    assert quarantined == [
        ("bad_duration",),  # "1h" is not hh:mm
        ("bad_time",),  # created_at "yesterday"
        ("malformed",),  # tags 5
        ("no_created_at",),  # conversation 31, rejected by the contract
        ("no_id",),
        ("not_json",),  # broken.json
        ("not_json",),  # pages.jsonl line 2
        ("timer_running",),  # stored once it is stopped
        ("unknown_rating",),  # 7 is on no Freshdesk scale
    ]
    assert summary.quarantined == 9
    assert stored == [("freshdesk-10",), ("freshdesk-8",)]
    # Conversation 30 is kept although it is older than its ticket, and reported.
    assert messages == [("freshdesk:10-description",), ("freshdesk:30",), ("freshdesk:8-description",)]
    assert [p[1] for p in summary.problems if p[1] == "before_ticket"] == ["before_ticket"]


def test_the_whole_sample_folder(samples: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        first, _ = import_freshdesk(store, CONFIG, [samples])
        again, _ = import_freshdesk(store, CONFIG, [samples])
        tickets = store.execute("SELECT ticket_id, subject FROM source_tickets")
        entries = store.execute("SELECT count(*) FROM time_entries")
    # Eight samples of "ticket 1" (v1 ticket, v1 list, v2 ticket, its update, the outbound e-mail, the v2 list and
    # two search results) with different content: one is kept, the one updated last (search result 2, 2020).
    assert tickets == [("freshdesk-1", "This is another ticket")]
    conflicts = sorted(p[2].split(" was ")[0] for p in first.problems if p[1] == "conflicting_copies")
    assert conflicts == ["ticket 1", "time entry 1", "time entry 2", "time entry 3"]
    # v1's three entries, and v2's ids 1–3 (time_entries.json and time_entry_1.json disagree about them).
    assert entries == [(6,)]
    # Six files of knowledge-base articles, categories and folders are left out, each said once.
    assert sum(p[1] == "not_read" for p in first.problems) == 6
    assert (again.stored, again.updated, first.quarantined) == (0, 0, 0)


def test_import_freshdesk_command(samples: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    files = [str(v2(samples, "ticket_1.json")), str(v2(samples, "conversations.json"))]
    result = CliRunner().invoke(app, ["--db", db, "import", "freshdesk", *files, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert (report["records_stored"], report["tickets"]) == (4, 1)
    assert report["first_response_agreement"]["compared"] == 1
    kpis = CliRunner().invoke(app, ["--db", db, "kpis", "--period", "all", "--metrics", "first_response_time",
                                    "--format", "json"])  # fmt: skip
    assert kpis.exit_code == 0, kpis.output
    assert json.loads(kpis.output)["rows"][0]["first_response_time"]["value"] == 90010.0
    wrong = CliRunner().invoke(app, ["--db", db, "import", "freshdesk", *files, "--status", "6=later"])
    assert wrong.exit_code == 2
    assert "'6=later' is not CODE=STATUS" in wrong.output
