"""What `python -m bench status` shows: each instance's health, engine, versions, settings and index set."""

from __future__ import annotations

from typing import Any

from bench.core.engine import TIMESCALEDB
from bench.core.errors import HarnessError
from bench.db.database import is_marked, read_meta, table_exists
from bench.db.environment import server_facts
from bench.db.instances import InstancePair
from bench.db.schema import EXPECTED_AFTER, EXPECTED_BEFORE, index_set, index_set_report


def instance_status(pair: InstancePair) -> list[dict[str, Any]]:
    statuses = []
    for inst in pair:
        entry: dict[str, Any] = {"role": inst.role, "kind": inst.kind, "dsn": inst.safe_dsn}
        try:
            with inst.connect() as conn:
                entry["healthy"] = True
                facts = server_facts(conn, pair.engine.is_timescaledb)
                entry["server_version"] = facts["postgres_version"]
                entry["timescaledb_version"] = facts["timescaledb_version"]
                entry["engine"] = pair.engine.label
                entry["marked"] = is_marked(conn)
                entry["settings"] = facts["settings"]
                entry["dataset"] = read_meta(conn, "dataset")
                if table_exists(conn, "agent_events"):
                    expected = EXPECTED_BEFORE if inst.role == "before" else EXPECTED_AFTER
                    entry["index_set"] = index_set_report(index_set(conn), expected)
        except HarnessError as e:
            entry["healthy"] = False
            entry["error"] = str(e)
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
        # On the TimescaleDB engine the extension exists in a database only once agent_events was created there.
        absent = "not yet created in this database" if s["engine"] == TIMESCALEDB.label else "not installed"
        lines.append(f"  PostgreSQL {s['server_version']}, TimescaleDB {s['timescaledb_version'] or absent}")
        lines.append("  settings: " + ", ".join(f"{k}={v}" for k, v in s["settings"].items()))
        dataset = s.get("dataset")
        if dataset:
            lines.append(
                f"  dataset: {dataset.get('rows')} rows, state {dataset.get('state')}, "
                f"fingerprint {str(dataset.get('fingerprint'))[:12]}"
            )
        else:
            lines.append("  dataset: none loaded (python -m bench load)")
        idx = s.get("index_set")
        if idx:
            lines.append(f"  indexes ({len(idx['indexes'])}):")
            for d in idx["indexes"]:
                lines.append(f"    {d['name']} ({', '.join(d['columns'])}) {d['method']}")
            verdict = "matches the design document" if not idx["differences"] else "DIFFERS from the design document"
            lines.append(f"  index set {verdict}")
            lines += [f"    - {d}" for d in idx["differences"]]
    return "\n".join(lines)
