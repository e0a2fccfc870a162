"""The `deskpulse` command line on a small help desk whose every number is worked out below.

The help desk: help@acme.test, agents at acme.test, reporting timezone UTC, business hours Mon–Fri 09:00–17:00
UTC. Every message arrives inside business hours on a weekday, so business durations equal calendar ones.

    ticket   customer  created (UTC)          first reply              first response time
    login    Carla     Mon 2026-01-12 10:00   Ana 11:00                3,600 s
    invoice  Bob       Tue 2026-02-03 09:00   Ben 11:00                7,200 s
    parcel   Dora      Wed 2026-02-04 10:00   none: open, unreplied    –
    refund   Carla     Thu 2026-02-05 14:00   Ana 14:30                1,800 s

Over all tickets: 4 created, 1 unreplied; first response times 1,800 · 3,600 · 7,200 s, so median 3,600,
mean 12,600 / 3 = 4,200, and p90 (linear interpolation, like numpy's default) at rank 0.9 × 2 = 1.8:
3,600 + 0.8 × 3,600 = 6,480; n 3, open 1 (the parcel).

Global options come before the command: ``deskpulse --config PATH --db PATH COMMAND``. Errors meant for the
user are checked through the installed entry point (`deskpulse.cli:main`), which turns them into one line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.mailbuilder import Mail, write_mbox
from typer.testing import CliRunner, Result

from deskpulse.cli import app
from deskpulse.metrics.catalog import CATALOG, DURATION

HELP = "help@acme.test"
CARLA = "Carla Customer <carla@example.org>"
BOB = "Bob Buyer <bob@example.com>"
DORA = "Dora Doe <dora@example.net>"
ANA = "Ana Agent <ana@acme.test>"
BEN = "Ben Agent <ben@acme.test>"

CONFIG_TOML = """\
[helpdesk]
support_addresses = ["help@acme.test"]
agent_domains = ["acme.test"]
timezone = "UTC"

