"""What-if screening of candidate index sets on the `before` instance, with HypoPG, by the planner's estimates.

Per catalogue query (the design document's cases and the application's, with parameters from the harness's own
sampling) it records the estimated total cost and the indexes of the plain EXPLAIN plan (hypothetical indexes are
invisible to EXPLAIN ANALYZE), first on the instance as it is, then with each candidate's index delta:
- CREATE INDEX statements become hypothetical indexes (hypopg_create_index). HypoPG 1.3.1 takes them on a
  partitioned parent (each partition is planned with it) but has no GIN, and an expression index on a partitioned
  parent is never matched; those are built for real instead (`build_unsupported`), else skipped and said so.
- DROP INDEX statements run for real: HypoPG 1.3.1 cannot hide an index.
Each candidate runs in one transaction that is always rolled back, and hypopg_reset() follows it, on error too,
so the instance keeps no hypothetical, built or dropped index. Nothing here is timed: these are estimates.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.core.candidates import (
    Candidate,
    hypothetical_definition,
    is_create_index,
    read_candidate,
    shipped_candidates,
)
from bench.core.cases import load_cases
from bench.core.config import SCHEMA_DIR
from bench.core.engine import Engine
from bench.core.errors import HarnessError
from bench.db.plans import index_parents
from bench.measure.params import sample_params
from bench.measure.suites.app import app_cases
from bench.measure.suites.app_params import SamplerContext, draw_params

PHASE2_CANDIDATE = SCHEMA_DIR / "migration_phase2.sql"
HYPOPG_METHODS = ("btree", "brin", "hash", "bloom")  # what hypopg_create_index 1.3.1 can simulate
LOCK_TIMEOUT = "5s"  # a DROP INDEX waits at most this long for the table's lock, then the candidate fails


@dataclass(frozen=True)
class Query:
    case: str
    origin: str  # "design document" or "application"
    label: str  # which parameter draw
    sql: str
    params: dict[str, Any]
    draws: int = 1  # how many of the case's draws fell on this value (app cases)


@dataclass
class Screened:
    name: str
    path: str
    status: str = "screened"  # or "failed"
    error: str | None = None
    indexes: list[dict[str, str]] = field(default_factory=list)  # definition, how: hypothetical/built/dropped/skipped
    plans: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def default_candidates() -> list[Candidate]:
    return [read_candidate(PHASE2_CANDIDATE), *(read_candidate(n) for n in shipped_candidates())]


def ensure_hypopg(conn: psycopg.Connection[Any]) -> str:
    """The hypopg version, creating the extension in the harness's database when it is installed on the server."""
    available = conn.execute("SELECT default_version FROM pg_available_extensions WHERE name = 'hypopg'").fetchone()
    if available is None:
        raise HarnessError(
            "the hypopg extension is not installed on the before server: install it (Debian: "
            "`apt-get install postgresql-15-hypopg`, matching the server's major version) and run whatif again"
        )
    conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'hypopg'").fetchone()
    return str(row[0]) if row else str(available[0])


def catalogue_queries(
    conn: psycopg.Connection[Any], engine: Engine, now: datetime, seed: int, app_draws: int = 3
) -> list[Query]:
    """Every runnable case of the design document and of the application, with the run's own parameters."""
    queries: list[Query] = []
    cache: dict[str, list[Any]] = {}
    for case in load_cases():
        if engine.name in case.engines:
            for s in sample_params(conn, case, now, seed, cache):
                queries.append(Query(case.name, "design document", s.label, case.sql, s.params))
    app, workload = app_cases()
    ctx = SamplerContext(conn, now, workload.access, seed)
    for case in app:
        if engine.name in case.engines:
            for draw in draw_params(ctx, case, app_draws):
                sample = draw.param_sample(case)
                queries.append(Query(case.name, "application", draw.label, case.sql, sample.params, draw.draws))
    return queries


def _plan_indexes(node: dict[str, Any]) -> list[str]:
    names = [node["Index Name"]] if "Index Name" in node else []
    for child in node.get("Plans", []):
        names.extend(_plan_indexes(child))
    return names


def explain(conn: psycopg.Connection[Any], query: Query, parents: dict[str, str]) -> dict[str, Any]:
    row = conn.execute("EXPLAIN (FORMAT JSON) " + query.sql, query.params).fetchone()
    if row is None:
        raise HarnessError(f"EXPLAIN of {query.case} returned no plan")
    raw = row[0]
    plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
    # hypopg names its indexes "<oid>btree_table_cols": the oid differs per run, so it is cut off
    indexes = sorted({re.sub(r"^<\d+>", "hypo:", parents.get(name, name)) for name in _plan_indexes(plan)})
    return {"cost": float(plan["Total Cost"]), "node": plan["Node Type"], "indexes": indexes}


