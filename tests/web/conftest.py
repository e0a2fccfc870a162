"""A demo help desk served by the real `deskpulse serve` on loopback, with accounts, for the web tests.

The store is the demo's (a few hundred generated tickets with categories, flags and a planted spike) plus one
ticket whose subject and body carry script payloads: customer text is hostile input, and the pages must show it
as text.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

DESKPULSE = [sys.executable, "-m", "deskpulse"]
MANAGER, MANAGER_PASSWORD = "boss", "manager-password-1"
AGENT, AGENT_PASSWORD, AGENT_ADDRESS = "ana", "agent-password-12", "ana@acme.test"
HOSTILE_SUBJECT = '<script>window.__pwned = "subject"</script> Refund please'
HOSTILE_BODY = "<img src=x onerror=\"window.__pwned = 'body'\"> I was charged twice."
HOSTILE_EML = f"""From: Mallory <mallory@evil.example>
To: help@acme.test
Subject: {HOSTILE_SUBJECT}
Date: Tue, 03 Mar 2026 10:00:00 +0100
Message-ID: <hostile-1@evil.example>
Content-Type: text/plain; charset=utf-8

{HOSTILE_BODY}
"""


@dataclass(frozen=True)
class Site:
    url: str
    dir: Path
    db: Path
    config: Path

    def cli(self, *args: str, password: str | None = None) -> str:
        """Run `deskpulse --config … --db … ARGS` and return its standard output."""
        env = {**os.environ, **({"DESKPULSE_PASSWORD": password} if password else {})}
        done = subprocess.run(
            [*DESKPULSE, "--config", str(self.config), "--db", str(self.db), *args],
            check=True,
            capture_output=True,
            text=True,
            env=env,
            cwd=self.dir,
        )
        return done.stdout

    def kpis(self, *args: str) -> dict[str, object]:
        return dict(json.loads(self.cli("kpis", "--format", "json", *args)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("web")
    demo = directory / "demo"
    subprocess.run([*DESKPULSE, "demo", "--tickets", "300", "--dir", str(demo)], check=True, capture_output=True)
    (directory / "hostile.eml").write_text(HOSTILE_EML, encoding="utf-8")
    port = free_port()
    site = Site(f"http://127.0.0.1:{port}", directory, demo / "deskpulse.duckdb", demo / "deskpulse.toml")
    site.cli("ingest", str(directory / "hostile.eml"))
    site.cli("user", "add", MANAGER, "--role", "manager", password=MANAGER_PASSWORD)
    site.cli("user", "add", AGENT, "--role", "agent", "--agent", AGENT_ADDRESS, password=AGENT_PASSWORD)
    server = subprocess.Popen(
        [*DESKPULSE, "--config", str(site.config), "--db", str(site.db), "serve", "--port", str(port)],
        cwd=directory,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    output = server.stdout.read() if server.stdout else ""
                    pytest.fail(f"deskpulse serve did not start: {output}")
                time.sleep(0.2)
        yield site
    finally:
        server.terminate()
        server.wait(timeout=30)
