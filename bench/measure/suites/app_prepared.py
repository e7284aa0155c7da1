"""Statements sent as an ORM sends them: named server-side prepared statements under a chosen plan cache mode.

Prisma prepares every statement on a connection and reuses it (a per-connection statement cache), so after five
executions PostgreSQL's default plan_cache_mode (auto) may switch a statement to a generic plan, planned once
without the parameter values. psycopg with prepare_threshold=0 does the same: it prepares on first execution
and executes by name after that. pg_prepared_statements counts, per statement, how many executions used a
generic and how many a custom plan; the harness's own queries here run unprepared so they never count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql

from bench.core.cases import Case
from bench.db.instances import InstancePair
from bench.db.plans import EXPLAIN_PREFIX
from bench.measure.params import ParamSample
from bench.measure.timing import execute_timed, receive_as_text

# PostgreSQL's plan cache (plancache.c) plans the first five executions of a prepared statement with their
# parameters before it weighs a generic plan; a long-lived pool connection is long past them.
CUSTOM_PLANS_BEFORE_GENERIC = 5
EXPLAIN_STATEMENT = "phase2_bench_explain"
PLACEHOLDER = re.compile(r"%%|%\((\w+)\)s")
PLAN_COUNTS_SQL = """
SELECT coalesce(sum(generic_plans), 0), coalesce(sum(custom_plans), 0), count(*)
FROM pg_prepared_statements
WHERE NOT from_sql
"""


def prepared_connection(
    pair: InstancePair, role: str, plan_cache_mode: str, timeout_ms: int
) -> psycopg.Connection[Any]:
    conn = pair.by_role(role).connect(prepare_threshold=0)
    conn.execute("SELECT set_config('statement_timeout', %s, false)", [str(int(timeout_ms))], prepare=False)
    conn.execute("SELECT set_config('plan_cache_mode', %s, false)", [plan_cache_mode], prepare=False)
    receive_as_text(conn)
    return conn


def plan_counts(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Executions of this session's protocol-level prepared statements, by the kind of plan they used."""
    row = conn.execute(PLAN_COUNTS_SQL, prepare=False).fetchone()
    assert row is not None
    return {"generic": int(row[0]), "custom": int(row[1]), "statements": int(row[2])}


def count_difference(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {"generic": after["generic"] - before["generic"], "custom": after["custom"] - before["custom"]}


def to_positional(sql_text: str, params: dict[str, Any]) -> tuple[str, list[Any]]:
    """`%(name)s` placeholders as $1, $2, ... in order of first appearance (as psycopg sends them), with values."""
    order: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(0) == "%%":
            return "%"
        name = match.group(1)
        if name not in order:
            order.append(name)
        return f"${order.index(name) + 1}"

    return PLACEHOLDER.sub(number, sql_text), [params[name] for name in order]


def explain_prepared(
    conn: psycopg.Connection[Any], sql_text: str, params: dict[str, Any], plan_cache_mode: str
) -> list[dict[str, Any]]:
    """EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE of the statement prepared under `plan_cache_mode`.

    A statement of its own (PREPARE, so pg_prepared_statements lists it as from_sql and the counts above skip
    it); force_generic_plan shows the generic plan the timed executions used, force_custom_plan a custom one.
    """
    text, values = to_positional(sql_text, params)
    name = sql.Identifier(EXPLAIN_STATEMENT)
    mode_before = conn.execute("SELECT current_setting('plan_cache_mode')", prepare=False).fetchone()
    conn.execute(sql.SQL("PREPARE {} AS ").format(name) + sql.SQL(text), prepare=False)
    try:
        conn.execute("SELECT set_config('plan_cache_mode', %s, false)", [plan_cache_mode], prepare=False)
        arguments = sql.SQL(", ").join(sql.Literal(v) for v in values)
        statement = sql.SQL(EXPLAIN_PREFIX + "EXECUTE {}({})").format(name, arguments)
        row = conn.execute(statement, prepare=False).fetchone()
    finally:
        conn.execute(sql.SQL("DEALLOCATE {}").format(name), prepare=False)
        if mode_before:
            conn.execute("SELECT set_config('plan_cache_mode', %s, false)", [mode_before[0]], prepare=False)
    assert row is not None
    plan = json.loads(row[0]) if isinstance(row[0], str) else row[0]
    return plan if isinstance(plan, list) else [plan]


class PreparedPlanCapture:
    """The plan capture of bench.measure.timing.measure_sample for prepared statements.

    Under auto, the plan explained is the kind the timed executions of this parameter mostly used, read from
    pg_prepared_statements; under a forced mode it is that mode's.
    """

    def __init__(self, conns: dict[str, psycopg.Connection[Any]], plan_cache_mode: str) -> None:
        self.roles = {id(conn): role for role, conn in conns.items()}
        self.plan_cache_mode = plan_cache_mode
        self.counts_before: dict[str, dict[str, int]] = {}
        self.explained_as: dict[str, str] = {}

    def start(self, conns: dict[str, psycopg.Connection[Any]]) -> None:
        self.counts_before = {role: plan_counts(conn) for role, conn in conns.items()}
        self.explained_as = {}

    def __call__(self, conn: psycopg.Connection[Any], sql_text: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        role = self.roles[id(conn)]
        kind = self.kind_used(role, conn)
        self.explained_as[role] = kind
        return explain_prepared(conn, sql_text, params, f"force_{kind}_plan")

    def kind_used(self, role: str, conn: psycopg.Connection[Any]) -> str:
        if self.plan_cache_mode != "auto":
            return "generic" if self.plan_cache_mode == "force_generic_plan" else "custom"
        used = count_difference(plan_counts(conn), self.counts_before[role])
        return "generic" if used["generic"] > used["custom"] else "custom"


def prime(
    conns: dict[str, psycopg.Connection[Any]], case: Case, samples: Sequence[ParamSample], budget_s: float
) -> int:
    """Untimed executions past the plan cache's first five custom plans, parameters taken in turn.

    Stops early once they have taken `budget_s` (a statement of seconds would spend minutes here); the plan
    counts then show custom plans in the timed executions. Returns the executions per connection. Errors are
    left for the timed executions to record (they run the same statements).
    """
    spent = 0.0
    for i in range(CUSTOM_PLANS_BEFORE_GENERIC):
        if not samples or spent > budget_s:
            return i
        sample = samples[i % len(samples)]
        for conn in conns.values():
            execution = execute_timed(conn, case.sql, sample.params)
            if execution.error:
                return i
            spent += (execution.ms or 0.0) / 1000
    return CUSTOM_PLANS_BEFORE_GENERIC
