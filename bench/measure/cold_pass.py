"""The query suite's cold-cache figures: each promise case's first execution after a cold restart, before vs after.

The warm figures (bench.measure.timing) follow warm-up executions, so the index's pages are in memory. Here
every timed execution is the first one after bench.db.cache_state made its instance cold (restarted, its
files dropped from the OS page cache), as ClickBench times "cold": one execution per restart, a few
parameters per case, before and after in alternating order. An EXPLAIN without ANALYZE plans the statement
first, so the figure holds the cold data reads, not the new connection's one-off catalog loading.
Evidence that the state was cold: pg_buffercache shows none of agent_events' blocks in shared buffers after
the restart, and one EXPLAIN (ANALYZE, BUFFERS) per case after another cold restart reads blocks from outside
shared buffers, while the same EXPLAIN right after it (warm) reads none. Promise speedups come from the same
estimator as the warm ones.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import psycopg

from bench.core.cases import Case
from bench.db.cache_state import CacheController, buffered_blocks, cold_unavailable
from bench.db.instances import InstancePair
from bench.db.plans import capture_plan, summarize_plan
from bench.judge.stats import bootstrap_speedup_interval
from bench.judge.verdicts import Targets
from bench.measure.params import ParamSample
from bench.measure.timing import ROLES, execute_timed, timing_connection

COLD_STATE = (
    "cold: the first execution after the server restarted (empty shared buffers) with agent_events' files "
    "evicted from the OS page cache (posix_fadvise DONTNEED), on a connection whose catalog caches one EXPLAIN "
    "(planning only) warmed; one execution per restart"
)


def spread(samples: Sequence[ParamSample], count: int) -> list[ParamSample]:
    """`count` samples spread over the selectivity range (they come sorted from rare to common)."""
    if len(samples) <= count:
        return list(samples)
    picks = np.linspace(0, len(samples) - 1, count).round().astype(int)
    return [samples[int(i)] for i in dict.fromkeys(picks.tolist())]


def _cold_execution(
    controller: CacheController, pair: InstancePair, role: str, case: Case, sample: ParamSample, timeout_ms: int
) -> dict[str, Any]:
    state = controller.make_cold(role)
    counted = state.buffered_blocks_after_restart is not None
    conn = timing_connection(pair, role, timeout_ms)
    try:
        # Planning only: a new backend's first statement loads the catalog entries of every partition and index
        # (tens of ms, paid once per connection, the same on both instances); the timed execution then meets
        # warm catalogs and cold data. The planner may read an index's metapage or end pages while it plans.
        conn.execute("EXPLAIN " + case.sql, sample.params)
        planned = buffered_blocks(conn) if counted else None
        execution = execute_timed(conn, case.sql, sample.params)
        blocks = buffered_blocks(conn) if counted else None
    finally:
        conn.close()
    return {
        "ms": execution.ms,
        "error": execution.error,
        "buffered_before": state.buffered_blocks_after_restart,
        "buffered_after_planning": planned,
        "buffered_after": blocks,
        "evicted_bytes": state.evicted_bytes,
    }


def _plan_evidence(
    controller: CacheController, pair: InstancePair, role: str, case: Case, sample: ParamSample, timeout_ms: int
) -> dict[str, Any]:
    """shared read blocks of one EXPLAIN right after a cold restart, and of the same EXPLAIN once more (warm)."""
    controller.make_cold(role)
    conn = timing_connection(pair, role, timeout_ms)
    try:
        cold = summarize_plan(capture_plan(conn, case.sql, sample.params))
        warm = summarize_plan(capture_plan(conn, case.sql, sample.params))
    except psycopg.Error as e:
        return {"error": str(e).strip()}
    finally:
        conn.close()
    return {
        "label": sample.label,
        "cold_shared_read": cold.shared_read_blocks,
        "cold_shared_hit": cold.shared_hit_blocks,
        "warm_shared_read": warm.shared_read_blocks,
        "warm_shared_hit": warm.shared_hit_blocks,
        "cold_execution_ms": cold.execution_ms,
        "warm_execution_ms": warm.execution_ms,
    }


def measure_cold_cases(
    pair: InstancePair,
    cases: Sequence[Case],
    samples: dict[str, list[ParamSample]],
    targets: Targets,
    timeout_ms: int,
    seed: int,
    params_per_case: int = 3,
    progress: bool = False,
) -> dict[str, Any]:
    """Cold figures of the promise cases (the cases a promise names), with the evidence the state was cold."""
    reasons = [r for r in (cold_unavailable(inst) for inst in pair) if r]
    if reasons:
        return {"state": COLD_STATE, "skipped": reasons[0]}
    started = time.perf_counter()
    promised = {c for p in targets.promises for c in p.cases}
    chosen = [c for c in cases if c.name in promised and samples.get(c.name)]
    results: dict[str, Any] = {}
    restarts = 0
    with CacheController(list(pair)) as controller:
        for number, case in enumerate(chosen):
            if progress:
                print(f"  cold cache: {case.name} ({number + 1}/{len(chosen)}) ...", flush=True)
            records = []
            for i, sample in enumerate(spread(samples[case.name], params_per_case)):
                order = ROLES if i % 2 == 0 else ROLES[::-1]
                by_role = {role: _cold_execution(controller, pair, role, case, sample, timeout_ms) for role in order}
                restarts += 2
                records.append({"label": sample.label, **{role: by_role[role] for role in ROLES}})
            first = samples[case.name][len(samples[case.name]) // 2]
            plans = {role: _plan_evidence(controller, pair, role, case, first, timeout_ms) for role in ROLES}
            restarts += 2
            results[case.name] = {"samples": records, "plans": plans, "speedup": _speedup(records, seed)}
        unavailable = {r: why for r, why in controller.buffercache_unavailable.items() if why}
    promises = {}
    for promise in targets.promises:
        records = [r for c in promise.cases if c in results for r in results[c]["samples"]]
        if records:
            promises[promise.name] = {
                "cases": [c for c in promise.cases if c in results],
                "cold": _speedup(records, seed),
            }
    return {
        "state": COLD_STATE,
        "skipped": None,
        "params_per_case": params_per_case,
        "cases": results,
        "promises": promises,
        "restarts": restarts,
        "seconds": time.perf_counter() - started,
        "pg_buffercache": unavailable or None,
    }


def _speedup(records: list[dict[str, Any]], seed: int) -> dict[str, Any] | None:
    """Geometric mean of cold before/after ratios over parameters (None when any cold execution failed)."""
    if not records or any(r[role]["ms"] is None for r in records for role in ROLES):
        return None
    pairs = [([float(r["before"]["ms"])], [float(r["after"]["ms"])]) for r in records]
    return bootstrap_speedup_interval(pairs, seed=seed).to_dict()
