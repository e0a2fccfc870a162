"""Print how deskpulse's reading of the UCI incident log (a ServiceNow event log) agrees with the log's own columns.

    python benchmarks/uci_agreement.py [DATA_DIR] [--sla FILE]

DATA_DIR defaults to $DESKPULSE_DATA, else ../shared/data next to the repository. The log is imported with the
real connector (`deskpulse import csv` with examples/mappings/uci-incident-log.toml) into a temporary store,
with the SLA policies of --sla (default examples/mappings/uci-sla.toml) in the config. Then, per incident, ours
against the log's own columns, read straight from its last row by the stdlib:

* reopens: the reopens of our status history (resolved → not resolved) against `reopen_count`;
* resolution: our `resolved_at` (the latest change into resolved) against `resolved_at`, and against `closed_at`;
* SLA: our outcome of the resolution target (achieved when no target of the ticket was breached) against
  `made_sla`, per priority; and, to choose the targets of the SLA file, the round target per priority that
  agrees best with `made_sla` on the log's own resolution times (opened_at → resolved_at).

Figures only, no verdicts: docs/connectors.md explains each kind of disagreement.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
import zipfile
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from statistics import median

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "src")]

from deskpulse.config import parse_config, resolve_files  # noqa: E402
from deskpulse.metrics.facts import build_calendar, list_tickets  # noqa: E402
from deskpulse.sources.tabular import import_tabular  # noqa: E402
from deskpulse.sources.tabular_mapping import read_mapping  # noqa: E402
from deskpulse.store import Store  # noqa: E402

MAPPING = REPO_ROOT / "examples" / "mappings" / "uci-incident-log.toml"
SLA = REPO_ROOT / "examples" / "mappings" / "uci-sla.toml"
LOG = Path("uci-incident-event-log") / "incident_event_log.zip"
PRIORITIES = {"1 - Critical": "urgent", "2 - High": "high", "3 - Moderate": "normal", "4 - Low": "low"}
HOUR = 3600
# The round resolution targets tried against made_sla, in hours: from one hour to four weeks.
CANDIDATE_HOURS = (1, 2, 4, 8, 12, 24, 48, 72, 96, 120, 168, 240, 336, 504, 672)


@dataclass(frozen=True)
class Incident:
    """What the log's last row of an incident says about it."""

    number: str
    priority: str
    opened_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    reopen_count: int
    made_sla: bool
    last_update_resolved: datetime | None  # the last update made while the incident was Resolved
    awaiting_seconds: float  # time in the Awaiting states (from such a row to the next row): a paused SLA clock
    priority_changed: bool
    last_update: datetime | None
    last_state: str


def read_incidents(log: Path) -> dict[str, Incident]:
    def moment(text: str) -> datetime | None:
        return None if text == "?" else datetime.strptime(text, "%d/%m/%Y %H:%M")

    incidents: dict[str, Incident] = {}
    with zipfile.ZipFile(log) as archive, archive.open(archive.namelist()[0]) as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")):
            opened_at = moment(row["opened_at"])
            updated_at = moment(row["sys_updated_at"])
            assert opened_at is not None and updated_at is not None
            priority = PRIORITIES.get(row["priority"], row["priority"])
            before = incidents.get(row["number"])
            last_update_resolved = before.last_update_resolved if before else None
            if row["incident_state"] == "Resolved":
                last_update_resolved = updated_at
            awaiting = before.awaiting_seconds if before else 0.0
            if before and before.last_state.startswith("Awaiting") and before.last_update:
                awaiting += max(0.0, (updated_at - before.last_update).total_seconds())
            incidents[row["number"]] = Incident(
                row["number"],
                priority,
                opened_at,
                moment(row["resolved_at"]),
                moment(row["closed_at"]),
                int(row["reopen_count"]),
                row["made_sla"] == "true",
                last_update_resolved,
                awaiting,
                bool(before and (before.priority_changed or before.priority != priority)),
                updated_at,
                row["incident_state"],
            )
    return incidents


def business_hours(start: datetime, end: datetime) -> float:
    """Seconds between two times within Mon–Fri 08:00–17:00 (a common ServiceNow schedule, "8-5 weekdays")."""
    total, day = 0.0, start.date()
    while day <= end.date():
        if day.weekday() < 5:
            opens, closes = datetime.combine(day, dt_time(8)), datetime.combine(day, dt_time(17))
            total += max(0.0, (min(end, closes) - max(start, opens)).total_seconds())
        day += timedelta(days=1)
    return total


