"""The survey CSV loader: what a line becomes in the `surveys` table, and the errors that name line and field."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from deskpulse.inputs.csvfile import InputFileError
from deskpulse.inputs.surveys import load_surveys, read_surveys
from deskpulse.store import Store

HEADER = "survey_id,ticket_id,message_id,kind,agent,sent_at,delivered,answered_at,score,comment\n"


def write(tmp_path: Path, body: str, header: str = HEADER) -> Path:
    path = tmp_path / "surveys.csv"
    path.write_text(header + body, encoding="utf-8")
    return path


def test_a_line_becomes_a_row(tmp_path: Path) -> None:
    path = write(tmp_path, "S1,T-1,,CSAT,Ana@Acme.test,2026-03-02 10:00,,2026-03-02 11:30,4,Quick!\n")
    [row] = read_surveys(path, "Europe/Berlin")
    # Times without an offset are Berlin time: 10:00 and 11:30 CET are 09:00 and 10:30 UTC.
    assert row.survey_id == "S1@2026-03-02T10:30:00Z"  # an answer: the survey's id and the answer's time
    assert (row.ticket_id, row.message_id, row.kind, row.scale) == ("T-1", None, "csat", "1-5")
    assert row.agent == "ana@acme.test"
    assert (row.sent_at, row.answered_at) == (datetime(2026, 3, 2, 9, 0), datetime(2026, 3, 2, 10, 30))
    assert (row.delivered, row.score, row.comment, row.source) == (True, 4, "Quick!", str(path))


def test_binary_csat_answers_are_stored_on_the_ends_of_the_scale(tmp_path: Path) -> None:
    path = write(tmp_path, "S1,T-1,,csat,,,,2026-03-02T10:00Z,Good,\nS2,T-2,,csat,,,,2026-03-02T10:00Z,bad,\n")
    assert [(row.scale, row.score) for row in read_surveys(path, "UTC")] == [("good-bad", 5), ("good-bad", 1)]


def test_a_message_id_is_normalised_like_the_mail_header(tmp_path: Path) -> None:
    path = write(tmp_path, ",,<Abc.1@mail.example.org>,nps,,2026-03-02 10:00,,,,\n")
    [row] = read_surveys(path, "UTC")
    assert (row.ticket_id, row.message_id) == (None, "Abc.1@mail.example.org")
    # No survey id and no answer: a hash of ticket, kind and send time names the invitation.
    assert row.survey_id.startswith("sha1:") and "@" not in row.survey_id


def test_a_survey_answered_twice_keeps_both_rows_and_reloading_adds_nothing(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "S1,T-1,,ces,,2026-03-02 10:00,,,,\n"
        "S1,T-1,,ces,,2026-03-02 10:00,,2026-03-02 11:00,2,\n"
        "S1,T-1,,ces,,2026-03-02 10:00,,2026-03-03 09:00,6,changed my mind\n"
        ",T-2,,nps,,2026-03-02 10:00,,2026-03-02 11:00,9,\n",
    )
    with Store.open(None) as store:
        # The invitation, two answers to it, and an answer whose key is a hash: four rows.
        assert load_surveys(store, path, "UTC") == 4
        assert load_surveys(store, path, "UTC") == 0
        ids = sorted(key for (key,) in store.execute("SELECT survey_id FROM surveys"))
    assert ids[:3] == ["S1", "S1@2026-03-02T11:00:00Z", "S1@2026-03-03T09:00:00Z"]
    assert ids[3].startswith("sha1:") and ids[3].endswith("@2026-03-02T11:00:00Z")


def test_a_bad_file_stores_nothing(tmp_path: Path) -> None:
    path = write(tmp_path, "S1,T-1,,csat,,,,2026-03-02 11:00,4,\nS2,T-2,,csat,,,,2026-03-02 11:00,6,\n")
    with Store.open(None) as store:
        with pytest.raises(InputFileError):
            load_surveys(store, path, "UTC")
        assert store.count("surveys") == 0


@pytest.mark.parametrize(
    ("line", "message"),
    [
        # Scores outside each kind's scale, naming the scale.
        ("S1,T-1,,csat,,,,2026-03-02 11:00,6,", "field 'score': 6 is outside the csat scale: use 1–5 or good/bad"),
        ("S1,T-1,,csat,,,,2026-03-02 11:00,0,", "field 'score': 0 is outside the csat scale"),
        ("S1,T-1,,ces,,,,2026-03-02 11:00,8,", "field 'score': 8 is outside the ces scale: use 1–7"),
        ("S1,T-1,,nps,,,,2026-03-02 11:00,11,", "field 'score': 11 is outside the nps scale: use 0–10"),
        ("S1,T-1,,nps,,,,2026-03-02 11:00,-1,", "field 'score': -1 is outside the nps scale"),
        ("S1,T-1,,ces,,,,2026-03-02 11:00,good,", "field 'score': 'good' is not a ces score: use 1–7"),
        ("S1,T-1,,csat,,,,2026-03-02 11:00,4.5,", "field 'score': '4.5' is not a csat score: use 1–5 or good/bad"),
        ("S1,T-1,,nps,,,,2026-03-02 11:00,,", "field 'score': is required on an answer"),
        ("S1,T-1,,nps,,,,,9,", "field 'answered_at': is required on an answer"),
        # Timestamps.
        ("S1,T-1,,csat,,02.03.2026 10:00,,,,", "field 'sent_at': '02.03.2026 10:00' is not a timestamp"),
        ("S1,T-1,,csat,,,,yesterday,4,", "field 'answered_at': 'yesterday' is not a timestamp"),
        ("S1,T-1,,csat,,2026-03-02 10:00,,2026-03-02 09:00,4,", "field 'answered_at': 2026-03-02 09:00 UTC is before"),
        # Kind, ticket, agent, delivery.
        ("S1,T-1,,ceS2,,,,,,", "field 'kind': 'ces2' is not a survey kind; use one of csat, ces, nps"),
        ("S1,,,csat,,,,,,", "field 'ticket_id': is empty, and so is message_id"),
        ("S1,T-1,a@b.example,csat,,,,,,", "field 'message_id': is given beside ticket_id"),
        ("S1,,not-an-id,csat,,,,,,", "field 'message_id': 'not-an-id' is not one Message-ID"),
        ("S1,T-1,,csat,Ana,,,,,", "field 'agent': 'ana' is not an e-mail address"),
        ("S1,T-1,,csat,,,maybe,,,", "field 'delivered': 'maybe' is not true or false"),
        ("S1,T-1,,csat,,,false,2026-03-02 11:00,4,", "field 'delivered': is false, but the survey was answered"),
    ],
)
def test_errors_name_the_line_and_the_field(tmp_path: Path, line: str, message: str) -> None:
    path = write(tmp_path, line + "\n")
    with pytest.raises(InputFileError) as error:
        read_surveys(path, "UTC")
    assert str(error.value).startswith(f"{path}:2: {message}")


def test_an_unknown_column_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "S1,T-1,csat,5\n", header="survey_id,ticket_id,kind,rating\n")
    with pytest.raises(InputFileError, match=r":1: unknown column 'rating'; known columns: kind, survey_id"):
        read_surveys(path, "UTC")


def test_the_kind_column_is_required(tmp_path: Path) -> None:
    path = write(tmp_path, "S1,T-1,5\n", header="survey_id,ticket_id,score\n")
    with pytest.raises(InputFileError, match=r":1: missing column 'kind'"):
        read_surveys(path, "UTC")


def test_the_same_answer_twice_in_a_file_is_an_error(tmp_path: Path) -> None:
    # Two lines that would be one row: one of them is a mistake, and which one cannot be told.
    path = write(tmp_path, "S1,T-1,,csat,,,,2026-03-02 11:00,4,\nS1,T-1,,csat,,,,2026-03-02 11:00,2,\n")
    with pytest.raises(InputFileError, match=r":3: field 'survey_id': the same answer as line 2"):
        read_surveys(path, "UTC")


def test_an_answer_after_the_last_message_falls_in_its_own_month(tmp_path: Path) -> None:
    # One ticket in March; its customer answers the survey on 4 May, after the store's last message. The answer
    # counts in May (csat: 1 of 1 satisfied), not in a period the calendar does not know.
    from tests.mailbuilder import Mail, write_mbox

    from deskpulse.config import parse_config
    from deskpulse.ingest import ingest_paths
    from deskpulse.metrics.engine import KpiQuery, compute_kpis

    config = parse_config({"helpdesk": {"support_addresses": ["help@acme.test"], "agent_domains": ["acme.test"]}})
    mbox = write_mbox(
        tmp_path / "mail.mbox",
        [
            Mail("Carl <carl@customer.example>", "help@acme.test", "Invoice", "2026-03-02 09:00", message_id="q@c"),
            Mail(
                "Ana <ana@acme.test>",
                "carl@customer.example",
                "Re: Invoice",
                "2026-03-02 10:00",
                message_id="a@acme.test",
                in_reply_to="q@c",
            ),
        ],
    )
    with Store.open(None) as store:
        ingest_paths(store, config, [mbox])
        (ticket,) = [row[0] for row in store.execute("SELECT ticket_id FROM tickets")]
        load_surveys(store, write(tmp_path, f"S1,{ticket},,csat,ana@acme.test,,,2026-05-04 08:00,5,\n"), "UTC")
        rows = compute_kpis(store, config, KpiQuery(metrics=["csat"], period="month")).rows
    by_month = {row["period"]: row["csat"] for row in rows}
    assert by_month["2026-05"]["n"] == 1 and by_month["2026-05"]["value"] == 1.0
    assert None not in by_month
