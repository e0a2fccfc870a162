"""Read mail from an IMAP server, folder by folder, from where the last sync stopped.

A folder is read by UID, above the checkpoint the store keeps for it (`sync_checkpoints`), and only while the
server's UIDVALIDITY is the one the checkpoint was taken under: a new UIDVALIDITY means the UIDs were renumbered,
so the folder is read again from the start (stored messages come back as duplicates and are skipped). Messages
are fetched in batches with BODY.PEEK[] (which leaves \\Seen alone) and INTERNALDATE (when the server received
them); a lost connection is reopened with growing pauses and the folder resumes after the last message handed
out. The server's certificate is always verified; ``imap.ca_file`` adds a CA to trust (a self-signed server).
"""

from __future__ import annotations

import base64
import contextlib
import imaplib
import os
import re
import ssl
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.sources.mailbox import RawMessage

PASSWORD_ENV = "DESKPULSE_IMAP_PASSWORD"
DEFAULT_PORTS = {"imaps": 993, "starttls": 143}
# A batch is also cut at this many bytes, so a folder of large attachments never sits in memory at once.
MAX_BATCH_BYTES = 32 * 1024 * 1024
TIMEOUT_SECONDS = 60.0


class ImapError(UserError):
    """Something the user must fix: no password, a refused login, an untrusted certificate, a missing folder."""


class ImapUnavailable(UserError):
    """The server could not be reached, or reached again, after every retry; the checkpoint says where to resume."""


@dataclass(frozen=True)
class ImapAccount:
    host: str
    port: int
    user: str
    password: str = field(repr=False)
    tls: str = "imaps"
    ca_file: Path | None = None
    batch_size: int = 200

    @property
    def source(self) -> str:
        """The account as `messages.source` and `sync_checkpoints.source` name it (no password in it)."""
        return f"imap://{self.user}@{self.host}:{self.port}"


def account_from_config(config: Config, environ: Mapping[str, str] = os.environ) -> ImapAccount:
    """The `[imap]` account with its password from $DESKPULSE_IMAP_PASSWORD or ``imap.password_file``."""
    imap = config.imap
    if imap.host is None or imap.user is None:
        raise ImapError("no IMAP account in deskpulse.toml: add an imap section with host and user (docs/imap.md)")
    base = config.source.parent if config.source is not None else Path.cwd()
    ca_file = None
    if imap.ca_file is not None:
        ca_file = imap.ca_file if imap.ca_file.is_absolute() else base / imap.ca_file
        if not ca_file.is_file():
            raise ImapError(f"imap.ca_file: {ca_file} does not exist")
    password_file = imap.password_file
    if password_file is not None and not password_file.is_absolute():
        password_file = base / password_file
    return ImapAccount(
        imap.host,
        imap.port or DEFAULT_PORTS[imap.tls],
        imap.user,
        read_password(password_file, environ),
        imap.tls,
        ca_file,
        imap.batch_size,
    )


def read_password(password_file: Path | None, environ: Mapping[str, str]) -> str:
    """$DESKPULSE_IMAP_PASSWORD, else the file's content; a file others may read is refused, not used."""
    if environ.get(PASSWORD_ENV):
        return environ[PASSWORD_ENV]
    if password_file is None:
        raise ImapError(
            f"no IMAP password: set {PASSWORD_ENV}, or imap.password_file in deskpulse.toml to a file that holds "
            "only the password (chmod 600)"
        )
    try:
        mode = password_file.stat().st_mode & 0o777
    except FileNotFoundError:
        raise ImapError(f"imap.password_file: {password_file} does not exist") from None
    if mode & 0o077:
        raise ImapError(
            f"imap.password_file: {password_file} can be read or changed by other users (mode {mode:04o}); "
            f"make it yours alone with: chmod 600 {password_file}"
        )
    password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
    if not password:
        raise ImapError(f"imap.password_file: {password_file} is empty; write the password into it")
    return password


@dataclass(frozen=True)
class Retry:
    """How often and after what pauses a lost connection is reopened before the sync gives up."""

    attempts: int = 5
    first_delay: float = 1.0
    max_delay: float = 60.0

    def delay(self, failure: int) -> float:
        return float(min(self.first_delay * 2 ** (failure - 1), self.max_delay))


DEFAULT_RETRY = Retry()


@dataclass(frozen=True)
class Checkpoint:
    """Every message of the folder up to ``last_uid`` is stored, under this ``uidvalidity``."""

    uidvalidity: int
    last_uid: int


_POSITION = re.compile(r"UIDVALIDITY (\d+) UID (\d+)")


def position_text(checkpoint: Checkpoint) -> str:
    """A message's place on the server, as `messages.source_position` keeps it."""
    return f"UIDVALIDITY {checkpoint.uidvalidity} UID {checkpoint.last_uid}"


def checkpoint_after(message: RawMessage) -> Checkpoint:
    """The checkpoint once ``message`` (one this module read) and everything before it in its folder is stored."""
    match = _POSITION.fullmatch(message.position)
    if match is None:
        raise ValueError(f"{message.position!r} is not a position of an IMAP message")
    return Checkpoint(int(match.group(1)), int(match.group(2)))


