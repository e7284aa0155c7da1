"""Connecting to a target database safely: reachable, ours (marked), passwords never shown.

The harness works in one schema, TARGET_SCHEMA: its SQL names it, and every work connection pins search_path
to it, so the design document's unqualified migration resolves there too. Whether a database is safe to touch is
judged through the DSN's own search_path, the way the user's application sees the database.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.types.json import Jsonb

from bench.core.config import SCHEMA_DIR, HarnessConfig
from bench.core.errors import HarnessError, UnsafeTargetError

TARGET_SCHEMA = "public"
MARKER_TABLE = "phase2_bench_meta"
MARKER_VALUE = "phase2-bench"


def qualified(name: str) -> str:
    """A harness object's name in the target schema, quoted for SQL text."""
    return f'"{TARGET_SCHEMA}"."{name}"'


AGENT_EVENTS = qualified("agent_events")
MARKER = qualified(MARKER_TABLE)


def redact_dsn(dsn: str) -> str:
    """The DSN with any password removed, for logs and results."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "<unparseable DSN>"
    if "password" in parts:
        parts["password"] = "***"
    return make_conninfo("", **{k: v for k, v in parts.items() if v is not None})


def connect(
    dsn: str, role: str, autocommit: bool = True, user_search_path: bool = False, **kwargs: Any
) -> psycopg.Connection[Any]:
    """A connection to dsn with search_path pinned to TARGET_SCHEMA, or as the DSN sets it (user_search_path)."""
    try:
        return psycopg.connect(
            dsn if user_search_path else pin_search_path(dsn), autocommit=autocommit, connect_timeout=10, **kwargs
        )
    except psycopg.OperationalError as e:
        # libpq's message spans lines (the error, then a hint): one line, as every harness error is.
        message = " ".join(str(e).replace(_password(dsn) or "\0", "***").split())
        raise HarnessError(
            f"cannot connect to the {role} database ({redact_dsn(dsn)}): {message}; "
            "check that the server runs and accepts connections from this host, or use the embedded "
            "instances (`python -m bench up`, no --before-dsn/--after-dsn)."
        ) from None


def pin_search_path(dsn: str) -> str:
    """dsn with `-c search_path=TARGET_SCHEMA` after the user's own options (the last one wins)."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return dsn  # psycopg.connect reports what is wrong with it
    # An options keyword in the DSN replaces PGOPTIONS, so the user's PGOPTIONS are carried over.
    options = parts.get("options") or os.environ.get("PGOPTIONS") or ""
    return make_conninfo(dsn, options=f"{options} -c search_path={TARGET_SCHEMA}".strip())


def dsn_problem(dsn: str) -> str | None:
    """Why libpq could not use this connection string, or None; checked before anything connects."""
    if not dsn.strip():
        return "it is empty"
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as e:
        return str(e).strip()
    for port in str(parts.get("port") or "").split(","):
        port = port.strip()
        if port and not (port.isdigit() and 1 <= int(port) <= 65535):
            return f"port {port!r} is not a port number (1-65535)"
    return None


def check_dsn_syntax(config: HarnessConfig) -> None:
    """Refuse DSNs libpq cannot parse before anything connects (one line that says how to write one)."""
    for role, dsn in (("before", config.before_dsn), ("after", config.after_dsn)):
        problem = dsn_problem(dsn) if dsn is not None else None
        if problem:
            raise HarnessError(
                f"the {role} DSN (--{role}-dsn or PHASE2_{role.upper()}_DSN) cannot be parsed: {problem}; "
                f"write it as 'host=HOST port=5432 dbname=DB user=USER' or postgresql://USER@HOST:5432/DB"
            )


def _password(dsn: str) -> str | None:
    try:
        return conninfo_to_dict(dsn).get("password")  # type: ignore[return-value]
    except psycopg.ProgrammingError:
        return None


