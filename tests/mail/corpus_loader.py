"""Read the threading corpora in the shared data directory with the standard library, for the threader.

Stdlib only, on purpose: the corpora must be read by something other than the code under test (the product
reads them with `deskpulse.sources.mailbox` and `deskpulse.mail.parse`; `corpus_pipeline` runs that). Every
message becomes a `CorpusMessage`: a `ThreadInput` plus what the ground-truth formats show (author name,
size), keyed the way the ground truths name messages: msgNNNNN for the Nth message of an mbox, the path
relative to the folder for a Maildir. `corpus_truth` reads the ground truths over the same keys.
"""

from __future__ import annotations

import contextlib
import gzip
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from deskpulse.mail.thread_eval import Agreement, compare
from deskpulse.mail.threading import (
    ThreadAssignment,
    ThreadInput,
    extract_message_ids,
    thread_messages,
)

# The help desk default would be days; these corpora are mailing lists, where the window matters little
# because the customer condition (same sender) rarely holds. Fixed here so the figures are reproducible.
SUBJECT_WINDOW = timedelta(days=7)

FEDORA = "fedora-devel-2010-01"
NOTMUCH = "notmuch-corpora"
MAILBOX_PERL = "mailbox-perl-imagemagick"


@dataclass(frozen=True, slots=True)
class CorpusMessage:
    """One message of a corpus: the threader's input and the extra facts ground-truth formats display."""

    thread_input: ThreadInput
    author: str  # the From display name (decoded), or the address when there is none
    body_size: int  # bytes after the header block (Mail::Box prints a rounded body size)

    @property
    def key(self) -> str:
        return self.thread_input.key


# ---------------------------------------------------------------------------------------------------------
# Reading messages


def _decoded(value: object) -> str:
    """A header value as text: RFC 2047 words decoded, unknown charsets tolerated, folding removed."""
    if value is None:
        return ""
    text = str(value)
    with contextlib.suppress(LookupError, UnicodeError, ValueError):
        text = str(make_header(decode_header(text)))
    return " ".join(text.split())


def _first_id(values: Iterable[object]) -> str | None:
    for value in values:
        ids = extract_message_ids(str(value))
        if ids:
            return ids[0]
    return None


def message_from_bytes(raw: bytes, key: str, fallback_time: datetime) -> tuple[CorpusMessage, bool]:
    """Turn one raw message into a `CorpusMessage`; the flag says whether its Date: header was usable.

    customer = the lowercased From address; sent_at = the Date: header in UTC, else `fallback_time`.
    """
    headers: Message = BytesHeaderParser(policy=compat32).parsebytes(raw)
    name, address = parseaddr(_decoded(headers.get("From")))
    sent_at: datetime | None
    try:
        sent_at = parsedate_to_datetime(str(headers.get("Date", "")))
    except (TypeError, ValueError, IndexError):
        sent_at = None
    if sent_at is not None:
        sent_at = sent_at.replace(tzinfo=UTC) if sent_at.tzinfo is None else sent_at.astimezone(UTC)
    own_ids = extract_message_ids(str(headers.get("Message-ID", "")))
    references: list[str] = []
    for value in headers.get_all("References", []):
        references.extend(extract_message_ids(str(value)))
    header_end = raw.find(b"\n\n")
    thread_input = ThreadInput(
        key=key,
        message_id=own_ids[0] if own_ids else None,
        in_reply_to=_first_id(headers.get_all("In-Reply-To", [])),
        references=tuple(dict.fromkeys(references)),
        subject=_decoded(headers.get("Subject")),
        customer=address.lower() or None,
        sent_at=sent_at if sent_at is not None else fallback_time,
    )
    message = CorpusMessage(
        thread_input=thread_input,
        author=name or address,
        body_size=len(raw) - header_end - 2 if header_end >= 0 else 0,
    )
    return message, sent_at is not None


def messages_from_raw(raws: Sequence[tuple[str, bytes]]) -> list[CorpusMessage]:
    """Parse (key, raw bytes) pairs in file order; a message without a usable Date: gets its predecessor's
    time plus one microsecond per step, so file order decides where it goes."""
    messages: list[CorpusMessage] = []
    previous = datetime(1970, 1, 1, tzinfo=UTC)
    for key, raw in raws:
        message, dated = message_from_bytes(raw, key, previous + timedelta(microseconds=1))
        previous = message.thread_input.sent_at if dated else previous + timedelta(microseconds=1)
        messages.append(message)
    return messages


_MBOX_SEPARATOR = re.compile(rb"^From .*\r?\n", re.MULTILINE)


def read_mbox(path: Path) -> list[CorpusMessage]:
    """Messages of an mbox (gzip when the name ends in .gz), keyed msg00000, msg00001, … in file order.

    A line starting with "From " starts a message, as in `mailbox.mbox`; that numbering is also what
    MHonArc's msgNNNNN.html pages use.
    """
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    separators = list(_MBOX_SEPARATOR.finditer(data))
    starts = [separator.end() for separator in separators]
    ends = [*(separator.start() for separator in separators[1:]), len(data)]
    raws = [
        (f"msg{index:05d}", data[start:end].rstrip(b"\n") + b"\n")
        for index, (start, end) in enumerate(zip(starts, ends, strict=True))
    ]
    return messages_from_raw(raws)


def read_mail_files(root: Path) -> list[CorpusMessage]:
    """Every file under `root` (Maildir cur/new, nested folders, loose files) as one message, keyed by its
    path relative to `root`, in sorted path order."""
    paths = sorted(path for path in root.rglob("*") if path.is_file())
    return messages_from_raw([(path.relative_to(root).as_posix(), path.read_bytes()) for path in paths])


def thread(messages: Sequence[CorpusMessage]) -> dict[str, ThreadAssignment]:
    return thread_messages([message.thread_input for message in messages], SUBJECT_WINDOW)


def score(truth_parents: Mapping[str, str | None], assignments: Mapping[str, ThreadAssignment]) -> Agreement:
    """Compare our assignments with a ground-truth parent map, on the messages of the ground truth."""
    return compare(
        truth_parents,
        {key: assignments[key].parent_key for key in truth_parents},
        {key: assignments[key].thread_key for key in truth_parents},
    )
