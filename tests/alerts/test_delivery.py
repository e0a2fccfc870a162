"""Delivery end to end: `run_alerts` on the desk of conftest.py sends to a real SMTP server (STARTTLS and AUTH
required, a self-signed certificate trusted through alerts.email.ca_file) and real webhook receivers on loopback,
each alert once per channel, failures tried again at the next run."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from tests.alerts.conftest import HOSTILE, Desk
from tests.alerts.servers import SMTP_PASSWORD, SMTP_USER, SmtpServer, WebhookReceiver, smtp_server, webhook_server

from deskpulse.alerts.log import create_tables, take_lease
from deskpulse.alerts.run import AlertRun, run_alerts
from deskpulse.config import Config
from deskpulse.state import connect_state
from deskpulse.store import Store

ENVIRON = {"SMTP_PASSWORD": SMTP_PASSWORD, "OPS_WEBHOOK": ""}


@pytest.fixture(scope="module")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        yield server


@pytest.fixture
def inbox(smtp: SmtpServer) -> SmtpServer:
    smtp.messages.clear()
    return smtp


@pytest.fixture
def hooks() -> Iterator[tuple[str, type[WebhookReceiver], str, type[WebhookReceiver]]]:
    with webhook_server() as (support_url, support), webhook_server() as (ops_url, ops):
        yield support_url, support, ops_url, ops


@pytest.fixture
def state(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = connect_state(tmp_path / "deskpulse.state.sqlite")
    yield connection
    connection.close()


def alerts_toml(support_url: str, smtp: SmtpServer, *, kinds: str = "'negative_sentiment', 'sla_breach'") -> str:
    return f"""
[alerts]
kinds = [{kinds}]

[[alerts.webhooks]]
name = "support"
url = "{support_url}"

[[alerts.webhooks]]
name = "ops"
url_env = "OPS_WEBHOOK"

