"""The Help Scout connector on the official Java client's sample API v1 responses (helpscout-api-v1-fixtures, see
its PROVENANCE.md), and on one of them grown into a full conversation.

The samples hold three conversations, each a single customer thread ("Hello", 2016-01-03 21:35:51 UTC, by
karl@worldoftesters.com, status active): conversation_10.json (id 10, owned by the team Engineering),
conversation_11.json and conversation_13.json (both id 11, differing in their custom fields), all three with
thread id 3124897. Beside them: users (robert@robertson.com), teams, a customer, mailboxes.

The grown conversation: conversation 10 with these threads (2016-01-03 is a Sunday; all times UTC).

    thread   type      when          by      status after   assigned after   what
    3124897  customer  Sun 21:35:51  Karl    active         –                "Hello" (the sample's)
    9000002  lineitem  Mon 08:00     Robert  nochange       Robert           assignment
    9000003  note      Mon 09:00     Robert  nochange       Robert           "Checked the logs."
    9000004  message   Mon 09:30     Robert  closed         Robert           "Fixed, sorry!"
    9000005  customer  Mon 12:00     Karl    active         Robert           "It broke again."
    9000006  message   Mon 13:00     Ann     closed         Ann              "Fixed for good."
    9000007  message   Mon 14:00     Ann     –              Ann              a draft, never sent

Ratings (the API documentation's shapes: the happiness report's `results`, the rating webhook's object): Not Good
on thread 9000004 at Mon 12:05 (webhook), Great on thread 9000006 at Mon 15:00 (report).
"""

from __future__ import annotations

import copy
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
from deskpulse.sources.helpscout import import_helpscout
from deskpulse.store import Store

CONFIG = parse_config({"helpdesk": {"timezone": "UTC"}})
ROBERT = {"id": 110, "firstName": "Robert", "lastName": "Robertson", "email": "robert@robertson.com", "type": "user"}
ANN = {"id": 111, "firstName": "Ann", "lastName": "Agent", "email": "ann@example.test", "type": "user"}


@pytest.fixture
def samples(shared_data: Path) -> Path:
    folder = shared_data / "helpscout-api-v1-fixtures" / "src" / "test" / "resources" / "responses"
    if not folder.is_dir():
        skip_or_fail(f"{folder} not found")
    return folder


def write(path: Path, content: Any) -> Path:
    path.write_text(json.dumps(content))
    return path


def thread(
    number: int,
    kind: str,
    at: str,
    by: dict[str, Any],
    status: str,
    assigned: dict[str, Any] | None,
    body: str = "",
    state: str = "published",
) -> dict[str, Any]:
    """A v1 thread on Monday 2016-01-04 (``at`` is HH:MM:SS UTC), shaped like the sample's customer thread."""
    return {
        "id": number,
        "type": kind,
        "createdAt": f"2016-01-04T{at}Z",
        "createdBy": by,
        "status": status,
        "assignedTo": assigned,
        "body": body,
        "state": state,
        "actionType": None,
        "source": {"type": "email"},
    }


def grown_conversation(samples: Path, tmp_path: Path) -> Path:
    conversation = json.loads((samples / "conversation_10.json").read_text())
    item = conversation["item"]
    karl = item["threads"][0]["createdBy"]
    item["threads"] = [
        thread(9000007, "message", "14:00:00", ANN, "nochange", ANN, "<p>Anything else?</p>", state="draft"),
        thread(9000006, "message", "13:00:00", ANN, "closed", ANN, "<p>Fixed for good.</p>"),
        thread(9000005, "customer", "12:00:00", karl, "active", ROBERT, "<div>It broke again.</div>"),
        thread(9000004, "message", "09:30:00", ROBERT, "closed", ROBERT, "<p>Fixed, sorry!</p>"),
        thread(9000003, "note", "09:00:00", ROBERT, "nochange", ROBERT, "Checked the logs."),
        thread(9000002, "lineitem", "08:00:00", ROBERT, "nochange", ROBERT),
        *item["threads"],  # the API lists the newest first
    ]
    item.update(status="closed", closedAt="2016-01-04T13:00:00Z", modifiedAt="2016-01-04T14:00:00Z", owner=ANN,
                tags=["login"], threadCount=7)  # fmt: skip
    return write(tmp_path / "conversation.json", conversation)


def ratings(tmp_path: Path) -> list[Path]:
    report = {"page": 1, "pages": 1, "count": 1, "results": [
        {"number": 123, "threadid": 9000006, "threadCreatedAt": "2016-01-04T13:00:00Z", "id": 10, "type": "email",
         "ratingId": 1, "ratingCustomerId": 150, "ratingComments": "Great help", "ratingCreatedAt":
         "2016-01-04T15:00:00Z", "ratingCustomerName": "Karl Tester", "ratingUserId": 111, "ratingUserName": "Ann"},
    ]}  # fmt: skip
    webhook = {"id": 5434, "customer": {"id": 150}, "ticketId": 10, "threadId": 9000004,
               "mailbox": {"id": 1, "name": "Support"}, "rating": "Not Good", "comments": "Still broken",
               "createdAt": "2016-01-04T12:05:00Z", "modifiedAt": "2016-01-04T12:05:00Z"}  # fmt: skip
    return [write(tmp_path / "ratings.json", report), write(tmp_path / "rating_webhook.json", webhook)]


