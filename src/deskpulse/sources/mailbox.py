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
from pathlib import Path
from typing import Protocol

from deskpulse.errors import UserError

CHUNK_SIZE = 4 * 1024 * 1024
_ESCAPED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class RawMessage:
    source: str
    position: str
    data: bytes


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
    """Split an mbox on lines starting with ``From `` (as mail clients and Python's `mailbox` do).

    The ``From `` envelope line is dropped and mboxrd/mboxo escaping (``>From ``) is undone.
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
            nxt = buffer.find(b"\nFrom ", search_from)
            if nxt < 0:
                break
            yield _mbox_message(buffer[start : nxt + 1], source, index, offset + start)
            index += 1
            start = nxt + 1
            search_from = start + 5
        if eof:
            if start < len(buffer):
                yield _mbox_message(buffer[start:], source, index, offset + start)
            break
        # keep only the unfinished message in memory
        buffer = buffer[start:]
        offset += start
        start = 0


def _mbox_message(block: bytes, source: str, index: int, byte_offset: int) -> RawMessage:
    line_end = block.find(b"\n")
    data = b"" if line_end < 0 else block[line_end + 1 :]
    if b">From " in data:
        data = _ESCAPED_FROM.sub(rb"\1", data)
    return RawMessage(source, f"#{index} @{byte_offset}", data)


def _read_folder(root: Path) -> Iterator[RawMessage]:
    """Every message file under ``root``: Maildir ``cur``/``new`` (nested folders too) and loose files.

    Hidden files and Maildir ``tmp`` folders (deliveries in progress) are skipped.
    """
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "tmp")
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            file_path = Path(dirpath, name)
            if not file_path.is_file():
                continue
            yield RawMessage(str(root), str(file_path.relative_to(root)), file_path.read_bytes())
