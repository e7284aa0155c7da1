"""The app_writes suite on real servers: the application-schema variant with its foreign keys, the route's
statements refusing a missing parent as the application's would, a well-formed section with the measured table
untouched, and the figures computed correctly from given samples (no timing thresholds)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.core.workload import Unit
from bench.db.database import read_meta
from bench.db.instances import Instance, InstancePair
from bench.db.schema import create_indexes_before, create_table, index_set
from bench.judge.app_writes import summarize_variant, unit_estimate, variant_key, variant_verdict
from bench.load.loader import require_loaded
from bench.measure.suites.app import AppSettings, measure_app_workload
from bench.measure.suites.app_writes import (
    AUTO_CREATED_CONTEXT,
    SCHEMA_VARIANT,
    AppWritesSettings,
    build_app_schema,
    create_one,
    ingest_batch,
    measure_app_writes,
    session_rows,
    write_cases,
)
from bench.measure.suites.scratch import COPY_SQL, SCRATCH_PREFIX, RowStream, insert_rows
from bench.measure.timing import MeasureSettings
from bench.report.app_section import TITLE, format_app_section
from bench.report.document import markdown_report
from bench.report.figures import FIGURES, SUITE_FIGURES
from generators.copy_format import encode_copy_text
from generators.shape import spec_from_args

QUICK = AppWritesSettings(
    seed=7, prefill_cap=5_000, repetitions=3, warmup_repetitions=1, rows_per_batch_size=2_000, single_rows=20
)
ROLES = ("before", "after")
STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"  # a real ci-preset results document


# ==== the application-schema variant on a scratch database ======================================================
@pytest.fixture
def app_schema(scratch_pair: InstancePair) -> tuple[Instance, RowStream, int]:
    """agent_events (pre-Phase-2 indexes) with 2,000 generated rows and the application's parent tables and keys."""
    spec = spec_from_args(5_000, None, 3)
    stream = RowStream(spec)
    inst = scratch_pair.before
    with inst.connect() as conn:
        create_table(conn, scratch_pair.engine, spec.window_start, spec.reference_instant)
        with conn.cursor().copy(COPY_SQL) as copy:
            copy.write(encode_copy_text(stream.take(2_000)))
        create_indexes_before(conn)
        build_app_schema(conn, spec.project_count)
    return inst, stream, spec.project_count


def constraints(conn: psycopg.Connection[Any]) -> dict[str, str]:
    rows = conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE contype = 'f' AND conrelid IN ('public.agent_events'::regclass, 'public.agent_sessions'::regclass)"
    )
    return {name: definition for name, definition in rows}


def test_the_variant_has_the_prisma_schema_foreign_keys(app_schema: tuple[Instance, RowStream, int]) -> None:
    inst, _, projects = app_schema
    with inst.connect() as conn:
        found = constraints(conn)
        assert found["agent_events_session_id_fkey"].startswith(
            "FOREIGN KEY (session_id) REFERENCES agent_sessions(id)"
        )
        assert "ON DELETE CASCADE" in found["agent_events_session_id_fkey"]
        assert found["agent_events_project_id_fkey"].startswith("FOREIGN KEY (project_id) REFERENCES projects(id)")
        assert found["agent_events_chatSessionId_fkey"].startswith('FOREIGN KEY ("chatSessionId") REFERENCES')
        assert "ON DELETE SET NULL" in found["agent_events_chatSessionId_fkey"]
        assert found["agent_sessions_project_id_fkey"].startswith("FOREIGN KEY (project_id) REFERENCES projects(id)")
        assert conn.execute("SELECT count(*) FROM projects").fetchone() == (projects,)
        # every copied row found its session, or the foreign key could not have been added
        sessions = conn.execute("SELECT count(DISTINCT session_id) FROM agent_events").fetchone()
        assert conn.execute("SELECT count(*) FROM agent_sessions").fetchone() == sessions
        assert conn.execute('SELECT count("chatSessionId") FROM agent_events').fetchone() == (0,)
    assert any("chatSessionId" in d for d in SCHEMA_VARIANT["deviations"])
    assert any("devlog_projects" in d for d in SCHEMA_VARIANT["deviations"])


