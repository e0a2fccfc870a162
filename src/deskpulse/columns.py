"""Rows to Arrow columns without Arrow: the buffers of the Arrow columnar format, built with the stdlib.

Parser processes encode their rows here, so they need not import pyarrow, and the bytes they send are
the column buffers themselves: the importing process wraps them into an Arrow table without touching a
single value (`decode`). Types follow the canonical schema: VARCHAR, VARCHAR[], TIMESTAMP (naive UTC,
microseconds), BOOLEAN, INTEGER, BIGINT, DOUBLE.
"""

from __future__ import annotations

from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from deskpulse.schema import TableDef

_EPOCH = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class EncodedColumn:
    kind: str  # a canonical column type: VARCHAR, VARCHAR[], TIMESTAMP, BOOLEAN, INTEGER, BIGINT, DOUBLE
    length: int
    validity: bytes | None  # Arrow validity bitmap (LSB first); None when no value is null
    buffers: tuple[bytes, ...]  # the type's own buffers after the validity bitmap
    child: EncodedColumn | None = None  # the strings of a VARCHAR[] column


def encode(values: Sequence[Any], kind: str) -> EncodedColumn:
    """One column's values (None for null) as Arrow buffers."""
    length = len(values)
    validity = _bitmap([value is not None for value in values]) if None in values else None
    if kind == "VARCHAR":
        encoded = [b"" if value is None else value.encode("utf-8", "replace") for value in values]
        offsets = array("i", accumulate(map(len, encoded), initial=0))
        return EncodedColumn(kind, length, validity, (offsets.tobytes(), b"".join(encoded)))
    if kind == "VARCHAR[]":
        lists = [() if value is None else value for value in values]
        offsets = array("i", accumulate(map(len, lists), initial=0))
        child = encode([item for items in lists for item in items], "VARCHAR")
        return EncodedColumn(kind, length, validity, (offsets.tobytes(),), child)
    if kind == "TIMESTAMP":
        micros = array("q", (0 if v is None else (v - _EPOCH) // _MICROSECOND for v in values))
        return EncodedColumn(kind, length, validity, (micros.tobytes(),))
    if kind in ("INTEGER", "BIGINT"):
        numbers = array("i" if kind == "INTEGER" else "q", (0 if v is None else v for v in values))
        return EncodedColumn(kind, length, validity, (numbers.tobytes(),))
    if kind == "DOUBLE":
        return EncodedColumn(kind, length, validity, (array("d", (0.0 if v is None else v for v in values)).tobytes(),))
    if kind == "BOOLEAN":
        return EncodedColumn(kind, length, validity, (_bitmap([bool(v) for v in values]),))
    raise ValueError(f"no encoding for column type {kind}")


def _bitmap(bits: list[bool]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for index, bit in enumerate(bits):
        if bit:
            out[index >> 3] |= 1 << (index & 7)
    return bytes(out)


def arrow_table(table: TableDef, columns: Mapping[str, Sequence[Any]]) -> Any:
    """A pyarrow Table for one of the canonical tables, from Python values per column.

    Use this, not ``pyarrow.array(list)``: pyarrow imports pandas to convert Python lists, which costs an
    import 50 MB while parser processes are running.
    """
    import pyarrow as pa

    arrays = [decode(encode(columns[c.name], c.type)) for c in table.columns]
    return pa.Table.from_arrays(arrays, schema=table.arrow_schema())


def rows_table(table: TableDef, rows: Sequence[Mapping[str, Any]]) -> Any:
    """`arrow_table` from a list of row dicts."""
    return arrow_table(table, {c.name: [row[c.name] for row in rows] for c in table.columns})


def decode(column: EncodedColumn) -> Any:
    """The pyarrow Array for an encoded column (imported here: parser processes never call this)."""
    import pyarrow as pa

    validity = None if column.validity is None else pa.py_buffer(column.validity)
    buffers = [validity, *(pa.py_buffer(b) for b in column.buffers)]
    children = None if column.child is None else [decode(column.child)]
    return pa.Array.from_buffers(arrow_type(column.kind), column.length, buffers, children=children)


def arrow_type(kind: str) -> Any:
    """The Arrow type of a canonical column type."""
    import pyarrow as pa

    types = {
        "VARCHAR": pa.string(),
        "VARCHAR[]": pa.list_(pa.string()),
        "TIMESTAMP": pa.timestamp("us"),
        "BOOLEAN": pa.bool_(),
        "INTEGER": pa.int32(),
        "BIGINT": pa.int64(),
        "DOUBLE": pa.float64(),
    }
    return types[kind]
