"""The application's writes with its schema: devlog's batch and single-event ingest, before vs after Phase 2.

Each instance gets a scratch copy of agent_events (its engine, the pre-Phase-2 indexes, and the migration on the
after copy, as write_cost builds them) plus the application-schema variant: the projects, agent_sessions and
chat_sessions tables and the foreign keys prisma/schema.prisma declares at devlog 05063cc (schema/app_schema_*.sql).
The timed writes are the statements the routes send, as named prepared statements on one connection per instance,
autocommit: per batch request the route's sessions createMany then its events createMany (batches of 100, the
collector's default, and 1000, its maximum), and the single-event create with RETURNING. Rows are the dataset
generator's next ones (the newest events, as a live table receives them), the same on both instances; statement
by statement, before and after alternate who goes first. The measured agent_events tables are never touched.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from tqdm import tqdm

from bench.core.cases import Case, parse_case
from bench.core.config import SCHEMA_DIR
from bench.core.sql_files import read_statements
from bench.core.workload import WRITE_CASES_DIR, Workload
from bench.db.instances import InstancePair
from bench.db.schema import run_file
from bench.judge.app_writes import (
    BATCH_CASE,
    SESSIONS_CASE,
    SINGLE_CASE,
    summarize_variant,
    unit_estimate,
    unit_verdict,
    variant_key,
    variant_verdict,
)
from bench.measure.suites import SuiteContext, section, skipped
from bench.measure.suites.app import app_cases
from bench.measure.suites.scratch import (
    RowStream,
    ScratchUnavailable,
    before_after_copies,
    expected_differences,
    insert_rows,
)
from bench.measure.timing import gc_paused
from generators.events import EventBatch

NAME = "app_writes"
TITLE = "the application's writes with its schema: Prisma's createMany and create with foreign keys, before vs after"
ROLES = ("before", "after")
PARENTS_SQL = SCHEMA_DIR / "app_schema_parents.sql"
FILL_PARENTS_SQL = SCHEMA_DIR / "app_schema_fill_parents.sql"
FOREIGN_KEYS_SQL = SCHEMA_DIR / "app_schema_foreign_keys.sql"
AUTO_CREATED_CONTEXT = '{"autoCreated": true}'  # batch/route.ts@05063cc:140-151
SCHEMA_VARIANT = {
    "name": "application schema (prisma/schema.prisma at devlog 05063cc)",
    "files": [f"schema/{p.name}" for p in (PARENTS_SQL, FILL_PARENTS_SQL, FOREIGN_KEYS_SQL)],
    "tables": ["projects", "agent_sessions", "chat_sessions"],
    "foreign_keys": [
        "agent_events.session_id -> agent_sessions(id) ON DELETE CASCADE",
        "agent_events.project_id -> projects(id) ON DELETE CASCADE",
        'agent_events."chatSessionId" -> chat_sessions(id) ON DELETE SET NULL',
        "agent_sessions.project_id -> projects(id) ON DELETE CASCADE",
    ],
    "deviations": [
        "Built from prisma/schema.prisma at 05063cc, not from prisma/migrations: the migration history never creates "
        'projects (its foreign keys name devlog_projects) and never adds "chatSessionId", and at 76d6a0d '
        'agent_events.session_id referenced chat_sessions("sessionId"), re-pointed to agent_sessions(id) by '
        "20251102000000_fix_agent_events_session_fk. Schema and migrations have drifted apart.",
        'agent_events gains the 15th column "chatSessionId" (nullable, never set by the routes) and its foreign '
        "key; chat_sessions exists only for it, without its workspace relation (machines and workspaces are not "
        "created).",
        "agent_events keeps the engine's primary key (id, timestamp) and its partitioning, as everywhere in the "
        "harness.",
        "The batch route's machine and workspace upserts (only for events whose context has workspaceId and "
        "workspacePath) are not run: they touch neither agent_events nor its indexes, and the generator's context "
        "has neither key.",
        "INSERT columns are in model order; Prisma orders them by a Rust HashSet (inferred), which changes the "
        "statement text, not the work.",
        "The single-event create stamps the server's now(); here the generator's next timestamp stands in for it "
        "(the data's clock), so rows land in the newest partition or chunk as live writes do.",
        "Each statement runs in its own transaction (autocommit); whether Prisma wraps the route's two createMany "
        "in one is not established (inferred: it does not).",
    ],
}


@dataclass(frozen=True)
class AppWritesSettings:
    seed: int
    prefill_cap: int = 200_000  # rows in each scratch copy before timing: the dataset's, up to this many
    repetitions: int = 10
    warmup_repetitions: int = 1  # untimed: the first statements on a fresh connection prepare and warm caches
    batch_sizes: tuple[int, ...] = (100, 1000)  # the collector's default and the route's maximum
    rows_per_batch_size: int = 3_000  # events per repetition at each batch size
    single_rows: int = 100  # single-event creates per repetition
    statement_timeout_ms: int = 30_000
    tolerance_pct: float = 10.0
    confidence: float = 0.95
    workload_path: Path | None = None

    def sizes(self, workload: Workload) -> tuple[int, ...]:
        """The configured batch sizes and every ingest unit's, so each unit's estimate has its samples."""
        return tuple(sorted({*self.batch_sizes, *(u.batch_rows for u in workload.write_units if u.batch_rows)}))

    def rows_written(self, sizes: Sequence[int]) -> int:
        reps = self.warmup_repetitions + self.repetitions
        return reps * (sum(self.statements(size) * size for size in sizes) + self.single_rows)

    def statements(self, batch_rows: int) -> int:
        return max(1, self.rows_per_batch_size // batch_rows)


def run(ctx: SuiteContext) -> dict[str, Any]:
    settings = AppWritesSettings(
        seed=ctx.settings.seed,
        statement_timeout_ms=ctx.settings.statement_timeout_ms,
        tolerance_pct=ctx.targets.control_tolerance_pct,
        workload_path=ctx.workload,
    )
    try:
        return measure_app_writes(ctx.pair, ctx.dataset, settings, ctx.progress)
    except ScratchUnavailable as e:
        return skipped(NAME, TITLE, str(e))


def write_cases() -> dict[str, Case]:
    return {p.stem: parse_case(p) for p in sorted(WRITE_CASES_DIR.glob("*.sql"))}


def statement(case: Case, rows: int, columns: int) -> sql.Composed:
    """A write case's statement for `rows` rows of `columns` bind parameters each."""
    row = sql.SQL("({})").format(sql.SQL(", ").join([sql.Placeholder()] * columns))
    return sql.SQL(case.sql).format(rows=sql.SQL(", ").join([row] * rows))


