"""Arrow buffers built with the stdlib decode to exactly the values that went in."""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa
import pytest

from deskpulse.columns import decode, encode


@pytest.mark.parametrize(
    ("kind", "values", "arrow_type"),
    [
        ("VARCHAR", ["a", None, "", "Jürgen — 日本", "x" * 10_000], pa.string()),
        ("VARCHAR[]", [["a@x", "b@y"], [], None, ["ü@ß.de"]], pa.list_(pa.string())),
        ("TIMESTAMP", [datetime(2026, 3, 29, 1, 59, 59, 123456), None, datetime(1985, 1, 1)], pa.timestamp("us")),
        ("BOOLEAN", [True, False, None, True, True, False, False, False, True], pa.bool_()),
        ("INTEGER", [0, -5, None, 2**31 - 1], pa.int32()),
        ("BIGINT", [0, None, 2**62], pa.int64()),
    ],
)
def test_round_trip(kind: str, values: list[object], arrow_type: pa.DataType) -> None:
    array = decode(encode(values, kind))
    array.validate(full=True)
    assert array.type == arrow_type
    assert array.to_pylist() == values


def test_a_column_without_nulls_carries_no_validity_bitmap() -> None:
    assert encode(["a", "b"], "VARCHAR").validity is None


def test_a_lone_surrogate_becomes_valid_utf8() -> None:
    # Python strings can hold lone surrogates (from surrogateescape decoding); Arrow strings must be UTF-8.
    array = decode(encode(["bad \udcff byte"], "VARCHAR"))
    array.validate(full=True)
    assert array.to_pylist() == ["bad ? byte"]
