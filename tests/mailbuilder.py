"""Write small, readable mailboxes for tests: one `Mail` per message, local times, explicit headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


@dataclass
class Mail:
    sender: str
    to: str
    subject: str
    received: str  # local time "2026-01-09 16:00" in the mailbox's timezone
    body: str = "Hello,\n\nplease help.\n"
    message_id: str | None = None
    in_reply_to: str | None = None
    references: list[str] = field(default_factory=list)
    date_header: str | None = None  # the sender's Date:, when it differs from the time received
    extra_headers: dict[str, str] = field(default_factory=dict)

    def raw(self, tz: ZoneInfo) -> bytes:
        received = datetime.strptime(self.received, "%Y-%m-%d %H:%M").replace(tzinfo=tz)
        sent = (
            datetime.strptime(self.date_header, "%Y-%m-%d %H:%M").replace(tzinfo=tz) if self.date_header else received
        )
        lines = [
            f"Received: from mx.example.net by mail.acme.test; {format_datetime(received)}",
            f"From: {self.sender}",
            f"To: {self.to}",
            f"Subject: {self.subject}",
            f"Date: {format_datetime(sent)}",
        ]
        if self.message_id:
            lines.append(f"Message-ID: <{self.message_id}>")
        if self.in_reply_to:
            lines.append(f"In-Reply-To: <{self.in_reply_to}>")
        if self.references:
            lines.append("References: " + " ".join(f"<{r}>" for r in self.references))
        lines += [f"{k}: {v}" for k, v in self.extra_headers.items()]
        lines += ["MIME-Version: 1.0", "Content-Type: text/plain; charset=utf-8", "", self.body]
        return "\n".join(lines).encode("utf-8")


def write_mbox(path: Path, mails: list[Mail], timezone: str = "UTC") -> Path:
    tz = ZoneInfo(timezone)
    with path.open("wb") as handle:
        for mail in mails:
            handle.write(b"From sender@example.net Thu Jan  1 00:00:00 2026\n")
            handle.write(mail.raw(tz).replace(b"\nFrom ", b"\n>From "))
            handle.write(b"\n\n")
    return path


def address_of(person: str) -> str:
    """``"Carla Customer <carla@example.org>"`` → ``"carla@example.org"``."""
    return person.split("<")[1].rstrip(">")


def conversation(
    key: str, subject: str, customer: str, *steps: tuple[Any, ...], help_address: str = "help@acme.test"
) -> list[Mail]:
    """One ticket: each step ``(local time, author, text[, headers])`` answers the step before it.

    The customer writes to ``help_address`` and everyone else to the customer, unless the step's headers name
    their own ``To``; its other headers (``Cc``, ``Auto-Submitted``…) are added as they are. Message-IDs are
    ``<key>-<step>@<author's domain>``.
    """
    mails: list[Mail] = []
    ids: list[str] = []
    for number, (received, author, text, *rest) in enumerate(steps, start=1):
        headers = dict(rest[0]) if rest else {}
        to = headers.pop("To", help_address if author == customer else address_of(customer))
        message_id = f"{key}-{number}@{address_of(author).split('@')[1]}"
        mails.append(
            Mail(
                author,
                to,
                subject if number == 1 else f"Re: {subject}",
                received,
                body=text + "\n",
                message_id=message_id,
                in_reply_to=ids[-1] if ids else None,
                references=list(ids),
                extra_headers=headers,
            )
        )
        ids.append(message_id)
    return mails
