"""Scratch copies of agent_events for suites that write: a marked database beside the measured one, always dropped.

A copy has the instance's engine, schema and index set, and is filled with the first rows the dataset's own
generator produces, so the suites never touch the measured table and still meet realistic data.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo
from tqdm import tqdm

from bench.core.cases import QUERIES_DIR
from bench.core.engine import Engine
from bench.core.errors import HarnessError
from bench.core.migration import Migration, read_migration
from bench.db.database import AGENT_EVENTS, ensure_marked
from bench.db.instances import Instance, InstancePair
from bench.db.schema import (
    apply_migration,
    compare_index_sets,
    create_indexes_before,
    create_table,
    expected_index_set,
    index_set,
)
from bench.load.parallel import StatementCanceller, run_parallel
from generators.copy_format import COLUMNS, encode_copy_text
from generators.events import EventBatch, generate_batches
from generators.shape import DatasetSpec

SCRATCH_PREFIX = "phase2_bench_scratch"
COPY_SQL = f"COPY {AGENT_EVENTS} ({', '.join(COLUMNS)}) FROM STDIN"
INSERT_TEMPLATE = QUERIES_DIR / "scratch" / "insert_events.sql"


class ScratchUnavailable(HarnessError):
    """The target server does not let the harness create a scratch database (the suite is then skipped)."""


@contextlib.contextmanager
def scratch_database(inst: Instance, purpose: str) -> Iterator[Instance]:
    """A new, marked database on inst's server, dropped on exit even when the suite failed."""
    name = f"{SCRATCH_PREFIX}_{purpose}_{uuid.uuid4().hex[:8]}"
    try:  # from before CREATE DATABASE: an interrupt that lands while it runs must not leave the database behind
        with inst.connect() as conn:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            except psycopg.errors.InsufficientPrivilege as e:
                raise ScratchUnavailable(
                    f"the {inst.role} server does not let this user create a scratch database ({str(e).strip()}); "
                    "grant CREATEDB to run this suite there"
                ) from None
        scratch = Instance(inst.role, make_conninfo(inst.dsn, dbname=name), inst.kind, inst.server)
        with scratch.connect() as conn:
            ensure_marked(conn, inst.role, scratch.dsn)
        yield scratch
    finally:
        with inst.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextlib.contextmanager
def scratch_pair(pair: InstancePair, purpose: str) -> Iterator[InstancePair]:
    with scratch_database(pair.before, purpose) as before, scratch_database(pair.after, purpose) as after:
        yield InstancePair(before, after, pair.engine)


def generation_spec(dataset: dict[str, Any], rows_needed: int) -> DatasetSpec:
    """The loaded dataset's spec, lengthened when a suite needs more rows than it has.

    The first rows of a lengthened spec are not the dataset's own (sessions are planned from the row count),
    but they come from the same knobs and the same project count, so they have the dataset's shape.
    """
    knobs = dict(dataset["spec"])
    knobs["reference_instant"] = datetime.fromisoformat(knobs["reference_instant"])
    spec = DatasetSpec(**knobs)
    return dataclasses.replace(spec, rows=max(spec.rows, rows_needed))


class RowStream:
    """Consecutive rows of a spec's generator, taken in pieces of any size."""

    def __init__(self, spec: DatasetSpec, batch_rows: int = 10_000) -> None:
        self._batches = generate_batches(spec, batch_rows)
        self._held: EventBatch | None = None

    def take(self, count: int) -> EventBatch:
        pieces: list[EventBatch] = []
        got = 0
        while got < count:
            piece = self._held if self._held is not None else next(self._batches, None)
            self._held = None
            if piece is None:
                raise HarnessError(f"the generator ran out of rows ({got} of {count} taken)")
            need = count - got
            if len(piece) > need:
                self._held = piece.take(slice(need, len(piece)))
                piece = piece.take(slice(0, need))
            pieces.append(piece)
            got += len(piece)
        return EventBatch.concat(pieces)


def migration_of(dataset: dict[str, Any]) -> Migration:
    """The migration the loaded `after` holds (require_loaded records it), read again for scratch copies."""
    recorded = dataset.get("migration") or {}
    if not recorded.get("path"):
        return read_migration(None)
    migration = read_migration(recorded["path"])
    if migration.sha256 != recorded.get("sha256"):
        raise HarnessError(
            f"{migration.path} changed since after was loaded with it: reload with `python -m bench load "
            f"--migration {migration.cli_name}` so the scratch copies and the measured after hold the same migration"
        )
    return migration


def expected_differences(conn: psycopg.Connection[Any], role: str, migration: Migration) -> list[str]:
    """How a copy's indexes differ from the design document's table (none checked for a non-Phase-2 after)."""
    expected = expected_index_set(role, migration.is_phase2)
    return compare_index_sets(index_set(conn), expected) if expected is not None else []


