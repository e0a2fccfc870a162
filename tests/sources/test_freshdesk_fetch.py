"""`deskpulse fetch freshdesk` against a real HTTP server on 127.0.0.1 that answers as Freshdesk's API v2 does, with
pages built from python-freshdesk's sample responses (freshdesk-api-fixtures, v2; see its PROVENANCE.md).

The served account: five copies of v2/ticket_1.json (ids 1–5; created 2016-05-18 04:36:04 UTC, open, requester
dummyname@example.com), ticket n updated on 2016-05-2n at 10:00 UTC; each with v2/conversations.json (a private note
at 2016-05-19 05:36:12 and a public reply at 05:36:14, both by agent 1, abc@xyz.com), ticket 5 with a third
conversation (the customer's thanks); v2/time_entries.json (one entry on each of tickets 1–3); v2/agents.json and
v2/groups.json; and two satisfaction ratings in the shape of the API's documentation (the samples hold none).

The server filters `updated_since` inclusively, orders by `updated_at`, pages by `per_page`/`page` with a `Link:
<…>; rel="next"` header while more follow, refuses pages beyond its cap as Freshdesk does beyond the 300th, and
answers 401 to any other API key.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
from tests.conftest import skip_or_fail
from tests.sources.loopback_http import ApiHandler, serving
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.config import parse_config
from deskpulse.sources.api_client import load_cursor
from deskpulse.sources.freshdesk_api import (
    FreshdeskAccount,
    FreshdeskApiError,
    FreshdeskClient,
    account_from_environment,
    fetch_freshdesk,
)
from deskpulse.store import Store

CONFIG = parse_config({"helpdesk": {"timezone": "UTC"}})
KEY = "fd-key"
TICKETS = "/api/v2/tickets"
EPOCH = "1970-01-01T00:00:00Z"


@dataclass
class FakeFreshdesk:
    """What the local server answers, and the requests it saw (path and query)."""

    tickets: list[dict[str, Any]] = field(default_factory=list)
    children: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # "/api/v2/tickets/1/conversations" → …
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # agents, groups, ratings by path
    page_cap: int = 300
    throttle_once: set[str] = field(default_factory=set)  # paths whose next request gets a 429
    break_once: set[str] = field(default_factory=set)  # `updated_since` values whose next page is cut off
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    def ticket_requests(self) -> list[dict[str, str]]:
        return [dict(parse_qsl(urlsplit(r).query)) for r in self.requests if urlsplit(r).path == TICKETS]


@pytest.fixture
def samples(shared_data: Path) -> Path:
    folder = shared_data / "freshdesk-api-fixtures" / "freshdesk" / "v2" / "tests" / "sample_json_data"
    if not folder.is_dir():
        skip_or_fail(f"{folder} not found")
    return folder


@pytest.fixture
def freshdesk(samples: Path) -> Iterator[FakeFreshdesk]:
    served = account_from_samples(samples)

    class Handler(ApiHandler):
        def do_GET(self) -> None:
            served.requests.append(self.path)
            parts = urlsplit(self.path)
            query = dict(parse_qsl(parts.query))
            if self.headers.get("Authorization") != FreshdeskAccount("", KEY).authorization:
                return self.send(401, {"code": "invalid_credentials", "message": "You have to be logged in"})
            if parts.path in served.throttle_once:
                served.throttle_once.discard(parts.path)
                return self.send(429, {"message": "You have exceeded the limit of requests per minute"},
                                  {"Retry-After": "7"})  # fmt: skip
            if parts.path == TICKETS:
                since = query["updated_since"]
                items = sorted((t for t in served.tickets if t["updated_at"] >= since), key=lambda t: t["updated_at"])
                if since in served.break_once:
                    served.break_once.discard(since)
                    return self.cut_off(b'[{"id": 3, "subj')
            elif parts.path.endswith("/satisfaction_ratings"):
                items = [r for r in served.lists[parts.path] if r["created_at"] >= query["created_since"]]
            else:
                items = served.children.get(parts.path, served.lists.get(parts.path, []))
            size, number = int(query.get("per_page", 30)), int(query.get("page", 1))
            if number > served.page_cap:
                return self.send(400, {"description": "Validation failed", "errors": [{"field": "page"}]})
            page = items[(number - 1) * size : number * size]
            more = len(items) > number * size
            following = urlencode({**query, "page": number + 1})
            link = {"Link": f'<{served.base_url}{parts.path}?{following}>; rel="next"'} if more else {}
            return self.send(200, page, link)

    with serving(Handler) as base_url:
        served.base_url = base_url
        yield served


def account_from_samples(samples: Path) -> FakeFreshdesk:
    def sample(name: str) -> Any:
        return json.loads((samples / name).read_text())

    served = FakeFreshdesk()
    ticket, conversations = sample("ticket_1.json"), sample("conversations.json")
    for number in range(1, 6):
        served.tickets.append({**copy.deepcopy(ticket), "id": number, "updated_at": f"2016-05-2{number}T10:00:00Z"})
        replies = [{**c, "id": 10 * number + c["id"], "ticket_id": number} for c in copy.deepcopy(conversations)]
        served.children[f"{TICKETS}/{number}/conversations"] = replies
    thanks = {
        **conversations[1],
        "id": 53,
        "ticket_id": 5,
        "incoming": True,
        "user_id": 6012691534,
        "from_email": "dummyname@example.com",
        "body_text": "Thanks!",
        "created_at": "2016-05-19T06:00:00Z",
    }
    served.children[f"{TICKETS}/5/conversations"].append(thanks)  # fmt: skip
    for entry in sample("time_entries.json"):
        served.children.setdefault(f"{TICKETS}/{entry['ticket_id']}/time_entries", []).append(entry)
    served.lists["/api/v2/agents"] = sample("agents.json")
    served.lists["/api/v2/groups"] = sample("groups.json")
    served.lists["/api/v2/surveys/satisfaction_ratings"] = [
        {"id": 7, "survey_id": 1, "user_id": 6012691534, "agent_id": 1, "feedback": "Slow", "group_id": None,
         "ticket_id": 1, "ratings": {"default_question": -102}, "created_at": "2016-05-20T07:00:00Z",
         "updated_at": "2016-05-20T07:00:00Z"},
        {"id": 8, "survey_id": 1, "user_id": 6012691534, "agent_id": 1, "feedback": "Thanks", "group_id": None,
         "ticket_id": 2, "ratings": {"default_question": 103}, "created_at": "2016-05-21T07:00:00Z",
         "updated_at": "2016-05-21T07:00:00Z"},
    ]  # fmt: skip
    return served


def account(served: FakeFreshdesk) -> FreshdeskAccount:
    return FreshdeskAccount(served.base_url, KEY)


def stored(store: Store) -> dict[str, Any]:
    """What a fetch left in the store, to compare two fetches by."""
    [(messages, distinct)] = store.execute("SELECT count(*), count(DISTINCT message_key) FROM messages")
    return {
        "messages": messages,
        "distinct_messages": distinct,
        "message_keys": {k for (k,) in store.execute("SELECT message_key FROM messages")},
        "tickets": store.execute("SELECT ticket_id, updated_at FROM source_tickets ORDER BY ticket_id"),
        "time_entries": store.execute("SELECT entry_id FROM time_entries ORDER BY entry_id"),
        "surveys": store.execute("SELECT survey_id, score FROM surveys ORDER BY survey_id"),
        "agents": store.execute("SELECT address FROM agents ORDER BY address"),
    }


def test_a_429_is_waited_for_pages_follow_the_cursor_and_a_second_fetch_stores_nothing_new(
    freshdesk: FakeFreshdesk, tmp_path: Path
) -> None:
    freshdesk.throttle_once.add(TICKETS)
    waits: list[float] = []
    with Store.open(tmp_path / "s.duckdb") as store:
        client = FreshdeskClient(account(freshdesk), sleep=waits.append)
        first = fetch_freshdesk(store, CONFIG, account(freshdesk), client=client, page_size=2)
        after_first = stored(store)
        cursor = load_cursor(store, account(freshdesk).source, "tickets")
        asked_before = len(freshdesk.ticket_requests())
        second = fetch_freshdesk(store, CONFIG, account(freshdesk), page_size=2)
        after_second = stored(store)
    # The first ticket page was refused with Retry-After: 7, waited for (as asked, not measured) and asked again.
    assert waits == first.waits == [7.0]
    asked = [(r["updated_since"], r["page"]) for r in freshdesk.ticket_requests()[:asked_before]]
    # Two tickets a page; after each page the next is asked from its last ticket's updated_at, page 1 (that
    # ticket comes again and is stored once): 1–2, 2–3, 3–4, 4–5, then no page follows.
    assert asked == [
        (EPOCH, "1"), (EPOCH, "1"),
        ("2016-05-22T10:00:00Z", "1"), ("2016-05-23T10:00:00Z", "1"), ("2016-05-24T10:00:00Z", "1"),
    ]  # fmt: skip
    assert cursor == "2016-05-25T10:00:00Z"
    # 5 tickets; 3 messages each (the description, the note, the reply) and ticket 5's thanks: 16; ticket 5's three
    # conversations came on two pages of two.
    assert after_first["messages"] == after_first["distinct_messages"] == 16
    assert any("/api/v2/tickets/5/conversations?per_page=2&page=2" in r for r in freshdesk.requests)
    assert after_first["time_entries"] == [("freshdesk:1",), ("freshdesk:2",), ("freshdesk:3",)]
    # -102 is unhappy (1 on good-okay-bad), 103 happy (5).
    assert after_first["surveys"] == [("freshdesk:7@2016-05-20T07:00:00Z", 1), ("freshdesk:8@2016-05-21T07:00:00Z", 5)]
    assert after_first["agents"] == [("abc@xyz.com",), ("superman@freshdesk.com",)]
    # The second fetch asks from the stored cursor only, gets ticket 5 again, and stores nothing new.
    assert [r["updated_since"] for r in freshdesk.ticket_requests()[asked_before:]] == ["2016-05-25T10:00:00Z"]
    assert second.streams[2].resumed_from == "2016-05-25T10:00:00Z"
    assert (second.summary.stored, second.summary.updated, second.summary.quarantined) == (0, 0, 0)
    assert after_second == after_first


def test_an_interrupted_fetch_resumes_with_no_loss_and_no_duplicate(freshdesk: FakeFreshdesk, tmp_path: Path) -> None:
    with Store.open(tmp_path / "one-shot.duckdb") as store:
        fetch_freshdesk(store, CONFIG, account(freshdesk), page_size=2)
        one_shot = stored(store)
    # The page asked from ticket 3's time breaks off mid-answer: the fetch stops there, pages 1–2 and 2–3 stored.
    freshdesk.break_once.add("2016-05-23T10:00:00Z")
    with Store.open(tmp_path / "s.duckdb") as store:
        with pytest.raises(FreshdeskApiError, match="connection broke"):
            fetch_freshdesk(store, CONFIG, account(freshdesk), page_size=2)
        interrupted = stored(store)
        resumed = fetch_freshdesk(store, CONFIG, account(freshdesk), page_size=2)
        after = stored(store)
    assert [t for t, _ in interrupted["tickets"]] == ["freshdesk-1", "freshdesk-2", "freshdesk-3"]
    assert resumed.streams[2].resumed_from == "2016-05-23T10:00:00Z"
    assert after == one_shot
    assert after["messages"] == after["distinct_messages"] == 16


def test_a_whole_page_updated_in_one_second_goes_on_by_page_number_up_to_the_cap(
    freshdesk: FakeFreshdesk, tmp_path: Path
) -> None:
    for ticket in freshdesk.tickets:
        ticket["updated_at"] = "2016-05-21T10:00:00Z"
    freshdesk.page_cap = 2
    # Five tickets of one second, two a page, no page beyond the 2nd: no cursor can go past that second.
    refusal = "more than 4 tickets were updated at 2016-05-21T10:00:00Z"
    with Store.open(tmp_path / "s.duckdb") as store, pytest.raises(FreshdeskApiError, match=refusal):
        fetch_freshdesk(store, CONFIG, account(freshdesk), page_size=2, page_cap=2)
    asked = [(r["updated_since"], r["page"]) for r in freshdesk.ticket_requests()]
    # Page 1 moved the cursor to that second; from there, page 1 and page 2 hold the same second only.
    assert asked == [(EPOCH, "1"), ("2016-05-21T10:00:00Z", "1"), ("2016-05-21T10:00:00Z", "2")]


def test_the_fetch_command_reads_the_environment_and_kpis_work_on_the_store(
    freshdesk: FakeFreshdesk, tmp_path: Path
) -> None:
    db = str(tmp_path / "s.duckdb")
    arguments = ["--db", db, "fetch", "freshdesk", "--url", freshdesk.base_url, "--format", "json"]
    missing = CliRunner().invoke(app, arguments, env={"FRESHDESK_API_KEY": ""})
    assert missing.exit_code != 0
    assert "$FRESHDESK_API_KEY" in str(missing.exception)
    refused = CliRunner().invoke(app, arguments, env={"FRESHDESK_API_KEY": "wrong"})
    assert "Freshdesk refused the login" in str(refused.exception)
    assert "(401): check $FRESHDESK_API_KEY" in str(refused.exception)
    result = CliRunner().invoke(app, arguments, env={"FRESHDESK_API_KEY": KEY})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["records_stored"] > 0, report["tickets"]) == (True, 5)
    kpis = CliRunner().invoke(app, ["--db", db, "kpis", "--period", "all", "--metrics",
                                    "tickets_created,first_response_time", "--format", "json"])  # fmt: skip
    assert kpis.exit_code == 0, kpis.output
    [row] = json.loads(kpis.output)["rows"]
    assert row["tickets_created"]["value"] == 5
    # Every ticket: from its description (2016-05-18 04:36:04) to the public reply (2016-05-19 05:36:14); the
    # private note two seconds before is no response: 24 h + 1 h + 10 s = 90,010 s.
    assert (row["first_response_time"]["n"], row["first_response_time"]["median"]) == (5, 90010.0)


def test_credentials_and_the_account_url_are_checked() -> None:
    with pytest.raises(FreshdeskApiError, match=r"\$FRESHDESK_DOMAIN"):
        account_from_environment(None, {"FRESHDESK_API_KEY": KEY})
    with pytest.raises(FreshdeskApiError, match=r"set \$FRESHDESK_API_KEY"):
        account_from_environment(None, {"FRESHDESK_DOMAIN": "acme"})
    with pytest.raises(FreshdeskApiError, match="use https"):
        account_from_environment("http://acme.freshdesk.com", {"FRESHDESK_API_KEY": KEY})
    found = account_from_environment(None, {"FRESHDESK_DOMAIN": "acme", "FRESHDESK_API_KEY": KEY})
    assert (found.base_url, found.source) == ("https://acme.freshdesk.com", "freshdesk://acme.freshdesk.com")
    assert account_from_environment(None, {"FRESHDESK_DOMAIN": "help.acme.com", "FRESHDESK_API_KEY": KEY}).base_url == (
        "https://help.acme.com"
    )
    assert KEY not in repr(found)
    # Basic authentication with the key as the user and X as the password.
    assert found.authorization == "Basic " + base64.b64encode(b"fd-key:X").decode()
