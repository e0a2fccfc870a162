"""Real servers on loopback for the delivery tests: an SMTP server (aiosmtpd) that takes mail only after STARTTLS
and AUTH, with a self-signed certificate made by openssl, and an HTTP server that takes webhook posts."""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any, ClassVar

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from tests.conftest import skip_or_fail
from tests.sources.loopback_http import ApiHandler, serving

SMTP_USER, SMTP_PASSWORD = "alerts@acme.test", "s3cret-for-tests"


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made with openssl; the client trusts it as its own CA."""
    if shutil.which("openssl") is None:
        skip_or_fail("openssl is not installed: it makes the SMTP server's certificate")
    certificate, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"),
            *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
            *("-keyout", str(key), "-out", str(certificate)),
        ],
        check=True,
        capture_output=True,
    )
    return certificate, key


@dataclass
class Received:
    """A message the SMTP server accepted, with how the session that brought it was secured."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    encrypted: bool
    login: str | None


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Received] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        message = message_from_bytes(content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.messages.append(
            Received(envelope.mail_from or "", list(envelope.rcpt_tos), message, session.ssl is not None, login)
        )
        return "250 OK"


def _authenticate(server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (SMTP_USER.encode(), SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=data)


@dataclass
class SmtpServer:
    port: int
    ca_file: Path
    inbox: _Inbox = field(default_factory=_Inbox)

    @property
    def messages(self) -> list[Received]:
        return self.inbox.messages


@contextmanager
def smtp_server(directory: Path) -> Iterator[SmtpServer]:
    """An SMTP server on 127.0.0.1 that refuses MAIL before STARTTLS and AUTH (as SMTP_USER, SMTP_PASSWORD)."""
    certificate, key = self_signed_certificate(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate, key)
    server = SmtpServer(_free_port(), certificate)
    controller = Controller(
        server.inbox,
        hostname="127.0.0.1",
        port=server.port,
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        auth_require_tls=True,
        authenticator=_authenticate,
    )
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class WebhookReceiver(ApiHandler):
    """Keeps every JSON body posted to it; answers ``status`` (set it to 500 to play a failing webhook)."""

    posts: ClassVar[list[dict[str, Any]]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        type(self).posts.append(json.loads(self.rfile.read(length)))
        self.send(type(self).status, {"ok": type(self).status == 200})


@contextmanager
def webhook_server() -> Iterator[tuple[str, type[WebhookReceiver]]]:
    """A webhook receiver of its own (its own list of posts) on 127.0.0.1; yields its URL and its class."""
    receiver = type("Receiver", (WebhookReceiver,), {"posts": [], "status": 200})
    with serving(receiver) as base:
        yield f"{base}/hooks/alerts", receiver
