"""COPY text encoding: escaping, NULLs, array literals and timestamps round-trip through a reference decoder
written from the PostgreSQL documentation (COPY, "Text Format"; arrays, "Array Value Input")."""

from __future__ import annotations

import json
import uuid
from dataclasses import fields, replace
from typing import Any

import numpy as np
import pytest

from generators.copy_format import COLUMNS, NULL, array_literal, encode_copy_text, generate_copy_chunks
from generators.events import EventBatch, generate_batches
from generators.shape import DatasetSpec

TRICKY = [
    "tab\there",
    "new\nline",
    "carriage\rreturn",
    "back\\slash",
    "\\N",
    "\\.",
    "ends with a backslash\\",
    "quotes \" and '",
    "commas, and {braces}",
    "unicode ✓ café 漢字",
    "",
    "NULL",
    "\t\n\r\\ all at once",
]
_UNESCAPE = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r", "b": "\b", "f": "\f", "v": "\v"}


def decode_copy_text(payload: bytes) -> list[list[Any]]:
    """Rows of fields (str, or None for NULL) from COPY text format, backslash sequences unescaped."""
    text = payload.decode("utf-8")
    assert text.endswith("\n")
    rows = []
    for line in text[:-1].split("\n"):
        rows.append([None if field == NULL else _unescape(field) for field in line.split("\t")])
    return rows


def _unescape(field: str) -> str:
    out, i = [], 0
    while i < len(field):
        if field[i] == "\\":
            out.append(_UNESCAPE[field[i + 1]])
            i += 2
        else:
            out.append(field[i])
            i += 1
    return "".join(out)


def parse_array(literal: str) -> tuple[str | None, ...]:
    """Elements of a one-dimensional text array literal such as {a,"b c",NULL}."""
    assert literal[0] == "{" and literal[-1] == "}"
    body, i = literal[1:-1], 0
    items: list[str | None] = []
    if not body:
        return ()
    while i <= len(body):
        if i < len(body) and body[i] == '"':
            value, i = [], i + 1
            while body[i] != '"':
                if body[i] == "\\":
                    i += 1
                value.append(body[i])
                i += 1
            items.append("".join(value))
            i += 1
        else:
            end = body.find(",", i)
            end = len(body) if end < 0 else end
            raw = body[i:end]
            items.append(None if raw == "NULL" else raw)
            i = end
        assert i == len(body) or body[i] == ","
        i += 1
    return tuple(items)


def batch_of(rows: int, **columns: list) -> EventBatch:
    """A hand-made batch: plain values everywhere, overridden per column."""
    defaults: dict[str, list] = {
        "id": [str(uuid.UUID(int=i + 1)) for i in range(rows)],
        "timestamp": [np.datetime64("2025-10-15T12:00:00", "us")] * rows,
        "event_type": ["file_read"] * rows,
        "agent_id": ["claude-code"] * rows,
        "agent_version": ["2.0.14"] * rows,
        "session_id": [str(uuid.UUID(int=0))] * rows,
        "project_id": [7] * rows,
        "context": ['{"branch": "main"}'] * rows,
        "data": ['{"filePath": "src/a.ts"}'] * rows,
        "metrics": [None] * rows,
        "parent_event_id": [None] * rows,
        "related_event_ids": [None] * rows,
        "tags": [()] * rows,
        "severity": ["info"] * rows,
    }
    defaults.update(columns)
    arrays = {}
    for name, values in defaults.items():
        if name == "timestamp":
            arrays[name] = np.array(values, dtype="datetime64[us]")
        elif name == "project_id":
            arrays[name] = np.array(values, dtype=np.int32)
        else:
            arrays[name] = np.empty(rows, dtype=object)
            for i, value in enumerate(values):
                arrays[name][i] = value
    return EventBatch(**arrays)


def test_columns_are_the_table_order_and_match_the_batch_fields() -> None:
    assert COLUMNS == (
        "id", "timestamp", "event_type", "agent_id", "agent_version", "session_id", "project_id",
        "context", "data", "metrics", "parent_event_id", "related_event_ids", "tags", "severity",
    )  # fmt: skip
    assert tuple(field.name for field in fields(EventBatch)) == COLUMNS


@pytest.mark.parametrize("column", ["event_type", "agent_version", "context", "data", "metrics"])
def test_tricky_text_round_trips(column: str) -> None:
    payload = encode_copy_text(batch_of(len(TRICKY), **{column: TRICKY}))
    assert payload.count(b"\n") == len(TRICKY)  # newlines inside values were escaped
    decoded = decode_copy_text(payload)
    assert all(len(row) == len(COLUMNS) for row in decoded)  # so were tabs
    assert [row[COLUMNS.index(column)] for row in decoded] == TRICKY