def session_rows(batch: EventBatch) -> list[tuple[Any, ...]]:
    """The route's auto-created sessions: one per distinct session of the batch, from its first event there."""
    first: dict[str, tuple[Any, ...]] = {}
    for row in insert_rows(batch):
        _id, timestamp, _type, agent_id, agent_version, session_id, project_id = row[:7]
        if session_id not in first:
            first[session_id] = (session_id, agent_id, agent_version, project_id, timestamp, AUTO_CREATED_CONTEXT, "{}")
    return list(first.values())


def ingest_batch(
    conn: psycopg.Connection[Any],
    cases: dict[str, Case],
    rows: Sequence[tuple[Any, ...]],
    sessions: list[tuple[Any, ...]],
) -> tuple[int, int]:
    """What POST /api/events/batch sends for one batch: sessions createMany, then events createMany.
    Returns (sessions inserted, events inserted); a missing parent raises psycopg.errors.ForeignKeyViolation."""
    cur = conn.execute(
        statement(cases[SESSIONS_CASE], len(sessions), 7), [v for s in sessions for v in s], prepare=True
    )
    inserted_sessions = cur.rowcount
    cur = conn.execute(statement(cases[BATCH_CASE], len(rows), 14), [v for r in rows for v in r], prepare=True)
    return inserted_sessions, cur.rowcount


def create_one(conn: psycopg.Connection[Any], cases: dict[str, Case], row: tuple[Any, ...]) -> tuple[Any, ...] | None:
    """What POST /api/events sends: one INSERT ... RETURNING every column, the session not auto-created."""
    return conn.execute(statement(cases[SINGLE_CASE], 1, 14), list(row), prepare=True).fetchone()


def build_app_schema(conn: psycopg.Connection[Any], projects: int) -> None:
    """The application-schema variant on a scratch copy already holding agent_events and its rows."""
    state = "the scratch database is incomplete; it is dropped at the end of the suite"
    run_file(conn, PARENTS_SQL, state)
    for text in read_statements(FILL_PARENTS_SQL):
        conn.execute(text, {"projects": projects} if "%(" in text else None)
    run_file(conn, FOREIGN_KEYS_SQL, state)


