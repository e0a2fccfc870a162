"""The whole loop, over real SMTP and real HTTP: tickets resolve → `deskpulse surveys send` mails the customers →
a customer clicks a link in the mail they received → `deskpulse kpis` shows the answer, credited to the agent.

The desk and its timeline are described in conftest.py. The first send runs as of Thu 5 Mar 12:00 UTC, so every
ticket resolved by Wed 4 Mar 12:00 is due (delay 24 h): Invoice missing, Parcel late, Password reset, Wrong size,
Lost voucher (all resolved on Mon 2 Mar) and Second question (Wed 4 Mar 09:30).
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from tests.alerts.servers import SMTP_USER
from tests.surveys.conftest import Desk, body_text, links

CARLA_COMMENT = "It took three emails to get my invoice. Annoying and slow."


def test_a_resolved_ticket_becomes_a_mail_a_click_and_a_kpi(desk: Desk) -> None:
    assert desk.kpis() == {"csat": (None, 0), "ces": (None, 0), "survey_response_rate": (None, 0)}

    report = desk.send("2026-03-05T12:00")

    # Six tickets due, oldest resolution first. Carla's second ticket is skipped: she is asked about her first one
    # in this very run, and customer_days = 2. The server refuses gone@example.org (550): a bounce at once.
    assert report["due"] == 6
    assert [o["recipient"] for o in report["sent"]] == [
        "carla@example.org",
        "dan@example.org",
        "fay@example.org",
        "hal@example.org",
    ]
    assert [o["agent"] for o in report["sent"]] == ["ana@acme.test", "ben@acme.test", "ana@acme.test", "ben@acme.test"]
    assert [o["recipient"] for o in report["refused"]] == ["gone@example.org"]
    assert "550 5.1.1" in report["refused"][0]["detail"]
    assert len(report["throttled"]) == 1 and report["error"] is None

    # What the customers received: over STARTTLS with AUTH, from the support address, bounces to an address naming
    # the survey (the return path), fixed subject, marked automatic, with a one-click unsubscribe.
    assert sorted(m.recipients[0] for m in desk.smtp.messages) == [
        "carla@example.org",
        "dan@example.org",
        "fay@example.org",
        "hal@example.org",
    ]
    carla = desk.mail_to("carla@example.org")
    carla_survey = report["sent"][0]["survey_id"]
    assert carla.encrypted and carla.login == SMTP_USER
    assert carla.sender == f"help+survey-{carla_survey}@acme.test"
    assert carla.message["From"] == "Acme Support <help@acme.test>"
    assert carla.message["Subject"] == "How did we do?"
    assert carla.message["Auto-Submitted"] == "auto-generated"
    assert carla.message["List-Unsubscribe"] == f"<{links(carla)['opt-out']}>"
    assert "“Invoice missing”" in body_text(carla.message)
    assert all(url.startswith(f"{desk.url}/survey/") for url in links(carla).values())

    # Four delivered surveys, none answered yet: the response rate is 0 of 4 (the refused one is not delivered).
    assert desk.kpis() == {"csat": (None, 0), "ces": (None, 0), "survey_response_rate": (0.0, 4)}
    rows_before = desk.surveys_rows()
    assert len(rows_before) == 5  # five invitations, the refused one with delivered = false
    assert [r["delivered"] for r in rows_before if r["ticket_id"] == report["refused"][0]["ticket_id"]] == [False]

    # Carla clicks "2 - Dissatisfied" in her mail. Opening the page stores nothing (a mail scanner does as much)…
    with httpx.Client() as browser:
        page = browser.get(links(carla)["2"])
        assert page.status_code == 200
        assert 'value="2" required checked' in page.text and 'data-auto="1"' in page.text
        assert desk.surveys_rows() == rows_before
        # …the page's script posts the chosen score at once (the browser test runs the script itself)…
        action = f"{desk.url}/survey/{links(carla)['2'].split('/survey/')[1].split('?')[0]}"
        assert browser.post(action, data={"csat": "2", "auto": "1"}).status_code == 204
        # …and she answers the CES question with a comment and sends the form.
        thanks = browser.post(action, data={"csat": "2", "ces": "3", "comment": CARLA_COMMENT})
        assert thanks.status_code == 200 and "satisfaction 2 of 5, ease 3 of 7" in thanks.text

        # Dan clicks "5 - Very satisfied" and finds it very easy (7), without a comment.
        dan = links(desk.mail_to("dan@example.org"))
        dan_action = dan["5"].split("?")[0]
        assert browser.get(dan["5"]).status_code == 200
        assert browser.post(dan_action, data={"csat": "5", "ces": "7"}).status_code == 200

    # csat: of the latest answers, Dan's 5 is satisfied, Carla's 2 is not: 1 / 2 = 0.5.
    # ces: (3 + 7) / 2 = 5.0. Response rate: 2 answered of 4 delivered = 0.5.
    assert desk.kpis() == {"csat": (0.5, 2), "ces": (5.0, 2), "survey_response_rate": (0.5, 4)}

    # Credited to the agent assigned when the survey went out: ana (Carla's and Fay's tickets), ben (Dan's, Hal's).
    # ana: Carla's 2 → csat 0 of 1; 1 answered of 2 delivered. ben: Dan's 5 → 1 of 1; 1 of 2 (Hal's open, Gone's
    # refused and not delivered).
    assert desk_kpis_by_agent(desk) == {
        "ana@acme.test": {"csat": (0.0, 1), "survey_response_rate": (0.5, 2)},
        "ben@acme.test": {"csat": (1.0, 1), "survey_response_rate": (0.5, 2)},
    }

    # Carla changes her mind a day later and clicks "4 - Satisfied": the latest answer counts. CSAT: 4 and 5 are
    # both satisfied, 2 / 2 = 1.0; her CES (3) and her comment stay, so CES is still 5.0.
    with httpx.Client() as browser:
        browser.get(links(carla)["4"])
        assert browser.post(action, data={"csat": "4", "auto": "1"}).status_code == 204
        # The same form sent twice (a reload) adds nothing.
        browser.post(action, data={"csat": "4", "ces": "3"})
    assert desk.kpis() == {"csat": (1.0, 2), "ces": (5.0, 2), "survey_response_rate": (0.5, 4)}

    # The history is kept: Carla's CSAT 2 (the click), then the form's CES 3 and CSAT 2 with the comment (one
    # instant), then CSAT 4 (the comment carried over).
    carla_rows = [r for r in desk.surveys_rows() if r["survey_id"].startswith(carla_survey)]
    answers = sorted((r["answered_at"], r["kind"], r["score"], r["comment"]) for r in carla_rows if r["answered_at"])
    assert [answer[1:] for answer in answers] == [
        ("csat", 2, None),
        ("ces", 3, None),
        ("csat", 2, CARLA_COMMENT),
        ("csat", 4, CARLA_COMMENT),
    ]
    assert {r["agent"] for r in carla_rows} == {"ana@acme.test"}

    # The comment went through sentiment (the support rules: no model is trained here) and, without a category
    # model, no category.
    [(label, category)] = desk.state("SELECT sentiment_label, category FROM survey_comments")
    assert (label, category) == ("negative", None)

    # `surveys status`: 5 sent, 4 delivered, 1 bounced, 2 answered (0.5); CSAT of the latest answers 4 and 5: 100 %.
    status = desk_status(desk)
    assert {k: status["total"][k] for k in ("sent", "delivered", "bounced", "answered", "response_rate")} == {
        "sent": 5,
        "delivered": 4,
        "bounced": 1,
        "answered": 2,
        "response_rate": 0.5,
    }
    assert (status["total"]["csat"], status["total"]["ces"]) == (1.0, 5.0)
    ben = next(row for row in status["per_agent"] if row["agent"] == "ben@acme.test")
    assert (ben["sent"], ben["delivered"], ben["bounced"], ben["answered"]) == (3, 2, 1, 1)
    assert [(c["csat"], c["comment"], c["sentiment_label"]) for c in status["comments"]] == [
        (4, CARLA_COMMENT, "negative")
    ]


def desk_kpis_by_agent(desk: Desk) -> dict[str, dict[str, tuple[object, object]]]:
    """`deskpulse kpis --by agent` for csat and survey_response_rate: {agent: {metric: (value, n)}}."""
    metrics = ("csat", "survey_response_rate")
    arguments = ("kpis", "--metrics", ",".join(metrics), "--period", "all", "--by", "agent", "--format", "json")
    document = json.loads(desk.cli(*arguments))
    return {row["agent"]: {m: (row[m]["value"], row[m]["n"]) for m in metrics} for row in document["rows"]}


def desk_status(desk: Desk) -> dict[str, Any]:
    status: dict[str, Any] = json.loads(desk.cli("surveys", "status", "--format", "json"))
    return status
