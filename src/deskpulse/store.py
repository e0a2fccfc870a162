"""The canonical store: a DuckDB file with the tables of `deskpulse.schema`, read through Ibis.

Reads go through Ibis (`Store.table`), so the metric code is engine-neutral. Writes are the store's own
business, on the DuckDB connection underneath: new rows are inserted only when their key is not stored yet,
which is what makes every import idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from deskpulse.config import DEFAULT_DB
from deskpulse.errors import UserError
from deskpulse.schema import SCHEMA_VERSION, TABLES, TableDef

_TABLES = {t.name: t for t in TABLES}
# Queries keep DuckDB's own limit (80 % of the machine): a scorecard over ten million tickets needs it. An
# import lowers it for its duration (`bulk_import`): appending a batch needs little, the parser processes the rest.
IMPORT_MEMORY_LIMIT = "96MB"
# Derived fact tables (`deskpulse.metrics.facts.store_derived_facts`): per-ticket facts and the like, computed once
# after an import so that a query aggregates them instead of recomputing them from every message. They are a
# cache, not canonical tables: named with this prefix, valid only while the `meta` row under DERIVED_KEY says what
# they were built from (the settings' fingerprint), and dropped as soon as a table they derive from is written
# (DERIVED_FROM).
DERIVED_PREFIX = "derived_"
DERIVED_KEY = "derived_facts"
# What DERIVED_KEY said before a write made the tables stale: `deskpulse.touched` brings stale tables up to date
# ticket by ticket, when they were built with the settings in force (`metrics.facts.update_derived_facts`).
STALE_DERIVED_KEY = "derived_facts_stale"
DERIVED_FROM = frozenset({"messages", "message_threads", "tickets", "source_tickets", "ticket_events"})


class StoreError(UserError):
    """The store cannot be opened or does not match this version of deskpulse."""


class Store:
    """An open deskpulse store: `Store.open(path)`, best used as a context manager."""

    def __init__(self, connection: duckdb.DuckDBPyConnection, path: Path | None) -> None:
        self.sql = connection  # the DuckDB connection, for the store's own writes
        self.path = path

    @classmethod
    def open(cls, path: Path | str | None = DEFAULT_DB, *, read_only: bool = False) -> Store:
        """Open (and create or migrate) the store at ``path``; ``None`` gives an in-memory store."""
        database = ":memory:" if path is None else str(path)
        if path is not None and read_only and not Path(path).exists():
            raise StoreError(f"no store at {path}: run `deskpulse ingest` first, or pass --db")
        config: dict[str, str | bool | int | float | list[str]] = {
            # Extensions that download at run time fail offline, and a metrics tool should never fetch code.
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
        try:
            connection = duckdb.connect(database, read_only=read_only, config=config)
        except duckdb.Error as exc:
            raise StoreError(f"cannot open store {path}: {exc}") from exc
        store = cls(connection, None if path is None else Path(path))
        if not read_only:
            store._create_or_migrate()
        else:
            store._check_version()
        return store

    @cached_property
    def ibis(self) -> Any:
        """The Ibis backend over the same connection; made on first use, as Ibis costs time and memory."""
        import ibis

        return ibis.duckdb.from_connection(self.sql)

    def arrow(self, expression: Any) -> pa.Table:
        """Run an Ibis expression on the DuckDB connection and return Arrow.

        Ibis compiles; DuckDB executes and hands Arrow back directly. (Ibis' own `to_pyarrow` converts through
        a module that imports pandas, 50 MB that an import does not otherwise need.)
        """
        return self.sql.sql(str(self.ibis.compile(expression))).to_arrow_table()

    @contextmanager
    def memory_limit(self, limit: str) -> Iterator[None]:
        """Run a block under a smaller DuckDB memory limit (it spills to disk beyond it), then reset it."""
        self.execute(f"SET memory_limit = '{limit}'")
        try:
            yield
        finally:
            self.execute("RESET memory_limit")

    @contextmanager
    def single_thread(self) -> Iterator[None]:
        """Run a block on one DuckDB thread: under a small memory limit, the least memory per operator (DuckDB's
        own advice when a query runs out of it), at the cost of the other cores."""
        self.execute("SET threads = 1")
        try:
            yield
        finally:
            self.execute("RESET threads")

    @contextmanager
    def bulk_import(self) -> Iterator[None]:
        """Settings for a bulk import: a smaller memory limit and one DuckDB thread, so the parser processes
        keep the cores and the memory. (A larger checkpoint threshold would halve the cost of appending, but
        DuckDB holds everything not yet checkpointed in memory.)"""
        self.execute(f"SET memory_limit = '{IMPORT_MEMORY_LIMIT}'")
        self.execute("SET threads = 1")
        try:
            yield
        finally:
            self.execute("RESET threads")
            self.execute("RESET memory_limit")

    def execute(self, statement: str, parameters: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one SQL statement on the DuckDB connection and fetch its whole result (DuckDB 2 insists)."""
        return list(self.sql.execute(statement, parameters or []).fetchall())

    def close(self) -> None:
        self.sql.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- schema -------------------------------------------------------------------------------------------

    def _create_or_migrate(self) -> None:
        existing = self._stored_version()
        if existing is not None and existing > SCHEMA_VERSION:
            raise StoreError(
                f"store {self.path} has schema version {existing}, newer than this deskpulse ({SCHEMA_VERSION}); "
                "upgrade deskpulse"
            )
        for table in TABLES:
            self.execute(table.ddl())
            # Schema changes so far only add columns: an older store gains them (null until the next rebuild).
            present = {
                name
                for (name,) in self.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table.name]
                )
            }
            for column in table.columns:
                if column.name not in present:
                    self.execute(f"ALTER TABLE {table.name} ADD COLUMN {column.name} {column.type}")
        self.execute("DELETE FROM meta WHERE key = 'schema_version'")
        self.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])

    def _stored_version(self) -> int | None:
        [(has_meta,)] = self.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'meta'")
        if not has_meta:
            return None
        rows = self.execute("SELECT value FROM meta WHERE key = 'schema_version'")
        return int(rows[0][0]) if rows else None

    def _check_version(self) -> None:
        version = self._stored_version()
        if version != SCHEMA_VERSION:
            raise StoreError(f"store {self.path} has schema version {version}, this deskpulse expects {SCHEMA_VERSION}")

    # --- reads --------------------------------------------------------------------------------------------

    def table(self, name: str) -> Any:
        """An Ibis table expression over a canonical table."""
        if name not in _TABLES:
            raise KeyError(f"unknown table {name!r}")
        return self.ibis.table(name)

    def register(self, name: str, rows: pa.Table) -> Any:
        """A temporary table of ``rows`` for this connection's queries (the calendars), as an Ibis table."""
        return self.ibis.create_table(name, rows, temp=True, overwrite=True)

    def derived_table(self, name: str) -> Any:
        """An Ibis table expression over a derived fact table (see DERIVED_PREFIX); check `derived_state` first,
        as the table may be missing or stale."""
        return self.ibis.table(DERIVED_PREFIX + name)

    def derived_state(self) -> str | None:
        """What `mark_derived` recorded about the derived fact tables; None when there are none (or they went
        stale)."""
        rows = self.execute("SELECT value FROM meta WHERE key = ?", [DERIVED_KEY])
        return str(rows[0][0]) if rows else None

    def count(self, name: str) -> int:
        [(count,)] = self.execute(f"SELECT count(*) FROM {_TABLES[name].name}")
        return int(count)

    # --- writes -------------------------------------------------------------------------------------------

    def save_derived(self, name: str, expression: Any) -> None:
        """Compute an Ibis expression into the derived fact table ``name``, replacing it. It is not used until
        `mark_derived` records the fingerprint it was built with."""
        # Columns typed as Ibis types them, not as DuckDB computes them (a sum of booleans is a HUGEINT there), so
        # the stored table reads exactly as the expression does.
        table = DERIVED_PREFIX + name
        self.ibis.create_table(table, schema=expression.schema(), overwrite=True)
        self.execute(f'INSERT INTO "{table}" SELECT * FROM ({self.ibis.compile(expression)})')

    def mark_derived(self, state: str) -> None:
        """Record that the derived fact tables are complete and hold what ``state`` describes (its format is the
        builder's business); it stays until a table they derive from is written."""
        self.execute("DELETE FROM meta WHERE key IN (?, ?)", [DERIVED_KEY, STALE_DERIVED_KEY])
        self.execute("INSERT INTO meta VALUES (?, ?)", [DERIVED_KEY, state])

    def forget_derived(self) -> None:
        """The tables the derived fact tables derive from are about to change: stop reading them. They stay, with
        what they were built from under STALE_DERIVED_KEY, for `update_derived_facts` to bring up to date; the next
        full build replaces them."""
        rows = self.execute("SELECT value FROM meta WHERE key = ?", [DERIVED_KEY])
        if rows:
            self.execute("DELETE FROM meta WHERE key IN (?, ?)", [DERIVED_KEY, STALE_DERIVED_KEY])
            self.execute("INSERT INTO meta VALUES (?, ?)", [STALE_DERIVED_KEY, rows[0][0]])

    def stale_derived_state(self) -> str | None:
        """What `mark_derived` recorded for the derived fact tables before a write made them stale; None when
        they were not stale (or never built)."""
        rows = self.execute("SELECT value FROM meta WHERE key = ?", [STALE_DERIVED_KEY])
        return str(rows[0][0]) if rows else None

    def append_derived(self, name: str, expression: Any) -> None:
        """Add the rows of an Ibis expression to the derived fact table ``name`` (its columns in the table's
        order), for `update_derived_facts`, which deleted the rows they replace."""
        self.execute(f'INSERT INTO "{DERIVED_PREFIX}{name}" SELECT * FROM ({self.ibis.compile(expression)})')

    def insert_new(self, name: str, rows: pa.Table) -> int:
        """Insert the rows whose key is not yet stored (nor repeated earlier in ``rows``); return how many."""
        table = _TABLES[name]
        keys = [c.name for c in table.columns if c.primary_key]
        if rows.num_rows == 0:
            return 0
        if name in DERIVED_FROM:
            self.forget_derived()
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        key_match = " AND ".join(f'stored."{k}" IS NOT DISTINCT FROM incoming."{k}"' for k in keys)
        partition = ", ".join(f'"{k}"' for k in keys)
        self.sql.register("incoming_rows", rows)
        try:
            [(inserted,)] = self.execute(
                f"""
                INSERT INTO {table.name} ({columns})
                SELECT {columns} FROM (
                    SELECT *, row_number() OVER (PARTITION BY {partition}) AS _copy FROM incoming_rows
                ) AS incoming
                WHERE _copy = 1 AND NOT EXISTS (SELECT 1 FROM {table.name} AS stored WHERE {key_match})
                """
            )
            return int(inserted)
        finally:
            self.sql.unregister("incoming_rows")

    def upsert(self, name: str, rows: pa.Table, *, ignore: tuple[str, ...] = ("ingested_at",)) -> tuple[int, int]:
        """Store ``rows``, replacing the stored row of the same key when any column but ``ignore`` differs (a
        help desk ticket read again after it changed); return (new, changed). Reading the same rows again
        changes nothing. Within ``rows`` the last row of a key wins."""
        table = _TABLES[name]
        keys = [c.name for c in table.columns if c.primary_key]
        if rows.num_rows == 0:
            return 0, 0
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        partition = ", ".join(f'"{k}"' for k in keys)
        key_match = " AND ".join(f'stored."{k}" IS NOT DISTINCT FROM incoming."{k}"' for k in keys)
        same = " AND ".join(
            f'stored."{c}" IS NOT DISTINCT FROM incoming."{c}"' for c in table.column_names if c not in ignore
        )
        self.sql.register("upsert_source", rows.append_column("_position", pa.array(range(rows.num_rows))))
        try:
            self.execute(
                f"""
                CREATE OR REPLACE TEMP TABLE upsert_rows AS
                SELECT {columns}, EXISTS (SELECT 1 FROM {table.name} AS stored WHERE {key_match}) AS _known
                FROM (
                    SELECT *, row_number() OVER (PARTITION BY {partition} ORDER BY _position DESC) AS _copy
                    FROM upsert_source
                ) AS incoming
                WHERE _copy = 1 AND NOT EXISTS (SELECT 1 FROM {table.name} AS stored WHERE {same})
                """
            )
            [(new, changed)] = self.execute(
                "SELECT count(*) FILTER (NOT _known), count(*) FILTER (_known) FROM upsert_rows"
            )
            if new or changed:
                if name in DERIVED_FROM:
                    self.forget_derived()
                match = " AND ".join(f'{table.name}."{k}" IS NOT DISTINCT FROM incoming."{k}"' for k in keys)
                self.execute(
                    f"DELETE FROM {table.name} WHERE EXISTS (SELECT 1 FROM upsert_rows AS incoming WHERE {match})"
                )
                self.execute(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM upsert_rows")
            self.execute("DROP TABLE upsert_rows")
            return int(new), int(changed)
        finally:
            self.sql.unregister("upsert_source")

    def append(self, name: str, rows: pa.Table) -> None:
        """Insert rows the caller has already checked are new (see `message_keys`)."""
        if name in DERIVED_FROM:
            self.forget_derived()
        columns = ", ".join(f'"{c}"' for c in _TABLES[name].column_names)
        self.sql.register("appended_rows", rows)
        try:
            self.execute(f"INSERT INTO {name} ({columns}) SELECT {columns} FROM appended_rows")
        finally:
            self.sql.unregister("appended_rows")

    def scan(
        self, name: str, columns: list[str], batch_rows: int = 20_000, *, where: str | None = None
    ) -> Iterator[pa.RecordBatch]:
        """Stream some columns of a table (the rows matching the SQL condition ``where``, when given) in record
        batches, for Python code that must see every row."""
        selected = ", ".join(f'"{c}"' for c in columns)
        condition = f" WHERE {where}" if where else ""
        reader = self.sql.sql(f"SELECT {selected} FROM {_TABLES[name].name}{condition}").to_arrow_reader(batch_rows)
        yield from reader

    def message_keys(self) -> set[str]:
        """Every stored message_key: an import checks new mail against it without asking the database."""
        keys = self.sql.sql("SELECT message_key FROM messages").to_arrow_table().column(0)
        return set(keys.to_pylist())

    def replace_all(self, name: str, rows: pa.Table) -> None:
        """Replace a derived table's content in one transaction."""
        table = _TABLES[name]
        if name in DERIVED_FROM:
            self.forget_derived()
        columns = ", ".join(f'"{c}"' for c in table.column_names)
        self.sql.register("replacement_rows", rows)
        try:
            self.execute("BEGIN TRANSACTION")
            self.execute(f"DELETE FROM {table.name}")
            self.execute(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM replacement_rows")
            self.execute("COMMIT")
        except Exception:
            self.execute("ROLLBACK")
            raise
        finally:
            self.sql.unregister("replacement_rows")

    def table_def(self, name: str) -> TableDef:
        return _TABLES[name]
