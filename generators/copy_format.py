"""Encoding event batches as the payload of `COPY agent_events (COLUMNS) FROM STDIN (FORMAT text)`.

Text format rules (PostgreSQL docs, "COPY", File Formats): columns separated by a tab, rows ended by a
newline, NULL written as \\N, and backslash, tab, newline and carriage return inside values escaped with a
backslash. Array values use the array literal syntax ({a,"b c"}), itself escaped as text afterwards.
The bytes are UTF-8: the loader must COPY with client_encoding UTF8.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import date

import numpy as np

from generators.events import EventBatch, generate_batches
from generators.shape import DatasetSpec

COLUMNS: tuple[str, ...] = (
    "id",
    "timestamp",
    "event_type",
    "agent_id",
    "agent_version",
    "session_id",
    "project_id",
    "context",
    "data",
    "metrics",
    "parent_event_id",
    "related_event_ids",
    "tags",
    "severity",
)
NULL = "\\N"
# Backslash first, so the backslashes added for the others are not doubled.
_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"))
_ARRAY_QUOTE_TRIGGERS = frozenset('{}",\\ \t\n\r\v\f')
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAY_US = 86_400_000_000
_ROWS_PER_SLICE = 1024
_NONE = np.array(None, dtype=object)  # compared element-wise to find NULLs in object columns


def encode_copy_text(batch: EventBatch) -> bytes:
    """The rows of batch in COPY text format, each ended by a newline."""
    # Slices of ~1k rows keep the per-row strings in cache: encoding a 50k-row batch as one string was
    # ~1.6x slower (rows of ~470 bytes, so each intermediate string of a batch is ~25 MB).
    rows = len(batch)
    return b"".join(
        _encode_rows(batch.take(slice(start, start + _ROWS_PER_SLICE))) for start in range(0, rows, _ROWS_PER_SLICE)
    )


def _encode_rows(batch: EventBatch) -> bytes:
    columns = (
        _text(batch.id),
        _timestamps(batch.timestamp),
        _text(batch.event_type),
        _text(batch.agent_id),
        _text(batch.agent_version),
        _text(batch.session_id),
        _integers(batch.project_id),
        _text(batch.context),
        _text(batch.data),
        _nullable_text(batch.metrics),
        _nullable_text(batch.parent_event_id),
        _array_literals(batch.related_event_ids),
        _array_literals(batch.tags),
        _text(batch.severity),
    )
    lines = list(map("\t".join, zip(*columns, strict=True)))
    lines.append("")  # so the join ends the last row with a newline too
    return "\n".join(lines).encode("utf-8")


def generate_copy_chunks(spec: DatasetSpec, batch_rows: int = 50_000) -> Iterator[tuple[int, bytes]]:
    """(rows, COPY text bytes) per batch of the dataset."""
    for batch in generate_batches(spec, batch_rows):
        yield len(batch), encode_copy_text(batch)


def escape_values(values: list[str]) -> list[str]:
    """COPY text escaping of a column; only the characters present in the column are searched row by row."""
    joined = "".join(values)
    if "\x00" in joined:
        raise ValueError("a text value contains NUL (\\x00), which PostgreSQL text cannot store")
    escaped = values
    for special, replacement in _ESCAPES:
        # `in` on the whole column is a memchr; most columns have no special character at all.
        if special in joined:
            escaped = [value.replace(special, replacement) if special in value else value for value in escaped]
    return escaped


def array_literal(items: Sequence[str | None]) -> str:
    """PostgreSQL array literal of text items, quoting only the elements that need it."""
    return "{" + ",".join(_array_element(item) for item in items) + "}"


# Tag sets repeat across batches; the cache bound only matters for one-off arrays such as related ids.
_cached_array_literal = functools.lru_cache(maxsize=8192)(array_literal)


def _array_element(item: str | None) -> str:
    if item is None:
        return "NULL"
    if item and item.upper() != "NULL" and _ARRAY_QUOTE_TRIGGERS.isdisjoint(item):
        return item
    return '"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _text(values: np.ndarray) -> list[str]:
    return escape_values(values.tolist())


def _nullable_text(values: np.ndarray) -> list[str]:
    is_null = np.equal(values, _NONE)
    if not is_null.any():
        return escape_values(values.tolist())
    text = np.full(len(values), NULL, dtype=object)
    text[~is_null] = escape_values(values[~is_null].tolist())
    return text.tolist()


def _array_literals(values: np.ndarray) -> list[str]:
    """Array literal per row (rows hold tuples of str), or \\N; each distinct array is built once."""
    is_null = np.equal(values, _NONE)
    present = values[~is_null].tolist()
    literal = {items: _cached_array_literal(items) for items in set(present)}
    text = np.full(len(values), NULL, dtype=object)
    text[~is_null] = escape_values(list(map(literal.__getitem__, present)))
    return text.tolist()


def _integers(values: np.ndarray) -> list[str]:
    listed = values.tolist()
    text = {value: str(value) for value in set(listed)}
    return list(map(text.__getitem__, listed))


def _timestamps(values: np.ndarray) -> list[str]:
    """'YYYY-MM-DD HH:MM:SS.ffffff+00' per row, digits computed column-wise instead of strftime per row."""
    micros = values.astype("datetime64[us]").view(np.int64)
    days = micros // _DAY_US
    of_day = micros - days * _DAY_US
    first_day = int(days.min())
    calendar = "".join(
        date.fromordinal(_EPOCH_ORDINAL + day).isoformat() for day in range(first_day, int(days.max()) + 1)
    )
    calendar_digits = np.frombuffer(calendar.encode("ascii"), dtype=np.uint8).reshape(-1, 10)
    text = np.empty((len(micros), 30), dtype=np.uint8)
    text[:, 0:10] = calendar_digits[days - first_day]
    seconds, fraction = np.divmod(of_day, 1_000_000)
    hours, rest = np.divmod(seconds, 3600)
    minutes, secs = np.divmod(rest, 60)
    for column, number in ((11, hours), (14, minutes), (17, secs)):
        text[:, column] = 48 + number // 10
        text[:, column + 1] = 48 + number % 10
    for digit in range(6):
        text[:, 25 - digit] = 48 + fraction // 10**digit % 10
    text[:, 10] = ord(" ")
    text[:, [13, 16]] = ord(":")
    text[:, 19] = ord(".")
    text[:, 26:29] = np.frombuffer(b"+00", dtype=np.uint8)
    text[:, 29] = ord("\n")
    return text.tobytes().decode("ascii").split("\n")[: len(micros)]
