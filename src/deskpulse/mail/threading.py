"""Rebuild conversations from mail headers: the ticket rule of spec §1.1.

Message-ID / In-Reply-To / References first (JWZ-style containers, with ghosts for missing messages), then the
normalised subject of a message that no id connects, joined to the same customer's thread inside a window.
Pure functions over `ThreadInput`; parsing the mail is the caller's job.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal, NamedTuple

LinkedBy = Literal["root", "reference", "subject"]

ROOT: Final = "root"
REFERENCE: Final = "reference"
SUBJECT: Final = "subject"


class ThreadInput(NamedTuple):
    """What the threader needs to know about one stored message.

    A named tuple rather than a dataclass: a store of 200,000 messages builds 200,000 of these on every
    import, and a tuple is built in a fifth of the time.
    """

    key: str  # stable unique key of the stored message (its Message-ID, or a synthetic key)
    message_id: str | None  # normalised Message-ID, None when missing
    in_reply_to: str | None  # normalised first id found in In-Reply-To
    references: tuple[str, ...]  # normalised ids from References, in order
    subject: str  # decoded subject as written
    customer: str | None  # the customer address this message involves (caller decides), lowercased
    sent_at: datetime  # UTC; naive values are taken as UTC


class ThreadAssignment(NamedTuple):
    """Where one message sits: its thread (the key of the root message) and its parent message."""

    thread_key: str  # key of the thread's root message
    parent_key: str | None  # key of the real parent message, None for the root
    linked_by: LinkedBy  # "root", "reference" (ids) or "subject" (the subject fallback)


# ---------------------------------------------------------------------------------------------------------
# Header helpers

_BRACKETED_ID = re.compile(r"<([^<>]*)>")
_WHITESPACE = re.compile(r"\s+")
_BARE_TOKEN_JUNK = "<>,;()\"'"

# One leading "Re:"-like marker or "[list-tag]". Applied repeatedly, so "Re: Re: AW: [list] Foo" → "Foo".
# The counter forms are Outlook's and old Eudora's: "Re[2]:", "Re^2:", "Re(2):". "Re :" is French spacing.
_SUBJECT_PREFIX = re.compile(
    r"""^\s*(?:
        (?:re|fwd?|aw|wg|sv|vs|antw)\s*(?:\[\d+\]|\^\d+|\(\d+\))?\s*[:：]
        | \[[^\[\]]*\]
    )""",
    re.IGNORECASE | re.VERBOSE,
)


def _normalise_id(token: str) -> str | None:
    """An id without brackets and whitespace, or None when it is not an id at all.

    An id must contain "@" (RFC 5322 msg-id is id-left "@" id-right). This drops junk such as the
    `References: <yes>` that several unrelated lkml messages carry: kept as an id, that one ghost would glue
    their threads together.
    """
    candidate = "".join(token.split()).strip(_BARE_TOKEN_JUNK)
    if "@" not in candidate or candidate.startswith("@") or candidate.endswith("@"):
        return None
    return candidate


def extract_message_ids(header_value: str | None) -> list[str]:
    """The ids in an In-Reply-To, References or Message-ID value: normalised, in order, without repeats.

    Ids in angle brackets win: prose around them ("Your message of Saturday … <id>") and comments are ignored.
    Only when a value has no complete "<…>" do we accept an id whose closing bracket is lost
    ("<200704070053.46646@example") or a value that is a single bare token with "@". A bare address inside
    prose ("joe@example.com's message of …") is not taken, because every reply to Joe would then share it.
    """
    if not header_value:
        return []
    candidates: list[str] = _BRACKETED_ID.findall(header_value)
    if not candidates:
        tokens = header_value.split()
        candidates = [token for token in tokens if token.startswith("<")]
        if not candidates and len(tokens) == 1:
            candidates = tokens
    ids: list[str] = []
    for candidate in candidates:
        message_id = _normalise_id(candidate)
        if message_id is not None and message_id not in ids:
            ids.append(message_id)
    return ids


def normalize_subject(subject: str | None) -> str:
    """The subject a conversation is known by: reply/forward markers and "[list]" tags stripped, casefolded.

    Strips any sequence of Re:, RE:, Fwd:, Fw:, AW:, WG:, SV:, VS:, Antw:, Re[2]:, Re^2: and "[tag]" at the
    start, then collapses whitespace. An empty result means "no usable subject" and never joins threads.
    """
    if not subject:
        return ""
    text = subject
    while match := _SUBJECT_PREFIX.match(text):
        text = text[match.end() :]
    return _WHITESPACE.sub(" ", text).strip().casefold()


# ---------------------------------------------------------------------------------------------------------
# Threading


def _as_naive_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    if moment.tzinfo is UTC:
        return moment.replace(tzinfo=None)
    return moment.astimezone(UTC).replace(tzinfo=None)


def _find(sets: list[int], item: int) -> int:
    """Union-find lookup with path halving."""
    while sets[item] != item:
        sets[item] = sets[sets[item]]
        item = sets[item]
    return item


def thread_messages(messages: Sequence[ThreadInput], subject_window: timedelta) -> dict[str, ThreadAssignment]:
    """Assign every message to a thread; returns one `ThreadAssignment` per message key.

    Ids first, JWZ-style: every message id, real or only referenced, is a container; a referenced id with no
    message behind it is a ghost. Links, in order of authority:

    1. A message's own parent: In-Reply-To when it names a message we have, else the last References entry
       we have, else (nothing known) the In-Reply-To or last References ghost. So In-Reply-To beats a
       conflicting References (notmuch ``threading/parent-priority``), and a broken In-Reply-To does not
       hide a good References.
    2. Then each References list, read in order, gives a parent to any container still without one (this is
       how ghosts find their place and how a thread whose root is missing stays one thread).

    A link that would close a loop is dropped. Own links are added newest message first, so in a loop
    (A replies to B, B replies to A) the older message ends up as the root (notmuch ``broken/loop``).

    Duplicate Message-IDs: the earliest message (by `sent_at`, then key) owns the id; every later message with
    the same id becomes a direct child of the owner ("reference"), and its own In-Reply-To/References are
    ignored. A copy of one message, re-delivered through another list, is then one thread with its original.

    The root of a thread is its top real message. Where the top is a ghost, the earliest real message under it
    becomes the root and the ghost's other top-level messages hang under that root. A parent is always the
    nearest real ancestor, so following `parent_key` always ends at `thread_key`. The root is therefore the
    earliest message of its thread except where a sender's clock makes a reply look older than its parent.

    Subject fallback: a thread that ids could not attach anywhere (exactly one message without a real parent)
    joins an earlier thread when its root has the same non-empty normalised subject and the same customer
    as that thread's root, is not older than that root, and comes at most `subject_window` after the
    thread's latest message so far. Its root then becomes a child of the thread's root ("subject"). Messages
    are swept in `sent_at` order; among several threads with the same subject and customer, the one active
    most recently is tried.

    Output does not depend on input order. Raises ValueError when two messages share a key.
    """
    moments = [_as_naive_utc(message.sent_at) for message in messages]
    order = sorted(range(len(messages)), key=lambda i: (moments[i], messages[i].key))
    msgs = [messages[i] for i in order]
    times = [moments[i] for i in order]
    if len({message.key for message in msgs}) != len(msgs):
        raise ValueError("thread_messages needs a unique key per message; some keys repeat")

    forest = _link_by_ids(msgs)
    merged_into, subject_parent = _merge_by_subject(msgs, times, forest, subject_window)

    assignments: dict[str, ThreadAssignment] = {}
    for index, message in enumerate(msgs):
        root = forest.root_of[index]
        thread_key = msgs[_find(merged_into, root)].key
        if index != root:
            parent = forest.real_parent[index] if forest.real_parent[index] != -1 else root
            assignments[message.key] = ThreadAssignment(thread_key, msgs[parent].key, REFERENCE)
        elif index in subject_parent:
            assignments[message.key] = ThreadAssignment(thread_key, msgs[subject_parent[index]].key, SUBJECT)
        else:
            assignments[message.key] = ThreadAssignment(thread_key, None, ROOT)
    return assignments


@dataclass(frozen=True, slots=True)
class _IdForest:
    """The id threading of messages 0..n-1 (sorted by time): real parents and one root per tree."""

    real_parent: list[int]  # nearest real ancestor, -1 for a message without one
    root_of: list[int]  # the root message of each message's tree
    unattached: frozenset[int]  # roots of trees with a single message lacking a real parent


def _link_by_ids(msgs: Sequence[ThreadInput]) -> _IdForest:
    count = len(msgs)
    # Containers 0..count-1 are the messages; ghosts (ids referenced but not present) are appended.
    container_of_id: dict[str, int] = {}
    owner_of_duplicate = [-1] * count
    for index, message in enumerate(msgs):
        if message.message_id is not None:
            owner = container_of_id.setdefault(message.message_id, index)
            if owner != index:
                owner_of_duplicate[index] = owner
    parent = [-1] * count
    tree = list(range(count))  # union-find over containers: one set per tree

    def container(message_id: str) -> int:
        found = container_of_id.get(message_id)
        if found is None:
            found = len(parent)
            container_of_id[message_id] = found
            parent.append(-1)
            tree.append(found)
        return found

    def link(child: int, new_parent: int) -> None:
        child_set, parent_set = _find(tree, child), _find(tree, new_parent)
        if child_set != parent_set:  # the child tops its tree, so a shared tree means a loop
            parent[child] = new_parent
            tree[child_set] = parent_set

    # 1. Own parents, newest message first.
    for index in range(count - 1, -1, -1):
        owner = owner_of_duplicate[index]
        if owner >= 0:
            link(index, owner)
            continue
        target = _declared_parent(msgs[index], container_of_id, count)
        if target is not None:
            link(index, container(target))

    # 2. References chains give a parent to containers nobody placed.
    for index, message in enumerate(msgs):
        if owner_of_duplicate[index] >= 0 or len(message.references) < 2:
            continue
        previous = -1
        for reference in message.references:
            if reference == message.message_id:
                continue
            current = container(reference)
            if previous not in (-1, current) and parent[current] == -1:
                link(current, previous)
            previous = current

    # Nearest real ancestor of every container: walk up through ghosts only, remembering the answer.
    nearest_real = [-2] * len(parent)
    for index in range(count):
        nearest_real[index] = index
    for index in range(count, len(parent)):
        path: list[int] = []
        node = index
        while node >= count and nearest_real[node] == -2:
            path.append(node)
            node = parent[node]
        resolved = -1 if node == -1 else nearest_real[node]
        for ghost in path:
            nearest_real[ghost] = resolved
    real_parent = [nearest_real[parent[i]] if parent[i] != -1 else -1 for i in range(count)]

    root_of_tree: dict[int, int] = {}
    tops_in_tree: dict[int, int] = {}
    for index in range(count):
        if real_parent[index] == -1:
            tree_id = _find(tree, index)
            root_of_tree.setdefault(tree_id, index)  # messages are in time order: the first top is the earliest
            tops_in_tree[tree_id] = tops_in_tree.get(tree_id, 0) + 1
    return _IdForest(
        real_parent=real_parent,
        root_of=[root_of_tree[_find(tree, index)] for index in range(count)],
        unattached=frozenset(root for tree_id, root in root_of_tree.items() if tops_in_tree[tree_id] == 1),
    )


def _declared_parent(message: ThreadInput, container_of_id: dict[str, int], count: int) -> str | None:
    """The id a message names as its parent: a message we have if possible, else a ghost."""

    def known(message_id: str | None) -> bool:
        found = container_of_id.get(message_id) if message_id is not None else None
        return found is not None and found < count

    own = message.message_id
    in_reply_to = message.in_reply_to if message.in_reply_to != own else None
    if known(in_reply_to):
        return in_reply_to
    for reference in reversed(message.references):
        if reference != own and known(reference):
            return reference
    if in_reply_to is not None:
        return in_reply_to
    for reference in reversed(message.references):
        if reference != own:
            return reference
    return None


def _merge_by_subject(
    msgs: Sequence[ThreadInput], times: Sequence[datetime], forest: _IdForest, window: timedelta
) -> tuple[list[int], dict[int, int]]:
    """Sweep messages in time order, joining unattached trees to a thread by subject and customer.

    Returns the union-find of merged roots and, for each root that was joined, the root it joined.
    """
    merged_into = list(range(len(msgs)))
    subject_key: dict[int, tuple[str, str] | None] = {}
    for root in set(forest.root_of):
        subject = normalize_subject(msgs[root].subject)
        customer = msgs[root].customer
        subject_key[root] = (subject, customer) if subject and customer else None
    latest_time: dict[int, datetime] = {}
    latest_thread_with: dict[tuple[str, str], int] = {}  # the thread of that key active most recently
    subject_parent: dict[int, int] = {}
    for index in range(len(msgs)):
        current = _find(merged_into, forest.root_of[index])
        key = subject_key[current]
        if key is not None and index == current and index in forest.unattached:
            candidate = latest_thread_with.get(key)
            if candidate is not None:
                target = _find(merged_into, candidate)
                if target != current and times[index] >= times[target] and times[index] - latest_time[target] <= window:
                    merged_into[current] = target
                    subject_parent[index] = target
                    current = target
        latest_time[current] = times[index]
        if key is not None:
            latest_thread_with[key] = current
    return merged_into, subject_parent
