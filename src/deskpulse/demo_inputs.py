"""The demo's input files: what a mailbox cannot tell, written the way a team would provide it.

After the demo mailbox is imported, this writes `agents.csv` (two teams), `schedules.csv` (inbox duty hours),
`costs.csv`, `sla.toml`, tracked work (`time_entries.csv`, one entry per human reply) and survey answers
(`surveys.csv`: CSAT and CES after a resolution, NPS now and then), and loads the last two through the same
library calls as `deskpulse load`. Seeded, so the same demo gives the same files.

The planted truths: Emma carries the most tickets on the same duty hours, so her utilization is above the
burnout line; customers whose ticket took more replies, or came back, are less satisfied, so CSAT falls with
each extra exchange.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from deskpulse.config import Config
from deskpulse.inputs.surveys import load_surveys
from deskpulse.inputs.time_entries import load_time_entries
from deskpulse.store import Store

# Two teams; Tier 2 takes the harder cases in the story the mailbox tells.
TEAMS = {
    "ana@acme.test": ("Ana Silva", "Tier 1"),
    "ben@acme.test": ("Ben Okafor", "Tier 1"),
    "emma@acme.test": ("Emma Schulz", "Tier 1"),
    "finn@acme.test": ("Finn Berger", "Tier 1"),
    "chloe@acme.test": ("Chloé Martin", "Tier 2"),
    "dev@acme.test": ("Dev Patel", "Tier 2"),
}
# Hours a day each agent is on inbox duty (the rest of their day is chat and phone, outside this demo). Emma
# has a longer shift, but not long enough for the tickets she is given.
DUTY_HOURS = {"emma@acme.test": 1.5}
DEFAULT_DUTY_HOURS = 1.0
AVAILABLE_SHARE = 0.85  # the rest goes to the team meeting and breaks
MONTHLY_COSTS = (("staff", 9_600), ("tools", 1_150), ("facilities", 900), ("training", 350))

SLA_TOML = """\
# The demo's SLA: business hours, one policy for everyone.
[[policies]]
name = "Standard"
hours = "business"
pause = ["pending"]
targets.default = { first_reply = "2h", next_reply = "4h", resolution = "16h" }
"""


@dataclass(frozen=True)
class DemoInputs:
    agents: Path
    schedules: Path
    costs: Path
    sla: Path
    time_entries: Path
    surveys: Path
    entries_loaded: int
    surveys_loaded: int


def write_static_inputs(directory: Path, first_day: date, last_day: date) -> None:
    """The files deskpulse.toml names under [files]; written before the import, as a team would have them."""
    _write_csv(
        directory / "agents.csv",
        ["address", "name", "team"],
        [[address, name, team] for address, (name, team) in TEAMS.items()],
    )
    _write_csv(
        directory / "schedules.csv",
        ["agent", "valid_from", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "available_share"],
        [
            [
                address,
                first_day.isoformat(),
                *[DUTY_HOURS.get(address, DEFAULT_DUTY_HOURS)] * 5,
                "",
                "",
                AVAILABLE_SHARE,
            ]
            for address in TEAMS
        ],
    )
    months = []
    month = first_day.replace(day=1)
    while month <= last_day:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    _write_csv(
        directory / "costs.csv",
        ["month", "category", "amount"],
        [[m.strftime("%Y-%m"), category, amount] for m in months for category, amount in MONTHLY_COSTS],
    )
    (directory / "sla.toml").write_text(SLA_TOML, encoding="utf-8")


def write_and_load_activity(directory: Path, store: Store, config: Config, seed: int) -> DemoInputs:
    """Tracked work and survey answers for the imported tickets, written as CSV and loaded into the store."""
    rng = random.Random(seed)
    entries = _time_entries(store, rng)
    entries_path = directory / "time_entries.csv"
    _write_csv(entries_path, ["entry_id", "message_id", "agent", "started_at", "minutes"], entries)
    surveys = _surveys(store, rng)
    surveys_path = directory / "surveys.csv"
    _write_csv(
        surveys_path,
        ["survey_id", "ticket_id", "kind", "agent", "sent_at", "delivered", "answered_at", "score"],
        surveys,
    )
    timezone = config.helpdesk.timezone
    return DemoInputs(
        directory / "agents.csv",
        directory / "schedules.csv",
        directory / "costs.csv",
        directory / "sla.toml",
        entries_path,
        surveys_path,
        load_time_entries(store, entries_path, timezone),
        load_surveys(store, surveys_path, timezone),
    )


def _time_entries(store: Store, rng: random.Random) -> list[list[object]]:
    """One entry per human agent reply, ending when the reply was sent: reading, looking up, writing."""
    replies = store.execute(
        """
        SELECT message_id, from_address, received_at FROM messages
        WHERE author_role = 'agent' AND is_public AND message_id IS NOT NULL
        ORDER BY received_at, message_id
        """
    )
    rows: list[list[object]] = []
    for number, (message_id, agent, sent_at) in enumerate(replies, start=1):
        minutes = round(min(90.0, rng.lognormvariate(2.4, 0.6)), 1)  # median ≈ 11 minutes
        if agent == "emma@acme.test":
            minutes = round(minutes * 1.3, 1)  # the overloaded agent writes longer answers
        started = sent_at - timedelta(minutes=minutes)
        rows.append([f"W-{number:05d}", f"<{message_id}>", agent, _utc(started), minutes])
    return rows


def _surveys(store: Store, rng: random.Random) -> list[list[object]]:
    """A CSAT and a CES invitation an hour after each resolution; NPS on one ticket in five.

    The customer's mood follows the ticket: every reply beyond the first, and a reopen, make a good score less
    likely. One invitation in forty bounces; about two in five are answered; a few customers answer twice.
    """
    tickets = store.execute(
        """
        WITH replies AS (
            SELECT th.ticket_id, count(*) AS replies FROM messages m
            JOIN message_threads th USING (message_key)
            WHERE m.author_role = 'agent' AND m.is_public GROUP BY th.ticket_id
        ), reopens AS (
            SELECT ticket_id, count(*) AS reopens FROM ticket_events
            WHERE kind = 'status' AND new_value = 'open' GROUP BY ticket_id
        )
        SELECT t.ticket_id, t.assignee, t.resolved_at, r.replies, coalesce(o.reopens, 0)
        FROM tickets t JOIN replies r USING (ticket_id) LEFT JOIN reopens o USING (ticket_id)
        WHERE t.status = 'resolved' AND t.excluded_reason IS NULL AND NOT t.is_proactive
        ORDER BY t.ticket_id
        """
    )
    rows: list[list[object]] = []
    for ticket_id, agent, resolved_at, replies, reopens in tickets:
        if replies == 0:
            continue
        sent = resolved_at + timedelta(hours=1)
        satisfied = max(0.1, 0.93 - 0.14 * (replies - 1) - 0.3 * min(reopens, 1))
        kinds = ["csat", "ces"] + (["nps"] if rng.random() < 0.2 else [])
        for kind in kinds:
            survey_id = f"S-{ticket_id[2:]}-{kind}"
            delivered = rng.random() >= 0.025
            base = [survey_id, ticket_id, kind, agent, _utc(sent)]
            if not delivered:
                rows.append([*base, "false", "", ""])
                continue
            if rng.random() >= 0.42:
                rows.append([*base, "true", "", ""])
                continue
            answered = sent + timedelta(minutes=rng.randint(10, 2 * 24 * 60))
            rows.append([*base, "true", _utc(answered), _score(kind, rng.random() < satisfied, rng)])
            if kind == "csat" and rng.random() < 0.04:  # a second thought a day later
                later = answered + timedelta(days=1)
                rows.append([*base, "true", _utc(later), _score(kind, rng.random() < satisfied, rng)])
    return rows


def _score(kind: str, happy: bool, rng: random.Random) -> int:
    if kind == "csat":
        return rng.choice((4, 5, 5)) if happy else rng.choice((1, 2, 3))
    if kind == "ces":
        return rng.choice((5, 6, 7)) if happy else rng.choice((2, 3, 4))
    return rng.choice((9, 10, 8)) if happy else rng.choice((3, 5, 6, 7))


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")  # the store's UTC, said so explicitly


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
