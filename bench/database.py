"""Connecting to a target database safely: reachable, ours (marked), passwords never shown."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

from bench.config import SCHEMA_DIR
from bench.errors import HarnessError, UnsafeTargetError

MARKER_TABLE = "phase2_bench_meta"


def redact_dsn(dsn: str) -> str:
    """The DSN with any password removed, for logs and results."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    if "password" in parts:
        parts["password"] = "***"
    return make_conninfo("", **{k: v for k, v in parts.items() if v is not None})


def connect(dsn: str, role: str, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[Any]:
    try:
        return psycopg.connect(dsn, autocommit=autocommit, connect_timeout=10, **kwargs)
    except psycopg.OperationalError as e:
        message = str(e).strip().replace(_password(dsn) or "\0", "***")
        raise HarnessError(
            f"cannot connect to the {role} database ({redact_dsn(dsn)}): {message}\n"
            "Check that the server runs and accepts connections from this host, or use the embedded "
            "instances (`python -m bench up`, no --before-dsn/--after-dsn)."
        ) from None


def _password(dsn: str) -> str | None:
    try:
        return conninfo_to_dict(dsn).get("password")  # type: ignore[return-value]
    except psycopg.ProgrammingError:
        return None


def table_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [f'public."{name}"']).fetchone()
    return bool(row and row[0])


def ensure_marked(conn: psycopg.Connection[Any], role: str, dsn: str) -> None:
    """Adopt the database (create the marker) unless it holds an agent_events table we did not create."""
    if table_exists(conn, MARKER_TABLE):
        row = conn.execute(f"SELECT value FROM {MARKER_TABLE} WHERE key = 'marker'").fetchone()
        if row and row[0] == "phase2-bench":
            return
    if table_exists(conn, "agent_events"):
        raise UnsafeTargetError(
            f"the {role} database ({redact_dsn(dsn)}) already has an agent_events table and no phase2-bench "
            f"marker: the harness only modifies databases it created. Point it at an empty database (for "
            f"example `createdb agent_bench_{role}`) or use the embedded instances."
        )
    conn.execute((SCHEMA_DIR / "harness_marker.sql").read_text())


def is_marked(conn: psycopg.Connection[Any]) -> bool:
    if not table_exists(conn, MARKER_TABLE):
        return False
    row = conn.execute(f"SELECT value FROM {MARKER_TABLE} WHERE key = 'marker'").fetchone()
    return bool(row and row[0] == "phase2-bench")


def read_meta(conn: psycopg.Connection[Any], key: str) -> Any:
    if not table_exists(conn, MARKER_TABLE):
        return None
    row = conn.execute(f"SELECT value FROM {MARKER_TABLE} WHERE key = %s", [key]).fetchone()
    return row[0] if row else None


def write_meta(conn: psycopg.Connection[Any], key: str, value: Any) -> None:
    conn.execute(
        f"INSERT INTO {MARKER_TABLE} (key, value, updated_at) VALUES (%s, %s, now()) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        [key, Jsonb(value)],
    )


def delete_meta(conn: psycopg.Connection[Any], key: str) -> None:
    conn.execute(f"DELETE FROM {MARKER_TABLE} WHERE key = %s", [key])


# Any fixed number: the advisory lock a phase2-bench process holds on each database it loads or measures.
HARNESS_LOCK_KEY = 0x50484132  # "PHA2"
# DSNs whose lock this process holds: `bench` holds them from its load to its last suite, and the load and the
# measurement inside take them again without waiting on themselves.
_locks_held: set[str] = set()


@contextlib.contextmanager
def harness_lock(dsn: str, role: str) -> Iterator[None]:
    """Loads and measurements exclude each other and themselves: a second one would time queries on a busy
    server, or swap the data under a measurement.

    Held on a connection of its own for as long as the work lasts; the server releases it if the process dies.
    """
    if dsn in _locks_held:
        yield
        return
    conn = connect(dsn, role, application_name=f"phase2-bench pid {os.getpid()}")
    try:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [HARNESS_LOCK_KEY]).fetchone()
        if not row or not row[0]:
            raise HarnessError(
                f"another phase2-bench process ({_lock_holder(conn)}) is measuring or loading the {role} instance; "
                "wait for it to finish, or use other instances (--state-dir or other DSNs)"
            )
        _locks_held.add(dsn)
        try:
            yield
        finally:
            _locks_held.discard(dsn)
    finally:
        conn.close()


def _lock_holder(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute(
        "SELECT a.application_name, a.pid, to_char(a.backend_start AT TIME ZONE 'UTC', 'HH24:MI:SS') "
        "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = %s AND l.database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database()) LIMIT 1",
        [HARNESS_LOCK_KEY],
    ).fetchone()
    if row is None:
        return "pid unknown"
    name, backend_pid, since = row
    # Our lock connections name the harness process; another client's shows the server backend's pid.
    holder = name.removeprefix("phase2-bench ") if (name or "").startswith("phase2-bench pid ") else None
    return f"{holder or f'server backend pid {backend_pid}'}, since {since} UTC"
