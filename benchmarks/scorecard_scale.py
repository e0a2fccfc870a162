"""The full scorecard at scale: DuckDB through deskpulse's engine, next to the same scorecard in pandas.

    python benchmarks/scorecard_scale.py [--tickets 1000000] [--metrics all|default|ID,…] [--skip-pandas]
                                         [--rebuild] [--no-derived]

Generates a store of N tickets (four messages each: the customer's question, an auto-acknowledgement, an
agent's reply, the customer's follow-up; one ticket in twenty never answered) straight into the canonical
tables with SQL. No ticket is ever resolved: the customer always writes last, so the backlog holds every ticket,
the worst case for it. Then times, each in a fresh process with its peak resident memory:
  * the derived fact tables an import builds at its end (`deskpulse.tickets.rebuild_derived_facts`, under the
    import's memory limit): an ingest-time cost, paid once per import, shown apart. Built only when missing or
    stale (or with --rebuild);
  * deskpulse: `compute_kpis` for the metrics asked (default: every metric), by month × agent, reading the
    derived tables (with --no-derived: computing everything from the canonical tables, as on PostgreSQL or
    Spark, or after the settings changed);
  * pandas: the default scorecard (tickets created, unreplied, first response time in calendar and business
    seconds, by month × agent) written the way most teams write it, on the same canonical tables.
Both print their numbers for the default scorecard's first rows, so they can be compared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
CONFIG = """
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
"""
SPAN_DAYS = 730  # two years of tickets, whatever their number


def generate(db: Path, tickets: int) -> None:
    """Fill a fresh store with `tickets` synthetic tickets, in SQL (no Python per row)."""
    from deskpulse.store import Store

    db.unlink(missing_ok=True)
    with Store.open(db) as store:
        step = SPAN_DAYS * 86400 / tickets
        # A cheap deterministic hash of the ticket number stands in for randomness.
        store.execute(
            f"""
            CREATE TEMP TABLE plan AS
            SELECT i,
                   'T-' || lpad(i::VARCHAR, 12, '0') AS ticket_id,
                   TIMESTAMP '2025-01-01' + to_microseconds(CAST(i * {step} * 1e6 AS BIGINT)) AS created,
                   (hash(i) % 259200)::BIGINT + 300 AS wait_seconds,
                   'agent' || (hash(i * 7) % 8)::VARCHAR || '@acme.test' AS agent,
                   'customer' || (hash(i * 13) % ({tickets} // 3 + 1))::VARCHAR || '@example.org' AS customer,
                   i % 20 = 0 AS unanswered
            FROM range({tickets}) AS r(i)
            """
        )
        columns = ", ".join(f'"{c}"' for c in store.table_def("messages").column_names)
        store.execute(
            f"""
            INSERT INTO messages ({columns})
            SELECT key, key, 'generated', '#' || i, key, moment, 'received_header', moment, sender, NULL,
                   [recipient], [], 'help@acme.test', customer, 'Question ' || i, 'question ' || i, NULL, [],
                   role, 'generated', TRUE, 'text', '', '', FALSE, 0, 500, TIMESTAMP '2026-01-01'
            FROM (
                SELECT i, customer, ticket_id || '-' || kind AS key, moment, role, sender, recipient
                FROM plan, (VALUES
                    ('q', 0, 'customer'), ('ack', 10, 'automation'), ('reply', 1, 'agent'), ('follow', 2, 'customer')
                ) AS k(kind, offset_kind, role),
                LATERAL (SELECT
                    CASE kind WHEN 'q' THEN created
                              WHEN 'ack' THEN created + INTERVAL 10 SECOND
                              WHEN 'reply' THEN created + to_seconds(wait_seconds)
                              ELSE created + to_seconds(wait_seconds + 3600) END AS moment,
                    CASE role WHEN 'agent' THEN agent WHEN 'automation' THEN 'help@acme.test' ELSE customer END
                        AS sender,
                    CASE role WHEN 'customer' THEN 'help@acme.test' ELSE customer END AS recipient)
                WHERE NOT (unanswered AND kind IN ('reply', 'follow'))
            )
            """
        )
        store.execute(
            """
            INSERT INTO message_threads
            SELECT message_key, regexp_replace(message_key, '-[a-z]+$', ''), NULL, 'reference' FROM messages
            """
        )
        store.execute(
            """
            INSERT INTO tickets (ticket_id, root_message_key, subject, requester, mailbox, channel, created_at,
                                 updated_at, message_count, is_proactive, status, resolution_inferred, organisation,
                                 assignee)
            SELECT ticket_id, ticket_id || '-q', 'Question ' || i, customer, 'help@acme.test', 'email', created,
                   created + CASE WHEN unanswered THEN INTERVAL 10 SECOND ELSE to_seconds(wait_seconds + 3600) END,
                   CASE WHEN unanswered THEN 2 ELSE 4 END, FALSE, 'open', FALSE, 'example.org',
                   CASE WHEN unanswered THEN NULL ELSE agent END
            FROM plan
            """
        )


def _child(code: str, *args: str) -> dict[str, object]:
    """Run ``code`` in a fresh interpreter; it prints one JSON line. Adds wall time and peak memory."""
    wrapper = (
        "import json, sys, time\n"
        "started = time.perf_counter()\n"
        f"{code}\n"
        "result['seconds'] = time.perf_counter() - started\n"
        # VmHWM, the peak of this program's own memory: getrusage's ru_maxrss would count the parent's resident
        # memory at the fork too, which after generating a store in this process is gigabytes.
        "status = open('/proc/self/status').read().split('VmHWM:')[1]\n"
        "result['peak_mb'] = int(status.split()[0]) / 1024\n"
        "print(json.dumps(result, default=str))\n"
    )
    out = subprocess.run([sys.executable, "-c", wrapper, *args], check=True, capture_output=True, text=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


BUILD = """
from pathlib import Path
from deskpulse.config import load_config
from deskpulse.ingest import REBUILD_MEMORY_LIMIT
from deskpulse.metrics.facts import build_calendar
from deskpulse.store import Store
from deskpulse.tickets import rebuild_derived_facts
config = load_config(Path(sys.argv[2]))
with Store.open(Path(sys.argv[1])) as store:  # opened for writing: an older store is migrated first
    built = sys.argv[3] == "rebuild" or not build_calendar(store, config).derived
    if built:
        with store.memory_limit(REBUILD_MEMORY_LIMIT):  # as at the end of an import
            rebuild_derived_facts(store, config)
result = {"built": built, "limit": REBUILD_MEMORY_LIMIT}
"""

DESKPULSE = """
from pathlib import Path
from deskpulse.config import load_config
from deskpulse.metrics.catalog import resolve_metric_ids
from deskpulse.metrics.engine import KpiQuery, compute_kpis
from deskpulse.store import Store
config = load_config(Path(sys.argv[2]))
with Store.open(Path(sys.argv[1]), read_only=True) as store:
    if sys.argv[4] == "no-derived":  # as if the derived tables were stale: every fact table is an expression
        store.derived_state = lambda: None
    query = KpiQuery(resolve_metric_ids(sys.argv[3]), period="month", by=["agent"])
    rows = compute_kpis(store, config, query).rows
result = {"rows": len(rows), "first": rows[0]}
"""

PANDAS = """
import duckdb, numpy as np, pandas as pd
from pathlib import Path
from deskpulse.calendar import business_intervals, calendar_range
from deskpulse.config import load_config
config = load_config(Path(sys.argv[2]))
con = duckdb.connect(sys.argv[1], read_only=True)
# Load the tables the way a team would: whole, into DataFrames.
messages = con.sql("SELECT t.ticket_id, m.received_at, m.author_role, m.from_address "
                   "FROM messages m JOIN message_threads t USING (message_key)").df()
tickets = con.sql("SELECT ticket_id, created_at, is_proactive, status FROM tickets").df()
customer = messages[messages.author_role == "customer"].groupby("ticket_id").received_at.min()
customer = customer.rename("first_customer_at")
replies = messages[messages.author_role == "agent"].sort_values("received_at").groupby("ticket_id").first()
facts = tickets.set_index("ticket_id").join(customer).join(replies[["received_at", "from_address"]].rename(
    columns={"received_at": "first_reply_at", "from_address": "agent"}))
facts["frt"] = (facts.first_reply_at - facts.first_customer_at).dt.total_seconds()
# Business seconds: cumulative open seconds at each instant, from the same calendar intervals.
first, last = calendar_range(messages.received_at.min(), messages.received_at.max())
cal = business_intervals(config.business_hours, first, last).to_pandas().sort_values("span_start")
def clock(times):
    frame = pd.DataFrame({"t": times.values, "order": np.arange(len(times))}).dropna().sort_values("t")
    merged = pd.merge_asof(frame, cal, left_on="t", right_on="span_start")
    open_seconds = (merged.open_end - merged.span_start).dt.total_seconds()
    elapsed = (merged.t - merged.span_start).dt.total_seconds().clip(upper=open_seconds)
    out = pd.Series(np.nan, index=np.arange(len(times)))
    out[merged.order.values] = (merged.cum_seconds + elapsed).values
    return out.values
facts["frt_business"] = clock(facts.first_reply_at) - clock(facts.first_customer_at)
tz = config.helpdesk.timezone
facts["created_month"] = facts.created_at.dt.tz_localize("UTC").dt.tz_convert(tz).dt.strftime("%Y-%m")
facts["reply_month"] = facts.first_reply_at.dt.tz_localize("UTC").dt.tz_convert(tz).dt.strftime("%Y-%m")
created = facts.groupby(["created_month", "agent"], dropna=False).size()
unreplied = facts[facts.first_reply_at.isna()].groupby("created_month").size()
frt = facts.dropna(subset=["first_reply_at"]).groupby(["reply_month", "agent"]).agg(
    median=("frt", "median"), p90=("frt", lambda s: s.quantile(0.9)), mean=("frt", "mean"), n=("frt", "size"),
    business_median=("frt_business", "median"), business_p90=("frt_business", lambda s: s.quantile(0.9)))
result = {"rows": len(frt), "first": frt.reset_index().iloc[0].to_dict()}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--metrics", default="all", help="all, default (the default scorecard) or metric ids")
    parser.add_argument("--skip-pandas", action="store_true")
    parser.add_argument("--rebuild", action="store_true", help="build the derived tables even when up to date")
    parser.add_argument("--no-derived", action="store_true", help="compute without the derived tables")
    args = parser.parse_args()
    metrics = "" if args.metrics == "default" else args.metrics  # resolve_metric_ids: empty = default scorecard
    CACHE.mkdir(exist_ok=True)
    config = CACHE / "scale.toml"
    config.write_text(CONFIG, encoding="utf-8")
    db = CACHE / f"scale-{args.tickets}.duckdb"
    if not db.exists():
        started = time.perf_counter()
        generate(db, args.tickets)
        print(f"generated {args.tickets:,} tickets in {time.perf_counter() - started:.1f} s → {db}")
    print(f"machine: {os.cpu_count()} cores; {args.tickets:,} tickets, about {args.tickets * 39 // 10:,} messages")
    build = _child(BUILD, str(db), str(config), "rebuild" if args.rebuild else "if-stale")
    if build["built"]:
        print(
            f"derived tables, built as an import does (one thread, DuckDB limit {build['limit']}): "
            f"{build['seconds']:.1f} s, peak {build['peak_mb']:,.0f} MB"
        )
    else:
        print("derived tables: already built for these settings (--rebuild to time building them)")
    ours = _child(DESKPULSE, str(db), str(config), metrics, "no-derived" if args.no_derived else "derived")
    print(
        f"deskpulse (DuckDB{', no derived tables' if args.no_derived else ''}), metrics {args.metrics!r} "
        f"by month × agent: {ours['seconds']:.1f} s, "
        f"peak {ours['peak_mb']:,.0f} MB, {ours['rows']} rows"
    )
    print(f"  first row: {json.dumps(ours['first'], default=str)[:400]}")
    if not args.skip_pandas:
        theirs = _child(PANDAS, str(db), str(config))
        print(
            f"pandas, default scorecard by month × agent: {theirs['seconds']:.1f} s, peak {theirs['peak_mb']:,.0f} MB"
        )
        print(f"  first row: {json.dumps(theirs['first'], default=str)[:400]}")
        print(f"ratio pandas ÷ deskpulse: {float(theirs['seconds']) / float(ours['seconds']):.1f}×")


if __name__ == "__main__":
    main()