# Connection failures worth another try. A refused login, an untrusted certificate and a missing folder are
# raised as ImapError instead: no retry would change them.
_RETRYABLE = (imaplib.IMAP4.abort, OSError, EOFError)


class FolderReader:
    """The new messages of one folder, as `RawMessage`s in UID order, reconnecting when the connection drops.

    After the iteration: ``position`` is the last message handed out, ``resynced_from`` the checkpoint's
    UIDVALIDITY when the server's differed (the folder was read again), ``reconnects`` how often it reconnected.
    """

    def __init__(
        self,
        account: ImapAccount,
        folder: str,
        checkpoint: Checkpoint | None,
        *,
        retry: Retry = DEFAULT_RETRY,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.account = account
        self.folder = folder
        self.position = checkpoint
        self.retry = retry
        self.sleep = sleep
        self.resynced_from: int | None = None
        self.reconnects = 0

    @property
    def source(self) -> str:
        return f"{self.account.source}/{self.folder}"

    def messages(self) -> Iterator[RawMessage]:
        failures = 0
        while True:
            connection = None
            try:
                connection = _Connection(self.account)
                uidvalidity = connection.select(self.folder)
                if self.position is None or self.position.uidvalidity != uidvalidity:
                    if self.position is not None and self.resynced_from is None:
                        self.resynced_from = self.position.uidvalidity
                    self.position = Checkpoint(uidvalidity, 0)
                sizes = connection.sizes_from(self.position.last_uid + 1)
                for uids in _batches(sizes, self.account.batch_size, MAX_BATCH_BYTES):
                    fetched = connection.fetch(uids)
                    failures = 0
                    for uid, received_at, data in fetched:
                        self.position = Checkpoint(uidvalidity, uid)
                        yield RawMessage(self.source, position_text(self.position), data, received_at, self.folder)
                connection.logout()
                return
            except _RETRYABLE as exc:
                failures += 1
                if failures > self.retry.attempts:
                    where = "nothing stored yet" if self.position is None else position_text(self.position)
                    raise ImapUnavailable(
                        f"{self.source}: lost the connection and could not reopen it after {self.retry.attempts} "
                        f"attempts ({type(exc).__name__}: {exc}); the next sync resumes after {where}"
                    ) from exc
                self.reconnects += 1
                self.sleep(self.retry.delay(failures))
            finally:
                if connection is not None:
                    connection.close()


def _batches(sizes: list[tuple[int, int]], max_count: int, max_bytes: int) -> Iterator[list[int]]:
    """UIDs in order, cut into batches of at most ``max_count`` messages and ``max_bytes`` (at least one each)."""
    batch: list[int] = []
    total = 0
    for uid, size in sizes:
        if batch and (len(batch) >= max_count or total + size > max_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += size
    if batch:
        yield batch


class _Connection:
    """One logged-in IMAP session over TLS (imaplib underneath)."""

    def __init__(self, account: ImapAccount) -> None:
        self.account = account
        context = _tls_context(account)
        try:
            if account.tls == "imaps":
                self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    account.host, account.port, ssl_context=context, timeout=TIMEOUT_SECONDS
                )
            else:
                self.imap = imaplib.IMAP4(account.host, account.port, timeout=TIMEOUT_SECONDS)
        except ssl.SSLCertVerificationError as exc:
            raise self._untrusted(exc) from exc
        try:
            if account.tls == "starttls":
                self._start_tls(context)
            self._login()
        except BaseException:
            self.close()
            raise

    def _untrusted(self, exc: ssl.SSLCertVerificationError) -> ImapError:
        return ImapError(
            f"{self.account.source}: the server's certificate is not trusted ({exc.verify_message}); if it is your "
            "own CA or a self-signed certificate, name its file in imap.ca_file"
        )

    def _start_tls(self, context: ssl.SSLContext) -> None:
        try:
            self.imap.starttls(ssl_context=context)
        except ssl.SSLCertVerificationError as exc:
            raise self._untrusted(exc) from exc
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:  # a server without STARTTLS: logging in over plain text is no option
            raise ImapError(f'{self.account.source}: cannot start TLS: {_text(exc)}; try tls = "imaps"') from exc

    def _login(self) -> None:
        try:
            self.imap.login(self.account.user, self.account.password)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            raise ImapError(
                f"{self.account.source}: the server refused the login of {self.account.user}: {_text(exc)}"
            ) from exc

    def select(self, folder: str) -> int:
        """Open ``folder`` read-only (EXAMINE: nothing is marked read) and return its UIDVALIDITY."""
        status, data = self.imap.select(_quoted(folder), readonly=True)
        if status != "OK":
            raise ImapError(
                f"{self.account.source}: cannot open folder {folder!r} ({_text(data)}); the server has: "
                f"{', '.join(self._folder_names())}"
            )
        _, values = self.imap.response("UIDVALIDITY")
        return int(values[0])

    def sizes_from(self, first_uid: int) -> list[tuple[int, int]]:
        """(UID, size in bytes) of every message from ``first_uid`` on, in UID order."""
        status, data = self.imap.uid("FETCH", f"{first_uid}:*", "(UID RFC822.SIZE)")
        self._check(status, data, "list the new messages")
        sizes = []
        for item in data:
            line = item[0] if isinstance(item, tuple) else item
            if not isinstance(line, bytes):
                continue
            uid, size = re.search(rb"UID (\d+)", line), re.search(rb"RFC822\.SIZE (\d+)", line)
            # "n:*" always names the folder's last message, even when its UID is below n.
            if uid is not None and size is not None and int(uid.group(1)) >= first_uid:
                sizes.append((int(uid.group(1)), int(size.group(1))))
        return sorted(sizes)

    def fetch(self, uids: list[int]) -> list[tuple[int, datetime, bytes]]:
        """(UID, INTERNALDATE as naive UTC, raw bytes) of each message still there, in UID order."""
        status, data = self.imap.uid("FETCH", ",".join(map(str, uids)), "(UID INTERNALDATE BODY.PEEK[])")
        self._check(status, data, "fetch messages")
        messages = []
        # imaplib gives each message as (b'<n> (UID .. INTERNALDATE ".." BODY[] {size}', body), then the rest of
        # its response line (b')', or attributes the server sent after the body) as plain bytes.
        for head, body in _responses(data):
            uid, internaldate = re.search(rb"UID (\d+)", head), re.search(rb'INTERNALDATE "([^"]+)"', head)
            if uid is None or internaldate is None:
                # Skipping it would let the checkpoint pass a message never stored.
                raise ImapError(f"{self.account.source}: the server sent a message without its UID or INTERNALDATE")
            messages.append((int(uid.group(1)), parse_internaldate(internaldate.group(1).decode()), body))
        return sorted(messages)

    def logout(self) -> None:
        self.imap.logout()

    def close(self) -> None:
        """Drop the connection without ceremony (after logout, or when it already failed)."""
        with contextlib.suppress(OSError):
            self.imap.shutdown()

    def _folder_names(self) -> list[str]:
        status, data = self.imap.list()
        names = []
        for line in data if status == "OK" else []:
            if isinstance(line, bytes):
                match = re.match(rb'\(.*?\) (?:NIL|"(?:[^"\\]|\\.)*") (.+)$', line)
                if match is not None:
                    names.append(decode_folder_name(match.group(1).decode("ascii", "replace").strip('"')))
        return names

    def _check(self, status: str, data: list[object], what: str) -> None:
        if status != "OK":
            raise ImapError(f"{self.account.source}: the server would not {what}: {_text(data)}")


def _responses(data: list[object]) -> Iterator[tuple[bytes, bytes]]:
    """Each FETCH response that carried a message, as (its attribute text, the message). A response without one
    (another client changed a flag) before the first message is dropped; after it, its text only follows the
    previous message's, whose own UID and INTERNALDATE come first."""
    head, body = b"", b""
    for item in data:
        if isinstance(item, tuple):
            if head:
                yield head, body
            head, body = item[0], item[1]
        elif isinstance(item, bytes) and head:
            head += b" " + item
    if head:
        yield head, body


def _tls_context(account: ImapAccount) -> ssl.SSLContext:
    context = ssl.create_default_context()  # verifies the certificate and the host name
    if account.ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(account.ca_file))
        except ssl.SSLError as exc:
            raise ImapError(f"imap.ca_file: {account.ca_file} is not a PEM certificate file: {exc}") from exc
    return context


