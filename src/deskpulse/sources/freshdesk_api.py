"""`deskpulse fetch freshdesk`: read a Freshdesk account's API v2 incrementally into the store.

The tickets changed since the last fetch come from `/api/v2/tickets?updated_since=…&order_by=updated_at&order_type=
asc` with their stats, requester and description, a page at a time; each changed ticket brings its conversations
and time entries (`/tickets/{id}/conversations`, `/tickets/{id}/time_entries`). A page is stored with everything it
brought before the cursor (the page's last `updated_at`) is saved, so an interrupted fetch resumes at that page.
Freshdesk lists no page of tickets beyond the 300th: when a fetch reaches it, it asks again from the last ticket's
`updated_at`, page 1 (tickets of that second are read twice and stored once). Agents and groups, the names the
ids stand for, are read whole first; satisfaction ratings by `created_since`. Every object goes through the file
reader's translation (`deskpulse.sources.freshdesk.read_freshdesk_objects`), so a fetched ticket and a saved one
are stored alike. Credentials come from the environment only: FRESHDESK_API_KEY, with FRESHDESK_DOMAIN or `--url`.
"""

from __future__ import annotations

import base64
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.ingest import rebuild_if_pending
from deskpulse.sources.api_client import (
    Api,
    ApiClient,
    BrokenPage,
    FetchReport,
    Response,
    StreamReport,
    checked_base_url,
    load_cursor,
    missing_variables,
    page_json,
    save_cursor,
    store_helpdesk_page,
)
from deskpulse.sources.canonical import SourceSummary
from deskpulse.sources.freshdesk import (
    SOURCE,
    FirstResponseAgreement,
    compare_first_responses,
    read_freshdesk_objects,
)
from deskpulse.sources.helpdesk_files import loose_utc
from deskpulse.store import Store

ENV_DOMAIN = "FRESHDESK_DOMAIN"
ENV_KEY = "FRESHDESK_API_KEY"
PAGE_SIZE = 100  # Freshdesk's largest page
PAGE_CAP = 300  # Freshdesk answers no list page beyond this one
EPOCH = "1970-01-01T00:00:00Z"  # without updated_since, Freshdesk lists only the last 30 days' tickets
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class FreshdeskApiError(UserError):
    """The Freshdesk API cannot be used: missing credentials, a refused login, a page it cannot go beyond."""


@dataclass(frozen=True)
class FreshdeskAccount:
    base_url: str  # https://acme.freshdesk.com
    api_key: str = field(repr=False)

    @property
    def source(self) -> str:
        """The account as `sync_checkpoints.source` names it: no credentials in it."""
        return f"freshdesk://{urlsplit(self.base_url).netloc}"

    @property
    def authorization(self) -> str:
        """Freshdesk's API key authentication: Basic with the key as the user and "X" as the password."""
        return "Basic " + base64.b64encode(f"{self.api_key}:X".encode()).decode("ascii")


def account_from_environment(base_url: str | None = None, environ: Mapping[str, str] = os.environ) -> FreshdeskAccount:
    """The account of `--url` (else https://$FRESHDESK_DOMAIN, `acme` meaning acme.freshdesk.com) and the API key of
    the environment; a missing one is named."""
    if base_url is None:
        domain = environ.get(ENV_DOMAIN, "").strip()
        if not domain:
            raise FreshdeskApiError(f"set ${ENV_DOMAIN} (acme, or acme.freshdesk.com) or pass --url")
        base_url = f"https://{domain if '.' in domain else domain + '.freshdesk.com'}"
    base_url = checked_base_url(base_url, "https://acme.freshdesk.com", FreshdeskApiError)
    if missing_variables(environ, ENV_KEY):
        raise FreshdeskApiError(
            f"set ${ENV_KEY}: an agent's API key (Profile settings > View API key); deskpulse reads it from the "
            "environment only"
        )
    return FreshdeskAccount(base_url, environ[ENV_KEY].strip())