def build_copies(
    targets: Sequence[Instance],
    engine: Engine,
    spec: DatasetSpec,
    stream: RowStream,
    rows: int,
    migrate: Sequence[bool],
    progress: bool,
    chunk_rows: int = 20_000,
    migration: Migration | None = None,
) -> dict[str, Any]:
    """agent_events in each target: the next `rows` rows of stream by COPY, the pre-Phase-2 indexes, the
    migration under test (None: Phase 2) where `migrate` says so, VACUUM ANALYZE. Indexes are built after the
    COPY, as the load does."""
    migration = migration if migration is not None else read_migration(None)
    conns = [t.connect() for t in targets]
    try:
        for conn in conns:
            create_table(conn, engine, spec.window_start, spec.reference_instant)
        bar = tqdm(total=rows, unit="row", unit_scale=True, desc="scratch copy", disable=not progress, leave=False)
        with contextlib.ExitStack() as stack:
            copies = [stack.enter_context(conn.cursor().copy(COPY_SQL)) for conn in conns]
            left = rows
            while left > 0:
                n = min(chunk_rows, left)
                payload = encode_copy_text(stream.take(n))
                for copy in copies:
                    copy.write(payload)
                left -= n
                bar.update(n)
        bar.close()
    finally:
        for conn in conns:
            conn.close()

    def finish(target: Instance, with_migration: bool, canceller: StatementCanceller) -> None:
        with canceller.connect(target) as conn:
            create_indexes_before(conn, canceller.check)
            if with_migration:
                apply_migration(conn, migration, on_statement=canceller.check)
            conn.execute(f"VACUUM ANALYZE {AGENT_EVENTS}")

    run_parallel([functools.partial(finish, t, m) for t, m in zip(targets, migrate, strict=True)])
    return {"rows": rows, "engine": engine.name}


@dataclasses.dataclass(frozen=True)
class LoadedCopies:
    """Scratch copies of before (pre-Phase-2 indexes) and after (the migration under test added), and what built
    them: the spec, the stream positioned after the copied rows, the migration."""

    pair: InstancePair
    spec: DatasetSpec
    stream: RowStream
    migration: Migration


@contextlib.contextmanager
def before_after_copies(
    pair: InstancePair, dataset: dict[str, Any], purpose: str, prefill: int, rows_after: int, progress: bool
) -> Iterator[LoadedCopies]:
    """A scratch database on each server with the dataset's first `prefill` rows (before: pre-Phase-2 indexes,
    after: the migration `after` was loaded with), `rows_after` more rows left in the stream for the suite to
    write; both dropped on the way out."""
    spec = generation_spec(dataset, prefill + rows_after)
    stream = RowStream(spec)
    migration = migration_of(dataset)
    with scratch_pair(pair, purpose) as copies:
        build_copies(
            [copies.before, copies.after],
            pair.engine,
            spec,
            stream,
            prefill,
            [False, True],
            progress,
            migration=migration,
        )
        yield LoadedCopies(copies, spec, stream, migration)


def insert_statement(rows: int) -> sql.Composed:
    """The application's multi-row INSERT of `rows` rows (bench/queries/scratch/insert_events.sql)."""
    template = "\n".join(line for line in INSERT_TEMPLATE.read_text().splitlines() if not line.startswith("--"))
    row = sql.SQL("({})").format(sql.SQL(", ").join([sql.Placeholder()] * len(COLUMNS)))
    return sql.SQL(template.strip()).format(
        columns=sql.SQL(", ").join(map(sql.Identifier, COLUMNS)),
        rows=sql.SQL(", ").join([row] * rows),
    )


def insert_rows(batch: EventBatch) -> list[tuple[Any, ...]]:
    """Rows as an application holds them (str, datetime, int, lists), in COPY column order.

    Text values go out untyped, so PostgreSQL casts them to uuid and jsonb as it would an ORM's strings.
    """
    timestamps = [t.replace(tzinfo=UTC) for t in batch.timestamp.astype("datetime64[us]").tolist()]
    columns = [
        batch.id.tolist(),
        timestamps,
        batch.event_type.tolist(),
        batch.agent_id.tolist(),
        batch.agent_version.tolist(),
        batch.session_id.tolist(),
        batch.project_id.tolist(),
        batch.context.tolist(),
        batch.data.tolist(),
        batch.metrics.tolist(),
        batch.parent_event_id.tolist(),
        [None if ids is None else list(ids) for ids in batch.related_event_ids.tolist()],
        [list(tags) for tags in batch.tags.tolist()],
        batch.severity.tolist(),
    ]
    return list(zip(*columns, strict=True))
