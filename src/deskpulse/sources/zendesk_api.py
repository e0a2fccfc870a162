"""`deskpulse fetch zendesk`: read a Zendesk account's API incrementally into the store.

Each stream is read from where the last fetch stopped: the incremental exports' cursors (users, tickets) and
start times (ticket events) are kept in `sync_checkpoints` (source `zendesk://<host>`, folder the stream) and
advanced after each page is stored, so an interrupted fetch resumes at the page it was on and a second fetch
asks only for what changed since. Groups, organisations and satisfaction ratings are small lists, read whole
(what was stored already is skipped as a duplicate). A 429 (or 503) answer is retried after the Retry-After
seconds it asks for. Credentials come from the environment only: ZENDESK_EMAIL and ZENDESK_API_TOKEN, with
ZENDESK_SUBDOMAIN or `--url` for the account. The HTTP client and the cursors are `deskpulse.sources.api_client`'s,
shared with the Freshdesk and Help Scout fetches; this module keeps what is Zendesk's: the account, the streams and
how their pages chain.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.ingest import rebuild_if_pending
from deskpulse.sources.api_client import (
    Api,
    ApiClient,
    FetchReport,
    StreamReport,
    add_summary,
    checked_base_url,
    load_cursor,
    mark_rebuild_pending,
    missing_variables,
    save_cursor,
)
from deskpulse.sources.canonical import Problem, SourceSummary
from deskpulse.sources.zendesk import SOURCE, Directory, names, store_zendesk
from deskpulse.sources.zendesk_files import ZendeskObjects, field_of, read_json_text
from deskpulse.store import Store

ENV_SUBDOMAIN = "ZENDESK_SUBDOMAIN"
ENV_EMAIL = "ZENDESK_EMAIL"
ENV_TOKEN = "ZENDESK_API_TOKEN"


class ZendeskApiError(UserError):
    """The Zendesk API cannot be used: missing credentials, a refused login, an answer that is not JSON."""


@dataclass(frozen=True)
class ZendeskAccount:
    base_url: str  # https://acme.zendesk.com
    email: str
    token: str = field(repr=False)

    @property
    def source(self) -> str:
        """The account as `sync_checkpoints.source` names it: no credentials in it."""
        return f"zendesk://{urlsplit(self.base_url).netloc}"

    @property
    def authorization(self) -> str:
        """Zendesk's API token authentication: Basic with `{email}/token:{token}`."""
        credentials = f"{self.email}/token:{self.token}".encode()
        return "Basic " + base64.b64encode(credentials).decode("ascii")


def account_from_environment(base_url: str | None = None, environ: Mapping[str, str] = os.environ) -> ZendeskAccount:
    """The account of `--url` (else https://$ZENDESK_SUBDOMAIN.zendesk.com) and the credentials of the
    environment; a missing one is named."""
    if base_url is None:
        subdomain = environ.get(ENV_SUBDOMAIN, "").strip()
        if not subdomain:
            raise ZendeskApiError(f"set ${ENV_SUBDOMAIN} (the `acme` of acme.zendesk.com) or pass --url")
        base_url = f"https://{subdomain}.zendesk.com"
    base_url = checked_base_url(base_url, "https://acme.zendesk.com", ZendeskApiError)
    missing = missing_variables(environ, ENV_EMAIL, ENV_TOKEN)
    if missing:
        raise ZendeskApiError(
            f"set {' and '.join(missing)}: the agent's e-mail and an API token (Admin Center > "
            "Apps and integrations > Zendesk API); deskpulse reads them from the environment only"
        )
    return ZendeskAccount(base_url, environ[ENV_EMAIL].strip(), environ[ENV_TOKEN].strip())


class ZendeskClient(ApiClient):
    """GETs to one Zendesk account's API (`deskpulse.sources.api_client.ApiClient`): a page may name the next one
    on Zendesk's own host; it is asked of the account's."""

    def __init__(self, account: ZendeskAccount, *, sleep: Callable[[float], None] = time.sleep, timeout: float = 60):
        api = Api(
            "Zendesk",
            account.base_url,
            ZendeskApiError,
            "/api/v2/",
            {
                401: f"check ${ENV_EMAIL} and ${ENV_TOKEN}",
                403: "the incremental exports need an admin's API token",
            },
        )
        super().__init__(api, lambda: account.authorization, sleep=sleep, timeout=timeout)
        self.account = account


@dataclass(frozen=True)
class Stream:
    """One thing to fetch: where to start, how to resume from a checkpoint, how its pages chain."""

    name: str
    first: str  # the first request when there is no checkpoint
    resume: str | None  # the request after a checkpoint, `{cursor}` standing for it; None: read whole every time
    paging: str  # `cursor` (after_cursor/after_url), `time` (end_time/next_page) or `list` (next_page, links.next)


