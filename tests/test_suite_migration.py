"""The migration suite: a known injected lock comes out as a write stall at least that long, idempotency is
detected both ways, and the suite's scenarios run on a loaded copy without touching the measured table."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from bench.core.migration import read_migration
from bench.db.instances import Instance, InstancePair
from bench.db.schema import EXPECTED_BEFORE, compare_index_sets, create_indexes_before, create_table, index_set
from bench.judge.verdicts import judge_blocking
from bench.load.loader import require_loaded
from bench.measure.suites.lock_probe import LoadProbe, ProbeWorkload, _traffic_summary, measure_blocking
from bench.measure.suites.migration import (
    MigrationSettings,
    check_idempotency,
    measure_migration,
    measure_other_migration,
)
from bench.measure.suites.scratch import RowStream, generation_spec
from generators.shape import DatasetSpec

HOLD_S = 1.0


def prepared_copy(inst: Instance, engine: Any, spec: DatasetSpec) -> ProbeWorkload:
    """agent_events with the pre-Phase-2 indexes and no rows, and the rows the probe will write into it."""
    with inst.connect() as conn:
        create_table(conn, engine, spec.window_start, spec.reference_instant)
        create_indexes_before(conn)
    return ProbeWorkload.from_stream(RowStream(spec), 200)


def test_a_held_share_lock_comes_out_as_a_write_stall_at_least_as_long(
    scratch_pair: InstancePair, ci_spec: DatasetSpec
) -> None:
    inst = scratch_pair.before
    workload = prepared_copy(inst, scratch_pair.engine, ci_spec)

    def hold_share_lock(probe: LoadProbe) -> None:
        with inst.connect() as conn, conn.transaction():
            conn.execute("LOCK TABLE agent_events IN SHARE MODE")
            time.sleep(HOLD_S)

    _, report = measure_blocking(inst, hold_share_lock, workload)

    writes = report["writes"]
    # No write can complete while SHARE is held, so the longest time without one is at least the hold
    # (minus the few milliseconds the writer thread may take to notice its last completion before it).
    assert writes["max_gap_ms"] >= HOLD_S * 1000 * 0.95
    assert writes["errors"] == 0 and writes["blocked"] >= 1
    causes = report["lock_waits"]["writer"]["causes"]
    assert causes and "RowExclusiveLock on agent_events" in causes[0]["cause"]
    assert "LOCK TABLE agent_events IN SHARE MODE" in causes[0]["cause"]
    # SHARE does not conflict with the reader's ACCESS SHARE: reads go on.
    assert report["lock_waits"]["reader"]["samples"] == 0


def test_idempotency_check_catches_a_plain_create_index(scratch_pair: InstancePair, tmp_path: Path) -> None:
    inst = scratch_pair.before
    with inst.connect() as conn:
        create_table(conn, scratch_pair.engine, *_window())
    migration = tmp_path / "not_idempotent.sql"
    migration.write_text(
        'DROP INDEX IF EXISTS "agent_events_severity_idx";\n'
        'CREATE INDEX "agent_events_severity_agent_idx" ON "agent_events"("severity", "agent_id");\n'
    )
    outcome = check_idempotency(inst, migration)

    assert not outcome["idempotent"]
    assert outcome["failed"] == [2]
    failure = outcome["statements"][1]
    assert failure["sqlstate"] == "42P07" and "already exists" in failure["error"]
    assert outcome["statements"][0]["error"] is None


def test_idempotency_check_passes_if_not_exists(scratch_pair: InstancePair, tmp_path: Path) -> None:
    inst = scratch_pair.before
    with inst.connect() as conn:
        create_table(conn, scratch_pair.engine, *_window())
    migration = tmp_path / "idempotent.sql"
    migration.write_text(
        'DROP INDEX IF EXISTS "agent_events_severity_idx";\n'
        'CREATE INDEX IF NOT EXISTS "agent_events_severity_agent_idx" ON "agent_events"("severity", "agent_id");\n'
    )
    outcome = check_idempotency(inst, migration)

    assert outcome["idempotent"] and outcome["index_set_unchanged"] and outcome["failed"] == []


def _window() -> tuple[Any, Any]:
    spec = DatasetSpec(rows=1_000)
    return spec.window_start, spec.reference_instant


@pytest.mark.parametrize(
    ("stall", "lock_seen", "expected"),
    [(50.0, False, "held"), (50.0, True, "held"), (1_500.0, True, "not held"), (1_500.0, False, "inconclusive")],
)
def test_judge_blocking(stall: float, lock_seen: bool, expected: str) -> None:
    assert judge_blocking(stall, lock_seen, 100.0) == expected


def test_traffic_summary_from_given_operations() -> None:
    # (start, end) in seconds: a 1.2 s write in the middle of 10 ms ones
    ops: list[tuple[float, float, str | None]] = [(0.00, 0.001, None), (0.01, 0.011, None), (0.02, 1.22, None)]
    ops += [(1.23, 1.231, None), (1.24, 1.241, "QueryCanceled: canceled")]
    summary = _traffic_summary(ops, stall_ms=100.0)

    assert summary["count"] == 5 and summary["errors"] == 1
    assert summary["max_gap_ms"] == pytest.approx(1_209.0)
    assert summary["max_latency_ms"] == pytest.approx(1_200.0)
    assert summary["blocked"] == 1 and summary["blocked_ms_total"] == pytest.approx(1_200.0)


SMALL = MigrationSettings(copy_rows_cap=5_000, pool_rows=200)


def _check_section(section: dict[str, Any], alternative: str) -> dict[str, Any]:
    verdicts = {v["promise"]: v for v in section["verdicts"]}
    assert set(verdicts) == {
        "migration_idempotent",
        "migration_non_blocking",
        "migration_duration",
        f"{alternative}_non_blocking",
    }
    assert all(not v["gated"] for v in verdicts.values())
    assert verdicts["migration_idempotent"]["verdict"] in ("held", "not held")
    scenarios = section["records"]["scenarios"]
    for key in ("as_written_one_transaction", "as_written_statement_by_statement", "concurrently", alternative):
        assert scenarios[key]["probe"]["writes"]["count"] > 0, key
        assert scenarios[key]["probe"]["reads"]["count"] > 0, key
    # the operator's alternative is ours to get right: it must end with the design document's index set
    assert scenarios[alternative]["completed"], scenarios[alternative]["first_error"]
    assert section["records"]["scenarios"]["alternative_second_application"]["idempotent"]
    return scenarios


@pytest.mark.slow
def test_suite_on_a_copy_of_the_ci_preset(loaded_pair: InstancePair) -> None:
    with loaded_pair.before.connect() as conn:
        untouched = (conn.execute("SELECT count(*) FROM agent_events").fetchone(), index_set(conn))
    section = measure_migration(loaded_pair, require_loaded(loaded_pair), SMALL)

    scenarios = _check_section(section, "per_partition_concurrently")
    assert section["records"]["copy_rows"] == 5_000
    # PostgreSQL 15 cannot build an index on a partitioned table concurrently
    assert "concurrently" in (scenarios["concurrently"]["first_error"] or "")
    with loaded_pair.before.connect() as conn:
        assert (conn.execute("SELECT count(*) FROM agent_events").fetchone(), index_set(conn)) == untouched
        assert compare_index_sets(index_set(conn), EXPECTED_BEFORE) == []
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE 'phase2_bench_scratch%'").fetchone()
    assert left == (0,)


@pytest.mark.slow
@pytest.mark.timescaledb
def test_suite_on_a_hypertable(timescaledb_pair: InstancePair, ci_spec: DatasetSpec) -> None:
    dataset = {"rows": ci_spec.rows, "spec": ci_spec.to_dict()}
    section = measure_migration(timescaledb_pair, dataset, SMALL)

    scenarios = _check_section(section, "transaction_per_chunk")
    assert "hypertables do not support concurrent index creation" in (scenarios["concurrently"]["first_error"] or "")


def test_generation_spec_keeps_the_dataset_when_it_is_long_enough(ci_spec: DatasetSpec) -> None:
    dataset = {"rows": ci_spec.rows, "spec": ci_spec.to_dict()}
    assert generation_spec(dataset, 10_000).fingerprint() == ci_spec.fingerprint()
    longer = generation_spec(dataset, 80_000)
    assert longer.rows == 80_000 and longer.project_count == ci_spec.project_count


# ---- any other migration: a candidate, a regression file ------------------------------------------------------


def _other(pair: InstancePair, spec: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
    section = measure_other_migration(pair, require_loaded(pair), read_migration(spec), SMALL, progress=False)
    return {v["promise"]: v for v in section["verdicts"]}, section["records"]["scenarios"]


@pytest.mark.slow
def test_another_migration_gets_stall_idempotency_and_duration(loaded_pair: InstancePair, tmp_path: Path) -> None:
    """The safe partitions file (its \\gexec cells run per partition) holds both claims; a plain CREATE INDEX is
    not idempotent, with the server's SQLSTATE; a broken file fails both, never passes; before is not touched."""
    with loaded_pair.before.connect() as conn:
        untouched = index_set(conn)
    verdicts, scenarios = _other(loaded_pair, "phase2_safe_partitions")
    assert set(verdicts) == {"migration_idempotent", "migration_non_blocking", "migration_duration"}
    assert verdicts["migration_idempotent"]["verdict"] == "held", verdicts["migration_idempotent"]["evidence"]
    assert verdicts["migration_non_blocking"]["point"] is not None
    shipped = scenarios["as_shipped"]
    assert shipped["completed"] and not shipped["one_transaction"]
    assert shipped["statement_count"] > 10  # the generator's per-partition CREATE INDEX CONCURRENTLY + ATTACH
    assert shipped["probe"]["writes"]["count"] > 0
    assert {i["name"] for i in shipped["index_diff"]["added"]} >= {
        "agent_events_session_id_timestamp_idx",
        "agent_events_project_id_timestamp_idx",
    }

    plain = tmp_path / "plain.sql"
    plain.write_text("CREATE INDEX plain_severity_idx ON agent_events (severity);\n")
    verdicts, scenarios = _other(loaded_pair, plain)
    assert verdicts["migration_idempotent"]["verdict"] == "not held"
    assert "SQLSTATE 42P07" in verdicts["migration_idempotent"]["evidence"]  # relation already exists
    assert scenarios["as_shipped"]["one_transaction"] and scenarios["as_shipped"]["completed"]

    half_done = tmp_path / "half_done.sql"  # a parent index no partition is attached to stays invalid
    half_done.write_text("CREATE INDEX IF NOT EXISTS half_done_idx ON ONLY agent_events (severity);\n")
    verdicts, scenarios = _other(loaded_pair, half_done)
    assert scenarios["as_shipped"]["invalid_indexes"] == ["half_done_idx"]
    assert verdicts["migration_idempotent"]["verdict"] == "failed"
    assert "left invalid indexes" in scenarios["as_shipped"]["first_error"]

    locked = tmp_path / "locked.sql"  # LOCK TABLE works only in a transaction: applied twice the way it says
    locked.write_text(
        "LOCK TABLE agent_events IN SHARE MODE;\nCREATE INDEX IF NOT EXISTS locked_idx ON agent_events (severity);\n"
    )
    verdicts, scenarios = _other(loaded_pair, locked)
    assert verdicts["migration_idempotent"]["verdict"] == "held", verdicts["migration_idempotent"]["evidence"]
    assert [o["error"] for o in scenarios["second_application"]["statements"]] == [None, None]

    rolled_back = tmp_path / "rolled_back.sql"  # one transaction: the first index goes with the failing second
    rolled_back.write_text(
        "CREATE INDEX first_idx ON agent_events (severity);\n"
        "CREATE INDEX second_idx ON agent_events (no_such_column);\n"
        "CREATE INDEX third_idx ON agent_events (event_type);\n"
    )
    verdicts, scenarios = _other(loaded_pair, rolled_back)
    shipped = scenarios["as_shipped"]
    assert shipped["index_diff"]["added"] == [] and "no_such_column" in shipped["first_error"]
    assert [o.get("not_run", False) for o in shipped["statements"]] == [False, False, True]

    generator = tmp_path / "generator.sql"  # a \gexec query that fails stops a no-transaction file there
    generator.write_text(
        "-- promises: none\n-- transaction: none\nSELECT no_such_function() \\gexec\n"
        "CREATE INDEX IF NOT EXISTS after_generator_idx ON agent_events (severity);\n"
    )
    verdicts, scenarios = _other(loaded_pair, generator)
    assert "no_such_function" in scenarios["as_shipped"]["first_error"]
    assert scenarios["as_shipped"]["index_diff"]["added"] == []
    assert verdicts["migration_idempotent"]["verdict"] == "failed"

    broken = tmp_path / "broken.sql"
    broken.write_text("CREATE INDEX broken_idx ON agent_events (no_such_column);\n")
    verdicts, scenarios = _other(loaded_pair, broken)
    assert verdicts["migration_idempotent"]["verdict"] == "failed"
    assert verdicts["migration_non_blocking"]["verdict"] == "failed"
    assert "no_such_column" in scenarios["as_shipped"]["first_error"]
    with loaded_pair.before.connect() as conn:
        assert index_set(conn) == untouched


@pytest.mark.slow
@pytest.mark.timescaledb
def test_another_migration_on_a_hypertable(timescaledb_pair: InstancePair, ci_spec: DatasetSpec) -> None:
    dataset = {"rows": ci_spec.rows, "spec": ci_spec.to_dict()}
    section = measure_other_migration(
        timescaledb_pair, dataset, read_migration("phase2_safe_timescaledb"), SMALL, progress=False
    )
    verdicts = {v["promise"]: v for v in section["verdicts"]}
    assert verdicts["migration_idempotent"]["verdict"] == "held", verdicts["migration_idempotent"]["evidence"]
    shipped = section["records"]["scenarios"]["as_shipped"]
    assert shipped["completed"] and not shipped["one_transaction"]
    assert verdicts["migration_non_blocking"]["point"] == shipped["probe"]["writes"]["max_gap_ms"]
    assert verdicts["migration_non_blocking"]["verdict"] in ("held", "not held", "inconclusive")
    assert (
        shipped["probe"]["writes"]["count"] > 0
        and "one statement per transaction" in (verdicts["migration_duration"]["evidence"])
    )
