"""The survey loop inside `deskpulse serve`: a server started on a help desk with resolved tickets mails their
customers by itself (the first run comes two seconds after start-up), over the real SMTP server, and the
invitations land in the store as survey rows."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from tests.alerts.servers import SMTP_PASSWORD, SMTP_USER, SmtpServer
from tests.surveys.conftest import HELPDESK_TOML, PASSWORD_ENV, SURVEYS_TOML, Template

from deskpulse.store import Store


def test_serve_mails_due_surveys_by_itself(template: Template, smtp: SmtpServer, tmp_path: Path) -> None:
    db = tmp_path / "deskpulse.duckdb"
    shutil.copy(template.db, db)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = SURVEYS_TOML.format(
        base_url=f"http://127.0.0.1:{port}",
        port=smtp.port,
        user=SMTP_USER,
        password_env=PASSWORD_ENV,
        ca_file=smtp.ca_file,
    )
    # The desk's tickets resolved in March 2026; the server sends as of its clock, so look back far enough.
    settings = settings.replace("send_every_minutes = 0", "send_every_minutes = 60\nlookback_days = 36500")
    config = tmp_path / "deskpulse.toml"
    config.write_text(HELPDESK_TOML + settings, encoding="utf-8")
    smtp.messages.clear()
    server = subprocess.Popen(
        [sys.executable, "-m", "deskpulse", "--config", str(config), "--db", str(db), "serve", "--port", str(port)],
        env={**os.environ, PASSWORD_ENV: SMTP_PASSWORD},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(smtp.messages) < 4 and time.monotonic() < deadline and server.poll() is None:
            time.sleep(0.3)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    # Every due ticket's customer but the one the server refuses and the one asked twice within customer_days
    # (the same four as the round trip's first send).
    recipients = sorted(r for message in smtp.messages for r in message.recipients)
    assert recipients == ["carla@example.org", "dan@example.org", "fay@example.org", "hal@example.org"], output
    with Store.open(db, read_only=True) as store:
        invitations = store.execute(
            "SELECT count(*) FROM surveys WHERE source = 'deskpulse' AND answered_at IS NULL AND delivered"
        )
    assert invitations == [(4,)]
