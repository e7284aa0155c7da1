"""EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) capture, its summary, and which index each plan really used."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

import psycopg

from bench.core.engine import Engine

EXPLAIN_PREFIX = "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "

# Partition indexes hang off their parent index in pg_inherits; TimescaleDB chunk indexes are listed in its
# catalog. Either way a plan names the child (per-partition) index, and the plan check needs the parent's name.
PARTITION_INDEX_PARENTS_SQL = """
SELECT c.relname, p.relname
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
JOIN pg_class p ON p.oid = i.inhparent
WHERE c.relkind = 'i'
"""
CHUNK_INDEX_PARENTS_SQL = "SELECT index_name, hypertable_index_name FROM _timescaledb_catalog.chunk_index"
# Newer TimescaleDB (2.28 here) has no chunk_index catalog: a chunk index's name ends with its hypertable index's
# name ("_hyper_1_1_chunk_agent_events_data_idx"); the longest such suffix wins.
CHUNK_INDEX_PARENTS_BY_NAME_SQL = r"""
SELECT DISTINCT ON (ci.relname) ci.relname, hi.relname
FROM pg_inherits inh
JOIN pg_index cix ON cix.indrelid = inh.inhrelid
JOIN pg_class ci ON ci.oid = cix.indexrelid
JOIN pg_index hix ON hix.indrelid = inh.inhparent
JOIN pg_class hi ON hi.oid = hix.indexrelid
WHERE inh.inhparent = 'agent_events'::regclass
  AND ci.relname LIKE '%\_' || hi.relname
ORDER BY ci.relname, length(hi.relname) DESC
"""


def index_parents(conn: psycopg.Connection[Any], engine: Engine) -> dict[str, str]:
    sql = PARTITION_INDEX_PARENTS_SQL
    if engine.is_timescaledb:
        row = conn.execute("SELECT to_regclass('_timescaledb_catalog.chunk_index') IS NOT NULL").fetchone()
        sql = CHUNK_INDEX_PARENTS_SQL if row and row[0] else CHUNK_INDEX_PARENTS_BY_NAME_SQL
    return {child: parent for child, parent in conn.execute(sql).fetchall()}


@dataclass(frozen=True)
class PlanSummary:
    top_node: str
    node_types: tuple[str, ...]  # distinct, in plan order
    scan_types: tuple[str, ...]
    indexes_used: tuple[str, ...]  # parent (schema-level) index names, distinct
    actual_rows: float
    shared_hit_blocks: int
    shared_read_blocks: int
    planning_ms: float
    execution_ms: float
    partitions_scanned: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PlanSummary:
        return cls(**{**d, **{k: tuple(d[k]) for k in ("node_types", "scan_types", "indexes_used")}})


def _walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    nodes = [node]
    for child in node.get("Plans", []):
        nodes.extend(_walk(child))
    return nodes


def summarize_plan(explain_json: list[dict[str, Any]], parents: dict[str, str] | None = None) -> PlanSummary:
    parents = parents or {}
    root = explain_json[0]
    top = root["Plan"]
    nodes = _walk(top)
    node_types = list(dict.fromkeys(n["Node Type"] for n in nodes))
    scans = [n for n in nodes if "Scan" in n["Node Type"]]
    indexes = [parents.get(n["Index Name"], n["Index Name"]) for n in nodes if "Index Name" in n]
    relations = {n["Relation Name"] for n in scans if "Relation Name" in n}
    return PlanSummary(
        top_node=top["Node Type"],
        node_types=tuple(node_types),
        scan_types=tuple(dict.fromkeys(n["Node Type"] for n in scans)),
        indexes_used=tuple(dict.fromkeys(indexes)),
        actual_rows=float(top.get("Actual Rows", 0.0)) * float(top.get("Actual Loops", 1)),
        shared_hit_blocks=int(top.get("Shared Hit Blocks", 0)),
        shared_read_blocks=int(top.get("Shared Read Blocks", 0)),
        planning_ms=float(root.get("Planning Time", 0.0)),
        execution_ms=float(root.get("Execution Time", 0.0)),
        partitions_scanned=len(relations),
    )


def capture_plan(conn: psycopg.Connection[Any], sql_text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """One untimed EXPLAIN ANALYZE execution; its instrumentation never touches the timed figures."""
    row = conn.execute(EXPLAIN_PREFIX + sql_text, params).fetchone()
    assert row is not None
    plan = json.loads(row[0]) if isinstance(row[0], str) else row[0]  # text when json loads as text
    return plan if isinstance(plan, list) else [plan]


def check_plan(summary: PlanSummary, expected_index: str | None) -> dict[str, Any]:
    """Did the plan use the index the promise depends on?"""
    if not expected_index:
        return {"expected_index": None, "uses_expected_index": None}
    return {"expected_index": expected_index, "uses_expected_index": expected_index in summary.indexes_used}
