"""Timing one case with one parameter on both instances, interleaved, plus its untimed EXPLAIN ANALYZE."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

import psycopg
from psycopg.types.string import TextLoader

from bench.core.cases import Case
from bench.db.instances import InstancePair
from bench.db.plans import capture_plan, check_plan, summarize_plan
from bench.measure.params import ParamSample

ROLES = ("before", "after")
CACHE_STATES = ("warm", "cold", "both")
# (connection, SQL text, parameters) -> EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) output
PlanCapture = Callable[[psycopg.Connection[Any], str, dict[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class MeasureSettings:
    warmup: int = 3  # untimed executions per instance before timing: the figures are warm-cache figures
    min_rounds: int = 7
    max_rounds: int = 30
    budget_s: float = 2.0  # time aimed at per parameter and instance; rounds = budget / slowest warm-up
    statement_timeout_ms: int = 30_000
    seed: int = 20251101
    # Which cache states are measured besides today's warm figures: "cold" or "both" add the cold-cache
    # pass (bench.measure.cold_pass) and the concurrency suite's cold rounds; the verdicts stay warm.
    cache: str = "warm"

    @property
    def cache_state(self) -> str:
        return (
            f"warm: each figure follows up to {self.warmup} untimed warm-up executions of the same query and "
            "parameter on the same instance (only 1 when one execution outlasts the time budget), so "
            "shared_buffers and the OS page cache hold the data touched"
        )

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cache_state": self.cache_state}


def timing_connection(pair: InstancePair, role: str, timeout_ms: int) -> psycopg.Connection[Any]:
    # prepare_threshold=None: every execution is planned with its real parameters, like the EXPLAIN ANALYZE
    # beside it; psycopg would otherwise switch to a prepared (possibly generic) plan after 5 executions.
    conn = pair.by_role(role).connect(prepare_threshold=None)
    conn.execute(f"SET statement_timeout = {int(timeout_ms)}")
    receive_as_text(conn)
    return conn


# Timed queries receive every row, but values whose Python decoding is costly (JSON parsing above all) stay
# text: that client-side cost is identical on both instances and would only dilute the server's difference.
TEXT_LOADED_TYPES = ("jsonb", "json", "uuid", "timestamptz", "text[]", "uuid[]")


def receive_as_text(conn: psycopg.Connection[Any]) -> None:
    for name in TEXT_LOADED_TYPES:
        conn.adapters.register_loader(name, TextLoader)


@dataclass
class Execution:
    ms: float | None
    rows: int | None
    error: str | None
    digest: str | None = None


def execute_timed(
    conn: psycopg.Connection[Any], sql_text: str, params: dict[str, Any], digest: bool = False
) -> Execution:
    """What a user waits for: execute and fetch every row. A timeout or error is a failure, never a time."""
    try:
        started = time.perf_counter_ns()
        with conn.cursor() as cur:
            cur.execute(sql_text, params)
            rows = cur.fetchall()
        elapsed_ms = (time.perf_counter_ns() - started) / 1e6
    except psycopg.errors.QueryCanceled:
        return Execution(None, None, "statement timeout")
    except psycopg.Error as e:
        return Execution(None, None, f"{type(e).__name__}: {str(e).strip()}")
    result_digest = None
    if digest:
        # Order-insensitive fingerprint of the result, to show both instances return the same rows.
        h = hashlib.sha256()
        for line in sorted(repr(r) for r in rows):
            h.update(line.encode())
        result_digest = h.hexdigest()[:16]
    return Execution(elapsed_ms, len(rows), None, result_digest)


def measure_sample(
    conns: dict[str, psycopg.Connection[Any]],
    case: Case,
    sample: ParamSample,
    settings: MeasureSettings,
    parents: dict[str, dict[str, str]],
    pedantic: Callable[..., Any] | None = None,
    plan_capture: PlanCapture = capture_plan,
) -> dict[str, Any]:
    """Interleaved timing (before, after, then after, before ...), so machine drift hits both alike.

    `plan_capture` runs the untimed EXPLAIN; a suite that times prepared statements passes one that explains
    the prepared statement under the plan cache mode it measured.
    """
    latencies: dict[str, list[float | None]] = {r: [] for r in ROLES}
    errors: dict[str, str | None] = dict.fromkeys(ROLES)
    first: dict[str, Execution] = {}
    warm_ms: dict[str, float] = {r: 0.0 for r in ROLES}
    warm_spent = 0.0
    warmups = 0
    for i in range(settings.warmup):
        # One warm-up is enough for a slow query (a sequential scan warms the cache by itself); the rest
        # of the warm-ups would only eat the time budget.
        if i > 0 and warm_spent > settings.budget_s:
            break
        warmups += 1
        for role in ROLES:
            if errors[role]:
                continue
            ex = execute_timed(conns[role], case.sql, sample.params, digest=i == 0)
            if i == 0:
                first[role] = ex
            if ex.error:
                errors[role] = ex.error
            else:
                warm_ms[role] = ex.ms or 0.0
                warm_spent += (ex.ms or 0.0) / 1000
    slowest_s = max(warm_ms.values()) / 1000 or 1e-3
    rounds = max(settings.min_rounds, min(settings.max_rounds, math.ceil(settings.budget_s / slowest_s)))
    state = {"round": 0}

    def one_round() -> None:
        order = ROLES if state["round"] % 2 == 0 else ROLES[::-1]
        state["round"] += 1
        for role in order:
            if errors[role]:  # after a failure the instance is not retried: every later round is a failure too
                latencies[role].append(None)
                continue
            ex = execute_timed(conns[role], case.sql, sample.params)
            latencies[role].append(ex.ms)
            if ex.error:
                errors[role] = ex.error

    if pedantic is not None:
        pedantic(one_round, rounds=rounds, iterations=1, warmup_rounds=0)
    else:
        for _ in range(rounds):
            one_round()

    plans: dict[str, Any] = {}
    raw_plans: dict[str, Any] = {}
    for role in ROLES:
        if errors[role]:
            plans[role] = None
            continue
        try:
            raw = plan_capture(conns[role], case.sql, sample.params)
        except psycopg.Error as e:
            plans[role] = None
            errors[role] = errors[role] or f"EXPLAIN failed: {str(e).strip()}"
            continue
        raw_plans[role] = raw
        summary = summarize_plan(raw, parents[role])
        plans[role] = {**summary.to_dict(), **check_plan(summary, case.after_uses if role == "after" else None)}

    before_first, after_first = first.get("before"), first.get("after")
    same_rows = (
        before_first is not None
        and after_first is not None
        and before_first.error is None
        and after_first.error is None
        and before_first.digest == after_first.digest
    )
    return {
        "case": case.name,
        "label": sample.label,
        "sample": sample.to_dict(),
        "matched_rows": before_first.rows if before_first else None,
        "rounds": rounds,
        "warmups": warmups,
        "latencies_ms": latencies,
        "first_execution_ms": {r: first[r].ms if r in first else None for r in ROLES},
        "errors": errors,
        "result_digest": {r: first[r].digest if r in first else None for r in ROLES},
        "same_rows": same_rows,
        "plans": plans,
        "raw_plans": raw_plans,
    }


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No garbage collection inside a timed loop: a collection there is the client's noise, not the server's cost."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class RoundTimer:
    """pytest-benchmark's `pedantic` without pytest: runs and times each round (both instances' executions),
    with garbage collection paused, for the pytest-benchmark.json the run writes beside its results."""

    def __init__(self) -> None:
        self.round_s: list[float] = []

    def __call__(self, target: Callable[[], Any], rounds: int, iterations: int = 1, warmup_rounds: int = 0) -> None:
        for _ in range(warmup_rounds):
            target()
        with gc_paused():
            for _ in range(rounds):
                started = time.perf_counter()
                for _ in range(iterations):
                    target()
                self.round_s.append((time.perf_counter() - started) / iterations)
