"""Bounced surveys count as not delivered: a recipient the SMTP server refuses at once, and a delivery status
notification (DSN) that comes back to the support mailbox later and is imported into the store: one naming the
survey's Message-ID (as Gmail's do, in In-Reply-To and References), one addressed to the survey's return path (as
Postfix's are, the original headers only in an attachment deskpulse does not keep)."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.surveys.conftest import Desk, links

DSN = """Received: from mx.example.net by mail.acme.test; Thu, 05 Mar 2026 {time} +0000
From: Mail Delivery System <MAILER-DAEMON@{mta}>
To: {to}
Subject: {subject}
Date: Thu, 05 Mar 2026 {time} +0000
Message-ID: <{key}@{mta}>
{threading}MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="report"

--report
Content-Type: text/plain

{explanation}

--report
Content-Type: message/delivery-status

Reporting-MTA: dns; {mta}

Final-Recipient: rfc822; {recipient}
Action: failed
Status: 5.1.1

--report
Content-Type: text/rfc822-headers

From: Acme Support <help@acme.test>
To: {recipient}
Subject: How did we do?
Message-ID: <{message_id}>

--report--
"""


def dsn(path: Path, recipient: str, message_id: str | None, to: str, time: str) -> Path:
    """A DSN about the mail to ``recipient``, received on Thu 5 Mar at ``time``: Gmail's kind when the survey's
    ``message_id`` is given (it names it in In-Reply-To and References), else Postfix's (sent to ``to``, the return
    path, the original Message-ID only in its text/rfc822-headers part)."""
    gmail = message_id is not None
    text = DSN.format(
        time=time,
        mta="googlemail.com" if gmail else "mx.example.org",
        to=to,
        subject="Delivery Status Notification (Failure)" if gmail else "Undelivered Mail Returned to Sender",
        key=path.stem,
        threading=f"In-Reply-To: <{message_id}>\nReferences: <{message_id}>\n" if gmail else "",
        explanation=f"<{recipient}>: host said: 550 5.1.1 User unknown",
        recipient=recipient,
        message_id=message_id or "original@acme.test",
    )
    path.write_text(text, encoding="utf-8")
    return path


def test_refused_and_returned_surveys_count_as_not_delivered(desk: Desk) -> None:
    report = desk.send("2026-03-05T12:00")
    survey = {o["recipient"]: o["survey_id"] for o in report["sent"] + report["refused"]}

    # Refused at once (550 for gone@example.org): recorded, not delivered, out of the response rate's base.
    [(state, bounce)] = desk.state("SELECT state, bounce FROM survey_sends WHERE recipient = 'gone@example.org'")
    assert state == "bounced" and "550 5.1.1" in bounce
    assert desk.kpis()["survey_response_rate"] == (0.0, 4)  # carla, dan, fay, hal

    # Carla answers (5); afterwards a DSN names her survey too, which cannot be: she answered, so it stays delivered.
    carla = desk.mail_to("carla@example.org")
    with httpx.Client() as browser:
        assert browser.post(links(carla)["5"].split("?")[0], data={"csat": "5"}).status_code == 200

    def message_id(address: str) -> str:
        return str(desk.mail_to(address).message["Message-ID"]).strip("<>")

    hal_return_path = desk.mail_to("hal@example.org").sender
    returned = [
        dsn(desk.folder / "fay.eml", "fay@example.org", message_id("fay@example.org"), "help@acme.test", "12:05"),
        dsn(desk.folder / "hal.eml", "hal@example.org", None, hal_return_path, "12:06"),
        dsn(desk.folder / "carla.eml", "carla@example.org", message_id("carla@example.org"), "help@acme.test", "12:07"),
    ]
    desk.cli("ingest", *(str(path) for path in returned))

    # The next run marks Fay's survey (its Message-ID in the DSN) and Hal's (the DSN came to its return path).
    again = desk.send("2026-03-05T13:00")
    assert again["bounced"] == [survey["fay@example.org"], survey["hal@example.org"]]
    states = dict(desk.state("SELECT recipient, state FROM survey_sends"))
    assert states == {
        "carla@example.org": "sent",
        "dan@example.org": "sent",
        "gone@example.org": "bounced",
        "fay@example.org": "bounced",
        "hal@example.org": "bounced",
    }
    delivered = {r["ticket_id"]: r["delivered"] for r in desk.surveys_rows() if r["answered_at"] is None}
    assert sorted(delivered.values()) == [False, False, False, True, True]

    # Delivered now: Carla's (answered) and Dan's: 1 of 2.
    assert desk.kpis()["survey_response_rate"] == (0.5, 2)
    # Found once: a third run marks nothing again.
    assert desk.send("2026-03-05T14:00")["bounced"] == []