def share(part: int, whole: int) -> str:
    return f"{part:,} of {whole:,} ({100 * part / whole:.1f} %)" if whole else "0 of 0"


def compare_reopens(incidents: dict[str, Incident], ours: dict[str, dict]) -> None:
    print("\nReopens: our status history's reopens vs reopen_count")
    pairs = Counter((ours[n]["reopens"], i.reopen_count) for n, i in incidents.items() if n in ours)
    agree = sum(count for (a, b), count in pairs.items() if a == b)
    print(f"  agree: {share(agree, sum(pairs.values()))}")
    print(f"  incidents reopened (theirs): {sum(c for (_, b), c in pairs.items() if b > 0):,}")
    for (a, b), count in sorted(pairs.items(), key=lambda item: -item[1]):
        if a != b:
            print(f"  ours {a}, theirs {b}: {count:,}")


def compare_resolutions(incidents: dict[str, Incident], ours: dict[str, dict]) -> None:
    print("\nResolution: our resolved_at (latest change into resolved) vs the log's resolved_at and closed_at")
    both = [(i, ours[n]["resolved_at"]) for n, i in incidents.items() if n in ours]
    theirs_missing = sum(1 for i, _ in both if i.resolved_at is None)
    ours_missing = sum(1 for i, at in both if at is None and i.resolved_at is not None)
    compared = [(i, at) for i, at in both if at is not None and i.resolved_at is not None]
    print(
        f"  incidents: {len(both):,}; no resolved_at in the log: {theirs_missing:,}; "
        f"not resolved in ours: {ours_missing:,}"
    )
    gaps = [(at - i.resolved_at).total_seconds() for i, at in compared]
    exact = sum(1 for gap in gaps if gap == 0)
    print(f"  same minute: {share(exact, len(gaps))}")
    print(f"  ours earlier: {share(sum(1 for gap in gaps if gap < 0), len(gaps))}", end="")
    earlier = [-gap / HOUR for gap in gaps if gap < 0]
    print(f"; median {median(earlier):.1f} h earlier" if earlier else "")
    restamped = sum(1 for i, at in compared if at < i.resolved_at and i.resolved_at == i.last_update_resolved)
    print(f"    of which the log's resolved_at is its last update while Resolved: {restamped:,}")
    later = [gap / HOUR for gap in gaps if gap > 0]
    print(f"  ours later: {share(len(later), len(gaps))}" + (f"; median {median(later):.1f} h later" if later else ""))
    ours_time = [(at - i.opened_at).total_seconds() for i, at in compared]
    their_time = [(i.resolved_at - i.opened_at).total_seconds() for i, _ in compared]
    print(
        f"  resolution time (opened → resolved), median: ours {median(ours_time) / HOUR:.2f} h, "
        f"theirs {median(their_time) / HOUR:.2f} h"
    )
    closed = [(i, at) for i, at in compared if i.closed_at is not None]
    same_as_closed = sum(1 for i, at in closed if at == i.closed_at)
    print(f"  our resolved_at equal to closed_at: {share(same_as_closed, len(closed))}")
    wait = [(i.closed_at - i.resolved_at).total_seconds() / HOUR for i, _ in closed]
    print(f"  closed_at after resolved_at (the log's own columns), median: {median(wait):.1f} h")


