"""How much disk agent_events takes on each instance: heap, TOAST and every index, summed over chunks."""

from __future__ import annotations

from typing import Any

import psycopg

from bench.core.engine import Engine

# Summed over the leaf partitions: heap (main+fsm+vm), TOAST (with its index), and each parent index's leaves.
PARTITION_TABLE_SQL = """
SELECT coalesce(sum(pg_table_size(t.relid) - coalesce(pg_total_relation_size(c.reltoastrelid), 0)), 0),
       coalesce(sum(coalesce(pg_total_relation_size(c.reltoastrelid), 0)), 0)
FROM pg_partition_tree('agent_events') t
JOIN pg_class c ON c.oid = t.relid
WHERE t.isleaf
"""
PARTITION_INDEX_SQL = """
SELECT i.relname,
       (SELECT coalesce(sum(pg_relation_size(l.relid)), 0) FROM pg_partition_tree(i.oid) l WHERE l.isleaf)
FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
WHERE ix.indrelid = 'agent_events'::regclass
ORDER BY 1
"""
# TimescaleDB's own size functions sum over every chunk (and the compressed chunks, when there are some).
HYPERTABLE_TABLE_SQL = "SELECT table_bytes, toast_bytes FROM hypertable_detailed_size('agent_events')"
HYPERTABLE_INDEX_SQL = """
SELECT i.relname, hypertable_index_size(i.oid::regclass)
FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid
WHERE ix.indrelid = 'agent_events'::regclass
ORDER BY 1
"""


def measure_storage(conn: psycopg.Connection[Any], engine: Engine, rows: int) -> dict[str, Any]:
    table_sql, index_sql = (
        (HYPERTABLE_TABLE_SQL, HYPERTABLE_INDEX_SQL)
        if engine.is_timescaledb
        else (PARTITION_TABLE_SQL, PARTITION_INDEX_SQL)
    )
    heap, toast = conn.execute(table_sql).fetchone()  # type: ignore[misc]
    indexes = {name: int(size or 0) for name, size in conn.execute(index_sql).fetchall()}
    index_total = sum(indexes.values())
    total = int(heap or 0) + int(toast or 0) + index_total
    return {
        "heap_bytes": int(heap or 0),
        "toast_bytes": int(toast or 0),
        "indexes_bytes": indexes,
        "index_total_bytes": index_total,
        "total_bytes": total,
        "bytes_per_event": total / rows if rows else None,
        "method": "hypertable_detailed_size / hypertable_index_size"
        if engine.is_timescaledb
        else "pg_partition_tree sums of pg_table_size, TOAST and leaf index sizes",
    }


def storage_comparison(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    def pct(a: float, b: float) -> float | None:
        return (a - b) / b * 100 if b else None

    return {
        "before": before,
        "after": after,
        "storage_overhead_pct": pct(after["total_bytes"], before["total_bytes"]),
        "index_overhead_pct": pct(after["index_total_bytes"], before["index_total_bytes"]),
        "added_bytes": after["total_bytes"] - before["total_bytes"],
    }
