"""`deskpulse fetch zendesk` against a real HTTP server on 127.0.0.1 that answers with the zenpy fixture's recorded
API responses: rate limiting with Retry-After, cursor pagination, resuming from the stored cursor, a malformed
page, and credentials. The recorded pages name their next page on the recording's host (z3n-jteitelbaum.zendesk.com);
the client asks its own account's host for it, so the pages are served as recorded.

The recordings were made without sideloads, so the server ignores `include`; a cursor the recording does not go
beyond is answered as Zendesk answers the end of an export: no tickets, `end_of_stream` true.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from tests.conftest import skip_or_fail
from tests.sources.loopback_http import ApiHandler, serving
from tests.sources.zendesk_cassettes import ZENPY, recorded_gets
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.config import parse_config
from deskpulse.sources.api_client import load_cursor
from deskpulse.sources.zendesk_api import (
    ZendeskAccount,
    ZendeskApiError,
    ZendeskClient,
    account_from_environment,
    fetch_zendesk,
)
from deskpulse.store import Store

CONFIG = parse_config({"helpdesk": {"timezone": "UTC"}})
TICKETS = "/api/v2/incremental/tickets/cursor.json"
EMAIL, TOKEN = "agent@acme.test", "s3cret"
# The page of TicketsIncrementalTest.test_get_values for start_time=0: 87 tickets, the whole export
# (end_of_stream), and the cursor after it ("1707271741.0||4045|" in base64: the last change's time and ticket).
WHOLE_EXPORT_CURSOR = "MTcwNzI3MTc0MS4wfHw0MDQ1fA=="


@dataclass
class RecordedZendesk:
    """What the local server answers: recorded pages by path and query, and the requests it saw."""

    pages: dict[tuple[str, frozenset[tuple[str, str]]], str] = field(default_factory=dict)
    throttle_once: set[str] = field(default_factory=set)  # paths whose next request gets a 429
    broken: set[str] = field(default_factory=set)  # paths answered with something that is not JSON
    requests: list[str] = field(default_factory=list)
    base_url: str = ""

    def add(self, url: str, body: str) -> None:
        parts = urlsplit(url)
        self.pages[parts.path, _query(parts.query)] = body


def _query(text: str) -> frozenset[tuple[str, str]]:
    return frozenset((k, v) for k, v in parse_qsl(text) if k != "include")


@pytest.fixture
def zendesk(shared_data: Path) -> Iterator[RecordedZendesk]:
    if not (shared_data / ZENPY).is_dir():
        skip_or_fail(f"{shared_data / ZENPY} not found")
    served = RecordedZendesk()

    class Handler(ApiHandler):
        def do_GET(self) -> None:
            served.requests.append(self.path)
            parts = urlsplit(self.path)
            if self.headers.get("Authorization") != ZendeskAccount("", EMAIL, TOKEN).authorization:
                return self.send(401, '{"error": "Couldn\'t authenticate you"}')
            if parts.path in served.throttle_once:
                served.throttle_once.discard(parts.path)
                return self.send(429, '{"error": "APIRateLimitExceeded"}', {"Retry-After": "1"})
            if parts.path in served.broken:
                return self.send(200, '{"groups": [{"id": 1, "name": "Supp')
            body = served.pages.get((parts.path, _query(parts.query)))
            if body is None and parts.path == TICKETS and "cursor" in dict(parse_qsl(parts.query)):
                cursor = dict(parse_qsl(parts.query))["cursor"]
                body = json.dumps({"tickets": [], "after_cursor": cursor, "after_url": None, "end_of_stream": True})
            if body is None:
                return self.send(404, '{"error": "InvalidEndpoint"}')
            return self.send(200, body)

    with serving(Handler) as base_url:
        served.base_url = base_url
        yield served


def serve_cassette(served: RecordedZendesk, data: Path, path: str, cassette: str) -> None:
    for recorded in recorded_gets(data, path):
        if cassette in recorded.cassette:
            served.add(recorded.url, recorded.body)


def account(served: RecordedZendesk) -> ZendeskAccount:
    return ZendeskAccount(served.base_url, EMAIL, TOKEN)


def test_a_429_is_retried_after_the_wait_it_asks_and_a_second_fetch_resumes_from_the_cursor(
    zendesk: RecordedZendesk, shared_data: Path, tmp_path: Path
) -> None:
    serve_cassette(zendesk, shared_data, TICKETS, "TicketsIncrementalTest.test_get_values")
    zendesk.throttle_once.add(TICKETS)
    waits: list[float] = []
    with Store.open(tmp_path / "s.duckdb") as store:
        client = ZendeskClient(account(zendesk), sleep=waits.append)
        first = fetch_zendesk(store, CONFIG, account(zendesk), streams=("tickets",), client=client)
        stored = store.count("source_tickets")
        cursor = load_cursor(store, account(zendesk).source, "tickets")
        requests_before = len(zendesk.requests)
        second = fetch_zendesk(store, CONFIG, account(zendesk), streams=("tickets",), client=ZendeskClient(
            account(zendesk), sleep=waits.append))  # fmt: skip
        after = store.count("source_tickets")
    # The first request was refused with Retry-After: 1, waited for (as asked, not measured) and repeated.
    assert waits == [1.0]
    assert first.waits == [1.0]
    start = "/api/v2/incremental/tickets/cursor.json?start_time=0&include=metric_sets"
    assert zendesk.requests[:2] == [start, start]
    assert stored == 87
    assert cursor == WHOLE_EXPORT_CURSOR
    # The second fetch asks from the stored cursor, gets the end of the export, and adds nothing.
    assert zendesk.requests[requests_before:] == [
        "/api/v2/incremental/tickets/cursor.json?cursor=MTcwNzI3MTc0MS4wfHw0MDQ1fA%3D%3D&include=metric_sets"
    ]
    assert second.streams[0].resumed_from == WHOLE_EXPORT_CURSOR
    assert (second.summary.stored, second.summary.updated, second.summary.duplicates) == (0, 0, 0)
    assert after == stored


def test_pages_are_followed_by_their_cursor_and_each_one_moves_the_checkpoint(
    zendesk: RecordedZendesk, shared_data: Path, tmp_path: Path
) -> None:
    # TicketsIncrementalTest.test_pagination followed the export one ticket per page for 100 pages.
    serve_cassette(zendesk, shared_data, TICKETS, "TicketsIncrementalTest.test_pagination")
    with Store.open(tmp_path / "s.duckdb") as store:
        report = fetch_zendesk(store, CONFIG, account(zendesk), streams=("tickets",), page_size=1)
        cursor = load_cursor(store, account(zendesk).source, "tickets")
        tickets = store.count("source_tickets")
    # 100 recorded pages, then the end of the export after the last recorded cursor: 101 pages, 100 tickets.
    assert report.streams[0].pages == 101
    assert tickets == 100
    assert cursor == "MTY5NTA1MjcyNy4wfHwxMzB8"  # the 100th page's cursor ("1695052727.0||130|")


def test_a_malformed_page_is_quarantined_and_the_other_streams_fetched(
    zendesk: RecordedZendesk, shared_data: Path, tmp_path: Path
) -> None:
    serve_cassette(zendesk, shared_data, TICKETS, "TicketsIncrementalTest.test_get_values")
    zendesk.broken.add("/api/v2/groups.json")
    with Store.open(tmp_path / "s.duckdb") as store:
        report = fetch_zendesk(store, CONFIG, account(zendesk), streams=("groups", "tickets"))
        quarantined = store.execute("SELECT reason FROM quarantine")
        tickets = store.count("source_tickets")
    assert quarantined == [("malformed_page",)]
    assert report.summary.quarantined == 1
    assert tickets == 87


def test_fetch_command_reads_credentials_from_the_environment(
    zendesk: RecordedZendesk, shared_data: Path, tmp_path: Path
) -> None:
    serve_cassette(zendesk, shared_data, TICKETS, "TicketsIncrementalTest.test_get_values")
    arguments = ["--db", str(tmp_path / "s.duckdb"), "fetch", "zendesk", "--url", zendesk.base_url, "--stream",
                 "tickets", "--format", "json"]  # fmt: skip
    result = CliRunner().invoke(app, arguments, env={"ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["account"], report["records_stored"]) == (f"zendesk://{urlsplit(zendesk.base_url).netloc}", 87)
    refused = CliRunner().invoke(app, arguments, env={"ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": "wrong"})
    assert refused.exit_code != 0
    assert "401" in str(refused.exception)


def test_credentials_and_the_account_url_are_checked() -> None:
    with pytest.raises(ZendeskApiError, match=r"\$ZENDESK_SUBDOMAIN"):
        account_from_environment(None, {})
    with pytest.raises(ZendeskApiError, match=r"\$ZENDESK_EMAIL and \$ZENDESK_API_TOKEN"):
        account_from_environment(None, {"ZENDESK_SUBDOMAIN": "acme"})
    with pytest.raises(ZendeskApiError, match="use https"):
        account_from_environment("http://acme.zendesk.com", {"ZENDESK_EMAIL": EMAIL, "ZENDESK_API_TOKEN": TOKEN})
    found = account_from_environment(None, {"ZENDESK_SUBDOMAIN": "acme", "ZENDESK_EMAIL": EMAIL,
                                            "ZENDESK_API_TOKEN": TOKEN})  # fmt: skip
    assert (found.base_url, found.source) == ("https://acme.zendesk.com", "zendesk://acme.zendesk.com")
    assert TOKEN not in repr(found)
