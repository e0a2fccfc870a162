"""Gmail Takeout labels and what `[labels]` makes of them: tags, resolutions, categories, priorities.

A Takeout mbox is an mbox whose envelope lines carry Gmail's message id and whose messages carry
``X-Gmail-Labels``. The help desk below: help@acme.test, agents at acme.test, all times UTC.

    ticket  messages (received, author: labels)
    login   03-04 09:00 Carla: Opened, Category Updates, Support/Login, Done
            03-04 10:00 Ana:   Sent, Support/Login, Done
    refund  03-05 09:00 Bob:   Inbox, Unread, Billing, VIP, "Refunds, partial"
            03-06 09:00 Bob:   Inbox, Billing, Urgent
    parcel  03-07 09:00 Dora:  Done
            03-07 10:00 Ana:   Done
            03-08 09:00 Dora:  Inbox           (she writes again after the ticket was filed)

Config: resolved = ["done"] (matched without regard to case), category Support/Login → "Account > Login" and
billing → "Billing > Invoices", priority VIP → high and Urgent → urgent.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pyarrow as pa
from tests.mailbuilder import Mail, conversation

from deskpulse.columns import rows_table
from deskpulse.config import parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.labels import label_effects
from deskpulse.mail.parse import gmail_labels
from deskpulse.schema import MESSAGE_LABELS
from deskpulse.store import Store

UTC = ZoneInfo("UTC")
HELP = "help@acme.test"
CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Doe <dora@example.net>"
ANA = "Ana Agent <ana@acme.test>"
CONFIG = parse_config(
    {
        "helpdesk": {"support_addresses": [HELP], "agent_domains": ["acme.test"]},
        "labels": {
            "resolved": ["done"],
            "category": {"Support/Login": "Account > Login", "billing": "Billing > Invoices"},
            "priority": {"VIP": "high", "Urgent": "urgent"},
        },
    }
)


TICKETS = (("login", "example.org"), ("refund", "example.com"), ("parcel", "example.net"))  # first Message-IDs


def labels(text: str) -> dict[str, str]:
    return {"X-GM-THRID": "1791234567890123456", "X-Gmail-Labels": text}


MAILS = [
    *conversation(
        "login",
        "Cannot log in",
        CARLA,
        ("2024-03-04 09:00", CARLA, "I cannot log in.", labels("Opened,Category Updates,Support/Login,Done")),
        ("2024-03-04 10:00", ANA, "Use the reset link.", labels("Sent,Support/Login,Done")),
    ),
    *conversation(
        "refund",
        "Refund for invoice 7",
        BOB,
        ("2024-03-05 09:00", BOB, "Please refund.", labels('Inbox,Unread,Billing,VIP,"Refunds, partial"')),
        ("2024-03-06 09:00", BOB, "Any news?", labels("Inbox,Billing,Urgent")),
    ),
    *conversation(
        "parcel",
        "Parcel never arrived",
        DORA,
        ("2024-03-07 09:00", DORA, "Where is my parcel?", labels("Done")),
        ("2024-03-07 10:00", ANA, "It is on its way.", labels("Done")),
        ("2024-03-08 09:00", DORA, "It is still not here.", labels("Inbox")),
    ),
]


def write_takeout(path: Path, mails: list[Mail]) -> Path:
    """An mbox as Gmail Takeout writes it: envelope ``From <Gmail id>@xxx <asctime with zone>``."""
    with path.open("wb") as handle:
        for number, message in enumerate(mails):
            handle.write(f"From 17912345678901234{number:02d}@xxx Mon Mar 04 09:00:00 +0000 2024\n".encode())
            handle.write(message.raw(UTC).replace(b"\nFrom ", b"\n>From "))
            handle.write(b"\n\n")
    return path


def ticket_of(store: Store, message_key: str) -> str:
    [(ticket_id,)] = store.execute("SELECT ticket_id FROM message_threads WHERE message_key = ?", [message_key])
    return str(ticket_id)


def test_the_labels_header_is_read_as_gmail_writes_it() -> None:
    assert gmail_labels('Inbox,Unread,Billing,VIP,"Refunds, partial"') == [
        "Inbox",
        "Unread",
        "Billing",
        "VIP",
        "Refunds, partial",
    ]
    # A folded header, and a label in RFC 2047 (Gmail writes non-ASCII labels so).
    assert gmail_labels("Opened,\n Support/Login") == ["Opened", "Support/Login"]
    assert gmail_labels("=?UTF-8?Q?Erledigt_=C3=BCberpr=C3=BCft?=,Inbox") == ["Erledigt überprüft", "Inbox"]


def test_a_takeout_mbox_gives_labels_tags_a_resolution_a_category_and_a_priority(tmp_path: Path) -> None:
    mbox = write_takeout(tmp_path / "All mail Including Spam and Trash.mbox", MAILS)
    with Store.open(tmp_path / "store.duckdb") as store:
        summary = ingest_paths(store, CONFIG, [mbox])
        # 4 + 3 + 5 + 3 + 1 + 1 + 1 labels on the seven messages.
        assert (summary.stored, summary.labels) == (7, 18)
        assert store.execute("SELECT count(*) FROM message_labels WHERE source = 'gmail'") == [(18,)]
        login, refund, parcel = (ticket_of(store, f"{key}-1@{domain}") for key, domain in TICKETS)

        effects = label_effects(store, CONFIG)
        # Gmail's own labels (Opened, Category Updates, Sent, Inbox, Unread) say nothing about the ticket.
        assert sorted((r["ticket_id"], r["tag"]) for r in effects.tags.to_pylist()) == sorted(
            [
                (login, "Done"),
                (login, "Support/Login"),
                (refund, "Billing"),
                (refund, "Refunds, partial"),
                (refund, "Urgent"),
                (refund, "VIP"),
                (parcel, "Done"),
            ]
        )
        assert {r["source"] for r in effects.tags.to_pylist()} == {"gmail"}
        # login: resolved at Ana's reply, 03-04 10:00, its latest message. parcel: Dora wrote again on 03-08
        # without the label, after the filing, so the resolution is at Ana's reply before it, 03-07 10:00 (the
        # ticket rebuild turns her message into a reopen).
        assert sorted(
            (r["ticket_id"], r["occurred_at"], r["label"]) for r in effects.resolutions.to_pylist()
        ) == sorted([(login, datetime(2024, 3, 4, 10), "Done"), (parcel, datetime(2024, 3, 7, 10), "Done")])
        assert sorted(effects.categories.to_pylist(), key=lambda r: r["ticket_id"]) == sorted(
            [
                {"ticket_id": login, "category": "Account > Login", "label": "Support/Login", "source": "gmail"},
                {"ticket_id": refund, "category": "Billing > Invoices", "label": "Billing", "source": "gmail"},
            ],
            key=lambda r: r["ticket_id"],
        )
        # VIP (high) on 03-05, Urgent (urgent) on 03-06: the latest labelled message decides.
        assert effects.priorities.to_pylist() == [
            {"ticket_id": refund, "priority": "urgent", "label": "Urgent", "source": "gmail"}
        ]

        again = ingest_paths(store, CONFIG, [mbox])
        assert (again.stored, again.duplicates, again.labels) == (0, 7, 0)
        assert store.execute("SELECT count(*) FROM message_labels") == [(18,)]


def test_a_resolution_is_no_later_than_when_the_label_was_first_seen(tmp_path: Path) -> None:
    # Carla asks at 09:00, Ana replies at 10:00 and follows up at 12:00. deskpulse first saw the message in a
    # "Done" folder at 11:00 (say, a sync then): the follow-up came after the filing, so the ticket was
    # resolved at 10:00, not 12:00.
    mails = [
        Mail(CARLA, HELP, "Export fails", "2024-03-04 09:00", message_id="export-1@example.org"),
        Mail(ANA, "carla@example.org", "Re: Export fails", "2024-03-04 10:00", message_id="export-2@acme.test",
             in_reply_to="export-1@example.org", references=["export-1@example.org"]),
        Mail(ANA, "carla@example.org", "Re: Export fails", "2024-03-04 12:00", message_id="export-3@acme.test",
             in_reply_to="export-2@acme.test", references=["export-1@example.org", "export-2@acme.test"]),
    ]  # fmt: skip
    with Store.open(tmp_path / "store.duckdb") as store:
        ingest_paths(store, CONFIG, [write_takeout(tmp_path / "mail.mbox", mails)])
        label = {"message_key": "export-1@example.org", "label": "Done", "source": "folder"}
        store.insert_new(
            "message_labels", rows_table(MESSAGE_LABELS, [{**label, "observed_at": datetime(2024, 3, 4, 11)}])
        )
        resolutions = label_effects(store, CONFIG).resolutions
        assert resolutions.to_pylist() == [
            {
                "ticket_id": ticket_of(store, "export-1@example.org"),
                "occurred_at": datetime(2024, 3, 4, 10),
                "label": "Done",
                "source": "folder",
            }
        ]
        # Without any configured meaning, labels change nothing but the tags.
        plain = label_effects(store, parse_config({}))
        assert plain.resolutions.num_rows == plain.categories.num_rows == plain.priorities.num_rows == 0
        assert isinstance(plain.tags, pa.Table)


def test_the_ticket_rebuild_applies_what_the_labels_say(tmp_path: Path) -> None:
    mbox = write_takeout(tmp_path / "All mail Including Spam and Trash.mbox", MAILS)
    with Store.open(tmp_path / "store.duckdb") as store:
        ingest_paths(store, CONFIG, [mbox])
        login, refund, parcel = (ticket_of(store, f"{key}-1@{domain}") for key, domain in TICKETS)
        tickets = {
            row[0]: row[1:]
            for row in store.execute("SELECT ticket_id, status, resolved_at, category, priority FROM tickets")
        }
        events = store.execute(
            "SELECT ticket_id, occurred_at, new_value, source FROM ticket_events ORDER BY ticket_id, occurred_at"
        )
        tags = store.execute("SELECT ticket_id, tag FROM ticket_tags WHERE source = 'gmail' ORDER BY ticket_id, tag")
        ingest_paths(store, CONFIG, [mbox])  # a rebuild again: the derived tags and events are replaced, not added
        assert store.execute("SELECT count(*) FROM ticket_tags") == [(len(tags),)]
        assert store.execute("SELECT count(*) FROM ticket_events") == [(len(events),)]
    # login: filed under Done, resolved at Ana's reply (03-04 10:00); its label gives the category.
    assert tickets[login] == ("resolved", datetime(2024, 3, 4, 10), "Account > Login", None)
    # refund: never filed; Bob's last message (03-06) is the store's newest but one, so nothing resolves it;
    # Billing gives the category and Urgent, on the latest labelled message, the priority.
    assert tickets[refund] == ("open", None, "Billing > Invoices", "urgent")
    # parcel: resolved by the label at 03-07 10:00, reopened by Dora's message of 03-08 09:00.
    assert tickets[parcel] == ("open", None, None, None)
    assert [(e[1], e[2], e[3]) for e in events if e[0] == parcel] == [
        (datetime(2024, 3, 7, 10), "resolved", "label"),
        (datetime(2024, 3, 8, 9), "open", "label"),
    ]
    # A labelled ticket's status is the label's, never inferred besides.
    assert {e[3] for e in events if e[0] in (login, parcel)} == {"label"}
    assert (refund, "VIP") in tags and (login, "Support/Login") in tags
