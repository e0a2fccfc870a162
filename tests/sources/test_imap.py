"""Live IMAP against a real Dovecot (`tests/sources/dovecot.py`): never a message lost, never one stored twice.

Every test has a mailbox of its own on the shared server and appends its mail with IMAP APPEND, as a mail
client delivering or moving mail would. Counts are hand-checked; "no duplicate, no loss" is asserted on the
sorted list of stored Message-IDs (a duplicate would show up twice in it, a loss would be missing from it).
Batches are 3 messages, so 7 messages arrive in batches of 3, 3 and 1.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.mailbuilder import Mail
from tests.sources.dovecot import PASSWORD, Dovecot
from tests.test_cli import assert_user_error, one_line, run_deskpulse
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.config import ConfigError, load_config, parse_config
from deskpulse.labels import label_effects
from deskpulse.sources.imap import (
    PASSWORD_ENV,
    Checkpoint,
    ImapAccount,
    ImapError,
    ImapUnavailable,
    Retry,
    account_from_config,
    decode_folder_name,
    encode_folder_name,
    parse_internaldate,
    read_password,
)
from deskpulse.sources.imap_sync import FolderSync, load_checkpoint, save_checkpoint, sync_imap
from deskpulse.store import Store

UTC = ZoneInfo("UTC")
HELP = "help@acme.test"
CARLA = "Carla Customer <carla@example.org>"
ANA = "Ana Agent <ana@acme.test>"
CONFIG = parse_config(
    {
        "helpdesk": {"support_addresses": [HELP], "agent_domains": ["acme.test"]},
        "labels": {"resolved": ["Done"]},
    }
)
# Quick retries: the tests stop the server on purpose and need not wait seconds to learn it is gone.
FAST_RETRY = Retry(attempts=3, first_delay=0.05)


def questions(first: int, last: int) -> list[bytes]:
    """Questions from different customers, Message-IDs q<n>@example.org: one ticket each."""
    return [
        Mail(f"Customer {n} <c{n}@example.org>", HELP, f"Question {n}", "2024-03-04 09:00", message_id=ids([n])[0]).raw(
            UTC
        )
        for n in range(first, last + 1)
    ]


def ids(numbers: list[int] | range) -> list[str]:
    return [f"q{n}@example.org" for n in numbers]


def stored_ids(store: Store) -> list[str]:
    return sorted(row[0] for row in store.execute("SELECT message_id FROM messages"))


def counts(folder: FolderSync) -> tuple[int, int, int]:
    return folder.summary.read, folder.summary.stored, folder.summary.duplicates


def checkpoint_of(folder: FolderSync) -> Checkpoint:
    assert folder.checkpoint is not None
    return folder.checkpoint


def test_a_first_sync_stores_every_message_and_a_second_fetches_nothing(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    running.append(user, "INBOX", questions(1, 7))
    running.append(user, "Empty", [])
    account = running.account(user)
    with Store.open(tmp_path / "store.duckdb") as store:
        first = sync_imap(store, CONFIG, account, folders=("INBOX", "Empty"))
        assert counts(first.folders[0]) == (7, 7, 0)
        assert checkpoint_of(first.folders[0]).last_uid == 7
        assert counts(first.folders[1]) == (0, 0, 0)
        assert checkpoint_of(first.folders[1]).last_uid == 0  # an empty folder is synced too: nothing below UID 1
        assert stored_ids(store) == sorted(ids(range(1, 8)))
        assert first.tickets == 7  # seven customers, seven subjects

        second = sync_imap(store, CONFIG, account, folders=("INBOX", "Empty"))
        assert [counts(folder) for folder in second.folders] == [(0, 0, 0), (0, 0, 0)]
        assert second.tickets is None  # nothing new: no rebuild
        assert stored_ids(store) == sorted(ids(range(1, 8)))


def test_only_new_mail_is_fetched(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    running.append(user, "INBOX", questions(1, 4))
    account = running.account(user)
    with Store.open(tmp_path / "store.duckdb") as store:
        sync_imap(store, CONFIG, account, folders=("INBOX",))
        running.append(user, "INBOX", questions(5, 6))
        report = sync_imap(store, CONFIG, account, folders=("INBOX",))
        # Only UIDs 5 and 6 are fetched: read 2, not 6.
        assert counts(report.folders[0]) == (2, 2, 0)
        assert checkpoint_of(report.folders[0]).last_uid == 6
        assert stored_ids(store) == sorted(ids(range(1, 7)))


def test_a_server_stopped_mid_sync_loses_nothing_and_the_next_sync_doubles_nothing(
    running: Dovecot, tmp_path: Path
) -> None:
    user = running.new_user()
    running.append(user, "INBOX", questions(1, 7))
    account = running.account(user)
    path = tmp_path / "store.duckdb"
    batches: list[int] = []

    def stop_the_server_after_the_first_batch(messages: int) -> None:
        batches.append(messages)
        if len(batches) == 1:
            running.stop()

    with Store.open(path) as store:
        with pytest.raises(ImapUnavailable, match=r"resumes after UIDVALIDITY \d+ UID 3"):
            sync_imap(
                store,
                CONFIG,
                account,
                folders=("INBOX",),
                retry=FAST_RETRY,
                progress=stop_the_server_after_the_first_batch,
            )
        # The first batch (UIDs 1–3) was stored and the checkpoint advanced with it; the rest never arrived.
        assert stored_ids(store) == sorted(ids(range(1, 4)))
        checkpoint = load_checkpoint(store, account.source, "INBOX")
        assert checkpoint is not None and checkpoint.last_uid == 3

    running.start()
    with Store.open(path) as store:  # a new process, as after a crash
        report = sync_imap(store, CONFIG, account, folders=("INBOX",))
        # UIDs 4–7 only: read 4, stored 4, nothing twice.
        assert counts(report.folders[0]) == (4, 4, 0)
        assert stored_ids(store) == sorted(ids(range(1, 8)))
        # The interrupted sync never rebuilt the tickets of its first batch; this one did, all seven.
        assert report.tickets == 7


def test_a_server_restart_mid_sync_is_survived_by_reconnecting(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    running.append(user, "INBOX", questions(1, 7))
    account = running.account(user)
    batches: list[int] = []

    def restart_the_server_after_the_first_batch(messages: int) -> None:
        batches.append(messages)
        if len(batches) == 1:
            running.restart()

    with Store.open(tmp_path / "store.duckdb") as store:
        report = sync_imap(
            store,
            CONFIG,
            account,
            folders=("INBOX",),
            retry=FAST_RETRY,
            progress=restart_the_server_after_the_first_batch,
        )
        inbox = report.folders[0]
        assert inbox.reconnects == 1
        # The batch in flight when the connection dropped was fetched again after reconnecting, and only once.
        assert counts(inbox) == (7, 7, 0)
        assert batches == [3, 3, 1]
        assert stored_ids(store) == sorted(ids(range(1, 8)))


def test_a_checkpoint_behind_the_store_refetches_harmlessly(running: Dovecot, tmp_path: Path) -> None:
    # A crash after a batch was stored but before its checkpoint was written leaves the checkpoint behind.
    user = running.new_user()
    running.append(user, "INBOX", questions(1, 7))
    account = running.account(user)
    with Store.open(tmp_path / "store.duckdb") as store:
        first = sync_imap(store, CONFIG, account, folders=("INBOX",))
        uidvalidity = checkpoint_of(first.folders[0]).uidvalidity
        save_checkpoint(store, account.source, "INBOX", Checkpoint(uidvalidity, 3))
        report = sync_imap(store, CONFIG, account, folders=("INBOX",))
        # UIDs 4–7 come again and are recognised: read 4, stored 0, duplicates 4.
        assert counts(report.folders[0]) == (4, 0, 4)
        assert stored_ids(store) == sorted(ids(range(1, 8)))
        assert load_checkpoint(store, account.source, "INBOX") == Checkpoint(uidvalidity, 7)


def test_a_uidvalidity_change_resyncs_the_folder_without_duplicates(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    running.append(user, "Support", questions(1, 3))
    account = running.account(user)
    with Store.open(tmp_path / "store.duckdb") as store:
        first = sync_imap(store, CONFIG, account, folders=("Support",))
        old = first.folders[0].checkpoint
        assert old is not None and first.folders[0].resynced_from is None

        # The folder is deleted and made anew (as a server migration or a restored backup would): new UIDs from 1.
        running.recreate(user, "Support")
        running.append(user, "Support", questions(1, 4))
        report = sync_imap(store, CONFIG, account, folders=("Support",))
        support = report.folders[0]
        assert support.resynced_from == old.uidvalidity
        assert checkpoint_of(support).uidvalidity != old.uidvalidity
        # The whole folder is read again: 4 read, the 3 known ones duplicates, only q4 stored.
        assert counts(support) == (4, 1, 3)
        assert stored_ids(store) == sorted(ids(range(1, 5)))


def test_internaldate_is_when_the_message_was_received(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    # The Received: header says 09:00 UTC; the server's INTERNALDATE says 11:30 in Berlin, which is 10:30 UTC
    # (CET, UTC+1, in early March).
    running.append(
        user, "INBOX", questions(1, 1), received=datetime(2024, 3, 4, 11, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    )
    with Store.open(tmp_path / "store.duckdb") as store:
        sync_imap(store, CONFIG, running.account(user), folders=("INBOX",))
        assert store.execute("SELECT received_at, received_from FROM messages") == [
            (datetime(2024, 3, 4, 10, 30), "source")
        ]


def test_a_done_folder_resolves_its_ticket(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    question = Mail(CARLA, HELP, "Cannot log in", "2024-03-04 09:00", message_id="login-1@example.org").raw(UTC)
    answer = Mail(
        ANA,
        "carla@example.org",
        "Re: Cannot log in",
        "2024-03-04 10:00",
        message_id="login-2@acme.test",
        in_reply_to="login-1@example.org",
        references=["login-1@example.org"],
    ).raw(UTC)
    other = Mail("Bob <bob@example.com>", HELP, "Invoice", "2024-03-05 09:00", message_id="invoice-1@example.com")
    # Carla's question arrived in INBOX, Ana answered (her copy is in Sent), then the question was filed in Done
    # (a move keeps its INTERNALDATE). Bob's question is still in INBOX.
    running.append(user, "INBOX", [question], received=datetime(2024, 3, 4, 9, 0, tzinfo=UTC))
    running.append(user, "Sent", [answer], received=datetime(2024, 3, 4, 10, 0, tzinfo=UTC))
    running.append(user, "Done", [question], received=datetime(2024, 3, 4, 9, 0, tzinfo=UTC))
    running.append(user, "INBOX", [other.raw(UTC)], received=datetime(2024, 3, 5, 9, 0, tzinfo=UTC))
    with Store.open(tmp_path / "store.duckdb") as store:
        report = sync_imap(store, CONFIG, running.account(user), folders=("INBOX", "Sent", "Done"))
        # Done holds a copy of a stored message: read 1, a duplicate, yet its label is new.
        assert counts(report.folders[2]) == (1, 0, 1)
        assert report.folders[2].summary.labels == 1
        labels = store.execute("SELECT message_key, label, source FROM message_labels ORDER BY ALL")
        assert labels == [
            ("invoice-1@example.com", "INBOX", "folder"),
            ("login-1@example.org", "Done", "folder"),
            ("login-1@example.org", "INBOX", "folder"),
            ("login-2@acme.test", "Sent", "folder"),
        ]
        [(login_ticket,)] = store.execute(
            "SELECT ticket_id FROM message_threads WHERE message_key = 'login-1@example.org'"
        )
        resolutions = label_effects(store, CONFIG).resolutions.to_pylist()
        # Resolved at Ana's answer (10:00), the ticket's latest message when it was filed: no customer wrote
        # after it. Bob's ticket is in no resolving folder.
        assert resolutions == [
            {"ticket_id": login_ticket, "occurred_at": datetime(2024, 3, 4, 10, 0), "label": "Done", "source": "folder"}
        ]


def test_starttls_works_too(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    running.append(user, "INBOX", questions(1, 2))
    with Store.open(tmp_path / "store.duckdb") as store:
        report = sync_imap(store, CONFIG, running.account(user, tls="starttls"), folders=("INBOX",))
        assert counts(report.folders[0]) == (2, 2, 0)


def test_an_untrusted_certificate_is_refused_not_ignored(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    with Store.open(tmp_path / "store.duckdb") as store:
        with pytest.raises(ImapError, match=r"certificate is not trusted.*imap\.ca_file"):
            sync_imap(store, CONFIG, running.account(user, trusted=False), folders=("INBOX",))
        with pytest.raises(ImapError, match=r"certificate is not trusted"):
            sync_imap(store, CONFIG, running.account(user, tls="starttls", trusted=False), folders=("INBOX",))


def test_a_missing_folder_is_a_clear_error(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    running.append(user, "Support", questions(1, 1))
    expected = r"cannot open folder 'Archive'.*the server has: .*Support"
    with Store.open(tmp_path / "store.duckdb") as store, pytest.raises(ImapError, match=expected):
        sync_imap(store, CONFIG, running.account(user), folders=("Archive",))


# ---------------------------------------------------------------------------------------------------------
# The protocol's own formats


def test_folder_names_are_modified_utf7() -> None:
    # RFC 3501 §5.1.3's own example, and an "&", which stands for itself as "&-".
    assert encode_folder_name("~peter/mail/台北/日本語") == "~peter/mail/&U,BTFw-/&ZeVnLIqe-"
    assert encode_folder_name("Entwürfe & Notizen") == "Entw&APw-rfe &- Notizen"
    for name in ("~peter/mail/台北/日本語", "Entwürfe & Notizen", "INBOX"):
        assert decode_folder_name(encode_folder_name(name)) == name


def test_internaldate_is_read_as_utc_whatever_the_locale() -> None:
    assert parse_internaldate("17-Jul-1996 02:44:25 -0700") == datetime(1996, 7, 17, 9, 44, 25)
    assert parse_internaldate(" 4-Mar-2024 11:30:00 +0100") == datetime(2024, 3, 4, 10, 30)


# ---------------------------------------------------------------------------------------------------------
# Credentials and configuration


def test_the_password_comes_from_the_environment_or_a_file_only_its_owner_can_read(tmp_path: Path) -> None:
    secret = tmp_path / "imap-password"
    secret.write_text("s3cret\n", encoding="utf-8")
    secret.chmod(0o644)
    with pytest.raises(ImapError, match=r"can be read or changed by other users \(mode 0644\).*chmod 600"):
        read_password(secret, {})
    secret.chmod(0o640)  # group-readable is others too
    with pytest.raises(ImapError, match=r"mode 0640"):
        read_password(secret, {})
    secret.chmod(0o600)
    assert read_password(secret, {}) == "s3cret"  # the line end is not part of it
    assert read_password(secret, {PASSWORD_ENV: "from-env"}) == "from-env"
    with pytest.raises(ImapError, match=PASSWORD_ENV):
        read_password(None, {})


def test_the_account_comes_from_the_config_and_never_holds_the_password_there(tmp_path: Path) -> None:
    with pytest.raises(ImapError, match=r"^no IMAP account in deskpulse\.toml"):
        account_from_config(parse_config({}), {})
    with pytest.raises(ConfigError, match=r"^imap\.password: a password never goes in deskpulse\.toml"):
        parse_config({"imap": {"host": "imap.acme.test", "user": "help@acme.test", "password": "hunter2"}})
    with pytest.raises(ConfigError, match=r"^imap\.user is required"):
        parse_config({"imap": {"host": "imap.acme.test"}})
    with pytest.raises(ConfigError, match=r"^imap\.tls must be one of imaps, starttls, got 'none'"):
        parse_config({"imap": {"host": "imap.acme.test", "user": "help", "tls": "none"}})

    config_file = tmp_path / "deskpulse.toml"
    config_file.write_text(
        '[imap]\nhost = "imap.acme.test"\nuser = "help@acme.test"\ntls = "starttls"\npassword_file = "secret"\n',
        encoding="utf-8",
    )
    (tmp_path / "secret").write_text("s3cret", encoding="utf-8")
    (tmp_path / "secret").chmod(0o600)
    account = account_from_config(load_config(config_file), {})
    # The file is found beside the config; STARTTLS defaults to port 143; the password never shows in a repr.
    assert (account.host, account.port, account.user, account.tls) == (
        "imap.acme.test",
        143,
        "help@acme.test",
        "starttls",
    )
    assert account.password == "s3cret" and "s3cret" not in repr(account)
    assert account.source == "imap://help@acme.test@imap.acme.test:143"


def test_sync_imap_and_watch_once_on_the_command_line(
    running: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    user = running.new_user()
    running.append(user, "INBOX", questions(1, 2))
    running.append(user, "Done", questions(1, 1))
    config = tmp_path / "deskpulse.toml"
    config.write_text(
        f'[helpdesk]\nsupport_addresses = ["{HELP}"]\n\n'
        f'[imap]\nhost = "127.0.0.1"\nport = {running.imaps_port}\nuser = "{user}"\nfolders = ["INBOX", "Done"]\n'
        f'ca_file = "{running.ca_file}"\npassword_file = "imap-password"\n\n[labels]\nresolved = ["Done"]\n',
        encoding="utf-8",
    )
    secret = tmp_path / "imap-password"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    secret.chmod(0o600)
    options = ["--config", str(config), "--db", str(tmp_path / "deskpulse.duckdb")]

    first = CliRunner().invoke(app, [*options, "sync", "imap"])
    assert first.exit_code == 0, first.output
    text = one_line(first.output)
    assert "INBOX: read 2, stored 2, duplicates 0, quarantined 0; up to UID 2" in text
    assert "Done: read 1, stored 0, duplicates 1, quarantined 0; up to UID 1" in text
    assert "Tickets rebuilt: 2." in text

    again = CliRunner().invoke(app, [*options, "watch", "--once"])
    assert again.exit_code == 0, again.output
    assert "INBOX: read 0, stored 0" in one_line(again.output)
    assert "Nothing new: tickets unchanged." in one_line(again.output)

    running.append(user, "INBOX", questions(3, 3))
    as_json = CliRunner().invoke(app, [*options, "sync", "imap", "--folder", "INBOX", "--format", "json"])
    document = json.loads(as_json.stdout)
    assert [(f["folder"], f["messages_read"], f["messages_stored"], f["last_uid"]) for f in document["folders"]] == [
        ("INBOX", 1, 1, 3)
    ]
    assert document["tickets"] == 3

    secret.chmod(0o644)
    assert_user_error(run_deskpulse(*options, "sync", "imap", cwd=tmp_path), "imap.password_file", "chmod 600")


# Last in this file on purpose: after a failed login Dovecot makes the next logins from the same address wait a
# few seconds (its auth penalty), which would slow every test after this one.
def test_a_wrong_password_is_a_clear_error_and_is_not_retried(running: Dovecot, tmp_path: Path) -> None:
    user = running.new_user()
    right = running.account(user)
    wrong = ImapAccount(right.host, right.port, user, "wrong", right.tls, right.ca_file)
    pauses: list[float] = []
    with Store.open(tmp_path / "store.duckdb") as store, pytest.raises(ImapError, match=f"refused the login of {user}"):
        sync_imap(store, CONFIG, wrong, folders=("INBOX",), sleep=pauses.append)
    assert pauses == []  # no reconnecting: another try would be refused just the same


def test_a_sync_scores_the_new_mail_and_flags_an_angry_customer(running: Dovecot, tmp_path: Path) -> None:
    """After a sync that stored mail, the new customer messages are scored and their tickets categorised by the
    taxonomy: an angry customer is in the review queue at once, and the next sync scores only its own mail."""
    taxonomy = tmp_path / "categories.toml"
    taxonomy.write_text('[categories."Account > Login"]\nkeywords = ["log in"]\n', encoding="utf-8")
    config = replace(CONFIG, files=replace(CONFIG.files, categories=taxonomy))
    user = running.new_user()
    complaint = "This is the third time I write. It is STILL NOT WORKING!!! I will file a chargeback."
    angry = Mail(CARLA, HELP, "THIRD TIME: cannot log in", "2024-03-04 09:00", message_id="angry@example.org",
                 body=complaint)  # fmt: skip
    running.append(user, "INBOX", [*questions(1, 2), angry.raw(UTC)])
    account = running.account(user)
    with Store.open(tmp_path / "store.duckdb") as store:
        first = sync_imap(store, config, account, folders=("INBOX",))
        assert first.insight is not None
        # Three customer messages; Carla's is angry (third time, still not working, a chargeback threat).
        assert (first.insight.scored, first.insight.raised, first.insight.open_flags) == (3, 1, 1)
        # Carla's ticket matches the rule; the two questions match none and stay Unclassified.
        assert first.insight.categorised == 3
        categories = dict(store.execute("SELECT subject, category FROM tickets"))
        assert categories == {
            "THIRD TIME: cannot log in": "Account > Login",
            "Question 1": "Unclassified",
            "Question 2": "Unclassified",
        }
        running.append(user, "INBOX", questions(3, 3))
        second = sync_imap(store, config, account, folders=("INBOX",))
        assert second.insight is not None
        assert (second.insight.scored, second.insight.raised, second.insight.open_flags) == (1, 0, 1)
        assert second.insight.categorised == 1
        assert sync_imap(store, config, account, folders=("INBOX",)).insight is None  # nothing new, nothing to do
