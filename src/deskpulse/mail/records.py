"""Turn a batch of raw messages into canonical message rows and problem rows.

The CPU-bound half of an import, kept apart from the store: the result is plain Python rows that the
store's writer turns into Arrow columns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from deskpulse.mail.parse import ParsedMail, parse_batch
from deskpulse.mail.senders import CUSTOMER, SenderRules
from deskpulse.sources.mailbox import RawMessage

MESSAGE_COLUMNS = (
    "message_key",
    "message_id",
    "source",
    "source_position",
    "content_hash",
    "received_at",
    "received_from",
    "date_header_at",
    "from_address",
    "from_name",
    "to_addresses",
    "cc_addresses",
    "mailbox",
    "customer_address",
    "subject",
    "normalized_subject",
    "in_reply_to",
    "reference_ids",
    "author_role",
    "role_reason",
    "is_public",
    "body_text",
    "quoted_text",
    "signature",
    "has_html",
    "attachment_count",
    "size_bytes",
    "ingested_at",
)
_EXCERPT_BYTES = 300


@dataclass
class PreparedBatch:
    """One batch, ready to store: message rows as columns, and every problem met on the way."""

    read: int
    rows: list[tuple[object, ...]] = field(default_factory=list)  # one tuple per message, in MESSAGE_COLUMNS order
    problems: list[dict[str, object]] = field(default_factory=list)

    @property
    def keys(self) -> list[str]:
        return [str(row[0]) for row in self.rows]


def prepare_batch(
    batch: list[RawMessage], rules: SenderRules, now: datetime, *, threads: int | None = None
) -> PreparedBatch:
    prepared = PreparedBatch(read=len(batch))
    for result in parse_batch(batch, threads=threads):
        if isinstance(result, ParsedMail):
            prepared.rows.append(_message_row(result, rules, now))
            for reason, detail in result.repairs:
                prepared.problems.append(
                    problem_row(result.raw, result.content_hash, reason, "repaired", detail, result.message_key, now)
                )
        else:
            prepared.problems.append(
                problem_row(result.raw, result.content_hash, result.reason, "rejected", result.detail, None, now)
            )
    return prepared


def _message_row(mail: ParsedMail, rules: SenderRules, now: datetime) -> tuple[object, ...]:
    sender = mail.from_address
    assert sender is not None  # parse_batch rejects mail without a sender
    author = rules.classify(sender, mail.headers)
    recipients = [*mail.to_addresses, *mail.cc_addresses]
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
        True,
        mail.body_text,
        mail.quoted_text,
        mail.signature,
        mail.has_html,
        mail.attachment_count,
        len(mail.raw.data),
        now,
    )


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
