"""Print how our first reply and full resolution times agree with Zendesk's own ticket_metrics.

    python benchmarks/zendesk_agreement.py [DATA_DIR] [--export PATH]... [--config deskpulse.toml]

DATA_DIR defaults to $DESKPULSE_DATA, else ../shared/data next to the repository. Each Zendesk fixture is
imported into a store of its own (they are three different Zendesk accounts, whose ticket ids collide), the
ticket_metrics it holds are set beside our per-ticket facts, and the agreement (within a minute) is printed per
measure and clock with every kind of difference and its explanation. `--export PATH` (repeatable) does the same
for one export of your own (all the paths given make one account). Figures only, no verdicts:
tests/sources/test_zendesk.py asserts the classification on a small export worked out by hand.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO_ROOT / "src")]

from deskpulse.config import Config, load_config, parse_config  # noqa: E402
from deskpulse.sources.zendesk import store_zendesk  # noqa: E402
from deskpulse.sources.zendesk_agreement import KINDS, Agreement, compare_ticket_metrics  # noqa: E402
from deskpulse.sources.zendesk_files import read_zendesk  # noqa: E402
from deskpulse.store import Store  # noqa: E402

FIXTURES = {
    "zenpy-zendesk-cassettes": ["zenpy-zendesk-cassettes/extracted"],
    "airbyte-zendesk-expected-records-excerpt": ["airbyte-zendesk-expected-records-excerpt"],
    "fivetran-dbt-zendesk-seeds": ["fivetran-dbt-zendesk-seeds/integration_tests/seeds"],
}


def agreement_of(paths: list[Path], config: Config) -> tuple[Agreement, int]:
    """Import ``paths`` into a fresh store and compare; returns the agreement and the tickets stored."""
    objects = read_zendesk(paths)
    with tempfile.TemporaryDirectory() as directory, Store.open(Path(directory) / "zendesk.duckdb") as store:
        summary = store_zendesk(store, config, objects)
        return compare_ticket_metrics(store, config, objects), summary.tickets


def print_agreement(name: str, agreement: Agreement, tickets: int) -> None:
    print(f"\n{name}: {tickets:,} tickets stored; ticket_metrics for {agreement.with_metrics:,} tickets, "
          f"{agreement.known:,} of them counted here")  # fmt: skip
    if not agreement.with_metrics:
        print("  no ticket_metrics: nothing to compare")
        return
    for row in agreement.summary():
        share = "n/a" if row["share"] is None else f"{row['share']:.1%}"
        print(f"  {row['measure']:<16} {row['clock']:<9} compared {row['compared']:>5}  agree {row['agree']:>5}  "
              f"({share})")  # fmt: skip
        for kind, count in row["kinds"].items():
            print(f"      {count:>5}  {kind}: {KINDS[kind]}")
    for c in agreement.comparisons:
        if c.clock == "calendar":
            print(f"    ticket {c.ticket:>6} {c.measure:<16} zendesk {_minutes(c.zendesk_minutes)}  ours "
                  f"{_minutes(c.our_minutes)}  {c.kind}")  # fmt: skip


def _minutes(value: float | None) -> str:
    return f"{'-':>9}" if value is None else f"{value:>9.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", type=Path, help="the shared data directory")
    parser.add_argument("--export", action="append", type=Path, default=[], help="an export of your own")
    parser.add_argument("--config", type=Path, help="a deskpulse.toml (business hours for the business clock)")
    args = parser.parse_args()
    config = load_config(args.config) if args.config else parse_config({"helpdesk": {"timezone": "UTC"}})
    if args.export:
        print_agreement(", ".join(map(str, args.export)), *agreement_of(args.export, config))
        return
    data = args.data or Path(os.environ.get("DESKPULSE_DATA") or REPO_ROOT.parent / "shared" / "data")
    for name, relative in FIXTURES.items():
        paths = [data / r for r in relative]
        if not all(p.exists() for p in paths):
            print(f"\n{name}: not found under {data}")
            continue
        print_agreement(name, *agreement_of(paths, config))


if __name__ == "__main__":
    main()
