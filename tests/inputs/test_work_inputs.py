"""Time entries, schedules.csv and costs.csv: what a line becomes, and the errors that name line and field."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

from deskpulse.inputs.costs import daily_costs, read_costs
from deskpulse.inputs.csvfile import InputFileError
from deskpulse.inputs.schedules import read_schedules, schedule_days
from deskpulse.inputs.time_entries import load_time_entries, read_time_entries
from deskpulse.store import Store

TICKET = "T-0123456789ab"
ENTRIES_HEADER = "entry_id,ticket_id,message_id,agent,started_at,seconds,minutes,billable\n"
SCHEDULES_HEADER = "agent,valid_from,mon,tue,wed,thu,fri,sat,sun,available_share\n"
COSTS_HEADER = "month,category,amount\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def entries(tmp_path: Path, body: str, header: str = ENTRIES_HEADER) -> Path:
    return write(tmp_path, "time_entries.csv", header + body)


def test_a_time_entry_line_becomes_a_row(tmp_path: Path) -> None:
    path = entries(tmp_path, "W-1,t-0123456789AB,,Ana@Acme.test,2026-03-02 10:00,,7.5,yes\n")
    [entry] = read_time_entries(path, "Europe/Berlin")
    # 10:00 Berlin (winter time) is 09:00 UTC; 7.5 minutes are 450 seconds; the ticket id is put in its own case.
    assert (entry.entry_id, entry.ticket_id, entry.message_id) == ("W-1", TICKET, None)
    assert (entry.agent, entry.started_at, entry.seconds) == ("ana@acme.test", datetime(2026, 3, 2, 9, 0), 450)
    assert (entry.billable, entry.source) == (True, str(path))


def test_a_message_id_names_the_ticket_and_a_hash_names_the_entry(tmp_path: Path) -> None:
    path = entries(tmp_path, ",,<Abc.1@mail.example.org>,ana@acme.test,2026-03-02T10:00:00Z,600,,\n")
    [entry] = read_time_entries(path, "Europe/Berlin")
    assert (entry.ticket_id, entry.message_id, entry.billable) == (None, "Abc.1@mail.example.org", None)
    assert entry.entry_id.startswith("sha1:")


def test_loading_again_adds_nothing(tmp_path: Path) -> None:
    path = entries(
        tmp_path,
        f"W-1,{TICKET},,ana@acme.test,2026-03-02 10:00,600,,\n,{TICKET},,ben@acme.test,2026-03-02 11:00,300,,\n",
    )
    with Store.open(None) as store:
        assert load_time_entries(store, path, "UTC") == 2
        # The same lines in another file: known by their id, or by the hash of their content.
        again = write(tmp_path, "copy.csv", path.read_text(encoding="utf-8"))
        assert load_time_entries(store, again, "UTC") == 0
        # A changed duration is another entry when the line has no id of its own.
        changed = entries(tmp_path, f",{TICKET},,ben@acme.test,2026-03-02 11:00,360,,\n")
        assert load_time_entries(store, changed, "UTC") == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"W-1,{TICKET},,ana@acme.test,2026-03-02 10:00,-60,,\n", "time_entries.csv:2: field 'seconds': '-60' must "),
        (
            f"W-1,{TICKET},,ana@acme.test,2026-03-02 10:00,,,\n",
            "time_entries.csv:2: field 'seconds': and minutes are both empty",
        ),
        (
            f"W-1,{TICKET},,ana@acme.test,2026-03-02 10:00,60,1,\n",
            "time_entries.csv:2: field 'seconds': and minutes are both given",
        ),
        (
            f"W-1,{TICKET},,ana@acme.test,2026-03-02 10:00,90000,,\n",
            "time_entries.csv:2: field 'seconds': 90000 is more than a day",
        ),
        (
            "W-1,,,ana@acme.test,2026-03-02 10:00,60,,\n",
            "time_entries.csv:2: field 'ticket_id': is empty, and so is message_id",
        ),
        (
            f"W-1,{TICKET},a@b,ana@acme.test,2026-03-02 10:00,60,,\n",
            "time_entries.csv:2: field 'message_id': is given beside",
        ),
        (
            "W-1,12345,,ana@acme.test,2026-03-02 10:00,60,,\n",
            "time_entries.csv:2: field 'ticket_id': '12345' is not a deskpulse ticket",
        ),
        (
            f"W-1,{TICKET},,Ana Agent,2026-03-02 10:00,60,,\n",
            "time_entries.csv:2: field 'agent': 'ana agent' is not an e-mail address",
        ),
        (
            f"W-1,{TICKET},,ana@acme.test,2 March,60,,\n",
            "time_entries.csv:2: field 'started_at': '2 March' is not a timestamp",
        ),
        (f"W-1,{TICKET},,ana@acme.test,,60,,\n", "time_entries.csv:2: field 'started_at': is required but empty"),
        (
            f"W-1,{TICKET},,ana@acme.test,2026-03-02 10:00,60,,maybe\n",
            "time_entries.csv:2: field 'billable': 'maybe' is not true",
        ),
        (
            f"W-1,{TICKET},,ana@acme.test,2026-03-02 10:00,60,,\nW-1,{TICKET},,ben@acme.test,2026-03-02 11:00,60,,\n",
            "time_entries.csv:3: field 'entry_id': 'W-1' is already the id of line 2",
        ),
        (
            f",{TICKET},,ana@acme.test,2026-03-02 10:00,60,,\n,{TICKET},,ana@acme.test,2026-03-02 10:00,,1,\n",
            "time_entries.csv:3: field 'started_at': the same entry as line 2",
        ),
    ],
)
def test_time_entry_errors_name_line_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = entries(tmp_path, body)
    with pytest.raises(InputFileError) as error:
        read_time_entries(path, "UTC")
    assert str(error.value).startswith(f"{tmp_path}/{message}")


def test_a_bad_time_entries_file_stores_nothing(tmp_path: Path) -> None:
    path = entries(tmp_path, f"W-1,{TICKET},,ana@acme.test,2026-03-02 10:00,60,,\nW-2,{TICKET},,ana,x,60,,\n")
    with Store.open(None) as store:
        with pytest.raises(InputFileError, match=":3: field 'agent'"):
            load_time_entries(store, path, "UTC")
        assert store.count("time_entries") == 0


def test_an_unknown_column_is_an_error(tmp_path: Path) -> None:
    path = entries(tmp_path, f"{TICKET},ana@acme.test,2026-03-02,60\n", header="ticket,agent,started_at,seconds\n")
    with pytest.raises(InputFileError, match=r"time_entries\.csv:1: unknown column 'ticket'"):
        read_time_entries(path, "UTC")


def test_schedules_hold_until_the_agents_next_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "schedules.csv",
        SCHEDULES_HEADER
        + "Ana@acme.test,2026-03-01,8,8,8,8,7.5,,,0.8\n"
        + "ben@acme.test,2026-03-04,4,4,4,4,4,,,\n"
        + "ana@acme.test,2026-03-05,6,6,6,6,6,,,0.5\n",
    )
    schedules = read_schedules(path)
    assert [(s.agent, s.valid_from, s.available_share) for s in schedules] == [
        ("ana@acme.test", date(2026, 3, 1), 0.8),
        ("ben@acme.test", date(2026, 3, 4), 1.0),  # no share given: all paid time is available
        ("ana@acme.test", date(2026, 3, 5), 0.5),
    ]
    # Mon 2 – Fri 6 March 2026, Wed 4 a holiday. Ana: 8 h (80 % available) until Wed 4, then 6 h (50 %);
    # Friday's 7.5 h belong to the first line, which no longer holds. Ben: from Wed 4, 4 h, all available.
    days = {
        (d.agent, d.day.day): (d.paid_seconds, d.available_seconds)
        for d in schedule_days(schedules, date(2026, 3, 2), date(2026, 3, 6), frozenset({date(2026, 3, 4)}))
    }
    assert days == {
        ("ana@acme.test", 2): (28800, 23040),
        ("ana@acme.test", 3): (28800, 23040),
        ("ana@acme.test", 4): (28800, 0),  # the holiday: paid, not available
        ("ana@acme.test", 5): (21600, 10800),
        ("ana@acme.test", 6): (21600, 10800),
        ("ben@acme.test", 4): (14400, 0),
        ("ben@acme.test", 5): (14400, 14400),
        ("ben@acme.test", 6): (14400, 14400),
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("ana@acme.test,2026-03-01,8,-8,8,8,8,,,\n", "schedules.csv:2: field 'tue': '-8' must be at least 0"),
        ("ana@acme.test,2026-03-01,8,8,8,8,25,,,\n", "schedules.csv:2: field 'fri': 25 hours do not fit in a day"),
        ("ana@acme.test,2026-03-01,8,8,8,8,eight,,,\n", "schedules.csv:2: field 'fri': 'eight' is not a number"),
        ("ana@acme.test,2026-03-01,8,8,8,8,8,,,80\n", "schedules.csv:2: field 'available_share': 80 is more than 1"),
        ("ana@acme.test,March,8,8,8,8,8,,,\n", "schedules.csv:2: field 'valid_from': 'March' is not a date"),
        (",2026-03-01,8,8,8,8,8,,,\n", "schedules.csv:2: field 'agent': is required but empty"),
        (
            "ana@acme.test,2026-03-01,8,8,8,8,8,,,\nANA@acme.test,2026-03-01,6,6,6,6,6,,,\n",
            "schedules.csv:3: field 'valid_from': ana@acme.test already has a schedule from 2026-03-01 (line 2)",
        ),
    ],
)
def test_schedule_errors_name_line_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, "schedules.csv", SCHEDULES_HEADER + body)
    with pytest.raises(InputFileError) as error:
        read_schedules(path)
    assert str(error.value).startswith(f"{tmp_path}/{message}")


def test_a_schedule_names_every_weekday(tmp_path: Path) -> None:
    path = write(
        tmp_path, "schedules.csv", "agent,valid_from,mon,tue,wed,thu,fri\nana@acme.test,2026-03-01,8,8,8,8,8\n"
    )
    with pytest.raises(InputFileError, match=r"schedules\.csv:1: missing column 'sat', 'sun'"):
        read_schedules(path)


def test_costs_of_a_month_add_up_and_spread_over_its_days(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "costs.csv",
        COSTS_HEADER + "2026-02,staff,2000\n2026-02,tools,800\n2026-03,staff,3100\n2026-02,tools,0\n",
    )
    months = read_costs(path)
    assert months == {date(2026, 2, 1): 2800.0, date(2026, 3, 1): 3100.0}
    # February's 2,800 over 28 days is 100 a day, March's 3,100 over 31 days too; April has no cost.
    spread = dict(daily_costs(months, date(2026, 2, 27), date(2026, 4, 1)))
    assert spread[date(2026, 2, 27)] == 100.0
    assert spread[date(2026, 3, 31)] == 100.0
    assert date(2026, 4, 1) not in spread
    assert sum(spread.values()) == 2 * 100 + 3100


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("2026-13,staff,100\n", "costs.csv:2: field 'month': '2026-13' is not a month (YYYY-MM)"),
        ("March 2026,staff,100\n", "costs.csv:2: field 'month': 'March 2026' is not a month (YYYY-MM)"),
        ("2026-03,staff,-100\n", "costs.csv:2: field 'amount': '-100' must be at least 0"),
        ("2026-03,staff,\n", "costs.csv:2: field 'amount': is required but empty"),
        ("2026-03,,100\n", "costs.csv:2: field 'category': is required but empty"),
        ("2026-03,staff,100 EUR\n", "costs.csv:2: field 'amount': '100 EUR' is not a number"),
    ],
)
def test_cost_errors_name_line_and_field(tmp_path: Path, body: str, message: str) -> None:
    path = write(tmp_path, "costs.csv", COSTS_HEADER + body)
    with pytest.raises(InputFileError) as error:
        read_costs(path)
    assert str(error.value).startswith(f"{tmp_path}/{message}")


def test_costs_name_no_currency_column(tmp_path: Path) -> None:
    path = write(tmp_path, "costs.csv", "month,category,amount,currency\n2026-03,staff,100,EUR\n")
    with pytest.raises(InputFileError, match=r"costs\.csv:1: unknown column 'currency'"):
        read_costs(path)
