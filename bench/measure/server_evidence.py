"""What the server did during one round of load: counters read before and after, as differences.

pg_stat_database (commits, blocks read from outside shared buffers vs found in them, temporary files), WAL
bytes (pg_current_wal_lsn), checkpoints (pg_stat_bgwriter), the GIN pending list of the data index
(pgstatginindex from contrib's pgstattuple, where it can be installed) and pg_stat_statements when the server
preloads it. Every counter that cannot be read is recorded as unavailable with the reason, never as zero.
Backends flush their statistics when they exit, so a reading waits until pgbench's connections are gone.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from bench.db.instances import Instance

PGBENCH_APPLICATION = "phase2-bench-pgbench"
DATABASE_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "blks_read",
    "blks_hit",
    "tup_returned",
    "tup_fetched",
    "tup_inserted",
    "temp_files",
    "temp_bytes",
    "deadlocks",
)
BGWRITER_COUNTERS = ("checkpoints_timed", "checkpoints_req", "buffers_checkpoint", "buffers_clean", "buffers_backend")
GIN_LEAVES_SQL = """
SELECT c.oid::regclass::text
FROM pg_index x
JOIN pg_class c ON c.oid = x.indexrelid
JOIN pg_am am ON am.oid = c.relam
WHERE am.amname = 'gin' AND c.relkind = 'i'
  AND x.indrelid IN (
      SELECT 'agent_events'::regclass
      UNION ALL
      SELECT inhrelid FROM pg_inherits WHERE inhparent = 'agent_events'::regclass)
"""
STATEMENTS_SQL = """
SELECT queryid::text, calls, total_exec_time, rows, left(query, 120)
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
"""


def lsn_bytes(lsn: str) -> int:
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def wait_for_pgbench_to_leave(conn: psycopg.Connection[Any], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [PGBENCH_APPLICATION]
        ).fetchone()
        if not row or row[0] == 0:
            return
        time.sleep(0.05)


def prepare_extensions(inst: Instance) -> dict[str, str | None]:
    """Install pgstattuple and pg_stat_statements where possible; returns why each one is unavailable (or None)."""
    reasons: dict[str, str | None] = {}
    with inst.connect() as conn:
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pgstattuple")
            reasons["pgstattuple"] = None
        except psycopg.Error as e:
            reasons["pgstattuple"] = f"pgstattuple could not be installed: {str(e).strip()}"
        preload = conn.execute("SELECT current_setting('shared_preload_libraries')").fetchone()
        if not preload or "pg_stat_statements" not in str(preload[0]):
            reasons["pg_stat_statements"] = "pg_stat_statements is not in the server's shared_preload_libraries"
        else:
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                reasons["pg_stat_statements"] = None
            except psycopg.Error as e:
                reasons["pg_stat_statements"] = f"pg_stat_statements could not be installed: {str(e).strip()}"
    return reasons


def snapshot(inst: Instance, extensions: dict[str, str | None]) -> dict[str, Any]:
    """The counters of inst's database and server now."""
    with inst.connect() as conn:
        wait_for_pgbench_to_leave(conn)
        conn.execute("SELECT pg_stat_clear_snapshot()")
        columns = ", ".join(DATABASE_COUNTERS)
        row = conn.execute(f"SELECT {columns} FROM pg_stat_database WHERE datname = current_database()").fetchone()
        database = dict(zip(DATABASE_COUNTERS, (int(v or 0) for v in row or ()), strict=False))
        row = conn.execute(f"SELECT {', '.join(BGWRITER_COUNTERS)} FROM pg_stat_bgwriter").fetchone()
        bgwriter = dict(zip(BGWRITER_COUNTERS, (int(v or 0) for v in row or ()), strict=False))
        lsn = conn.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        out: dict[str, Any] = {
            "database": database,
            "bgwriter": bgwriter,
            "wal_bytes": lsn_bytes(str(lsn[0])) if lsn else None,
        }
        out["gin_pending"] = _gin_pending(conn) if extensions.get("pgstattuple") is None else None
        if extensions.get("pg_stat_statements") is None:
            out["statements"] = {
                r[0]: {"calls": int(r[1]), "total_ms": float(r[2]), "rows": int(r[3]), "query": r[4]}
                for r in conn.execute(STATEMENTS_SQL).fetchall()
            }
    return out


def _gin_pending(conn: psycopg.Connection[Any]) -> dict[str, int] | None:
    if not conn.execute("SELECT to_regclass('agent_events') IS NOT NULL").fetchone()[0]:  # type: ignore[index]
        return None
    pages = tuples = 0
    for (index,) in conn.execute(GIN_LEAVES_SQL).fetchall():
        row = conn.execute("SELECT pending_pages, pending_tuples FROM pgstatginindex(%s::regclass)", [index]).fetchone()
        if row:
            pages += int(row[0])
            tuples += int(row[1])
    return {"pending_pages": pages, "pending_tuples": tuples}


def difference(first: dict[str, Any], second: dict[str, Any]) -> dict[str, Any]:
    """Counters as increments over the round; the GIN pending list as its size at the end (and its change)."""
    out: dict[str, Any] = {
        "database": {k: second["database"][k] - first["database"].get(k, 0) for k in second["database"]},
        "bgwriter": {k: second["bgwriter"][k] - first["bgwriter"].get(k, 0) for k in second["bgwriter"]},
        "wal_bytes": (
            second["wal_bytes"] - first["wal_bytes"]
            if second.get("wal_bytes") is not None and first.get("wal_bytes") is not None
            else None
        ),
    }
    read, hit = out["database"].get("blks_read", 0), out["database"].get("blks_hit", 0)
    out["database"]["hit_ratio"] = hit / (read + hit) if read + hit else None
    if first.get("gin_pending") is not None and second.get("gin_pending") is not None:
        out["gin_pending"] = {
            **second["gin_pending"],
            "pending_tuples_change": second["gin_pending"]["pending_tuples"] - first["gin_pending"]["pending_tuples"],
        }
    if "statements" in second:
        deltas = []
        for queryid, stat in second["statements"].items():
            before = first.get("statements", {}).get(queryid, {"calls": 0, "total_ms": 0.0, "rows": 0})
            calls = stat["calls"] - before["calls"]
            if calls > 0:
                total = stat["total_ms"] - before["total_ms"]
                deltas.append({"query": stat["query"], "calls": calls, "total_ms": total, "mean_ms": total / calls})
        out["statements"] = sorted(deltas, key=lambda d: -d["total_ms"])[:10]
    return out
