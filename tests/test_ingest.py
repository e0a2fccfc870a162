"""Importing mail: every message read ends stored, recognised as a duplicate, or in quarantine — never lost,
never stored twice, never the end of an import.

The help desk in these tests: help@acme.test, agents at acme.test. Mailboxes are written by hand so each test
shows exactly which bytes go in. Messages are framed in mbox the way mail clients and Python's `mailbox` write
them (RFC 4155, mboxrd): an envelope ``From `` line, the message, one empty line; body lines starting with
``From `` are escaped as ``>From ``.
"""

from __future__ import annotations

import base64
import gzip
import mailbox
import random
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.mailbuilder import Mail

from deskpulse.config import parse_config
from deskpulse.ingest import IngestSummary, ingest_paths
from deskpulse.store import Store

CONFIG = parse_config({"helpdesk": {"support_addresses": ["help@acme.test"], "agent_domains": ["acme.test"]}})

HELP = "help@acme.test"
CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Doe <dora@example.net>"
ANA = "Ana Agent <ana@acme.test>"

ENVELOPE = b"From sender@example.net Thu Jan  1 00:00:00 2026\n"
RECEIVED = "Received: from mx.example.net by mail.acme.test; Mon, 12 Jan 2026 10:00:00 +0000"

# A small support mailbox: one login ticket (customer, auto-acknowledgement, agent reply, customer thanks) and
# one invoice ticket. Carla's thanks has a body line starting with "From ", which mbox must escape.
CONVERSATION = [
    Mail(CARLA, HELP, "Cannot log in", "2026-01-12 09:00", message_id="login-1@example.org"),
    Mail(
        HELP,
        "carla@example.org",
        "We received your request: Cannot log in",
        "2026-01-12 09:00",
        message_id="login-ack@acme.test",
        in_reply_to="login-1@example.org",
        references=["login-1@example.org"],
        extra_headers={"Auto-Submitted": "auto-replied"},
    ),
    Mail(
        ANA,
        "carla@example.org",
        "Re: Cannot log in",
        "2026-01-12 10:30",
        body="Hi Carla,\n\nplease use the reset link on the login page.\n",
        message_id="login-2@acme.test",
        in_reply_to="login-1@example.org",
        references=["login-1@example.org"],
    ),
    Mail(
        CARLA,
        HELP,
        "Re: Cannot log in",
        "2026-01-12 11:00",
        body="Thanks, that worked.\nFrom now on I will bookmark the link.\n",
        message_id="login-3@example.org",
        in_reply_to="login-2@acme.test",
        references=["login-1@example.org", "login-2@acme.test"],
    ),
    Mail(BOB, HELP, "Invoice 2026-001 is wrong", "2026-01-13 14:00", message_id="invoice-1@example.com"),
]
# Mail from a client that sets no Message-ID: deskpulse keys it by the SHA-1 of its bytes.
WITHOUT_MESSAGE_ID = Mail(DORA, HELP, "Parcel never arrived", "2026-01-14 08:00")

GROWING_TABLES = ("messages", "message_threads", "tickets", "quarantine", "agents")


# ---------------------------------------------------------------------------------------------------------
# Helpers: writing mail in every format, reading the store back


def raw(mail: Mail) -> bytes:
    return mail.raw(ZoneInfo("UTC"))


def message_bytes(headers: str, body: bytes = b"Hello.\n") -> bytes:
    """A raw message from header lines (one per line) and body bytes."""
    return headers.strip("\n").encode("ascii") + b"\n\n" + body


def write_mboxrd(path: Path, messages: list[bytes]) -> list[int]:
    """Write an mbox; return the byte offset of each message's ``From `` envelope line."""
    offsets = []
    with path.open("wb") as handle:
        for data in messages:
            offsets.append(handle.tell())
            handle.write(ENVELOPE)
            data = data if data.endswith(b"\n") else data + b"\n"
            handle.write(re.sub(rb"^(>*From )", rb">\1", data, flags=re.MULTILINE))
            handle.write(b"\n")
    return offsets


