"""The alert loop inside `deskpulse serve`: with `[alerts]` channels configured, the running server delivers
the demo's alerts to a webhook (a local HTTP server) and as an e-mail digest (a real SMTP server on loopback
requiring STARTTLS and AUTH), without anyone running `deskpulse alerts run`."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from tests.alerts.servers import SMTP_PASSWORD, SMTP_USER, smtp_server, webhook_server
from tests.web.conftest import DESKPULSE, Site, free_port


def test_serve_delivers_alerts_by_webhook_and_digest(demo_site: Site, tmp_path: Path) -> None:
    with smtp_server(tmp_path) as smtp, webhook_server() as (url, receiver):
        config = demo_site.config.with_name("alerts.toml")  # beside the demo's input files, which it names
        config.write_text(
            demo_site.config.read_text(encoding="utf-8")
            + f"""
[alerts]
lookback_hours = 720

[[alerts.webhooks]]
name = "leads"
url = "{url}"

[alerts.email]
host = "127.0.0.1"
port = {smtp.port}
user = "{SMTP_USER}"
password_env = "TEST_SMTP_PASSWORD"
from = "deskpulse <{SMTP_USER}>"
to = ["lead@acme.test"]
ca_file = "{smtp.ca_file}"
""",
            encoding="utf-8",
        )
        port = free_port()
        server = subprocess.Popen(
            [*DESKPULSE, "--config", str(config), "--db", str(demo_site.db), "serve", "--port", str(port)],
            env={**os.environ, "TEST_SMTP_PASSWORD": SMTP_PASSWORD},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            deadline = time.monotonic() + 90
            while not (receiver.posts and smtp.messages) and time.monotonic() < deadline and server.poll() is None:
                time.sleep(0.5)
        finally:
            server.terminate()
            output = server.communicate(timeout=30)[0]
        assert receiver.posts, output
        assert smtp.messages, output
    digest = smtp.messages[0]
    assert digest.encrypted and digest.login == SMTP_USER and digest.recipients == ["lead@acme.test"]
    texts = " ".join(post["text"] for post in receiver.posts)
    body = digest.message.get_body(("plain",))
    assert body is not None
    # The demo's last month holds open sentiment flags and missed first replies: both kinds reach both channels.
    for kind in ("negative sentiment", "SLA"):
        assert kind.lower() in texts.lower(), texts
        assert kind.lower() in body.get_content().lower()
