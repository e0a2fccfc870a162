"""The ground truth of each threading corpus, as a parent map over the corpus's own message keys.

Three outside threaders drew these trees: MHonArc (fedora-devel's thread.html), notmuch (its tree view of the
default test corpus) and Mail::Box (its test dump). Each function at the top returns one of them as message
key → parent key (None for a root), keyed like `corpus_loader` keys messages: msgNNNNN for the Nth message
of an mbox, the path relative to the folder for a Maildir. So a threading read through any reader, the
stdlib loader or the product's pipeline, is scored against the same truth once its messages carry those
keys. The notmuch and Mail::Box drawings name no message ids, so their lines are matched to messages by
what they show (date, author, subject, size), read from the files by the stdlib loader.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from corpus_loader import FEDORA, MAILBOX_PERL, NOTMUCH, CorpusMessage, read_mail_files, read_mbox

from deskpulse.mail.threading import normalize_subject

# Where each corpus keeps its mail and its ground truth, relative to the shared data directory.
FEDORA_MAIL = Path(FEDORA, "2010-January.txt.gz")
FEDORA_INDEX = Path(FEDORA, "2010-January_thread.html.gz")
NOTMUCH_MAIL = Path(NOTMUCH, "test", "corpora", "default")
NOTMUCH_TREE = Path(NOTMUCH, "test", "emacs-tree.expected-output", "notmuch-tree-tag-inbox")
MAILBOX_MAIL = Path(MAILBOX_PERL, "mbox.src")
MAILBOX_DUMP = Path(MAILBOX_PERL, "expected_thread_dump_105mbox-thread.txt")  # the whole folder
MAILBOX_DUMP_FROM_TOP = Path(MAILBOX_PERL, "expected_thread_from_top.txt")  # one thread


def fedora_truth(data: Path) -> MhonarcIndex:
    """MHonArc's thread index of fedora-devel, January 2010 (292 messages, all of the mbox)."""
    return read_mhonarc_thread_index(data / FEDORA_INDEX)


def notmuch_truth(data: Path) -> dict[str, str | None]:
    """notmuch's tree of its default corpus (52 messages: one of the 53 files repeats a Message-ID)."""
    messages = read_mail_files(data / NOTMUCH_MAIL)
    return match_notmuch_tree(read_notmuch_tree(data / NOTMUCH_TREE), messages)


def mailbox_truth(data: Path, dump: Path = MAILBOX_DUMP) -> dict[str, str | None]:
    """Mail::Box's tree of its ImageMagick folder, restated as `thread_messages` reports one (see
    `collapse_dummies`): missing messages (Mail::Box's dummies) are left out."""
    messages = read_mbox(data / MAILBOX_MAIL)
    with_dummies = match_mailbox_dump(read_mailbox_dump(data / dump), messages)
    order = {message.key: (message.thread_input.sent_at, message.key) for message in messages}
    return collapse_dummies(with_dummies, order)


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