def write_eml_folder(folder: Path, messages: list[bytes]) -> Path:
    folder.mkdir()
    for number, data in enumerate(messages, 1):
        (folder / f"{number:03d}.eml").write_bytes(data)
    return folder


def write_maildir(root: Path, messages: list[bytes]) -> Path:
    """A Maildir++ tree by hand: read mail in cur/ (with flags), unread in new/, one message in a subfolder,
    and a delivery still in progress in tmp/ (which a reader must skip)."""
    for sub in ("cur", "new", "tmp", ".Archive/cur", ".Archive/new", ".Archive/tmp"):
        (root / sub).mkdir(parents=True)
    *inbox, archived = messages
    for number, data in enumerate(inbox):
        folder = "cur" if number % 2 == 0 else "new"
        flags = ":2,S" if folder == "cur" else ""
        (root / folder / f"17360000{number:02d}.M{number}P1.mx{flags}").write_bytes(data)
    (root / ".Archive" / "cur" / "1736009999.M99P1.mx:2,S").write_bytes(archived)
    (root / "tmp" / "1736019999.M1P2.mx").write_bytes(b"Received: from mx.example.net by mail.acme.te")
    return root


def ingest(store: Store, *paths: Path, workers: int = 0, **options: Any) -> IngestSummary:
    return ingest_paths(store, CONFIG, list(paths), workers=workers, **options)


def counts(store: Store) -> dict[str, int]:
    return {name: store.count(name) for name in GROWING_TABLES}


def rows(store: Store, name: str, *, without: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    table = store.table(name)
    if without:
        table = table.drop(*without)
    return sorted(table.to_pyarrow().to_pylist(), key=repr)


def message(store: Store, message_id: str) -> dict[str, Any]:
    table = store.table("messages")
    [row] = table.filter(table.message_id == message_id).to_pyarrow().to_pylist()
    return row


def quarantine(store: Store) -> set[tuple[str, str, str]]:
    return {(r["source_position"], r["reason"], r["action"]) for r in rows(store, "quarantine")}


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "deskpulse.duckdb") as opened:
        yield opened


# ---------------------------------------------------------------------------------------------------------
# Idempotency


def test_importing_the_same_mbox_twice_adds_nothing(store: Store, tmp_path: Path) -> None:
    junk = random.Random(2).randbytes(300)  # not a message: rejected, both times
    mbox = tmp_path / "support.mbox"
    write_mboxrd(mbox, [*map(raw, CONVERSATION), raw(WITHOUT_MESSAGE_ID), junk])

    first = ingest(store, mbox)
    before = counts(store)
    second = ingest(store, mbox)

    # 7 read: the 6 messages are stored (one repaired: it had no Message-ID), the junk is quarantined.
    assert (first.read, first.stored, first.duplicates, first.quarantined) == (7, 6, 0, 1)
    # The second time every message that parsed is recognised; the junk is rejected again, not re-recorded.
    assert (second.read, second.stored, second.duplicates, second.quarantined) == (7, 0, 6, 1)
    assert second.tickets == first.tickets == 3  # login, invoice, parcel
    assert counts(store) == before
    # quarantine: the junk (rejected) and the message without Message-ID (repaired); agents: Ana alone, since
    # the acknowledgement from help@acme.test is automation.
    assert before == {"messages": 6, "message_threads": 6, "tickets": 3, "quarantine": 2, "agents": 1}
    # ingest_runs is the one table that grows: a row per import, with the counts its summary printed.
    runs = rows(store, "ingest_runs")
    assert sorted((r["messages_stored"], r["duplicates"], r["quarantined"]) for r in runs) == [(0, 6, 1), (6, 0, 1)]


def test_a_maildir_copy_and_an_eml_copy_of_stored_mail_add_nothing(store: Store, tmp_path: Path) -> None:
    messages = [raw(mail) for mail in CONVERSATION]
    write_mboxrd(tmp_path / "support.mbox", messages)
    ingest(store, tmp_path / "support.mbox")
    before = counts(store)

    from_maildir = ingest(store, write_maildir(tmp_path / "Maildir", messages))
    from_eml = ingest(store, write_eml_folder(tmp_path / "eml", messages))

    for summary in (from_maildir, from_eml):
        assert (summary.read, summary.stored, summary.duplicates, summary.quarantined) == (5, 0, 5, 0)
    assert counts(store) == before


