"""The demo mailbox: deterministic bytes, valid mbox framing, and the planted truths it promises."""

from __future__ import annotations

import mailbox
import re
import statistics
import tomllib
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from deskpulse.config import parse_config
from deskpulse.demo import DEMO_CONFIG_TOML, DemoSummary, write_demo_mailbox

BERLIN = ZoneInfo("Europe/Berlin")
ENVELOPE = re.compile(rb"^From \S+ (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
AUTO_ACK_PREFIX = "[Acme Support] We received your request: "


@dataclass(frozen=True)
class Demo:
    path: Path
    summary: DemoSummary
    messages: list[Message]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    path = tmp_path_factory.mktemp("demo") / "demo.mbox"
    summary = write_demo_mailbox(path)
    return Demo(path, summary, list(mailbox.mbox(path, create=False)))


def text(message: Message, name: str) -> str:
    value = message.get(name)
    return "" if value is None else str(make_header(decode_header(str(value))))


def received_at(message: Message) -> datetime:
    stamp = str(message["Received"]).rpartition(";")[2]
    return parsedate_to_datetime(stamp.split("(")[0].strip()).astimezone(BERLIN)


def ids_in(value: str | None) -> list[str]:
    return re.findall(r"<[^<>]+>", value or "")


def is_agent(message: Message) -> bool:
    sender = text(message, "From").lower()
    return "@acme.test>" in sender and "help@acme.test" not in sender


# ---- determinism ------------------------------------------------------------------------------------------


def test_same_seed_gives_identical_bytes(demo: Demo, tmp_path: Path) -> None:
    again = tmp_path / "again.mbox"
    assert write_demo_mailbox(again) == demo.summary
    assert again.read_bytes() == demo.path.read_bytes()


def test_different_seed_gives_a_different_mailbox(demo: Demo, tmp_path: Path) -> None:
    other = tmp_path / "other.mbox"
    write_demo_mailbox(other, seed=8)
    assert other.read_bytes() != demo.path.read_bytes()


def test_output_does_not_depend_on_today(demo: Demo) -> None:
    assert demo.summary.first_day == date(2026, 2, 2)  # the fixed default start, a Monday
    assert demo.summary.first_day.weekday() == 0


# ---- framing and counts -----------------------------------------------------------------------------------


def test_mbox_splits_into_the_summarised_number_of_messages(demo: Demo) -> None:
    assert len(demo.messages) == demo.summary.messages
    assert sum(count for _, count in demo.summary.messages_by_kind) == demo.summary.messages
    assert demo.summary.tickets == 600
    assert demo.summary.customer_tickets + demo.summary.proactive_tickets == 600


def test_every_from_line_is_an_envelope_and_bodies_are_escaped(demo: Demo) -> None:
    raw = demo.path.read_bytes()
    from_lines = [line for line in raw.split(b"\n") if line.startswith(b"From ")]
    assert len(from_lines) == demo.summary.messages
    assert all(ENVELOPE.match(line) for line in from_lines)
    assert b"\n>From what I can tell" in raw  # a body line that needed mboxrd escaping


def test_default_demo_spans_ten_weeks_and_ends_with_a_snapshot(demo: Demo) -> None:
    summary = demo.summary
    assert summary.last_day - summary.first_day == timedelta(days=69)
    end = datetime(2026, 4, 13, tzinfo=BERLIN)
    assert all(received_at(m) < end for m in demo.messages if m["Received"])


def test_span_grows_with_the_ticket_count(tmp_path: Path) -> None:
    small = write_demo_mailbox(tmp_path / "small.mbox", tickets=60)
    large = write_demo_mailbox(tmp_path / "large.mbox", tickets=2400)
    assert small.tickets == 60 and large.tickets == 2400
    assert small.last_day - small.first_day < timedelta(weeks=5)
    assert large.last_day - large.first_day > timedelta(weeks=15)


# ---- threading --------------------------------------------------------------------------------------------


def test_message_ids_are_unique_and_only_malformed_mail_lacks_one(demo: Demo) -> None:
    ids = [m["Message-ID"] for m in demo.messages if m["Message-ID"]]
    assert len(ids) == len(set(ids))
    malformed = dict(demo.summary.malformed_by_kind)
    without_id = malformed["truncated"] + malformed["binary_junk"] + malformed["missing_message_id"]
    assert demo.summary.messages - len(ids) == without_id


def test_replies_reference_messages_in_the_mailbox(demo: Demo) -> None:
    known = {m["Message-ID"] for m in demo.messages if m["Message-ID"]}
    replies = [m for m in demo.messages if m["In-Reply-To"]]
    assert len(replies) > demo.summary.messages // 2
    for message in replies:
        assert set(ids_in(message["In-Reply-To"])) <= known
        assert set(ids_in(message["References"])) <= known
        assert ids_in(message["In-Reply-To"])[0] == ids_in(message["References"])[-1]


def test_some_replies_lost_their_threading_headers(demo: Demo) -> None:
    # These can only be threaded by subject: "Re: <subject>" from the same customer.
    orphans = [m for m in demo.messages if not m["In-Reply-To"] and re.match(r"(Re|RE|AW): ", text(m, "Subject"))]
    assert len(orphans) >= 5
    assert not any(m["References"] for m in orphans)


# ---- who writes -------------------------------------------------------------------------------------------


def test_auto_acknowledgements_are_marked_as_automation(demo: Demo) -> None:
    acks = [m for m in demo.messages if text(m, "Subject").startswith(AUTO_ACK_PREFIX)]
    assert len(acks) == demo.summary.customer_tickets
    for ack in acks:
        assert ack["Auto-Submitted"] == "auto-replied"
        assert ack["X-Autoreply"] == "yes"
        assert "help@acme.test" in ack["From"]
        assert ack["In-Reply-To"]


def test_bulk_mail_and_bounces_are_present(demo: Demo) -> None:
    bulk = [m for m in demo.messages if m["Precedence"] == "bulk"]
    assert any(m["List-Id"] for m in bulk)
    bounces = [m for m in demo.messages if "MAILER-DAEMON" in str(m["From"])]
    assert bounces
    for bounce in bounces:
        assert bounce.get_content_type() == "multipart/report"
        assert bounce.get_param("report-type") == "delivery-status"


def test_agents_reply_in_berlin_business_hours_with_some_late_evenings(demo: Demo) -> None:
    times = [received_at(m) for m in demo.messages if is_agent(m)]
    agents = {text(m, "From") for m in demo.messages if is_agent(m)}
    assert len(agents) == len(demo.summary.agents) == 6
    in_hours = [t for t in times if t.weekday() < 5 and 9 <= t.hour < 17]
    evenings = [t for t in times if t.hour >= 18]
    assert len(in_hours) / len(times) > 0.85
    assert evenings
    assert not [t for t in times if t.weekday() >= 5]  # nobody works weekends: replies queue up
    assert not [t for t in times if t.date() in (date(2026, 4, 3), date(2026, 4, 6))]  # Easter (DE holidays)


def test_agents_differ_in_speed(demo: Demo) -> None:
    by_id = {m["Message-ID"]: m for m in demo.messages if m["Message-ID"]}
    waits: dict[str, list[float]] = {}
    for message in demo.messages:
        parent = by_id.get(message["In-Reply-To"] or "")
        if is_agent(message) and parent is not None and not is_agent(parent):
            seconds = (received_at(message) - received_at(parent)).total_seconds()
            waits.setdefault(text(message, "From"), []).append(seconds)
    medians = sorted(statistics.median(w) for w in waits.values())
    assert medians[-1] > 3 * medians[0]


def test_customers_write_at_night_and_on_weekends_but_mostly_by_day(demo: Demo) -> None:
    openers = [m for m in demo.messages if is_opening_customer_message(m)]
    hours = Counter(received_at(m).hour for m in openers)
    days = Counter(received_at(m).weekday() for m in openers)
    assert sum(hours[h] for h in range(0, 6)) > 0
    assert days[5] + days[6] > 0
    assert sum(hours[h] for h in range(9, 18)) > len(openers) / 2


def test_some_tickets_never_get_an_answer(demo: Demo) -> None:
    assert 0 < demo.summary.unanswered_tickets < demo.summary.customer_tickets // 4


# ---- what they write --------------------------------------------------------------------------------------


def is_opening_customer_message(message: Message) -> bool:
    return (
        not message["In-Reply-To"]
        and not message["References"]
        and not message["Auto-Submitted"]
        and not message["Precedence"]
        and bool(message["Message-ID"])
        and "acme.test" not in text(message, "From")
        and "MAILER-DAEMON" not in text(message, "From")
        and not re.match(r"(Re|RE|AW): ", text(message, "Subject"))
    )


def test_spike_week_has_three_times_the_usual_password_resets(demo: Demo) -> None:
    weekly: Counter[date] = Counter()
    for message in demo.messages:
        if is_opening_customer_message(message) and re.search(r"passwor[dt]", text(message, "Subject"), re.I):
            day = received_at(message).date()
            weekly[day - timedelta(days=day.weekday())] += 1
    spike = demo.summary.spike_week
    # The sixth week of ten: after the four weeks of history `deskpulse trends` needs before it tests a day.
    assert spike == date(2026, 3, 9) and demo.summary.spike_category == "password_reset"
    others = [weekly[spike + timedelta(weeks=n)] for n in range(-5, 5) if n != 0]
    assert weekly[spike] >= 3 * statistics.median(others)


def test_mail_comes_in_many_encodings(demo: Demo) -> None:
    raw = demo.path.read_bytes()
    for marker in (
        b"=?utf-8?q?",  # RFC 2047 names and subjects
        b"=?utf-8?b?",
        b"=?iso-8859-1?q?",
        b'charset="iso-8859-1"',
        b"Content-Transfer-Encoding: quoted-printable",
        b"multipart/alternative",
        b"Content-Type: text/html",
        b"\n-- \n",  # agent signatures
    ):
        assert marker in raw, marker
    html_only = [m for m in demo.messages if m.get_content_type() == "text/html"]
    assert html_only


def test_replies_quote_what_they_answer(demo: Demo) -> None:
    raw = demo.path.read_bytes()
    assert re.search(rb"\nOn [^\n]+ wrote:\n> ", raw)
    assert re.search(rb"\nAm [^\n]+ schrieb [^\n]+:\n> ", raw)


def test_angry_and_happy_customers(demo: Demo) -> None:
    raw = demo.path.read_bytes()
    for phrase in (b"cancel my subscription", b"chargeback", b"third time", b"great support"):
        assert phrase in raw.lower(), phrase


def test_some_sender_clocks_are_wrong_so_received_time_matters(demo: Demo) -> None:
    skewed = 0
    for message in demo.messages:
        try:
            sent = parsedate_to_datetime(str(message["Date"]))
        except (TypeError, ValueError):
            continue
        if message["Received"] and abs((received_at(message) - sent).total_seconds()) > 30 * 60:
            skewed += 1
    assert skewed >= 5


def test_malformed_messages_of_every_kind_are_planted(demo: Demo) -> None:
    kinds = dict(demo.summary.malformed_by_kind)
    assert demo.summary.malformed >= 3
    assert set(kinds) == {"truncated", "binary_junk", "bad_charset", "missing_message_id", "bad_date"}
    assert sum(kinds.values()) == demo.summary.malformed
    assert 0.001 < demo.summary.malformed / demo.summary.messages < 0.006


def test_demo_config_is_a_valid_deskpulse_toml() -> None:
    config = parse_config(tomllib.loads(DEMO_CONFIG_TOML))
    assert config.helpdesk.support_addresses == ("help@acme.test",)
    assert config.helpdesk.agent_domains == ("acme.test",)
    assert config.business_hours.timezone == "Europe/Berlin"
    assert config.business_hours.holidays == "DE"
    assert config.business_hours.weekly[0] and not config.business_hours.weekly[5]
    assert config.resolution.inactivity_days == 7 and config.resolution.reopen_window_days == 7
