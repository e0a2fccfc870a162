"""Turn raw message bytes into the fields deskpulse keeps: one entry point, `parse_batch`.

fast-mail-parser does the MIME and charset work, many messages at a time and in parallel; Python's own
`email` package is the fallback for what it rejects. Anything unusable becomes a `Rejected` with a reason,
never an exception: one bad message must not end an import.
"""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

import fast_mail_parser

from deskpulse.mail.html import html_to_text
from deskpulse.mail.quoting import split_reply
from deskpulse.mail.threading import extract_message_ids, normalize_subject
from deskpulse.sources.mailbox import RawMessage

# Dates outside this range are typos or junk (a Date: of 1970 or 2099), not evidence of when mail arrived.
_EARLIEST = datetime(1985, 1, 1)
_LATEST = datetime(2100, 1, 1)


@dataclass(slots=True)
class ParsedMail:
    """What deskpulse keeps of one message, before its role and ticket are known."""

    raw: RawMessage
    content_hash: str
    message_id: str | None
    headers: Mapping[str, list[str]]  # lower-cased names
    subject: str
    from_address: str | None
    from_name: str | None
    to_addresses: list[str]
    cc_addresses: list[str]
    reply_to: list[str]
    date_header_at: datetime | None
    received_at: datetime
    received_from: str
    in_reply_to: str | None
    references: list[str]
    body_text: str
    quoted_text: str
    signature: str
    has_html: bool
    attachment_count: int
    repairs: list[tuple[str, str]] = field(default_factory=list)  # (reason, detail)
    gmail_labels: list[str] = field(default_factory=list)  # a Gmail Takeout export's X-Gmail-Labels

    @property
    def message_key(self) -> str:
        return self.message_id or f"sha1:{self.content_hash}"

    @property
    def normalized_subject(self) -> str:
        return normalize_subject(self.subject)


@dataclass(frozen=True, slots=True)
class Rejected:
    raw: RawMessage
    content_hash: str
    reason: str
    detail: str


def parse_batch(raws: Sequence[RawMessage], *, threads: int | None = None) -> list[ParsedMail | Rejected]:
    """Parse a batch of messages; the result lines up with ``raws``.

    ``threads`` caps the parser's own threads (None: one per core); worker processes pass 1.
    """
    results = fast_mail_parser.parse_many([r.data for r in raws], mode="full", threads=threads)
    out: list[ParsedMail | Rejected] = []
    for raw, result in zip(raws, results, strict=True):
        digest = hashlib.sha1(raw.data).hexdigest()
        if isinstance(result, Exception):
            out.append(_parse_with_stdlib(raw, digest, f"{type(result).__name__}: {result}"))
        else:
            out.append(_from_fast(raw, digest, result))
    return out


def _from_fast(raw: RawMessage, digest: str, mail: fast_mail_parser.PyMail) -> ParsedMail | Rejected:
    headers = {name.lower(): values for name, values in mail.headers.items()}
    repairs = [(f"parser:{w.kind}", f"{w.part_path}: {w.detail}") for w in mail.warnings]
    from_ = mail.from_
    from_address = from_.address.strip().lower() if from_ is not None and from_.address else None
    from_name = from_.display_name if from_ is not None else None
    if from_address is None and headers.get("from"):
        from_address, from_name = _address_from_text(headers["from"][0])
    if mail.text_plain:
        text = "\n".join(mail.text_plain)
    elif mail.text_html:
        text = html_to_text("\n".join(mail.text_html))
    else:
        text = ""
    return _build(
        raw,
        digest,
        headers,
        subject=mail.subject or "",
        from_address=from_address,
        from_name=from_name or None,
        to=[a.address.lower() for a in mail.to if a.address],
        cc=[a.address.lower() for a in mail.cc if a.address],
        reply_to=[a.address.lower() for a in mail.reply_to if a.address],
        date_header_at=_naive_utc(mail.date_parsed),
        text=text,
        has_html=bool(mail.text_html),
        attachment_count=len(mail.attachments),
        repairs=repairs,
    )


def _parse_with_stdlib(raw: RawMessage, digest: str, fast_error: str) -> ParsedMail | Rejected:
    try:
        message = message_from_bytes(raw.data, policy=policy.default)
        assert isinstance(message, EmailMessage)
        headers: dict[str, list[str]] = {}
        for name, value in message.items():
            headers.setdefault(name.lower(), []).append(str(value))
        body = message.get_body(preferencelist=("plain", "html"))
        text = ""
        has_html = False
        if body is not None:
            content = body.get_content()
            if body.get_content_subtype() == "html":
                has_html = True
                text = html_to_text(content)
            else:
                text = content
        date_header_at = None
        if headers.get("date"):
            date_header_at = _parse_date(headers["date"][0])
        from_address, from_name = _address_from_text(headers["from"][0]) if headers.get("from") else (None, None)
        attachments = sum(1 for _ in message.iter_attachments())
    except Exception as exc:  # the stdlib raises many kinds on hostile input
        return Rejected(raw, digest, "unparseable", f"fast parser: {fast_error}; stdlib: {type(exc).__name__}: {exc}")
    return _build(
        raw,
        digest,
        headers,
        subject=headers.get("subject", [""])[0],
        from_address=from_address,
        from_name=from_name,
        to=[a for _, a in getaddresses(headers.get("to", [])) if a],
        cc=[a for _, a in getaddresses(headers.get("cc", [])) if a],
        reply_to=[a for _, a in getaddresses(headers.get("reply-to", [])) if a],
        date_header_at=date_header_at,
        text=text,
        has_html=has_html,
        attachment_count=attachments,
        repairs=[("stdlib_fallback", fast_error)],
    )


