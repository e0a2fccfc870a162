"""`deskpulse alerts run` on the desk of conftest.py."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

from tests.alerts.conftest import HOSTILE, Desk
from typer.testing import CliRunner

from deskpulse.cli import app
from deskpulse.state import state_path


def closed_port() -> int:
    """A port nothing listens on (bound, then let go)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def webhook_only(port: int) -> str:
    return f"[alerts]\nkinds = ['negative_sentiment']\n[[alerts.webhooks]]\nname = 'support'\nurl = 'http://127.0.0.1:{port}/'\n"


def invoke(config: Path, db: Path, *arguments: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["--config", str(config), "--db", str(db), "alerts", "run", *arguments])
    return result.exit_code, result.stdout


def test_a_dry_run_lists_the_alerts_as_json_and_leaves_no_state(desk: Desk) -> None:
    desk.config(webhook_only(closed_port()))
    code, out = invoke(desk.directory / "deskpulse.toml", desk.db, "--dry-run", "--format", "json")
    assert code == 0, out
    run = json.loads(out)
    key = f"negative_sentiment:{desk.tickets[HOSTILE]}:{desk.hostile_message}"
    assert (run["now"], run["dry_run"], [a["key"] for a in run["new"]]) == ("2026-03-01T18:00:00Z", True, [key])
    assert run["deliveries"] == [{"channel": "webhook:support", "alerts": [key], "sent": False, "error": None}]
    assert not state_path(desk.db).exists()


def test_a_failed_delivery_exits_with_1_for_cron(desk: Desk, tmp_path: Path) -> None:
    db = tmp_path / "deskpulse.duckdb"  # a copy: this run writes its state file beside the store
    shutil.copy(desk.db, db)
    desk.config(webhook_only(closed_port()))
    code, out = invoke(desk.directory / "deskpulse.toml", db, "--now", "2026-03-01T19:00")
    assert code == 1
    # 19:00 in the reporting timezone (UTC here); the flag was raised at 09:40, within the last 24 h.
    assert "Alerts as of 2026-03-01 19:00 UTC: 1 found, 1 new, 0 held back by the cooldown" in out
    assert "failed: webhook:support, 1 alert: cannot reach 127.0.0.1:" in out
    assert "(tried again at the next run)" in out
    assert state_path(db).exists()


def test_without_a_channel_it_only_shows_what_it_found(desk: Desk) -> None:
    desk.config("[alerts]\nkinds = ['sla_breach']\n")
    code, out = invoke(desk.directory / "deskpulse.toml", desk.db)
    assert code == 0, out
    assert f"SLA breach in {desk.tickets['V2 card declined']} “V2 card declined”" in out
    assert "No channel configured ([[alerts.webhooks]] or [alerts.email] in deskpulse.toml)" in out