def fit_targets(incidents: dict[str, Incident]) -> None:
    print("\nSLA targets: the round resolution target per priority that agrees best with made_sla, on three clocks")
    print("  over the log's own opened_at → resolved_at (incidents with a resolved_at): calendar hours; calendar")
    print("  hours paused in the Awaiting states; business hours Mon–Fri 08:00–17:00")
    clocks = {
        "calendar": lambda i: (i.resolved_at - i.opened_at).total_seconds(),
        "paused": lambda i: (i.resolved_at - i.opened_at).total_seconds() - i.awaiting_seconds,
        "business": lambda i: business_hours(i.opened_at, i.resolved_at),
    }
    for priority in ("urgent", "high", "normal", "low"):
        resolved = [i for i in incidents.values() if i.priority == priority and i.resolved_at is not None]
        made = sum(1 for i in resolved if i.made_sla)
        fits = []
        for name, clock in clocks.items():
            timed = [(clock(i), i.made_sla) for i in resolved]
            scored = [(sum(1 for s, m in timed if (s <= hours * HOUR) == m), hours) for hours in CANDIDATE_HOURS]
            best, hours = max(scored, key=lambda item: (item[0], -item[1]))
            fits.append(f"{name} {hours:>3} h {100 * best / len(timed):5.1f} %")
        print(
            f"  {priority:<7} {len(resolved):>6,} incidents, made_sla {100 * made / len(resolved):5.1f} %:  "
            + "  ".join(fits)
        )
    for priority in ("urgent", "high"):
        steady = [i for i in incidents.values() if i.priority == priority and not i.priority_changed]
        quick = [i for i in steady if i.resolved_at is not None and i.resolved_at - i.opened_at <= timedelta(hours=1)]
        print(
            f"  {priority}: priority never changed {len(steady):,}, made_sla {sum(i.made_sla for i in steady):,}; "
            f"of them resolved within an hour {len(quick):,}, made_sla {sum(i.made_sla for i in quick):,}"
        )


def compare_sla(incidents: dict[str, Incident], ours: dict[str, dict], sla: Path) -> None:
    print(
        f"\nSLA outcome: ours (with {sla.relative_to(REPO_ROOT) if sla.is_relative_to(REPO_ROOT) else sla}) vs made_sla"
    )
    table: Counter[tuple[str, str, bool]] = Counter()
    for number, incident in incidents.items():
        ticket = ours.get(number)
        if ticket is None:
            continue
        if not ticket["sla_targets"]:
            outcome = "no target"
        elif ticket["status"] != "resolved":
            outcome = "not resolved"
        else:
            outcome = "made" if ticket["sla_breaches"] == 0 else "breached"
        table[(incident.priority, outcome, incident.made_sla)] += 1
    total_agree = total = 0
    for priority in ("urgent", "high", "normal", "low"):
        rows = {k[1:]: v for k, v in table.items() if k[0] == priority}
        agree = rows.get(("made", True), 0) + rows.get(("breached", False), 0)
        judged = sum(v for (outcome, _), v in rows.items() if outcome in ("made", "breached"))
        total_agree, total = total_agree + agree, total + judged
        detail = ", ".join(f"ours {o}/theirs {'made' if m else 'missed'} {v:,}" for (o, m), v in sorted(rows.items()))
        print(f"  {priority:<7} agree {share(agree, judged)}  [{detail}]")
    print(f"  all     agree {share(total_agree, total)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default_data = os.environ.get("DESKPULSE_DATA") or str(REPO_ROOT.parent / "shared" / "data")
    parser.add_argument("data", nargs="?", default=default_data, type=Path)
    parser.add_argument("--sla", default=SLA, type=Path, help="the SLA policies to hold incidents to")
    args = parser.parse_args()
    log = args.data / LOG
    if not log.is_file():
        sys.exit(f"{log} not found; give DATA_DIR or set DESKPULSE_DATA")
    incidents = read_incidents(log)
    config = resolve_files(parse_config({"helpdesk": {"timezone": "UTC"}, "files": {"sla": str(args.sla.resolve())}}))
    with tempfile.TemporaryDirectory() as directory, Store.open(Path(directory) / "uci.duckdb") as store:
        started = time.perf_counter()
        result = import_tabular(store, config, read_mapping(MAPPING, "UTC"), [log])
        seconds = time.perf_counter() - started
        rows = list_tickets(store, build_calendar(store, config))
    summary = result.summary
    print(f"{log}: {len(incidents):,} incidents, imported in {seconds:.1f} s")
    print(
        f"  records read {summary.read:,}, stored {summary.stored:,}, quarantined {summary.quarantined:,}; "
        f"tickets {summary.tickets:,}"
    )
    for reason, found in result.problems_by_reason().items():
        print(f"  {reason}: {len(found):,} (first: {found[0][0]})")
    prefix = f"{summary.source}-"
    ours = {row["ticket_id"].removeprefix(prefix): row for row in rows}
    compare_reopens(incidents, ours)
    compare_resolutions(incidents, ours)
    fit_targets(incidents)
    compare_sla(incidents, ours, args.sla)


if __name__ == "__main__":
    main()
