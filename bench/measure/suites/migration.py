"""Migration safety: what applying schema/migration_phase2.sql does to a live table, measured on a loaded copy.

The design document says the migration is idempotent ("uses DROP INDEX IF EXISTS") and has minimal downtime
("index creation is concurrent-safe"). Both are measured, never assumed:

- a scratch database on the `before` server gets a copy of agent_events with the pre-Phase-2 indexes, filled
  with the dataset generator's first rows (the whole dataset up to a cap);
- while each way of migrating runs, a probe (bench/suites/lock_probe.py) writes one event every 10 ms and reads
  a session timeline every 20 ms on their own connections, and samples which lock they queue for and what
  blocks them. A write stall is the longest time during which no write completed;
- the migration is applied as written in one transaction (how the harness, and a migration runner that sends
  the file as one script, apply it), then a second time to test idempotency, then statement by statement;
- then the alternatives a careful operator would use: CONCURRENTLY added to every statement, and the form that
  works on the engine (per-partition CREATE INDEX CONCURRENTLY + ATTACH PARTITION on native partitions,
  WITH (timescaledb.transaction_per_chunk) on a hypertable).
The copy is put back to the pre-Phase-2 index set between two runs (unprobed) and dropped at the end.
Any other migration (--migration: a candidate, a regression file) gets the first and second application only:
once under the probe the way its header says, then once more the same way (measure_other_migration), with
verdicts of the same names, so `python -m bench candidates` compares write stall and idempotency per candidate.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from bench.core.candidates import Candidate, read_candidate
from bench.core.cases import QUERIES_DIR
from bench.core.engine import Engine
from bench.core.errors import MigrationError
from bench.core.migration import Migration
from bench.core.sql_files import read_statements, split_statements
from bench.core.verdict_words import VerdictWord
from bench.db.candidate_apply import generated_statements
from bench.db.database import TARGET_SCHEMA
from bench.db.instances import Instance, InstancePair
from bench.db.schema import (
    EXPECTED_AFTER,
    MIGRATION_FILE,
    apply_migration,
    compare_index_sets,
    index_definitions,
    index_diff,
    index_set,
    invalid_indexes,
)
from bench.judge.verdicts import Verdict, figure_verdict, judge_blocking
from bench.measure.suites import SuiteContext, section, skipped
from bench.measure.suites.lock_probe import LoadProbe, ProbeSettings, ProbeWorkload, measure_blocking
from bench.measure.suites.scratch import (
    RowStream,
    ScratchUnavailable,
    build_copies,
    generation_spec,
    migration_of,
    scratch_database,
)

NAME = "migration"
TITLE = "migration safety: duration, blocked writes and reads, idempotency, and the non-blocking alternatives"
SQL_DIR = QUERIES_DIR / "migration"
NOT_GATED = "reported, not gated: a statement about how the migration behaves, not a performance target"


@dataclass(frozen=True)
class MigrationSettings:
    copy_rows_cap: int = 500_000
    pool_rows: int = 2_000  # rows the probe's writer cycles through (each written with a fresh id)
    probe: ProbeSettings = field(default_factory=ProbeSettings)


# ---- running statements ---------------------------------------------------------------------------------------


def run_statements(
    conn: psycopg.Connection[Any], statements: list[sql.Composable | str], one_transaction: bool, probe: LoadProbe
) -> list[dict[str, Any]]:
    """Each statement's outcome: seconds, or the server's error. In one transaction the first error rolls
    everything back and the statements after it are not run."""
    outcomes: list[dict[str, Any]] = []
    tx = conn.transaction() if one_transaction else contextlib.nullcontext()
    try:
        with tx:
            for index, statement in enumerate(statements, start=1):
                text = statement if isinstance(statement, str) else statement.as_string(conn)
                with probe.mark(f"statement {index}") as entry:
                    outcome = _execute(conn, text)
                outcomes.append({"statement": index, "sql": text, "start_s": entry["start_s"], **outcome})
                if one_transaction and outcome["error"]:
                    raise _Abort
            if one_transaction:
                commit_started = time.perf_counter()
    except _Abort:
        for index, statement in enumerate(statements[len(outcomes) :], start=len(outcomes) + 1):
            text = statement if isinstance(statement, str) else statement.as_string(conn)
            outcomes.append({"statement": index, "sql": text, "seconds": None, "error": None, "not_run": True})
        return outcomes
    if one_transaction and outcomes:
        outcomes[-1]["commit_s"] = time.perf_counter() - commit_started
    return outcomes


class _Abort(Exception):
    pass


def _execute(conn: psycopg.Connection[Any], text: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        conn.execute(text)
    except psycopg.Error as e:
        return {
            "seconds": time.perf_counter() - started,
            "error": str(e).strip(),
            "sqlstate": e.sqlstate,
        }
    return {"seconds": time.perf_counter() - started, "error": None}


def reapply(conn: psycopg.Connection[Any], path: Path = MIGRATION_FILE) -> dict[str, Any]:
    """Apply a migration file again, statement by statement, to an instance it was already applied to.

    Idempotent means every statement succeeds and the index set is the same afterwards.
    """
    before = index_set(conn)
    outcomes = []
    for index, statement in enumerate(read_statements(path), start=1):
        outcome = _execute(conn, statement)
        outcomes.append({"statement": index, "sql": statement, **outcome})
    unchanged = index_set(conn) == before
    failed = [o for o in outcomes if o["error"]]
    return {
        "file": path.name,
        "idempotent": not failed and unchanged,
        "index_set_unchanged": unchanged,
        "statements": outcomes,
        "failed": [o["statement"] for o in failed],
    }


def reapply_in_one_transaction(conn: psycopg.Connection[Any], path: Path = MIGRATION_FILE) -> dict[str, Any]:
    """The second application the way the harness applies a migration: one transaction, rolled back on error."""
    before = index_set(conn)
    failed_at: int | None = None
    error: str | None = None
    try:
        apply_migration(conn, path)
    except MigrationError as e:
        failed_at, error = e.index, e.server_message.strip()
    return {"failed_at": failed_at, "error": error, "index_set_unchanged": index_set(conn) == before}


def check_idempotency(inst: Instance, path: Path) -> dict[str, Any]:
    """Apply a migration once (it must succeed), then again: the second application's outcome."""
    with inst.connect() as conn:
        for index, statement in enumerate(read_statements(path), start=1):
            outcome = _execute(conn, statement)
            if outcome["error"]:
                return {"file": path.name, "idempotent": False, "first_application_failed": index, **outcome}
        return reapply(conn, path)


