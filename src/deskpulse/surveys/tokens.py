"""The signed tokens in survey links: no login, so the link itself must prove what it may do.

A token is ``<payload>.<signature>``, both base64url: the payload names the survey, its ticket, the purpose
(``answer`` or ``opt-out``) and the expiry; the signature is HMAC-SHA256 over the payload with a key only this
installation has. Changing any character of the payload or the signature makes the token invalid, a token made for
one purpose is refused for the other, and an expired one is refused even with a valid signature.

The key comes from the environment variable `[surveys] secret_env` names, else from the state file, where it is
made (256 random bits) on first use: the web app, `deskpulse surveys send` and `surveys link` share that file.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from deskpulse.errors import UserError

ANSWER, OPT_OUT = "answer", "opt-out"
PURPOSES = (ANSWER, OPT_OUT)
_VERSION = 1
# A key read from the environment must carry at least as much entropy as the one deskpulse would make.
MINIMUM_SECRET_CHARACTERS = 32

_TABLE = """
CREATE TABLE IF NOT EXISTS survey_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret TEXT NOT NULL,           -- hex; signs every survey link of this installation
    created_at TEXT NOT NULL
);
"""


class SecretError(UserError):
    """The signing key named by `[surveys] secret_env` is missing or too short."""


class InvalidToken(Exception):
    """A link that is not one of ours, or was altered: nothing is stored, the page says so."""


class ExpiredToken(Exception):
    """A genuine link past its expiry."""


@dataclass(frozen=True)
class Token:
    survey_id: str
    ticket_id: str
    purpose: str
    expires_at: datetime  # naive UTC


def signing_key(state: sqlite3.Connection, secret_env: str | None, environ: Mapping[str, str]) -> bytes:
    """The key links are signed with: ``$secret_env`` when configured, else the state file's (made when missing)."""
    if secret_env is not None:
        value = environ.get(secret_env, "")
        if len(value) < MINIMUM_SECRET_CHARACTERS:
            raise SecretError(
                f"${secret_env} must hold the survey links' signing key, at least {MINIMUM_SECRET_CHARACTERS} "
                f"characters (e.g. the output of `python -c 'import secrets; print(secrets.token_hex(32))'`); "
                f"it is {'not set' if not value else 'too short'}"
            )
        return value.encode("utf-8")
    state.executescript(_TABLE)
    # INSERT OR IGNORE: two processes making the key at once keep the first one.
    state.execute(
        "INSERT OR IGNORE INTO survey_secret (id, secret, created_at) VALUES (1, ?, ?)",
        [secrets.token_hex(32), f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}"],
    )
    [(secret,)] = state.execute("SELECT secret FROM survey_secret WHERE id = 1").fetchall()
    return bytes.fromhex(secret)


def sign(key: bytes, token: Token) -> str:
    """The token as text for a URL path: base64url, no padding, no character a URL must escape."""
    if token.purpose not in PURPOSES:
        raise ValueError(f"unknown purpose {token.purpose!r}")
    expires = int(token.expires_at.replace(tzinfo=UTC).timestamp())
    payload = json.dumps([_VERSION, token.survey_id, token.ticket_id, token.purpose, expires], separators=(",", ":"))
    body = _encode(payload.encode("utf-8"))
    return f"{body}.{_encode(_mac(key, body))}"


def verify(key: bytes, text: str, purpose: str, now: datetime | None = None) -> Token:
    """The token ``text`` stands for, if this installation signed it for ``purpose`` and it has not expired.

    Raises `InvalidToken` for anything forged, altered, truncated or meant for another purpose, and `ExpiredToken`
    for a genuine token past its time (``now``: naive UTC, default the clock)."""
    body, dot, signature = text.partition(".")
    if not dot or not body or not signature:
        raise InvalidToken("not a survey token")
    try:
        given = _decode(signature)
    except ValueError as exc:
        raise InvalidToken("not a survey token") from exc
    if not hmac.compare_digest(given, _mac(key, body)):  # constant time: the comparison leaks nothing
        raise InvalidToken("the signature does not match")
    try:  # signed by us, so well formed; checked anyway, a key could have been shared by mistake
        version, survey_id, ticket_id, token_purpose, expires = json.loads(_decode(body))
    except (ValueError, TypeError) as exc:
        raise InvalidToken("unreadable payload") from exc
    if version != _VERSION or token_purpose != purpose or not isinstance(expires, int):
        raise InvalidToken(f"not a token for {purpose}")
    token = Token(str(survey_id), str(ticket_id), purpose, datetime.fromtimestamp(expires, UTC).replace(tzinfo=None))
    moment = now if now is not None else datetime.now(UTC).replace(tzinfo=None)
    if moment >= token.expires_at:
        raise ExpiredToken(f"expired at {token.expires_at:%Y-%m-%d %H:%M} UTC")
    return token


def _mac(key: bytes, body: str) -> bytes:
    return hmac.new(key, body.encode("ascii"), hashlib.sha256).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
