"""`deskpulse fetch helpscout`: read a Help Scout account through the Mailbox API 2.0 incrementally into the store.

The conversations modified since the last fetch come from `/v2/conversations?status=all&modifiedSince=…&sortField=
modifiedAt&sortOrder=asc&embed=threads`, with their threads, a page at a time. Each page is stored before the cursor
moves to its last conversation's modification time (less one second: the API compares to the second, and
conversations modified in that second must not be skipped whichever way it compares); the next page is then asked
from that cursor, page 1, so a conversation modified during the fetch (which moves to the end of the list) shifts
no unread conversation onto a page already read. Users and inboxes (mailboxes) are read whole first; ratings come
from the happiness ratings report (`/v2/reports/happiness/ratings`, Plus and Pro plans only: on other plans the
report is refused and the fetch says so). API 2.0 threads carry a rating without the time it was given, so those
are not read.

API 2.0 is not the v1 JSON the file reader (`deskpulse.sources.helpscout`) knows: `v1_conversation` and `v1_user`
turn its objects into v1's (thread type `reply` is v1's `message`, people's `first`/`last` are v1's
`firstName`/`lastName`, `_embedded.threads` v1's `threads`, …) so that one mapping translates both.

Credentials come from the environment only: HELPSCOUT_APP_ID and HELPSCOUT_APP_SECRET, an app's OAuth2 client
credentials, exchanged for a bearer token (`/v2/oauth2/token`) that is asked again when the API refuses it (401).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

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
from deskpulse.sources.helpdesk_files import loose_utc
from deskpulse.sources.helpscout import SOURCE, read_helpscout_objects
from deskpulse.store import Store

ENV_APP_ID = "HELPSCOUT_APP_ID"
ENV_APP_SECRET = "HELPSCOUT_APP_SECRET"
DEFAULT_URL = "https://api.helpscout.net"
EPOCH = "1970-01-01T00:00:00Z"
# API 2.0 thread words that v1 spelt otherwise; the rest are the same.
THREAD_TYPES = {"reply": "message", "beaconchat": "chat"}
THREAD_STATES = {"review": "underreview"}


class HelpScoutApiError(UserError):
    """The Help Scout API cannot be used: missing credentials, a refused login, an answer that is not JSON."""


@dataclass(frozen=True)
class HelpScoutAccount:
    base_url: str  # https://api.helpscout.net
    app_id: str
    app_secret: str = field(repr=False)

    @property
    def source(self) -> str:
        """The account as `sync_checkpoints.source` names it: the API's host and the app (its id is no secret)."""
        return f"helpscout://{urlsplit(self.base_url).netloc}/{self.app_id}"


def account_from_environment(base_url: str | None = None, environ: Mapping[str, str] = os.environ) -> HelpScoutAccount:
    """The API of `--url` (else https://api.helpscout.net) and the app's credentials from the environment; a
    missing one is named."""
    base_url = checked_base_url(base_url or DEFAULT_URL, DEFAULT_URL, HelpScoutApiError)
    missing = missing_variables(environ, ENV_APP_ID, ENV_APP_SECRET)
    if missing:
        raise HelpScoutApiError(
            f"set {' and '.join(missing)}: the App ID and App Secret of an app (Your Profile > My Apps > Create "
            "My App); deskpulse reads them from the environment only"
        )
    return HelpScoutAccount(base_url, environ[ENV_APP_ID].strip(), environ[ENV_APP_SECRET].strip())