def _plan_all(conn: psycopg.Connection[Any], engine: Engine, queries: list[Query]) -> list[dict[str, Any]]:
    parents = index_parents(conn, engine)  # a plan names partition or chunk indexes; report their parent's
    plans = []
    for q in queries:
        plans.append(
            {"case": q.case, "origin": q.origin, "label": q.label, "draws": q.draws, **explain(conn, q, parents)}
        )
    return plans


def _method(definition: str) -> str:
    match = re.search(r"\bUSING\s+(\w+)", definition, re.IGNORECASE)
    return match.group(1).lower() if match else "btree"


def _simulable(definition: str, partitioned: bool) -> bool:
    is_expression = re.search(r"\(\s*\(", definition) is not None
    return _method(definition) in HYPOPG_METHODS and not (partitioned and is_expression)


def _apply_delta(
    conn: psycopg.Connection[Any], candidate: Candidate, partitioned: bool, build_unsupported: bool
) -> list[dict[str, str]]:
    done = []
    for name in candidate.drops:
        conn.execute(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier("public", name)))
        done.append({"definition": f"DROP INDEX {name}", "how": "dropped"})
    for definition in candidate.creates:
        if _simulable(definition, partitioned):
            conn.execute("SELECT * FROM hypopg_create_index(%s)", (definition,))
            how = "hypothetical"
        elif build_unsupported:
            conn.execute(hypothetical_definition(definition))
            how = "built"
        else:
            how = "skipped"
        done.append({"definition": definition, "how": how})
    for step in candidate.steps:
        if step.generator or not (is_create_index(step.sql) or step.sql.upper().startswith("DROP INDEX")):
            done.append({"definition": " ".join(step.sql.split())[:100], "how": "ignored"})
    if any(d["how"] == "built" for d in done):
        conn.execute("ANALYZE agent_events")  # expression statistics for a built expression index, rolled back too
    return done


def screen_candidate(
    conn: psycopg.Connection[Any],
    engine: Engine,
    candidate: Candidate,
    queries: list[Query],
    partitioned: bool,
    build_unsupported: bool = True,
) -> Screened:
    result = Screened(candidate.name, str(candidate.path))
    try:
        with conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            result.indexes = _apply_delta(conn, candidate, partitioned, build_unsupported)
            result.plans = _plan_all(conn, engine, queries)
            raise psycopg.Rollback()  # what-if only: the instance keeps none of it
    except psycopg.Error as e:
        result.status, result.error, result.plans = "failed", str(e).strip().splitlines()[0], []
    finally:
        conn.execute("SELECT hypopg_reset()")
    return result


def left_behind(conn: psycopg.Connection[Any]) -> int:
    """Hypothetical indexes this connection still has (they live in the backend, not in the catalog)."""
    row = conn.execute("SELECT count(*) FROM hypopg_list_indexes").fetchone()
    return int(row[0]) if row else 0


def screen(
    conn: psycopg.Connection[Any],
    engine: Engine,
    candidates: list[Candidate],
    queries: list[Query],
    build_unsupported: bool = True,
) -> dict[str, Any]:
    """The baseline plans and each candidate's, on one autocommit connection to the before instance."""
    version = ensure_hypopg(conn)
    conn.execute("SELECT hypopg_reset()")
    relkind = conn.execute("SELECT relkind FROM pg_class WHERE oid = 'public.agent_events'::regclass").fetchone()
    partitioned = relkind is not None and relkind[0] == "p"
    baseline = _plan_all(conn, engine, queries)
    screened = [screen_candidate(conn, engine, c, queries, partitioned, build_unsupported) for c in candidates]
    remaining = left_behind(conn)
    if remaining:
        raise HarnessError(f"{remaining} hypothetical indexes are left after hypopg_reset(); this is a harness bug")
    return {
        "hypopg_version": version,
        "engine": engine.name,
        "partitioned_parent": partitioned,
        "build_unsupported": build_unsupported,
        "queries": len(queries),
        "baseline": baseline,
        "candidates": [s.to_dict() for s in screened],
    }


def candidates_from(specs: list[str | Path] | None) -> list[Candidate]:
    if not specs:
        return default_candidates()
    return [read_candidate(PHASE2_CANDIDATE if str(s) == "phase2" else s) for s in specs]


def workload_weights() -> dict[str, float]:
    """Executions per page view of each application case (bench/workloads/devlog.toml)."""
    _, workload = app_cases()
    return workload.page_view_weights()
