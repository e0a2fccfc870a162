"""A real Dovecot IMAP server for the tests: Debian's dovecot-imapd, started on 127.0.0.1 from a temporary folder.

Everything it needs lives in that folder: its own dovecot.conf, a passwd-file with one user per test (so each
test has a mailbox of its own), Maildirs, and a self-signed certificate made with openssl, which the tests trust
through ``imap.ca_file`` (verification stays on). It listens on two free ports: IMAPS, and IMAP with STARTTLS.
As root the mail belongs to Dovecot's own system user (Dovecot refuses mail access as root); otherwise the
server runs entirely as the current user.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from deskpulse.sources.imap import ImapAccount

PASSWORD = "correct horse"
USERS = 40


def dovecot_binary() -> str | None:
    return shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Dovecot:
    def __init__(self, binary: str) -> None:
        self.binary = binary
        # Not pytest's tmp_path: that is private to the current user (0700), and the mail user must reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="deskpulse-dovecot-"))
        self.directory.chmod(0o755)
        self.imaps_port = _free_port()
        self.starttls_port = _free_port()
        self.ca_file = self.directory / "cert.pem"
        self.process: subprocess.Popen[bytes] | None = None
        self.users = 0
        mail_user = pwd.getpwnam("dovecot") if os.geteuid() == 0 else pwd.getpwuid(os.geteuid())
        self.mail_uid, self.mail_gid = mail_user.pw_uid, mail_user.pw_gid
        self._add_users()
        self._make_certificate()
        self._write_config(mail_user.pw_name)

    def _make_certificate(self) -> None:
        subprocess.run(
            [
                *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost"),
                *("-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
                *("-keyout", str(self.directory / "key.pem"), "-out", str(self.ca_file)),
            ],
            check=True,
            capture_output=True,
        )

    def _write_config(self, mail_user: str) -> None:
        d = self.directory
        unprivileged = ""
        if os.geteuid() != 0:
            # Without root there is nobody to switch to and no chroot: every process runs as this user.
            unprivileged = f"""
default_internal_user = {mail_user}
default_login_user = {mail_user}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
"""
        (d / "dovecot.conf").write_text(
            f"""
base_dir = {d}/run
state_dir = {d}/state
log_path = {d}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{d}/cert.pem
ssl_key = <{d}/key.pem
auth_mechanisms = plain
auth_failure_delay = 0
login_trusted_networks = 127.0.0.1/32
first_valid_uid = {self.mail_uid}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {d}/passwd
}}
userdb {{
  driver = static
  args = uid={self.mail_uid} gid={self.mail_gid} home={d}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    port = {self.imaps_port}
    ssl = yes
  }}
}}
{unprivileged}
""",
            encoding="utf-8",
        )

    # --- the server ---------------------------------------------------------------------------------------

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.directory / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,  # a process group of its own: stop() ends the server's every process
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.imaps_port), timeout=1):
                    return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"dovecot did not start:\n{self.log()}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server as a crash or a reboot would: the master and every process it started, open
        connections included (on its own, Dovecot lets the processes serving a client finish in their own time)."""
        if self.process is None:
            return
        group = self.process.pid
        os.killpg(group, signal.SIGTERM)
        self.process.wait(timeout=15)
        deadline = time.monotonic() + 5
        while True:
            try:
                os.killpg(group, signal.SIGKILL if time.monotonic() > deadline else 0)
            except ProcessLookupError:
                break  # no process of the group is left
            time.sleep(0.02)
        assert self.process.stderr is not None
        self.process.stderr.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else "(no log)"

    # --- mailboxes ----------------------------------------------------------------------------------------

    def _add_users(self) -> None:
        # All made up front: Dovecot looks at a changed passwd-file at most once a second, too slow for tests.
        users = [f"support{n}" for n in range(1, USERS + 1)]
        (self.directory / "passwd").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}::::::\n" for u in users))
        for user in users:
            home = self.directory / "home" / user
            home.mkdir(parents=True)
            os.chown(home, self.mail_uid, self.mail_gid)
        os.chown(self.directory / "home", self.mail_uid, self.mail_gid)

    def new_user(self) -> str:
        """A user whose mailbox no test has used yet."""
        self.users += 1
        assert self.users <= USERS, "raise USERS in tests/sources/dovecot.py"
        return f"support{self.users}"

    def account(self, user: str, *, tls: str = "imaps", batch_size: int = 3, trusted: bool = True) -> ImapAccount:
        port = self.imaps_port if tls == "imaps" else self.starttls_port
        return ImapAccount("127.0.0.1", port, user, PASSWORD, tls, self.ca_file if trusted else None, batch_size)

    def client(self, user: str) -> imaplib.IMAP4_SSL:
        """A plain imaplib session, as a mail client would deliver or move mail."""
        context = ssl.create_default_context(cafile=str(self.ca_file))
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps_port, ssl_context=context, timeout=10)
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, folder: str, messages: list[bytes], received: datetime | None = None) -> None:
        """APPEND each message, with ``received`` (aware) as its INTERNALDATE when given."""
        client = self.client(user)
        try:
            if folder != "INBOX" and client.select(f'"{folder}"')[0] != "OK":
                client.create(f'"{folder}"')
            for raw in messages:
                when = imaplib.Time2Internaldate(received) if received is not None else None
                status, detail = client.append(f'"{folder}"', None, when, raw)
                assert status == "OK", detail
        finally:
            client.logout()

    def recreate(self, user: str, folder: str) -> None:
        """Delete the folder and make it anew: the server gives it a new UIDVALIDITY."""
        client = self.client(user)
        try:
            assert client.delete(f'"{folder}"')[0] == "OK"
            assert client.create(f'"{folder}"')[0] == "OK"
        finally:
            client.logout()