@dataclass
class _Statement:
    variant: str
    sql_text: str
    params: list[Any]
    rows: int
    timed: bool = True
    setup: list[tuple[str, list[Any]]] = field(default_factory=list)  # untimed statements run first


@dataclass
class _Recorder:
    samples: dict[str, dict[str, list[list[float | None]]]] = field(default_factory=dict)
    errors: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    inserted: dict[str, int] = field(default_factory=dict)  # variant -> rows inserted per instance (before)
    offered: dict[str, int] = field(default_factory=dict)
    client_cpu_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # variant -> role -> client CPU time


def measure_app_writes(
    pair: InstancePair, dataset: dict[str, Any], settings: AppWritesSettings, progress: bool = False
) -> dict[str, Any]:
    _, workload = app_cases(settings.workload_path)
    cases = write_cases()
    sizes = settings.sizes(workload)
    prefill = min(int(dataset["rows"]), settings.prefill_cap)
    _say(progress, f"  app_writes: scratch copies with {prefill:,} rows and the application's schema ...")
    # One row more than the timed writes: the foreign-key check's batch.
    with before_after_copies(pair, dataset, NAME, prefill, settings.rows_written(sizes) + 1, progress) as loaded:
        copies, spec, stream, migration = loaded.pair, loaded.spec, loaded.stream, loaded.migration
        index_check, commit = {}, {}
        for inst in (copies.before, copies.after):
            with inst.connect() as conn:
                build_app_schema(conn, spec.project_count)
                index_check[inst.role] = expected_differences(conn, inst.role, migration)
                commit[inst.role] = str(conn.execute("SHOW synchronous_commit").fetchone()[0])  # type: ignore[index]
        conns = {role: copies.by_role(role).connect(prepare_threshold=0) for role in ROLES}
        try:
            for conn in conns.values():
                conn.execute("SELECT set_config('statement_timeout', %s, false)", [str(settings.statement_timeout_ms)])
            recorder = _time_repetitions(conns, cases, stream, sizes, settings, progress)
            fk_check = foreign_key_check(conns["before"], cases, stream.take(1), spec.project_count)
        finally:
            for conn in conns.values():
                conn.close()
    return _section(workload, recorder, sizes, settings, prefill, pair.engine.name, index_check, commit, fk_check)


def _repetition(
    stream: RowStream,
    cases: dict[str, Case],
    conn: psycopg.Connection[Any],
    sizes: Sequence[int],
    settings: AppWritesSettings,
) -> list[_Statement]:
    """One repetition's statements, composed before timing (the generator and psycopg.sql are not measured)."""
    work: list[_Statement] = []
    for size in sizes:
        for _ in range(settings.statements(size)):
            batch = stream.take(size)
            rows, sessions = insert_rows(batch), session_rows(batch)
            work.append(
                _Statement(
                    variant_key(SESSIONS_CASE, size),
                    statement(cases[SESSIONS_CASE], len(sessions), 7).as_string(conn),
                    [v for s in sessions for v in s],
                    len(sessions),
                )
            )
            work.append(
                _Statement(
                    variant_key(BATCH_CASE, size),
                    statement(cases[BATCH_CASE], size, 14).as_string(conn),
                    [v for r in rows for v in r],
                    size,
                )
            )
    single = stream.take(settings.single_rows)
    one_sql = statement(cases[SINGLE_CASE], 1, 14).as_string(conn)
    sessions_one = statement(cases[SESSIONS_CASE], 1, 7).as_string(conn)
    for row, session in zip(insert_rows(single), session_rows_each(single), strict=True):
        # The single-event route does not create the session: it must exist, so it is made untimed first.
        work.append(_Statement(SINGLE_CASE, one_sql, list(row), 1, setup=[(sessions_one, list(session))]))
    return work


def session_rows_each(batch: EventBatch) -> list[tuple[Any, ...]]:
    """The session row of every event (not deduplicated), for creating each event's parent one at a time."""
    return [(r[5], r[3], r[4], r[6], r[1], AUTO_CREATED_CONTEXT, "{}") for r in insert_rows(batch)]


