"""`deskpulse fetch zendesk`: read a Zendesk account's API incrementally into the store.

Each stream is read from where the last fetch stopped: the incremental exports' cursors (users, tickets) and
start times (ticket events) are kept in `sync_checkpoints` (source `zendesk://<host>`, folder the stream) and
advanced after each page is stored, so an interrupted fetch resumes at the page it was on and a second fetch
asks only for what changed since. Groups, organisations and satisfaction ratings are small lists, read whole
(what was stored already is skipped as a duplicate). A 429 (or 503) answer is retried after the Retry-After
seconds it asks for. Credentials come from the environment only: ZENDESK_EMAIL and ZENDESK_API_TOKEN, with
ZENDESK_SUBDOMAIN or `--url` for the account.
"""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.ingest import REBUILD_PENDING_KEY, rebuild_if_pending
from deskpulse.sources.canonical import Problem, SourceSummary
from deskpulse.sources.zendesk import SOURCE, Directory, names, store_zendesk
from deskpulse.sources.zendesk_files import ZendeskObjects, field_of, read_json_text
from deskpulse.store import Store

ENV_SUBDOMAIN = "ZENDESK_SUBDOMAIN"
ENV_EMAIL = "ZENDESK_EMAIL"
ENV_TOKEN = "ZENDESK_API_TOKEN"
DEFAULT_RETRY_SECONDS = 60.0  # when a 429 or 503 does not say how long to wait
ATTEMPTS = 6
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


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
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ZendeskApiError(f"--url {base_url!r} is not a URL like https://acme.zendesk.com")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise ZendeskApiError(f"--url {base_url!r}: use https; the API token must not cross the network in clear")
    missing = [name for name in (ENV_EMAIL, ENV_TOKEN) if not environ.get(name, "").strip()]
    if missing:
        raise ZendeskApiError(
            f"set {' and '.join('$' + m for m in missing)}: the agent's e-mail and an API token (Admin Center > "
            "Apps and integrations > Zendesk API); deskpulse reads them from the environment only"
        )
    return ZendeskAccount(base_url.rstrip("/"), environ[ENV_EMAIL].strip(), environ[ENV_TOKEN].strip())


class ZendeskClient:
    """GETs to one account's API: authenticated, JSON, retried after the wait a 429 or 503 asks for.

    ``sleep`` is injectable so a test can record the waits asked for instead of spending them; every wait is
    also kept in ``waits``."""

    def __init__(self, account: ZendeskAccount, *, sleep: Callable[[float], None] = time.sleep, timeout: float = 60):
        self.account = account
        self.sleep = sleep
        self.timeout = timeout
        self.waits: list[float] = []
        self.requests: list[str] = []

    def get(self, url: str) -> str:
        """The body of a GET to ``url``: a path, or the URL a page named as the next one, whose path and query are
        asked of this account's host (the token goes nowhere else, even when Zendesk names its own host for an
        account reached through a host mapping)."""
        parts = urlsplit(url)
        if not parts.path.startswith("/api/v2/"):
            raise ZendeskApiError(f"the API named a next page that is not an API page: {url}")
        url = self.account.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        headers = {"Authorization": self.account.authorization, "Accept": "application/json"}
        for attempt in range(1, ATTEMPTS + 1):
            self.requests.append(url)
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout) as r:
                    return str(r.read().decode("utf-8"))
            except urllib.error.HTTPError as error:
                if error.code in (429, 503) and attempt < ATTEMPTS:
                    wait = retry_after(error.headers.get("Retry-After"))
                    self.waits.append(wait)
                    self.sleep(wait)
                    continue
                raise ZendeskApiError(_refusal(error, url)) from None
            except (urllib.error.URLError, TimeoutError) as error:
                raise ZendeskApiError(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None
        raise AssertionError("not reached")


def retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (Zendesk sends seconds); a default when absent or a date."""
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_SECONDS
    except ValueError:
        return DEFAULT_RETRY_SECONDS


def _refusal(error: urllib.error.HTTPError, url: str) -> str:
    if error.code == 401:
        return f"Zendesk refused the login at {url} (401): check ${ENV_EMAIL} and ${ENV_TOKEN}"
    if error.code == 403:
        return f"Zendesk forbids {url} (403): the incremental exports need an admin's API token"
    body = error.read().decode("utf-8", "replace")[:200]
    return f"Zendesk answered {error.code} to {url}: {body}"


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


@dataclass
class StreamReport:
    name: str
    pages: int = 0
    resumed_from: str | None = None
    cursor: str | None = None


@dataclass
class FetchReport:
    account: str
    summary: SourceSummary
    streams: list[StreamReport] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)  # the Retry-After seconds honoured

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            **self.summary.as_dict(),
            "streams": [vars(s) for s in self.streams],
            "retry_waits_seconds": self.waits,
        }


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
    # Marked before the first write, cleared by the rebuild: a fetch stopped in between is rebuilt by the next.
    store.execute("DELETE FROM meta WHERE key = ?", [REBUILD_PENDING_KEY])
    store.execute("INSERT INTO meta VALUES (?, 'true')", [REBUILD_PENDING_KEY])
    page = store_zendesk(store, config, objects, rebuild=False, known=directory)
    total = report.summary
    total.read += page.read
    total.stored += page.stored
    total.updated += page.updated
    total.duplicates += page.duplicates
    total.quarantined += page.quarantined
    total.problems += page.problems


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


def load_cursor(store: Store, source: str, stream: str) -> str | None:
    rows = store.execute("SELECT cursor FROM sync_checkpoints WHERE source = ? AND folder = ?", [source, stream])
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def save_cursor(store: Store, source: str, stream: str, cursor: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    store.execute("BEGIN TRANSACTION")
    try:
        store.execute("DELETE FROM sync_checkpoints WHERE source = ? AND folder = ?", [source, stream])
        store.execute(
            "INSERT INTO sync_checkpoints (source, folder, cursor, synced_at) VALUES (?, ?, ?, ?)",
            [source, stream, cursor, now],
        )
        store.execute("COMMIT")
    except Exception:
        store.execute("ROLLBACK")
        raise