def test_backslash_sequences_are_written_as_postgresql_expects() -> None:
    payload = encode_copy_text(batch_of(1, data=['{"p": "C:\\\\x"}\t\r\n']))
    assert payload.split(b"\t")[8] == b'{"p": "C:\\\\\\\\x"}\\t\\r\\n'


def test_null_differs_from_empty_text_and_empty_arrays() -> None:
    batch = batch_of(
        2,
        metrics=[None, ""],
        parent_event_id=[None, str(uuid.UUID(int=9))],
        related_event_ids=[None, ()],
        tags=[(), ("a",)],
    )
    first, second = (line.split("\t") for line in encode_copy_text(batch).decode().splitlines())
    assert first[9:13] == [NULL, NULL, NULL, "{}"]
    assert second[9:13] == ["", str(uuid.UUID(int=9)), "{}", "{a}"]


def test_array_literals_quote_only_elements_that_need_it() -> None:
    assert array_literal(("ai-generated", "tests")) == "{ai-generated,tests}"
    assert array_literal(()) == "{}"
    assert (
        array_literal(("a,b", 'c"d', "e\\f", "{x}", " space", "", "NULL", "null", None))
        == '{"a,b","c\\"d","e\\\\f","{x}"," space","","NULL","null",NULL}'
    )


def test_array_elements_round_trip_through_copy() -> None:
    tricky = tuple(TRICKY)
    related = (str(uuid.UUID(int=1)), str(uuid.UUID(int=2)))
    decoded = decode_copy_text(encode_copy_text(batch_of(2, tags=[tricky, ()], related_event_ids=[related, None])))
    assert parse_array(decoded[0][12]) == tricky
    assert parse_array(decoded[0][11]) == related
    assert parse_array(decoded[1][12]) == ()
    assert decoded[1][11] is None


@pytest.mark.parametrize(
    ("instant", "text"),
    [
        ("2025-10-31T23:59:59.999999", "2025-10-31 23:59:59.999999+00"),
        ("2025-10-02T00:00:00", "2025-10-02 00:00:00.000000+00"),
        ("2000-02-29T07:08:09.000010", "2000-02-29 07:08:09.000010+00"),
        ("1969-12-31T23:59:59.000001", "1969-12-31 23:59:59.000001+00"),
    ],
)
def test_timestamps_are_utc_with_microseconds(instant: str, text: str) -> None:
    stamps = [np.datetime64("2025-10-15T12:00:00", "us"), np.datetime64(instant, "us")]
    second_row = encode_copy_text(batch_of(2, timestamp=stamps)).decode().splitlines()[1]
    assert second_row.split("\t")[1] == text


def test_nul_cannot_be_encoded() -> None:
    with pytest.raises(ValueError, match="NUL"):
        encode_copy_text(batch_of(1, data=["a\x00b"]))


def test_rows_encode_independently_of_how_a_batch_is_split() -> None:
    batch = batch_of(3_000, data=[f'{{"n": {i}, "p": "a\\\\b"}}' for i in range(3_000)])
    whole = encode_copy_text(batch)
    one_by_one = b"".join(encode_copy_text(batch.take(slice(i, i + 1))) for i in range(len(batch)))
    assert whole == one_by_one
    assert encode_copy_text(batch.take(slice(0, 0))) == b""


def test_generated_rows_decode_back_to_the_batch_values() -> None:
    spec = DatasetSpec(rows=6_000, seed=3, large_payload_fraction=0.01)
    batch = next(generate_batches(spec, batch_rows=spec.rows))
    decoded = decode_copy_text(encode_copy_text(batch))
    assert len(decoded) == len(batch)
    for name in ("id", "event_type", "agent_id", "agent_version", "session_id", "context", "data", "metrics"):
        column = [row[COLUMNS.index(name)] for row in decoded]
        assert column == getattr(batch, name).tolist(), name
    assert [int(row[6]) for row in decoded] == batch.project_id.tolist()
    assert [row[10] for row in decoded] == batch.parent_event_id.tolist()
    assert [parse_array(row[12]) for row in decoded] == batch.tags.tolist()
    related = [None if row[11] is None else parse_array(row[11]) for row in decoded]
    assert related == batch.related_event_ids.tolist()
    for row in decoded:
        json.loads(row[7])
        json.loads(row[8])
        if row[9] is not None:
            json.loads(row[9])


def test_copy_chunks_cover_the_dataset() -> None:
    spec = replace(DatasetSpec(rows=5_000), seed=9)
    chunks = list(generate_copy_chunks(spec, batch_rows=1_500))
    assert [rows for rows, _ in chunks] == [1_500, 1_500, 1_500, 500]
    assert all(chunk.count(b"\n") == rows for rows, chunk in chunks)
    first_line = chunks[0][1].split(b"\n", 1)[0].decode().split("\t")
    assert len(first_line) == len(COLUMNS)
    assert first_line[2] == "session_start"  # the earliest event of the window opens a session