def test_a_message_without_message_id_is_recognised_in_a_maildir_or_eml_copy(store: Store, tmp_path: Path) -> None:
    # Its key is the SHA-1 of its bytes, so the key must not depend on the container. In an mbox the empty line
    # before the next "From " line (or at the end of the file) frames the message and is not part of it
    # (RFC 4155; Python's `mailbox`, mutt and every mbox-to-Maildir converter drop it). The Maildir and .eml
    # copies hold exactly the message's bytes.
    message = raw(WITHOUT_MESSAGE_ID)
    write_mboxrd(tmp_path / "support.mbox", [message])
    assert mailbox.mbox(tmp_path / "support.mbox").get_bytes(0) == message  # the stdlib reads back these bytes
    ingest(store, tmp_path / "support.mbox")

    maildir = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    (maildir / "new" / "1736841600.M1P1.mx").write_bytes(message)
    eml = write_eml_folder(tmp_path / "eml", [message])

    assert ingest(store, maildir).stored == 0
    assert ingest(store, eml).stored == 0
    assert store.count("messages") == 1


# ---------------------------------------------------------------------------------------------------------
# A corrupted mbox


def test_a_corrupted_mbox_imports_every_good_message_and_reports_each_bad_part(store: Store, tmp_path: Path) -> None:
    truncated = message_bytes(  # the copy broke off in the middle of the header block
        f"{RECEIVED}\nMessage-ID: <cut@example.net>\nFrom: {DORA}\nTo: {HELP}\nSubj", b""
    )[:-2]
    klingon = message_bytes(  # a charset nobody knows, with 8-bit bytes in the body
        f"{RECEIVED}\nFrom: Kor <kor@example.org>\nTo: {HELP}\nSubject: Qapla'\nMessage-ID: <klingon@example.org>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=x-klingon\nContent-Transfer-Encoding: 8bit",
        "Qapla'! Mon caf\xe9 est froid.\n".encode("latin-1"),
    )
    without_id = raw(WITHOUT_MESSAGE_ID)
    timeless = message_bytes(  # neither Date: nor Received: says when it arrived
        f"From: Finn <finn@example.org>\nTo: {HELP}\nSubject: When?\nMessage-ID: <timeless@example.org>"
    )
    junk = random.Random(7).randbytes(600)  # binary junk between two "From " lines
    assert b"\nFrom " not in junk
    login, ack, reply, thanks, invoice = map(raw, CONVERSATION)
    parts = [login, ack, junk, truncated, klingon, without_id, timeless, reply, thanks, invoice]
    mbox = tmp_path / "broken.mbox"
    offsets = write_mboxrd(mbox, parts)
    data = mbox.read_bytes()
    assert all(data[offset : offset + 5] == b"From " for offset in offsets)

    def at(index: int) -> str:  # where a part is: its number in the mbox and the offset of its "From " line
        return f"#{index} @{offsets[index]}"

    summary = ingest(store, mbox)  # must not raise

    # 10 parts: the junk and the timeless message are rejected; the other 8 are stored. The truncated message
    # is stored with a repair: its sender, time and Message-ID survived the cut, so its ticket still counts.
    assert (summary.read, summary.stored, summary.duplicates, summary.quarantined) == (10, 8, 0, 2)
    stored_ids = {r["message_id"] for r in rows(store, "messages")}
    good = {"login-1@example.org", "login-ack@acme.test", "login-2@acme.test", "login-3@example.org"}
    assert stored_ids >= good | {"invoice-1@example.com", "cut@example.net", "klingon@example.org"}
    assert None in stored_ids  # the message without Message-ID

    expected = {
        (at(2), "not_a_message", "rejected"),
        (at(3), "parser:unterminated-header-block", "repaired"),
        (at(4), "parser:charset-fallback", "repaired"),
        (at(5), "missing_message_id", "repaired"),
        (at(6), "no_time", "rejected"),
    }
    assert quarantine(store) == expected
    assert {(where, reason) for where, reason, _ in summary.problems} == {
        (f"{mbox} {position}", reason) for position, reason, _ in expected
    }
    for row in rows(store, "quarantine"):
        assert row["source"] == str(mbox)
        assert row["detail"], row  # a sentence for the person reading the quarantine
    # A repaired message is stored and its quarantine row points at it; a rejected one has nothing to point at.
    stored_keys = {r["message_key"] for r in rows(store, "messages")}
    for row in rows(store, "quarantine"):
        assert (row["message_key"] in stored_keys) if row["action"] == "repaired" else row["message_key"] is None

    charset_row = next(r for r in rows(store, "quarantine") if r["reason"] == "parser:charset-fallback")
    assert "x-klingon" in charset_row["detail"]
    # The unknown charset was read as ASCII: the text survives, the one 8-bit byte is replaced, not guessed.
    assert message(store, "klingon@example.org")["body_text"] == "Qapla'! Mon caf\ufffd est froid."
    [dora] = [r for r in rows(store, "messages") if r["message_id"] is None]
    assert dora["message_key"] == f"sha1:{dora['content_hash']}"


