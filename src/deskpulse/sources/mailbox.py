"""Read raw messages from mail on disk: mbox (plain or gzipped), Maildir trees and folders of `.eml` files.

The format is detected from the path. Reading streams: an mbox is scanned in fixed-size chunks, so memory
stays bounded whatever the size of the file. Each message comes out as raw bytes with its place in the
source, for the parser and for error reports.
"""

from __future__ import annotations

import gzip
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from deskpulse.errors import UserError

CHUNK_SIZE = 4 * 1024 * 1024
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)
# An mbox envelope line: "From <sender> <asctime date>", e.g. "From ana@acme.test Mon Jan  5 10:00:00 2026" or
# "From magick-owner@x Wed Feb  9 22:02 MET 2000". The sender may contain spaces (list archives obfuscate it).
_ENVELOPE = re.compile(
    rb"From \S.*\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun),? +"
    rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} +\d{1,2}:\d\d"
)


@dataclass(frozen=True, slots=True)
class RawMessage:
    source: str
    position: str
    data: bytes
    # What a live source knows beyond the bytes (files on disk leave both None): when the server received the
    # message (IMAP INTERNALDATE), which then wins over the Received: headers, and the folder it was found in,
    # which deskpulse keeps as a label of the message (`message_labels`).
    received_at: datetime | None = None
    folder: str | None = None


class ReadableBytes(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class SourceError(UserError):
    """A path that is not mail deskpulse can read."""


def detect_format(path: Path) -> str:
    """``mbox``, ``mbox.gz``, ``maildir`` (any folder: Maildir cur/new trees or loose message files) or ``eml``."""
    if path.is_dir():
        return "maildir"
    if not path.exists():
        raise SourceError(f"{path}: no such file or folder")
    with path.open("rb") as handle:
        head = handle.read(5)
    if head[:2] == b"\x1f\x8b":
        return "mbox.gz"
    if head == b"From ":
        return "mbox"
    return "eml"


def read_messages(path: Path) -> Iterator[RawMessage]:
    """Yield every message under ``path`` in a stable order."""
    kind = detect_format(path)
    if kind == "mbox":
        with path.open("rb") as handle:
            yield from read_mbox_stream(handle, str(path))
    elif kind == "mbox.gz":
        with gzip.open(path, "rb") as handle:
            yield from read_mbox_stream(handle, str(path))
    elif kind == "maildir":
        yield from _read_folder(path)
    else:
        yield RawMessage(str(path), path.name, path.read_bytes())


def read_mbox_stream(handle: ReadableBytes, source: str) -> Iterator[RawMessage]:
    """Split an mbox at its envelope lines (``From sender Mon Jan  5 10:00:00 2026``).

    A line that starts with ``From `` but does not carry an envelope's date is body text that an archiver
    forgot to escape (pipermail does), not the start of a message. The envelope line is dropped, the blank
    line that separates messages is dropped, and mboxrd/mboxo escaping (``>From ``) is undone.
    """
    buffer = b""
    offset = 0  # file offset of buffer[0]
    index = 0
    start: int | None = None  # buffer index where the current message's envelope line begins
    eof = False
    while not eof:
        chunk = handle.read(CHUNK_SIZE)
        eof = not chunk
        buffer += chunk
        if start is None:
            if buffer.startswith(b"From "):
                start = 0
            else:
                found = buffer.find(b"\nFrom ")
                if found < 0:
                    if eof:
                        break
                    continue
                start = found + 1
        search_from = start + 5
        while True:
            candidate = buffer.find(b"\nFrom ", search_from)
            if candidate < 0:
                break
            line_end = buffer.find(b"\n", candidate + 1)
            if line_end < 0 and not eof:
                break  # the line continues in the next chunk: decide once it is whole
            line = buffer[candidate + 1 : line_end if line_end >= 0 else len(buffer)]
            if not _ENVELOPE.match(line):
                search_from = candidate + 5
                continue
            yield _mbox_message(buffer, start, candidate + 1, source, index, offset + start)
            index += 1
            start = candidate + 1
            search_from = start + 5
        if eof:
            if start < len(buffer):
                yield _mbox_message(buffer, start, len(buffer), source, index, offset + start)
            break
        # keep only the unfinished message in memory
        buffer = buffer[start:]
        offset += start
        search_from -= start
        start = 0


def _mbox_message(buffer: bytes, start: int, end: int, source: str, index: int, byte_offset: int) -> RawMessage:
    """The message whose envelope line starts at ``buffer[start]`` and which ends before ``buffer[end]``."""
    line_end = buffer.find(b"\n", start, end)
    data = b"" if line_end < 0 else buffer[line_end + 1 : end]  # one copy: the envelope line is left behind
    # The blank line before the next envelope separates messages; it is not part of this one (RFC 4155).
    if data.endswith(b"\n\n"):
        data = data[:-1]
    elif data.endswith(b"\r\n\r\n"):
        data = data[:-2]
    if b">From " in data:
        data = _ESCAPED_FROM.sub(rb"\1", data)
    return RawMessage(source, f"#{index} @{byte_offset}", data)


# Files mail servers and clients keep beside the messages of a Maildir: markers and indexes, not mail.
_MAILDIR_HOUSEKEEPING = ("maildirfolder", "maildirsize", "subscriptions", "dovecot", "courierimap", "mbsync")


def _read_folder(root: Path) -> Iterator[RawMessage]:
    """Every message file under ``root`` (Maildir trees, nested or not, and folders of ``.eml`` files).

    Hidden files, ``tmp`` folders (deliveries in progress) and the housekeeping files of mail servers
    (``maildirfolder``, ``dovecot-uidlist``, …) are skipped; every other file is read as a message, so a file
    that is not mail is reported in the quarantine rather than silently ignored.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "tmp")
        for name in sorted(filenames):
            if name.startswith(".") or name.lower().startswith(_MAILDIR_HOUSEKEEPING):
                continue
            file_path = Path(dirpath, name)
            if file_path.is_file():
                yield RawMessage(str(root), str(file_path.relative_to(root)), file_path.read_bytes())
