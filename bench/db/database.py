"""Connecting to a target database safely: reachable, ours (marked), passwords never shown."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

from bench.core.config import SCHEMA_DIR
from bench.core.errors import HarnessError, UnsafeTargetError

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


# Any fixed number: the advisory lock every phase2-bench process takes on the database it works on.
HARNESS_LOCK_KEY = 0x50484132  # "PHA2"


@contextlib.contextmanager
def harness_lock(dsn: str, role: str, exclusive: bool) -> Iterator[None]:
    """Loads take the lock exclusively, measurements shared, so a load never swaps data under a running measurement.

    Held on a connection of its own for as long as the work lasts; the server releases it if the process dies.
    """
    conn = connect(dsn, role)
    try:
        fn = "pg_try_advisory_lock" if exclusive else "pg_try_advisory_lock_shared"
        row = conn.execute(f"SELECT {fn}(%s)", [HARNESS_LOCK_KEY]).fetchone()
        if not row or not row[0]:
            holders = conn.execute(
                "SELECT string_agg(DISTINCT coalesce(nullif(a.application_name, ''), 'pid') || ' ' || a.pid, ', ') "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objid = %s AND l.database = "
                "(SELECT oid FROM pg_database WHERE datname = current_database())",
                [HARNESS_LOCK_KEY],
            ).fetchone()
            what = "loading" if not exclusive else "measuring or loading"
            raise HarnessError(
                f"another phase2-bench process is {what} the {role} instance ({holders[0] if holders else 'unknown'}); "
                "wait for it to finish, or use other instances (--state-dir or other DSNs)"
            )
        yield
    finally:
        conn.close()