# ---- the scenarios ---------------------------------------------------------------------------------------------


def _statements(name: str) -> list[sql.Composable | str]:
    return list(read_statements(SQL_DIR / name))


def _partitioned_concurrently(conn: psycopg.Connection[Any]) -> list[sql.Composable | str]:
    """Parents ON ONLY, every partition CONCURRENTLY + ATTACH, then the drops (bench/queries/migration/)."""
    partitions = [row[0] for row in conn.execute((SQL_DIR / "partitions.sql").read_text())]
    template = split_statements((SQL_DIR / "concurrent_partitions_each.sql").read_text())
    statements: list[sql.Composable | str] = _statements("concurrent_partitions_parents.sql")
    for partition in partitions:
        names = {
            "partition": sql.Identifier(TARGET_SCHEMA, partition),
            "session_index": sql.Identifier(f"{partition}_session_id_timestamp_idx"),
            "project_index": sql.Identifier(f"{partition}_project_id_timestamp_idx"),
            "data_index": sql.Identifier(f"{partition}_data_idx"),
        }
        statements += [sql.SQL(s).format(**names) for s in template]
    return statements + _statements("concurrent_partitions_drops.sql")


@dataclass(frozen=True)
class Scenario:
    key: str
    description: str
    one_transaction: bool
    statements: Callable[[psycopg.Connection[Any]], list[sql.Composable | str]]


