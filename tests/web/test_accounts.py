"""Accounts in the state file: hashing, sessions, tokens, roles and the login rate limit, without a server."""

from __future__ import annotations

import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from deskpulse.state import connect_state, state_path
from deskpulse.web import accounts
from deskpulse.web.accounts import AccountError, Viewer


@pytest.fixture
def state(tmp_path: Path) -> sqlite3.Connection:
    return accounts.prepare(connect_state(state_path(tmp_path / "deskpulse.duckdb")))


def test_state_file_sits_beside_the_store(tmp_path: Path) -> None:
    assert state_path(tmp_path / "support.duckdb") == tmp_path / "support.state.sqlite"


def test_passwords_are_stored_as_argon2id_hashes(state: sqlite3.Connection) -> None:
    accounts.add_user(state, "boss", "correct horse battery", "manager")
    (stored,) = state.execute("SELECT password_hash FROM web_users").fetchone()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert accounts.authenticate(state, "boss", "correct horse battery", ["user:boss"]) == Viewer(
        "boss", "manager", None
    )
    assert accounts.authenticate(state, "boss", "wrong horse battery", ["user:boss"]) is None
    assert accounts.authenticate(state, "nobody", "correct horse battery", ["user:nobody"]) is None


def test_account_rules(state: sqlite3.Connection) -> None:
    with pytest.raises(AccountError, match="at least 10"):
        accounts.add_user(state, "boss", "short", "manager")
    with pytest.raises(AccountError, match="--agent"):
        accounts.add_user(state, "ana", "long enough password", "agent")
    with pytest.raises(AccountError, match="unknown role"):
        accounts.add_user(state, "ana", "long enough password", "owner")
    accounts.add_user(state, "ana", "long enough password", "agent", "Ana@Acme.test")
    with pytest.raises(AccountError, match="exists already"):
        accounts.add_user(state, "ana", "long enough password", "agent", "ana@acme.test")
    ana = accounts.list_users(state)[0]
    assert ana == Viewer("ana", "agent", "ana@acme.test")
    assert ana.may_see_agent("ana@acme.test") and not ana.may_see_agent("ben@acme.test")
    assert not ana.may_see_agent(None)
    assert Viewer("boss", "manager", None).may_see_agent("ben@acme.test")


def test_sessions_end_with_a_new_password_and_with_the_account(state: sqlite3.Connection) -> None:
    accounts.add_user(state, "boss", "first password!", "manager")
    viewer = accounts.authenticate(state, "boss", "first password!", [])
    assert viewer is not None
    session = accounts.start_session(state, viewer, hours=1)
    # Only a digest of the id is stored: the id itself opens the session, the stored value does not.
    (digest,) = state.execute("SELECT digest FROM web_sessions").fetchone()
    assert digest != session.id and accounts.find_session(state, digest) is None
    assert accounts.find_session(state, session.id) is not None
    accounts.set_password(state, "boss", "second password!")
    assert accounts.find_session(state, session.id) is None
    session = accounts.start_session(state, viewer, hours=1)
    token = accounts.add_token(state, "boss", "cron")
    assert accounts.token_viewer(state, token) == viewer
    accounts.remove_user(state, "boss")
    assert accounts.find_session(state, session.id) is None
    assert accounts.token_viewer(state, token) is None


def test_expired_sessions_are_refused(state: sqlite3.Connection) -> None:
    accounts.add_user(state, "boss", "first password!", "manager")
    session = accounts.start_session(state, Viewer("boss", "manager", None), hours=0)
    assert accounts.find_session(state, session.id) is None


def test_failed_logins_are_counted_per_account_and_per_address(state: sqlite3.Connection) -> None:
    accounts.add_user(state, "boss", "first password!", "manager")
    window = timedelta(minutes=15)
    keys = accounts.login_keys("boss", "10.0.0.1")
    for _ in range(3):
        assert not accounts.login_refused(state, keys, 3, window)
        accounts.authenticate(state, "boss", "wrong", keys)
    assert accounts.login_refused(state, keys, 3, window)  # the account: 3 failures of 3
    other = accounts.login_keys("someone", "10.0.0.1")
    assert not accounts.login_refused(state, other, 3, window)  # the address: 3 of 12 (4 × the limit)
    for _ in range(9):
        accounts.authenticate(state, "someone", "wrong", other)
    assert accounts.login_refused(state, accounts.login_keys("third", "10.0.0.1"), 3, window)
    assert not accounts.login_refused(state, accounts.login_keys("third", "10.0.0.2"), 3, window)
