"""Business time and local reporting periods, through two small calendar tables.

``business_intervals`` turns the configured opening hours into a table of UTC opening intervals with a running
total of business seconds, so a business duration on any engine is a range join and a subtraction:
``clock(stop) - clock(start)``. ``calendar_days`` lists local days with their UTC bounds and period labels, so
bucketing by local day, week, month, quarter or year is a range join too, DST-correct, with no timezone
functions in SQL. Both tables are built per day in Python (cheap: ten years are a few thousand rows); the
joins are plain Ibis and run on every backend. Rows are cut at UTC midnight and carry their UTC date
(``utc_day``), so each join matches on ``date(instant) = utc_day`` before the range test: a hash join on every
engine, where a pure range join would compare each event with every calendar row.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from deskpulse.config import BusinessHoursConfig

PERIODS = ("day", "week", "month", "quarter", "year", "all")
CALENDAR_PADDING_DAYS = 2  # more than any UTC offset (at most 14 h) can move an instant's local date

INTERVALS_SCHEMA = pa.schema(
    [
        pa.field("span_start", pa.timestamp("us"), nullable=False),
        pa.field("span_end", pa.timestamp("us"), nullable=False),
        pa.field("open_end", pa.timestamp("us"), nullable=False),
        pa.field("cum_seconds", pa.int64(), nullable=False),
        pa.field("utc_day", pa.date32(), nullable=False),
    ]
)
DAYS_SCHEMA = pa.schema(
    [
        pa.field("day", pa.date32(), nullable=False),
        pa.field("day_start", pa.timestamp("us"), nullable=False),
        pa.field("day_end", pa.timestamp("us"), nullable=False),
        pa.field("week", pa.string(), nullable=False),
        pa.field("month", pa.string(), nullable=False),
        pa.field("quarter", pa.string(), nullable=False),
        pa.field("year", pa.string(), nullable=False),
        pa.field("utc_day", pa.date32(), nullable=False),
    ]
)

# Calendar columns are renamed to these before a join so they can never collide with an input column.
_PREFIX = "_deskpulse_calendar_"


def business_intervals(hours: BusinessHoursConfig, first_day: date, last_day: date) -> pa.Table:
    """The opening intervals of the local days ``first_day``..``last_day``, as naive UTC, tiling the calendar.

    Each row is an opening ``[span_start, open_end)``; the row's span runs on to ``span_end``, the next row's
    ``span_start``, so the closed time after an opening belongs to it and the spans tile the timeline with no
    gap and no overlap. The last span ends at the calendar's end (local midnight after ``last_day``). When the
    calendar does not open at its start (local midnight of ``first_day``), a leading zero-length row
    (``open_end == span_start``) covers the closed time up to the first opening. ``cum_seconds`` counts the
    business seconds from the calendar's start up to ``span_start``: clock values are only comparable within
    one build of the table.

    Local opening times become UTC endpoint by endpoint (see ``_wall_clock_to_utc``), so an opening keeps its
    local hours across DST and a night range spanning a DST change grows or shrinks by the change. Holidays
    (the ``holidays`` package for the configured country, plus ``extra_holidays``) and closed days have no
    row. Without any opening hours the table is empty: business time is then unknown (null), never 0.
    """
    _check_day_range(first_day, last_day)
    if not hours.has_hours:
        return INTERVALS_SCHEMA.empty_table()
    zone = ZoneInfo(hours.timezone)
    closed = holidays_between(hours, first_day, last_day)
    openings: list[tuple[datetime, datetime]] = []
    for day in _days(first_day, last_day):
        if day in closed:
            continue
        for start, end in hours.weekly[day.weekday()]:
            opens, closes = _wall_clock_to_utc(day, start, zone), _wall_clock_to_utc(day, end, zone)
            if closes > opens:  # a range wholly inside a spring-forward gap never happens
                openings.append((opens, closes))

    calendar_start = _wall_clock_to_utc(first_day, time(0), zone)
    calendar_end = _wall_clock_to_utc(last_day + timedelta(days=1), time(0), zone)
    if not openings or openings[0][0] > calendar_start:
        openings.insert(0, (calendar_start, calendar_start))

    span_starts = [opens for opens, _ in openings]
    span_ends = [*span_starts[1:], calendar_end]
    rows: list[tuple[datetime, datetime, datetime, int, date]] = []
    total = 0
    for (opens, closes), span_end in zip(openings, span_ends, strict=True):
        # Pieces that never cross a UTC midnight, so a join can match on the UTC date first (see module doc).
        for piece_start, piece_end in _utc_day_pieces(opens, span_end):
            business_before = min(piece_start, closes) - opens  # of this span, before the piece
            piece_open_end = min(max(closes, piece_start), piece_end)
            cum = total + int(business_before.total_seconds())
            rows.append((piece_start, piece_end, piece_open_end, cum, piece_start.date()))
        total += int((closes - opens).total_seconds())
    return pa.Table.from_arrays(
        [
            _timestamps([r[0] for r in rows]),
            _timestamps([r[1] for r in rows]),
            _timestamps([r[2] for r in rows]),
            pa.array([r[3] for r in rows], pa.int64()),
            pa.array([r[4] for r in rows], pa.date32()),
        ],
        schema=INTERVALS_SCHEMA,
    )


def _utc_day_pieces(start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """``[start, end)`` cut at every UTC midnight inside it (naive UTC instants)."""
    while start < end:
        midnight = datetime.combine(start.date() + timedelta(days=1), time(0))
        piece_end = min(midnight, end)
        yield start, piece_end
        start = piece_end


def calendar_days(timezone: str, first_day: date, last_day: date) -> pa.Table:
    """One row per local day with its UTC bounds ``[day_start, day_end)`` and its period labels.

    A DST day is 23 or 25 hours long. Labels: ``week`` is the ISO week ``'2026-W03'`` (ISO year, so
    2027-01-01 is ``'2026-W53'``), ``month`` ``'2026-03'``, ``quarter`` ``'2026-Q1'``, ``year`` ``'2026'``.
    """
    _check_day_range(first_day, last_day)
    zone = ZoneInfo(timezone)
    days = list(_days(first_day, last_day))
    bounds = [_wall_clock_to_utc(day, time(0), zone) for day in days]
    bounds.append(_wall_clock_to_utc(last_day + timedelta(days=1), time(0), zone))
    rows: list[tuple[date, datetime, datetime, str, str, str, str, date]] = []
    for day, day_start, day_end in zip(days, bounds[:-1], bounds[1:], strict=True):
        iso = day.isocalendar()
        labels = (
            f"{iso.year}-W{iso.week:02d}",
            f"{day.year}-{day.month:02d}",
            f"{day.year}-Q{(day.month - 1) // 3 + 1}",
            f"{day.year}",
        )
        # A local day is cut at UTC midnight, so a join can match on the UTC date first (see module doc).
        for start, end in _utc_day_pieces(day_start, day_end):
            rows.append((day, start, end, *labels, start.date()))
    columns = list(zip(*rows, strict=True))
    return pa.Table.from_arrays(
        [
            pa.array(columns[0], pa.date32()),
            _timestamps(list(columns[1])),
            _timestamps(list(columns[2])),
            *(pa.array(column, pa.string()) for column in columns[3:7]),
            pa.array(columns[7], pa.date32()),
        ],
        schema=DAYS_SCHEMA,
    )


def calendar_range(min_instant: datetime, max_instant: datetime) -> tuple[date, date]:
    """The local days to build both calendar tables for, so that every instant in between is covered.

    Instants are naive UTC (an aware one is converted). The range is padded by two days on each side because
    an instant's local date can differ from its UTC date by one day either way.
    """
    first, last = _utc_date(min_instant), _utc_date(max_instant)
    if first > last:
        raise ValueError(f"calendar_range: min_instant {min_instant} is after max_instant {max_instant}")
    padding = timedelta(days=CALENDAR_PADDING_DAYS)
    return first - padding, last + padding


def with_business_clock(events: ir.Table, time_column: str, intervals: ir.Table, out_column: str) -> ir.Table:
    """``events`` plus ``out_column``: the business clock (int64 seconds) at ``time_column``.

    The clock is the calendar's ``cum_seconds`` at the covering span plus the business seconds elapsed in it,
    so a business duration is ``clock(stop) - clock(start)``. Instants count to the whole second (truncated).
    An instant in closed time reads the clock at the end of the previous opening. The clock is null for a null
    time, for an instant outside the calendar, and for every row when ``intervals`` is empty (no opening
    hours): business time is then unknown, never 0. Every input row is kept exactly once, input columns
    unchanged; row order is not kept (SQL has none).
    """
    _check_new_column(events, out_column)
    intervals = intervals.view()  # a fresh relation, so the helper can be applied twice to one table
    calendar = intervals.select(
        **{
            f"{_PREFIX}span_start": intervals.span_start,
            f"{_PREFIX}span_end": intervals.span_end,
            f"{_PREFIX}cum_seconds": intervals.cum_seconds,
            f"{_PREFIX}open_seconds": _seconds(intervals.open_end) - _seconds(intervals.span_start),
            f"{_PREFIX}utc_day": intervals.utc_day,
        }
    )
    instant = events[time_column]
    joined = events.left_join(
        calendar,
        [
            instant.date() == calendar[f"{_PREFIX}utc_day"],  # an equi-join first: a hash join on every engine
            instant >= calendar[f"{_PREFIX}span_start"],
            instant < calendar[f"{_PREFIX}span_end"],
        ],
    )
    elapsed = _seconds(joined[time_column].truncate("s")) - _seconds(joined[f"{_PREFIX}span_start"])
    clock = joined[f"{_PREFIX}cum_seconds"] + ibis.least(elapsed, joined[f"{_PREFIX}open_seconds"])
    return joined.select(*events.columns, **{out_column: clock.cast("int64")})


def with_local_period(events: ir.Table, time_column: str, days: ir.Table, period: str, out_column: str) -> ir.Table:
    """``events`` plus ``out_column``: the label of the local ``period`` that ``time_column`` falls in.

    ``period`` is one of ``PERIODS``. Labels are strings: ``'2026-03-29'`` for a day, then as in
    ``calendar_days``; ``'all'`` for every row when ``period`` is ``all``. A null time, or an instant outside
    the days table, gives a null label. Every input row is kept exactly once, input columns unchanged.
    """
    if period not in PERIODS:
        raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    _check_new_column(events, out_column)
    instant = events[time_column]
    if period == "all":
        return events.mutate(**{out_column: ibis.ifelse(instant.isnull(), ibis.null("string"), "all")})
    days = days.view()  # a fresh relation, so the helper can be applied twice to one table
    label = days.day.strftime("%Y-%m-%d") if period == "day" else days[period]
    calendar = days.select(
        **{
            f"{_PREFIX}day_start": days.day_start,
            f"{_PREFIX}day_end": days.day_end,
            f"{_PREFIX}label": label,
            f"{_PREFIX}utc_day": days.utc_day,
        }
    )
    joined = events.left_join(
        calendar,
        [
            instant.date() == calendar[f"{_PREFIX}utc_day"],  # an equi-join first: a hash join on every engine
            instant >= calendar[f"{_PREFIX}day_start"],
            instant < calendar[f"{_PREFIX}day_end"],
        ],
    )
    return joined.select(*events.columns, **{out_column: joined[f"{_PREFIX}label"]})


def _seconds(instant: ir.TimestampValue) -> ir.IntegerValue:
    # Seconds since 1970 of a naive UTC timestamp: EPOCH on DuckDB, EXTRACT(epoch) on PostgreSQL and
    # unix_timestamp on Spark (whose session Ibis sets to UTC) all read it as UTC.
    return instant.epoch_seconds().cast("int64")


def _wall_clock_to_utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The first instant (naive UTC) at which the wall clock in ``zone`` reads ``at`` on ``day``.

    ``time.max`` means 24:00, the next midnight. A reading that occurs twice (fall-back) is its first
    occurrence; a reading skipped by a spring-forward change is the moment of the change, when the wall clock
    jumps past it. Endpoints converted this way never go backwards, so ordered local ranges stay ordered.
    """
    if at == time.max:
        day, at = day + timedelta(days=1), time(0)
    local = datetime.combine(day, at, tzinfo=zone)  # fold=0: the earlier of two readings
    instant = local.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
        return instant.replace(tzinfo=None)
    # A skipped reading: fold=1 maps it before the change, fold=0 after it. Find the change to the second.
    before = int(local.replace(fold=1).astimezone(UTC).timestamp())
    after = int(instant.timestamp())
    offset_after = instant.astimezone(zone).utcoffset()
    while after - before > 1:
        middle = (before + after) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == offset_after:
            after = middle
        else:
            before = middle
    return datetime.fromtimestamp(after, UTC).replace(tzinfo=None)


def _timestamps(instants: list[datetime]) -> pa.Array:
    return pa.array(instants, pa.timestamp("us"))


def holidays_between(hours: BusinessHoursConfig, first_day: date, last_day: date) -> frozenset[date]:
    """The closed dates of ``[business_hours]``: the country's holidays in the years from ``first_day`` to
    ``last_day``, and every date of ``extra_holidays``."""
    closed = set(hours.extra_holidays)
    if hours.holidays:
        import holidays as holidays_package  # slow to import; only needed with a country configured

        years = range(first_day.year, last_day.year + 1)
        closed.update(holidays_package.country_holidays(hours.holidays, years=years).keys())
    return frozenset(closed)


def _days(first_day: date, last_day: date) -> Iterator[date]:
    for offset in range((last_day - first_day).days + 1):
        yield first_day + timedelta(days=offset)


def _check_day_range(first_day: date, last_day: date) -> None:
    if first_day > last_day:
        raise ValueError(f"calendar: first_day {first_day} is after last_day {last_day}")


def _utc_date(instant: datetime) -> date:
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return instant.date()


def _check_new_column(events: ir.Table, out_column: str) -> None:
    if out_column in events.columns:
        raise ValueError(f"column {out_column!r} already exists; choose another out_column")
