"""A low score reaches a manager: survey answers at or below `[surveys] low_csat_at_most` (2) or `low_ces_at_most`
(3) given in the alert window are `low_survey_score` alerts, whatever the survey's source, and go out through the
alert channels at the next `deskpulse alerts run` (or the serve loop)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from tests.alerts.servers import SMTP_USER
from tests.surveys.conftest import HELPDESK_TOML, Desk, Template, body_text, links

from deskpulse.alerts.detect import detect_alerts, latest_activity
from deskpulse.alerts.settings import AlertsConfig
from deskpulse.config import load_config
from deskpulse.inputs.surveys import load_surveys
from deskpulse.store import Store

# Answers loaded from a CSV (docs/inputs.md), the alert run as of Sat 7 Mar 18:00 with 24 h of lookback.
SURVEYS_CSV = """survey_id,ticket_id,kind,agent,sent_at,answered_at,score,comment
Z-1,{invoice},csat,ana@acme.test,2026-03-05 12:00,2026-03-07 10:00,1,"Nobody <b>listened</b>"
Z-2,{parcel},csat,ben@acme.test,2026-03-05 12:00,2026-03-07 11:00,3,
Z-3,{parcel},ces,ben@acme.test,2026-03-05 12:00,2026-03-07 11:00,3,
Z-4,{size},ces,,2026-03-05 12:00,2026-03-07 12:00,4,
Z-5,{voucher},csat,,2026-03-05 12:00,2026-03-07 13:00,bad,
Z-6,{invoice},csat,ana@acme.test,2026-03-01 12:00,2026-03-05 10:00,1,
"""


def test_low_csat_and_ces_answers_of_any_source_are_alerts(template: Template, tmp_path: Path) -> None:
    db = tmp_path / "deskpulse.duckdb"
    shutil.copy(template.db, db)
    config_path = tmp_path / "deskpulse.toml"
    config_path.write_text(HELPDESK_TOML, encoding="utf-8")
    config = load_config(config_path)
    with Store.open(db) as store:
        ids = {subject: ticket for ticket, subject in store.execute("SELECT ticket_id, subject FROM tickets")}
        csv = tmp_path / "surveys.csv"
        csv.write_text(
            SURVEYS_CSV.format(
                invoice=ids["Invoice missing"],
                parcel=ids["Parcel late"],
                size=ids["Wrong size"],
                voucher=ids["Lost voucher"],
            ),
            encoding="utf-8",
        )
        load_surveys(store, csv, "UTC")
        found = detect_alerts(store, config, AlertsConfig(kinds=("low_survey_score",)), datetime(2026, 3, 7, 18))

    # Z-1: CSAT 1 ≤ 2. Z-2: CSAT 3, above. Z-3: CES 3 ≤ 3. Z-4: CES 4, above. Z-5: a good/bad survey's "bad", on
    # ben's ticket (no agent in the file: the ticket's assignee). Z-6: answered Thu 5 Mar, before the window.
    assert [alert.text for alert in found] == [
        f"Low CSAT 1/5 on {ids['Invoice missing']} “Invoice missing” (agent ana@acme.test): “Nobody <b>listened</b>”",
        f"Low CES 3/7 on {ids['Parcel late']} “Parcel late” (agent ben@acme.test)",
        f"Low CSAT bad on {ids['Lost voucher']} “Lost voucher” (agent ben@acme.test)",
    ]
    assert [alert.key for alert in found] == [
        "low_survey_score:Z-1@2026-03-07T10:00:00Z",
        "low_survey_score:Z-3@2026-03-07T11:00:00Z",
        "low_survey_score:Z-5@2026-03-07T13:00:00Z",
    ]
    assert [alert.subject for alert in found] == [ids["Invoice missing"], ids["Parcel late"], ids["Lost voucher"]]


def test_a_low_answer_after_the_last_mail_is_alerted_by_default(template: Template, tmp_path: Path) -> None:
    # The desk's last message is Sun 8 Mar 09:00. A customer answers CSAT 1 on Mon 9 Mar 10:00 and no mail comes
    # after it: "now" by default is that answer, so the run of that day alerts it.
    db = tmp_path / "deskpulse.duckdb"
    shutil.copy(template.db, db)
    config_path = tmp_path / "deskpulse.toml"
    config_path.write_text(HELPDESK_TOML, encoding="utf-8")
    config = load_config(config_path)
    with Store.open(db) as store:
        (ticket,) = [t for t, s in store.execute("SELECT ticket_id, subject FROM tickets") if s == "Invoice missing"]
        csv = tmp_path / "late.csv"
        csv.write_text(
            "survey_id,ticket_id,kind,agent,sent_at,answered_at,score,comment\n"
            f"LATE-1,{ticket},csat,ana@acme.test,2026-03-05 12:00,2026-03-09 10:00,1,\n",
            encoding="utf-8",
        )
        load_surveys(store, csv, "UTC")
        now = latest_activity(store)
        found = detect_alerts(store, config, AlertsConfig(kinds=("low_survey_score",)), now)  # type: ignore[arg-type]
    assert now == datetime(2026, 3, 9, 10, 0)
    assert [alert.key for alert in found] == ["low_survey_score:LATE-1@2026-03-09T10:00:00Z"]


def test_a_low_answer_on_the_survey_page_reaches_the_manager_by_the_digest(desk: Desk) -> None:
    desk.config.write_text(
        desk.config.read_text(encoding="utf-8")
        + f"""
[alerts]
kinds = ["low_survey_score"]

[alerts.email]
host = "127.0.0.1"
port = {desk.smtp.port}
user = "{SMTP_USER}"
password_env = "TEST_SURVEY_SMTP_PASSWORD"
from = "deskpulse <{SMTP_USER}>"
to = ["lead@acme.test"]
ca_file = "{desk.smtp.ca_file}"
""",
        encoding="utf-8",
    )
    desk.send("2026-03-05T12:00")
    carla = links(desk.mail_to("carla@example.org"))
    with httpx.Client() as client:
        client.post(carla["1"].split("?")[0], data={"csat": "1", "comment": "Still no invoice."})
    ticket = desk.surveys_rows()[-1]["ticket_id"]

    # The answer came in just now (the server's clock), so the run looks at the last 24 hours up to a minute ahead.
    now = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    run = json.loads(desk.cli("alerts", "run", "--now", now, "--format", "json"))
    assert [alert["kind"] for alert in run["new"]] == ["low_survey_score"]
    [digest] = [m for m in desk.smtp.messages if m.recipients == ["lead@acme.test"]]
    text = body_text(digest.message)
    assert "Low survey scores (1)" in text
    assert f"- Low CSAT 1/5 on {ticket} “Invoice missing” (agent ana@acme.test): “Still no invoice.”" in text
