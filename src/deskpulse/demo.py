"""The demo help desk: a realistic, seeded support mailbox written as one mbox file.

Owns one thing: turning ``(seed, tickets, start)`` into the same bytes every time. The mailbox holds what a
support leader's real inbox holds (agents with different speeds in Berlin business hours, customers writing at
any hour, auto-acknowledgements, newsletters, a bounce, HTML and Latin-1 mail, a planted password-reset spike
and a few broken messages), streamed to disk in arrival order so memory stays bounded at any size.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import itertools
import math
import random
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from deskpulse.demo_inputs import write_static_inputs
from deskpulse.demo_text import (
    AGENT_CLOSE,
    AGENT_FOLLOW,
    AGENT_GLAD,
    AGENT_OPEN,
    AGENT_SORRY,
    ANGRY_CLOSE,
    ANGRY_NUDGES,
    ANGRY_OPEN,
    CLOSINGS,
    COMPANY_DOMAINS,
    DE_DOMAINS,
    DEMO_TAXONOMY_TOML,
    FIRST_DE,
    FIRST_FR,
    FIRST_INTL,
    FR_DOMAINS,
    FREE_DOMAINS,
    GREETINGS,
    LAST_DE,
    LAST_FR,
    LAST_INTL,
    MONTH_NAMES,
    NEWSLETTERS,
    NOTIFICATIONS,
    NUDGES,
    PROACTIVE,
    PROACTIVE_ANSWERS,
    REOPEN,
    SPIKE_CATEGORY,
    SPIKE_FACTOR,
    SPIKE_WEIGHTS,
    STILL_BROKEN,
    THANKS,
    THANKS_DE,
    TOPIC_NAMES,
    TOPIC_WEIGHTS,
    TOPICS,
    WORDS,
)

DEMO_CONFIG_TOML = """\
[helpdesk]
support_addresses = ["help@acme.test"]
agent_domains = ["acme.test"]
timezone = "Europe/Berlin"

[business_hours]
timezone = "Europe/Berlin"
mon = "09:00-17:00"
tue = "09:00-17:00"
wed = "09:00-17:00"
thu = "09:00-17:00"
fri = "09:00-17:00"
holidays = "DE"

[resolution]
inactivity_days = 7
reopen_window_days = 7

[scorecard]
# A balanced scorecard: speed beside outcomes, satisfaction, workload and cost, so a faster reply that costs a
# second reply, or an agent near burnout, shows.
metrics = [
    "tickets_created", "first_response_time_business", "one_touch_rate", "reopen_rate", "csat", "utilization",
    "cost_per_ticket",
]
period = "week"

[scorecard.targets]
first_response_time_business = { target = "1h", warning = "2h" }
one_touch_rate = { target = 0.6, warning = 0.5 }
reopen_rate = { target = 0.05, warning = 0.1 }
csat = { target = 0.8, warning = 0.7 }
cost_per_ticket = { target = 50, warning = 60 }

# What the mailbox cannot tell (docs/inputs.md); the demo writes these files beside this one.
[files]
agents = "agents.csv"
schedules = "schedules.csv"
costs = "costs.csv"
sla = "sla.toml"
categories = "categories.toml"

[guardrails]
min_survey_answers = 10                 # a small team: ten answers a week before CSAT is read