[alerts.email]
host = "127.0.0.1"
port = {smtp.port}
user = "{SMTP_USER}"
password_env = "SMTP_PASSWORD"
from = "deskpulse <{SMTP_USER}>"
to = ["lead@acme.test", "manager@acme.test"]
ca_file = "{smtp.ca_file}"
"""


def run(desk: Desk, config: Config, state: sqlite3.Connection, **options: object) -> AlertRun:
    with Store.open(desk.db, read_only=True) as store:
        return run_alerts(store, config, state, **options)


def test_each_channel_gets_each_new_alert_once(desk: Desk, inbox: SmtpServer, hooks: tuple, state: sqlite3.Connection):
    support_url, support, ops_url, ops = hooks
    config = desk.config(alerts_toml(support_url, inbox))
    environ = {**ENVIRON, "OPS_WEBHOOK": ops_url}
    first = run(desk, config, state, environ=environ)
    hostile, v2 = desk.tickets[HOSTILE], desk.tickets["V2 card declined"]
    keys = (f"negative_sentiment:{hostile}:{desk.hostile_message}", f"sla_breach:{v2}:first_reply")
    assert [(d.channel, d.keys, d.sent) for d in first.deliveries] == [
        ("webhook:support", keys, True),
        ("webhook:ops", keys, True),
        ("email", keys, True),
    ]
    # The digest came over TLS from the authenticated user, to both recipients, grouped by kind.
    [received] = inbox.messages
    assert (received.encrypted, received.login) == (True, SMTP_USER)
    assert received.recipients == ["lead@acme.test", "manager@acme.test"]
    message = received.message
    assert message["Subject"] == "deskpulse: 2 new alerts (Negative sentiment: 1, SLA breaches: 1)"
    plain = message.get_body(("plain",)).get_content()
    assert plain.index("Negative sentiment (1)") < plain.index(HOSTILE) < plain.index("SLA breaches (1)")
    # The customer's script tag is text in the HTML part, never markup.
    page = message.get_body(("html",)).get_content()
    assert "<script>" not in page
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt; Refund &amp; &quot;chargeback&quot;" in page
    # Each webhook got one Slack-compatible message; the script tag cannot become a Slack link or mention.
    for receiver in (support, ops):
        [payload] = receiver.posts
        assert payload["text"] == "deskpulse: 2 new alerts (Negative sentiment: 1, SLA breaches: 1)"
        sections = [block["text"]["text"] for block in payload["blocks"] if block["type"] == "section"]
        assert sections[0] == "*Negative sentiment*"
        assert sections[1].startswith(f'• Negative sentiment in {hostile} “&lt;script&gt;alert("pwned")&lt;/script')
        assert sections[2] == "*SLA breaches*"
    # Running again finds the same two alerts and sends nothing.
    second = run(desk, config, state, environ=environ)
    assert (len(second.found), second.new, second.deliveries) == (2, [], [])
    assert (len(inbox.messages), len(support.posts), len(ops.posts)) == (1, 1, 1)


def test_a_failed_delivery_is_tried_again_at_the_next_run(
    desk: Desk, inbox: SmtpServer, hooks: tuple, state: sqlite3.Connection
) -> None:
    support_url, support, _, _ = hooks
    config = desk.config(alerts_toml(support_url, inbox, kinds="'negative_sentiment'"))
    support.status = 500
    first = run(desk, config, state, environ=ENVIRON)  # $OPS_WEBHOOK is empty
    key = f"negative_sentiment:{desk.tickets[HOSTILE]}:{desk.hostile_message}"
    assert [(d.channel, d.sent, d.error) for d in first.deliveries] == [
        ("webhook:support", False, '127.0.0.1 answered HTTP 500: {"ok": false}'),
        ("webhook:ops", False, "$OPS_WEBHOOK is not set: it must hold the URL of webhook 'ops'"),
        ("email", True, None),
    ]
    rows = state.execute("SELECT channel, state, attempts FROM alert_deliveries WHERE key = ? ORDER BY channel", [key])
    assert [tuple(row) for row in rows] == [
        ("email", "sent", 1),
        ("webhook:ops", "failed", 1),
        ("webhook:support", "failed", 1),
    ]
    # The webhook works again: the alert goes to it, and only to it; the ops URL is still missing.
    support.status = 200
    second = run(desk, config, state, environ=ENVIRON)
    assert second.new == []
    assert [(d.channel, d.keys, d.sent) for d in second.deliveries] == [
        ("webhook:support", (key,), True),
        ("webhook:ops", (key,), False),
    ]
    assert (len(support.posts), len(inbox.messages)) == (2, 1)  # the failed post and the one that went through
    rows = state.execute("SELECT channel, state, attempts FROM alert_deliveries WHERE key = ? ORDER BY channel", [key])
    assert [tuple(row) for row in rows] == [
        ("email", "sent", 1),
        ("webhook:ops", "failed", 2),
        ("webhook:support", "sent", 2),
    ]


def test_a_dry_run_shows_what_would_go_out_and_records_nothing(
    desk: Desk, inbox: SmtpServer, hooks: tuple, state: sqlite3.Connection
) -> None:
    support_url, support, _, _ = hooks
    config = desk.config(alerts_toml(support_url, inbox, kinds="'negative_sentiment'"))
    dry = run(desk, config, state, environ=ENVIRON, dry_run=True)
    key = f"negative_sentiment:{desk.tickets[HOSTILE]}:{desk.hostile_message}"
    assert [(d.channel, d.keys, d.sent) for d in dry.deliveries] == [
        ("webhook:support", (key,), False),
        ("webhook:ops", (key,), False),
        ("email", (key,), False),
    ]
    assert (support.posts, inbox.messages) == ([], [])
    assert state.execute("SELECT count(*) FROM alert_log").fetchone()[0] == 0
    assert [d.sent for d in run(desk, config, state, environ=ENVIRON).deliveries] == [True, False, True]


def test_an_untrusted_certificate_or_a_wrong_password_fails_the_digest(
    desk: Desk, inbox: SmtpServer, hooks: tuple, state: sqlite3.Connection
) -> None:
    support_url, _, _, _ = hooks
    toml = alerts_toml(support_url, inbox, kinds="'negative_sentiment'")
    untrusted = desk.config(toml.replace(f'ca_file = "{inbox.ca_file}"\n', ""))
    [*_, digest] = run(desk, untrusted, state, environ=ENVIRON).deliveries
    assert digest.error is not None and "certificate is not trusted" in digest.error
    assert "alerts.email.ca_file" in digest.error
    wrong = run(desk, desk.config(toml), state, environ={"SMTP_PASSWORD": "guess"})
    assert wrong.deliveries[-1].error == (
        f"127.0.0.1:{inbox.port} refused the login of {SMTP_USER}: 535 5.7.8 Authentication credentials invalid"
    )
    assert inbox.messages == []
    # Tried again with the right password, the digest goes out.
    assert run(desk, desk.config(toml), state, environ=ENVIRON).deliveries[-1].sent


def test_only_one_run_delivers_at_a_time(desk: Desk, inbox: SmtpServer, hooks: tuple, state: sqlite3.Connection):
    support_url, support, _, _ = hooks
    config = desk.config(alerts_toml(support_url, inbox, kinds="'negative_sentiment'"))
    now = datetime.now(UTC).replace(tzinfo=None)
    create_tables(state)
    assert take_lease(state, "the serve loop", now)
    busy = run(desk, config, state, environ=ENVIRON)
    assert busy.busy and busy.deliveries == [] and support.posts == []
    # A lease 31 minutes old belonged to a run that died: it is taken over.
    state.execute("UPDATE alert_lease SET taken_at = ?", [(now - timedelta(minutes=31)).strftime("%Y-%m-%d %H:%M:%S")])
    assert not run(desk, config, state, environ=ENVIRON).busy
    assert len(support.posts) == 1
