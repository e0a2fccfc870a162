"""The stdlib fallback: a message fast-mail-parser rejects is read by Python's `email` package instead."""

from __future__ import annotations

from datetime import datetime

import fast_mail_parser
import pytest

from deskpulse.mail import parse
from deskpulse.mail.parse import ParsedMail, Rejected, parse_batch
from deskpulse.sources.mailbox import RawMessage

RAW = (
    b"Received: from mx by mail.acme.test; Mon, 05 Jan 2026 10:00:30 +0100\n"
    b"From: =?utf-8?q?J=C3=BCrgen?= <Juergen@Example.org>\n"
    b"To: help@acme.test\n"
    b"Subject: =?iso-8859-1?q?R=E9sum=E9?= upload fails\n"
    b"Date: Mon, 05 Jan 2026 10:00:00 +0100\n"
    b"Message-ID: <abc@example.org>\n"
    b"In-Reply-To: <parent@acme.test>\n"
    b"MIME-Version: 1.0\n"
    b'Content-Type: multipart/alternative; boundary="b"\n\n'
    b"--b\nContent-Type: text/html; charset=utf-8\n\n<p>It still fails.</p><blockquote>old text</blockquote>\n"
    b"--b--\n"
)


def _reject_everything(payloads: list[bytes], **_: object) -> list[object]:
    return [fast_mail_parser.MimeStructureError("simulated rejection") for _ in payloads]


def test_a_rejected_message_is_read_by_the_stdlib_with_the_same_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    [fast] = parse_batch([RawMessage("inbox.mbox", "#0 @0", RAW)])
    monkeypatch.setattr(parse.fast_mail_parser, "parse_many", _reject_everything)
    [slow] = parse_batch([RawMessage("inbox.mbox", "#0 @0", RAW)])
    assert isinstance(fast, ParsedMail) and isinstance(slow, ParsedMail)
    for field in ("message_id", "subject", "from_address", "to_addresses", "in_reply_to", "received_at", "body_text"):
        assert getattr(slow, field) == getattr(fast, field), field
    assert slow.subject == "Résumé upload fails"
    assert slow.from_address == "juergen@example.org"
    assert slow.received_at == datetime(2026, 1, 5, 9, 0, 30)  # the Received stamp, in UTC
    assert slow.body_text == "It still fails."  # the blockquote is history, not new text
    assert slow.repairs == [("stdlib_fallback", "MimeStructureError: simulated rejection")]


def test_what_neither_parser_can_use_is_rejected_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parse.fast_mail_parser, "parse_many", _reject_everything)
    [result] = parse_batch([RawMessage("inbox.mbox", "#3 @120", b"\x00\x01\xff binary junk \xfe")])
    assert isinstance(result, Rejected)
    assert result.reason == "not_a_message"
    assert result.raw.position == "#3 @120"
