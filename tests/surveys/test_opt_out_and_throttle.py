"""At most one survey per customer in `customer_days` (2 here), and an opt-out honoured at the next send.

First send, as of Thu 5 Mar 12:00 (conftest.py): Carla is asked about "Invoice missing", so her "Second question"
(resolved Wed 4 Mar 09:30) waits. Dan then opts out, by the one-click unsubscribe his mail program offers
(RFC 8058: a POST to the List-Unsubscribe address). His "Another parcel" resolves Fri 6 Mar 09:30.
"""

from __future__ import annotations

import json

import httpx
from tests.surveys.conftest import Desk, links


def test_a_customer_is_asked_once_in_customer_days_and_never_after_opting_out(desk: Desk) -> None:
    first = desk.send("2026-03-05T12:00")
    tickets = {o["recipient"]: o["ticket_id"] for o in first["sent"]}
    [second_question] = first["throttled"]
    assert first["opted_out"] == []

    dan = desk.mail_to("dan@example.org")
    unsubscribe = str(dan.message["List-Unsubscribe"]).strip("<>")
    assert unsubscribe == links(dan)["opt-out"]
    with httpx.Client() as client:
        # Opening the address (a scanner, or the customer's click) only asks to confirm.
        page = client.get(unsubscribe)
        assert page.status_code == 200 and "Yes, no more surveys" in page.text
        assert desk.state("SELECT address FROM survey_opt_outs") == []
        # The mail program's one-click POST records it.
        done = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200 and "we will not send you satisfaction surveys any more" in done.text
    assert desk.state("SELECT address FROM survey_opt_outs") == [("dan@example.org",)]

    # Sat 7 Mar 11:00: Carla was asked 47 hours ago, under customer_days (48 h): her second ticket still waits.
    # Dan's "Another parcel" is due and skipped for his opt-out. A dry run records and sends nothing.
    rows = desk.surveys_rows()
    dry = json.loads(desk.cli("surveys", "send", "--now", "2026-03-07T11:00", "--dry-run", "--format", "json"))
    assert (dry["sent"], dry["throttled"], len(dry["opted_out"])) == ([], [second_question], 1)
    assert desk.surveys_rows() == rows and len(desk.smtp.messages) == 4

    # Sat 7 Mar 13:00: 49 hours since Carla's survey, so the second one goes; Dan's stays skipped.
    later = desk.send("2026-03-07T13:00")
    assert [(o["ticket_id"], o["recipient"]) for o in later["sent"]] == [(second_question, "carla@example.org")]
    assert later["throttled"] == [] and len(later["opted_out"]) == 1
    assert later["opted_out"][0] not in tickets.values()  # his new ticket, not the one asked about before
    assert [m.recipients for m in desk.smtp.messages].count(["carla@example.org"]) == 2
    assert [m.recipients for m in desk.smtp.messages].count(["dan@example.org"]) == 1
