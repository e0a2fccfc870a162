"""Ingest speed and peak memory, printed as figures (never asserted).

    python benchmarks/ingest_speed.py [--messages 200000] [--data DIR] [--skip-generated] [--skip-r-help]

Each import runs `deskpulse ingest` in a fresh process into a new store; peak memory is the resident memory of
that process and its parser processes together, sampled every 50 ms.
Corpora: every month of r-help-mbox from the shared data, and a generated demo mailbox of about --messages
messages (written once into benchmarks/.cache).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tree_rss_bytes(root: int) -> int:
    """Resident memory of a process and all its descendants (parser processes included), from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        stack.extend(children.get(pid, []))
    return total


def run_ingest(label: str, config: Path | None, paths: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.duckdb"
        # The real command, as a user runs it: `deskpulse ingest`, summary as JSON.
        options = ["--config", str(config)] if config else []
        args = [sys.executable, "-m", "deskpulse", *options, "--db", str(db), "ingest", "--format", "json"]
        args += [str(p) for p in paths]
        started = time.perf_counter()
        child = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp)
        peak = 0
        while child.poll() is None:
            peak = max(peak, _tree_rss_bytes(child.pid))
            time.sleep(0.05)
        stdout, stderr = child.communicate()
        if child.returncode != 0:
            raise SystemExit(f"{label}: import failed:\n{stderr}")
        elapsed = time.perf_counter() - started
        result = json.loads(stdout)
        size_mb = sum(p.stat().st_size for p in paths) / 1e6
        print(
            f"{label}: {result['messages_read']:,} messages ({size_mb:,.0f} MB) in {elapsed:.1f} s "
            f"= {result['messages_read'] / elapsed:,.0f} messages/s (the whole command: start-up, threading and "
            f"ticket rebuild included); stored {result['messages_stored']:,}, quarantined {result['quarantined']:,}, "
            f"tickets {result['tickets']:,}; peak memory {peak / 2**20:,.0f} MB (resident, the import process and its "
            "parser processes together)"
        )


def generated_mailbox(messages: int) -> tuple[Path, Path]:
    from deskpulse.demo import DEFAULT_START, DEMO_CONFIG_TOML, tickets_for_messages, write_demo_mailbox
    from deskpulse.demo_inputs import write_static_inputs

    cache = ROOT / "benchmarks" / ".cache"
    cache.mkdir(exist_ok=True)
    mbox = cache / f"generated-{messages}.mbox"
    config = cache / "demo.toml"
    config.write_text(DEMO_CONFIG_TOML, encoding="utf-8")
    write_static_inputs(
        cache, DEFAULT_START, DEFAULT_START.replace(year=DEFAULT_START.year + 2)
    )  # [files] of the config
    if not mbox.exists():
        started = time.perf_counter()
        summary = write_demo_mailbox(mbox, seed=1, tickets=tickets_for_messages(messages))
        print(f"generated {summary.messages:,} messages in {time.perf_counter() - started:.1f} s → {mbox}")
    return config, mbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--data", type=Path, default=Path(os.environ.get("DESKPULSE_DATA", ROOT.parent / "shared/data"))
    )
    parser.add_argument("--skip-generated", action="store_true")
    parser.add_argument("--skip-r-help", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if not args.skip_r_help:
        months = sorted((args.data / "r-help-mbox" / "r-help").glob("*.txt"))
        if months:
            run_ingest(f"r-help-mbox ({len(months)} monthly mboxes)", None, months)
        else:
            print(f"r-help-mbox not found under {args.data}; skipped")
    if not args.skip_generated:
        config, mbox = generated_mailbox(args.messages)
        run_ingest("generated mbox", config, [mbox])


if __name__ == "__main__":
    main()
