"""Creating agent_events on an engine, building its indexes, applying the migration under test, index sets and
their differences."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.core.candidates import NO_TRANSACTION_HEADER, read_candidate
from bench.core.config import SCHEMA_DIR
from bench.core.engine import Engine
from bench.core.errors import HarnessError, MigrationError, UnsafeTargetError
from bench.core.migration import PHASE2_FILE, Migration
from bench.core.sql_files import read_statements
from bench.db.candidate_apply import apply_candidate
from bench.db.database import AGENT_EVENTS, HARNESS_KINDS, TARGET_SCHEMA, target_relation, timescaledb_presence

MIGRATION_FILE = PHASE2_FILE


@dataclass(frozen=True)
class IndexDef:
    name: str
    columns: tuple[str, ...]  # e.g. ("session_id", "timestamp DESC")
    method: str  # "btree", "gin"

    def describe(self) -> str:
        return f"{self.name} ({', '.join(self.columns)}) USING {self.method}"


# The design document's "Before Phase 2" and "After Phase 2" tables (PHASE2_IMPLEMENTATION.md).
EXPECTED_BEFORE: tuple[IndexDef, ...] = (
    IndexDef("agent_events_timestamp_idx", ("timestamp DESC",), "btree"),
    IndexDef("agent_events_session_id_idx", ("session_id",), "btree"),
    IndexDef("agent_events_project_id_idx", ("project_id",), "btree"),
    IndexDef("agent_events_agent_id_idx", ("agent_id",), "btree"),
    IndexDef("agent_events_event_type_idx", ("event_type",), "btree"),
    IndexDef("agent_events_tags_idx", ("tags",), "btree"),
    IndexDef("agent_events_severity_idx", ("severity",), "btree"),
)
EXPECTED_AFTER: tuple[IndexDef, ...] = (
    IndexDef("agent_events_timestamp_idx", ("timestamp DESC",), "btree"),
    IndexDef("agent_events_session_id_timestamp_idx", ("session_id", "timestamp DESC"), "btree"),
    IndexDef("agent_events_project_id_timestamp_idx", ("project_id", "timestamp DESC"), "btree"),
    IndexDef("agent_events_agent_id_idx", ("agent_id",), "btree"),
    IndexDef("agent_events_event_type_idx", ("event_type",), "btree"),
    IndexDef("agent_events_tags_idx", ("tags",), "btree"),
    IndexDef("agent_events_severity_idx", ("severity",), "btree"),
    IndexDef("agent_events_data_idx", ("data",), "gin"),
)
PRIMARY_KEY = IndexDef("agent_events_pkey", ("id", "timestamp"), "btree")

DEVIATIONS_COMMON = (
    "Primary key is (id, timestamp) instead of (id): every unique index of a partitioned table or hypertable "
    "must contain the partitioning column.",
    "No foreign keys to the sessions and projects tables on the measured tables; only the app_writes suite's "
    "application-schema variant (scratch copies) has them and the tables they reference.",
)
DEVIATIONS_TIMESCALEDB = (
    "create_hypertable(..., create_default_indexes => false): TimescaleDB's default index is named "
    "agent_events_timestamp_idx and would collide with the schema's index of the same name.",
    "Compression is configured (segmentby project_id, agent_id, event_type; orderby timestamp DESC) but the "
    "7-day compression policy is not scheduled during measurement; the compression suite compresses explicitly.",
)
DEVIATIONS_PARTITIONS = (
    "Native declarative range partitioning by day stands in for TimescaleDB's 1-day chunks (TimescaleDB not "
    "available); there is no compression on this engine.",
)


def deviations(engine: Engine) -> list[str]:
    specific = DEVIATIONS_TIMESCALEDB if engine.is_timescaledb else DEVIATIONS_PARTITIONS
    return [*DEVIATIONS_COMMON, *specific]


def run_file(
    conn: psycopg.Connection[Any], path: Path, state_on_failure: str, on_statement: Callable[[], None] | None = None
) -> list[float]:
    """Run a SQL file statement by statement; returns each statement's seconds."""
    timings = []
    for index, statement in enumerate(read_statements(path), start=1):
        started = time.perf_counter()
        try:
            conn.execute(statement)
        except psycopg.Error as e:
            raise MigrationError(path.name, index, statement, str(e), state_on_failure) from e
        timings.append(time.perf_counter() - started)
        if on_statement:
            on_statement()
    return timings


