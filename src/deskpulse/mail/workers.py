"""Parser processes: spread `prepare_batch` over the machine's cores for large imports.

Each worker is a plain ``python -m deskpulse.mail.workers`` child that reads pickled batches on stdin and
writes prepared batches on stdout. Unlike a multiprocessing pool it never re-imports the caller's main
module, and it imports only the parser, so it stays small. Results come back in the order batches went in.
"""

from __future__ import annotations

import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from itertools import accumulate
from typing import IO, Any

from deskpulse.config import HelpdeskConfig
from deskpulse.mail.records import PreparedBatch, prepare_batch
from deskpulse.mail.senders import SenderRules
from deskpulse.sources.mailbox import RawMessage

_LENGTH = struct.Struct("<Q")


class WorkerError(RuntimeError):
    """A parser process died; the message carries what it printed."""


def _send(stream: IO[bytes], obj: object) -> None:
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(payload)))
    stream.write(payload)
    stream.flush()


_Packed = tuple[list[str], list[str], list[int], bytes, list[tuple[datetime | None, str | None]]]


def _pack(batch: list[RawMessage]) -> _Packed:
    """A batch as one blob and its cut points: pickled in one piece instead of one object per message."""
    ends = list(accumulate(len(raw.data) for raw in batch))
    blob = b"".join(raw.data for raw in batch)
    known = [(raw.received_at, raw.folder) for raw in batch]  # what a live source adds to the bytes
    return [raw.source for raw in batch], [raw.position for raw in batch], ends, blob, known


def _unpack(packed: _Packed) -> list[RawMessage]:
    sources, positions, ends, blob, known = packed
    starts = [0, *ends[:-1]]
    return [
        RawMessage(source, position, blob[start:end], received_at, folder)
        for source, position, start, end, (received_at, folder) in zip(
            sources, positions, starts, ends, known, strict=True
        )
    ]


def _receive(stream: IO[bytes]) -> Any:
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(header)
    return pickle.loads(stream.read(size))


class _Worker:
    def __init__(self, helpdesk: HelpdeskConfig, now: datetime) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "deskpulse.mail.workers"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        # A thread of its own feeds the worker, so a full pipe never blocks reading its results.
        self.outbox: queue.Queue[object] = queue.Queue()
        self.feeder = threading.Thread(target=self._feed, daemon=True)
        self.feeder.start()
        self.outbox.put((helpdesk, now))

    def _feed(self) -> None:
        assert self.process.stdin is not None
        try:
            while True:
                item = self.outbox.get()
                _send(self.process.stdin, item)
                if item is None:
                    break
            self.process.stdin.close()
        except (BrokenPipeError, OSError):
            pass  # the worker died; reading its result reports why

    def result(self) -> PreparedBatch:
        assert self.process.stdout is not None
        try:
            result = _receive(self.process.stdout)
        except (EOFError, pickle.UnpicklingError) as exc:
            self.process.wait()
            stderr = self.process.stderr.read().decode("utf-8", "replace") if self.process.stderr else ""
            raise WorkerError(f"a parser process stopped (exit code {self.process.returncode}):\n{stderr}") from exc
        if isinstance(result, BaseException):
            raise WorkerError(f"a parser process failed: {result!r}") from result
        assert isinstance(result, PreparedBatch)
        return result

    def close(self, *, abort: bool) -> None:
        if abort:  # results nobody will read: do not wait for the worker to finish them
            self.process.kill()
        self.outbox.put(None)
        self.feeder.join(timeout=10)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


def prepare_in_processes(
    batches: Iterable[list[RawMessage]], helpdesk: HelpdeskConfig, now: datetime, processes: int
) -> Iterator[PreparedBatch]:
    """`prepare_batch` over ``processes`` workers, results in input order; two batches per worker in flight."""
    workers = [_Worker(helpdesk, now) for _ in range(processes)]
    finished = False
    try:
        pending: list[int] = []  # worker index of each batch sent and not yet collected, oldest first
        for sent, batch in enumerate(batches):
            index = sent % processes
            workers[index].outbox.put(_pack(batch))
            pending.append(index)
            if len(pending) >= 2 * processes:
                yield workers[pending.pop(0)].result()
        while pending:
            yield workers[pending.pop(0)].result()
        finished = True
    finally:
        for worker in workers:
            worker.close(abort=not finished)


def _serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    helpdesk, now = _receive(stdin)
    rules = SenderRules(helpdesk)
    while (packed := _receive(stdin)) is not None:
        batch = _unpack(packed)
        try:
            # One parser thread per process: the processes already use every core.
            result: object = prepare_batch(batch, rules, now, threads=1)
        except Exception as exc:  # sent back, so the importing process can report it
            result = exc
        _send(stdout, result)


if __name__ == "__main__":
    _serve(sys.stdin.buffer, sys.stdout.buffer)
