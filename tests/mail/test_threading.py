"""Threading, message by message: how ids, ghosts, loops, duplicates and the subject fallback build tickets.

Every scenario is a small timeline of mails written as `mail(key, at_minute, ...)`; unless a test says
otherwise a mail's Message-ID is "<key>@desk.test", its subject "Printer on fire" and its customer
ana@example.com. The expected parents and thread roots are written out by hand.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

import pytest

from deskpulse.mail.threading import (
    ThreadAssignment,
    ThreadInput,
    extract_message_ids,
    normalize_subject,
    thread_messages,
)

MONDAY_9AM = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
BERLIN_SUMMER = timezone(timedelta(hours=2))
DAY_MINUTES = 24 * 60
_OWN_ID = "<own id>"


def mail(
    key: str,
    at_minute: float,
    *,
    message_id: str | None = _OWN_ID,
    in_reply_to: str | None = None,
    references: tuple[str, ...] = (),
    subject: str = "Printer on fire",
    customer: str | None = "ana@example.com",
) -> ThreadInput:
    return ThreadInput(
        key=key,
        message_id=f"{key}@desk.test" if message_id == _OWN_ID else message_id,
        in_reply_to=in_reply_to,
        references=references,
        subject=subject,
        customer=customer,
        sent_at=MONDAY_9AM + timedelta(minutes=at_minute),
    )


def parents(assignments: dict[str, ThreadAssignment]) -> dict[str, str | None]:
    return {key: assignment.parent_key for key, assignment in assignments.items()}


def threads(assignments: dict[str, ThreadAssignment]) -> dict[str, str]:
    return {key: assignment.thread_key for key, assignment in assignments.items()}


# ---------------------------------------------------------------------------------------------------------
# Reading ids out of headers


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("<a@x.test> <b@x.test>", ["a@x.test", "b@x.test"]),
        ("<a@x.test>\r\n\t<b@x.test> <a@x.test>", ["a@x.test", "b@x.test"]),  # folded, with a repeat
        ("<foo@five.com> (garbage)", ["foo@five.com"]),  # notmuch T510 "Ignore garbage at the end"
        ("<abc.\r\n def@x.test>", ["abc.def@x.test"]),  # an id broken by header folding
        (
            "garbage <200010041822.e94IMZr19712@mystic.es.dupont.com> trash",
            ["200010041822.e94IMZr19712@mystic.es.dupont.com"],
        ),
        (
            "<8172.960997992@mystic>; from cristy@mystic.es.dupont.com on Wed, Jun 14, 2000",
            ["8172.960997992@mystic"],
        ),
        ("bare-id@x.test", ["bare-id@x.test"]),  # brackets lost
        ("<200704070053.46646.other.person@example", ["200704070053.46646.other.person@example"]),  # ">" lost
        ("<yes>", []),  # lkml junk: no "@", so no ghost that would glue unrelated threads together
        ("<yes> <real@x.test>", ["real@x.test"]),
        ("mumble", []),
        ("joe@example.com's message of Tue, 3 Mar 2026", []),  # an address inside prose is not an id
        ("<>", []),
        ("", []),
        (None, []),
    ],
)
def test_extract_message_ids(header: str | None, expected: list[str]) -> None:
    assert extract_message_ids(header) == expected


def test_strange_in_reply_to_with_prose_yields_the_bracketed_id() -> None:
    # hyperkitty's strange-in-reply-to-header.txt: an old mail client wrote a sentence around the id.
    header = (
        "Other person's message of  Saturday, 7 April 2007 00:53:46 +0300 <200704070053.46646.other.person@example.com>"
    )
    assert extract_message_ids(header) == ["200704070053.46646.other.person@example.com"]


# ---------------------------------------------------------------------------------------------------------
# Normalising subjects


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Re: AW: [list] Foo", "foo"),
        ("RE: Transparency question", "transparency question"),
        ("Fwd: Fw: WG: SV: VS: Antw: Invoice 42", "invoice 42"),
        ("Re[2]: Invoice", "invoice"),
        ("Re^2: Invoice", "invoice"),
        ("Re : Facture", "facture"),  # French spacing before the colon
        ("Aw: [EXT] Re:   Login    broken ", "login broken"),
        ("[notmuch] [PATCH] Typsos", "typsos"),  # every leading bracket tag goes, [PATCH] too
        ("Rebuild: mirror", "rebuild: mirror"),  # "Re" must be a whole marker
        ("Invoice Re: March", "invoice re: march"),  # only leading markers are stripped
        ("Straße gesperrt", "strasse gesperrt"),  # casefolded, not just lowercased
        ("Re:", ""),
        ("[list]", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_normalize_subject(subject: str | None, expected: str) -> None:
    assert normalize_subject(subject) == expected


# ---------------------------------------------------------------------------------------------------------
# Threading by ids


def test_a_reply_chain_is_one_thread_rooted_at_the_first_mail() -> None:
    # 09:00 ana asks; 09:30 the agent answers; 10:00 ana answers the agent.
    result = thread_messages(
        [
            mail("ask", 0),
            mail("answer", 30, in_reply_to="ask@desk.test", references=("ask@desk.test",)),
            mail("thanks", 60, in_reply_to="answer@desk.test", references=("ask@desk.test", "answer@desk.test")),
        ],
        WEEK,
    )
    assert result == {
        "ask": ThreadAssignment("ask", None, "root"),
        "answer": ThreadAssignment("ask", "ask", "reference"),
        "thanks": ThreadAssignment("ask", "answer", "reference"),
    }


def test_replies_to_a_missing_message_stay_one_thread_under_the_earliest_reply() -> None:
    # The customer's first mail never reached the mailbox (ghost "lost@desk.test"); two agents answered it,
    # at 09:10 and 09:20, and the customer answered the second agent at 09:40. The ghost holds them together;
    # the earliest real message under it (first-agent) becomes the root, and second-agent, whose real
    # parent is missing, hangs under that root.
    result = thread_messages(
        [
            mail("second-agent", 20, in_reply_to="lost@desk.test", references=("lost@desk.test",)),
            mail("first-agent", 10, in_reply_to="lost@desk.test", references=("lost@desk.test",)),
            mail("customer", 40, references=("lost@desk.test", "second-agent@desk.test")),
        ],
        WEEK,
    )
    assert result == {
        "first-agent": ThreadAssignment("first-agent", None, "root"),
        "second-agent": ThreadAssignment("first-agent", "first-agent", "reference"),
        "customer": ThreadAssignment("first-agent", "second-agent", "reference"),
    }


def test_a_missing_message_in_the_middle_is_skipped_to_the_nearest_real_ancestor() -> None:
    # root ← (missing "middle") ← late-reply: References names both, so the ghost sits under root and the
    # reply's real parent is root.
    result = thread_messages(
        [
            mail("root", 0),
            mail(
                "late-reply",
                90,
                in_reply_to="middle@desk.test",
                references=("root@desk.test", "middle@desk.test"),
            ),
        ],
        WEEK,
    )
    assert parents(result) == {"root": None, "late-reply": "root"}


def test_a_reference_loop_ends_with_the_older_message_as_root() -> None:
    # notmuch broken/loop: loop-12 (Thursday) says it replies to loop-21, loop-21 (Friday) says it replies to
    # loop-12. One of the two claims must go; the older mail's claim does, so loop-12 is the root.
    result = thread_messages(
        [
            mail("loop-12", 0, in_reply_to="loop-21@desk.test"),
            mail("loop-21", DAY_MINUTES, in_reply_to="loop-12@desk.test"),
        ],
        WEEK,
    )
    assert result == {
        "loop-12": ThreadAssignment("loop-12", None, "root"),
        "loop-21": ThreadAssignment("loop-12", "loop-12", "reference"),
    }


def test_a_three_way_loop_and_a_self_reference_terminate() -> None:
    # a → c, b → a, c → b is a cycle; the oldest (a) loses its claim. "selfish" names its own id: no parent.
    result = thread_messages(
        [
            mail("a", 0, in_reply_to="c@desk.test"),
            mail("b", 1, in_reply_to="a@desk.test"),
            mail("c", 2, in_reply_to="b@desk.test", references=("a@desk.test", "b@desk.test", "c@desk.test")),
            mail(
                "selfish",
                3,
                in_reply_to="selfish@desk.test",
                references=("selfish@desk.test",),
                subject="Other",
            ),
        ],
        WEEK,
    )
    assert parents(result) == {"a": None, "b": "a", "c": "b", "selfish": None}


def test_duplicate_message_ids_become_children_of_the_first_copy() -> None:
    # The same Message-ID arrives three times (re-sent through two lists), with different keys. The earliest
    # copy owns the id; later copies are its children whatever their own headers say (copy-2 names a
    # ghost that would otherwise make it a thread of its own). A reply to the id goes to the owner.
    result = thread_messages(
        [
            mail("copy-2", 5, message_id="same@desk.test", references=("elsewhere@desk.test",)),
            mail("copy-1", 0, message_id="same@desk.test"),
            mail("copy-3", 5, message_id="same@desk.test"),
            mail("reply", 60, in_reply_to="same@desk.test"),
        ],
        WEEK,
    )
    assert result == {
        "copy-1": ThreadAssignment("copy-1", None, "root"),
        "copy-2": ThreadAssignment("copy-1", "copy-1", "reference"),
        "copy-3": ThreadAssignment("copy-1", "copy-1", "reference"),
        "reply": ThreadAssignment("copy-1", "copy-1", "reference"),
    }


def test_in_reply_to_beats_a_conflicting_last_reference() -> None:
    # notmuch threading/parent-priority: child's In-Reply-To names root, its References a typo ("B00--root");
    # grand-child lists References in the wrong order (child, root) but In-Reply-To names child.
    result = thread_messages(
        [
            mail("root", 0, message_id="B00-root@example.org"),
            mail(
                "child",
                DAY_MINUTES,
                message_id="B01-child@example.org",
                in_reply_to="B00-root@example.org",
                references=("B00--root@example.org",),
            ),
            mail(
                "grand-child",
                DAY_MINUTES + 10,
                message_id="B01-grand-child@example.org",
                in_reply_to="B01-child@example.org",
                references=("B01-child@example.org", "B00-root@example.org"),
            ),
        ],
        WEEK,
    )
    assert parents(result) == {"root": None, "child": "root", "grand-child": "child"}


def test_references_win_when_in_reply_to_names_no_message_we_have() -> None:
    # notmuch T510 "Prefer References to In-Reply-To": In-Reply-To is broken (points nowhere), References is
    # right. Following the ghost would split the conversation in two.
    result = thread_messages(
        [
            mail("two", 0, message_id="foo@two.com"),
            mail("re-two", 5, in_reply_to="bar@baz.com", references=("foo@two.com",)),
        ],
        WEEK,
    )
    assert parents(result) == {"two": None, "re-two": "two"}


def test_a_message_without_message_id_can_still_reply() -> None:
    result = thread_messages(
        [mail("ask", 0), mail("anonymous", 5, message_id=None, in_reply_to="ask@desk.test")],
        WEEK,
    )
    assert parents(result) == {"ask": None, "anonymous": "ask"}


# ---------------------------------------------------------------------------------------------------------
# The subject fallback: same customer, same normalised subject, inside the window


def test_a_headerless_follow_up_joins_the_customers_thread_inside_the_window() -> None:
    # Monday 09:00 ana: "Printer on fire"; 09:30 agent replies by id; Friday 09:00 ana writes
    # "RE: Printer on fire" from her phone, which drops In-Reply-To and References.
    # Friday 09:00 − Monday 09:30 = 3 d 23.5 h ≤ 7 d, so it joins, under the thread root.
    result = thread_messages(
        [
            mail("ask", 0),
            mail("answer", 30, in_reply_to="ask@desk.test"),
            mail("phone", 4 * DAY_MINUTES, subject="RE: Printer on fire"),
        ],
        WEEK,
    )
    assert result["phone"] == ThreadAssignment("ask", "ask", "subject")


def test_the_window_counts_from_the_threads_latest_message() -> None:
    # Root Monday 09:00, reply by id Saturday (day 5), headerless follow-up day 11 09:00.
    # Day 11 − day 5 = 6 d ≤ 7 d: joins, although it is 11 days after the root.
    # Another one on day 19: 19 − 11 = 8 d > 7 d: a new thread.
    result = thread_messages(
        [
            mail("ask", 0),
            mail("answer", 5 * DAY_MINUTES, in_reply_to="ask@desk.test"),
            mail("day-11", 11 * DAY_MINUTES, subject="Re: Printer on fire"),
            mail("day-19", 19 * DAY_MINUTES, subject="Re: Printer on fire"),
        ],
        WEEK,
    )
    assert threads(result) == {"ask": "ask", "answer": "ask", "day-11": "ask", "day-19": "day-19"}
    assert result["day-19"] == ThreadAssignment("day-19", None, "root")


def test_the_window_is_inclusive() -> None:
    # Exactly 7 days after the last message joins; 7 days and 1 minute does not.
    exactly = thread_messages([mail("ask", 0), mail("late", 7 * DAY_MINUTES)], WEEK)
    too_late = thread_messages([mail("ask", 0), mail("late", 7 * DAY_MINUTES + 1)], WEEK)
    assert exactly["late"].linked_by == "subject"
    assert too_late["late"].linked_by == "root"


def test_generic_subjects_from_different_customers_stay_apart() -> None:
    # "Re: your mail" from two customers within minutes: the customer condition keeps them two tickets.
    result = thread_messages(
        [
            mail("ana", 0, subject="Re: your mail", customer="ana@example.com"),
            mail("bob", 3, subject="Re: your mail", customer="bob@example.com"),
        ],
        WEEK,
    )
    assert threads(result) == {"ana": "ana", "bob": "bob"}


def test_no_customer_or_no_subject_never_merges() -> None:
    result = thread_messages(
        [
            mail("unknown-1", 0, customer=None),
            mail("unknown-2", 1, customer=None),
            mail("empty-1", 2, subject="Re:"),
            mail("empty-2", 3, subject="[support]"),
        ],
        WEEK,
    )
    assert set(threads(result).values()) == {"unknown-1", "unknown-2", "empty-1", "empty-2"}


def test_messages_joined_by_ids_are_not_moved_by_subject() -> None:
    # "reply" has a real parent by id in thread "other", which has the same subject and customer as "ask".
    # Only trees without any id link can join by subject, and "other" is one (it joins "ask"); "reply" stays
    # under "other".
    result = thread_messages(
        [
            mail("ask", 0),
            mail("other", 10),
            mail("reply", 20, in_reply_to="other@desk.test"),
        ],
        WEEK,
    )
    assert result["other"] == ThreadAssignment("ask", "ask", "subject")
    assert result["reply"] == ThreadAssignment("ask", "other", "reference")


def test_replies_sharing_a_missing_parent_are_not_candidates_for_the_subject_fallback() -> None:
    # Two mails answer the same missing message: the ghost already links them, so their thread has two
    # messages without a real parent, is "resolved by ids", and is not joined to ana's earlier
    # "Printer on fire" by subject.
    result = thread_messages(
        [
            mail("ask", 0),
            mail("left", 10, in_reply_to="gone@desk.test"),
            mail("right", 20, in_reply_to="gone@desk.test"),
        ],
        WEEK,
    )
    assert threads(result) == {"ask": "ask", "left": "left", "right": "left"}


def test_a_reply_to_a_message_we_never_stored_joins_by_subject() -> None:
    # ana answers an agent mail that is not in the mailbox: its only reference is unknown and links it to
    # nothing else, so it has "no resolvable parent by ids" and the subject fallback applies.
    result = thread_messages(
        [mail("ask", 0), mail("lonely", 30, in_reply_to="unstored-agent-mail@desk.test")],
        WEEK,
    )
    assert result["lonely"] == ThreadAssignment("ask", "ask", "subject")


def test_a_follow_up_older_than_the_thread_root_does_not_join_it() -> None:
    # Clock skew: "root" is stamped 10:00 but its reply says 09:00 (that sender's clock is an hour behind),
    # so root's thread is already known when "early" (09:30, same subject and customer, no ids) is swept.
    # "early" is older than root and so does not join root's thread: it starts one of its own.
    # At 10:00 root itself is swept; it has no parent by ids either, and early's thread is the latest with
    # that subject and customer, 30 min before, so root's thread joins early's. One ticket, which starts
    # at the oldest message, whatever order the clocks put them in.
    result = thread_messages(
        [
            mail("root", 60),
            mail("skewed-reply", 0, in_reply_to="root@desk.test"),
            mail("early", 30),
        ],
        WEEK,
    )
    assert result == {
        "early": ThreadAssignment("early", None, "root"),
        "root": ThreadAssignment("early", "early", "subject"),
        "skewed-reply": ThreadAssignment("early", "root", "reference"),
    }


def test_the_most_recently_active_thread_with_that_subject_is_joined() -> None:
    # ana's "Printer on fire" in January (old) and again in March (new, 60 days later: outside the window,
    # so a ticket of its own). A headerless follow-up two days after the March one joins March.
    result = thread_messages(
        [
            mail("old", 0),
            mail("new", 60 * DAY_MINUTES),
            mail("follow-up", 62 * DAY_MINUTES, subject="Re: Printer on fire"),
        ],
        WEEK,
    )
    assert threads(result) == {"old": "old", "new": "new", "follow-up": "new"}


# ---------------------------------------------------------------------------------------------------------
# Contract details


def test_output_does_not_depend_on_input_order() -> None:
    messages = [
        mail("ask", 0),
        mail("answer", 30, in_reply_to="ask@desk.test"),
        mail("ghost-child-1", 40, in_reply_to="gone@desk.test"),
        mail("ghost-child-2", 40, in_reply_to="gone@desk.test"),
        mail("dup-a", 50, message_id="dup@desk.test"),
        mail("dup-b", 50, message_id="dup@desk.test"),
        mail("follow-up", 90, subject="Re: Printer on fire"),
        mail("loop-1", 100, in_reply_to="loop-2@desk.test", subject="Loop"),
        mail("loop-2", 100, in_reply_to="loop-1@desk.test", subject="Loop"),
    ]
    expected = thread_messages(messages, WEEK)
    shuffled = messages[:]
    for seed in range(5):
        random.Random(seed).shuffle(shuffled)
        assert thread_messages(shuffled, WEEK) == expected


def test_naive_datetimes_are_utc() -> None:
    # 09:00 naive (= 09:00 UTC) and 10:30+02:00 (= 08:30 UTC): the aware one is older, so it is the root,
    # and the naive one, same subject and customer 30 min later, joins it.
    result = thread_messages(
        [
            ThreadInput("naive", "n@x.test", None, (), "Printer", "ana@example.com", datetime(2026, 3, 2, 9, 0)),
            ThreadInput(
                "aware",
                "a@x.test",
                None,
                (),
                "Printer",
                "ana@example.com",
                datetime(2026, 3, 2, 10, 30, tzinfo=BERLIN_SUMMER),
            ),
        ],
        WEEK,
    )
    assert result["naive"] == ThreadAssignment("aware", "aware", "subject")


def test_repeated_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique key"):
        thread_messages([mail("same", 0), mail("same", 1, message_id="other@desk.test")], WEEK)


def test_a_very_long_reply_chain_threads_without_recursion() -> None:
    # 30,000 mails, each replying to the one before: depth 30,000 must neither recurse nor go quadratic.
    chain = [mail("m0", 0)] + [
        mail(f"m{i}", i, in_reply_to=f"m{i - 1}@desk.test", references=("m0@desk.test", f"m{i - 1}@desk.test"))
        for i in range(1, 30_000)
    ]
    result = thread_messages(chain, WEEK)
    assert result["m29999"] == ThreadAssignment("m0", "m29998", "reference")
    assert {assignment.thread_key for assignment in result.values()} == {"m0"}