[costs]
currency = "EUR"
"""

# A Monday in February: the default ten weeks cross the spring DST switch (29 March) and Easter (DE holidays).
DEFAULT_START = date(2026, 2, 2)
SUPPORT_ADDRESS = "help@acme.test"

_BERLIN = ZoneInfo("Europe/Berlin")
_TICKETS_PER_DEFAULT_SPAN = 600  # the default demo: 600 tickets over ten weeks
_DEFAULT_WEEKS = 10
_PROACTIVE_SHARE = 0.04
_UNANSWERED_SHARE = 0.05
_BOUNCE_EVERY = 150  # one ticket in this many gives a mistyped Reply-To, so the agent's answer bounces
_MALFORMED_PER_TICKET = 0.015  # ≈ 0.3 % of messages at ~4.8 messages per ticket
_MALFORMED_KINDS = ("truncated", "binary_junk", "bad_charset", "missing_message_id", "bad_date")
_DAY = 86_400
_HOUR = 3_600


@dataclass(frozen=True)
class DemoSummary:
    """What was planted, so the demo and its tests can check the scorecard against the truth."""

    messages: int
    tickets: int
    malformed: int
    first_day: date
    last_day: date
    agents: tuple[str, ...]
    spike_week: date  # the Monday of the week with the password-reset spike
    spike_category: str
    customer_tickets: int
    proactive_tickets: int
    unanswered_tickets: int  # customer tickets without any agent reply in the mailbox
    messages_by_kind: tuple[tuple[str, int], ...]  # customer, agent, auto_ack, bulk, bounce, malformed, …
    malformed_by_kind: tuple[tuple[str, int], ...]
    timezone: str = "Europe/Berlin"


def write_demo_mailbox(
    path: Path, *, seed: int = 7, tickets: int = _TICKETS_PER_DEFAULT_SPAN, start: date | None = None
) -> DemoSummary:
    """Write the demo mailbox to ``path`` (an mbox, mboxrd-escaped) and say what is in it.

    A pure function of its arguments: the same ``seed``, ``tickets`` and ``start`` give the same bytes. The
    span grows with the square root of ``tickets`` (600 tickets: ten weeks); the mailbox is a snapshot taken
    at midnight (Berlin) after the last day, so late tickets are still open.
    """
    if tickets < 0:
        raise ValueError(f"tickets must be 0 or more, got {tickets}")
    generator = _Generator(seed, tickets, start or DEFAULT_START)
    with path.open("wb", buffering=1 << 20) as out:
        return generator.run(out)


# ----------------------------------------------------------------------------------------------------
# Who writes


@dataclass(frozen=True)
class _Agent:
    name: str
    address: str
    first_reply_minutes: float  # median business minutes to a first reply
    spread: float  # sigma of the log-normal delay
    load: float  # relative share of tickets
    evening_rate: float  # share of replies sent late in the evening instead of in business hours


_AGENTS = (
    _Agent("Ana Silva", "ana@acme.test", 20, 0.8, 1.0, 0.02),
    _Agent("Ben Okafor", "ben@acme.test", 45, 0.9, 1.0, 0.06),
    _Agent("Chloé Martin", "chloe@acme.test", 75, 0.9, 0.9, 0.04),
    _Agent("Dev Patel", "dev@acme.test", 140, 1.0, 0.8, 0.12),
    _Agent("Emma Schulz", "emma@acme.test", 330, 1.1, 1.6, 0.10),  # overloaded: most tickets, slowest
    _Agent("Finn Berger", "finn@acme.test", 60, 0.9, 0.7, 0.03),
)


@dataclass(frozen=True)
class _Customer:
    name: str
    address: str
    tz: tzinfo
    client: str  # gmail, apple, outlook, thunderbird, webmail_de
    charset: str
    lang: str  # en or de
    relay: str  # the Received: "from" clause of their provider
    domain: str


_CLIENT_PREFIX = {
    "gmail": "Re: ",
    "apple": "Re: ",
    "outlook": "RE: ",
    "thunderbird": "Re: ",
    "webmail_de": "AW: ",
}


_GERMAN_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ø": "o", "ł": "l", "'": ""})


def _ascii_local(name: str) -> str:
    """``Jürgen`` → ``juergen``, ``Lemaître`` → ``lemaitre``: what goes into the local part of an address."""
    folded = unicodedata.normalize("NFKD", name.lower().translate(_GERMAN_FOLD))
    return "".join(ch for ch in folded if ch.isascii() and ch.isalnum())


def _make_customer(seed: int, index: int) -> _Customer:
    # Each customer has their own seeded generator, so who customer 17 is never depends on generation order.
    rng = random.Random(seed * 1_000_003 + index)
    kind = rng.random()
    if kind < 0.18:
        first, last, lang = rng.choice(FIRST_DE), rng.choice(LAST_DE), "de"
        domain = rng.choice(DE_DOMAINS)
        tz: tzinfo = _BERLIN
        client = rng.choices(("outlook", "webmail_de", "thunderbird", "gmail"), (35, 30, 15, 20))[0]
    elif kind < 0.26:
        first, last, lang = rng.choice(FIRST_FR), rng.choice(LAST_FR), "en"
        domain = rng.choice(FR_DOMAINS)
        tz = ZoneInfo("Europe/Paris")
        client = rng.choice(("gmail", "apple", "outlook"))
    else:
        first, last, lang = rng.choice(FIRST_INTL), rng.choice(LAST_INTL), "en"
        domain = rng.choice(FREE_DOMAINS) if rng.random() < 0.6 else rng.choice(COMPANY_DOMAINS)
        tz = ZoneInfo(rng.choices(("Europe/London", "Europe/Berlin", "America/New_York", "UTC"), (30, 35, 25, 10))[0])
        client = rng.choices(("gmail", "apple", "outlook", "thunderbird"), (40, 25, 25, 10))[0]
    # Gmail's client only sends from gmail.com and company (Workspace) domains; webmail only from its own.
    gmail_elsewhere = client == "gmail" and not domain.endswith(".example")
    webmail_elsewhere = client == "webmail_de" and domain not in ("gmx.de", "web.de", "t-online.de")
    if domain == "gmail.com":
        client = "gmail"
    elif gmail_elsewhere or webmail_elsewhere:
        client = "thunderbird"
    name = f"{first} {last}"
    # Old German webmail still sends ISO-8859-1; only names it can spell get it.
    charset = "iso-8859-1" if client == "webmail_de" and _latin1(name) else "utf-8"
    if client == "webmail_de" and charset == "utf-8":
        client = "thunderbird"
    f, la = _ascii_local(first), _ascii_local(last)
    local = rng.choice((f"{f}.{la}", f"{f[0]}{la}", f"{f}{rng.randint(1, 99)}", f"{f}_{la}", f"{la}.{f}"))
    return _Customer(name, f"{local}@{domain}", tz, client, charset, lang, _relay_for(rng, domain, client), domain)


def _relay_for(rng: random.Random, domain: str, client: str) -> str:
    if domain == "gmail.com":
        host = f"mail-{rng.choice('wlsy')}{rng.choice('rfj')}{rng.randint(1, 9)}-f{rng.randint(41, 99)}"
        host += ".google.com"
        ip = f"209.85.{rng.randint(128, 255)}.{rng.randint(1, 254)}"
    elif client == "outlook":
        region = rng.choice(("AM6", "DB5", "VI1", "HE1"))
        host = f"EUR{rng.randint(1, 5):02d}-{region}-obe.outbound.protection.outlook.com"
        ip = f"40.107.{rng.randint(1, 255)}.{rng.randint(1, 254)}"
    elif domain in ("gmx.de", "web.de"):
        host, ip = f"mout.{domain.split('.')[0]}.net", f"212.227.{rng.randint(15, 17)}.{rng.randint(1, 254)}"
    else:
        host = f"mail.{domain}"
        ip = ".".join(str(rng.randint(lo, hi)) for lo, hi in ((2, 223), (0, 255), (0, 255), (1, 254)))
    return f"{host} ({host} [{ip}])"


def _latin1(text: str) -> bool:
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return False
    return True


# Customers write at any hour, mostly in the daytime (Berlin local hour → weight).
_HOUR_WEIGHTS = (3, 2, 1.5, 1, 1, 2, 5, 10, 20, 30, 32, 30, 26, 28, 30, 28, 25, 22, 18, 16, 15, 13, 10, 6)
_HOURS = tuple(range(24))
_HOUR_CUM_WEIGHTS = tuple(itertools.accumulate(_HOUR_WEIGHTS))
_WEEKDAY_WEIGHTS = (1.25, 1.1, 1.0, 1.0, 0.9, 0.4, 0.35)


# ----------------------------------------------------------------------------------------------------
# Formatting

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_ESCAPE_FROM = re.compile(rb"^(>*From )", re.MULTILINE)
_Q_SAFE = set(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!*+-/")
_Q_TABLE = tuple("_" if b == 0x20 else chr(b) if b in _Q_SAFE else f"={b:02X}" for b in range(256))


def _rfc2822(moment: int, tz: tzinfo) -> str:
    dt = datetime.fromtimestamp(moment, tz)
    offset = dt.utcoffset()
    minutes = int(offset.total_seconds()) // 60 if offset is not None else 0
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return (
        f"{_DAYS[dt.weekday()]}, {dt.day} {_MONTHS[dt.month - 1]} {dt.year} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} {sign}{hours:02d}{mins:02d}"
    )


def _asctime(moment: int) -> str:
    dt = datetime.fromtimestamp(moment, UTC)
    return (
        f"{_DAYS[dt.weekday()]} {_MONTHS[dt.month - 1]} {dt.day:2d} "
        f"{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d} {dt.year}"
    )


def _encode_header(text: str, charset: str, *, b_encoding: bool = False) -> str:
    """RFC 2047 encoded-words for non-ASCII text; each word at most 75 characters, folded between words."""
    if text.isascii():
        return text
    prefix = f"=?{charset}?{'b' if b_encoding else 'q'}?"
    room = 75 - len(prefix) - 2
    words: list[str] = []
    if b_encoding:
        chunk = b""
        for ch in text:
            encoded = ch.encode(charset, errors="replace")
            if len(chunk) + len(encoded) > room * 3 // 4:
                words.append(base64.b64encode(chunk).decode("ascii"))
                chunk = b""
            chunk += encoded
        words.append(base64.b64encode(chunk).decode("ascii"))
    else:
        current: list[str] = []
        length = 0
        for ch in text:
            piece = "".join(_Q_TABLE[b] for b in ch.encode(charset, errors="replace"))
            if length + len(piece) > room:
                words.append("".join(current))
                current, length = [], 0
            current.append(piece)
            length += len(piece)
        words.append("".join(current))
    return "\n ".join(f"{prefix}{word}?=" for word in words)


def _address(name: str, address: str, charset: str = "utf-8", *, b_encoding: bool = False) -> str:
    if not name.isascii():
        return f"{_encode_header(name, charset, b_encoding=b_encoding)} <{address}>"
    if any(c in name for c in ',.;:@"()'):
        return f'"{name}" <{address}>'
    return f"{name} <{address}>"


def _quote(text: str) -> str:
    """Quote a message for a reply. History deeper than two levels is cut, as most people trim it."""
    lines = text.split("\n")
    deep = next((i for i, line in enumerate(lines) if line.startswith(">>")), None)
    if deep is not None:
        lines = lines[:deep]
        while lines and (lines[-1] in (">", "") or lines[-1].endswith(":")):
            lines.pop()  # the dangling "On … wrote:" above the cut
    return "\n".join(">" + line if line.startswith(">") else "> " + line if line else ">" for line in lines)


def _html(own: str, quote_header: str | None, quoted: str | None) -> str:
    def paragraphs(text: str) -> str:
        out = []
        for block in text.split("\n\n"):
            safe = block.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            out.append("<p>" + safe.replace("\n", "<br>\n") + "</p>")
        return "\n".join(out)

    body = paragraphs(own)
    if quote_header is not None and quoted is not None:
        body += (
            f'\n<div class="quote">{paragraphs(quote_header)}\n<blockquote>\n{paragraphs(quoted)}\n</blockquote></div>'
        )
    head = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
    return f"{head}<body>\n{body}\n</body></html>\n"


def _part(text: str, subtype: str, charset: str, quoted_printable: bool) -> tuple[str, bytes]:
    data = text.encode(charset, errors="replace")
    if quoted_printable:
        data, cte = binascii.b2a_qp(data), "quoted-printable"
    else:
        cte = "7bit" if data.isascii() else "8bit"
    return f'Content-Type: text/{subtype}; charset="{charset}"\nContent-Transfer-Encoding: {cte}\n', data


def _easter(year: int) -> date:
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _german_holidays(first: int, last: int) -> frozenset[date]:
    """The nationwide German public holidays: the agents' days off, matching ``holidays = "DE"``."""
    days: set[date] = set()
    for year in range(first, last + 1):
        easter = _easter(year)
        days.update(date(year, m, d) for m, d in ((1, 1), (5, 1), (10, 3), (12, 25), (12, 26)))
        days.update(easter + timedelta(days=n) for n in (-2, 1, 39, 50))
    return frozenset(days)


