"""Read the threading corpora in the shared data directory, and the ground truth each one ships.

Stdlib only, on purpose: the corpora must be read by something other than the code under test. Every
corpus becomes `CorpusMessage`s (a `ThreadInput` plus what the ground-truth formats show: author name, size),
and every ground truth becomes a parent map over the same keys (message key → parent key, None for a root).
The corpus tests and `benchmarks/threading_agreement.py` both use this module.
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
from html.parser import HTMLParser
from pathlib import Path

from deskpulse.mail.thread_eval import (
    PartitionAgreement,
    parent_agreement,
    partition_agreement,
    threads_from_parents,
)
from deskpulse.mail.threading import (
    ThreadAssignment,
    ThreadInput,
    extract_message_ids,
    normalize_subject,
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


@dataclass(frozen=True, slots=True)
class Agreement:
    """How one threading of a corpus compares with its ground truth."""

    messages: int
    parent_agreement: float
    partition: PartitionAgreement


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
    predicted_parents = {key: assignments[key].parent_key for key in truth_parents}
    predicted_threads = {key: assignments[key].thread_key for key in truth_parents}
    return Agreement(
        messages=len(truth_parents),
        parent_agreement=parent_agreement(truth_parents, predicted_parents),
        partition=partition_agreement(threads_from_parents(truth_parents), predicted_threads),
    )


# ---------------------------------------------------------------------------------------------------------
# fedora-devel-2010-01: MHonArc's thread.html


@dataclass(frozen=True, slots=True)
class MhonarcIndex:
    parents: dict[str, str | None]  # msgNNNNN → parent msgNNNNN, None at the top level
    subject_linked: frozenset[str]  # listed after "<Possible follow-ups>": MHonArc joined them by subject


class _MhonarcThreadParser(HTMLParser):
    """Nested <ul><li> of thread.html: a message's parent is the message of the <li> around its <ul>."""

    def __init__(self) -> None:
        super().__init__()
        self.parents: dict[str, str | None] = {}
        self.subject_linked: set[str] = set()
        self._items: list[str | None] = []  # message of each open <li>
        self._lists: list[tuple[str | None, bool]] = []  # (owner message, after "Possible follow-ups")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "li":
            self._items.append(None)
        elif tag == "ul":
            self._lists.append((self._items[-1] if self._items else None, False))
        elif tag == "a":
            match = re.fullmatch(r"(msg\d+)\.html", dict(attrs).get("href") or "")
            if match and self._lists:
                owner, follow_ups = self._lists[-1]
                self.parents[match.group(1)] = owner
                if follow_ups:
                    self.subject_linked.add(match.group(1))
                if self._items:
                    self._items[-1] = match.group(1)

    def handle_endtag(self, tag: str) -> None:
        if tag == "li" and self._items:
            self._items.pop()
        elif tag == "ul" and self._lists:
            self._lists.pop()

    def handle_data(self, data: str) -> None:
        if "Possible follow-ups" in data and self._lists:
            self._lists[-1] = (self._lists[-1][0], True)


