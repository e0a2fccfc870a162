"""A small help desk whose tickets resolve one after the other, a real SMTP server on loopback (STARTTLS and AUTH,
refusing one recipient as an unknown user) and the real web app on 127.0.0.1 with the survey pages mounted.

The mailbox (UTC, `[resolution] inactivity_days = 1`: a ticket is resolved at its last agent reply once a quiet
day follows; the store's newest mail is Sun 8 Mar 09:00, so every answered ticket below is resolved):

| ticket | customer | asked | answered by | resolved at |
| --- | --- | --- | --- | --- |
| Invoice missing | carla@example.org | Mon 2 Mar 09:00 | ana 10:00 | 2 Mar 10:00 |
| Parcel late | dan@example.org | Mon 2 Mar 11:00 | ben 12:00 | 2 Mar 12:00 |
| Password reset | gone@example.org (the SMTP server refuses it: 550) | Mon 2 Mar 13:00 | ben 14:00 | 2 Mar 14:00 |
| Wrong size | fay@example.org | Mon 2 Mar 15:00 | ana 16:00 | 2 Mar 16:00 |
| Lost voucher | hal@example.org | Mon 2 Mar 17:00 | ben 18:00 | 2 Mar 18:00 |
| Second question | carla@example.org | Wed 4 Mar 09:00 | ana 09:30 | 4 Mar 09:30 |
| Another parcel | dan@example.org | Fri 6 Mar 09:00 | ben 09:30 | 6 Mar 09:30 |
| Still waiting | gil@example.org | Sun 8 Mar 09:00 | nobody | open |

`[surveys]`: delay 24 h, lookback 14 days, at most one survey per customer in 2 days (`customer_days = 2`), and a
return path that names the survey (VERP), so a bounce addressed to it is recognised.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from tests.alerts.servers import SMTP_PASSWORD, SMTP_USER, Received, SmtpServer, smtp_server
from tests.mailbuilder import conversation, write_mbox
from typer.testing import CliRunner, Result

from deskpulse.cli import app
from deskpulse.config import load_config
from deskpulse.ingest import ingest_paths
from deskpulse.state import connect_state, state_path
from deskpulse.store import Store

ANA, BEN = "Ana Agent <ana@acme.test>", "Ben Agent <ben@acme.test>"
REFUSED = "gone@example.org"
PASSWORD_ENV = "TEST_SURVEY_SMTP_PASSWORD"
HELPDESK_TOML = """
[helpdesk]
support_addresses = ["help@acme.test"]
agent_domains = ["acme.test"]

[resolution]
inactivity_days = 1
"""
SURVEYS_TOML = """
[surveys]
base_url = "{base_url}"
customer_days = 2
# The tests send with `deskpulse surveys send --now`, in this process: the server's own send loop stays off (one
# process may not hold the store read-only and read-write at once; `serve` and the CLI are two processes).
send_every_minutes = 0
return_path = "help+survey-{{survey}}@acme.test"