# In this order: who the ids name first, then the comments and changes (so a ticket's merge note is stored
# before the ticket that says it was merged), then the tickets, then the ratings of them.
STREAMS = (
    Stream(
        "users",
        "/api/v2/incremental/users/cursor.json?start_time=0",
        "/api/v2/incremental/users/cursor.json?cursor={cursor}",
        "cursor",
    ),
    Stream("groups", "/api/v2/groups.json", None, "list"),
    Stream("organizations", "/api/v2/organizations.json", None, "list"),
    Stream(
        "ticket_events",
        "/api/v2/incremental/ticket_events.json?start_time=0&include=comment_events",
        "/api/v2/incremental/ticket_events.json?start_time={cursor}&include=comment_events",
        "time",
    ),
    Stream(
        "tickets",
        "/api/v2/incremental/tickets/cursor.json?start_time=0&include=metric_sets",
        "/api/v2/incremental/tickets/cursor.json?cursor={cursor}&include=metric_sets",
        "cursor",
    ),
    Stream("satisfaction_ratings", "/api/v2/satisfaction_ratings.json", None, "list"),
)
STREAM_NAMES = tuple(s.name for s in STREAMS)


def fetch_zendesk(
    store: Store,
    config: Config,
    account: ZendeskAccount,
    *,
    streams: tuple[str, ...] = STREAM_NAMES,
    client: ZendeskClient | None = None,
    page_size: int | None = None,
) -> FetchReport:
    """Fetch what changed since the last fetch, page by page, storing each page before its checkpoint moves;
    then rebuild the tickets once. ``page_size`` (the exports' `per_page`) is for tests and slow links."""
    unknown = sorted(set(streams) - set(STREAM_NAMES))
    if unknown:
        raise ZendeskApiError(f"unknown stream {', '.join(unknown)}; use {', '.join(STREAM_NAMES)}")
    client = client or ZendeskClient(account)
    report = FetchReport(account.source, SourceSummary(SOURCE))
    directory = Directory()  # groups and organisations, kept across pages (users are kept in the store)
    for stream in (s for s in STREAMS if s.name in streams):
        report.streams.append(_fetch_stream(store, config, account, client, stream, directory, report, page_size))
    report.waits = list(client.waits)
    report.summary.tickets = rebuild_if_pending(store, config) or store.count("tickets")
    return report


def _fetch_stream(
    store: Store,
    config: Config,
    account: ZendeskAccount,
    client: ZendeskClient,
    stream: Stream,
    directory: Directory,
    report: FetchReport,
    page_size: int | None,
) -> StreamReport:
    checkpoint = load_cursor(store, account.source, stream.name) if stream.resume else None
    done = StreamReport(stream.name, resumed_from=checkpoint)
    first = stream.first
    if checkpoint is not None and stream.resume is not None:
        first = stream.resume.format(cursor=quote(checkpoint, safe=""))
    if page_size is not None and stream.paging != "list":
        first += f"&per_page={page_size}"
    url: str | None = first
    while url is not None:
        text = client.get(url)
        objects = ZendeskObjects()
        try:
            page = json.loads(text)
        except json.JSONDecodeError as error:
            # Without the page there is no next cursor: stop this stream here, its checkpoint where it was.
            objects.problems.append(Problem(url, "malformed_page", f"the API's answer is not JSON: {error}"))
            _store_page(store, config, objects, directory, report)
            break
        read_json_text(text, url, objects)
        _store_page(store, config, objects, directory, report)
        done.pages += 1
        url, cursor = _next(stream, page)
        if cursor is not None and stream.resume is not None:
            save_cursor(store, account.source, stream.name, cursor)
            done.cursor = cursor
    return done


def _store_page(
    store: Store, config: Config, objects: ZendeskObjects, directory: Directory, report: FetchReport
) -> None:
    directory.groups.update(names(objects.groups))
    directory.organizations.update(names(objects.organizations))
    mark_rebuild_pending(store)
    add_summary(report.summary, store_zendesk(store, config, objects, rebuild=False, known=directory))


def _next(stream: Stream, page: Any) -> tuple[str | None, str | None]:
    """(the next page's URL or None at the end, the checkpoint after this page or None)."""
    if not isinstance(page, dict):
        return None, None
    if stream.paging == "cursor":
        cursor = page.get("after_cursor")
        return (None if page.get("end_of_stream") or not page.get("after_url") else page["after_url"]), cursor
    if stream.paging == "time":
        end_time = page.get("end_time")
        cursor = None if end_time is None else str(end_time)
        return (None if page.get("end_of_stream") or not page.get("next_page") else page["next_page"]), cursor
    links = field_of(page, "links")
    meta = field_of(page, "meta")
    if meta.get("has_more") and links.get("next"):
        return str(links["next"]), None
    return (str(page["next_page"]) if page.get("next_page") else None), None
