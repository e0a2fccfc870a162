"""How fast `deskpulse serve` answers the scorecard page and the KPI API on a large store.

    python benchmarks/web_speed.py [--tickets 1000000] [--requests 50]

Uses the store `benchmarks/scorecard_scale.py` generates (`benchmarks/.cache/scale-N.duckdb`; run that first, it
builds the derived tables too), starts the real server on loopback in its own process, signs in, and times, from
this process over HTTP:
  * cold: the first request of each URL after the server starts (the library computes the numbers);
  * distinct filters: one request for each of several filter combinations not asked before (each computed);
  * warm: ``--requests`` requests of each URL once computed (the app answers from its memory of results, which
    lasts until the store file changes);
and prints p50 and p95 per kind in milliseconds. Run it on a quiet machine: both cores are used by the server.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / ".cache"
URLS = ("/scorecard", "/api/kpis", "/api/scorecard")
FILTERED = (
    "/api/kpis?period=week",
    "/api/kpis?by=agent",
    "/api/kpis?since=2025-01-01&until=2025-06-30",
    "/scorecard?mailbox=help@acme.test",
    "/api/kpis?metrics=tickets_created,first_response_time&period=day",
)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    db, config = CACHE / f"scale-{args.tickets}.duckdb", CACHE / "scale.toml"
    if not db.exists() or not config.exists():
        sys.exit(f"no {db}: run `python benchmarks/scorecard_scale.py --tickets {args.tickets}` first")

    from deskpulse.state import connect_state, state_path
    from deskpulse.web import accounts

    with connect_state(state_path(db)) as connection:
        accounts.prepare(connection)
        if "bench" not in {viewer.username for viewer in accounts.list_users(connection)}:
            accounts.add_user(connection, "bench", "benchmark-password", "manager")
        token = accounts.add_token(connection, "bench", "web_speed")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    command = [
        sys.executable,
        "-m",
        "deskpulse",
        "--config",
        str(config),
        "--db",
        str(db),
        "serve",
        "--port",
        str(port),
    ]
    server = subprocess.Popen(command, env={**os.environ}, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        client = httpx.Client(
            base_url=f"http://127.0.0.1:{port}", timeout=600, headers={"Authorization": f"Bearer {token}"}
        )
        for _ in range(300):
            try:
                client.get("/login")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        # Pages take a session; sign in for them (the API takes the token).
        form = client.get("/login").text
        csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        client.post("/login", data={"username": "bench", "password": "benchmark-password", "csrf": csrf})

        def timed(url: str) -> float:
            started = time.perf_counter()
            response = client.get(url)
            response.raise_for_status()
            return (time.perf_counter() - started) * 1000

        cold = {url: timed(url) for url in URLS}
        distinct = [timed(url) for url in FILTERED]
        warm = {url: [timed(url) for _ in range(args.requests)] for url in URLS}
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"{args.tickets:,} tickets ({db.name}); times in ms, measured over HTTP on loopback")
    for url in URLS:
        print(
            f"  {url:<16} cold {cold[url]:8.0f}   warm p50 {statistics.median(warm[url]):6.1f}  "
            f"p95 {percentile(warm[url], 0.95):6.1f}  (n={len(warm[url])})"
        )
    print(
        f"  distinct filters, each computed once: p50 {statistics.median(distinct):.0f}  "
        f"p95 {percentile(distinct, 0.95):.0f}  (n={len(distinct)})"
    )


if __name__ == "__main__":
    main()