[surveys.email]
host = "127.0.0.1"
port = {port}
user = "{user}"
password_env = "{password_env}"
from = "Acme Support <help@acme.test>"
ca_file = "{ca_file}"
"""


def _mails() -> list[Any]:
    def ticket(key: str, subject: str, customer: str, asked: str, agent: str | None, answered: str) -> list[Any]:
        steps: list[tuple[str, str, str]] = [(asked, customer, f"Hello, about {subject.lower()}: please help.")]
        if agent is not None:
            steps.append((answered, agent, "Done, all sorted. Best, the team"))
        return conversation(key, subject, customer, *steps)

    return [
        *ticket("t1", "Invoice missing", "Carla <carla@example.org>", "2026-03-02 09:00", ANA, "2026-03-02 10:00"),
        *ticket("t2", "Parcel late", "Dan <dan@example.org>", "2026-03-02 11:00", BEN, "2026-03-02 12:00"),
        *ticket("t5", "Password reset", f"Gone <{REFUSED}>", "2026-03-02 13:00", BEN, "2026-03-02 14:00"),
        *ticket("t6", "Wrong size", "Fay <fay@example.org>", "2026-03-02 15:00", ANA, "2026-03-02 16:00"),
        *ticket("t9", "Lost voucher", "Hal <hal@example.org>", "2026-03-02 17:00", BEN, "2026-03-02 18:00"),
        *ticket("t4", "Second question", "Carla <carla@example.org>", "2026-03-04 09:00", ANA, "2026-03-04 09:30"),
        *ticket("t8", "Another parcel", "Dan <dan@example.org>", "2026-03-06 09:00", BEN, "2026-03-06 09:30"),
        *ticket("t7", "Still waiting", "Gil <gil@example.org>", "2026-03-08 09:00", None, ""),
    ]


@dataclass(frozen=True)
class Template:
    """The help desk imported once; each test works on its own copy."""

    folder: Path
    db: Path


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("survey-desk")
    config_path = folder / "deskpulse.toml"
    config_path.write_text(HELPDESK_TOML, encoding="utf-8")
    db = folder / "deskpulse.duckdb"
    with Store.open(db) as store:
        ingest_paths(store, load_config(config_path), [write_mbox(folder / "support.mbox", _mails())])
    return Template(folder, db)


@pytest.fixture(scope="session")
def smtp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SmtpServer]:
    """The SMTP server for every test; each test empties its inbox first (`desk`)."""

    async def refuse_unknown(server: Any, session: Any, envelope: Any, address: str, options: list[str]) -> str:
        if address == REFUSED:
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    with smtp_server(tmp_path_factory.mktemp("smtp")) as server:
        server.inbox.handle_RCPT = refuse_unknown  # type: ignore[attr-defined]  # aiosmtpd reads hooks per session
        yield server


@dataclass
class Desk:
    """A copy of the help desk with its own state file, the SMTP server and the web app serving it."""

    folder: Path
    config: Path
    db: Path
    url: str
    smtp: SmtpServer

    def invoke(self, *args: str) -> Result:
        """`deskpulse --config … --db … ARGS`, with the SMTP password in the environment."""
        arguments = ["--config", str(self.config), "--db", str(self.db), *args]
        return CliRunner().invoke(app, arguments, env={PASSWORD_ENV: SMTP_PASSWORD})

    def cli(self, *args: str) -> str:
        """The standard output of a command that must succeed."""
        result = self.invoke(*args)
        assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
        return result.stdout

    def send(self, now: str) -> dict[str, Any]:
        report = json.loads(self.cli("surveys", "send", "--now", now, "--format", "json"))
        assert isinstance(report, dict)
        return report

    def kpis(self) -> dict[str, Any]:
        """csat, ces and survey_response_rate over all time, as `deskpulse kpis` gives them: {id: (value, n)}."""
        metrics = "csat,ces,survey_response_rate"
        document = json.loads(self.cli("kpis", "--metrics", metrics, "--period", "all", "--format", "json"))
        [row] = document["rows"]
        return {metric: (row[metric]["value"], row[metric]["n"]) for metric in metrics.split(",")}

    def surveys_rows(self) -> list[dict[str, Any]]:
        """Every row of the store's surveys table, oldest first."""
        with Store.open(self.db, read_only=True) as store:
            columns = [c.name for c in store.table_def("surveys").columns]
            rows = store.execute(
                f"SELECT {', '.join(columns)} FROM surveys ORDER BY coalesce(answered_at, sent_at), survey_id"
            )
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def state(self, query: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        connection = connect_state(state_path(self.db))
        try:
            return [tuple(row) for row in connection.execute(query, parameters)]
        finally:
            connection.close()

    def mail_to(self, address: str) -> Received:
        [mail] = [m for m in self.smtp.messages if m.recipients == [address]]
        return mail


def links(mail: Received) -> dict[str, str]:
    """The links of a survey mail's text part: "5" … "1" (CSAT) and "opt-out"."""
    text = body_text(mail.message)
    found = dict(re.findall(r"^  (\d) - [^:]+: (\S+)\s*$", text, re.MULTILINE))
    found["opt-out"] = re.findall(r"No more surveys from us: (\S+)", text)[0]
    return found


def body_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


@pytest.fixture
def desk(template: Template, smtp: SmtpServer, tmp_path: Path) -> Iterator[Desk]:
    from deskpulse.web.app import create_app

    shutil.copy(template.db, tmp_path / "deskpulse.duckdb")
    port = _free_port()
    config = tmp_path / "deskpulse.toml"
    config.write_text(
        HELPDESK_TOML
        + SURVEYS_TOML.format(
            base_url=f"http://127.0.0.1:{port}",
            port=smtp.port,
            user=SMTP_USER,
            password_env=PASSWORD_ENV,
            ca_file=smtp.ca_file,
        ),
        encoding="utf-8",
    )
    smtp.messages.clear()
    db = tmp_path / "deskpulse.duckdb"
    # The app as `deskpulse serve` builds it, the survey pages mounted.
    web = create_app(db, load_config(config), state_path(db))
    with _serving(web, port):
        assert web.state.warm.wait(60)  # the server's start-up computation is done and the store closed again
        yield Desk(tmp_path, config, db, f"http://127.0.0.1:{port}", smtp)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(web: Any, port: int) -> Iterator[None]:
    """Run ``web`` with uvicorn on 127.0.0.1:``port`` in a thread until the block ends."""
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(web, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the web app did not start"
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
