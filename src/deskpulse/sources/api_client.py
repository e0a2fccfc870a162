"""What the live help desk connectors share (`deskpulse fetch zendesk|freshdesk|helpscout`): one HTTP client and
one way to keep a stream's place.

The client asks one account's host only (a page that names its next page by URL is asked of the account's own
host, so the credentials go nowhere else), answers JSON, and waits out a rate limit: a 429 or 503 is retried after
the `Retry-After` seconds it names, a bounded number of times. Plain http is refused except on loopback (a test
server): the credentials must not cross the network in clear. Every refusal is a `UserError` of the connector's
own kind that says what to check.

A stream's place is its cursor in `sync_checkpoints` (source: the account, folder: the stream), saved after each
stored page, so an interrupted fetch resumes at the page it was on and the next fetch asks only for what changed.
Pages are stored without rebuilding the tickets; `mark_rebuild_pending` makes the next fetch (or import) rebuild
them if this one stops before its own rebuild at the end.
"""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.ingest import REBUILD_PENDING_KEY
from deskpulse.sources.canonical import Problem, SourceSummary
from deskpulse.sources.helpdesk_files import HelpdeskRead, store_helpdesk_read
from deskpulse.store import Store

DEFAULT_RETRY_SECONDS = 60.0  # when a 429 or 503 does not say how long to wait
ATTEMPTS = 6
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class Api:
    """One help desk's API as the client needs to know it."""

    name: str  # "Zendesk", as refusals name it
    base_url: str  # https://acme.zendesk.com: every request goes to this host
    error: type[UserError]  # the connector's own kind of refusal
    path_prefix: str  # "/api/v2/": a next page outside it is no API page
    hints: Mapping[int, str] = field(default_factory=dict)  # what to do after a 401, a 403, …


@dataclass
class Response:
    body: str
    headers: Message
    status: int = 200


def checked_base_url(base_url: str, example: str, error: type[UserError]) -> str:
    """``base_url`` without its trailing slash, if it is an https URL (http only on loopback)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise error(f"--url {base_url!r} is not a URL like {example}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK_HOSTS:
        raise error(f"--url {base_url!r}: use https; the credentials must not cross the network in clear")
    return base_url.rstrip("/")


def missing_variables(environ: Mapping[str, str], *names: str) -> list[str]:
    """The variables of ``names`` that are unset or blank, as ``$NAME``."""
    return ["$" + name for name in names if not environ.get(name, "").strip()]


class ApiClient:
    """Requests to one account's API: authenticated, retried after the wait a 429 or 503 asks for.

    ``authorization`` gives the Authorization header for each request; ``reauthorize``, when given, is called once
    when a request is refused with 401 (an expired token) before the request is tried again. ``sleep`` is
    injectable so a test can record the waits asked for instead of spending them; every wait is also kept in
    ``waits``, every URL asked in ``requests``."""

    def __init__(
        self,
        api: Api,
        authorization: Callable[[], str],
        *,
        reauthorize: Callable[[], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 60,
    ):
        self.api = api
        self.authorization = authorization
        self.reauthorize = reauthorize
        self.sleep = sleep
        self.timeout = timeout
        self.waits: list[float] = []
        self.requests: list[str] = []

    def get(self, url: str) -> str:
        """The body of a GET to ``url``: a path, or the URL a page named as the next one (see `fetch`)."""
        return self.fetch(url).body

    def fetch(self, url: str, *, tolerate: Collection[int] = ()) -> Response:
        """A GET to ``url``'s path and query, asked of this account's host (the credentials go nowhere else, even
        when the API names its own host for an account reached through a host mapping). A refusal whose status is
        in ``tolerate`` is returned (with an empty body) rather than raised."""
        parts = urlsplit(url)
        if not parts.path.startswith(self.api.path_prefix):
            raise self.api.error(f"the API named a next page that is not an API page: {url}")
        local = self.api.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return self.send("GET", local, tolerate=tolerate)

    def send(
        self, method: str, url: str, data: bytes | None = None, headers: Mapping[str, str] | None = None,
        *, authorized: bool = True, tolerate: Collection[int] = (),
    ) -> Response:  # fmt: skip
        """One request, repeated after a 429 or 503 (up to `ATTEMPTS` times) and once after a 401 when the client
        can log in again; any other refusal is the connector's error, naming the URL and what to check."""
        logged_in_again = False
        for attempt in range(1, ATTEMPTS + 1):
            self.requests.append(url)
            sent = {"Accept": "application/json", **(headers or {})}
            if authorized:
                sent["Authorization"] = self.authorization()
            request = urllib.request.Request(url, data=data, headers=sent, method=method)
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                    return Response(answer.read().decode("utf-8"), answer.headers)
            except urllib.error.HTTPError as error:
                if error.code in (429, 503) and attempt < ATTEMPTS:
                    wait = retry_after(error.headers.get("Retry-After"))
                    self.waits.append(wait)
                    self.sleep(wait)
                    continue
                if error.code == 401 and authorized and self.reauthorize is not None and not logged_in_again:
                    logged_in_again = True
                    self.reauthorize()
                    continue
                if error.code in tolerate:
                    return Response("", error.headers, error.code)
                raise self.api.error(self._refusal(error, url)) from None
            except (urllib.error.URLError, TimeoutError) as error:
                raise self.api.error(f"cannot reach {url}: {getattr(error, 'reason', error)}") from None
            except (http.client.HTTPException, ConnectionError) as error:
                raise self.api.error(f"the connection broke while reading {url} ({error!r}); fetch again to "
                                     "resume from the last stored page") from None  # fmt: skip
        raise AssertionError("not reached")

    def _refusal(self, error: urllib.error.HTTPError, url: str) -> str:
        name, hint = self.api.name, self.api.hints.get(error.code)
        if error.code == 401:
            return f"{name} refused the login at {url} (401): {hint or 'check the credentials'}"
        if error.code == 403:
            return f"{name} forbids {url} (403){': ' + hint if hint else ''}"
        body = error.read().decode("utf-8", "replace")[:200]
        return f"{name} answered {error.code} to {url}: {hint or body}"


