"""Business time and local periods: hand-computed timelines, DST, holidays, nulls, and a brute-force oracle.

Timelines are written in the schedule's local time and converted to naive UTC, as the store holds them.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import holidays as holidays_package
import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pytest

from deskpulse.calendar import (
    DAYS_SCHEMA,
    INTERVALS_SCHEMA,
    business_intervals,
    calendar_days,
    calendar_range,
    with_business_clock,
    with_local_period,
)
from deskpulse.config import WEEKDAYS, BusinessHoursConfig, parse_day_hours

BERLIN = "Europe/Berlin"
HOUR = 3600


@pytest.fixture(scope="module")
def con() -> ibis.BaseBackend:
    return ibis.duckdb.connect()


def schedule(
    timezone_name: str,
    weekdays: str,
    weekend: str = "",
    *,
    sunday: str | None = None,
    country: str | None = None,
    extra: tuple[date, ...] = (),
) -> BusinessHoursConfig:
    """Mon-Fri hours, Sat hours and Sun hours (Saturday's unless given), written as in deskpulse.toml."""
    texts = [weekdays] * 5 + [weekend, weekend if sunday is None else sunday]
    weekly = tuple(parse_day_hours(day, text) for day, text in zip(WEEKDAYS, texts, strict=True))
    return BusinessHoursConfig(timezone_name, weekly, country, extra)


def utc(local: str, timezone_name: str = BERLIN) -> datetime:
    """A local wall-clock reading ('2026-01-16 16:00') as the naive UTC instant the store holds."""
    aware = datetime.fromisoformat(local).replace(tzinfo=ZoneInfo(timezone_name))
    return aware.astimezone(UTC).replace(tzinfo=None)


def events_table(instants: Mapping[str, datetime | None]) -> ir.Table:
    return ibis.memtable(
        pa.table(
            {
                "name": pa.array(list(instants), pa.string()),
                "at": pa.array(list(instants.values()), pa.timestamp("us")),
            }
        )
    )


def clocks(
    con: ibis.BaseBackend, hours: BusinessHoursConfig, instants: Mapping[str, datetime | None]
) -> dict[str, int | None]:
    """The business clock at each named instant, through the calendar table and the Ibis join on DuckDB."""
    known = [instant for instant in instants.values() if instant is not None]
    first_day, last_day = calendar_range(min(known), max(known))
    intervals = ibis.memtable(business_intervals(hours, first_day, last_day))
    clocked = con.to_pyarrow(with_business_clock(events_table(instants), "at", intervals, "clock"))
    return {row["name"]: row["clock"] for row in clocked.to_pylist()}


def business_seconds(con: ibis.BaseBackend, hours: BusinessHoursConfig, start: datetime, stop: datetime) -> int:
    clock = clocks(con, hours, {"start": start, "stop": stop})
    assert clock["start"] is not None and clock["stop"] is not None
    return clock["stop"] - clock["start"]


def openings(table: pa.Table) -> list[tuple[datetime, datetime]]:
    """The real opening intervals of a business_intervals table (its leading zero-length row left out)."""
    rows = table.to_pylist()
    return [(row["span_start"], row["open_end"]) for row in rows if row["open_end"] > row["span_start"]]


# --- plain timelines ----------------------------------------------------------------------------------------

NINE_TO_FIVE = schedule(BERLIN, "09:00-17:00")


def test_span_within_one_working_day(con: ibis.BaseBackend) -> None:
    # Mon 2026-01-12 10:00 customer writes, 15:30 agent replies: 5.5 h = 19800 s.
    start, stop = utc("2026-01-12 10:00"), utc("2026-01-12 15:30")
    assert business_seconds(con, NINE_TO_FIVE, start, stop) == 19800


def test_overnight_counts_only_opening_hours(con: ibis.BaseBackend) -> None:
    # Tue 16:00 -> Wed 10:00: Tue 16-17 (1 h) + Wed 09-10 (1 h) = 7200 s; the night is closed.
    start, stop = utc("2026-01-13 16:00"), utc("2026-01-14 10:00")
    assert business_seconds(con, NINE_TO_FIVE, start, stop) == 7200


def test_weekend_is_closed(con: ibis.BaseBackend) -> None:
    # Fri 2026-01-16 16:00 -> Mon 2026-01-19 10:00: Fri 16-17 (1 h) + Mon 09-10 (1 h) = 7200 s.
    start, stop = utc("2026-01-16 16:00"), utc("2026-01-19 10:00")
    assert business_seconds(con, NINE_TO_FIVE, start, stop) == 7200


def test_multiple_ranges_per_day(con: ibis.BaseBackend) -> None:
    split = schedule(BERLIN, "09:00-12:00, 13:00-17:00")
    # Mon 11:00 -> 14:00: 11-12 (1 h) + 13-14 (1 h) = 7200 s; the lunch hour is closed.
    assert business_seconds(con, split, utc("2026-01-12 11:00"), utc("2026-01-12 14:00")) == 7200
    # Mon 08:00 -> 18:00: 09-12 (3 h) + 13-17 (4 h) = 25200 s.
    assert business_seconds(con, split, utc("2026-01-12 08:00"), utc("2026-01-12 18:00")) == 25200


def test_instant_in_closed_time_reads_the_end_of_the_previous_opening(con: ibis.BaseBackend) -> None:
    split = schedule(BERLIN, "09:00-12:00, 13:00-17:00")
    clock = clocks(
        con,
        split,
        {
            "lunch starts": utc("2026-01-16 12:00"),
            "during lunch": utc("2026-01-16 12:30"),
            "lunch ends": utc("2026-01-16 13:00"),
            "fri close": utc("2026-01-16 17:00"),
            "fri night": utc("2026-01-16 23:59"),
            "saturday": utc("2026-01-17 11:00"),
            "mon open": utc("2026-01-19 09:00"),
        },
    )
    assert clock["lunch starts"] == clock["during lunch"] == clock["lunch ends"]
    assert clock["fri close"] == clock["fri night"] == clock["saturday"] == clock["mon open"]
    # Fri 12:00 -> 17:00 is 13-17 open: 4 h = 14400 s.
    assert clock["fri close"] - clock["lunch starts"] == 14400  # type: ignore[operator]


def test_clock_counts_whole_seconds(con: ibis.BaseBackend) -> None:
    # 10:00:00.900 truncates to 10:00:00, on every engine (Spark's unix_timestamp truncates too).
    clock = clocks(
        con,
        NINE_TO_FIVE,
        {
            "open": utc("2026-01-12 09:00"),
            "ten": utc("2026-01-12 10:00"),
            "ten+0.9s": utc("2026-01-12 10:00:00.9"),
        },
    )
    assert clock["ten"] == clock["ten+0.9s"] == clock["open"] + HOUR  # type: ignore[operator]


# --- DST ----------------------------------------------------------------------------------------------------

ROUND_THE_CLOCK = schedule(BERLIN, "00:00-24:00", "00:00-24:00")


def test_round_the_clock_spring_forward_day_has_23_business_hours(con: ibis.BaseBackend) -> None:
    # Sun 2026-03-29 00:00 CET (2026-03-28 23:00Z) -> Mon 00:00 CEST (2026-03-29 22:00Z): 23 h = 82800 s.
    start, stop = utc("2026-03-29 00:00"), utc("2026-03-30 00:00")
    assert (start, stop) == (datetime(2026, 3, 28, 23), datetime(2026, 3, 29, 22))
    assert business_seconds(con, ROUND_THE_CLOCK, start, stop) == 82800


def test_round_the_clock_fall_back_day_has_25_business_hours(con: ibis.BaseBackend) -> None:
    # Sun 2026-10-25 00:00 CEST (2026-10-24 22:00Z) -> Mon 00:00 CET (2026-10-25 23:00Z): 25 h = 90000 s.
    start, stop = utc("2026-10-25 00:00"), utc("2026-10-26 00:00")
    assert (start, stop) == (datetime(2026, 10, 24, 22), datetime(2026, 10, 25, 23))
    assert business_seconds(con, ROUND_THE_CLOCK, start, stop) == 90000


def test_opening_hours_keep_local_time_across_dst() -> None:
    # 09:00-17:00 Berlin is 08:00-16:00Z in winter (CET, +1) and 07:00-15:00Z in summer (CEST, +2).
    spring = business_intervals(NINE_TO_FIVE, date(2026, 3, 27), date(2026, 3, 30))
    assert openings(spring) == [
        (datetime(2026, 3, 27, 8), datetime(2026, 3, 27, 16)),  # Fri, CET
        (datetime(2026, 3, 30, 7), datetime(2026, 3, 30, 15)),  # Mon, CEST
    ]
    autumn = business_intervals(NINE_TO_FIVE, date(2026, 10, 23), date(2026, 10, 26))
    assert openings(autumn) == [
        (datetime(2026, 10, 23, 7), datetime(2026, 10, 23, 15)),  # Fri, CEST
        (datetime(2026, 10, 26, 8), datetime(2026, 10, 26, 16)),  # Mon, CET
    ]


def test_night_range_across_a_dst_change(con: ibis.BaseBackend) -> None:
    night = schedule(BERLIN, "", sunday="01:00-05:00")
    # Spring: 01:00 CET (00:00Z) -> 05:00 CEST (03:00Z) = 3 h; the clock skips 02:00-03:00.
    assert business_seconds(con, night, utc("2026-03-29 00:00"), utc("2026-03-29 06:00")) == 3 * HOUR
    # Autumn: 01:00 CEST (2026-10-24 23:00Z) -> 05:00 CET (04:00Z) = 5 h; 02:00-03:00 happens twice.
    assert business_seconds(con, night, utc("2026-10-25 00:00"), utc("2026-10-25 06:00")) == 5 * HOUR


def test_endpoints_inside_a_dst_change() -> None:
    # An opening at a skipped reading (02:30 on 2026-03-29) opens when the clock jumps, 03:00 CEST = 01:00Z;
    # 04:00 CEST = 02:00Z, so one hour.
    skipped = business_intervals(schedule(BERLIN, "", sunday="02:30-04:00"), date(2026, 3, 29), date(2026, 3, 29))
    assert openings(skipped) == [(datetime(2026, 3, 29, 1), datetime(2026, 3, 29, 2))]
    # A reading that happens twice (02:30 on 2026-10-25) is its first occurrence, 02:30 CEST = 00:30Z;
    # 03:30 CET = 02:30Z, so two hours.
    repeated = business_intervals(schedule(BERLIN, "", sunday="02:30-03:30"), date(2026, 10, 25), date(2026, 10, 25))
    assert openings(repeated) == [(datetime(2026, 10, 25, 0, 30), datetime(2026, 10, 25, 2, 30))]
    # A range wholly inside the skipped hour never opens.
    never = business_intervals(schedule(BERLIN, "", sunday="02:10-02:50"), date(2026, 3, 29), date(2026, 3, 29))
    assert openings(never) == []


def test_calendar_days_are_23_and_25_hours_long_on_dst_days() -> None:
    rows = calendar_days(BERLIN, date(2026, 3, 28), date(2026, 10, 26)).to_pylist()
    # A local day is one or two rows (cut at UTC midnight); its length is the sum of its rows.
    lengths: dict[date, timedelta] = {}
    for row in rows:
        lengths[row["day"]] = lengths.get(row["day"], timedelta()) + (row["day_end"] - row["day_start"])
    days = {row["day"]: row for row in reversed(rows)}  # each day's first row
    assert lengths[date(2026, 3, 29)] == timedelta(hours=23)
    assert lengths[date(2026, 10, 25)] == timedelta(hours=25)
    assert lengths[date(2026, 3, 28)] == lengths[date(2026, 3, 30)] == timedelta(hours=24)
    # Every other day of the summer is 24 h long.
    hours_per_day = Counter(length / timedelta(hours=1) for length in lengths.values())
    assert hours_per_day == {24: len(days) - 2, 23: 1, 25: 1}
    # Local midnight of 2026-03-30 is 2026-03-29 22:00Z (CEST, +2); the day is cut at UTC midnight.
    assert days[date(2026, 3, 30)]["day_start"] == datetime(2026, 3, 29, 22)
    assert days[date(2026, 3, 30)]["day_end"] == datetime(2026, 3, 30, 0)
    assert days[date(2026, 3, 30)]["utc_day"] == date(2026, 3, 29)
    assert days[date(2026, 3, 30)]["week"] == "2026-W14"


# --- local periods ------------------------------------------------------------------------------------------


def period_labels(con: ibis.BaseBackend, instants: Mapping[str, datetime | None]) -> dict[str, dict[str, str | None]]:
    known = [instant for instant in instants.values() if instant is not None]
    days = ibis.memtable(calendar_days(BERLIN, *calendar_range(min(known), max(known))))
    table = events_table(instants)
    for period in ("day", "week", "month", "quarter", "year", "all"):
        table = with_local_period(table, "at", days, period, period)
    return {row.pop("name"): row for row in con.to_pyarrow(table.drop("at")).to_pylist()}


def test_local_period_labels_follow_the_reporting_timezone(con: ibis.BaseBackend) -> None:
    labels = period_labels(
        con,
        {
            # 2026-03-31 22:30Z is Wed 2026-04-01 00:30 CEST: April, Q2, ISO week 14 (from Mon 2026-03-30).
            "april in berlin": datetime(2026, 3, 31, 22, 30),
            # 2026-12-31 23:30Z is Fri 2027-01-01 00:30 CET; 2026 began on a Thursday, so has an ISO week 53.
            "new year in berlin": datetime(2026, 12, 31, 23, 30),
            "no time": None,
        },
    )
    assert labels["april in berlin"] == {
        "day": "2026-04-01", "week": "2026-W14", "month": "2026-04", "quarter": "2026-Q2", "year": "2026",
        "all": "all",
    }  # fmt: skip
    assert labels["new year in berlin"] == {
        "day": "2027-01-01", "week": "2026-W53", "month": "2027-01", "quarter": "2027-Q1", "year": "2027",
        "all": "all",
    }  # fmt: skip
    assert labels["no time"] == dict.fromkeys(("day", "week", "month", "quarter", "year", "all"))


def test_week_label_is_zero_padded(con: ibis.BaseBackend) -> None:
    # Thu 2026-01-15 12:00Z is in ISO week 3 (week 1 is Mon 2025-12-29 .. Sun 2026-01-04).
    labels = period_labels(con, {"mid january": datetime(2026, 1, 15, 12)})
    assert labels["mid january"]["week"] == "2026-W03"


def test_unknown_period_is_an_error() -> None:
    days = ibis.memtable(calendar_days(BERLIN, date(2026, 1, 1), date(2026, 1, 2)))
    with pytest.raises(ValueError, match="unknown period 'fortnight'"):
        with_local_period(events_table({"a": datetime(2026, 1, 1)}), "at", days, "fortnight", "period")


# --- holidays -----------------------------------------------------------------------------------------------

EVERY_DAY = "09:00-17:00"


def test_country_holidays_are_closed(con: ibis.BaseBackend) -> None:
    hours = schedule(BERLIN, EVERY_DAY, EVERY_DAY, country="DE")
    # Thu 2026-12-24 16:00 -> Sun 12-27 10:00: Thu 16-17 (1 h), Fri 25th and Sat 26th are German public
    # holidays, Sun 09-10 (1 h) = 7200 s. Without holidays it would be 1 + 8 + 8 + 1 h = 64800 s.
    assert business_seconds(con, hours, utc("2026-12-24 16:00"), utc("2026-12-27 10:00")) == 7200
    table = business_intervals(hours, date(2026, 12, 23), date(2026, 12, 28))
    open_days = [opens.date() for opens, _ in openings(table)]
    assert open_days == [date(2026, 12, 23), date(2026, 12, 24), date(2026, 12, 27), date(2026, 12, 28)]


def test_extra_holidays_are_closed(con: ibis.BaseBackend) -> None:
    hours = schedule(BERLIN, EVERY_DAY, EVERY_DAY, country="DE", extra=(date(2026, 12, 28),))
    # Thu 24th 16:00 -> Tue 29th 10:00: Thu 1 h + (25th, 26th holidays) + Sun 27th 8 h + (Mon 28th extra
    # holiday) + Tue 1 h = 10 h = 36000 s.
    assert business_seconds(con, hours, utc("2026-12-24 16:00"), utc("2026-12-29 10:00")) == 36000


# --- nulls and row keeping ----------------------------------------------------------------------------------


def test_a_schedule_with_no_hours_gives_null_never_zero(con: ibis.BaseBackend) -> None:
    no_hours = BusinessHoursConfig(BERLIN)
    table = business_intervals(no_hours, date(2026, 1, 1), date(2026, 1, 31))
    assert table.num_rows == 0 and table.schema == INTERVALS_SCHEMA
    clock = clocks(con, no_hours, {"start": utc("2026-01-12 10:00"), "stop": utc("2026-01-12 11:00")})
    assert clock == {"start": None, "stop": None}


def test_closed_but_scheduled_time_is_zero_not_null(con: ibis.BaseBackend) -> None:
    # A weekend under a weekday schedule has a schedule, just no open hours in it: 0 s, a real value.
    assert business_seconds(con, NINE_TO_FIVE, utc("2026-01-17 10:00"), utc("2026-01-18 16:00")) == 0
    # Even when the whole calendar is closed (it is then one zero-length span, cut at each UTC midnight).
    table = business_intervals(NINE_TO_FIVE, date(2026, 1, 17), date(2026, 1, 18))
    assert table.to_pylist() == [
        {"span_start": datetime(2026, 1, 16, 23), "span_end": datetime(2026, 1, 17),
         "open_end": datetime(2026, 1, 16, 23), "cum_seconds": 0, "utc_day": date(2026, 1, 16)},
        {"span_start": datetime(2026, 1, 17), "span_end": datetime(2026, 1, 18),
         "open_end": datetime(2026, 1, 17), "cum_seconds": 0, "utc_day": date(2026, 1, 17)},
        {"span_start": datetime(2026, 1, 18), "span_end": datetime(2026, 1, 18, 23),
         "open_end": datetime(2026, 1, 18), "cum_seconds": 0, "utc_day": date(2026, 1, 18)},
    ]  # fmt: skip


def test_every_row_is_kept_once_and_input_columns_unchanged(con: ibis.BaseBackend) -> None:
    events = pa.table(
        {
            "id": pa.array([1, 2, 2, 3, 4, 5, 6], pa.int64()),
            "at": pa.array(
                [
                    utc("2026-01-12 10:00"),  # open
                    utc("2026-01-12 20:00"),  # closed, twice (a duplicate row stays a duplicate)
                    utc("2026-01-12 20:00"),
                    None,  # no time
                    datetime(2025, 1, 1),  # before the calendar
                    datetime(2027, 1, 1),  # after the calendar
                    utc("2026-01-13 09:00"),  # exactly at an opening
                ],
                pa.timestamp("us"),
            ),
            "note": pa.array(["a", "b", "b", None, "d", "e", "f"]),
        }
    )
    first_day, last_day = calendar_range(datetime(2026, 1, 10), datetime(2026, 1, 14))
    intervals = ibis.memtable(business_intervals(NINE_TO_FIVE, first_day, last_day))
    days = ibis.memtable(calendar_days(BERLIN, first_day, last_day))
    table = with_business_clock(ibis.memtable(events), "at", intervals, "clock")
    table = with_local_period(table, "at", days, "day", "day")
    result = con.to_pyarrow(table.order_by(["id", "clock"]))

    assert result.column_names == ["id", "at", "note", "clock", "day"]
    assert result.select(["id", "at", "note"]).cast(events.schema).equals(events)
    by_id = {row["id"]: (row["clock"], row["day"]) for row in result.to_pylist()}
    # Calendar starts Thu 2026-01-08 00:00 CET; Thu+Fri open 8 h each before Mon: cum 57600 at Mon 09:00.
    assert by_id[1] == (57600 + HOUR, "2026-01-12")
    assert by_id[2] == (57600 + 8 * HOUR, "2026-01-12")
    assert by_id[3] == (None, None)
    assert by_id[4] == (None, None)
    assert by_id[5] == (None, None)
    assert by_id[6] == (57600 + 8 * HOUR, "2026-01-13")


def test_out_column_must_be_new() -> None:
    intervals = ibis.memtable(business_intervals(NINE_TO_FIVE, date(2026, 1, 1), date(2026, 1, 2)))
    with pytest.raises(ValueError, match="'at' already exists"):
        with_business_clock(events_table({"a": datetime(2026, 1, 1)}), "at", intervals, "at")


# --- the tables themselves ----------------------------------------------------------------------------------


def test_spans_tile_the_calendar_contiguously() -> None:
    hours = schedule(BERLIN, "08:30-12:00, 13:15-18:45", "10:00-14:00", country="DE")
    table = business_intervals(hours, date(2017, 1, 1), date(2026, 12, 31))  # ten years: per day, not per event
    assert table.schema == INTERVALS_SCHEMA
    rows = table.to_pylist()
    assert rows[0]["span_start"] == datetime(2016, 12, 31, 23)  # local midnight of the first day (CET)
    assert rows[-1]["span_end"] == datetime(2026, 12, 31, 23)  # local midnight after the last day
    for row, following in itertools.pairwise(rows):
        assert row["span_end"] == following["span_start"]
        assert row["span_start"] <= row["open_end"] <= row["span_end"]
        open_seconds = (row["open_end"] - row["span_start"]).total_seconds()
        assert following["cum_seconds"] == row["cum_seconds"] + open_seconds


def test_calendar_days_schema_and_labels() -> None:
    table = calendar_days("UTC", date(2026, 1, 1), date(2026, 1, 1))
    assert table.schema == DAYS_SCHEMA
    assert table.to_pylist() == [
        {"day": date(2026, 1, 1), "day_start": datetime(2026, 1, 1), "day_end": datetime(2026, 1, 2),
         "week": "2026-W01", "month": "2026-01", "quarter": "2026-Q1", "year": "2026", "utc_day": date(2026, 1, 1)},
    ]  # fmt: skip


def test_calendar_range_pads_two_days() -> None:
    assert calendar_range(datetime(2026, 3, 1, 0, 30), datetime(2026, 3, 31, 23, 59)) == (
        date(2026, 2, 27),
        date(2026, 4, 2),
    )
    # An aware instant counts by its UTC date: 2026-03-01 00:30+02:00 is 2026-02-28 22:30Z.
    aware = datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert calendar_range(aware, aware) == (date(2026, 2, 26), date(2026, 3, 2))
    with pytest.raises(ValueError, match="after max_instant"):
        calendar_range(datetime(2026, 3, 2), datetime(2026, 3, 1))


# --- against a brute-force oracle ---------------------------------------------------------------------------

STEP = timedelta(minutes=15)


def brute_force_clock(hours: BusinessHoursConfig, instants: list[datetime]) -> list[int]:
    """Walk the sorted instants 15 minutes at a time and count a step when its local wall clock is open.

    Exact when every opening time, every instant and every DST change lies on the 15-minute grid, and no
    opening time falls in a repeated (fall-back) hour: there "open while the wall clock reads inside the
    range" and the calendar's "open from the first reading of the start" differ by design.
    """
    zone = ZoneInfo(hours.timezone)
    closed = set(hours.extra_holidays)
    if hours.holidays:
        closed |= set(holidays_package.country_holidays(hours.holidays, years=range(2025, 2028)))
    clock, total = [], 0
    for instant, following in zip(instants, [*instants[1:], instants[-1]], strict=True):
        clock.append(total)
        assert (following - instant) in (STEP, timedelta(0))
        local = instant.replace(tzinfo=UTC).astimezone(zone)
        reading = local.time().replace(tzinfo=None)
        is_open = local.date() not in closed and any(
            start <= reading and (end == time.max or reading < end) for start, end in hours.weekly[local.weekday()]
        )
        total += int((following - instant).total_seconds()) if is_open else 0
    return clock


ORACLE_SCHEDULES = {
    "berlin office": schedule(BERLIN, "09:00-17:00", country="DE", extra=(date(2026, 6, 15),)),
    "berlin split with a sunday night": schedule(BERLIN, "00:00-03:15, 08:30-12:00, 13:15-18:45", sunday="01:00-05:00"),
    "new york weekdays round the clock": schedule("America/New_York", "00:00-24:00", "10:00-14:00", country="US"),
    # Lord Howe Island moves its clocks by 30 minutes at 02:00: back to 01:30 on 2026-04-05, on to 02:30 on
    # 2026-10-04. The first range spans both changes; the second opens in the skipped half hour in October.
    "lord howe nights": schedule("Australia/Lord_Howe", "01:00-05:00", "01:00-05:00"),
    "lord howe opening when the clock jumps": schedule("Australia/Lord_Howe", "02:15-05:00", "02:15-05:00"),
}


@pytest.mark.parametrize("name", ORACLE_SCHEDULES)
def test_clock_and_day_labels_match_a_brute_force_walk(con: ibis.BaseBackend, name: str) -> None:
    hours = ORACLE_SCHEDULES[name]
    # Every quarter hour from 2026-03-01 to 2026-11-08: both DST changes in Berlin, New York and Lord Howe.
    start, stop = datetime(2026, 3, 1), datetime(2026, 11, 8)
    instants = [start + STEP * n for n in range(int((stop - start) / STEP) + 1)]
    expected = brute_force_clock(hours, instants)

    first_day, last_day = calendar_range(start, stop)
    intervals = ibis.memtable(business_intervals(hours, first_day, last_day))
    days = ibis.memtable(calendar_days(hours.timezone, first_day, last_day))
    events = ibis.memtable(pa.table({"at": pa.array(instants, pa.timestamp("us"))}))
    table = with_local_period(with_business_clock(events, "at", intervals, "clock"), "at", days, "day", "day")
    rows = con.to_pyarrow(table.order_by("at")).to_pylist()

    assert [row["at"] for row in rows] == instants
    origin = rows[0]["clock"]
    assert [row["clock"] - origin for row in rows] == expected
    zone = ZoneInfo(hours.timezone)
    local_days = [instant.replace(tzinfo=UTC).astimezone(zone).date().isoformat() for instant in instants]
    assert [row["day"] for row in rows] == local_days