AS_WRITTEN_TX = Scenario(
    "as_written_one_transaction",
    "schema/migration_phase2.sql as written, in one transaction (how the harness and a migration runner that "
    "sends the file as one script apply it)",
    True,
    lambda conn: list(read_statements(MIGRATION_FILE)),
)
AS_WRITTEN_STEPS = Scenario(
    "as_written_statement_by_statement",
    "schema/migration_phase2.sql as written, each statement in its own transaction (psql without -1)",
    False,
    lambda conn: list(read_statements(MIGRATION_FILE)),
)
NAIVE_CONCURRENTLY = Scenario(
    "concurrently",
    "every statement with CONCURRENTLY added (bench/queries/migration/concurrently.sql)",
    False,
    lambda conn: _statements("concurrently.sql"),
)
PARTITIONS_CONCURRENTLY = Scenario(
    "per_partition_concurrently",
    "parent indexes ON ONLY, each partition's index CREATE INDEX CONCURRENTLY + ALTER INDEX ATTACH PARTITION, "
    "then plain DROP INDEX (bench/queries/migration/concurrent_partitions_*.sql)",
    False,
    _partitioned_concurrently,
)
TRANSACTION_PER_CHUNK = Scenario(
    "transaction_per_chunk",
    "CREATE INDEX ... WITH (timescaledb.transaction_per_chunk), then DROP INDEX "
    "(bench/queries/migration/transaction_per_chunk.sql)",
    False,
    lambda conn: _statements("transaction_per_chunk.sql"),
)


ALTERNATIVE_NOTES = {
    PARTITIONS_CONCURRENTLY.key: "Per-partition CREATE INDEX CONCURRENTLY takes SHARE UPDATE EXCLUSIVE, which "
    "writes do not queue behind; ATTACH PARTITION and the final plain DROP INDEX lock agent_events only briefly.",
    TRANSACTION_PER_CHUNK.key: "transaction_per_chunk builds one chunk's index per transaction, holding SHARE on "
    "that chunk only: writes into the chunk being indexed wait for that chunk's build (the stall above), writes "
    "into other chunks go on.",
}


def safe_alternative(engine: Engine) -> Scenario:
    return TRANSACTION_PER_CHUNK if engine.is_timescaledb else PARTITIONS_CONCURRENTLY


def run_scenario(
    inst: Instance, scenario: Scenario, workload: ProbeWorkload, settings: ProbeSettings
) -> dict[str, Any]:
    with inst.connect() as conn:
        statements = scenario.statements(conn)

        def action(probe: LoadProbe) -> list[dict[str, Any]]:
            return run_statements(conn, statements, scenario.one_transaction, probe)

        outcomes, probe = measure_blocking(inst, action, workload, settings)
        differences = compare_index_sets(index_set(conn), EXPECTED_AFTER)
    failed = [o for o in outcomes if o.get("error")]
    return scenario_result(
        scenario.key,
        scenario.description,
        scenario.one_transaction,
        outcomes,
        probe,
        first_error=failed[0]["error"] if failed else None,
        completed=not failed and not differences,
        index_set_differences=differences,
    )


def scenario_result(
    key: str,
    description: str,
    one_transaction: bool,
    outcomes: list[dict[str, Any]],
    probe: dict[str, Any],
    first_error: str | None,
    completed: bool,
    **checks: Any,
) -> dict[str, Any]:
    """One probed application of a migration as the suite records it: its statements (condensed past 20), how
    long the action ran, its first error, the checks made on its result and what the probe saw."""
    action_mark = next(m for m in probe["statements"] if m["label"] == "action")
    return {
        "scenario": key,
        "description": description,
        "one_transaction": one_transaction,
        "completed": completed,
        "duration_s": action_mark["end_s"] - action_mark["start_s"],
        "statement_count": len(outcomes),
        "statements": outcomes if len(outcomes) <= 20 else _condense(outcomes),
        "first_error": first_error,
        **checks,
        "probe": probe,
    }