def test_a_batch_with_a_missing_project_fails_as_the_route_does(app_schema: tuple[Instance, RowStream, int]) -> None:
    inst, stream, projects = app_schema
    cases = write_cases()
    batch = stream.take(5)
    missing = projects + 1
    rows = [(*r[:6], missing, *r[7:]) for r in insert_rows(batch)]
    new_session = str(uuid.uuid4())
    with inst.connect() as conn:
        before = conn.execute("SELECT count(*) FROM agent_events").fetchone()
        # the route creates the batch's sessions first: a new session in a missing project fails right there
        sessions = [(new_session, "claude-code", "1.0", missing, rows[0][1], AUTO_CREATED_CONTEXT, "{}")]
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as err:
            ingest_batch(conn, cases, [(*r[:5], new_session, *r[6:]) for r in rows], sessions)
        assert err.value.diag.constraint_name == "agent_sessions_project_id_fkey"
        # a session already present is skipped by ON CONFLICT DO NOTHING, and the events' own key refuses them
        existing = conn.execute("SELECT id::text, project_id FROM agent_sessions LIMIT 1").fetchone()
        assert existing is not None
        sessions = [(existing[0], "claude-code", "1.0", existing[1], rows[0][1], AUTO_CREATED_CONTEXT, "{}")]
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as err:
            ingest_batch(conn, cases, [(*r[:5], existing[0], *r[6:]) for r in rows], sessions)
        assert err.value.diag.constraint_name == "agent_events_project_id_fkey"
        # the single-event route creates no session: an unknown one fails on the session key (the route's 500)
        row = insert_rows(stream.take(1))[0]
        with pytest.raises(psycopg.errors.ForeignKeyViolation) as err:
            create_one(conn, cases, (*row[:5], str(uuid.uuid4()), *row[6:]))
        assert err.value.diag.constraint_name == "agent_events_session_id_fkey"
        assert conn.execute("SELECT count(*) FROM agent_events").fetchone() == before


def test_fresh_ids_mean_a_retried_batch_is_inserted_twice(app_schema: tuple[Instance, RowStream, int]) -> None:
    inst, stream, _ = app_schema
    cases = write_cases()
    batch = stream.take(50)
    rows = insert_rows(batch)
    with inst.connect() as conn:
        new_sessions, inserted = ingest_batch(conn, cases, rows, session_rows(batch))
        assert inserted == 50 and new_sessions >= 0
        # the same ids again: ON CONFLICT DO NOTHING skips them all, and no session is created twice
        assert ingest_batch(conn, cases, rows, session_rows(batch)) == (0, 0)
        # what the application does on a retry: zod dropped the ids, Prisma makes new ones, all 50 go in again
        retried = [(str(uuid.uuid4()), *r[1:]) for r in rows]
        assert ingest_batch(conn, cases, retried, session_rows(batch)) == (0, 50)
        created = create_one(conn, cases, (str(uuid.uuid4()), *rows[0][1:]))
        assert created is not None and len(created) == 15 and created[14] is None  # RETURNING with "chatSessionId"


# ==== the suite on the ci preset ==================================================================================
def scratch_databases_left(inst: Instance) -> list[str]:
    with inst.connect() as conn:
        rows = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{SCRATCH_PREFIX}%"])
        return [r[0] for r in rows]


def measured_state(pair: InstancePair) -> dict[str, Any]:
    state = {}
    for inst in pair:
        with inst.connect() as conn:
            count = conn.execute("SELECT count(*) FROM agent_events").fetchone()
            state[inst.role] = (count, index_set(conn), read_meta(conn, "dataset"))
    return state