class FreshdeskClient(ApiClient):
    """GETs to one Freshdesk account's API v2 (`deskpulse.sources.api_client.ApiClient`)."""

    def __init__(self, account: FreshdeskAccount, *, sleep: Callable[[float], None] = time.sleep, timeout: float = 60):
        hints = {401: f"check ${ENV_KEY}", 403: "the API key's agent may not see this; use an admin's key"}
        api = Api("Freshdesk", account.base_url, FreshdeskApiError, "/api/v2/", hints)
        super().__init__(api, lambda: account.authorization, sleep=sleep, timeout=timeout)


@dataclass
class FreshdeskFetchReport(FetchReport):
    """A fetch, with our first responses set beside Freshdesk's `stats.first_responded_at` as on an import."""

    agreement: FirstResponseAgreement = field(default_factory=FirstResponseAgreement)

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "first_response_agreement": self.agreement.as_dict()}


def fetch_freshdesk(
    store: Store,
    config: Config,
    account: FreshdeskAccount,
    *,
    custom_statuses: Mapping[int, str] | None = None,
    client: FreshdeskClient | None = None,
    page_size: int = PAGE_SIZE,
    page_cap: int = PAGE_CAP,
) -> FreshdeskFetchReport:
    """Fetch what changed since the last fetch, page by page, storing each page before its cursor moves; then
    rebuild the tickets once and compare our first responses with Freshdesk's. ``page_size`` and ``page_cap``
    are Freshdesk's (100 and 300), smaller in tests."""
    fetch = _Fetch(store, config, account, client or FreshdeskClient(account), custom_statuses or {}, page_size)
    fetch.lookups()
    fetch.tickets(page_cap)
    fetch.ratings()
    report = fetch.report
    report.waits = list(fetch.client.waits)
    report.summary.tickets = rebuild_if_pending(store, config) or store.count("tickets")
    report.agreement = compare_first_responses(store, config, fetch.first_responded_at)
    return report


