"""Turn a batch of raw messages into canonical message rows and problem rows.

The CPU-bound half of an import, kept apart from the store and from Arrow: the result is the buffers of
Arrow columns (`deskpulse.columns`), which the importing process wraps into a table without copying.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from deskpulse.columns import EncodedColumn, encode
from deskpulse.mail.parse import ParsedMail, parse_batch
from deskpulse.mail.senders import AGENT, CUSTOMER, SenderRules
from deskpulse.schema import MESSAGES
from deskpulse.sources.mailbox import RawMessage

MESSAGE_COLUMNS = tuple(MESSAGES.column_names)
_MESSAGE_KINDS = tuple(c.type for c in MESSAGES.columns)
_EXCERPT_BYTES = 300


@dataclass
class PreparedBatch:
    """One batch, ready to store: the messages as encoded columns, and every problem met on the way."""

    read: int
    keys: list[str] = field(default_factory=list)  # message_key of each row, in order
    columns: list[EncodedColumn] = field(default_factory=list)  # in MESSAGE_COLUMNS order
    problems: list[dict[str, object]] = field(default_factory=list)
    # `message_labels` rows: the folder a live source found each message in, a Gmail export's labels. Kept for
    # duplicates too: the same message seen again in a "Done" folder is what says its ticket is resolved.
    labels: list[dict[str, object]] = field(default_factory=list)


def prepare_batch(
    batch: list[RawMessage], rules: SenderRules, now: datetime, *, threads: int | None = None
) -> PreparedBatch:
    prepared = PreparedBatch(read=len(batch))
    rows = []
    for result in parse_batch(batch, threads=threads):
        if isinstance(result, ParsedMail):
            rows.append(_message_row(result, rules, now))
            prepared.labels += _label_rows(result, now)
            for reason, detail in result.repairs:
                prepared.problems.append(
                    problem_row(result.raw, result.content_hash, reason, "repaired", detail, result.message_key, now)
                )
        else:
            prepared.problems.append(
                problem_row(result.raw, result.content_hash, result.reason, "rejected", result.detail, None, now)
            )
    if rows:
        prepared.keys = [str(row[0]) for row in rows]
        prepared.columns = [
            encode(values, kind) for values, kind in zip(zip(*rows, strict=True), _MESSAGE_KINDS, strict=True)
        ]
    return prepared


def _message_row(mail: ParsedMail, rules: SenderRules, now: datetime) -> tuple[object, ...]:
    sender = mail.from_address
    assert sender is not None  # parse_batch rejects mail without a sender
    author = rules.classify(sender, mail.headers)
    recipients = [*mail.to_addresses, *mail.cc_addresses]
    # Agent mail addressed only to the team (a forward to tier 2, a note to the shared inbox) is an internal
    # note, not a reply: it stops no response clock and is no touch (spec §1.5).
    internal = author.role == AGENT and bool(recipients) and all(rules.is_staff(a) for a in recipients)
    if author.role == CUSTOMER:
        mailbox = rules.mailbox(recipients)
    else:
        mailbox = rules.mailbox([sender, *mail.reply_to, *recipients])
    return (
        mail.message_key,
        mail.message_id,
        mail.raw.source,
        mail.raw.position,
        mail.content_hash,
        mail.received_at,
        mail.received_from,
        mail.date_header_at,
        sender,
        mail.from_name,
        mail.to_addresses,
        mail.cc_addresses,
        mailbox,
        rules.customer_of(author.role, sender, recipients),
        mail.subject,
        mail.normalized_subject,
        mail.in_reply_to,
        mail.references,
        author.role,
        author.reason,
        not internal,
        mail.body_text,
        mail.quoted_text,
        mail.signature,
        mail.has_html,
        mail.attachment_count,
        len(mail.raw.data),
        now,
        None,  # source_ticket_id: mail is threaded, not filed under a ticket by a source
    )


def _label_rows(mail: ParsedMail, now: datetime) -> list[dict[str, object]]:
    found = [(label, "gmail") for label in mail.gmail_labels]
    if mail.raw.folder is not None:
        found.append((mail.raw.folder, "folder"))
    return [
        {"message_key": mail.message_key, "label": label, "source": source, "observed_at": now}
        for label, source in found
    ]


def problem_row(
    raw: RawMessage,
    content_hash: str,
    reason: str,
    action: str,
    detail: str,
    message_key: str | None,
    now: datetime,
) -> dict[str, object]:
    return {
        "source": raw.source,
        "source_position": raw.position,
        "content_hash": content_hash,
        "reason": reason,
        "action": action,
        "detail": detail,
        "message_key": message_key,
        "excerpt": raw.data[:_EXCERPT_BYTES].decode("utf-8", "replace"),
        "size_bytes": len(raw.data),
        "recorded_at": now,
    }