def retry_after(value: str | None) -> float:
    """Seconds to wait from a Retry-After header (the help desks send seconds); a default when absent or a date."""
    try:
        return max(0.0, float(value)) if value is not None else DEFAULT_RETRY_SECONDS
    except ValueError:
        return DEFAULT_RETRY_SECONDS


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


def mark_rebuild_pending(store: Store) -> None:
    """Marked before a page's first write, cleared by the rebuild: a fetch stopped in between is rebuilt by the
    next fetch or import."""
    store.execute("DELETE FROM meta WHERE key = ?", [REBUILD_PENDING_KEY])
    store.execute("INSERT INTO meta VALUES (?, 'true')", [REBUILD_PENDING_KEY])


def add_summary(total: SourceSummary, page: SourceSummary) -> None:
    total.read += page.read
    total.stored += page.stored
    total.updated += page.updated
    total.duplicates += page.duplicates
    total.quarantined += page.quarantined
    total.problems += page.problems


def store_helpdesk_page(store: Store, config: Config, source: str, read: HelpdeskRead, total: SourceSummary) -> None:
    """Store one page's records through the connector contract, without the rebuild (one at the end of the
    fetch), adding its counts to ``total``."""
    mark_rebuild_pending(store)
    add_summary(total, store_helpdesk_read(store, config, source, read, rebuild=False))


class BrokenPage(Exception):
    """A page that is not what the API promised: quarantined, and the stream stops there (fetch again later)."""


def page_json(store: Store, config: Config, source: str, body: str, url: str, kind: type, total: SourceSummary) -> Any:
    """The JSON of a page when it is a ``kind`` (list or dict); else the page is quarantined as `malformed_page`
    (counted in ``total``) and `BrokenPage` raised."""
    try:
        page = json.loads(body)
    except json.JSONDecodeError as error:
        detail = f"the API's answer is not JSON: {error}"
    else:
        if isinstance(page, kind):
            return page
        detail = f"the API's answer is not a {kind.__name__} but {type(page).__name__}"
    broken = HelpdeskRead(problems=[Problem(url, "malformed_page", detail)])
    store_helpdesk_page(store, config, source, broken, total)
    raise BrokenPage(url)


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