def _text(value: object) -> str:
    if isinstance(value, imaplib.IMAP4.error):
        value = value.args[0] if value.args else ""
    if isinstance(value, list):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}
_INTERNALDATE = re.compile(r"\s*(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def parse_internaldate(text: str) -> datetime:
    """``"27-Nov-2026 17:21:33 +0100"`` (RFC 3501 date-time) as naive UTC; read without the locale's month names."""
    match = _INTERNALDATE.fullmatch(text)
    if match is None or match.group(2).title() not in _MONTHS:
        raise ImapError(f"the server sent an INTERNALDATE deskpulse cannot read: {text!r}")
    day, month, year, hour, minute, second, sign, offset_hours, offset_minutes = match.groups()
    local = datetime(int(year), _MONTHS[month.title()], int(day), int(hour), int(minute), int(second))
    offset = timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
    return local - offset if sign == "+" else local + offset


def _quoted(folder: str) -> str:
    """A folder name as an IMAP quoted string, in modified UTF-7 (RFC 3501 §5.1.3) as servers expect."""
    name = encode_folder_name(folder)
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def encode_folder_name(name: str) -> str:
    """Modified UTF-7: printable ASCII as is (``&`` as ``&-``), other text as ``&<modified base64 of UTF-16>-``."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).rstrip(b"=").replace(b"/", b",")
            out.append("&" + encoded.decode("ascii") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def decode_folder_name(name: str) -> str:
    def decode(match: re.Match[str]) -> str:
        encoded = match.group(1)
        if not encoded:
            return "&"
        padded = encoded.replace(",", "/") + "=" * (-len(encoded) % 4)
        return base64.b64decode(padded).decode("utf-16-be")

    return re.sub(r"&([^-]*)-", decode, name)