# ----------------------------------------------------------------------------------------------------
# The generator


@dataclass
class _Sent:
    """A message already written into a thread, as the next reply needs to see it."""

    message_id: str
    references: tuple[str, ...]
    own_text: str  # what the author wrote, without the quote below it
    full_text: str
    author: str  # "Name <address>"
    author_name: str
    sent_at: int
    received_at: int


@dataclass
class _Thread:
    customer: _Customer
    subject: str
    slots: dict[str, str]
    angry: bool
    reply_to: str | None = None  # a mistyped Reply-To from a web form
    closed: bool = False  # nothing more is written once a message would fall after the snapshot


class _Generator:
    def __init__(self, seed: int, tickets: int, start: date) -> None:
        self.seed = seed
        self.tickets = tickets
        self.rng = random.Random(seed)
        self.start = start
        monday = start - timedelta(days=start.weekday())
        weeks = max(3, round(_DEFAULT_WEEKS * math.sqrt(tickets / _TICKETS_PER_DEFAULT_SPAN)))
        self.last_day = monday + timedelta(weeks=weeks, days=-1)
        # The spike comes after the four weeks of history `deskpulse trends` needs before it tests a day.
        self.spike_week = monday + timedelta(weeks=5 if weeks >= 8 else 3 if weeks >= 5 else 1)
        self.end = self._epoch(self.last_day + timedelta(days=1), 0)
        self.holidays = _german_holidays(start.year, self.last_day.year + 1)
        self.customers: dict[int, _Customer] = {}
        self.pool = max(40, int(tickets * 0.75))
        self.heap: list[tuple[int, int, str, bytes]] = []
        self.sequence = 0
        self.counts: dict[str, int] = {}
        self.malformed_counts: dict[str, int] = {}
        self.opened = {"customer": 0, "proactive": 0}
        self.unanswered = 0
        self.topic_credit = dict.fromkeys(TOPIC_NAMES, 0.0)
        self.malformed_planned = max(len(_MALFORMED_KINDS), round(tickets * _MALFORMED_PER_TICKET))

    # ---- time -------------------------------------------------------------------------------------------

    @staticmethod
    def _epoch(day: date, seconds: int) -> int:
        # Aware datetime arithmetic is wall-clock arithmetic, so business hours stay at 09:00 across DST.
        local = datetime(day.year, day.month, day.day, tzinfo=_BERLIN) + timedelta(seconds=seconds)
        return int(local.timestamp())

    def _workday(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    def _add_business_seconds(self, moment: int, seconds: int) -> int:
        local = datetime.fromtimestamp(moment, _BERLIN)
        day = local.date()
        position = local.hour * _HOUR + local.minute * 60 + local.second
        while True:
            if self._workday(day):
                begin = max(position, 9 * _HOUR)
                if begin < 17 * _HOUR:
                    if seconds <= 17 * _HOUR - begin:
                        return self._epoch(day, begin + seconds)
                    seconds -= 17 * _HOUR - begin
            day += timedelta(days=1)
            position = 0

    def _agent_reply_at(self, agent: _Agent, after: int, *, first: bool) -> int:
        rng = self.rng
        local = datetime.fromtimestamp(after, _BERLIN)
        if self._workday(local.date()) and 12 <= local.hour < 22 and rng.random() < agent.evening_rate:
            evening = self._epoch(local.date(), 19 * _HOUR + rng.randrange(int(3.5 * _HOUR)))
            return max(evening, after + 600 + rng.randrange(1800))
        median = agent.first_reply_minutes * (1.0 if first else 0.7)
        minutes = min(rng.lognormvariate(math.log(median), agent.spread), 3 * 8 * 60)
        return self._add_business_seconds(after + 60 + rng.randrange(180), max(120, int(minutes * 60)))

    def _customer_later(self, after: int, median_hours: float, *, at_least: int = 240) -> int:
        rng = self.rng
        delay = max(at_least, int(rng.lognormvariate(math.log(median_hours * _HOUR), 1.0)))
        moment = after + min(delay, 6 * _DAY)
        local = datetime.fromtimestamp(moment, _BERLIN)
        if local.hour < 6 and rng.random() < 0.75:  # most people sleep; some don't
            moment += (7 * _HOUR + rng.randrange(9000)) - (local.hour * _HOUR + local.minute * 60 + local.second)
        return moment

    # ---- identities -------------------------------------------------------------------------------------

    def _customer(self) -> _Customer:
        # A skewed pick: a few customers write again and again, most write once.
        index = int(self.pool * self.rng.random() ** 1.3)
        if index not in self.customers:
            self.customers[index] = _make_customer(self.seed, index)
        return self.customers[index]

    def _agent(self) -> _Agent:
        return self.rng.choices(_AGENTS, [a.load for a in _AGENTS])[0]

    def _message_id(self, client: str, domain: str) -> str:
        bits = self.rng.getrandbits(128)
        hexed = f"{bits:032x}"
        uuid = f"{hexed[:8]}-{hexed[8:12]}-{hexed[12:16]}-{hexed[16:20]}-{hexed[20:]}"
        if client == "gmail":
            return f"<CA+{bits:032X}@mail.gmail.com>"
        if client == "outlook":
            return f"<{hexed[:26].upper()}@{domain.split('.')[0].upper()}.eurprd04.prod.outlook.com>"
        if client == "webmail_de":
            return f"<trinity-{uuid}-{bits & 0xFFFFFFFFFFF:d}@3c-app-{domain.split('.')[0]}-bs{bits % 70:02d}>"
        if client == "apple":
            return f"<{uuid.upper()}@{domain}>"
        return f"<{uuid}@{domain}>"

    def _slots(self, customer: _Customer) -> dict[str, str]:
        rng = self.rng
        slots = {key: rng.choice(words) for key, words in WORDS.items()}
        slots.update(
            first=customer.name.split()[0],
            name=customer.name,
            order=f"#A{rng.randint(10000, 99999)}",
            invoice=f"INV-{self.start.year}-{rng.randint(1000, 99999):05d}",
            amount=f"€{rng.choice((9, 19, 29, 49, 99, 149, 249))}.{rng.choice(('00', '90', '99'))}",
            month=rng.choice(MONTH_NAMES),
            tracking=f"{rng.randint(10**11, 10**12 - 1)}",
            days=str(rng.randint(4, 15)),
            digits=str(rng.randint(100_000_000, 999_999_999)),
            digits4=str(rng.randint(1000, 9999)),
            digit=str(rng.randint(2, 9)),
            po=f"PO-{rng.randint(10000, 99999)}",
            n=str(rng.randint(3, 12)),
        )
        return slots

    # ---- writing ----------------------------------------------------------------------------------------

    def _push(self, received_at: int, kind: str, data: bytes) -> None:
        self.sequence += 1
        heapq.heappush(self.heap, (received_at, self.sequence, kind, data))

    def _render(
        self,
        *,
        envelope: str,
        received_at: int,
        relay: str,
        headers: list[str],
        content: tuple[str, bytes],
    ) -> bytes:
        queue_id = f"{self.rng.getrandbits(48):012X}"
        stamp = _rfc2822(received_at, _BERLIN)
        zone = "CEST" if stamp.endswith("+0200") else "CET"
        head = (
            f"From {envelope} {_asctime(received_at)}\n"
            f"Return-Path: <{envelope if envelope != 'MAILER-DAEMON' else ''}>\n"
            f"Received: from {relay}\n\tby mx.acme.test (Postfix) with ESMTPS id {queue_id}\n"
            f"\tfor <{SUPPORT_ADDRESS}>; {stamp} ({zone})\n" + "".join(h + "\n" for h in headers) + content[0] + "\n"
        )
        body = content[1]
        if b"From " in body:
            body = _ESCAPE_FROM.sub(rb">\1", body)
        if not body.endswith(b"\n"):
            body += b"\n"
        return head.encode("utf-8") + body + b"\n"

    def _mime(self, client: str, charset: str, text: str, html: str, *, replying: bool) -> tuple[str, bytes]:
        rng = self.rng
        layout = "plain"
        if client == "gmail" or (client == "apple" and rng.random() < 0.3):
            layout = "alternative"
        elif client == "outlook":
            layout = "html" if replying and rng.random() < 0.35 else "alternative"
        qp = client in ("outlook", "webmail_de") or (client in ("gmail", "apple") and not text.isascii())
        if layout == "plain":
            return _part(text, "plain", charset, qp)
        if layout == "html":
            return _part(html, "html", charset, True)
        boundary = f"{'0' * 12}{rng.getrandbits(64):016x}"
        plain_head, plain = _part(text, "plain", charset, qp)
        html_head, html_data = _part(html, "html", charset, True)
        body = (
            f"--{boundary}\n{plain_head}\n".encode("ascii")
            + plain
            + f"\n--{boundary}\n{html_head}\n".encode("ascii")
            + html_data
            + f"\n--{boundary}--\n".encode("ascii")
        )
        return f'Content-Type: multipart/alternative; boundary="{boundary}"\n', body

    @staticmethod
    def _threading_headers(parent: _Sent | None) -> tuple[list[str], tuple[str, ...]]:
        if parent is None:
            return [], ()
        references = (*parent.references, parent.message_id)
        if len(references) > 10:  # long threads keep the root and the latest, as mail clients do
            references = (references[0], *references[-9:])
        return [f"In-Reply-To: {parent.message_id}", "References: " + "\n\t".join(references)], references

    def _quote_block(self, parent: _Sent, tz: tzinfo, style: str) -> tuple[str, str]:
        dt = datetime.fromtimestamp(parent.sent_at, tz)
        hm = f"{dt.hour:02d}:{dt.minute:02d}"
        if style == "outlook":
            header = (
                f"________________________________\nFrom: {parent.author}\n"
                f"Sent: {_DAYS[dt.weekday()]}, {dt.day} {_MONTHS[dt.month - 1]} {dt.year} {hm}\n"
                f"To: Acme Support <{SUPPORT_ADDRESS}>"
            )
            return header, parent.own_text
        if style == "webmail_de":
            header = f"Am {dt.day:02d}.{dt.month:02d}.{dt.year} um {hm} schrieb {parent.author_name}:"
        elif style == "thunderbird":
            header = f"On {dt.day:02d}/{dt.month:02d}/{dt.year} {hm}, {parent.author_name} wrote:"
        else:
            day = f"{_DAYS[dt.weekday()]}, {dt.day} {_MONTHS[dt.month - 1]} {dt.year}"
            header = f"On {day} at {hm}, {parent.author} wrote:"
        return header, _quote(parent.full_text)

    def _from_customer(
        self,
        thread: _Thread,
        at: int,
        own: str,
        parent: _Sent | None,
        *,
        opens: bool = False,
        drop_refs: bool = False,
    ) -> _Sent | None:
        if thread.closed or at >= self.end:
            thread.closed = True
            return None
        rng = self.rng
        c = thread.customer
        received = at + 2 + int(rng.expovariate(1 / 12))
        date_at = at
        if rng.random() < 0.015:  # a wrong clock or a wrong zone on the sender's side: hence Received: matters
            date_at = at + rng.choice((-7, -6, -1, 1, 2, 9)) * _HOUR + rng.randrange(-300, 300)
        message_id = self._message_id(c.client, c.domain)
        prefix = (
            "" if parent is None else ("AW: " if c.lang == "de" and c.client == "outlook" else _CLIENT_PREFIX[c.client])
        )
        subject = prefix + thread.subject
        headers = [
            f"Date: {_rfc2822(date_at, c.tz)}",
            f"From: {_address(c.name, c.address, c.charset, b_encoding=c.client == 'apple')}",
            f"To: Acme Support <{SUPPORT_ADDRESS}>",
        ]
        if thread.reply_to and opens:
            headers.append(f"Reply-To: {thread.reply_to}")
        headers.append(f"Subject: {_encode_header(subject, c.charset, b_encoding=c.client == 'apple')}")
        headers.append(f"Message-ID: {message_id}")
        threading, references = self._threading_headers(parent)
        if not drop_refs:
            headers.extend(threading)
        else:
            references = ()
        headers.append("MIME-Version: 1.0")
        if c.client == "apple" and rng.random() < 0.4:
            own += "\n\nSent from my iPhone"
        if parent is None:
            full, html = own, _html(own, None, None)
        else:
            style = "outlook" if c.client == "outlook" else c.client
            quote_header, quoted = self._quote_block(parent, c.tz, style)
            if style == "outlook":
                full = f"{own}\n\n{quote_header}\nSubject: {prefix.strip()} {thread.subject}\n\n{quoted}"
            else:
                full = f"{own}\n\n{quote_header}\n{quoted}"
            html = _html(own, quote_header, parent.own_text)
        content = self._mime(c.client, c.charset, full, html, replying=parent is not None)
        data = self._render(envelope=c.address, received_at=received, relay=c.relay, headers=headers, content=content)
        self._push(received, "customer", data)
        return _Sent(message_id, references, own, full, f"{c.name} <{c.address}>", c.name, at, received)

    def _from_agent(self, thread: _Thread, agent: _Agent, at: int, own: str, parent: _Sent | None) -> _Sent | None:
        if thread.closed or at >= self.end:
            thread.closed = True
            return None
        rng = self.rng
        c = thread.customer
        own = f"{own}\n\n{rng.choice(AGENT_CLOSE)}\n{agent.name.split()[0]}\n\n-- \n{agent.name}\nAcme Support\nhttps://acme.test/help"
        message_id = self._message_id("agent", "acme.test")
        to = thread.reply_to or c.address
        subject = thread.subject if parent is None else "Re: " + thread.subject
        headers = [
            f"Date: {_rfc2822(at, _BERLIN)}",
            f"From: {_address(agent.name, agent.address)}",
            f"To: {_address(c.name, to)}",
            f"Cc: Acme Support <{SUPPORT_ADDRESS}>",
            f"Reply-To: Acme Support <{SUPPORT_ADDRESS}>",
            f"Subject: {_encode_header(subject, 'utf-8')}",
            f"Message-ID: {message_id}",
        ]
        threading, references = self._threading_headers(parent)
        headers.extend(threading)
        headers += ["MIME-Version: 1.0", "X-Mailer: Acme Helpdesk 3.2"]
        if parent is None:
            full = own
        else:
            quote_header, quoted = self._quote_block(parent, _BERLIN, "gmail")
            full = f"{own}\n\n{quote_header}\n{quoted}"
        content = _part(full, "plain", "utf-8", rng.random() < 0.2)
        received = at + 1 + rng.randrange(4)
        relay = "mail.acme.test (mail.acme.test [10.20.0.5])"
        data = self._render(envelope=agent.address, received_at=received, relay=relay, headers=headers, content=content)
        self._push(received, "agent", data)
        return _Sent(message_id, references, own, full, f"{agent.name} <{agent.address}>", agent.name, at, received)

    def _auto_ack(self, thread: _Thread, request: _Sent, reference: int) -> None:
        at = request.received_at + 2 + self.rng.randrange(20)
        c = thread.customer
        text = (
            f"Hi {c.name.split()[0]},\n\nthanks for contacting Acme Support. This is an automatic "
            f"confirmation that we received your request (reference #{reference}).\nWe answer Monday to "
            "Friday, 09:00-17:00 (Berlin time), usually within one business day.\n\nThis is an automated "
            "message; replies to it reach the same team.\n\n-- \nAcme Support\nhttps://acme.test/help"
        )
        threading, _ = self._threading_headers(request)
        ack_subject = "[Acme Support] We received your request: " + thread.subject
        headers = [
            f"Date: {_rfc2822(at, _BERLIN)}",
            f"From: Acme Support <{SUPPORT_ADDRESS}>",
            f"To: {_address(c.name, thread.reply_to or c.address)}",
            f"Subject: {_encode_header(ack_subject, 'utf-8')}",
            f"Message-ID: {self._message_id('thunderbird', 'helpdesk.acme.test')}",
            *threading,
            "Auto-Submitted: auto-replied",
            "X-Autoreply: yes",
            "X-Auto-Response-Suppress: All",
            "MIME-Version: 1.0",
        ]
        relay = "helpdesk.acme.test (helpdesk.acme.test [10.20.0.9])"
        data = self._render(
            envelope=SUPPORT_ADDRESS,
            received_at=at + 1,
            relay=relay,
            headers=headers,
            content=_part(text, "plain", "utf-8", False),
        )
        self._push(at + 1, "auto_ack", data)

    def _bounce(self, reply: _Sent, failed: str, agent: _Agent) -> None:
        rng = self.rng
        at = reply.received_at + 1 + rng.randrange(5)
        boundary = f"{rng.getrandbits(40):010X}.{at}/mx.acme.test"
        domain = failed.split("@")[1]
        body = (
            f"This is a MIME-encapsulated message.\n\n--{boundary}\nContent-Description: Notification\n"
            f"Content-Type: text/plain; charset=us-ascii\n\nThis is the mail system at host mx.acme.test.\n\n"
            "I'm sorry to have to inform you that your message could not\n"
            "be delivered to one or more recipients.\n\n"
            f"<{failed}>: Host or domain name not found. Name service error for\n"
            f"    name={domain} type=MX: Host not found\n\n"
            f"--{boundary}\nContent-Description: Delivery report\nContent-Type: message/delivery-status\n\n"
            f"Reporting-MTA: dns; mx.acme.test\nArrival-Date: {_rfc2822(reply.received_at, _BERLIN)}\n\n"
            f"Final-Recipient: rfc822; {failed}\nAction: failed\nStatus: 5.1.2\n"
            f"Diagnostic-Code: X-Postfix; Host or domain name not found. Name service error for name={domain}"
            f"\n\n--{boundary}\nContent-Description: Undelivered Message Headers\n"
            "Content-Type: text/rfc822-headers\n\n"
            f"From: {_address(agent.name, agent.address)}\nTo: {failed}\nMessage-ID: {reply.message_id}\n"
            f"Date: {_rfc2822(reply.sent_at, _BERLIN)}\n\n--{boundary}--\n"
        )
        headers = [
            f"Date: {_rfc2822(at, _BERLIN)}",
            "From: Mail Delivery System <MAILER-DAEMON@mx.acme.test>",
            f"To: {SUPPORT_ADDRESS}",
            "Subject: Undelivered Mail Returned to Sender",
            f"Message-ID: <{at}.{rng.getrandbits(32):08X}@mx.acme.test>",
            "Auto-Submitted: auto-replied",
            "MIME-Version: 1.0",
        ]
        content = (
            f'Content-Type: multipart/report; report-type=delivery-status;\n\tboundary="{boundary}"\n',
            body.encode("ascii"),
        )
        data = self._render(
            envelope="MAILER-DAEMON",
            received_at=at,
            relay="localhost (localhost [127.0.0.1])",
            headers=headers,
            content=content,
        )
        self._push(at, "bounce", data)

    def _out_of_office(self, thread: _Thread, reply: _Sent) -> None:
        c = thread.customer
        at = reply.received_at + 5 + self.rng.randrange(60)
        back = datetime.fromtimestamp(at + 6 * _DAY, _BERLIN).date()
        text = (
            f"Ich bin bis {back:%d.%m.%Y} nicht im Büro und habe nur eingeschränkt Zugriff auf meine E-Mails."
            if c.lang == "de"
            else f"I'm out of the office until {back:%d %B} with limited access to e-mail. I'll reply then."
        )
        subject = ("Abwesenheitsnotiz: " if c.lang == "de" else "Out of Office: ") + "Re: " + thread.subject
        threading, _ = self._threading_headers(reply)
        headers = [
            f"Date: {_rfc2822(at, c.tz)}",
            f"From: {_address(c.name, c.address, c.charset)}",
            f"To: Acme Support <{SUPPORT_ADDRESS}>",
            f"Subject: {_encode_header(subject, c.charset)}",
            f"Message-ID: {self._message_id(c.client, c.domain)}",
            *threading,
            "Auto-Submitted: auto-generated",
            "X-Auto-Response-Suppress: All",
            "MIME-Version: 1.0",
        ]
        data = self._render(
            envelope=c.address,
            received_at=at + 3,
            relay=c.relay,
            headers=headers,
            content=_part(text, "plain", c.charset, False),
        )
        self._push(at + 3, "customer_autoreply", data)

    # ---- one ticket -------------------------------------------------------------------------------------

    def _text(self, lines: tuple[str, ...], slots: dict[str, str]) -> str:
        return self.rng.choice(lines).format_map(slots)

    def _customer_text(self, thread: _Thread, middle: str) -> str:
        rng = self.rng
        greeting = "Hallo," if thread.customer.lang == "de" else rng.choice(GREETINGS)
        closing = "Viele Grüße,\n{name}" if thread.customer.lang == "de" else rng.choice(CLOSINGS)
        if "hank" in middle and "hank" in closing:
            closing = "{first}"
        closing = closing.format_map(thread.slots)
        return f"{greeting}\n\n{middle}\n\n{closing}"

    def _agent_text(self, thread: _Thread, middle: str, *, sorry: bool = False) -> str:
        opening = self._text(AGENT_OPEN, thread.slots)
        if sorry:
            middle = f"{self.rng.choice(AGENT_SORRY)} {middle}"
        return f"{opening}\n\n{middle}"

    def _customer_ticket(self, index: int, at: int, topic_name: str) -> None:
        rng = self.rng
        customer = self._customer()
        topic = TOPICS[topic_name]
        angry = rng.random() < 0.12
        slots = self._slots(customer)
        german = customer.lang == "de" and rng.random() < 0.6
        subject = self._text(topic.subjects_de if german else topic.subjects, slots)
        if angry and rng.random() < 0.6:
            subject = rng.choice(("URGENT: {}", "Still not working: {}", "Third time asking - {}", "{}!!!")).format(
                subject
            )
            if rng.random() < 0.3:
                subject = subject.upper()
        thread = _Thread(customer, subject, slots, angry)
        bounce = index % _BOUNCE_EVERY == _BOUNCE_EVERY // 2
        if bounce:
            local, domain = customer.address.split("@")
            thread.reply_to = f"{local}@{domain.replace('.', 'i.', 1) if domain != 'gmail.com' else 'gmial.com'}"
        middle = self._text(topic.openings_de if german else topic.openings, slots)
        if angry:
            middle = f"{rng.choice(ANGRY_OPEN)} {middle}\n\n{rng.choice(ANGRY_CLOSE)}"
        if rng.random() < 0.08:  # a line that needs mbox escaping
            middle += f"\n\nFrom what I can tell this started on {slots['weekday']}."
        request = self._from_customer(thread, at, self._customer_text(thread, middle), None, opens=True)
        if request is None:
            return
        self.opened["customer"] += 1
        self._auto_ack(thread, request, 10000 + index)
        agent = self._agent()
        last = request
        if not bounce and rng.random() < _UNANSWERED_SHARE:
            for _ in range(rng.choice((0, 1, 1, 2))):
                nudge = self._nudge(thread, last)
                if nudge is None:
                    break
                last = nudge
            self.unanswered += 1
            return
        replies = exchanges = 0
        answer = self._text(topic.answers, slots)
        while True:
            reply_at = self._agent_reply_at(agent, last.received_at, first=replies == 0)
            waited = reply_at - last.received_at
            if waited > 20 * _HOUR and rng.random() < (0.6 if angry else 0.25):
                nudge = self._nudge(thread, last, before=reply_at)
                if nudge is not None:
                    last = nudge
            if replies > 0 and rng.random() < 0.1:  # a colleague picks it up
                agent = self._agent()
            sorry = angry or waited > 2 * _DAY
            reply = self._from_agent(thread, agent, reply_at, self._agent_text(thread, answer, sorry=sorry), last)
            if reply is None:
                if replies == 0:
                    self.unanswered += 1
                return
            replies += 1
            if thread.reply_to:
                self._bounce(reply, thread.reply_to, agent)
                thread.reply_to = None  # the customer writes again from the address that works
                later = self._customer_later(reply.received_at, 40)
                chase = self._from_customer(
                    thread,
                    later,
                    self._customer_text(thread, "Did you get my message? I never heard back."),
                    request,
                )
                if chase is None:
                    return
                last = chase
                answer = f"Sorry, my reply bounced (a typo in your address), so here it is again:\n\n{answer}"
                continue
            if rng.random() < 0.02:
                self._out_of_office(thread, reply)
            outcome = rng.choices(("thanks", "silent", "more"), (45, 22, 33) if exchanges < 3 else (60, 40, 0))[0]
            if outcome == "more":
                exchanges += 1
                detail = self._text(topic.details, slots)
                if rng.random() < 0.4:
                    detail = f"{rng.choice(STILL_BROKEN)} {detail}"
                if angry:
                    detail = f"{detail}\n\n{rng.choice(ANGRY_CLOSE)}"
                more = self._from_customer(
                    thread,
                    self._customer_later(reply.received_at, 3),
                    self._customer_text(thread, detail),
                    reply,
                    drop_refs=rng.random() < 0.04,
                )
                if more is None:
                    return
                last = more
                answer = rng.choice(AGENT_FOLLOW)
                continue
            final: _Sent = reply
            if outcome == "thanks":
                words = rng.choice(THANKS_DE) if customer.lang == "de" and rng.random() < 0.5 else rng.choice(THANKS)
                if customer.charset == "utf-8" and rng.random() < 0.15:
                    words += " 🙏"
                thanks = self._from_customer(
                    thread,
                    self._customer_later(reply.received_at, 2),
                    self._customer_text(thread, words),
                    reply,
                    drop_refs=rng.random() < 0.04,
                )
                if thanks is None:
                    return
                final = thanks
                if rng.random() < 0.3:
                    glad_at = self._agent_reply_at(agent, thanks.received_at, first=False)
                    glad = self._from_agent(
                        thread, agent, glad_at, self._agent_text(thread, rng.choice(AGENT_GLAD)), thanks
                    )
                    if glad is None:
                        return
                    final = glad
            if exchanges >= 3 or rng.random() >= 0.05:
                return
            # A reopen: the problem comes back after the inactivity window has closed the ticket.
            reopen_at = final.received_at + 8 * _DAY + rng.randrange(5 * _DAY)
            reopen = self._from_customer(thread, reopen_at, self._customer_text(thread, rng.choice(REOPEN)), final)
            if reopen is None:
                return
            last, exchanges = reopen, 3
            answer = f"Sorry to hear it's back. {rng.choice(AGENT_FOLLOW)}"

    def _nudge(self, thread: _Thread, last: _Sent, *, before: int | None = None) -> _Sent | None:
        rng = self.rng
        at = last.received_at + 16 * _HOUR + rng.randrange(2 * _DAY)
        if before is not None and at > before - 600:
            return None
        text = rng.choice(ANGRY_NUDGES if thread.angry else NUDGES).format_map(thread.slots)
        return self._from_customer(thread, at, self._customer_text(thread, text), last, drop_refs=rng.random() < 0.1)

    def _proactive_ticket(self, day: date) -> bool:
        rng = self.rng
        customer = self._customer()
        agent = self._agent()
        slots = self._slots(customer)
        subject, text = PROACTIVE[rng.randrange(len(PROACTIVE))]
        thread = _Thread(customer, subject.format_map(slots), slots, angry=False)
        at = self._epoch(day, 9 * _HOUR + rng.randrange(8 * _HOUR))
        first = self._from_agent(thread, agent, at, self._agent_text(thread, text.format_map(slots)), None)
        if first is None:
            return False
        self.opened["proactive"] += 1
        if rng.random() < 0.55:
            answer = self._text(PROACTIVE_ANSWERS, slots)
            reply = self._from_customer(
                thread, self._customer_later(first.received_at, 4), self._customer_text(thread, answer), first
            )
            if reply is not None and rng.random() < 0.8:
                follow_at = self._agent_reply_at(agent, reply.received_at, first=False)
                self._from_agent(thread, agent, follow_at, self._agent_text(thread, rng.choice(AGENT_GLAD)), reply)
        return True

    # ---- noise: bulk mail and broken messages -----------------------------------------------------------

    def _bulk(self, day: date) -> None:
        rng = self.rng
        mails = []
        if day.weekday() == 1:
            sender, list_id, subject = NEWSLETTERS[rng.randrange(len(NEWSLETTERS))]
            mails.append(
                (
                    sender,
                    subject,
                    [
                        f"List-Id: {list_id}",
                        f"List-Unsubscribe: <mailto:unsubscribe@{list_id[1:-1]}>",
                        "Precedence: bulk",
                    ],
                )
            )
        if rng.random() < 0.3:
            sender, subject = NOTIFICATIONS[rng.randrange(len(NOTIFICATIONS))]
            mails.append((sender, subject, ["Auto-Submitted: auto-generated", "Precedence: bulk"]))
        for sender, subject, extra in mails:
            at = self._epoch(day, 6 * _HOUR + rng.randrange(4 * _HOUR))
            address = sender.split("<")[1].rstrip(">")
            domain = address.split("@")[1]
            slots = self._slots(self._customer())
            title = subject.format_map(slots)
            text = (
                f"{title}\n\nRead this issue online: https://{domain}/issues/{rng.randint(100, 999)}\n\n"
                f"You receive this because {SUPPORT_ADDRESS} subscribed. Unsubscribe: https://{domain}/u"
            )
            headers = [
                f"Date: {_rfc2822(at, UTC)}",
                f"From: {sender}",
                f"To: {SUPPORT_ADDRESS}",
                f"Subject: {title}",
                f"Message-ID: {self._message_id('thunderbird', domain)}",
                *extra,
                "MIME-Version: 1.0",
            ]
            content = self._mime("gmail", "utf-8", text, _html(text, None, None), replying=False)
            relay = f"mail.{domain} (mail.{domain} [198.51.100.{rng.randint(1, 254)}])"
            self._push(
                at + 4,
                "bulk",
                self._render(envelope=address, received_at=at + 4, relay=relay, headers=headers, content=content),
            )

    def _malformed(self, at: int, kind: str) -> None:
        if at >= self.end:
            return
        rng = self.rng
        c = self._customer()
        slots = self._slots(c)
        topic = TOPICS[rng.choice(TOPIC_NAMES)]
        subject = self._text(topic.subjects, slots)
        text = f"Hello,\n\n{self._text(topic.openings, slots)}\n\n{c.name}"
        head = [f"From: {_address(c.name, c.address, c.charset)}", f"To: {SUPPORT_ADDRESS}"]
        date_header = f"Date: {_rfc2822(at, c.tz)}"
        mid = f"Message-ID: {self._message_id(c.client, c.domain)}"
        headers = [date_header, *head, f"Subject: {subject}", mid, "MIME-Version: 1.0"]
        content = _part(text, "plain", "utf-8", False)
        if kind == "truncated":  # the connection dropped mid-header: no Message-ID, no body
            headers, content = (
                [date_header, *head, f"Subject: {subject[: max(4, len(subject) // 2)]}"],
                ("", b""),
            )
        elif kind == "binary_junk":  # a corrupted spool file: a few headers, then noise
            junk = bytes(rng.getrandbits(8) for _ in range(rng.randint(200, 600)))
            headers, content = [date_header, "X-Garbage: \x7f\x7f"], ("", junk)
        elif kind == "bad_charset":
            label = rng.choice(("x-unknown", "utf-9", "latin-99"))
            latin1 = text.replace("a", "ä", 3).encode("latin-1", errors="replace")
            content = (
                f'Content-Type: text/plain; charset="{label}"\nContent-Transfer-Encoding: 8bit\n',
                latin1,
            )
        elif kind == "missing_message_id":
            headers.remove(mid)
        else:  # bad_date: the Date: header is junk, only Received: says when it arrived
            headers[0] = "Date: Mon, 32 Foo 2026 25:61:00 +9900"
        data = self._render(envelope=c.address, received_at=at, relay=c.relay, headers=headers, content=content)
        if kind == "truncated":
            data = data.rstrip(b"\n") + b"\n\n"
        self._push(at, "malformed:" + kind, data)

    # ---- the run ----------------------------------------------------------------------------------------

    def _daily_counts(self) -> list[tuple[date, int]]:
        """Tickets per day: weekday rhythm, quiet holidays, the spike week and noise; ``tickets`` in all."""
        rng = self.rng
        spike_boost = 1 + (SPIKE_FACTOR - 1) * TOPICS[SPIKE_CATEGORY].weight / sum(TOPIC_WEIGHTS)
        days, weights = [], []
        day = self.start
        while day <= self.last_day:
            weight = _WEEKDAY_WEIGHTS[day.weekday()] * rng.uniform(0.8, 1.2)
            if day in self.holidays:
                weight *= 0.5
            if self.spike_week <= day < self.spike_week + timedelta(days=7):
                weight *= spike_boost
            days.append(day)
            weights.append(weight)
            day += timedelta(days=1)
        total = sum(weights)
        counts, assigned, running = [], 0, 0.0
        for day, weight in zip(days, weights, strict=True):
            running += self.tickets * weight / total
            count = math.floor(running + 0.5) - assigned
            assigned += count
            counts.append((day, count))
        return counts

    def _day_topics(self, count: int, spike: bool) -> list[str]:
        """The day's topics in random order, in the catalogue's proportions.

        Quotas carried from day to day, not independent draws: the planted spike must stand out from weekly
        noise whatever the seed, and the week-to-week mix of a real help desk is steadier than dice.
        """
        weights = SPIKE_WEIGHTS if spike else TOPIC_WEIGHTS
        total = sum(weights)
        credit = self.topic_credit
        for name, weight in zip(TOPIC_NAMES, weights, strict=True):
            credit[name] += count * weight / total
        topics = [name for name in TOPIC_NAMES for _ in range(max(0, math.floor(credit[name])))][:count]
        ranked = sorted(TOPIC_NAMES, key=lambda n: credit[n] - topics.count(n), reverse=True)
        topics += [ranked[i % len(ranked)] for i in range(count - len(topics))]
        for name in topics:
            credit[name] -= 1
        self.rng.shuffle(topics)
        return topics

    def _flush(self, out: BinaryIO, until: int) -> None:
        heap = self.heap
        while heap and heap[0][0] < until:
            _, _, kind, data = heapq.heappop(heap)
            out.write(data)
            if kind.startswith("malformed:"):
                name = kind.split(":", 1)[1]
                self.malformed_counts[name] = self.malformed_counts.get(name, 0) + 1
                kind = "malformed"
            self.counts[kind] = self.counts.get(kind, 0) + 1

    def run(self, out: BinaryIO) -> DemoSummary:
        rng = self.rng
        step = max(1, self.tickets // self.malformed_planned)
        malformed_emitted = 0
        index = 0
        for day, count in self._daily_counts():
            spike = self.spike_week <= day < self.spike_week + timedelta(days=7)
            self._bulk(day)
            proactive = [self._workday(day) and rng.random() < _PROACTIVE_SHARE for _ in range(count)]
            topics = iter(self._day_topics(count - sum(proactive), spike))
            for is_proactive in proactive:
                # Capped at 23:50 so a ticket's first message and its acknowledgement land on its own day.
                hour = rng.choices(_HOURS, cum_weights=_HOUR_CUM_WEIGHTS)[0]
                at = self._epoch(day, min(hour * _HOUR + rng.randrange(_HOUR), 23 * _HOUR + 50 * 60))
                if is_proactive:
                    self._proactive_ticket(day)
                else:
                    self._customer_ticket(index, at, next(topics))
                if index % step == step // 2 and malformed_emitted < self.malformed_planned:
                    kind = _MALFORMED_KINDS[malformed_emitted % len(_MALFORMED_KINDS)]
                    self._malformed(
                        min(at + 60 + rng.randrange(3 * _HOUR), self._epoch(day, 23 * _HOUR + 59 * 60)), kind
                    )
                    malformed_emitted += 1
                index += 1
            self._flush(out, min(self._epoch(day + timedelta(days=1), 0), self.end))
        self.heap.clear()  # everything left would arrive after the snapshot
        return DemoSummary(
            messages=sum(self.counts.values()),
            tickets=self.opened["customer"] + self.opened["proactive"],
            malformed=self.counts.get("malformed", 0),
            first_day=self.start,
            last_day=self.last_day,
            agents=tuple(a.address for a in _AGENTS),
            spike_week=self.spike_week,
            spike_category=SPIKE_CATEGORY,
            customer_tickets=self.opened["customer"],
            proactive_tickets=self.opened["proactive"],
            unanswered_tickets=self.unanswered,
            messages_by_kind=tuple(sorted(self.counts.items())),
            malformed_by_kind=tuple(sorted(self.malformed_counts.items())),
        )


# --- the demo as a whole: files on disk, ready to ingest --------------------------------------------------

_MESSAGES_PER_TICKET = 4.86  # measured: 41,000 tickets gave 199,341 messages


def tickets_for_messages(messages: int) -> int:
    """How many tickets to ask for to get about ``messages`` messages (for benchmarks)."""
    return max(1, round(messages / _MESSAGES_PER_TICKET))


@dataclass(frozen=True)
class DemoFiles:
    directory: Path
    mbox: Path
    config: Path
    db: Path
    summary: DemoSummary


def prepare_demo(directory: Path, *, seed: int = 7, tickets: int = 600, db: Path | None = None) -> DemoFiles:
    """Write the demo mailbox and its deskpulse.toml into ``directory``.

    The demo's own store (``directory/deskpulse.duckdb``, unless ``db`` names another) starts empty each time,
    so a new seed or size never mixes with an earlier demo. A store named by ``db`` is left as it is.
    """
    directory.mkdir(parents=True, exist_ok=True)
    mbox = directory / "demo.mbox"
    summary = write_demo_mailbox(mbox, seed=seed, tickets=tickets)
    config = directory / "deskpulse.toml"
    config.write_text(DEMO_CONFIG_TOML, encoding="utf-8")
    (directory / "categories.toml").write_text(DEMO_TAXONOMY_TOML, encoding="utf-8")
    write_static_inputs(directory, summary.first_day, summary.last_day)
    if db is None:
        db = directory / "deskpulse.duckdb"
        for stale in (db, db.with_name(db.name + ".wal")):
            stale.unlink(missing_ok=True)
    return DemoFiles(directory, mbox, config, db, summary)