class _Fetch:
    """One fetch's state: the client, the lookups every page is translated with, the report."""

    def __init__(
        self,
        store: Store,
        config: Config,
        account: FreshdeskAccount,
        client: FreshdeskClient,
        custom_statuses: Mapping[int, str],
        page_size: int,
    ):
        self.store, self.config, self.account, self.client = store, config, account, client
        self.custom_statuses = custom_statuses
        self.page_size = page_size
        self.report = FreshdeskFetchReport(account.source, SourceSummary(SOURCE))
        self.lookup_objects: list[tuple[str, Any]] = []  # agents and groups, raw: who the ids of every page are
        self.first_responded_at: dict[str, Any] = {}

    def lookups(self) -> None:
        """Agents and groups, read whole (small lists); the agents are stored, both name the ids of every page."""
        for name, path in (("agents", "/api/v2/agents"), ("groups", "/api/v2/groups")):
            stream = StreamReport(name)
            self.report.streams.append(stream)
            try:
                for url, page in self._pages(f"{path}?per_page={self.page_size}"):
                    self.lookup_objects += [(f"{url}[{i}]", value) for i, value in enumerate(page)]
                    stream.pages += 1
            except BrokenPage:
                continue  # quarantined; the ids it would have named stay ids
        self._store([], with_agents=True)

    def tickets(self, page_cap: int) -> None:
        """Changed tickets, oldest change first. After each stored page the cursor is its last ticket's
        `updated_at`, and the next page is asked from there, page 1: a ticket updated during the fetch moves to the
        end of the list, and paging on by number would then skip the ticket it pushed onto a page already read.
        Only a whole page updated within one second goes on by page number (up to Freshdesk's last page)."""
        stream = StreamReport("tickets", resumed_from=load_cursor(self.store, self.account.source, "tickets"))
        self.report.streams.append(stream)
        since, number = stream.resumed_from or EPOCH, 1
        while True:
            url = (
                f"/api/v2/tickets?updated_since={quote(since, safe='')}&order_by=updated_at&order_type=asc"
                f"&include=stats,requester,description&per_page={self.page_size}&page={number}"
            )
            response = self.client.fetch(url)
            try:
                tickets = self._list(response, url)
                objects = [(f"{url}[{i}]", ticket) for i, ticket in enumerate(tickets)]
                for ticket in tickets:
                    objects += self._children(ticket)
            except BrokenPage:
                return  # quarantined; the cursor stays before this page, which the next fetch asks again
            self._store(objects)
            stream.pages += 1
            times = [t.get("updated_at") for t in tickets if isinstance(t, dict) and loose_utc(t.get("updated_at"))]
            last = max(times, key=lambda t: loose_utc(t) or datetime.min, default=None)
            if last is not None and (loose_utc(last) or datetime.min) > (loose_utc(since) or datetime.min):
                save_cursor(self.store, self.account.source, "tickets", last)
                stream.cursor = last
                if _next_link(response) is None:
                    return
                since, number = last, 1
                continue
            if _next_link(response) is None:
                return
            if number >= page_cap:
                raise FreshdeskApiError(
                    f"more than {page_cap * self.page_size} tickets were updated at {since}: Freshdesk lists no page "
                    f"beyond {page_cap}, so deskpulse cannot go past that second"
                )
            number += 1

    def ratings(self) -> None:
        """Satisfaction ratings created since the last fetch's newest; the cursor moves once all are stored (the
        API promises no order, so no page's newest rating says that the older ones were read)."""
        stream = StreamReport(
            "satisfaction_ratings", resumed_from=load_cursor(self.store, self.account.source, "satisfaction_ratings")
        )
        self.report.streams.append(stream)
        newest = stream.resumed_from
        since = quote(newest or EPOCH, safe="")
        try:
            for url, page in self._pages(f"/api/v2/surveys/satisfaction_ratings?created_since={since}&per_page="
                                         f"{self.page_size}"):  # fmt: skip
                self._store([(f"{url}[{i}]", rating) for i, rating in enumerate(page)])
                stream.pages += 1
                times = [r.get("created_at") for r in page if isinstance(r, dict)]
                newest = max([newest, *times], key=lambda t: loose_utc(t) or datetime.min)
        except BrokenPage:
            return  # quarantined; the next fetch reads the ratings from the same time again
        if newest is not None and newest != stream.resumed_from:
            save_cursor(self.store, self.account.source, "satisfaction_ratings", newest)
            stream.cursor = newest

    def _children(self, ticket: Any) -> list[tuple[str, Any]]:
        """A ticket's conversations and time entries, every page of them."""
        if not isinstance(ticket, dict) or ticket.get("id") is None:
            return []  # the translation rejects it with its reason
        found: list[tuple[str, Any]] = []
        for kind in ("conversations", "time_entries"):
            for url, page in self._pages(f"/api/v2/tickets/{ticket['id']}/{kind}?per_page={self.page_size}"):
                found += [(f"{url}[{i}]", value) for i, value in enumerate(page)]
        return found

    def _pages(self, first: str) -> Iterator[tuple[str, list[Any]]]:
        """``(url, list)`` for every page of a list, following Freshdesk's `Link: <…>; rel="next"` header."""
        url: str | None = first
        while url is not None:
            response = self.client.fetch(url)
            yield url, self._list(response, url)
            url = _next_link(response)

    def _list(self, response: Response, url: str) -> list[Any]:
        """The objects of a list page; `BrokenPage` (the page quarantined) when it is not a JSON list."""
        page: list[Any] = page_json(self.store, self.config, SOURCE, response.body, url, list, self.report.summary)
        return page

    def _store(self, objects: list[tuple[str, Any]], *, with_agents: bool = False) -> None:
        """Translate one page with the lookups and store it; the agents only once (``with_agents``)."""
        read = read_freshdesk_objects([*self.lookup_objects, *objects], self.custom_statuses)
        if not with_agents:
            read.agents = []
        self.first_responded_at.update(read.first_responded_at)
        store_helpdesk_page(self.store, self.config, SOURCE, read, self.report.summary)


def _next_link(response: Response) -> str | None:
    """The next page's URL from the `Link` header; None on the last page."""
    found = _NEXT.search(response.headers.get("Link") or "")
    return found.group(1) if found else None