class HelpScoutClient(ApiClient):
    """Requests to the Mailbox API 2.0 (`deskpulse.sources.api_client.ApiClient`) with a bearer token got from the
    app's client credentials, and got again when the API refuses it (tokens expire after two days)."""

    def __init__(self, account: HelpScoutAccount, *, sleep: Callable[[float], None] = time.sleep, timeout: float = 60):
        hints = {
            401: f"check ${ENV_APP_ID} and ${ENV_APP_SECRET}",
            403: "the app's user may not see this (the reports need a Plus or Pro plan)",
        }
        api = Api("Help Scout", account.base_url, HelpScoutApiError, "/v2/", hints)
        super().__init__(api, self._authorization, reauthorize=self._log_in, sleep=sleep, timeout=timeout)
        self.account = account
        self.logins = 0
        self._token: str | None = None

    def _authorization(self) -> str:
        if self._token is None:
            self._log_in()
        return f"Bearer {self._token}"

    def _log_in(self) -> None:
        """Exchange the client credentials for a token (OAuth2 client credentials grant)."""
        form = {"grant_type": "client_credentials", "client_id": self.account.app_id,
                "client_secret": self.account.app_secret}  # fmt: skip
        answer = self.send(
            "POST",
            self.account.base_url + "/v2/oauth2/token",
            urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
            authorized=False,
        )
        try:
            token = json.loads(answer.body).get("access_token")
        except (json.JSONDecodeError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise HelpScoutApiError(f"Help Scout's token answer holds no access_token: {answer.body[:200]}")
        self._token = token
        self.logins += 1


def fetch_helpscout(
    store: Store,
    config: Config,
    account: HelpScoutAccount,
    *,
    client: HelpScoutClient | None = None,
    now: datetime | None = None,
) -> FetchReport:
    """Fetch what changed since the last fetch, page by page, storing each page before its cursor moves; then
    rebuild the tickets once. ``now`` (naive UTC) ends the ratings report's window; tests fix it."""
    fetch = _Fetch(store, config, account, client or HelpScoutClient(account))
    fetch.lookups()
    fetch.conversations()
    fetch.ratings(now or datetime.now(UTC).replace(tzinfo=None))
    fetch.report.waits = list(fetch.client.waits)
    fetch.report.summary.tickets = rebuild_if_pending(store, config) or store.count("tickets")
    return fetch.report


class _Fetch:
    """One fetch's state: the client, the users every page is translated with, the inboxes' names, the report."""

    def __init__(self, store: Store, config: Config, account: HelpScoutAccount, client: HelpScoutClient):
        self.store, self.config, self.account, self.client = store, config, account, client
        self.report = FetchReport(account.source, SourceSummary(SOURCE))
        self.users: list[tuple[str, Any]] = []  # v1-shaped: who the ids of every page are
        self.mailboxes: dict[str, str] = {}  # inbox id → name

    def lookups(self) -> None:
        """Users and inboxes, read whole (small lists); the users are stored as agents."""
        for name, path in (("users", "/v2/users"), ("mailboxes", "/v2/mailboxes")):
            stream = StreamReport(name)
            self.report.streams.append(stream)
            try:
                for url, page in self._pages(path, name):
                    stream.pages += 1
                    for value in page:
                        if name == "users":
                            self.users.append((f"{url} user {value.get('id')}", v1_user(value)))
                        elif value.get("id") is not None:
                            self.mailboxes[str(value["id"])] = str(value.get("name") or "")
            except BrokenPage:
                continue  # quarantined; the ids it would have named stay ids
        self._store([], with_agents=True)

    def conversations(self) -> None:
        cursor = load_cursor(self.store, self.account.source, "conversations")
        stream = StreamReport("conversations", resumed_from=cursor)
        self.report.streams.append(stream)
        since, number = stream.resumed_from or EPOCH, 1
        while True:
            url = (
                f"/v2/conversations?status=all&modifiedSince={quote(since, safe='')}&sortField=modifiedAt"
                f"&sortOrder=asc&embed=threads&page={number}"
            )
            try:
                page = self._page(url)
            except BrokenPage:
                return  # quarantined; the cursor stays before this page, which the next fetch asks again
            found = _embedded(page, "conversations")
            self._store([(f"{url} conversation {c.get('id')}", v1_conversation(c, self.mailboxes)) for c in found])
            stream.pages += 1
            last = max((m for m in (loose_utc(_modified_at(c)) for c in found) if m is not None), default=None)
            if last is not None and last - timedelta(seconds=1) > (loose_utc(since) or datetime.min):
                cursor = _iso(last - timedelta(seconds=1))
                save_cursor(self.store, self.account.source, "conversations", cursor)
                stream.cursor = cursor
                if number < _total_pages(page):
                    since, number = cursor, 1  # from where this page ended: no page drifts under a later change
                    continue
                return
            if number >= _total_pages(page):
                return
            number += 1  # a whole page modified within one second: on by page number

    def ratings(self, now: datetime) -> None:
        """The happiness ratings report from the last fetch's end to ``now``; its cursor moves once all are stored.
        A plan without reports (403) is said, not an error: the conversations are fetched all the same."""
        stream = StreamReport("ratings", resumed_from=load_cursor(self.store, self.account.source, "ratings"))
        self.report.streams.append(stream)
        start, end = stream.resumed_from or EPOCH, _iso(now)
        path = (
            f"/v2/reports/happiness/ratings?start={quote(start, safe='')}&end={quote(end, safe='')}&rating=all"
            "&sortField=modifiedAt&sortOrder=ASC"
        )
        try:
            for url, results in self._pages(path, "results"):
                self._store([(f"{url} rating {i}", rating) for i, rating in enumerate(results)])
                stream.pages += 1
        except BrokenPage:
            return  # quarantined; the next fetch asks for the same window again
        except _Refused as refused:
            detail = "Help Scout refused the happiness ratings report (403): it needs a Plus or Pro plan; no ratings"
            self.report.summary.problems.append((refused.url, "ratings_not_available", detail))
            return
        save_cursor(self.store, self.account.source, "ratings", end)
        stream.cursor = end

    def _pages(self, path: str, key: str) -> Iterator[tuple[str, list[dict[str, Any]]]]:
        """``(url, objects)`` for every page of a list: HAL's `_embedded.<key>` and `page.totalPages`, or the
        reports' `<key>` and `pages`."""
        number = 1
        while True:
            url = f"{path}{'&' if '?' in path else '?'}page={number}"
            page = self._page(url, refusable=key == "results")
            yield url, _embedded(page, key) if isinstance(page.get("_embedded"), dict) else _listed(page, key)
            if number >= _total_pages(page):
                return
            number += 1

    def _page(self, url: str, *, refusable: bool = False) -> dict[str, Any]:
        """A page's JSON object; `BrokenPage` (the page quarantined) when it is none, `_Refused` on a 403 when
        ``refusable``."""
        response: Response = self.client.fetch(url, tolerate=(403,) if refusable else ())
        if response.status == 403:
            raise _Refused(url)
        page: dict[str, Any] = page_json(self.store, self.config, SOURCE, response.body, url, dict, self.report.summary)
        return page

    def _store(self, objects: list[tuple[str, Any]], *, with_agents: bool = False) -> None:
        """Translate one page with the users and store it; the users as agents only once (``with_agents``)."""
        read = read_helpscout_objects([*self.users, *objects])
        if not with_agents:
            read.agents = []
        store_helpdesk_page(self.store, self.config, SOURCE, read, self.report.summary)


class _Refused(Exception):
    def __init__(self, url: str):
        super().__init__(url)
        self.url = url


def v1_conversation(conversation: dict[str, Any], mailboxes: Mapping[str, str]) -> dict[str, Any]:
    """An API 2.0 conversation (with `embed=threads`) as the v1 conversation `deskpulse.sources.helpscout` reads.

    v2's `assignee` is v1's `owner`, `primaryCustomer` its `customer`, `mailboxId` its `mailbox` (named from the
    inboxes read), tag objects its tag words, `state` draft its `isDraft`, and the modification time
    (`updatedAt`) its `modifiedAt`."""
    mailbox = conversation.get("mailboxId")
    threads = (conversation.get("_embedded") or {}).get("threads") or []
    return {
        "id": conversation.get("id"),
        "number": conversation.get("number"),
        "type": conversation.get("type"),
        "isDraft": conversation.get("state") == "draft",
        "status": conversation.get("status"),
        "subject": conversation.get("subject"),
        "owner": _person(conversation.get("assignee")),
        "mailbox": None if mailbox is None else {"id": mailbox, "name": mailboxes.get(str(mailbox))},
        "customer": _person(conversation.get("primaryCustomer"), "customer"),
        "createdBy": _person(conversation.get("createdBy")),
        "createdAt": conversation.get("createdAt"),
        "modifiedAt": _modified_at(conversation),
        "closedAt": conversation.get("closedAt"),
        "tags": [t.get("tag") if isinstance(t, dict) else t for t in conversation.get("tags") or []],
        "threads": [v1_thread(thread) if isinstance(thread, dict) else thread for thread in threads],
    }


def v1_thread(thread: dict[str, Any]) -> dict[str, Any]:
    """An API 2.0 thread as v1's: type `reply` is `message`, `beaconchat` is `chat`; state `review` is
    `underreview`; `action.type` (`deleted-ticket`) is `actionType` (`deletedTicket`); the people's names and the
    attachments (`_embedded.attachments`) move to v1's fields. v2 names no merged conversation in the documented
    shape of a line item, so `actionSourceId` stays empty."""
    action = thread.get("action")
    action = action if isinstance(action, dict) else {}
    kind, state = thread.get("type"), thread.get("state")
    return {
        "id": thread.get("id"),
        "type": THREAD_TYPES.get(kind, kind) if isinstance(kind, str) else kind,
        "status": thread.get("status"),
        "state": THREAD_STATES.get(state, state) if isinstance(state, str) else state,
        "createdAt": thread.get("createdAt"),
        "createdBy": _person(thread.get("createdBy")),
        "assignedTo": _person(thread.get("assignedTo")),
        "customer": _person(thread.get("customer"), "customer"),
        "body": thread.get("body"),
        "actionType": _camel(action.get("type")),
        "actionSourceId": None,
        "attachments": (thread.get("_embedded") or {}).get("attachments") or [],
        "source": thread.get("source"),
    }


def v1_user(user: dict[str, Any]) -> dict[str, Any]:
    """An API 2.0 user as v1's (`type` user, `modifiedAt`)."""
    return {**user, "type": "user", "modifiedAt": user.get("updatedAt") or user.get("modifiedAt")}


def _person(person: Any, kind: str | None = None) -> dict[str, Any] | None:
    """A v2 person (`first`, `last`) as v1's (`firstName`, `lastName`); ``kind`` when v2 leaves out its type."""
    if not isinstance(person, dict):
        return None
    return {
        "id": person.get("id"),
        "type": person.get("type") or kind,
        "firstName": person.get("first", person.get("firstName")),
        "lastName": person.get("last", person.get("lastName")),
        "email": person.get("email"),
    }


def _camel(word: Any) -> str | None:
    """`deleted-ticket` → `deletedTicket`."""
    if not isinstance(word, str) or not word:
        return None
    head, *rest = word.split("-")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _modified_at(conversation: dict[str, Any]) -> Any:
    """When a conversation last changed: `updatedAt` (else v1's `modifiedAt`, else `userUpdatedAt`)."""
    return conversation.get("updatedAt") or conversation.get("modifiedAt") or conversation.get("userUpdatedAt")


def _embedded(page: dict[str, Any], key: str) -> list[dict[str, Any]]:
    found = (page.get("_embedded") or {}).get(key) if isinstance(page.get("_embedded"), dict) else None
    return [item for item in found or [] if isinstance(item, dict)]


def _listed(page: dict[str, Any], key: str) -> list[dict[str, Any]]:
    return [item for item in page.get(key) or [] if isinstance(item, dict)]


def _total_pages(page: dict[str, Any]) -> int:
    """HAL's `page.totalPages`, or the reports' `pages`; 1 when the page says neither."""
    paging = page.get("page")
    total = paging.get("totalPages") if isinstance(paging, dict) else page.get("pages")
    return total if isinstance(total, int) else 1


def _iso(instant: datetime) -> str:
    return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