def table_exists(conn: psycopg.Connection[Any], name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", [qualified(name)]).fetchone()
    return bool(row and row[0])


def is_marked(conn: psycopg.Connection[Any]) -> bool:
    if not table_exists(conn, MARKER_TABLE):
        return False
    try:
        with conn.transaction():
            row = conn.execute(f"SELECT value FROM {MARKER} WHERE key = 'marker'").fetchone()
    except psycopg.Error:  # a relation of that name, but not the harness's marker table
        return False
    return bool(row and row[0] == MARKER_VALUE)


RELATION_KINDS = {
    "r": "table",
    "p": "partitioned table",
    "v": "view",
    "m": "materialized view",
    "f": "foreign table",
    "S": "sequence",
    "i": "index",
    "I": "partitioned index",
    "c": "composite type",
    "t": "TOAST table",
}
# The kinds of agent_events the harness itself creates; it drops and recreates only these.
HARNESS_KINDS = ("table", "partitioned table", "hypertable")


@dataclass(frozen=True)
class Relation:
    schema: str
    name: str
    kind: str

    def __str__(self) -> str:
        return f"{self.schema}.{self.name} ({self.kind})"


# Relations of a name on the connection's search_path (in its order) or in the target schema, and whether an
# unqualified reference to the name resolves to each.
RELATIONS_NAMED_SQL = """
SELECT n.nspname::text, c.relkind::text, c.oid = to_regclass(quote_ident(%(name)s))
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relname = %(name)s
  AND (n.nspname = ANY (current_schemas(true)) OR n.nspname = %(schema)s)
ORDER BY array_position(current_schemas(true)::text[], n.nspname::text) NULLS LAST
"""


def relations_named(conn: psycopg.Connection[Any], name: str) -> list[tuple[Relation, bool]]:
    """(relation, resolves unqualified) for every relation called name the connection can reach."""
    rows = conn.execute(RELATIONS_NAMED_SQL, {"name": name, "schema": TARGET_SCHEMA}).fetchall()
    hypertables = _hypertable_schemas(conn, name) if any(kind == "r" for _, kind, _ in rows) else set()
    found = []
    for schema, kind, resolves in rows:
        label = "hypertable" if schema in hypertables else RELATION_KINDS.get(kind, f"relkind {kind}")
        found.append((Relation(schema, name, label), bool(resolves)))
    return found


def _hypertable_schemas(conn: psycopg.Connection[Any], name: str) -> set[str]:
    """Schemas where a TimescaleDB hypertable called name lives (to pg_class it is an ordinary table)."""
    row = conn.execute("SELECT to_regclass('_timescaledb_catalog.hypertable') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return set()
    try:
        with conn.transaction():
            rows = conn.execute(
                "SELECT schema_name::text FROM _timescaledb_catalog.hypertable WHERE table_name = %s", [name]
            ).fetchall()
    except psycopg.Error:  # the catalog is unreadable to this role: the relation still counts, as a table
        return set()
    return {r[0] for r in rows}


def target_relation(conn: psycopg.Connection[Any]) -> Relation | None:
    """agent_events in the target schema, of whatever kind."""
    return next((r for r, _ in relations_named(conn, "agent_events") if r.schema == TARGET_SCHEMA), None)


# Relations a user created: tables, views and foreign tables outside the system schemas and TimescaleDB's own,
# that no extension owns (pg_stat_statements' view, hypopg's, TimescaleDB's catalog are extension members).
OWN_RELATIONS_SQL = r"""
SELECT format('%I.%I', n.nspname, c.relname)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'timescaledb_information', 'timescaledb_experimental')
  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp\_%' AND n.nspname NOT LIKE '\_timescaledb%'
  AND NOT EXISTS (
      SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  )
ORDER BY 1
LIMIT 50
"""


def relations_of_its_own(conn: psycopg.Connection[Any]) -> list[str]:
    """The user's relations in a database (schema.name), up to 50: an unmarked database holding any is not
    adopted."""
    return [name for (name,) in conn.execute(OWN_RELATIONS_SQL).fetchall()]


def unsafe_reason(conn: psycopg.Connection[Any], role: str, dsn: str) -> str | None:
    """Why the harness must not write to this database (None when it may), seen through conn's search_path."""
    where = f"the {role} database ({redact_dsn(dsn)})"
    found = relations_named(conn, "agent_events")
    if not is_marked(conn):
        clashes = [r for r, _ in found] + [
            r for r, _ in relations_named(conn, MARKER_TABLE) if r.schema == TARGET_SCHEMA
        ]
        if not clashes:
            others = relations_of_its_own(conn)
            if not others:
                return None
            shown = ", ".join(others[:3]) + (f" and {len(others) - 3} more" if len(others) > 3 else "")
            return (
                f"{where} has no phase2-bench marker and holds relations of its own ({shown}): the harness only "
                "adopts an empty database, so it writes nothing beside anyone's data. Point it at an empty database "
                f"(for example `createdb agent_bench_{role}`) or use the embedded instances."
            )
        return (
            f"{where} has no phase2-bench marker but already holds {', '.join(map(str, clashes))}: the harness "
            "only writes to databases it created or marked. Point it at an empty database (for example "
            f"`createdb agent_bench_{role}`) or use the embedded instances."
        )
    resolved = next((r for r, resolves in found if resolves), None)
    if resolved is not None and resolved.schema != TARGET_SCHEMA:
        return (
            f"{where} carries the phase2-bench marker, but its search_path resolves agent_events to {resolved}, "
            f"not to {TARGET_SCHEMA}.agent_events, the only one the harness works on: take {resolved.schema} out "
            "of the search_path in the DSN's options (or the role's settings), or use another database."
        )
    ours = next((r for r, _ in found if r.schema == TARGET_SCHEMA), None)
    if ours is not None and ours.kind not in HARNESS_KINDS:
        return (
            f"{where} carries the phase2-bench marker, but {ours} is not a table the harness creates, so it is "
            "left alone: drop or rename it yourself, or use another database."
        )
    return None


def check_target(role: str, dsn: str) -> None:
    """Refuse a database holding an agent_events the harness did not create, through the DSN's own search_path."""
    with connect(dsn, role, user_search_path=True) as conn:
        reason = unsafe_reason(conn, role, dsn)
    if reason:
        raise UnsafeTargetError(reason)


def mark(conn: psycopg.Connection[Any]) -> None:
    conn.execute((SCHEMA_DIR / "harness_marker.sql").read_text())


def ensure_marked(conn: psycopg.Connection[Any], role: str, dsn: str) -> None:
    """Adopt one database (create the marker) unless it holds an agent_events the harness did not create."""
    check_target(role, dsn)
    mark(conn)


# The TimescaleDB loader defines this setting when it is preloaded, and pg_settings shows it to every role;
# shared_preload_libraries itself is readable only by superusers and pg_read_all_settings.
TIMESCALEDB_LOADER_SETTING = "timescaledb.disable_load"


@dataclass(frozen=True)
class TimescaleDBPresence:
    installed: bool  # the server can create the extension
    created: bool  # the extension exists in this database
    preloaded: bool  # its loader is in shared_preload_libraries, so the extension can work


def timescaledb_presence(conn: psycopg.Connection[Any]) -> TimescaleDBPresence:
    """What a role without any privilege beyond its database can tell about TimescaleDB."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'), "
        "EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'), "
        "EXISTS (SELECT 1 FROM pg_settings WHERE name = %s)",
        [TIMESCALEDB_LOADER_SETTING],
    ).fetchone()
    assert row is not None
    installed, created, preloaded = (bool(v) for v in row)
    return TimescaleDBPresence(installed or created, created, preloaded)


def read_meta(conn: psycopg.Connection[Any], key: str) -> Any:
    if not table_exists(conn, MARKER_TABLE):
        return None
    row = conn.execute(f"SELECT value FROM {MARKER} WHERE key = %s", [key]).fetchone()
    return row[0] if row else None


def write_meta(conn: psycopg.Connection[Any], key: str, value: Any) -> None:
    conn.execute(
        f"INSERT INTO {MARKER} (key, value, updated_at) VALUES (%s, %s, now()) "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        [key, Jsonb(value)],
    )


def delete_meta(conn: psycopg.Connection[Any], key: str) -> None:
    conn.execute(f"DELETE FROM {MARKER} WHERE key = %s", [key])


# Any fixed number: the advisory lock a phase2-bench process holds on each database it loads or measures.
HARNESS_LOCK_KEY = 0x50484132  # "PHA2"
# The connections holding this process's locks, by DSN: `bench` holds them from its load to its last suite, and
# the load and the measurement inside take them again without waiting on themselves.
_lock_conns: dict[str, psycopg.Connection[Any]] = {}


@contextlib.contextmanager
def harness_lock(dsn: str, role: str) -> Iterator[None]:
    """Loads and measurements exclude each other and themselves: a second one would time queries on a busy
    server, or swap the data under a measurement.

    Held on a connection of its own for as long as the work lasts; the server releases it if the process dies.
    """
    if dsn in _lock_conns:
        yield
        return
    _lock_conns[dsn] = _take_lock(dsn, role)
    try:
        yield
    finally:
        _lock_conns.pop(dsn).close()


def retake_harness_lock(dsn: str, role: str) -> None:
    """A restart of the server (the load's physical copy) ended the connection holding the lock: take it again,
    on a new connection that the enclosing harness_lock closes. Nothing to do when no lock is held."""
    old = _lock_conns.get(dsn)
    if old is None:
        return
    old.close()
    _lock_conns[dsn] = _take_lock(dsn, role, " (it took the instance while the harness restarted it)")


def _take_lock(dsn: str, role: str, while_restarting: str = "") -> psycopg.Connection[Any]:
    conn = connect(dsn, role, application_name=f"phase2-bench pid {os.getpid()}")
    try:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [HARNESS_LOCK_KEY]).fetchone()
        if not row or not row[0]:
            raise HarnessError(
                f"another phase2-bench process ({_lock_holder(conn)}) is measuring or loading the {role} instance"
                f"{while_restarting}; wait for it to finish, or use other instances (--state-dir or other DSNs)"
            )
    except BaseException:
        conn.close()
        raise
    return conn


@contextlib.contextmanager
def harness_lock_after_restart(dsn: str, role: str) -> Iterator[None]:
    """The harness lock of a process that restarted the server itself: the restart released the lock its
    harness_lock connection held, so it is taken again on a new connection (no other process could connect
    while the server was down)."""
    conn = connect(dsn, role, application_name=f"phase2-bench pid {os.getpid()}")
    try:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", [HARNESS_LOCK_KEY]).fetchone()
        if not row or not row[0]:
            raise HarnessError(
                f"another phase2-bench process ({_lock_holder(conn)}) took the {role} instance while this run "
                "restarted it between measurement rounds; run again when it has finished"
            )
        yield
    finally:
        conn.close()


def hold_harness_locks(instances: Iterable[Any], stack: contextlib.ExitStack, after_restart: bool = False) -> None:
    """The harness lock of every instance (each with .dsn and .role), held until `stack` closes: harness_lock, or
    harness_lock_after_restart for a process that has just restarted the servers itself."""
    take = harness_lock_after_restart if after_restart else harness_lock
    for inst in instances:
        stack.enter_context(take(inst.dsn, inst.role))


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