def _execute(conn: psycopg.Connection[Any], st: _Statement) -> tuple[float | None, float, int, str | None]:
    """(wall ms or None, client CPU ms, rows inserted, error)."""
    for text, params in st.setup:
        conn.execute(text, params, prepare=True)
    try:
        started_cpu = time.thread_time_ns()
        started = time.perf_counter_ns()
        cur = conn.execute(st.sql_text, st.params, prepare=True)
        if cur.description is not None:
            cur.fetchall()  # RETURNING: Prisma reads the created row back
        elapsed = (time.perf_counter_ns() - started) / 1e6
        cpu = (time.thread_time_ns() - started_cpu) / 1e6
    except psycopg.Error as e:
        return None, 0.0, 0, f"{type(e).__name__}: {str(e).strip()}"
    return elapsed, cpu, cur.rowcount, None


def _time_repetitions(
    conns: dict[str, psycopg.Connection[Any]],
    cases: dict[str, Case],
    stream: RowStream,
    sizes: Sequence[int],
    settings: AppWritesSettings,
    progress: bool,
) -> _Recorder:
    recorder = _Recorder()
    total = settings.warmup_repetitions + settings.repetitions
    bar = tqdm(total=total, desc="app_writes", unit="rep", disable=not progress, leave=False)
    try:
        for rep in range(total):
            work = _repetition(stream, cases, conns["before"], sizes, settings)
            timed: dict[str, dict[str, list[float | None]]] = {role: {} for role in ROLES}
            with gc_paused():
                for i, st in enumerate(work):
                    for role in ROLES if (rep + i) % 2 == 0 else ROLES[::-1]:
                        ms, cpu, inserted, error = _execute(conns[role], st)
                        timed[role].setdefault(st.variant, []).append(ms)
                        if error:
                            recorder.errors.setdefault(st.variant, {}).setdefault(role, []).append(error)
                        if rep >= settings.warmup_repetitions:
                            cpu_by_role = recorder.client_cpu_ms.setdefault(st.variant, dict.fromkeys(ROLES, 0.0))
                            cpu_by_role[role] += cpu
                        if role == "before" and rep >= settings.warmup_repetitions:
                            recorder.inserted[st.variant] = recorder.inserted.get(st.variant, 0) + max(inserted, 0)
                            recorder.offered[st.variant] = recorder.offered.get(st.variant, 0) + st.rows
            if rep >= settings.warmup_repetitions:
                for role in ROLES:
                    for variant, times in timed[role].items():
                        recorder.samples.setdefault(variant, {r: [] for r in ROLES})[role].append(times)
            bar.update(1)
    finally:
        bar.close()
    return recorder


def foreign_key_check(
    conn: psycopg.Connection[Any], cases: dict[str, Case], batch: EventBatch, projects: int
) -> dict[str, Any]:
    """A batch naming a project that does not exist, sent as the route sends it, once for a new session and once
    for a session already present: which constraint refuses it (None when nothing did)."""
    missing = projects + 1
    row = insert_rows(batch)[0]
    existing = conn.execute('SELECT "id"::text FROM "public"."agent_sessions" LIMIT 1').fetchone()
    refused: dict[str, str | None] = {}
    for label, session_id in (
        ("new_session", str(uuid.uuid4())),
        ("existing_session", existing[0] if existing else ""),
    ):
        event = (row[0], row[1], row[2], row[3], row[4], session_id, missing, *row[7:])
        session = (session_id, row[3], row[4], missing, row[1], AUTO_CREATED_CONTEXT, "{}")
        try:
            ingest_batch(conn, cases, [event], [session])
            refused[label] = None
        except psycopg.errors.ForeignKeyViolation as e:
            refused[label] = e.diag.constraint_name
    return {"missing_project": missing, "refused_by": refused}