def test_a_sample_conversation(samples: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        summary = import_helpscout(store, CONFIG, [samples / "conversation_10.json"])
        ticket = store.execute(
            "SELECT ticket_id, status, source_status, requester, mailbox, channel, group_name, assignee "
            "FROM source_tickets"
        )
        messages = store.execute("SELECT message_key, author_role, from_address, is_public, body_text FROM messages")
        events = store.execute("SELECT event_id, kind, new_value, actor FROM ticket_events WHERE NOT inferred")
    # One conversation, one thread, one status event.
    assert (summary.read, summary.stored, summary.quarantined) == (3, 3, 0)
    # Owned by a team: Engineering is its group, and no agent is its assignee.
    assert ticket == [("helpscout-10", "open", "active", "karl@worldoftesters.com", "Support", "email",
                       "Engineering", None)]  # fmt: skip
    assert messages == [("helpscout:3124897", "customer", "karl@worldoftesters.com", True, "Hello")]
    assert events == [("helpscout:3124897-status", "status", "open", "karl@worldoftesters.com")]


def test_the_whole_sample_folder(samples: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        first = import_helpscout(store, CONFIG, [samples])
        counts = store.execute("SELECT (SELECT count(*) FROM source_tickets), (SELECT count(*) FROM messages)")
        again = import_helpscout(store, CONFIG, [samples])
        after = store.execute("SELECT (SELECT count(*) FROM source_tickets), (SELECT count(*) FROM messages)")
        agents = store.execute("SELECT address, name FROM agents WHERE source = 'helpscout'")
        quarantined = store.execute("SELECT reason, source_position FROM quarantine WHERE source = 'helpscout'")
    # Conversations 10 and 11 (conversation_13.json's copy, read last of two with the same modifiedAt).
    assert counts == after == [(2, 1)]
    reasons = sorted((Path(p[0].split(" ")[0]).name, p[1]) for p in first.problems)
    assert reasons == [
        ("conversation_13.json", "conflicting_copies"),
        ("conversation_13.json", "thread_in_two_conversations"),  # thread 3124897 is conversation 10's
        ("team.json", "not_read"),
        ("teams.json", "not_read"),
    ]
    assert [(r, Path(p.split(" ")[0]).name) for r, p in quarantined] == [
        ("thread_in_two_conversations", "conversation_13.json")
    ]
    # user.json and users.json both describe user 110; users.json, read last, gives the address.
    assert agents == [("robert@robertson.com", "Robert Robertson")]
    assert (again.stored, again.updated) == (0, 0)


def test_threads_become_messages_and_history(samples: Path, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        summary = import_helpscout(store, CONFIG, [grown_conversation(samples, tmp_path)])
        messages = store.execute(
            "SELECT message_key, author_role, from_address, is_public, body_text FROM messages ORDER BY received_at"
        )
        events = store.execute(
            "SELECT event_id, kind, old_value, new_value, actor FROM ticket_events WHERE NOT inferred "
            "ORDER BY occurred_at, kind"
        )
        ticket = store.execute("SELECT status, resolved_at, assignee, tags FROM source_tickets, "
                               "(SELECT list(tag) AS tags FROM ticket_tags)")  # fmt: skip
        quarantined = store.execute("SELECT reason FROM quarantine WHERE source = 'helpscout'")
    assert messages == [
        ("helpscout:3124897", "customer", "karl@worldoftesters.com", True, "Hello"),
        ("helpscout:9000003", "agent", "robert@robertson.com", False, "Checked the logs."),  # a note
        ("helpscout:9000004", "agent", "robert@robertson.com", True, "Fixed, sorry!"),
        ("helpscout:9000005", "customer", "karl@worldoftesters.com", True, "It broke again."),
        ("helpscout:9000006", "agent", "ann@example.test", True, "Fixed for good."),
    ]  # the line item is no message; the draft was never sent
    assert quarantined == [("unsent",)]
    # Status words as the contract maps them (active → open, closed → resolved); "nochange" is no event.
    assert events == [
        ("helpscout:3124897-status", "status", None, "open", "karl@worldoftesters.com"),
        ("helpscout:9000002-assignee", "assignee", None, "robert@robertson.com", "robert@robertson.com"),
        ("helpscout:9000004-status", "status", "open", "resolved", "robert@robertson.com"),
        ("helpscout:9000005-status", "status", "resolved", "open", "karl@worldoftesters.com"),
        ("helpscout:9000006-assignee", "assignee", "robert@robertson.com", "ann@example.test", "ann@example.test"),
        ("helpscout:9000006-status", "status", "open", "resolved", "ann@example.test"),
    ]
    assert ticket == [("resolved", datetime(2016, 1, 4, 13, 0), "ann@example.test", ["login"])]
    # 1 conversation + 5 messages + 6 events + the draft = 13 read, all but the draft stored.
    assert (summary.read, summary.stored, summary.quarantined) == (13, 12, 1)


def test_kpis_on_the_import(samples: Path, tmp_path: Path) -> None:
    files = [grown_conversation(samples, tmp_path), *ratings(tmp_path)]
    with Store.open(tmp_path / "s.duckdb") as store:
        import_helpscout(store, CONFIG, files)
        surveys = store.execute("SELECT survey_id, agent, scale, score, comment FROM surveys ORDER BY answered_at")
        metrics = ["tickets_created", "first_response_time", "tickets_resolved", "reopen_rate", "reassignments",
                   "csat"]  # fmt: skip
        [row] = compute_kpis(store, CONFIG, KpiQuery(metrics, period="month")).rows
    # Not Good and Great on the 5/3/1 points of good-okay-bad, each credited to the author of the rated thread.
    assert surveys == [
        ("helpscout:10:9000004@2016-01-04T12:05:00Z", "robert@robertson.com", "good-okay-bad", 1, "Still broken"),
        ("helpscout:10:9000006@2016-01-04T15:00:00Z", "ann@example.test", "good-okay-bad", 5, "Great help"),
    ]
    assert row["period"] == "2016-01"
    assert row["tickets_created"] == {"value": 1, "n": 1}
    # Karl wrote Sun 21:35:51; the first public agent reply is Mon 09:30:00 (the 09:00 note is none):
    # 2 h 24 min 9 s + 9 h 30 min = 11 h 54 min 9 s = 42,849 s.
    assert (row["first_response_time"]["n"], row["first_response_time"]["median"]) == (1, 42849.0)
    assert row["tickets_resolved"]["value"] == 1
    # Two resolutions (Mon 09:30 and 13:00); Karl undid the first at 12:00: 1 of 2.
    assert (row["reopen_rate"]["value"], row["reopen_rate"]["n"]) == (0.5, 2)
    # Robert → Ann: one change of hands (the first assignment is none).
    assert row["reassignments"]["value"] == 1.0
    # The latest answer is Great: 1 of 1.
    assert (row["csat"]["value"], row["csat"]["n"]) == (1.0, 1)


def test_spam_drafts_merges_and_malformed_records(samples: Path, tmp_path: Path) -> None:
    sample = json.loads((samples / "conversation_10.json").read_text())["item"]

    def conversation(number: int, **fields: Any) -> dict[str, Any]:
        item = copy.deepcopy(sample)
        for index, old in enumerate(item["threads"]):
            old["id"] = number * 100 + index
        return {**item, "id": number, **fields}

    merge = thread(9000010, "lineitem", "10:00:00", ROBERT, "nochange", None)
    merge.update(actionType="merged", actionSourceId=21)
    write(tmp_path / "conversations.json", {"page": 1, "pages": 1, "count": 6, "items": [
        conversation(20, status="spam"),
        conversation(21, status="closed", closedAt="2016-01-04T09:00:00Z"),  # merged into 22 by 22's line item
        conversation(22, threads=[*conversation(22)["threads"], merge]),
        conversation(23, isDraft=True),
        conversation(24, createdAt="last Sunday"),
        conversation(25, threads=[{"id": 2501, "type": "sms", "createdAt": "2016-01-04T10:00:00Z"}]),
    ]})  # fmt: skip
    write(tmp_path / "ratings.json", {"results": [{"id": 22, "threadid": 2200, "ratingId": 7,
                                                   "ratingCreatedAt": "2016-01-04T15:00:00Z"}]})  # fmt: skip
    (tmp_path / "broken.json").write_text('{"item": ')
    with Store.open(tmp_path / "s.duckdb") as store:
        summary = import_helpscout(store, CONFIG, [tmp_path])
        tickets = store.execute("SELECT ticket_id, excluded_reason, merged_into FROM tickets ORDER BY ticket_id")
        quarantined = store.execute("SELECT reason FROM quarantine WHERE source = 'helpscout' ORDER BY reason")
    assert tickets == [
        ("helpscout-20", "spam", None),
        ("helpscout-21", "merged", "helpscout-22"),
        ("helpscout-22", None, None),
        ("helpscout-23", "draft", None),
        ("helpscout-25", None, None),
    ]
    assert quarantined == [("bad_time",), ("not_json",), ("unknown_rating",), ("unknown_thread_type",)]
    assert summary.quarantined == 4


def test_import_helpscout_command(samples: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "s.duckdb")
    result = CliRunner().invoke(app, ["--db", db, "import", "helpscout", str(samples / "conversation_10.json")])
    assert result.exit_code == 0, result.output
    assert "helpscout: 3 records read, 3 stored" in result.output
    kpis = CliRunner().invoke(app, ["--db", db, "kpis", "--period", "all", "--metrics", "unreplied_tickets",
                                    "--format", "json"])  # fmt: skip
    assert kpis.exit_code == 0, kpis.output
    # Karl's "Hello" has no reply yet.
    assert json.loads(kpis.output)["rows"][0]["unreplied_tickets"]["value"] == 1