def read_mhonarc_thread_index(path: Path) -> MhonarcIndex:
    parser = _MhonarcThreadParser()
    parser.feed(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"))
    return MhonarcIndex(parser.parents, frozenset(parser.subject_linked))


# ---------------------------------------------------------------------------------------------------------
# notmuch: the emacs tree view of the default corpus


@dataclass(frozen=True, slots=True)
class TreeLine:
    date: str  # YYYY-MM-DD
    author: str  # From name, cut to 20 characters
    depth: int
    subject: str  # the subject shown, or the previous line's when notmuch printed " ..."


def read_notmuch_tree(path: Path) -> list[TreeLine]:
    """Lines of notmuch-tree output like ``  2009-11-17  Carl Worth            ╰┬► ...  (inbox unread)``.

    Columns: date at 2..12, author at 14..34, then the tree art up to "►". The art has one character per
    ancestor level, one for the message's own branch (├ ╰) and one saying whether it has replies (┬ ─), so
    depth = len(art) - 1, and a top-level message has art "─" or "┬". notmuch prints " ..." for a subject
    equal to the previous line's after stripping "Re:".
    """
    lines: list[TreeLine] = []
    previous_subject = ""
    for text in path.read_text(encoding="utf-8").splitlines():
        if "►" not in text:
            continue
        arrow = text.index("►")
        subject = re.sub(r"\s+\([^()]*\)\s*$", "", text[arrow + 1 :]).strip()
        if subject == "...":
            subject = previous_subject
        previous_subject = subject
        lines.append(TreeLine(text[2:12], text[14:34].strip(), len(text[36:arrow]) - 1, subject))
    return lines


def match_notmuch_tree(lines: Sequence[TreeLine], messages: Sequence[CorpusMessage]) -> dict[str, str | None]:
    """Map tree lines to messages and return the tree as a parent map over message keys.

    A line matches the messages with the same UTC date, the same author (first 20 characters) and the same
    subject after `normalize_subject`. Where several messages fit one line (the same person answering twice in
    a day in one thread), the earliest unused one is taken: notmuch lists replies oldest first.
    A Message-ID stored twice is one message to notmuch, so only its first file can match a line.
    """
    unused = sorted(messages, key=lambda message: (message.thread_input.sent_at, message.key))
    seen_ids: set[str] = set()
    candidates: list[CorpusMessage] = []
    for message in unused:
        message_id = message.thread_input.message_id
        if message_id is None or message_id not in seen_ids:
            candidates.append(message)
        if message_id is not None:
            seen_ids.add(message_id)
    parents: dict[str, str | None] = {}
    ancestors: list[str] = []
    for line in lines:
        match = next(
            (
                message
                for message in candidates
                if message.thread_input.sent_at.strftime("%Y-%m-%d") == line.date
                and message.author[:20].strip() == line.author
                and normalize_subject(message.thread_input.subject) == normalize_subject(line.subject)
            ),
            None,
        )
        if match is None:
            raise LookupError(f"no message fits the tree line {line}")
        candidates.remove(match)
        del ancestors[line.depth :]
        parents[match.key] = ancestors[-1] if ancestors else None
        ancestors.append(match.key)
    return parents


# ---------------------------------------------------------------------------------------------------------
# Mail::Box: the threadToString dump of t/105mbox-thread.t


@dataclass(frozen=True, slots=True)
class DumpLine:
    size: str  # Mail::Box shortSize of the body: "820 ", "1.2K", " 11K"
    depth: int  # nesting depth, counting missing ("dummy") messages as levels
    dummy_levels: tuple[int, ...]  # depths of the dummies drawn on this line ("*-")
    subject: str


_DUMP_GROUPS = ("   ", " | ", " |-", " `-", " *-", "-*-")


def read_mailbox_dump(path: Path) -> list[DumpLine]:
    """Lines of Mail::Box ``threadToString``: a 4-character size, 3-character art groups, the subject.

    Each group is one level: "   " and " | " continue an ancestor, " |-" and " `-" are the message's own
    branch, " *-" (at the top) and "-*-" (after a branch) draw a dummy, i.e. a missing parent, in the same
    line as its first child. So a line's depth is its number of groups.
    """
    lines: list[DumpLine] = []
    for text in path.read_text(encoding="utf-8").splitlines():
        if not text.strip():
            continue
        size, rest = text[:4], text[4:]
        groups: list[str] = []
        while len(rest) >= 4 and rest[:3] in _DUMP_GROUPS and rest[3] in " -|`*":
            groups.append(rest[:3])
            rest = rest[3:]
        dummies = tuple(level for level, group in enumerate(groups) if "*" in group)
        lines.append(DumpLine(size, len(groups), dummies, rest[1:] if rest.startswith(" ") else rest))
    return lines


def short_size(size: int) -> str:
    """Mail::Box's ``shortSize`` of a byte count."""
    if size < 1_000:
        return f"{size:3d} "
    if size < 10_000:
        return f"{size / 1024:3.1f}K"
    return f"{size / 1024:3.0f}K"


def match_mailbox_dump(lines: Sequence[DumpLine], messages: Sequence[CorpusMessage]) -> dict[str, str | None]:
    """Map dump lines to messages and return the tree as a parent map; missing messages are "dummy:…" keys.

    A line matches a message by subject (as written); among several, the closest body size wins (our byte
    count and Mail::Box's differ by a few bytes), then file order. A dummy drawn at a depth where the current
    path already has a dummy is that same dummy: Mail::Box repeats "*-" on each of a dummy's children but
    the last.
    """
    unused = list(messages)
    parents: dict[str, str | None] = {}
    ancestors: list[str] = []  # the node at each depth along the current path
    for number, line in enumerate(lines):
        fits = [message for message in unused if message.thread_input.subject == line.subject]
        if not fits:
            raise LookupError(f"no message fits the dump line {line}")
        wanted = _size_value(line.size)
        match = min(fits, key=lambda message: abs(message.body_size - wanted))
        unused.remove(match)
        path = ancestors[: line.depth]
        for level in line.dummy_levels:
            if level < len(path) and path[level].startswith("dummy:"):
                continue
            dummy = f"dummy:{number}:{level}"
            parents[dummy] = path[level - 1] if level > 0 else None
            path = [*path[:level], dummy]
        parents[match.key] = path[line.depth - 1] if line.depth > 0 else None
        ancestors = [*path, match.key]
    return parents


def _size_value(short: str) -> float:
    short = short.strip()
    if short.endswith("K"):
        return float(short[:-1]) * 1024
    return float(short)


def collapse_dummies(
    parents: Mapping[str, str | None], order: Mapping[str, tuple[datetime, str]]
) -> dict[str, str | None]:
    """Restate a tree with missing messages the way `thread_messages` reports it.

    A message's parent becomes its nearest real ancestor. Messages with no real ancestor under the same
    missing top: the earliest (smallest `order`) becomes the root, the others its children. `order` holds
    the real messages; every other key in `parents` is a dummy. Messages of `order` absent from `parents`
    are left out.
    """

    def top_and_real_parent(key: str) -> tuple[str, str | None]:
        node = parents[key]
        while node is not None and node not in order:
            up = parents[node]
            if up is None:
                return node, None
            node = up
        if node is None:
            return key, None
        return "", node

    collapsed: dict[str, str | None] = {}
    orphans: dict[str, list[str]] = {}
    for key in parents:
        if key not in order:
            continue
        top, real_parent = top_and_real_parent(key)
        if real_parent is not None:
            collapsed[key] = real_parent
        else:
            orphans.setdefault(top, []).append(key)
    for members in orphans.values():
        members.sort(key=lambda member: order[member])
        collapsed[members[0]] = None
        for member in members[1:]:
            collapsed[member] = members[0]
    return collapsed
