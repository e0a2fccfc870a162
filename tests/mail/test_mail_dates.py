"""Mail dates: the fast reader agrees with the standard library on every shape it accepts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime

import pytest

from deskpulse.mail.parse import _parse_date


def _stdlib(text: str) -> datetime | None:
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed


def test_fast_path_agrees_with_the_stdlib_across_offsets_and_a_year_of_days() -> None:
    from zoneinfo import ZoneInfo

    zones = [ZoneInfo(z) for z in ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")]
    moment = datetime(2026, 1, 1, 0, 0, 7)
    checked = 0
    while moment.year == 2026:
        for zone in zones:
            text = format_datetime(moment.replace(tzinfo=UTC).astimezone(zone))
            assert _parse_date(text) == _stdlib(text) == moment, text
            checked += 1
        moment += timedelta(hours=7, minutes=13)
    assert checked > 5000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mon, 05 Jan 2026 10:00:05 +0100 (CET)", datetime(2026, 1, 5, 9, 0, 5)),  # comment after the offset
        ("5 Jan 2026 10:00 -0530", datetime(2026, 1, 5, 15, 30)),  # no weekday, no seconds
        ("Tue, 1 Jan 2019 00:00:00 GMT", datetime(2019, 1, 1)),  # a zone name: the stdlib's path
        ("Sun, 28 Feb 2021 17:55:08 -0600", datetime(2021, 2, 28, 23, 55, 8)),  # r-help's shape
    ],
)
def test_common_shapes(text: str, expected: datetime) -> None:
    assert _parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Mon, 32 Foo 2026 25:61:00 +9900",  # no such day, month or time
        "Thu, 31 Feb 2026 10:00:00 +0000",  # no such date
        "Mon, 1 Jan 1970 00:00:00 +0000",  # the epoch: a clock that was never set
        "Mon, 1 Jan 2199 00:00:00 +0000",  # far future
        "garbage",
        "",
    ],
)
def test_unusable_dates_are_none(text: str) -> None:
    assert _parse_date(text) is None
