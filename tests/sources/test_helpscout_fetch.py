"""`deskpulse fetch helpscout` against a real HTTP server on 127.0.0.1 that answers as the Mailbox API 2.0 does.

Help Scout publishes no v2 sample data files (helpscout-api-v1-fixtures' PROVENANCE.md): the served pages are the
v1 fixtures turned into v2 by `v2_conversation` below, which undoes what `deskpulse.sources.helpscout_api`'s
adapter does, following the API 2.0 documentation (HAL `_embedded`, `page.totalPages`, people's `first`/`last`,
thread type `reply`, `assignee`, `primaryCustomer`, `mailboxId`, tag objects, `updatedAt`).

The served account: the grown conversation of tests/sources/test_helpscout.py (conversation 10: Karl's "Hello" on
Sunday 2016-01-03 21:35:51 UTC, Robert's note and reply on Monday, Karl's reopening, Ann's final reply, a draft);
for the paging tests also five copies of the sample conversation (ids 20–24, modified on 2016-02-0n at 10:00);
users Robert (users.json) and Ann; the inbox of mailbox_5.json ("Support", id 5, here the conversations' inbox); the
happiness report's Great rating of Ann's reply. The server pages two conversations at a time, filters
`modifiedSince` inclusively, issues bearer tokens for the app's client credentials, and can revoke them.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from tests.conftest import skip_or_fail
from tests.sources.loopback_http import ApiHandler, serving
from tests.sources.test_helpscout import ANN, grown_conversation
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.config import parse_config
from deskpulse.sources.api_client import load_cursor
from deskpulse.sources.helpscout import import_helpscout
from deskpulse.sources.helpscout_api import (
    HelpScoutAccount,
    HelpScoutApiError,
    HelpScoutClient,
    account_from_environment,
    fetch_helpscout,
)
from deskpulse.store import Store

CONFIG = parse_config({"helpdesk": {"timezone": "UTC"}})
APP_ID, SECRET = "app-1", "s3cret"
CONVERSATIONS = "/v2/conversations"
EPOCH = "1970-01-01T00:00:00Z"
NOW = datetime(2016, 3, 1)
ENV = {"HELPSCOUT_APP_ID": APP_ID, "HELPSCOUT_APP_SECRET": SECRET}


@dataclass
class FakeHelpScout:
    """What the local server answers, the requests it saw, and the tokens it issued."""

    conversations: list[dict[str, Any]] = field(default_factory=list)  # v2
    users: list[dict[str, Any]] = field(default_factory=list)
    mailboxes: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    reports_forbidden: bool = False
    throttle_once: set[str] = field(default_factory=set)  # paths whose next request gets a 429
    break_once: set[str] = field(default_factory=set)  # `modifiedSince` values whose next page is cut off
    tokens: set[str] = field(default_factory=set)
    issued: int = 0
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    def conversation_requests(self) -> list[dict[str, str]]:
        return [dict(parse_qsl(urlsplit(r).query)) for r in self.requests if urlsplit(r).path == CONVERSATIONS]


@pytest.fixture
def samples(shared_data: Path) -> Path:
    folder = shared_data / "helpscout-api-v1-fixtures" / "src" / "test" / "resources" / "responses"
    if not folder.is_dir():
        skip_or_fail(f"{folder} not found")
    return folder


@pytest.fixture
def helpscout(samples: Path, tmp_path: Path) -> Iterator[FakeHelpScout]:
    served = FakeHelpScout()
    grown = json.loads(grown_conversation(samples, tmp_path).read_text())["item"]
    served.conversations.append(v2_conversation(grown))
    robert = json.loads((samples / "users.json").read_text())["items"][0]
    served.users = [v2_user(robert), v2_user({**ANN, "createdAt": "2015-01-01T00:00:00Z"})]
    mailbox = json.loads((samples / "mailbox_5.json").read_text())["item"]
    served.mailboxes = [{"id": 1, "name": mailbox["name"], "slug": mailbox["slug"], "email": mailbox["email"]}]
    served.ratings = [
        {"number": 123, "threadid": 9000006, "threadCreatedAt": "2016-01-04T13:00:00Z", "id": 10, "type": "email",
         "ratingId": 1, "ratingCustomerId": 150, "ratingComments": "Great help", "ratingCreatedAt":
         "2016-01-04T15:00:00Z", "ratingCustomerName": "Karl Tester", "ratingUserId": 111, "ratingUserName": "Ann"},
    ]  # fmt: skip

    class Handler(ApiHandler):
        content_type = "application/hal+json"

        def do_POST(self) -> None:
            served.requests.append(self.path)
            form = dict(parse_qsl(self.rfile.read(int(self.headers["Content-Length"])).decode()))
            if (form.get("grant_type"), form.get("client_id"), form.get("client_secret")) != (
                "client_credentials", APP_ID, SECRET):  # fmt: skip
                return self.send(401, {"error": "invalid_client"})
            served.issued += 1
            token = f"token-{served.issued}"
            served.tokens.add(token)
            return self.send(200, {"token_type": "bearer", "access_token": token, "expires_in": 172800})

        def do_GET(self) -> None:
            served.requests.append(self.path)
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            if self.headers.get("Authorization", "").removeprefix("Bearer ") not in served.tokens:
                return self.send(401, {"error": "invalid_token"})
            if parts.path in served.throttle_once:
                served.throttle_once.discard(parts.path)
                return self.send(429, {"message": "Too many requests"}, {"Retry-After": "3"})
            number = int(query.get("page", 1))
            if parts.path == "/v2/reports/happiness/ratings":
                if served.reports_forbidden:
                    return self.send(403, {"message": "Reports are not available on this plan"})
                results = [r for r in served.ratings if query["start"] <= r["ratingCreatedAt"] <= query["end"]]
                return self.send(200, {"results": results, "page": number, "pages": 1, "count": len(results)})
            if parts.path == CONVERSATIONS:
                since = query["modifiedSince"]
                if since in served.break_once:
                    served.break_once.discard(since)
                    return self.cut_off(b'{"_embedded": {"conversations": [{"id": 2')
                listed = sorted((c for c in served.conversations if c["updatedAt"] >= since),
                                key=lambda c: c["updatedAt"])  # fmt: skip
                return self.send(200, hal("conversations", listed, number, size=2))
            listed = {"/v2/users": served.users, "/v2/mailboxes": served.mailboxes}[parts.path]
            return self.send(200, hal(parts.path.rsplit("/", 1)[1], listed, number, size=50))

    with serving(Handler) as base_url:
        served.base_url = base_url
        yield served


def hal(key: str, items: list[dict[str, Any]], number: int, size: int) -> dict[str, Any]:
    """One page of a HAL list as API 2.0 sends it."""
    pages = (len(items) + size - 1) // size
    return {
        "_embedded": {key: items[(number - 1) * size : number * size]},
        "page": {"size": size, "totalElements": len(items), "totalPages": pages, "number": number},
    }


def v2_person(person: dict[str, Any] | None) -> dict[str, Any] | None:
    if person is None:
        return None
    return {"id": person.get("id"), "type": person.get("type"), "first": person.get("firstName"),
            "last": person.get("lastName"), "email": person.get("email")}  # fmt: skip


def v2_user(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "firstName": user["firstName"], "lastName": user["lastName"], "email": user["email"],
            "role": "user", "type": "user", "createdAt": user["createdAt"], "updatedAt": user["createdAt"]}  # fmt: skip


def v2_thread(thread: dict[str, Any]) -> dict[str, Any]:
    action = thread.get("actionType")
    return {
        "id": thread["id"],
        "type": "reply" if thread["type"] == "message" else thread["type"],
        "status": thread.get("status"),
        "state": thread.get("state"),
        "action": {"type": action, "text": action, "associatedEntities": {}} if action else None,
        "body": thread.get("body"),
        "source": thread.get("source"),
        "customer": v2_person(thread.get("customer")),
        "createdBy": v2_person(thread.get("createdBy")),
        "assignedTo": v2_person(thread.get("assignedTo")),
        "createdAt": thread["createdAt"],
        "_embedded": {"attachments": thread.get("attachments") or []},
    }


def v2_conversation(item: dict[str, Any]) -> dict[str, Any]:
    """A v1 conversation (`{"item": …}`'s item) as API 2.0 writes it; its inbox is the served inbox 1."""
    return {
        "id": item["id"],
        "number": item["number"],
        "threads": len(item["threads"]),
        "type": item["type"],
        "folderId": item["folderId"],
        "status": item["status"],
        "state": "draft" if item["isDraft"] else "published",
        "subject": item["subject"],
        "preview": item["preview"],
        "mailboxId": item["mailbox"]["id"],
        "assignee": v2_person(item.get("owner")),
        "createdBy": v2_person(item["createdBy"]),
        "createdAt": item["createdAt"],
        "updatedAt": item["modifiedAt"],
        "closedAt": item.get("closedAt"),
        "primaryCustomer": v2_person(item["customer"]),
        "tags": [{"id": 9000 + i, "color": "#929499", "tag": tag} for i, tag in enumerate(item.get("tags") or [])],
        "customFields": [],
        "_embedded": {"threads": [v2_thread(t) for t in item["threads"]]},
    }


def add_copies(served: FakeHelpScout, samples: Path) -> None:
    """Five copies of the sample conversation, ids 20–24, modified on 2016-02-0n (n = 1…5) at 10:00."""
    sample = json.loads((samples / "conversation_10.json").read_text())["item"]
    for number in range(20, 25):
        item = copy.deepcopy(sample)
        item["threads"][0]["id"] = number * 100
        item.update(id=number, number=number, modifiedAt=f"2016-02-0{number - 19}T10:00:00Z")
        served.conversations.append(v2_conversation(item))


def account(served: FakeHelpScout) -> HelpScoutAccount:
    return HelpScoutAccount(served.base_url, APP_ID, SECRET)


def stored(store: Store) -> dict[str, Any]:
    [(messages, distinct)] = store.execute("SELECT count(*), count(DISTINCT message_key) FROM messages")
    return {
        "messages": messages,
        "distinct_messages": distinct,
        "message_keys": {k for (k,) in store.execute("SELECT message_key FROM messages")},
        "tickets": store.execute("SELECT ticket_id, updated_at FROM source_tickets ORDER BY ticket_id"),
        "events": store.execute("SELECT event_id FROM ticket_events WHERE NOT inferred ORDER BY event_id"),
        "surveys": store.execute("SELECT survey_id FROM surveys ORDER BY survey_id"),
    }


def test_a_429_is_waited_for_pages_follow_the_cursor_and_a_second_fetch_stores_nothing_new(
    helpscout: FakeHelpScout, samples: Path, tmp_path: Path
) -> None:
    add_copies(helpscout, samples)
    helpscout.throttle_once.add(CONVERSATIONS)
    waits: list[float] = []
    with Store.open(tmp_path / "s.duckdb") as store:
        client = HelpScoutClient(account(helpscout), sleep=waits.append)
        first = fetch_helpscout(store, CONFIG, account(helpscout), client=client, now=NOW)
        after_first = stored(store)
        cursor = load_cursor(store, account(helpscout).source, "conversations")
        asked_before = len(helpscout.conversation_requests())
        second = fetch_helpscout(store, CONFIG, account(helpscout), now=NOW)
        after_second = stored(store)
    # The first conversations page was refused with Retry-After: 3, waited for (as asked, not measured), asked again.
    assert waits == first.waits == [3.0]
    asked = [(r["modifiedSince"], r["page"]) for r in helpscout.conversation_requests()[:asked_before]]
    # Two conversations a page, oldest change first: 10 (2016-01-04 14:00) and 20; then from one second before the
    # page's last change, page 1: 20–21, 21–22, 22–23, 23–24, and 24 alone ends the list.
    assert asked == [
        (EPOCH, "1"), (EPOCH, "1"),
        ("2016-02-01T09:59:59Z", "1"), ("2016-02-02T09:59:59Z", "1"), ("2016-02-03T09:59:59Z", "1"),
        ("2016-02-04T09:59:59Z", "1"),
    ]  # fmt: skip
    assert cursor == "2016-02-05T09:59:59Z"
    assert all(r["status"] == "all" and r["sortField"] == "modifiedAt" and r["sortOrder"] == "asc"
               and r["embed"] == "threads" for r in helpscout.conversation_requests())  # fmt: skip
    # 6 conversations; the grown one's 5 messages (the draft is never sent) and one "Hello" per copy: 10.
    assert [t for t, _ in after_first["tickets"]] == [f"helpscout-{n}" for n in (10, 20, 21, 22, 23, 24)]
    assert after_first["messages"] == after_first["distinct_messages"] == 10
    assert after_first["surveys"] == [("helpscout:10:9000006@2016-01-04T15:00:00Z",)]
    # The second fetch asks from the stored cursor only, gets conversation 24 again, and stores nothing new.
    assert [r["modifiedSince"] for r in helpscout.conversation_requests()[asked_before:]] == ["2016-02-05T09:59:59Z"]
    assert second.streams[2].resumed_from == "2016-02-05T09:59:59Z"
    assert (second.summary.stored, second.summary.updated, second.summary.quarantined) == (0, 0, 0)
    assert after_second == after_first


def test_an_expired_token_is_asked_again_once(helpscout: FakeHelpScout, tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.duckdb") as store:
        client = HelpScoutClient(account(helpscout))
        fetch_helpscout(store, CONFIG, account(helpscout), client=client, now=NOW)
        helpscout.tokens.clear()  # token-1 expired
        asked = len(helpscout.requests)
        fetch_helpscout(store, CONFIG, account(helpscout), client=client, now=NOW)
    # The second fetch's first request is refused (401), a new token is asked for and the request repeated.
    assert client.logins == 2
    assert helpscout.requests[asked : asked + 3] == ["/v2/users?page=1", "/v2/oauth2/token", "/v2/users?page=1"]
    assert helpscout.tokens == {"token-2"}


def test_an_interrupted_fetch_resumes_with_no_loss_and_no_duplicate(
    helpscout: FakeHelpScout, samples: Path, tmp_path: Path
) -> None:
    add_copies(helpscout, samples)
    with Store.open(tmp_path / "one-shot.duckdb") as store:
        fetch_helpscout(store, CONFIG, account(helpscout), now=NOW)
        one_shot = stored(store)
    # The page asked from one second before conversation 21's change breaks off: pages 10–20 and 20–21 are stored.
    helpscout.break_once.add("2016-02-02T09:59:59Z")
    with Store.open(tmp_path / "s.duckdb") as store:
        with pytest.raises(HelpScoutApiError, match="connection broke"):
            fetch_helpscout(store, CONFIG, account(helpscout), now=NOW)
        interrupted = stored(store)
        resumed = fetch_helpscout(store, CONFIG, account(helpscout), now=NOW)
        after = stored(store)
    assert [t for t, _ in interrupted["tickets"]] == ["helpscout-10", "helpscout-20", "helpscout-21"]
    assert resumed.streams[2].resumed_from == "2016-02-02T09:59:59Z"
    assert after == one_shot
    assert after["messages"] == after["distinct_messages"] == 10


def test_a_v2_conversation_gives_the_rows_of_its_v1_twin(
    helpscout: FakeHelpScout, samples: Path, tmp_path: Path
) -> None:
    tickets = ("SELECT ticket_id, status, source_status, requester, mailbox, channel, assignee, group_name, "
               "created_at, updated_at, resolved_at, subject, excluded_reason FROM source_tickets")  # fmt: skip
    messages = ("SELECT message_key, author_role, from_address, is_public, body_text, received_at, attachment_count "
                "FROM messages ORDER BY message_key")  # fmt: skip
    events = ("SELECT event_id, kind, old_value, new_value, actor, occurred_at FROM ticket_events WHERE NOT inferred "
              "ORDER BY event_id")  # fmt: skip
    tags = "SELECT ticket_id, tag FROM ticket_tags ORDER BY tag"
    rows = {}
    with Store.open(tmp_path / "v1.duckdb") as store:
        import_helpscout(store, CONFIG, [grown_conversation(samples, tmp_path)])
        rows["v1"] = [store.execute(query) for query in (tickets, messages, events, tags)]
    with Store.open(tmp_path / "v2.duckdb") as store:
        fetch_helpscout(store, CONFIG, account(helpscout), now=NOW)
        rows["v2"] = [store.execute(query) for query in (tickets, messages, events, tags)]
    assert rows["v2"] == rows["v1"]
    [ticket], found_messages, found_events, _ = rows["v2"]
    # The same facts, not empty ones: Ann's conversation, resolved at her reply; 5 messages; 6 changes.
    assert ticket[:7] == ("helpscout-10", "resolved", "closed", "karl@worldoftesters.com", "Support", "email",
                          "ann@example.test")  # fmt: skip
    assert (len(found_messages), len(found_events)) == (5, 6)


def test_the_fetch_command_reads_the_environment_and_kpis_work_on_the_store(
    helpscout: FakeHelpScout, tmp_path: Path
) -> None:
    db = str(tmp_path / "s.duckdb")
    arguments = ["--db", db, "fetch", "helpscout", "--url", helpscout.base_url, "--format", "json"]
    missing = CliRunner().invoke(app, arguments, env={"HELPSCOUT_APP_ID": "", "HELPSCOUT_APP_SECRET": ""})
    assert missing.exit_code != 0
    assert "$HELPSCOUT_APP_ID and $HELPSCOUT_APP_SECRET" in str(missing.exception)
    refused = CliRunner().invoke(app, arguments, env={**ENV, "HELPSCOUT_APP_SECRET": "wrong"})
    assert "Help Scout refused the login" in str(refused.exception)
    assert "/v2/oauth2/token (401): check $HELPSCOUT_APP_ID and $HELPSCOUT_APP_SECRET" in str(refused.exception)
    result = CliRunner().invoke(app, arguments, env=ENV)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tickets"] == 1
    kpis = CliRunner().invoke(app, ["--db", db, "kpis", "--period", "all", "--metrics",
                                    "first_response_time,reopen_rate,csat", "--format", "json"])  # fmt: skip
    assert kpis.exit_code == 0, kpis.output
    [row] = json.loads(kpis.output)["rows"]
    # Karl wrote Sun 21:35:51; the first public agent reply is Mon 09:30:00 (the 09:00 note is none):
    # 2 h 24 min 9 s + 9 h 30 min = 42,849 s.
    assert (row["first_response_time"]["n"], row["first_response_time"]["median"]) == (1, 42849.0)
    # Resolved at 09:30 and 13:00; Karl undid the first at 12:00: 1 reopen in 2 resolutions.
    assert (row["reopen_rate"]["value"], row["reopen_rate"]["n"]) == (0.5, 2)
    # The report's one rating is Great: 1 of 1.
    assert (row["csat"]["value"], row["csat"]["n"]) == (1.0, 1)


def test_a_plan_without_reports_is_said_and_the_conversations_fetched(helpscout: FakeHelpScout, tmp_path: Path) -> None:
    helpscout.reports_forbidden = True
    with Store.open(tmp_path / "s.duckdb") as store:
        report = fetch_helpscout(store, CONFIG, account(helpscout), now=NOW)
        surveys = store.count("surveys")
        cursor = load_cursor(store, account(helpscout).source, "ratings")
    assert [p[1] for p in report.summary.problems if p[1] == "ratings_not_available"] == ["ratings_not_available"]
    assert (report.summary.tickets, surveys, cursor) == (1, 0, None)


def test_credentials_and_the_api_url_are_checked() -> None:
    with pytest.raises(HelpScoutApiError, match=r"set \$HELPSCOUT_APP_SECRET:"):
        account_from_environment(None, {"HELPSCOUT_APP_ID": APP_ID})
    with pytest.raises(HelpScoutApiError, match="use https"):
        account_from_environment("http://api.helpscout.net", ENV)
    found = account_from_environment(None, ENV)
    assert (found.base_url, found.source) == ("https://api.helpscout.net", "helpscout://api.helpscout.net/app-1")
    assert SECRET not in repr(found)