def test_repaired_counts_messages_stored_with_a_repair(store: Store, tmp_path: Path) -> None:
    # One message, two repairs: no Message-ID and an unknown charset. The summary's `repaired` (printed as
    # "stored with repairs", recorded in ingest_runs.repaired as "Messages stored with a repair") is 1, not 2.
    twice_broken = message_bytes(
        f"{RECEIVED}\nFrom: {DORA}\nTo: {HELP}\nSubject: Colis\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=x-klingon\nContent-Transfer-Encoding: 8bit",
        "Mon colis n'est jamais arriv\xe9.\n".encode("latin-1"),
    )
    mbox = tmp_path / "support.mbox"
    write_mboxrd(mbox, [raw(CONVERSATION[0]), twice_broken])

    first = ingest(store, mbox)
    again = ingest(store, mbox)

    assert {reason for _, reason, _ in quarantine(store)} == {"missing_message_id", "parser:charset-fallback"}
    assert (first.stored, first.repaired) == (2, 1)
    # Importing again stores nothing, so nothing is stored with a repair either.
    assert (again.stored, again.repaired) == (0, 0)


# ---------------------------------------------------------------------------------------------------------
# Formats


def _formats(tmp_path: Path, messages: list[bytes]) -> dict[str, Path]:
    mbox = tmp_path / "support.mbox"
    write_mboxrd(mbox, messages)
    gz = tmp_path / "support.mbox.gz"
    gz.write_bytes(gzip.compress(mbox.read_bytes()))
    return {
        "mbox": mbox,
        "mbox.gz": gz,
        "maildir": write_maildir(tmp_path / "Maildir", messages),
        "eml folder": write_eml_folder(tmp_path / "eml", messages),
    }


@pytest.mark.parametrize("kind", ["mbox", "mbox.gz", "maildir", "eml folder"])
def test_every_format_gives_the_same_messages(store: Store, tmp_path: Path, kind: str) -> None:
    path = _formats(tmp_path, [raw(mail) for mail in CONVERSATION])[kind]

    summary = ingest(store, path)

    assert (summary.read, summary.stored, summary.quarantined) == (5, 5, 0)
    assert {r["message_id"] for r in rows(store, "messages")} == {mail.message_id for mail in CONVERSATION}
    assert {r["source"] for r in rows(store, "messages")} == {str(path)}
    # mbox escapes a body line starting with "From " as ">From "; the reader undoes it. Maildir and .eml files
    # hold the line as written.
    assert message(store, "login-3@example.org")["body_text"] == (
        "Thanks, that worked.\nFrom now on I will bookmark the link."
    )


def test_positions_say_where_each_message_is(store: Store, tmp_path: Path) -> None:
    messages = [raw(mail) for mail in CONVERSATION]
    offsets = write_mboxrd(tmp_path / "support.mbox", messages)
    ingest(store, tmp_path / "support.mbox", write_maildir(tmp_path / "Maildir", messages))

    positions = {(r["message_id"], r["source"], r["source_position"]) for r in rows(store, "messages")}
    # First copy wins: the mbox was read first. "#<n> @<byte offset of the From line>".
    mbox = str(tmp_path / "support.mbox")
    assert positions == {
        (mail.message_id, mbox, f"#{n} @{offset}")
        for n, (mail, offset) in enumerate(zip(CONVERSATION, offsets, strict=True))
    }


