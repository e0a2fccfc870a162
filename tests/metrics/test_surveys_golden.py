"""CSAT, CES, NPS, survey response rate and CSAT by exchanges on a hand-built mailbox and survey file.

The help desk: help@acme.test, agents at acme.test, reporting in Europe/Berlin (January 2026: UTC+1),
`guardrails.min_survey_answers = 4`. ISO weeks: Mon 5 Jan starts W02, Mon 12 Jan W03. All times are Berlin
local time, in the mail and in the survey file alike (the file's timestamps carry no offset).

An exchange is a customer wait cycle a human agent answered, counted up to the survey's sending. Each ticket's
surveys are listed in SURVEYS beside it; most name the ticket by one of its messages' Message-IDs, T3 by its
ticket id.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.mailbuilder import conversation, write_mbox

from deskpulse.config import Config, parse_config
from deskpulse.ingest import ingest_paths
from deskpulse.inputs.surveys import load_surveys
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.store import Store
from deskpulse.tickets import ticket_id_for

CONFIG = parse_config(
    {
        "helpdesk": {
            "support_addresses": ["help@acme.test"],
            "agent_domains": ["acme.test"],
            "timezone": "Europe/Berlin",
        },
        "guardrails": {"min_survey_answers": 4},
    }
)

ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"
HELP = "help@acme.test"


CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Driver <dora@example.net>"
ERIK = "Erik Engineer <erik@example.com>"
FAY = "Fay Farmer <fay@example.org>"
LEA = "Lea Lawyer <lea@example.org>"
HUGO = "Hugo Hiker <hugo@example.com>"
IDA = "Ida Islander <ida@example.org>"

MAILS = [
    # T1, one exchange (Carla 10:00 → Ana 10:30).
    *conversation(
        "t1",
        "Password reset",
        CARLA,
        ("2026-01-05 10:00", CARLA, "Hello,\n\nplease reset my password."),
        ("2026-01-05 10:30", ANA, "Hi Carla,\n\ndone, check your inbox."),
    ),
    # T2, two exchanges; its survey bounced.
    *conversation(
        "t2",
        "Export fails",
        BOB,
        ("2026-01-06 09:00", BOB, "Hello,\n\nthe export fails."),
        ("2026-01-06 09:30", BEN, "Hi Bob,\n\nplease try again now."),
        ("2026-01-06 11:00", BOB, "Unfortunately it still fails."),
        ("2026-01-06 14:00", BEN, "Hi Bob,\n\nfixed on our side."),
    ),
    # T3, one exchange; its survey was delivered and never answered.
    *conversation(
        "t3",
        "Invoice address",
        DORA,
        ("2026-01-07 09:00", DORA, "Hello,\n\nmy invoice shows the old address."),
        ("2026-01-07 10:00", ANA, "Hi Dora,\n\ncorrected, a new invoice is attached."),
    ),
    # T4, four exchanges before the survey (Ana once, then Ben three times): band "4+".
    *conversation(
        "t4",
        "Sync stopped",
        ERIK,
        ("2026-01-08 09:00", ERIK, "Hello,\n\nthe sync stopped."),
        ("2026-01-08 09:20", ANA, "Hi Erik,\n\nrestarted it for you."),
        ("2026-01-08 10:00", ERIK, "It stopped again."),
        ("2026-01-08 11:00", BEN, "Hi Erik,\n\nplease send us the log."),
        ("2026-01-08 12:00", ERIK, "Here is the log."),
        ("2026-01-08 13:00", BEN, "Hi Erik,\n\nplease update the client."),
        ("2026-01-08 13:30", ERIK, "Updated, but the sync still stops."),
        ("2026-01-08 13:45", BEN, "Hi Erik,\n\nreplaced the connector, it's stable now."),
    ),
    # T5, one exchange, answered by Ana while Ben (assigned) was away: the survey credits Ben.
    *conversation(
        "t5",
        "Add a user",
        FAY,
        ("2026-01-09 09:00", FAY, "Hello,\n\nplease add a user to our account."),
        ("2026-01-09 09:30", ANA, "Hi Fay,\n\nadded."),
    ),
    # T6, three exchanges before the survey (Mon 12 Jan 11:00) and a fourth after it: band "3".
    *conversation(
        "t6",
        "API key",
        LEA,
        ("2026-01-12 09:00", LEA, "Hello,\n\nmy API key is rejected."),
        ("2026-01-12 09:10", BEN, "Hi Lea,\n\nplease create a new one."),
        ("2026-01-12 09:20", LEA, "That did not work."),
        ("2026-01-12 09:30", BEN, "Hi Lea,\n\ntry the v2 endpoint."),
        ("2026-01-12 09:40", LEA, "Still no luck, same error."),
        ("2026-01-12 09:50", BEN, "Hi Lea,\n\nyour key had expired; renewed."),
        ("2026-01-13 10:00", LEA, "Now the old key is rejected by our second app."),
        ("2026-01-13 10:30", BEN, "Hi Lea,\n\nplease use the new key there too."),
    ),
    # T7, one exchange; CES and NPS surveys only.
    *conversation(
        "t7",
        "Change plan",
        HUGO,
        ("2026-01-13 09:00", HUGO, "Hello,\n\nplease move us to the yearly plan."),
        ("2026-01-13 10:00", ANA, "Hi Hugo,\n\ndone."),
    ),
    # T8, two exchanges.
    *conversation(
        "t8",
        "Refund missing",
        IDA,
        ("2026-01-14 09:00", IDA, "Hello,\n\nwhere is my refund?"),
        ("2026-01-14 09:30", BEN, "Hi Ida,\n\nit was issued yesterday."),
        ("2026-01-14 10:00", IDA, "It has not arrived on my card."),
        ("2026-01-14 11:00", BEN, "Hi Ida,\n\nthe bank needs two more days; here is the reference."),
    ),
]

T3_TICKET = ticket_id_for("t3-1@example.net")  # a ticket's id: the hash of its first message's key

SURVEYS = f"""\
survey_id,ticket_id,message_id,kind,agent,sent_at,delivered,answered_at,score,comment
S1,,<t1-1@example.org>,csat,ana@acme.test,2026-01-05 11:00,,2026-01-05 12:00,2,Took a while
S1,,<t1-1@example.org>,csat,ana@acme.test,2026-01-05 11:00,,2026-01-12 09:00,5,Works now
S1-ces,,t1-2@acme.test,ces,ana@acme.test,2026-01-05 11:00,,2026-01-05 13:00,3,
S1-nps,,t1-2@acme.test,nps,ana@acme.test,2026-01-05 11:00,,2026-01-05 13:00,6,
S2,,t2-1@example.com,csat,ben@acme.test,2026-01-06 15:00,false,,,
S3,{T3_TICKET},,csat,ana@acme.test,2026-01-07 11:00,yes,,,
S4,,t4-8@acme.test,csat,ben@acme.test,2026-01-08 14:00,,2026-01-08 15:00,bad,
S5,,t5-2@acme.test,csat,ben@acme.test,2026-01-09 10:00,,2026-01-09 11:00,4,
S5-nps,,t5-2@acme.test,nps,ben@acme.test,2026-01-09 10:00,,2026-01-09 11:30,7,
S6,,t6-1@example.org,csat,,2026-01-12 11:00,,2026-01-13 09:00,3,
S6-nps,,t6-1@example.org,nps,,2026-01-12 11:00,,2026-01-13 09:05,10,
S7-ces,,t7-1@example.com,ces,ana@acme.test,2026-01-13 11:00,,2026-01-13 12:00,6,
,,t7-1@example.com,nps,ana@acme.test,,,2026-01-14 09:00,9,From the relationship survey
S8,,t8-4@acme.test,csat,ben@acme.test,2026-01-14 12:00,,2026-01-15 09:00,good,
S9,,lost-1@example.org,csat,ana@acme.test,2026-01-14 12:00,,2026-01-14 13:00,1,
"""
# Line by line:
# - S1 (T1) answered twice: 2 on Mon 5 Jan, then 5 on Mon 12 Jan. The latest wins: one answer, 5, placed in
#   W03 (12 Jan), not W02. Credited to Ana. T1 also has CES 3 and NPS 6 (a detractor).
# - S2 (T2) bounced: no answer, and T2 is left out of the response rate.
# - S3 (T3, named by ticket id) was delivered and never answered.
# - S4 (T4) a binary answer, "bad" (stored as 1): not satisfied; not in the 1–5 mean. Ben; 4 exchanges → "4+".
# - S5 (T5) 4: satisfied, credited to Ben, who was assigned, though Ana sent the only reply. NPS 7 (passive).
# - S6 (T6) 3: not satisfied. No agent given: the ticket's assignee, Ben (its latest reply). 3 exchanges before
#   the survey went out (the 4th came a day later) → "3". NPS 10 (promoter).
# - S7 (T7) CES 6; an NPS answer of 9 (promoter) without survey id or send time (answer-only export rows).
# - S8 (T8) a binary "good" (stored as 5): satisfied. Ben; 2 exchanges → "2".
# - S9 names a message not in the store: it counts nowhere.
#
# CSAT, latest answer per ticket: T1 5 ✓, T4 bad ✗, T5 4 ✓, T6 3 ✗, T8 good ✓ → 3 / 5 = 0.6; n = 5 ≥ 4, conclusive.
# csat_mean, 1–5 answers only: T1 5, T5 4, T6 3 → 12 / 3 = 4.0; n = 3 < 4, inconclusive.
# CES: T1 3, T7 6 → mean 4.5; easy (5–7): T7 → 1 / 2. n = 2, inconclusive.
# NPS points: T1 −1, T5 0, T6 +1, T7 +1 → 1 / 4 = 0.25 (= 2/4 promoters − 1/4 detractors).
# Response rate, tickets with a delivered survey: T1, T3, T4, T5, T6, T7, T8 (T2 bounced); answered: all but
#   T3 → 6 / 7. Not a survey score: never inconclusive.
# CSAT by exchanges: "1" T1 ✓, T5 ✓ → 2 / 2; "2" T8 ✓ → 1 / 1; "3" T6 ✗ → 0 / 1; "4+" T4 ✗ → 0 / 1.


def build_scenario(store: Store, directory: Path) -> Config:
    """The mailbox and the survey file, loaded into ``store``: the engine tests compute every metric on it."""
    mbox = write_mbox(directory / "support.mbox", MAILS, "Europe/Berlin")
    ingest_paths(store, CONFIG, [mbox])
    surveys = directory / "surveys.csv"
    surveys.write_text(SURVEYS, encoding="utf-8")
    load_surveys(store, surveys, CONFIG.helpdesk.timezone)
    return CONFIG


SURVEY_METRICS = ["csat", "csat_mean", "ces", "ces_easy_rate", "nps", "survey_response_rate", "csat_by_exchange"]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    directory = tmp_path_factory.mktemp("surveys")
    store = Store.open(directory / "deskpulse.duckdb")
    build_scenario(store, directory)
    return store


def _value_and_n(result: dict[str, object]) -> tuple[object, object]:
    return result["value"], result["n"]


def test_every_line_of_the_file_is_stored(store: Store) -> None:
    # 15 lines, S1 twice (two answers to one survey), all kept; the latest-answer rule belongs to the metrics.
    assert store.count("surveys") == 15


def test_whole_period(store: Store) -> None:
    [row] = compute_kpis(store, CONFIG, KpiQuery(SURVEY_METRICS, period="all")).rows
    assert _value_and_n(row["csat"]) == (0.6, 5)
    assert row["csat"]["inconclusive"] is False
    assert row["csat_mean"] == {"value": 4.0, "n": 3, "inconclusive": True}
    assert row["ces"] == {"value": 4.5, "n": 2, "inconclusive": True}
    assert _value_and_n(row["ces_easy_rate"]) == (0.5, 2)
    assert row["nps"] == {"value": 0.25, "n": 4, "inconclusive": False}
    assert _value_and_n(row["survey_response_rate"]) == (6 / 7, 7)
    assert "inconclusive" not in row["survey_response_rate"]
    by_exchange = row["csat_by_exchange"]
    assert _value_and_n(by_exchange) == (0.6, 5)  # the whole: the same as csat
    bands = {band: _value_and_n(result) for band, result in by_exchange["by_exchanges"].items()}
    assert bands == {"1": (1.0, 2), "2": (1.0, 1), "3": (0.0, 1), "4+": (0.0, 1)}
    # Each band is judged on its own sample: at most 2 answers, below the 4 needed.
    assert [result["inconclusive"] for result in by_exchange["by_exchanges"].values()] == [True] * 4


def test_answers_are_credited_to_the_agent_assigned_when_the_survey_went_out(store: Store) -> None:
    result = compute_kpis(store, CONFIG, KpiQuery(["csat", "survey_response_rate"], period="all", by=["agent"]))
    rows = {row["agent"]: row for row in result.rows}
    assert sorted(rows) == ["ana@acme.test", "ben@acme.test"]
    # Ana: T1 ✓ → 1 / 1. Ben: T4 ✗, T5 ✓ (Ana replied; Ben was assigned), T6 ✗ (his by assignment), T8 ✓ → 2 / 4.
    assert _value_and_n(rows["ana@acme.test"]["csat"]) == (1.0, 1)
    assert _value_and_n(rows["ben@acme.test"]["csat"]) == (0.5, 4)
    # Response rate: Ana sent T1 ✓, T3 ✗, T7 ✓ → 2 / 3; Ben T4, T5, T6, T8, all answered → 4 / 4.
    assert _value_and_n(rows["ana@acme.test"]["survey_response_rate"]) == (2 / 3, 3)
    assert _value_and_n(rows["ben@acme.test"]["survey_response_rate"]) == (1.0, 4)


def test_answers_are_placed_by_their_answer_and_response_rate_by_sending(store: Store) -> None:
    result = compute_kpis(store, CONFIG, KpiQuery(["csat", "nps", "survey_response_rate"], period="week"))
    rows = {row["period"]: row for row in result.rows}
    assert sorted(rows) == ["2026-W02", "2026-W03"]
    # W02 (5–11 Jan): T4 ✗ (8 Jan), T5 ✓ (9 Jan) → 1 / 2. T1's answer of 5 Jan was replaced by its 12 Jan one.
    # W03 (12–18 Jan): T1 ✓ (12 Jan), T6 ✗ (13 Jan), T8 ✓ (15 Jan) → 2 / 3.
    assert _value_and_n(rows["2026-W02"]["csat"]) == (0.5, 2)
    assert _value_and_n(rows["2026-W03"]["csat"]) == (2 / 3, 3)
    # NPS: W02 T1 −1 (5 Jan), T5 0 (9 Jan) → −0.5; W03 T6 +1, T7 +1 → 1.0.
    assert _value_and_n(rows["2026-W02"]["nps"]) == (-0.5, 2)
    assert _value_and_n(rows["2026-W03"]["nps"]) == (1.0, 2)
    # Sent in W02: T1 ✓, T3 ✗, T4 ✓, T5 ✓ → 3 / 4; in W03: T6, T7, T8 → 3 / 3. T1's answer came in W03 and
    # still counts for W02, where it was asked.
    assert _value_and_n(rows["2026-W02"]["survey_response_rate"]) == (0.75, 4)
    assert _value_and_n(rows["2026-W03"]["survey_response_rate"]) == (1.0, 3)


def test_reloading_the_file_adds_nothing(store: Store, tmp_path: Path) -> None:
    again = tmp_path / "surveys.csv"
    again.write_text(SURVEYS, encoding="utf-8")
    assert load_surveys(store, again, CONFIG.helpdesk.timezone) == 0
    assert store.count("surveys") == 15


def test_an_answer_arriving_later_is_added_and_becomes_the_latest(tmp_path: Path) -> None:
    with Store.open(tmp_path / "deskpulse.duckdb") as store:
        build_scenario(store, tmp_path)
        later = tmp_path / "later.csv"
        # T6's customer changes her mind on Fri 16 Jan: 3 → 5. One new row; T6 is now satisfied.
        later.write_text(
            "survey_id,message_id,kind,sent_at,answered_at,score\n"
            "S6,t6-1@example.org,csat,2026-01-12 11:00,2026-01-16 08:00,5\n",
            encoding="utf-8",
        )
        assert load_surveys(store, later, CONFIG.helpdesk.timezone) == 1
        [row] = compute_kpis(store, CONFIG, KpiQuery(["csat", "csat_by_exchange"], period="all")).rows
        # T1 ✓, T4 ✗, T5 ✓, T6 ✓, T8 ✓ → 4 / 5; band "3" (T6) now 1 / 1.
        assert _value_and_n(row["csat"]) == (0.8, 5)
        assert _value_and_n(row["csat_by_exchange"]["by_exchanges"]["3"]) == (1.0, 1)
