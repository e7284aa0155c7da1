"""What `python -m bench status` shows: each instance's health, engine, versions, settings and index set.

Everything is read from the databases themselves (the engine from the table's shape), so `status` needs no
engine choice and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import psycopg

from bench.core.errors import HarnessError
from bench.db.database import TARGET_SCHEMA, is_marked, read_meta, timescaledb_presence
from bench.db.environment import server_facts
from bench.db.instances import Instance
from bench.db.schema import expected_index_set, index_set, index_set_report

TABLE_SHAPE_SQL = """
SELECT c.relkind::text,
       (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid),
       EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'timescaledb')
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = %(schema)s AND c.relname = 'agent_events'
"""
HYPERTABLE_SQL = """
SELECT h.num_chunks, d.time_interval
FROM timescaledb_information.hypertables h
LEFT JOIN timescaledb_information.dimensions d
  ON d.hypertable_schema = h.hypertable_schema AND d.hypertable_name = h.hypertable_name AND d.dimension_number = 1
WHERE h.hypertable_schema = %(schema)s AND h.hypertable_name = 'agent_events'
"""
RELATION_KINDS = {"v": "view", "m": "materialized view", "f": "foreign table", "S": "sequence", "i": "index"}


def table_shape(conn: psycopg.Connection[Any]) -> dict[str, Any]:
    """What agent_events in the target schema is: kind (hypertable, partitioned, table, other, or None when
    absent), its partition or chunk count, and the engine label that describes it."""
    row = conn.execute(TABLE_SHAPE_SQL, {"schema": TARGET_SCHEMA}).fetchone()
    if row is None:
        return {
            "kind": None,
            "parts": 0,
            "engine": "none yet: no agent_events table (`python -m bench load` creates it)",
        }
    relkind, children, timescaledb = row
    hypertable = (
        conn.execute(HYPERTABLE_SQL, {"schema": TARGET_SCHEMA}).fetchone() if timescaledb and relkind == "r" else None
    )
    if hypertable:
        chunks, interval = hypertable
        days = interval.days if isinstance(interval, timedelta) and interval == timedelta(days=interval.days) else None
        span = f"{days}-day" if days else str(interval)
        return {"kind": "hypertable", "parts": chunks, "engine": f"TimescaleDB hypertable ({span} chunks)"}
    if relkind == "p":
        return {"kind": "partitioned", "parts": children, "engine": f"PostgreSQL partitions ({children} partitions)"}
    if relkind == "r":
        return {"kind": "table", "parts": 0, "engine": "PostgreSQL table, not partitioned"}
    what = RELATION_KINDS.get(relkind, f"relation of kind {relkind!r}")
    return {"kind": what, "parts": 0, "engine": f"none: agent_events is a {what}, not a table"}


def instance_status(instances: Iterable[Instance]) -> list[dict[str, Any]]:
    statuses = []
    for inst in instances:
        entry: dict[str, Any] = {"role": inst.role, "kind": inst.kind, "dsn": inst.safe_dsn}
        try:
            with inst.connect() as conn:
                entry["healthy"] = True
                shape = table_shape(conn)
                presence = timescaledb_presence(conn)
                facts = server_facts(conn, presence.preloaded)
                entry["server_version"] = facts["postgres_version"]
                entry["timescaledb_version"] = facts["timescaledb_version"]
                entry["timescaledb_available"] = presence.installed
                entry["engine"] = shape.pop("engine")
                entry["table"] = shape
                entry["marked"] = is_marked(conn)
                entry["settings"] = facts["settings"]
                entry["dataset"] = read_meta(conn, "dataset")
                if shape["kind"] in ("hypertable", "partitioned", "table"):
                    migration = (entry["dataset"] or {}).get("migration") or {}
                    expected = expected_index_set(inst.role, migration.get("is_phase2", True))
                    entry["index_set"] = index_set_report(index_set(conn), expected)
        except (HarnessError, psycopg.Error) as e:
            entry["healthy"] = False
            entry["error"] = str(e).strip()
        statuses.append(entry)
    return statuses


def format_status(statuses: list[dict[str, Any]]) -> str:
    lines = []
    for s in statuses:
        head = f"[{s['role']}] {s['kind']} {s['dsn']}"
        if not s.get("healthy"):
            lines += [head, f"  NOT HEALTHY: {s.get('error')}"]
            continue
        lines.append(head + "  healthy")
        lines.append(f"  engine: {s['engine']}")
        # The extension exists in a database only once agent_events was created there on that engine.
        absent = "not yet created in this database" if s["timescaledb_available"] else "not installed"
        lines.append(f"  PostgreSQL {s['server_version']}, TimescaleDB {s['timescaledb_version'] or absent}")
        lines.append("  settings: " + ", ".join(f"{k}={v}" for k, v in s["settings"].items()))
        dataset = s.get("dataset")
        if dataset:
            lines.append(
                f"  dataset: {dataset.get('rows')} rows, state {dataset.get('state')}, "
                f"fingerprint {str(dataset.get('fingerprint'))[:12]}"
                + (f", migration {dataset['migration'].get('label')}" if dataset.get("migration") else "")
            )
        else:
            lines.append("  dataset: none loaded (python -m bench load)")
        idx = s.get("index_set")
        if idx:
            lines.append(f"  indexes ({len(idx['indexes'])}):")
            for d in idx["indexes"]:
                lines.append(f"    {d['name']} ({', '.join(d['columns'])}) {d['method']}")
            if idx["expected"] is None:
                verdict = "not checked: the migration under test is not Phase 2's"
            elif idx["differences"]:
                verdict = "DIFFERS from the design document"
            else:
                verdict = "matches the design document"
            lines.append(f"  index set {verdict}")
            lines += [f"    - {d}" for d in idx["differences"]]
    return "\n".join(lines)
