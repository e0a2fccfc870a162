"""Accounts of the web app: users with roles, login sessions, API tokens and the login rate limit.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106's second recommended setting), and a hash
made with weaker parameters than today's is replaced at the next successful login. Session ids and API tokens are
random 256-bit values of which only a SHA-256 digest is stored: a copy of the state file opens no session.

Roles: an **admin** manages accounts and sees everything; a **manager** sees everything; an **agent** sees the
team's figures and their own, never another agent's individual figures (`Viewer.may_see_agent`).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from deskpulse.errors import UserError

ROLES = ("admin", "manager", "agent")
MIN_PASSWORD_LENGTH = 10

_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_users (
    username TEXT PRIMARY KEY,
    role TEXT NOT NULL,
    agent TEXT,                      -- an agent's address as the store knows it (role agent)
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_sessions (
    digest TEXT PRIMARY KEY,         -- SHA-256 of the session id in the cookie
    username TEXT NOT NULL REFERENCES web_users(username) ON DELETE CASCADE,
    csrf TEXT NOT NULL,              -- the token every form of this session must send back
    expires_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_tokens (
    digest TEXT PRIMARY KEY,         -- SHA-256 of the API token
    username TEXT NOT NULL REFERENCES web_users(username) ON DELETE CASCADE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS web_login_failures (
    key TEXT NOT NULL,               -- 'user:<name>' or 'addr:<client address>'
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS web_login_failures_key ON web_login_failures (key, at);
"""

_hasher = PasswordHasher()


class AccountError(UserError):
    """An account cannot be added or changed as asked."""


@dataclass(frozen=True)
class Viewer:
    """Who is looking: the signed-in user or the owner of an API token."""

    username: str
    role: str
    agent: str | None

    @property
    def sees_everyone(self) -> bool:
        return self.role in ("admin", "manager")

    def may_see_agent(self, agent: str | None) -> bool:
        """Whether this viewer may see the individual figures of ``agent``."""
        return self.sees_everyone or (agent is not None and self.agent is not None and agent == self.agent)


@dataclass(frozen=True)
class Session:
    id: str  # goes into the cookie; only its digest is stored
    csrf: str
    viewer: Viewer
    expires_at: datetime


def prepare(connection: sqlite3.Connection) -> sqlite3.Connection:
    """Create the account tables when missing; foreign keys on, so removing a user ends their sessions."""
    connection.execute("PRAGMA foreign_keys = ON")
    connection.executescript(_SCHEMA)
    return connection


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def add_user(connection: sqlite3.Connection, username: str, password: str, role: str, agent: str | None = None) -> None:
    username = username.strip()
    if not username or any(c.isspace() for c in username):
        raise AccountError(f"a username is one word without spaces, got {username!r}")
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if role == "agent" and not agent:
        raise AccountError("an agent account needs --agent ADDRESS: the address the agent replies from")
    _check_password(password)
    try:
        connection.execute(
            "INSERT INTO web_users VALUES (?, ?, ?, ?, ?)",
            (username, role, agent.strip().lower() if agent else None, _hasher.hash(password), _now().isoformat()),
        )
    except sqlite3.IntegrityError as exc:
        raise AccountError(f"user {username!r} exists already; `deskpulse user passwd` changes a password") from exc


def set_password(connection: sqlite3.Connection, username: str, password: str) -> None:
    _check_password(password)
    changed = connection.execute(
        "UPDATE web_users SET password_hash = ? WHERE username = ?", (_hasher.hash(password), username)
    ).rowcount
    if not changed:
        raise AccountError(f"no user {username!r}")
    connection.execute("DELETE FROM web_sessions WHERE username = ?", (username,))  # sign out everywhere


def remove_user(connection: sqlite3.Connection, username: str) -> None:
    if not connection.execute("DELETE FROM web_users WHERE username = ?", (username,)).rowcount:
        raise AccountError(f"no user {username!r}")


def list_users(connection: sqlite3.Connection) -> list[Viewer]:
    rows = connection.execute("SELECT username, role, agent FROM web_users ORDER BY username").fetchall()
    return [Viewer(row["username"], row["role"], row["agent"]) for row in rows]