@pytest.fixture(scope="module")
def measured_section(loaded_pair: InstancePair) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(state of the measured tables before, the section, state after)."""
    untouched = measured_state(loaded_pair)
    section = measure_app_writes(loaded_pair, require_loaded(loaded_pair), QUICK)
    return untouched, section, measured_state(loaded_pair)


@pytest.mark.slow
def test_section_on_the_ci_preset(
    loaded_pair: InstancePair, measured_section: tuple[dict[str, Any], dict[str, Any], dict[str, Any]]
) -> None:
    untouched, section, after = measured_section

    assert section["name"] == "app_writes" and section["skipped"] is None
    records = section["records"]
    assert records["scratch"]["index_set_differences"] == {"before": [], "after": []}
    assert records["batch_sizes"] == [100, 1000]
    variants = records["variants"]
    assert set(variants) == {
        "app_ingest_batch@100",
        "app_ingest_sessions@100",
        "app_ingest_batch@1000",
        "app_ingest_sessions@1000",
        "app_ingest_one",
    }
    assert [len(v) for v in variants["app_ingest_batch@100"]["samples_ms"]["before"]] == [20] * QUICK.repetitions
    assert [len(v) for v in variants["app_ingest_batch@1000"]["samples_ms"]["after"]] == [2] * QUICK.repetitions
    for key, v in variants.items():
        assert v["failure"] is None, key
        est = v["per_statement"]
        for role in ROLES:
            assert est[f"{role}_low"] <= est[f"{role}_ms"] <= est[f"{role}_high"], key
            assert v["rows_per_s"][role]["low"] <= v["rows_per_s"][role]["point"] <= v["rows_per_s"][role]["high"]
    # fresh ids: every offered event row went in on both counts
    assert records["conflicts"] == {"app_ingest_batch@100": 0, "app_ingest_batch@1000": 0, "app_ingest_one": 0}
    assert variants["app_ingest_batch@100"]["rows_inserted"] == 100 * 20 * QUICK.repetitions
    assert records["foreign_key_check"]["refused_by"] == {
        "new_session": "agent_sessions_project_id_fkey",
        "existing_session": "agent_events_project_id_fkey",
    }
    unit = records["units"]["ingested_events"]
    assert unit["failure"] is None and unit["batch_rows"] == 100 and unit["per"] == 1_000_000
    # 10,000 requests per 1M events, each a sessions and an events createMany
    expected_before = 10_000 * (
        variants["app_ingest_batch@100"]["per_statement"]["before_ms"]
        + variants["app_ingest_sessions@100"]["per_statement"]["before_ms"]
    )
    assert unit["estimate"]["before_ms"] == pytest.approx(expected_before)
    verdicts = {v["promise"]: v for v in section["verdicts"]}
    assert set(verdicts) == {"app_ingest_batch@100", "app_ingest_batch@1000", "app_ingest_one", "ingested_events"}
    for verdict in verdicts.values():
        assert verdict["kind"] == "control" and not verdict["gated"]
        assert verdict["verdict"] in ("ok", "improved", "regression", "inconclusive")
    assert "rows/s" in verdicts["app_ingest_batch@1000"]["evidence"]
    assert any("never fired" in n for n in section["notes"])
    assert any("app_ingest_one is a what-if" in n for n in section["notes"])
    assert after == untouched
    assert all(not scratch_databases_left(inst) for inst in loaded_pair)


@pytest.mark.slow
def test_the_report_shows_the_writes(
    loaded_pair: InstancePair,
    measured_section: tuple[dict[str, Any], dict[str, Any], dict[str, Any]],
    tmp_path: Path,
) -> None:
    _, section, _ = measured_section
    reads = measure_app_workload(
        loaded_pair,
        require_loaded(loaded_pair),
        tmp_path,
        AppSettings(
            MeasureSettings(warmup=1, min_rounds=2, max_rounds=2, budget_s=0.01), cases=("app_session_events",)
        ),
    )
    doc = json.loads(STORED.read_text())
    doc["suites"] = {"app": reads, "app_writes": section}
    assert SUITE_FIGURES["app_writes"] == ["app_writes"]
    assert FIGURES["app_writes"].draw(doc) is not None
    assert FIGURES["app_writes"].draw({**doc, "suites": {"app": reads}}) is None
    text = markdown_report(doc, [("Application writes", "app_writes.png")])
    opening = text[text.index(f"## {TITLE}") : text.index("## The design document's promises")]
    # the verdict row of the writes sits in the application's table of weighted time, and in its headline
    row = next(line for line in opening.splitlines() if line.startswith("| per 1,000,000 ingested events"))
    word = {v["promise"]: v["verdict"] for v in section["verdicts"]}["ingested_events"].upper()
    assert "in batches of 100" in row and row.rstrip(" |").endswith(word)
    assert "per 1,000,000 ingested events in batches of 100 (app_writes)" in opening
    assert "### app_writes:" in text and "![Application writes](app_writes.png)" in text
    assert "per 1,000,000 ingested events" in format_app_section(doc)


# ==== figures from given samples ==================================================================================
def test_rates_and_time_per_statement_from_given_samples() -> None:
    # every repetition: before 10 ms per statement on average, after 12.5 ms, whatever the spread inside it
    samples = {"before": [[8.0, 12.0], [10.0, 10.0]], "after": [[10.0, 15.0], [12.5, 12.5]]}
    summary = summarize_variant(samples, 100, seed=1)
    est = summary["per_statement"]
    assert est["before_ms"] == pytest.approx(10.0) and est["after_ms"] == pytest.approx(12.5)
    assert est["speedup"] == pytest.approx(0.8) and est["low"] == pytest.approx(0.8) == est["high"]
    assert summary["rows_per_s"]["before"]["point"] == pytest.approx(10_000.0)
    assert summary["rows_per_s"]["after"]["point"] == pytest.approx(8_000.0)
    assert summary["latency"]["before"]["n"] == 4 and summary["statements_per_repetition"] == 2
    verdict = variant_verdict("app_ingest_batch@100", "app_ingest_batch", summary, tolerance_pct=10.0)
    assert verdict.verdict == "regression"
    assert "before 10 ms" in verdict.evidence and "10,000 rows/s" in verdict.evidence


def test_a_failed_statement_is_a_failure_not_a_time() -> None:
    samples = {"before": [[10.0, None]], "after": [[12.0, 11.0]]}
    summary = summarize_variant(samples, 100, seed=1, errors={"before": ["QueryCanceled: timeout"]})
    assert summary["per_statement"] is None and "QueryCanceled" in summary["failure"]
    verdict = variant_verdict("app_ingest_batch@100", "app_ingest_batch", summary, tolerance_pct=10.0)
    assert verdict.verdict == "failed" and "measurement failed" in verdict.evidence


def test_time_per_million_events_weights_each_statement() -> None:
    unit = Unit(
        "ingested_events",
        "ingested event",
        1_000_000,
        "src",
        {"app_ingest_sessions": 0.01, "app_ingest_batch": 0.01},
        100,
    )
    samples = {
        "app_ingest_batch@100": {"before": [[10.0], [10.0]], "after": [[20.0], [20.0]]},
        "app_ingest_sessions@100": {"before": [[1.0], [1.0]], "after": [[1.0], [1.0]]},
    }
    row = unit_estimate(unit, samples, seed=1)
    assert row["failure"] is None
    assert row["estimate"]["before_ms"] == pytest.approx(10_000 * 11.0)
    assert row["estimate"]["after_ms"] == pytest.approx(10_000 * 21.0)
    assert row["estimate"]["speedup"] == pytest.approx(11 / 21)
    missing = unit_estimate(unit, {"app_ingest_batch@100": samples["app_ingest_batch@100"]}, seed=1)
    assert missing == {"estimate": None, "failure": "not measured: app_ingest_sessions@100"}
    assert variant_key("app_ingest_one", 1000) == "app_ingest_one"


def test_batch_sizes_include_every_ingest_unit(tmp_path: Path) -> None:
    from bench.measure.suites.app import app_cases

    _, workload = app_cases()
    assert QUICK.sizes(workload) == (100, 1000)
    settings = AppWritesSettings(seed=1, batch_sizes=(1000,), rows_per_batch_size=2_000, single_rows=10)
    assert settings.sizes(workload) == (100, 1000)  # the devlog workload's ingest unit is at 100
    assert settings.rows_written((100, 1000)) == (1 + 10) * (2_000 + 2_000 + 10)


def test_make_bench_runs_the_suite() -> None:
    from bench.cli import DEFAULT_SUITES
    from bench.measure.suites.registry import SUITES

    assert DEFAULT_SUITES.index("app_writes") == DEFAULT_SUITES.index("app") + 1
    assert SUITES["app_writes"][0].__module__ == "bench.measure.suites.app_writes"