def _section(
    workload: Workload,
    recorder: _Recorder,
    sizes: Sequence[int],
    settings: AppWritesSettings,
    prefill: int,
    engine: str,
    index_check: dict[str, list[str]],
    commit: dict[str, str],
    fk_check: dict[str, Any],
) -> dict[str, Any]:
    seed, confidence = settings.seed, settings.confidence
    refused = fk_check["refused_by"]
    variants = {}
    for key, samples in recorder.samples.items():
        rows = 1 if key == SINGLE_CASE else int(key.rpartition("@")[2])
        variants[key] = {
            "case": key.partition("@")[0],
            **summarize_variant(samples, rows, seed, confidence, recorder.errors.get(key)),
            "samples_ms": samples,
            # psycopg turning Python values into parameters is part of what the application waits for, but not
            # of what the indexes cost: a high share means the figure is partly the client's.
            "client_cpu_share": {
                role: recorder.client_cpu_ms.get(key, {}).get(role, 0.0)
                / max(sum(v for rep in samples[role] for v in rep if v is not None), 1e-9)
                for role in ROLES
            },
            "rows_offered": recorder.offered.get(key, 0),
            "rows_inserted": recorder.inserted.get(key, 0),
        }
    units = {
        u.name: {
            "title": u.title,
            "per": u.per,
            "batch_rows": u.batch_rows,
            "cases": u.cases,
            "source": u.source,
            **unit_estimate(u, recorder.samples, seed, confidence),
        }
        for u in workload.write_units
    }
    verdicts = [
        variant_verdict(key, variants[key]["case"], variants[key], settings.tolerance_pct)
        for key in [*(variant_key(BATCH_CASE, s) for s in sizes), SINGLE_CASE]
        if key in variants
    ]
    verdicts += [unit_verdict(u, units[u.name], settings.tolerance_pct) for u in workload.write_units]
    conflicts = {
        key: v["rows_offered"] - v["rows_inserted"] for key, v in variants.items() if v["case"] != SESSIONS_CASE
    }
    notes = [
        f"Application-schema variant: {SCHEMA_VARIANT['name']}; deviations are listed in records.schema_variant.",
        f"Scratch copies hold the dataset generator's first {prefill:,} rows; the timed writes are its next rows, "
        "the same on both instances, statement by statement alternating which instance goes first. The measured "
        "agent_events tables are not touched.",
        "Event ids are the generator's fresh v4 UUIDs, as Prisma generates one per row (zod strips the collector's): "
        f"ON CONFLICT DO NOTHING never fired ({sum(conflicts.values())} conflicts over "
        f"{sum(v['rows_offered'] for k, v in variants.items() if k in conflicts):,} rows), so a retried batch is "
        "inserted twice, as in the application.",
        "Parents present: every project exists, and the route's sessions createMany creates each batch's new "
        "sessions (projects are not auto-created). A batch naming a missing project is refused, as the route's "
        f"would be (it answers 400): with a new session by {refused['new_session'] or 'NOTHING'} (the sessions "
        f"insert fails first), with a session already present by {refused['existing_session'] or 'NOTHING'}.",
        "Live batches are usually smaller than 100: the collector flushes every 5 s or at 100 pending events; the "
        "per-1M figure at 100 is the collector's best case.",
        f"One connection per instance, named prepared statements, autocommit, synchronous_commit {commit['after']}; "
        "a repetition's figure is the mean of its statements (GIN's pending-list flushes included).",
    ]
    client_bound = sorted(k for k, v in variants.items() if v["client_cpu_share"]["after"] >= 0.25)
    if client_bound:
        notes.append(
            "client CPU (psycopg adapting the bind parameters) is a quarter or more of the time of "
            + ", ".join(client_bound)
            + ": the index cost is a smaller share of these figures than of the server's own time"
        )
    for key, v in variants.items():
        if v["failure"]:
            notes.append(f"{key}: {v['failure']}")
    for unit_name, row in units.items():
        if row["failure"]:
            notes.append(f"{unit_name}: not estimated: {row['failure']}")
    what_if = {c: r for c, r in workload.what_if.items() if c.startswith("app_ingest")}
    notes += [f"{case} is a what-if: {reason}" for case, reason in what_if.items()]
    return section(
        NAME,
        TITLE,
        verdicts,
        {
            "schema_variant": SCHEMA_VARIANT,
            "workload": {"path": str(workload.path), "application": workload.application, "commit": workload.commit},
            "scratch": {
                "prefill_rows": prefill,
                "engine": engine,
                "index_set_differences": index_check,
                "synchronous_commit": commit,
            },
            "settings": {**asdict(settings), "workload_path": str(settings.workload_path or workload.path)},
            "batch_sizes": list(sizes),
            "variants": variants,
            "units": units,
            "what_if": what_if,
            "conflicts": conflicts,
            "foreign_key_check": fk_check,
        },
        notes,
    )


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, flush=True)