def day_bounds(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Daily [from, to) ranges covering [start, end), aligned to UTC midnight like 1-day chunks."""
    day = start.replace(hour=0, minute=0, second=0, microsecond=0)
    bounds = []
    while day < end:
        bounds.append((day, day + timedelta(days=1)))
        day += timedelta(days=1)
    return bounds


def drop_agent_events(conn: psycopg.Connection[Any]) -> None:
    """Drop the harness's previous agent_events, whichever engine made it; anything else is a clean refusal."""
    presence = timescaledb_presence(conn)
    if presence.created and not presence.preloaded:
        # TimescaleDB's event triggers run on every DDL statement in this database and cannot load here.
        raise HarnessError(
            "this database holds the timescaledb extension (from an earlier --engine timescaledb load), but the "
            "server runs without TimescaleDB preloaded, so no table in it can be dropped or created: load with "
            "--engine timescaledb, or start from an empty database (`python -m bench clean` for the embedded "
            "instances)"
        )
    existing = target_relation(conn)
    if existing is None:
        return
    if existing.kind not in HARNESS_KINDS:
        raise UnsafeTargetError(
            f"{existing} is not a table the harness creates, so it is left alone: drop or rename it yourself, "
            "or use another database"
        )
    try:
        conn.execute(f"DROP TABLE {AGENT_EVENTS} CASCADE")
    except psycopg.Error as e:
        raise HarnessError(
            f"could not drop the previous {existing} to reload it: {str(e).strip()}. Drop it yourself, or start "
            "from an empty database (`python -m bench clean` for the embedded instances)"
        ) from None


def create_table(conn: psycopg.Connection[Any], engine: Engine, window_start: datetime, window_end: datetime) -> None:
    """Drop and recreate agent_events (no indexes yet) in the target schema of a database the harness owns."""
    drop_agent_events(conn)
    state = "agent_events is absent or incomplete; it is recreated by the next load"
    if engine.is_timescaledb:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
        except psycopg.errors.InsufficientPrivilege as e:
            raise HarnessError(
                f"CREATE EXTENSION timescaledb failed: {str(e).strip()}. Creating it needs a superuser unless the "
                "server trusts it: have one run `CREATE EXTENSION timescaledb;` in this database once, or use "
                "--engine postgres."
            ) from None
        except psycopg.Error as e:
            raise HarnessError(
                f"CREATE EXTENSION timescaledb failed: {str(e).strip()}. Preload it "
                "(shared_preload_libraries = 'timescaledb') or use --engine postgres."
            ) from None
        run_file(conn, SCHEMA_DIR / "agent_events.sql", state)
        run_file(conn, SCHEMA_DIR / "timescaledb_hypertable.sql", state)
        run_file(conn, SCHEMA_DIR / "timescaledb_compression.sql", state)
        return
    if timescaledb_presence(conn).created:
        # Left by an earlier --engine timescaledb load: the partitions engine runs without it, and results must
        # not report a TimescaleDB version for a partitioned table. Only harness objects could depend on it.
        with contextlib.suppress(psycopg.Error), conn.transaction():
            conn.execute("DROP EXTENSION timescaledb")
    run_file(conn, SCHEMA_DIR / "agent_events_partitioned.sql", state)
    template = (SCHEMA_DIR / "partition_day.sql").read_text()
    template = "\n".join(line for line in template.splitlines() if not line.startswith("--"))
    for day_start, day_end in day_bounds(window_start, window_end):
        statement = sql.SQL(template.strip().rstrip(";")).format(
            partition=sql.Identifier(TARGET_SCHEMA, f"agent_events_p{day_start:%Y%m%d}"),
            day_start=sql.Literal(day_start),
            day_end=sql.Literal(day_end),
        )
        conn.execute(statement)


def create_indexes_before(
    conn: psycopg.Connection[Any], on_statement: Callable[[], None] | None = None
) -> dict[str, float]:
    """Build the 7 pre-Phase-2 indexes; returns seconds per index name."""
    timings = run_file(conn, SCHEMA_DIR / "indexes_before.sql", "some pre-Phase-2 indexes are missing", on_statement)
    return dict(zip([d.name for d in EXPECTED_BEFORE], timings, strict=True))


def apply_migration(
    conn: psycopg.Connection[Any],
    migration: Migration | Path = MIGRATION_FILE,
    on_statement: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """Apply the migration in one transaction, so a failure leaves the instance exactly as it was before.

    A file marked `-- transaction: none` (CONCURRENTLY, psql's \\gexec) runs as psql runs it, one statement per
    transaction, through bench.db.candidate_apply; a failure there leaves the statements before it applied."""
    if isinstance(migration, Migration) and NO_TRANSACTION_HEADER in migration.text.splitlines()[:5]:
        outcome = apply_candidate(conn, read_candidate(migration.path))
        if on_statement:
            on_statement()
        return [{"statement": "all", "sql": migration.path.name, **outcome}]
    if isinstance(migration, Migration):
        path, statements = migration.path, list(migration.statements)
    else:
        path, statements = migration, read_statements(migration)
    steps = []
    with conn.transaction():
        for index, statement in enumerate(statements, start=1):
            started = time.perf_counter()
            try:
                conn.execute(statement)
            except psycopg.Error as e:
                raise MigrationError(
                    path.name,
                    index,
                    statement,
                    str(e),
                    "rolled back: the instance still has its pre-migration schema and indexes",
                ) from e
            steps.append({"statement": index, "sql": statement, "seconds": time.perf_counter() - started})
            if on_statement:
                on_statement()
    return steps


INDEX_SET_SQL = f"""
SELECT i.relname,
       am.amname,
       ix.indisprimary,
       ARRAY(
           SELECT pg_get_indexdef(ix.indexrelid, k + 1, true)
                  || CASE WHEN ix.indoption[k] & 1 = 1 THEN ' DESC' ELSE '' END
           FROM generate_subscripts(ix.indkey, 1) AS k
           ORDER BY k
       ) AS columns
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_am am ON am.oid = i.relam
WHERE ix.indrelid = '{AGENT_EVENTS}'::regclass
ORDER BY i.relname
"""


def index_set(conn: psycopg.Connection[Any]) -> list[IndexDef]:
    rows = conn.execute(INDEX_SET_SQL).fetchall()
    return [IndexDef(name, tuple(c.replace('"', "") for c in cols), method) for name, method, _pk, cols in rows]


def compare_index_sets(actual: list[IndexDef], expected: tuple[IndexDef, ...]) -> list[str]:
    """Differences between an instance's indexes and the design document's table; empty when they match."""
    problems = []
    have = {d.name: d for d in actual if d.name != PRIMARY_KEY.name}
    want = {d.name: d for d in expected}
    for name, d in want.items():
        if name not in have:
            problems.append(f"missing: {d.describe()}")
        elif have[name] != d:
            problems.append(f"differs: expected {d.describe()}, found {have[name].describe()}")
    for name, d in have.items():
        if name not in want:
            problems.append(f"unexpected: {d.describe()}")
    return problems


def expected_index_set(role: str, phase2: bool) -> tuple[IndexDef, ...] | None:
    """The design document's table for this instance: before always has the 7 indexes; after has the 8 only
    when the migration under test is Phase 2 (other migrations have no expected set, only a diff)."""
    if role == "before":
        return EXPECTED_BEFORE
    return EXPECTED_AFTER if phase2 else None


def index_set_report(actual: list[IndexDef], expected: tuple[IndexDef, ...] | None) -> dict[str, Any]:
    return {
        "indexes": [asdict(d) for d in actual],
        "expected": [asdict(d) for d in expected] if expected is not None else None,
        "differences": compare_index_sets(actual, expected) if expected is not None else [],
    }


INDEX_DEFINITIONS_SQL = f"""
SELECT i.relname, pg_get_indexdef(ix.indexrelid)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
WHERE ix.indrelid = '{AGENT_EVENTS}'::regclass
ORDER BY i.relname
"""


INVALID_INDEXES_SQL = f"""
SELECT i.relname
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
WHERE ix.indrelid = '{AGENT_EVENTS}'::regclass AND NOT ix.indisvalid
ORDER BY i.relname
"""


def invalid_indexes(conn: psycopg.Connection[Any]) -> list[str]:
    """agent_events' indexes the planner cannot use: a CREATE INDEX CONCURRENTLY that failed half-way, or a
    partitioned index (ON ONLY) some partition was never attached to."""
    return [name for (name,) in conn.execute(INVALID_INDEXES_SQL).fetchall()]


def index_definitions(conn: psycopg.Connection[Any]) -> dict[str, str]:
    """Index name -> its full definition (columns, method, operator classes, predicate), as the server prints it."""
    return {name: definition for name, definition in conn.execute(INDEX_DEFINITIONS_SQL).fetchall()}


def index_diff(before: dict[str, str], after: dict[str, str]) -> dict[str, Any]:
    """What the migration did to agent_events' indexes, read from both databases rather than from the SQL."""
    return {
        "added": [{"name": n, "definition": after[n]} for n in sorted(after.keys() - before.keys())],
        "dropped": [{"name": n, "definition": before[n]} for n in sorted(before.keys() - after.keys())],
        "changed": [
            {"name": n, "before": before[n], "after": after[n]}
            for n in sorted(before.keys() & after.keys())
            if before[n] != after[n]
        ],
        "unchanged": len([n for n in before.keys() & after.keys() if before[n] == after[n]]),
    }


def describe_index_diff(diff: dict[str, Any]) -> str:
    """One line: `+ agent_events_data_idx; - agent_events_session_id_idx` or `no index changed`."""
    parts = [f"+ {d['name']}" for d in diff["added"]] + [f"- {d['name']}" for d in diff["dropped"]]
    parts += [f"~ {d['name']}" for d in diff["changed"]]
    return "; ".join(parts) if parts else "no index changed"