def _condense(outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Hundreds of per-partition statements: keep the slowest and the failures, say how many were left out."""
    keep = {id(o) for o in sorted(outcomes, key=lambda o: -(o["seconds"] or 0))[:10]}
    keep |= {id(o) for o in outcomes if o.get("error")}
    kept = [o for o in outcomes if id(o) in keep]
    return [*kept, {"omitted": len(outcomes) - len(kept), "total_s": sum(o["seconds"] or 0 for o in outcomes)}]


def _revert(inst: Instance) -> None:
    with inst.connect() as conn:
        for statement in read_statements(SQL_DIR / "revert_phase2.sql"):
            conn.execute(statement)


# ---- verdicts --------------------------------------------------------------------------------------------------


def _stall_words(result: dict[str, Any]) -> str:
    writes, reads = result["probe"]["writes"], result["probe"]["reads"]
    waits = result["probe"]["lock_waits"]
    words = (
        f"max write stall {writes['max_gap_ms']:,.0f} ms, {writes['blocked']} of {writes['count']} writes blocked "
        f"> {result['probe']['settings']['stall_ms']:.0f} ms ({writes['blocked_ms_total'] / 1000:,.1f} s in total); "
        f"max read stall {reads['max_gap_ms']:,.0f} ms"
    )
    for who in ("writer", "reader"):
        if waits[who]["samples"]:
            words += (
                f"; {who} queued for a lock in {waits[who]['samples']} samples (~{waits[who]['approx_ms']:,.0f} ms): "
                f"{waits[who]['causes'][0]['cause']}"
            )
        else:
            words += f"; no lock wait of the {who} sampled"
    return words + f"; migration ran {result['duration_s']:.2f} s"


def blocking_verdict(name: str, result: dict[str, Any], bound_ms: float) -> Verdict:
    writes = result["probe"]["writes"]
    lock_wait_seen = result["probe"]["lock_waits"]["writer"]["samples"] > 0
    verdict = judge_blocking(writes["max_gap_ms"], lock_wait_seen, bound_ms)
    if result["first_error"]:
        verdict = VerdictWord.FAILED
    return figure_verdict(
        promise=name,
        kind="claim",
        verdict=verdict,
        value=writes["max_gap_ms"],
        reason=NOT_GATED,
        evidence=f"{result['description']}: {_stall_words(result)}"
        + (f"; failed: {result['first_error']}" if result["first_error"] else ""),
        bound=bound_ms,
    )


def idempotency_verdict(
    outcome: dict[str, Any], one_transaction: dict[str, Any] | None = None, first_error: str | None = None
) -> Verdict:
    if first_error:
        return _idempotency(verdict=VerdictWord.FAILED, evidence=f"the first application already failed: {first_error}")
    passed = [o["statement"] for o in outcome["statements"] if not o["error"] and not o.get("not_run")]
    failed = [o for o in outcome["statements"] if o["error"]]
    if failed:
        first = failed[0]
        evidence = (
            f"second application of {outcome['file']}: statements {_list(passed)} passed, statement "
            f"{first['statement']} failed with SQLSTATE {first.get('sqlstate')}: {first['error']} "
            f"({len(failed)} of {len(outcome['statements'])} statements failed)"
        )
        if one_transaction and one_transaction["failed_at"]:
            evidence += (
                f"; applied as one transaction it fails at statement {one_transaction['failed_at']} and rolls back, "
                f"index set {'unchanged' if one_transaction['index_set_unchanged'] else 'CHANGED'}"
            )
    else:
        evidence = (
            f"second application of {outcome['file']}: all {len(passed)} statements passed, index set "
            f"{'unchanged' if outcome['index_set_unchanged'] else 'CHANGED'}"
        )
    verdict = VerdictWord.HELD if outcome["idempotent"] else VerdictWord.NOT_HELD
    return _idempotency(verdict=verdict, evidence=evidence)


def _idempotency(verdict: VerdictWord, evidence: str) -> Verdict:
    return figure_verdict(
        promise="migration_idempotent",
        kind="claim",
        verdict=verdict,
        value=None,
        reason=NOT_GATED,
        evidence=evidence,
    )


def duration_verdict(result: dict[str, Any], copy_rows: int, dataset_rows: int) -> Verdict:
    seconds = result["duration_s"]
    per_million = seconds / copy_rows * 1e6
    steps = ", ".join(f"#{o['statement']} {o['seconds']:.2f}s" for o in result["statements"] if o.get("seconds"))
    scale = "" if copy_rows >= dataset_rows else f"; the dataset has {dataset_rows:,} rows"
    return figure_verdict(
        promise="migration_duration",
        kind="max",
        verdict=VerdictWord.FAILED if result["first_error"] else VerdictWord.REPORTED,
        value=seconds,
        reason="reported, not gated: the design document states no duration",
        evidence=f"{seconds:.2f} s on {copy_rows:,} rows ({per_million:,.1f} s per million rows{scale}) under "
        f"the probe's load, {'one transaction' if result['one_transaction'] else 'one statement per transaction'}; "
        f"statements: {steps}",
    )


def _list(numbers: list[int]) -> str:
    return ", ".join(str(n) for n in numbers) if numbers else "none"


# ---- the suite -------------------------------------------------------------------------------------------------


def run(ctx: SuiteContext) -> dict[str, Any]:
    try:
        migration = migration_of(ctx.dataset)
        if not migration.is_phase2:
            return measure_other_migration(ctx.pair, ctx.dataset, migration, MigrationSettings(), ctx.progress)
        return measure_migration(ctx.pair, ctx.dataset, MigrationSettings(), ctx.progress)
    except ScratchUnavailable as e:
        return skipped(NAME, TITLE, str(e))


@contextlib.contextmanager
def probed_copy(
    pair: InstancePair, dataset: dict[str, Any], copy_rows: int, settings: MigrationSettings, progress: bool
) -> Iterator[tuple[Instance, ProbeWorkload]]:
    """A scratch database on `before` with the dataset's first copy_rows rows and the pre-Phase-2 indexes, and the
    rows that follow them for the probe's writer; dropped on the way out."""
    spec = generation_spec(dataset, copy_rows + settings.pool_rows)
    stream = RowStream(spec)
    with scratch_database(pair.before, NAME) as inst:
        _say(progress, f"  migration: copy of {copy_rows:,} rows with the pre-Phase-2 indexes ...")
        build_copies([inst], pair.engine, spec, stream, copy_rows, [False], progress)
        yield inst, ProbeWorkload.from_stream(stream, settings.pool_rows)


def _section(
    verdicts: list[Verdict], notes: list[str], copy_rows: int, dataset_rows: int, engine: Engine, **records: Any
) -> dict[str, Any]:
    """The suite's section: its verdicts, the copy it measured on and what each application recorded, and its notes
    after the one on the copy."""
    copy = {"copy_rows": copy_rows, "dataset_rows": dataset_rows, "engine": engine.name}
    return section(NAME, TITLE, verdicts, {**copy, **records}, [_copy_note(copy_rows, dataset_rows, engine), *notes])


def _copy_note(copy_rows: int, dataset_rows: int, engine: Engine) -> str:
    whole = " (the whole dataset)" if copy_rows >= dataset_rows else f" (the dataset's first; it has {dataset_rows:,})"
    return (
        f"Measured on a scratch copy of {copy_rows:,} rows{whole}, engine {engine.label}; the measured agent_events "
        "tables are not touched."
    )


def measure_migration(
    pair: InstancePair, dataset: dict[str, Any], settings: MigrationSettings, progress: bool = False
) -> dict[str, Any]:
    dataset_rows = int(dataset["rows"])
    copy_rows = min(dataset_rows, settings.copy_rows_cap)
    bound = settings.probe.stall_ms
    scenarios = [AS_WRITTEN_TX, AS_WRITTEN_STEPS, NAIVE_CONCURRENTLY, safe_alternative(pair.engine)]
    results: dict[str, Any] = {}
    with probed_copy(pair, dataset, copy_rows, settings, progress) as (inst, workload):
        for number, scenario in enumerate(scenarios):
            if number:
                _revert(inst)
            _say(progress, f"  migration: {scenario.key} under a writer and a reader ...")
            results[scenario.key] = run_scenario(inst, scenario, workload, settings.probe)
            if scenario is AS_WRITTEN_TX:
                with inst.connect() as conn:
                    results["second_application"] = reapply(conn)
                    results["second_application_one_transaction"] = reapply_in_one_transaction(conn)
        alternative = safe_alternative(pair.engine)
        with inst.connect() as conn:
            results["alternative_second_application"] = _reapply_scenario(conn, alternative)
    first = results[AS_WRITTEN_TX.key]
    verdicts = [
        idempotency_verdict(
            results["second_application"], results["second_application_one_transaction"], first["first_error"]
        ),
        blocking_verdict("migration_non_blocking", first, bound),
        duration_verdict(first, copy_rows, dataset_rows),
        blocking_verdict(f"{alternative.key}_non_blocking", results[alternative.key], bound),
    ]
    notes = [
        f"Probe: one INSERT every {settings.probe.write_interval_s * 1000:.0f} ms and one session timeline read "
        f"every {settings.probe.read_interval_s * 1000:.0f} ms; a stall is the longest time without a completed "
        f"write; 'non-blocking' holds when it stays within {bound:.0f} ms.",
    ]
    for key in (AS_WRITTEN_STEPS.key, NAIVE_CONCURRENTLY.key):
        result = results[key]
        status = f"failed: {result['first_error']}" if result["first_error"] else _stall_words(result)
        notes.append(f"{result['description']}: {status}")
    one_tx, steps = results[AS_WRITTEN_TX.key]["probe"], results[AS_WRITTEN_STEPS.key]["probe"]
    reads = (
        f"Reads: max read stall {one_tx['reads']['max_gap_ms']:,.0f} ms in one transaction against "
        f"{steps['reads']['max_gap_ms']:,.0f} ms statement by statement."
    )
    if one_tx["lock_waits"]["reader"]["samples"]:
        reads += (
            f" In one transaction the reader {one_tx['lock_waits']['reader']['causes'][0]['cause'].split(';')[0]}: "
            "the DROP INDEX at the start holds its ACCESS EXCLUSIVE lock on agent_events until COMMIT, so reads "
            "wait for the whole migration too."
        )
    notes.append(reads)
    notes.append(ALTERNATIVE_NOTES[alternative.key])
    return _section(
        verdicts, notes, copy_rows, dataset_rows, pair.engine, safe_alternative=alternative.key, scenarios=results
    )


# ---- any other migration: the file run the way its header says, under the same probe ---------------------------


def run_candidate_steps(
    conn: psycopg.Connection[Any],
    candidate: Candidate,
    probe: LoadProbe | None = None,
    keep_going: bool = False,
) -> list[dict[str, Any]]:
    """Each statement's outcome, run the way the file's header says (as bench.db.candidate_apply runs it): a
    `\\gexec` query is run when its turn comes and each cell it returns is a statement. In one transaction the
    first error rolls everything back and the plain statements after it are listed as not run. Otherwise the first
    error stops the file too, unless keep_going (psql without ON_ERROR_STOP: a second application's evidence lists
    every statement that fails)."""
    outcomes: list[dict[str, Any]] = []
    stop = candidate.one_transaction or not keep_going

    def record(text: str, outcome: dict[str, Any], start_s: float | None) -> None:
        outcomes.append({"statement": len(outcomes) + 1, "sql": text, "start_s": start_s, **outcome})
        if outcome["error"] and stop:
            raise _Abort

    def execute(text: str) -> None:
        mark = probe.mark(f"statement {len(outcomes) + 1}") if probe else contextlib.nullcontext({"start_s": None})
        with mark as entry:
            outcome = _execute(conn, text)
        record(text, outcome, entry["start_s"])

    done = 0
    tx = conn.transaction() if candidate.one_transaction else contextlib.nullcontext()
    with contextlib.suppress(_Abort), tx:
        for done, step in enumerate(candidate.steps, start=1):  # noqa: B007 - `done` says where an abort stopped
            if not step.generator:
                execute(step.sql)
                continue
            try:
                generated = generated_statements(conn, step)
            except psycopg.Error as e:
                record(step.sql, {"seconds": 0.0, "error": str(e).strip(), "sqlstate": e.sqlstate}, None)
                continue
            for text in generated:
                execute(text)
    if candidate.one_transaction:
        for step in candidate.steps[done:]:
            outcomes.append(
                {"statement": len(outcomes) + 1, "sql": step.sql, "seconds": None, "error": None, "not_run": True}
            )
    return outcomes


def measure_other_migration(
    pair: InstancePair, dataset: dict[str, Any], migration: Migration, settings: MigrationSettings, progress: bool
) -> dict[str, Any]:
    """A migration other than Phase 2 (a candidate, a regression file): applied once under the probe the way its
    header says (one transaction, or `-- transaction: none`), then a second time the same way. Verdicts:
    idempotent, non-blocking, duration, under the same names as Phase 2's, so candidates compare column by column."""
    candidate = read_candidate(migration.path)
    dataset_rows = int(dataset["rows"])
    copy_rows = min(dataset_rows, settings.copy_rows_cap)
    how = "in one transaction" if candidate.one_transaction else "one statement per transaction (-- transaction: none)"
    description = f"{migration.path.name} {how}"
    with probed_copy(pair, dataset, copy_rows, settings, progress) as (inst, workload):
        _say(progress, f"  migration: {migration.label} under a writer and a reader ...")
        with inst.connect() as conn:
            indexes_before = index_definitions(conn)

            def action(probe: LoadProbe) -> list[dict[str, Any]]:
                return run_candidate_steps(conn, candidate, probe)

            outcomes, probe = measure_blocking(inst, action, workload, settings.probe)
            indexes_after = index_definitions(conn)
            invalid = invalid_indexes(conn)
            second = run_candidate_steps(conn, candidate, keep_going=True)
            indexes_again = index_definitions(conn)
    failed = [o for o in outcomes if o.get("error")]
    first_error = failed[0]["error"] if failed else None
    if first_error is None and invalid:
        first_error = f"it ran without an error but left invalid indexes the planner cannot use: {', '.join(invalid)}"
    result = scenario_result(
        "as_shipped",
        description,
        candidate.one_transaction,
        outcomes,
        probe,
        first_error=first_error,
        completed=first_error is None,
        invalid_indexes=invalid,
        index_diff=index_diff(indexes_before, indexes_after),
    )
    unchanged = indexes_again == indexes_after
    second_outcome = {
        "file": migration.path.name,
        "idempotent": not any(o["error"] for o in second) and unchanged,
        "index_set_unchanged": unchanged,
        "statements": second,
        "failed": [o["statement"] for o in second if o["error"]],
    }
    bound = settings.probe.stall_ms
    verdicts = [
        idempotency_verdict(second_outcome, None, result["first_error"]),
        blocking_verdict("migration_non_blocking", result, bound),
        duration_verdict(result, copy_rows, dataset_rows),
    ]
    notes = [
        f"The migration under test is {migration.describe()}: applied {how} under the probe (one INSERT every "
        f"{settings.probe.write_interval_s * 1000:.0f} ms, one session timeline read every "
        f"{settings.probe.read_interval_s * 1000:.0f} ms; 'non-blocking' holds when no write waits more than "
        f"{bound:.0f} ms), then applied again the same way for idempotency. Phase 2's extra scenarios "
        "(CONCURRENTLY, the engine's safe form, the revert) are run only when Phase 2 is the migration under test.",
    ]
    scenarios = {"as_shipped": result, "second_application": second_outcome}
    return _section(
        verdicts, notes, copy_rows, dataset_rows, pair.engine, migration=migration.to_dict(), scenarios=scenarios
    )


def _reapply_scenario(conn: psycopg.Connection[Any], scenario: Scenario) -> dict[str, Any]:
    """Is the operator's alternative itself idempotent? Run it again on its own result."""
    before = index_set(conn)
    failed = []
    for statement in scenario.statements(conn):
        text = statement if isinstance(statement, str) else statement.as_string(conn)
        outcome = _execute(conn, text)
        if outcome["error"]:
            failed.append({"sql": text, **outcome})
    return {"idempotent": not failed and index_set(conn) == before, "failed": failed[:5]}


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, flush=True)