def test_a_single_eml_file_is_one_message(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "question.eml"
    path.write_bytes(raw(CONVERSATION[0]))

    summary = ingest(store, path)

    assert (summary.read, summary.stored) == (1, 1)
    [row] = rows(store, "messages")
    assert (row["message_id"], row["source"], row["source_position"]) == ("login-1@example.org", str(path), path.name)


def test_a_maildir_subfolder_is_read_and_its_marker_files_are_not_mail(store: Store, tmp_path: Path) -> None:
    # Maildir++ as Python's `mailbox`, Dovecot and Courier write it: a subfolder ".Archive" carries an empty
    # `maildirfolder` marker file, and the server keeps its own files (dovecot-uidlist) beside cur/new/tmp.
    # Only files in cur/ and new/ are mail.
    maildir = mailbox.Maildir(tmp_path / "Maildir", create=True)
    login, ack, reply, thanks, invoice = map(raw, CONVERSATION)
    for data in (login, ack, reply, thanks):
        maildir.add(data)
    maildir.add_folder("Archive").add(invoice)
    (tmp_path / "Maildir" / "dovecot-uidlist").write_text("3 V1736000000 N5\n1 1736000000.M1P1.mx\n")

    summary = ingest(store, tmp_path / "Maildir")

    assert (summary.read, summary.stored, summary.quarantined) == (5, 5, 0), summary.problems
    assert store.count("quarantine") == 0


# ---------------------------------------------------------------------------------------------------------
# Decoding: what people wrote, in the text people read


def b64_word(text: str) -> str:
    return f"=?UTF-8?B?{base64.b64encode(text.encode()).decode()}?="


DECODING = [
    message_bytes(
        f"{RECEIVED}\nFrom: =?UTF-8?Q?J=C3=BCrgen_M=C3=BCller?= <jm@example.de>\nTo: {HELP}\n"
        f"Subject: {b64_word('Re: Problème avec la facture')}\nMessage-ID: <latin1@example.de>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: 8bit",
        "Grüße aus Köln, das Gerät ist kaputt.\n".encode("latin-1"),
    ),
    message_bytes(  # two adjacent encoded words: the space between them is not part of the text (RFC 2047 §6.2)
        f"{RECEIVED}\nFrom: =?ISO-8859-1?Q?Fran=E7oise?= <f@example.fr>\nTo: {HELP}\n"
        "Subject: =?ISO-8859-1?Q?Caf=E9?= =?ISO-8859-1?Q?_cr=E8me?=\nMessage-ID: <qp@example.fr>\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable",
        b"La cr=E8me est froide, merci de m'aider.\n",
    ),
    message_bytes(
        f"{RECEIVED}\nFrom: {ANA}\nTo: jm@example.de\nSubject: Re: Invoice\nMessage-ID: <alternative@acme.test>\n"
        'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="b1"',
        b"--b1\nContent-Type: text/plain; charset=utf-8\n\nThe plain version of the answer.\n"
        b"--b1\nContent-Type: text/html; charset=utf-8\n\n<p>The <b>HTML</b> version of the answer.</p>\n--b1--\n",
    ),
    message_bytes(
        f"{RECEIVED}\nFrom: Hal <hal@example.org>\nTo: {HELP}\nSubject: Printer\nMessage-ID: <html@example.org>\n"
        "MIME-Version: 1.0\nContent-Type: text/html; charset=utf-8",
        b"<html><head><style>p { color: red }</style></head><body><p>My printer is <b>on fire</b>.</p>"
        b"<p>Smoke&nbsp;&amp; sparks!</p></body></html>\n",
    ),
    message_bytes(
        f"{RECEIVED}\nFrom: {ANA}\nTo: hal@example.org\nSubject: Re: Printer\nMessage-ID: <quoted@acme.test>\n"
        "In-Reply-To: <html@example.org>",
        b"Please unplug it now.\n\nBest regards,\nAna\nAcme Support\n\n"
        b"On Mon, 12 Jan 2026 at 09:00, Hal <hal@example.org> wrote:\n> My printer is on fire.\n> Smoke & sparks!\n",
    ),
]


@pytest.fixture
def decoded(store: Store, tmp_path: Path) -> Store:
    write_mboxrd(tmp_path / "decoding.mbox", DECODING)
    assert ingest(store, tmp_path / "decoding.mbox").stored == len(DECODING)
    return store


def test_rfc2047_subjects_and_names_are_decoded(decoded: Store) -> None:
    latin1 = message(decoded, "latin1@example.de")
    assert (latin1["subject"], latin1["from_name"]) == ("Re: Problème avec la facture", "Jürgen Müller")
    assert latin1["normalized_subject"] == "problème avec la facture"
    qp = message(decoded, "qp@example.fr")
    assert (qp["subject"], qp["from_name"]) == ("Café crème", "Françoise")


def test_iso_8859_1_bodies_are_decoded_in_8bit_and_quoted_printable(decoded: Store) -> None:
    assert message(decoded, "latin1@example.de")["body_text"] == "Grüße aus Köln, das Gerät ist kaputt."
    assert message(decoded, "qp@example.fr")["body_text"] == "La crème est froide, merci de m'aider."


def test_multipart_alternative_keeps_the_plain_part(decoded: Store) -> None:
    row = message(decoded, "alternative@acme.test")
    assert (row["body_text"], row["has_html"]) == ("The plain version of the answer.", True)


def test_an_html_only_message_becomes_text(decoded: Store) -> None:
    row = message(decoded, "html@example.org")
    assert (row["body_text"], row["has_html"]) == ("My printer is on fire.\n\nSmoke & sparks!", True)


def test_quoted_history_and_signature_are_kept_apart_from_the_new_text(decoded: Store) -> None:
    row = message(decoded, "quoted@acme.test")
    assert row["body_text"] == "Please unplug it now."
    assert row["signature"] == "Best regards,\nAna\nAcme Support"
    assert row["quoted_text"] == (
        "On Mon, 12 Jan 2026 at 09:00, Hal <hal@example.org> wrote:\n> My printer is on fire.\n> Smoke & sparks!"
    )


# ---------------------------------------------------------------------------------------------------------
# Time of a message (spec §1.2)


def test_the_top_received_header_wins_over_date_and_date_is_the_fallback(store: Store, tmp_path: Path) -> None:
    relayed = message_bytes(
        # The help desk's own server stamped it last (top); the sender's clock says 07:58 UTC.
        "Received: from relay.example.net (relay.example.net [192.0.2.7])\n"
        "\tby mail.acme.test (Postfix) with ESMTPS id 4F3A2;\n"
        "\tMon, 12 Jan 2026 10:05:00 +0100 (CET)\n"
        "Received: from laptop by relay.example.net; Mon, 12 Jan 2026 08:00:00 +0000\n"
        f"From: {CARLA}\nTo: {HELP}\nSubject: Relayed\nDate: Mon, 12 Jan 2026 07:58:00 +0000\n"
        "Message-ID: <relayed@example.org>"
    )
    dated_only = message_bytes(  # an export without Received: headers; the Date: is New York time
        f"From: {BOB}\nTo: {HELP}\nSubject: Dated\nDate: Sun, 11 Jan 2026 23:30:00 -0500\n"
        "Message-ID: <dated@example.com>"
    )
    write_mboxrd(tmp_path / "times.mbox", [relayed, dated_only])
    ingest(store, tmp_path / "times.mbox")

    def when(message_id: str) -> tuple[str, str, str]:
        row = message(store, message_id)
        return (str(row["received_at"]), row["received_from"], str(row["date_header_at"]))

    # 10:05 CET = 09:05 UTC, from the top Received:, not the second hop's 08:00 and not Date:'s 07:58.
    assert when("relayed@example.org") == ("2026-01-12 09:05:00", "received_header", "2026-01-12 07:58:00")
    # 23:30 EST = 04:30 UTC the next day.
    assert when("dated@example.com") == ("2026-01-12 04:30:00", "date_header", "2026-01-12 04:30:00")


# ---------------------------------------------------------------------------------------------------------
# Who wrote it (spec §1.3–1.4)

ROLES = {
    # message id: (From, extra header lines, expected role, expected role_reason)
    "auto-ack@acme.test": (HELP, "Auto-Submitted: auto-replied", "automation", "auto-submitted:auto-replied"),
    "human-says-so@example.org": (CARLA, "Auto-Submitted: no", "customer", "not staff"),
    "newsletter@shop.example": ("Shop <news@shop.example>", "Precedence: bulk", "automation", "precedence:bulk"),
    "list@lists.example": (
        "Forum <forum@lists.example>",
        "List-Id: <forum.lists.example>\nList-Unsubscribe: <mailto:leave@lists.example>",
        "automation",
        "list-id bulk mail",
    ),
    "noreply@shop.example": ("no-reply@shop.example", "", "automation", "no-reply sender"),
    "bounce@mx.example.net": (
        "Mail Delivery System <MAILER-DAEMON@mx.example.net>",
        'MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary="r"',
        "system",
        "dsn",
    ),
    "agent@acme.test": (ANA, "", "agent", "agent_domain"),
    "support@acme.test": (f"Acme Support <{HELP}>", "", "agent", "support_address"),
    "customer@example.org": (CARLA, "", "customer", "not staff"),
}
DSN_BODY = (
    b"--r\nContent-Type: text/plain\n\nDelivery to gone@example.org failed.\n"
    b"--r\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n\n"
    b"Final-Recipient: rfc822; gone@example.org\nAction: failed\nStatus: 5.1.1\n--r--\n"
)


@pytest.fixture(scope="module")
def classified(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    folder = tmp_path_factory.mktemp("roles")
    messages = [
        message_bytes(
            f"{RECEIVED}\nFrom: {sender}\nTo: {HELP}\nSubject: Role test\nMessage-ID: <{message_id}>\n{extra}",
            DSN_BODY if role == "system" else b"Hello.\n",
        )
        for message_id, (sender, extra, role, _) in ROLES.items()
    ]
    write_mboxrd(folder / "roles.mbox", messages)
    with Store.open(folder / "deskpulse.duckdb") as opened:
        ingest(opened, folder / "roles.mbox")
        yield opened


@pytest.mark.parametrize("message_id", list(ROLES))
def test_who_wrote_a_message(classified: Store, message_id: str) -> None:
    _, _, role, reason = ROLES[message_id]
    row = message(classified, message_id)
    assert (row["author_role"], row["role_reason"]) == (role, reason)


# ---------------------------------------------------------------------------------------------------------
# The parallel path


def test_parser_processes_store_exactly_what_the_single_process_path_stores(tmp_path: Path) -> None:
    # The demo mailbox (30 tickets, a few deliberately malformed messages) in batches of 16, so both worker
    # processes get several batches and results must come back in order for "the first copy wins" to hold.
    from deskpulse.demo import write_demo_mailbox

    mbox = tmp_path / "demo.mbox"
    write_demo_mailbox(mbox, tickets=30)
    tables = ("messages", "message_threads", "tickets", "quarantine")
    volatile = {"messages": ("ingested_at",), "quarantine": ("recorded_at",)}
    results = {}
    for workers in (0, 2):
        with Store.open(tmp_path / f"workers-{workers}.duckdb") as store:
            summary = ingest(store, mbox, workers=workers, batch_size=16)
            figures = (summary.read, summary.stored, summary.duplicates, summary.quarantined, summary.tickets)
            results[workers] = (figures, {t: rows(store, t, without=volatile.get(t, ())) for t in tables})

    (serial_figures, serial_rows), (parallel_figures, parallel_rows) = results[0], results[2]
    assert serial_figures[0] > 100 and serial_figures[3] > 0  # the mailbox is big enough to mean something
    assert parallel_figures == serial_figures
    for table in tables:
        assert parallel_rows[table] == serial_rows[table], table