[business_hours]
timezone = "UTC"
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"
"""


def reply(sender: str, to: str, subject: str, at: str, own_id: str, parent_id: str) -> Mail:
    return Mail(sender, to, f"Re: {subject}", at, message_id=own_id, in_reply_to=parent_id, references=[parent_id])


MAILS = [
    Mail(CARLA, HELP, "Cannot log in", "2026-01-12 10:00", message_id="login-1@example.org"),
    reply(ANA, "carla@example.org", "Cannot log in", "2026-01-12 11:00", "login-2@acme.test", "login-1@example.org"),
    Mail(BOB, HELP, "Invoice is wrong", "2026-02-03 09:00", message_id="invoice-1@example.com"),
    reply(
        BEN, "bob@example.com", "Invoice is wrong", "2026-02-03 11:00", "invoice-2@acme.test", "invoice-1@example.com"
    ),
    Mail(DORA, HELP, "Parcel never arrived", "2026-02-04 10:00", message_id="parcel-1@example.net"),
    Mail(CARLA, HELP, "Refund please", "2026-02-05 14:00", message_id="refund-1@example.org"),
    reply(ANA, "carla@example.org", "Refund please", "2026-02-05 14:30", "refund-2@acme.test", "refund-1@example.org"),
]

DURATION_FIELDS = {"value", "median", "p90", "mean", "n", "open"}

runner = CliRunner()


@dataclass(frozen=True)
class Helpdesk:
    folder: Path
    config: Path
    db: Path
    mbox: Path
    first_ingest: Result


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory) -> Helpdesk:
    folder = tmp_path_factory.mktemp("helpdesk")
    config = folder / "deskpulse.toml"
    config.write_text(CONFIG_TOML, encoding="utf-8")
    mbox = write_mbox(folder / "support.mbox", MAILS)
    db = folder / "deskpulse.duckdb"
    first_ingest = runner.invoke(app, ["--config", str(config), "--db", str(db), "ingest", str(mbox)])
    assert first_ingest.exit_code == 0, first_ingest.output
    return Helpdesk(folder, config, db, mbox, first_ingest)


def deskpulse(helpdesk: Helpdesk, *args: str) -> Result:
    result = runner.invoke(app, ["--config", str(helpdesk.config), "--db", str(helpdesk.db), *args])
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result


def kpis_json(helpdesk: Helpdesk, *args: str) -> dict[str, Any]:
    document = json.loads(deskpulse(helpdesk, "kpis", "--format", "json", *args).stdout)
    assert isinstance(document, dict)
    return document


def one_line(text: str) -> str:
    """Rich wraps long lines to the terminal width; a summary is one sentence however it is wrapped."""
    return " ".join(text.split())


def run_deskpulse(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed `deskpulse` entry point, in a plain 80-column, non-interactive terminal."""
    script = Path(sys.executable).with_name("deskpulse")
    command = [str(script)] if script.exists() else [sys.executable, "-c", "from deskpulse.cli import main; main()"]
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1", "TERM": "dumb"}
    return subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def assert_user_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    """Exit code 2, nothing on stdout, one line on stderr that starts with "error:" and says what is wrong."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]


# ---------------------------------------------------------------------------------------------------------
# ingest


def test_ingest_prints_the_summary_line(helpdesk: Helpdesk) -> None:
    summary = one_line(helpdesk.first_ingest.stdout)
    assert "Read 7 messages" in summary
    assert "stored 7, duplicates 0, quarantined 0, stored with repairs 0. Tickets: 4." in summary


def test_ingest_again_stores_nothing(helpdesk: Helpdesk) -> None:
    summary = one_line(deskpulse(helpdesk, "ingest", str(helpdesk.mbox)).stdout)
    assert "stored 0, duplicates 7, quarantined 0, stored with repairs 0. Tickets: 4." in summary


def test_load_stores_time_entries_once_and_rebuild_keeps_the_numbers(helpdesk: Helpdesk) -> None:
    entries = helpdesk.folder / "time_entries.csv"
    entries.write_text(
        "message_id,agent,started_at,minutes\n"
        "<login-1@example.org>,ana@acme.test,2026-01-12 10:30,20\n"
        "<invoice-1@example.com>,ana@acme.test,2026-02-03 09:30,40\n",
        encoding="utf-8",
    )
    assert "2 new time entries stored" in one_line(deskpulse(helpdesk, "load", "time-entries", str(entries)).stdout)
    assert "0 new time entries stored" in one_line(deskpulse(helpdesk, "load", "time-entries", str(entries)).stdout)
    # Two tickets worked on, 20 and 40 minutes: 30 minutes per ticket over the whole store.
    [row] = kpis_json(helpdesk, "--metrics", "handle_time", "--period", "all")["rows"]
    assert (row["handle_time"]["value"], row["handle_time"]["n"]) == (1800, 2)
    before = kpis_json(helpdesk, "--metrics", "all", "--period", "month")
    assert "Rebuilt 4 tickets" in one_line(deskpulse(helpdesk, "rebuild").stdout)
    assert kpis_json(helpdesk, "--metrics", "all", "--period", "month") == before


def test_a_bad_survey_file_names_line_and_field_and_stores_nothing(helpdesk: Helpdesk) -> None:
    surveys = helpdesk.folder / "surveys.csv"
    surveys.write_text(
        "message_id,kind,answered_at,score\n"
        "<login-1@example.org>,csat,2026-01-13 10:00,5\n"
        "<invoice-1@example.com>,csat,2026-02-04 10:00,9\n",
        encoding="utf-8",
    )
    result = run_deskpulse(
        "--config", str(helpdesk.config), "--db", str(helpdesk.db), "load", "surveys", str(surveys), cwd=helpdesk.folder
    )
    assert_user_error(result, "surveys.csv:3", "score")
    [row] = kpis_json(helpdesk, "--metrics", "csat", "--period", "all")["rows"]
    assert row["csat"]["n"] == 0  # line 2 was fine, and still nothing of the file was stored


# ---------------------------------------------------------------------------------------------------------
# kpis --format json: the contract of spec §4


def test_kpis_json_has_exactly_the_keys_of_spec_section_4(helpdesk: Helpdesk) -> None:
    document = kpis_json(helpdesk, "--period", "month", "--by", "agent")

    # Spec §4's four keys, and `left_out`: how many tickets no metric counts, and why (spec §1.8).
    assert set(document) == {"timezone", "group_by", "metrics", "rows", "left_out"}
    assert all(isinstance(count, int) for count in document["left_out"].values())
    assert document["timezone"] == "UTC"
    assert document["group_by"] == ["period", "agent"]
    assert list(document["metrics"]) == [
        "tickets_created",
        "unreplied_tickets",
        "first_response_time",
        "first_response_time_business",
    ]
    for entry in document["metrics"].values():
        assert set(entry) == {"unit", "better", "label"}
    assert document["metrics"]["first_response_time"] == {
        "unit": "seconds",
        "better": "lower",
        "label": "First response time",
    }
    assert document["rows"]
    for row in document["rows"]:
        assert set(row) == {"period", "agent", *document["metrics"]}
        for metric_id, entry in document["metrics"].items():
            assert {"value", "n"} <= set(row[metric_id]), metric_id
            if entry["unit"] == "seconds":
                assert set(row[metric_id]) == DURATION_FIELDS
                assert row[metric_id]["value"] == row[metric_id]["median"]  # a duration's headline is its median


def test_count_metrics_carry_value_and_n(helpdesk: Helpdesk) -> None:
    # Spec §4: "Every metric in a row is an object with `value` … and `n`; durations add `median`, `p90`,
    # `mean`, `open`." Spec §3 asks for unreplied tickets "with age": that metric adds its median and
    # maximum age (seconds) and nothing else.
    document = kpis_json(helpdesk, "--period", "all")
    counts = [m for m, entry in document["metrics"].items() if entry["unit"] == "tickets"]
    assert counts
    for metric_id in counts:
        extra = {"median_age", "max_age"} if metric_id == "unreplied_tickets" else set()
        assert set(document["rows"][0][metric_id]) == {"value", "n"} | extra, metric_id


def test_period_all_without_by_gives_one_row_over_every_ticket(helpdesk: Helpdesk) -> None:
    document = kpis_json(helpdesk, "--period", "all")

    assert document["group_by"] == []
    [row] = document["rows"]
    assert set(row) == set(document["metrics"])
    assert (row["tickets_created"]["value"], row["tickets_created"]["n"]) == (4, 4)
    assert row["unreplied_tickets"]["value"] == 1  # the parcel
    # See the module docstring: 1,800 · 3,600 · 7,200 s.
    expected = {"value": 3600.0, "median": 3600.0, "p90": 6480.0, "mean": 4200.0, "n": 3, "open": 1}
    assert row["first_response_time"] == pytest.approx(expected)
    assert row["first_response_time_business"] == pytest.approx(expected)  # all inside business hours


def test_by_agent_credits_the_agent_who_sent_the_first_reply(helpdesk: Helpdesk) -> None:
    document = kpis_json(helpdesk, "--period", "all", "--by", "agent")

    assert document["group_by"] == ["agent"]
    rows = {row["agent"]: row for row in document["rows"]}
    assert list(rows) == ["ana@acme.test", "ben@acme.test", None]  # unreplied tickets have no agent; last
    # Ana: login 3,600 s and refund 1,800 s → median 2,700. Ben: invoice 7,200 s.
    assert rows["ana@acme.test"]["tickets_created"]["value"] == 2
    assert rows["ana@acme.test"]["first_response_time"]["median"] == 2700.0
    assert rows["ana@acme.test"]["first_response_time"]["n"] == 2
    assert rows["ben@acme.test"]["first_response_time"]["median"] == 7200.0
    # The parcel: created, unreplied, no first response yet — "value": null, "n": 0, still open.
    assert rows[None]["tickets_created"]["value"] == 1
    assert rows[None]["unreplied_tickets"]["value"] == 1
    empty = {"value": None, "median": None, "p90": None, "mean": None, "n": 0, "open": 1}
    assert rows[None]["first_response_time"] == empty


def test_period_month_is_the_default(helpdesk: Helpdesk) -> None:
    document = kpis_json(helpdesk)

    assert document["group_by"] == ["period"]
    rows = {row["period"]: row for row in document["rows"]}
    assert list(rows) == ["2026-01", "2026-02"]
    assert rows["2026-01"]["tickets_created"]["value"] == 1
    assert rows["2026-02"]["tickets_created"]["value"] == 3
    # February's replies: 7,200 and 1,800 s → median 4,500; the parcel is open.
    assert rows["2026-02"]["first_response_time"]["median"] == 4500.0
    assert (rows["2026-02"]["first_response_time"]["n"], rows["2026-02"]["first_response_time"]["open"]) == (2, 1)


def test_since_and_until_keep_the_local_days_in_between(helpdesk: Helpdesk) -> None:
    document = kpis_json(helpdesk, "--period", "all", "--since", "2026-02-01", "--until", "2026-02-04")

    [row] = document["rows"]
    # Created 1–4 February: the invoice (3rd) and the parcel (4th); the refund (5th) and login (January) are out.
    assert row["tickets_created"]["value"] == 2
    # Replies 1–4 February: Ben's to the invoice.
    assert (row["first_response_time"]["median"], row["first_response_time"]["n"]) == (7200.0, 1)


def test_metrics_all_lists_every_catalog_metric(helpdesk: Helpdesk) -> None:
    document = kpis_json(helpdesk, "--period", "all", "--metrics", "all")
    assert list(document["metrics"]) == [metric.id for metric in CATALOG]
    assert set(document["rows"][0]) == {metric.id for metric in CATALOG}


def test_metrics_picks_the_metrics_in_the_order_asked(helpdesk: Helpdesk) -> None:
    document = kpis_json(helpdesk, "--period", "all", "--metrics", "first_response_time,tickets_created")
    assert list(document["metrics"]) == ["first_response_time", "tickets_created"]
    assert list(document["rows"][0]) == ["first_response_time", "tickets_created"]


def test_kpis_csv_has_a_column_per_metric_field(helpdesk: Helpdesk) -> None:
    output = deskpulse(helpdesk, "kpis", "--format", "csv").stdout
    records = list(csv.DictReader(io.StringIO(output)))

    header = output.splitlines()[0].split(",")
    assert header[:3] == ["period", "tickets_created.value", "tickets_created.n"]
    for metric in CATALOG:
        if metric.kind == DURATION and metric.id in {h.split(".")[0] for h in header}:
            assert {f"{metric.id}.{field}" for field in DURATION_FIELDS} <= set(header)
    assert [(r["period"], r["tickets_created.value"], r["first_response_time.median"]) for r in records] == [
        ("2026-01", "1", "3600.0"),
        ("2026-02", "3", "4500.0"),
    ]


def test_kpis_table_is_the_default_format(helpdesk: Helpdesk) -> None:
    output = deskpulse(helpdesk, "kpis").stdout
    assert "2026-01" in output and "2026-02" in output


# ---------------------------------------------------------------------------------------------------------
# tickets


def test_tickets_sorted_by_first_response_time_descending(helpdesk: Helpdesk) -> None:
    output = deskpulse(
        helpdesk, "tickets", "--sort", "first_response_time", "--desc", "--limit", "3", "--format", "json"
    )
    records = json.loads(output.stdout)

    # Slowest first; the unanswered parcel has no first response time, so it sorts last and the limit cuts it.
    assert [(r["subject"], r["first_response_time"]) for r in records] == [
        ("Invoice is wrong", 7200.0),
        ("Cannot log in", 3600.0),
        ("Refund please", 1800.0),
    ]
    # Every derived timestamp is in the row, so any aggregate can be recomputed from the export.
    invoice = records[0]
    assert invoice["created_at"] == invoice["first_customer_at"] == "2026-02-03T09:00:00"
    assert invoice["first_reply_at"] == "2026-02-03T11:00:00"
    assert (invoice["first_reply_agent"], invoice["replies"]) == ("ben@acme.test", 1)
    assert invoice["first_response_time_business"] == 7200.0


# ---------------------------------------------------------------------------------------------------------
# demo


def test_demo_generates_imports_and_prints_a_scorecard(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    result = runner.invoke(app, ["demo", "--tickets", "40", "--dir", str(folder)])

    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    assert "Volume and first response per week" in result.stdout
    assert "Per agent" in result.stdout
    # The balanced scorecard of the demo's config: speed beside outcomes, satisfaction, workload and cost.
    assert "Scorecard, week 2026-W" in result.stdout
    labels = ("First response time (business hours)", "One-touch rate", "Reopen rate", "CSAT", "Utilization", "Cost")
    for label in labels:
        assert label in result.stdout
    # The files a team provides beside the mailbox, and the tracked work and survey answers it loaded.
    assert {p.name for p in folder.iterdir()} >= {
        "demo.mbox",
        "deskpulse.toml",
        "deskpulse.duckdb",
        "agents.csv",
        "schedules.csv",
        "costs.csv",
        "sla.toml",
        "time_entries.csv",
        "surveys.csv",
    }
    assert "time entries" in result.stdout and "survey rows" in result.stdout
    # What it imported answers the usual commands.
    store_options = ["--config", str(folder / "deskpulse.toml"), "--db", str(folder / "deskpulse.duckdb")]
    kpis = runner.invoke(app, [*store_options, "kpis", "--period", "all", "--format", "json"])
    assert kpis.exit_code == 0, kpis.output
    document = json.loads(kpis.stdout)
    assert document["timezone"] == "Europe/Berlin"
    assert document["rows"][0]["tickets_created"]["value"] >= 40


# ---------------------------------------------------------------------------------------------------------
# Errors: one line, exit code 2, no traceback


def test_an_unknown_metric_is_a_clear_error(helpdesk: Helpdesk) -> None:
    result = run_deskpulse(
        "--config", "deskpulse.toml", "--db", "deskpulse.duckdb", "kpis", "--metrics", "frt", cwd=helpdesk.folder
    )
    assert_user_error(result, "unknown metric frt", "first_response_time")


def test_kpis_on_a_missing_store_says_to_ingest_first(tmp_path: Path) -> None:
    result = run_deskpulse("--db", "missing.duckdb", "kpis", cwd=tmp_path)
    assert_user_error(result, "no store at missing.duckdb", "deskpulse ingest")
    assert not (tmp_path / "missing.duckdb").exists()  # reading never creates a store


def test_tickets_on_a_missing_store_says_to_ingest_first(tmp_path: Path) -> None:
    result = run_deskpulse("--db", "missing.duckdb", "tickets", cwd=tmp_path)
    assert_user_error(result, "no store at missing.duckdb")


def test_a_bad_date_is_a_usage_error(helpdesk: Helpdesk) -> None:
    result = runner.invoke(app, ["--db", str(helpdesk.db), "kpis", "--since", "2026-13-01"])
    assert result.exit_code == 2
    assert "'2026-13-01' is not a date like 2026-03-01" in one_line(result.output)