def _build(
    raw: RawMessage,
    digest: str,
    headers: dict[str, list[str]],
    *,
    subject: str,
    from_address: str | None,
    from_name: str | None,
    to: list[str],
    cc: list[str],
    reply_to: list[str],
    date_header_at: datetime | None,
    text: str,
    has_html: bool,
    attachment_count: int,
    repairs: list[tuple[str, str]],
) -> ParsedMail | Rejected:
    if not any(name in headers for name in ("from", "date", "message-id", "subject", "received")):
        return Rejected(raw, digest, "not_a_message", "no From, Date, Subject, Message-ID or Received header found")
    # A live source (IMAP INTERNALDATE) knows when its server took the mail: better evidence than any header.
    received_at, received_from = raw.received_at, "source"
    if received_at is None:
        received_at, received_from = _received_time(headers), "received_header"
    if received_at is None:
        received_at, received_from = date_header_at, "date_header"
    if received_at is None:
        return Rejected(raw, digest, "no_time", "neither a Received: header nor a Date: header gives a usable time")
    if from_address is None:
        # RFC 5322 §3.6.2: Sender: names who sent it on the author's behalf; Reply-To: where answers go.
        for name in ("sender", "reply-to"):
            if headers.get(name):
                from_address, from_name = _address_from_text(headers[name][0])
                repairs.append(("no_from", f"no sender address in From:; used the {name.title()}: header"))
                break
        else:
            return Rejected(raw, digest, "no_sender", "no sender address in From:, Sender: or Reply-To:")
    message_ids = extract_message_ids(headers["message-id"][0]) if headers.get("message-id") else []
    message_id = message_ids[0] if message_ids else None
    if message_id is None:
        repairs.append(("missing_message_id", "no usable Message-ID; keyed by the SHA-1 of the raw bytes"))
    in_reply_to = None
    for value in headers.get("in-reply-to", []):
        ids = extract_message_ids(value)
        if ids:
            in_reply_to = ids[0]
            break
    references: list[str] = []
    for value in headers.get("references", []):
        references.extend(extract_message_ids(value))
    parts = split_reply(text)
    return ParsedMail(
        raw=raw,
        content_hash=digest,
        message_id=message_id,
        headers=headers,
        subject=subject.strip(),
        from_address=from_address,
        from_name=from_name,
        to_addresses=to,
        cc_addresses=cc,
        reply_to=reply_to,
        date_header_at=date_header_at,
        received_at=received_at,
        received_from=received_from,
        in_reply_to=in_reply_to,
        references=references,
        body_text=parts.new_text,
        quoted_text=parts.quoted_text,
        signature=parts.signature,
        has_html=has_html,
        attachment_count=attachment_count,
        repairs=repairs,
        gmail_labels=[label for value in headers.get("x-gmail-labels", []) for label in gmail_labels(value)],
    )


def gmail_labels(value: str) -> list[str]:
    """The labels of an ``X-Gmail-Labels`` header, which Gmail Takeout writes into every message of its mbox:
    comma-separated, a label with a comma in double quotes, non-ASCII ones RFC 2047-encoded
    (``Inbox,Opened,Support/Billing,"Refunds, partial"``)."""
    if "=?" in value:
        value = str(make_header(decode_header(value)))
    labels = next(csv.reader([" ".join(value.split())], skipinitialspace=True), [])
    return [label.strip() for label in labels if label.strip()]


def _received_time(headers: Mapping[str, list[str]]) -> datetime | None:
    """The date of the topmost Received: header: when the last hop (the help desk's server) took the mail."""
    received = headers.get("received")
    if not received:
        return None
    _, _, stamp = received[0].rpartition(";")
    return _parse_date(stamp) if stamp else None


# The shape almost every Date: and Received: stamp has ("Mon, 5 Jan 2026 10:00:05 +0100 (CET)"), read
# without the general parser, which costs several times more on every message of an import.
_RFC5322_DATE = re.compile(
    r"\s*(?:[A-Za-z]{3},?\s*)?(\d{1,2})\s+([A-Za-z]{3})\s+(\d{4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s+([+-])(\d{2})(\d{2})\b"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}


def _parse_date(text: str) -> datetime | None:
    """A mail date as naive UTC; None when unreadable or implausible (before 1985, after 2099)."""
    match = _RFC5322_DATE.match(text)
    if match is not None:
        day, month_name, year, hour, minute, second, sign, offset_hours, offset_minutes = match.groups()
        month = _MONTHS.get(month_name.lower())
        if month is not None:
            try:
                local = datetime(int(year), month, int(day), int(hour), int(minute), int(second or 0))
            except ValueError:
                return None
            offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
            moment = local - offset if sign == "+" else local + offset
            return moment if _EARLIEST <= moment < _LATEST else None
    try:
        parsed = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return _naive_utc(parsed)


def _naive_utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment if _EARLIEST <= moment < _LATEST else None


def _address_from_text(value: str) -> tuple[str | None, str | None]:
    """Best effort for From: values the parsers could not read, such as list archives' obfuscated addresses."""
    pairs = getaddresses([value])
    name, address = pairs[0] if pairs else ("", "")
    if address and "@" in address:
        return address.strip().lower(), name or None
    text = " ".join(value.split()).lower()
    return (text or None), name or None
