"""What the pages and the API show, computed by the library and kept while the store is unchanged.

The store is opened read-only for each computation and closed after it (opening takes about 25 ms at a million
tickets), so `deskpulse kpis` and the other readers work beside the server, and an import can run between two
page views. Each result is kept in memory under its arguments and the store file's stamp (size and modification
time of the file and its write-ahead log): a page asked for again answers from memory until the store changes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from deskpulse.config import Config
from deskpulse.errors import UserError
from deskpulse.store import Store, StoreError

T = TypeVar("T")
# Dimensions the pages filter on (multi-select); each becomes a KPI filter DIMENSION=VALUE,…
FILTER_DIMENSIONS = ("team", "agent", "mailbox", "category", "priority")
CACHE_ENTRIES = 256
# An import holds the store's write lock: wait this long for it before telling the user to come back.
BUSY_WAIT_SECONDS = 5.0


class StoreBusy(UserError):
    """The store is being written (an import or a sync runs) and cannot be read right now."""


@dataclass(frozen=True)
class Filters:
    """The filters every page takes: a date range, a period kind and multi-valued dimensions."""

    since: date | None = None
    until: date | None = None
    period: str = "month"
    team: tuple[str, ...] = ()
    agent: tuple[str, ...] = ()
    mailbox: tuple[str, ...] = ()
    category: tuple[str, ...] = ()
    priority: tuple[str, ...] = ()

    def kpi_filters(self) -> dict[str, tuple[str, ...]]:
        return {dim: getattr(self, dim) for dim in FILTER_DIMENSIONS if getattr(self, dim)}

    def pairs(self) -> list[tuple[str, str]]:
        """The filters as query-string pairs, for links that keep them."""
        out: list[tuple[str, str]] = []
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                out += [(f.name, v) for v in value]
            elif value is not None:
                out.append((f.name, str(value)))
        return out

    def with_agent(self, agent: str) -> Filters:
        return replace(self, agent=(agent,))


@dataclass
class Dashboard:
    """The store, the config and a memory of computed results, shared by every request of the app."""

    db: Path
    config: Config
    _cache: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)  # guards the cache
    # One use of the store at a time in this process, reading or writing: DuckDB refuses a read-write connection
    # beside a read-only one in the same process, and two scorecards over a million tickets at once would only
    # share the cores and double the memory.
    _store_lock: threading.RLock = field(default_factory=threading.RLock)

    def stamp(self) -> tuple[int, ...]:
        """Changes whenever the store is written: its file's and its write-ahead log's size and time."""
        parts: list[int] = []
        for path in (self.db, self.db.with_name(self.db.name + ".wal")):
            try:
                stat = path.stat()
            except FileNotFoundError:
                parts += [0, 0]
                continue
            parts += [stat.st_mtime_ns, stat.st_size]
        return tuple(parts)

    @contextmanager
    def reading(self) -> Iterator[Store]:
        """The store, opened read-only for one computation; waits a little while an import holds it."""
        with self._opened(read_only=True) as store:
            yield store

    @contextmanager
    def writing(self) -> Iterator[Store]:
        """The store, opened for writing (survey answers the app receives), for as short a time as possible."""
        with self._opened(read_only=False) as store:
            yield store

    @contextmanager
    def _opened(self, *, read_only: bool) -> Iterator[Store]:
        with self._store_lock:
            deadline = time.monotonic() + BUSY_WAIT_SECONDS
            while True:
                try:
                    store = Store.open(self.db, read_only=read_only)
                    break
                except StoreError as exc:
                    locked = "lock" in str(exc).lower()
                    if not locked:
                        raise
                    if time.monotonic() > deadline:
                        raise StoreBusy(
                            "the store is being updated by an import or a sync; try again in a moment"
                        ) from exc
                    time.sleep(0.2)
            try:
                yield store
            finally:
                store.close()

    def cached(self, key: tuple[Any, ...], compute: Callable[[Store], T]) -> T:
        """``compute(store)`` for ``key``, from memory when the store has not changed since it was computed."""
        full_key = (self.stamp(), *key)
        with self._lock:
            if full_key in self._cache:
                self._cache.move_to_end(full_key)
                return self._cache[full_key]  # type: ignore[no-any-return]
        with self.reading() as store:
            with self._lock:  # another request may have computed it while this one waited
                if full_key in self._cache:
                    return self._cache[full_key]  # type: ignore[no-any-return]
            value = compute(store)
        with self._lock:
            self._cache[full_key] = value
            while len(self._cache) > CACHE_ENTRIES:
                self._cache.popitem(last=False)
        return value