# A client address may fail this many times the per-account limit: people behind one office NAT share an address,
# while one account's password is guessed from anywhere.
ADDRESS_FACTOR = 4


def login_keys(username: str, address: str) -> list[str]:
    """What failed logins are counted against: the account and the client address."""
    return [f"user:{username}", f"addr:{address}"]


def login_refused(connection: sqlite3.Connection, keys: list[str], limit: int, window: timedelta) -> bool:
    """Whether the account failed ``limit`` times within ``window``, or the address ``ADDRESS_FACTOR`` times that."""
    since = (_now() - window).isoformat()
    connection.execute("DELETE FROM web_login_failures WHERE at < ?", (since,))
    for key in keys:
        (failures,) = connection.execute(
            "SELECT count(*) FROM web_login_failures WHERE key = ? AND at >= ?", (key, since)
        ).fetchone()
        if failures >= (limit * ADDRESS_FACTOR if key.startswith("addr:") else limit):
            return True
    return False


def authenticate(connection: sqlite3.Connection, username: str, password: str, keys: list[str]) -> Viewer | None:
    """The user when ``password`` is theirs; else None, and a failure is counted against each of ``keys``.

    An unknown username costs the same hash as a known one, so timing does not tell which usernames exist."""
    row = connection.execute("SELECT * FROM web_users WHERE username = ?", (username,)).fetchone()
    stored = row["password_hash"] if row is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
        ok = row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        now = _now().isoformat()
        connection.executemany("INSERT INTO web_login_failures VALUES (?, ?)", [(key, now) for key in keys])
        return None
    if _hasher.check_needs_rehash(stored):
        connection.execute(
            "UPDATE web_users SET password_hash = ? WHERE username = ?", (_hasher.hash(password), username)
        )
    connection.execute(f"DELETE FROM web_login_failures WHERE key IN ({','.join('?' * len(keys))})", keys)
    return Viewer(row["username"], row["role"], row["agent"])


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def start_session(connection: sqlite3.Connection, viewer: Viewer, hours: int) -> Session:
    session_id, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    expires = _now() + timedelta(hours=hours)
    connection.execute(
        "INSERT INTO web_sessions VALUES (?, ?, ?, ?)",
        (_digest(session_id), viewer.username, csrf, expires.isoformat()),
    )
    return Session(session_id, csrf, viewer, expires)


def find_session(connection: sqlite3.Connection, session_id: str) -> Session | None:
    row = connection.execute(
        "SELECT s.csrf, s.expires_at, u.username, u.role, u.agent FROM web_sessions s "
        "JOIN web_users u USING (username) WHERE s.digest = ?",
        (_digest(session_id),),
    ).fetchone()
    if row is None:
        return None
    expires = datetime.fromisoformat(row["expires_at"])
    if expires <= _now():
        connection.execute("DELETE FROM web_sessions WHERE digest = ?", (_digest(session_id),))
        return None
    return Session(session_id, row["csrf"], Viewer(row["username"], row["role"], row["agent"]), expires)


def end_session(connection: sqlite3.Connection, session_id: str) -> None:
    connection.execute("DELETE FROM web_sessions WHERE digest = ?", (_digest(session_id),))


def add_token(connection: sqlite3.Connection, username: str, label: str) -> str:
    """A new API token for ``username``; shown once, only its digest is kept."""
    if connection.execute("SELECT 1 FROM web_users WHERE username = ?", (username,)).fetchone() is None:
        raise AccountError(f"no user {username!r}")
    token = "dp_" + secrets.token_urlsafe(32)
    connection.execute(
        "INSERT INTO web_tokens VALUES (?, ?, ?, ?)", (_digest(token), username, label, _now().isoformat())
    )
    return token


def token_viewer(connection: sqlite3.Connection, token: str) -> Viewer | None:
    row = connection.execute(
        "SELECT u.username, u.role, u.agent FROM web_tokens t JOIN web_users u USING (username) WHERE t.digest = ?",
        (_digest(token),),
    ).fetchone()
    return None if row is None else Viewer(row["username"], row["role"], row["agent"])
