"""The concurrency suite's parts on real servers: generated pgbench scripts run, the ingest writes only its scratch
copy, pgbench that is missing or too old is refused with one clear line, and a cold cache is really cold."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from bench.cli import main
from bench.core.cases import load_cases
from bench.core.errors import HarnessError
from bench.db.cache_state import CacheController, buffered_blocks, cold_unavailable
from bench.db.database import HARNESS_LOCK_KEY
from bench.db.instances import Instance, InstancePair
from bench.db.pg_binaries import PgBinaries
from bench.db.plans import capture_plan, summarize_plan
from bench.judge.pgbench_log import read_logs, summarize_by_script
from bench.judge.verdicts import load_targets
from bench.load.loader import require_loaded
from bench.measure.cold_pass import measure_cold_cases
from bench.measure.params import sample_params
from bench.measure.pgbench_run import PgbenchRun, RunningPgbench, find_pgbench
from bench.measure.pgbench_scripts import (
    ingest_script,
    param_rows,
    param_table,
    pgbench_statement,
    read_script,
    reader_mix,
    write_scripts,
)
from bench.measure.suites.app import app_cases
from bench.measure.suites.app_params import SamplerContext, draw_params
from bench.measure.suites.concurrency import LoadSettings, measure_concurrency, param_tables
from bench.measure.suites.scratch import RowStream, build_copies, generation_spec, insert_rows, scratch_pair
from bench.report.document import write_report
from bench.report.load_section import format_load_section
from generators.copy_format import COLUMNS

SERVER_BINARIES = ("initdb", "postgres", "pg_ctl")
STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"  # a real ci-preset results document


def _one_second(pgbench_dir: Path, dsn: str, scripts: list[str], protocol: str, out: Path) -> object:
    run = PgbenchRun(dsn=dsn, scripts=scripts, protocol=protocol, clients=2, threads=1, duration_s=1, label="test")
    return RunningPgbench(find_pgbench(pgbench_dir), run, out, echo_progress=False).finish()


def test_placeholders_become_pgbench_variables_and_casts_stay() -> None:
    text = pgbench_statement("SELECT %(a)s::jsonb, '100%%' WHERE x = %(a)s AND y = %(b_c)s")
    assert text == "SELECT :p_a::jsonb, '100%' WHERE x = :p_a AND y = :p_b_c;"


def test_the_mix_weights_page_reads_and_polls() -> None:
    _, workload = app_cases()
    weights = reader_mix(workload, dashboard_open_minutes=1.0)
    assert weights["app_session_events"] == 500  # half of 1,000 page views open a session page
    # dashboards (50% of page views) poll every 5 s for the minute they stay open
    assert weights["app_stream_poll"] == 500 * 12
    assert "app_json_filter" not in weights  # what-if cases are never in the mix
    assert reader_mix(workload, dashboard_open_minutes=0.0).get("app_stream_poll") is None


def test_generated_scripts_run_for_a_second_in_both_protocols(
    loaded_pair: InstancePair, pg_binaries: PgBinaries, tmp_path: Path
) -> None:
    cases, workload = app_cases()
    mix = reader_mix(workload, 1.0)
    chosen = [c for c in cases if c.name in mix and loaded_pair.engine.name in c.engines]
    dataset = require_loaded(loaded_pair)
    with loaded_pair.before.connect() as conn:
        sampler = SamplerContext(conn, datetime.fromisoformat(dataset["spec"]["reference_instant"]), workload.access, 1)
        tables = [
            (c, param_rows(c, [(d.param_sample(c), d.draws) for d in draw_params(sampler, c, 4)])) for c in chosen
        ]
    # every script weighs the same here, so each one surely runs within the second
    scripts = write_scripts(
        tmp_path / "scripts", {c.name: read_script(c, len(rows)) for c, rows in tables}, dict.fromkeys(mix, 1)
    )
    names = {i: s.name for i, s in enumerate(scripts)}
    with param_tables(loaded_pair, tables):
        for protocol in ("prepared", "extended"):
            result = _one_second(
                pg_binaries.bindir, loaded_pair.after.dsn, [s.argument for s in scripts], protocol, tmp_path / protocol
            )
            assert result.returncode == 0, result.stderr_tail  # type: ignore[attr-defined]
            log = read_logs(result.log_files, rate_limited=False)  # type: ignore[attr-defined]
            summary = summarize_by_script(log, names, 1.0, 1.0)
            assert summary["all"]["failed"] == 0
            assert all(summary[name]["transactions"] > 0 for name in names.values()), summary
    for inst in loaded_pair:
        with inst.connect() as conn:
            left = conn.execute("SELECT to_regclass(%s)", [param_table(chosen[0].name)]).fetchone()
            assert left == (None,)  # the harness's parameter tables are dropped again


def test_ingest_batches_land_in_the_scratch_copy_only(
    loaded_pair: InstancePair, pg_binaries: PgBinaries, tmp_path: Path
) -> None:
    dataset = require_loaded(loaded_pair)
    prefill, batch = 2_000, 100
    spec = generation_spec(dataset, prefill + batch)
    stream = RowStream(spec)
    with loaded_pair.after.connect() as conn:
        measured_before = conn.execute("SELECT count(*) FROM agent_events").fetchone()
    with scratch_pair(loaded_pair, "test_ingest") as copies:
        build_copies([copies.after], loaded_pair.engine, spec, stream, prefill, [True], progress=False)
        text = ingest_script(insert_rows(stream.take(batch)), spec.window_start, "ingest")
        assert text.count("gen_random_uuid()") == batch and "ON CONFLICT DO NOTHING;" in text
        scripts = write_scripts(tmp_path / "scripts", {"ingest": text}, {"ingest": 1})
        result = _one_second(pg_binaries.bindir, copies.after.dsn, [scripts[0].argument], "prepared", tmp_path / "run")
        assert result.returncode == 0, result.stderr_tail  # type: ignore[attr-defined]
        log = read_logs(result.log_files, rate_limited=False)  # type: ignore[attr-defined]
        batches = summarize_by_script(log, {0: "ingest"}, 1.0, 1.0)["ingest"]["transactions"]
        assert batches > 0
        with copies.after.connect() as conn:
            rows = conn.execute("SELECT count(*) FROM agent_events").fetchone()
        assert rows == (prefill + batches * batch,)  # every batch wrote all its rows: new ids, no conflicts
    with loaded_pair.after.connect() as conn:
        assert conn.execute("SELECT count(*) FROM agent_events").fetchone() == measured_before


def test_ingest_values_with_colons_reach_the_table_unchanged(
    loaded_pair: InstancePair, pg_binaries: PgBinaries, tmp_path: Path
) -> None:
    """pgbench reads `:name` inside string literals as a variable; a payload such as "docker build -t api:dev"
    aborted every batch holding it (found in a default-preset run). The values must arrive as written."""
    dataset = require_loaded(loaded_pair)
    spec = generation_spec(dataset, 2_000 + 10)
    stream = RowStream(spec)
    data = {"command": "docker build -t api:dev .", "path": "C:\\src\\x:y", "marker": "test:colons"}
    tags, version = ["deploy:prod", "a::b"], "v1:beta\\x"
    with scratch_pair(loaded_pair, "test_colons") as copies:
        build_copies([copies.after], loaded_pair.engine, spec, stream, 2_000, [True], progress=False)
        rows = [list(r) for r in insert_rows(stream.take(10))]
        rows[0][COLUMNS.index("data")] = json.dumps(data)
        rows[0][COLUMNS.index("tags")] = tags
        rows[0][COLUMNS.index("agent_version")] = version
        text = ingest_script(rows, spec.window_start, "ingest")
        scripts = write_scripts(tmp_path / "scripts", {"ingest": text}, {"ingest": 1})
        result = _one_second(pg_binaries.bindir, copies.after.dsn, [scripts[0].argument], "prepared", tmp_path / "run")
        assert result.returncode == 0, result.stderr_tail  # type: ignore[attr-defined]
        with copies.after.connect() as conn:
            found = conn.execute(
                "SELECT DISTINCT data, tags, agent_version FROM agent_events WHERE data @> %s::jsonb",
                [json.dumps({"marker": data["marker"]})],
            ).fetchall()
    assert found == [(data, tags, version)]


def test_missing_pgbench_is_one_clear_error_before_any_server_starts(
    tmp_path: Path,
    pg_binaries: PgBinaries,
    state_dir_factory: Callable[[str], Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in SERVER_BINARIES:  # the server binaries are there, pgbench is not
        (bindir / name).symlink_to(pg_binaries.bindir / name)
    with pytest.raises(HarnessError, match="pgbench not found"):
        find_pgbench(bindir)
    state = state_dir_factory("no-pgbench")
    argv = ["bench", "--preset", "ci", "--suites", "concurrency", "--engine", "postgres", "--no-progress"]
    code = main([*argv, "--pg-bin", str(bindir), "--state-dir", str(state)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: pgbench not found") and "--pg-bin / PHASE2_BENCH_PG_BIN" in err
    assert not any(state.iterdir())  # refused before any server was initialised


def test_pgbench_older_than_15_or_not_pgbench_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "pgbench"
    fake.write_text("#!/bin/sh\necho 'pgbench (PostgreSQL) 14.11'\n")
    fake.chmod(0o755)
    with pytest.raises(HarnessError, match=r"is pgbench \(PostgreSQL\) 14.11; the concurrency suite needs pgbench 15"):
        find_pgbench(tmp_path)
    fake.write_text("#!/bin/sh\necho 'something else'\n")
    with pytest.raises(HarnessError, match="not `pgbench \\(PostgreSQL\\) N`"):
        find_pgbench(tmp_path)


def test_load_options_are_checked_before_anything_runs(
    state_dir_factory: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    state = state_dir_factory("bad-load-option")
    code = main(["bench", "--preset", "ci", "--engine", "postgres", "--duration", "0", "--state-dir", str(state)])
    assert code == 2
    assert "--duration must be positive" in capsys.readouterr().err
    assert not any(state.iterdir())


def test_load_option_environment_variables_are_checked(
    monkeypatch: pytest.MonkeyPatch, state_dir_factory: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PHASE2_LOAD_RATE", "fast")
    state = state_dir_factory("bad-load-env")
    assert main(["bench", "--preset", "ci", "--engine", "postgres", "--state-dir", str(state)]) == 2
    assert "PHASE2_LOAD_RATE='fast' is not a number" in capsys.readouterr().err


def test_a_cold_run_reads_from_outside_shared_buffers_and_a_warm_run_does_not(loaded_pair: InstancePair) -> None:
    inst = loaded_pair.before
    query = "SELECT id, data FROM agent_events ORDER BY timestamp DESC LIMIT 500"
    with CacheController([inst]) as controller:
        state = controller.make_cold("before")
        assert state.evicted_files > 0 and state.evicted_bytes > 0
        assert state.buffered_blocks_after_restart == 0  # pg_buffercache: none of agent_events' blocks
        with inst.connect() as conn:
            cold = summarize_plan(capture_plan(conn, query, {}))
            warm = summarize_plan(capture_plan(conn, query, {}))
            assert buffered_blocks(conn) > 0
            # the restart dropped the harness's shared lock; the controller holds it again
            held = conn.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s AND mode = 'ShareLock'",
                [HARNESS_LOCK_KEY],
            ).fetchone()
            assert held == (1,)
        assert cold.shared_read_blocks > 0
        assert warm.shared_read_blocks == 0 and warm.shared_hit_blocks > 0
    with inst.connect() as conn:  # the server is back on the same DSN
        assert conn.execute("SELECT count(*) > 0 FROM agent_events").fetchone() == (True,)


def test_an_external_server_cannot_be_made_cold() -> None:
    reason = cold_unavailable(Instance("before", "host=db.example dbname=x", "external"))
    assert reason and "external server" in reason and "--cache warm" in reason
    with pytest.raises(HarnessError, match="external server"):
        CacheController([Instance("before", "host=db.example dbname=x", "external")])


def test_cold_pass_times_first_executions_after_a_cold_restart(loaded_pair: InstancePair) -> None:
    targets = load_targets()
    case = next(c for c in load_cases() if c.name == "session_timeline")
    dataset = require_loaded(loaded_pair)
    with loaded_pair.before.connect() as conn:
        now = datetime.fromisoformat(dataset["spec"]["reference_instant"])
        samples = {case.name: sample_params(conn, case, now, 1, {})}
    cold = measure_cold_cases(loaded_pair, [case], samples, targets, 20_000, seed=1, params_per_case=1)
    assert cold["skipped"] is None and cold["restarts"] == 4
    result = cold["cases"]["session_timeline"]
    (sample,) = result["samples"]
    for role in ("before", "after"):
        assert sample[role]["error"] is None and sample[role]["ms"] > 0
        assert sample[role]["buffered_before"] == 0
        # planning reads at most a few index pages; the execution reads the data in
        assert sample[role]["buffered_after_planning"] < sample[role]["buffered_after"]
        assert result["plans"][role]["cold_shared_read"] > 0
        assert result["plans"][role]["warm_shared_read"] == 0
    assert result["speedup"] is not None
    assert cold["promises"]["session_timeline"]["cases"] == ["session_timeline"]


def test_server_cpu_is_read_from_proc(loaded_pair: InstancePair) -> None:
    from bench.measure.pgbench_run import server_cpu_s

    server = loaded_pair.before.server
    assert server is not None
    live = server.running_pid_port()
    assert live is not None
    first = server_cpu_s(live[0])
    with loaded_pair.before.connect() as conn:
        conn.execute("SELECT count(*) FROM generate_series(1, 3000000)").fetchone()
    assert server_cpu_s(live[0]) > first


@pytest.mark.slow
def test_the_suite_end_to_end_in_miniature_and_its_report(
    loaded_pair: InstancePair, pg_binaries: PgBinaries, tmp_path: Path
) -> None:
    """Every phase once, one-second rounds: the section's records, verdicts and the "Under load" report."""
    settings = LoadSettings(
        duration_s=1,
        warmup_s=0,
        rounds=1,
        saturation_clients=(1, 2),
        saturation_s=1,
        search_steps=1,
        search_s=1,
        protocols=("prepared",),
        ingest_variants=1,
        prefill_cap=2_000,
        cache="both",
    )
    section = measure_concurrency(
        loaded_pair, require_loaded(loaded_pair), tmp_path, settings, find_pgbench(pg_binaries.bindir)
    )
    records = section["records"]
    assert set(records["phases"]) == {"open_loop_prepared", "closed_loop", "mixed", "cold_open_loop"}
    for name, phase in records["phases"].items():
        assert [r["role"] for r in phase["rounds"]] == ["before", "after"], name
        for r in phase["rounds"]:
            assert not r["aborted"], (name, r["pgbench"])
            assert r["readers"]["all"]["transactions"] > 0
            assert r["evidence"]["readers"]["database"]["xact_commit"] > 0
            assert 0 < r["cpu"]["driver_share"] < 1
    mixed = {r["role"]: r for r in records["phases"]["mixed"]["rounds"]}
    assert mixed["after"]["ingest"]["events_per_s"] > 0
    assert mixed["after"]["evidence"]["ingest"]["gin_pending"] is not None  # the after copy has the GIN index
    assert all(
        r["cold_state"]["buffered_blocks_after_restart"] == 0 for r in records["phases"]["cold_open_loop"]["rounds"]
    )
    assert [p["clients"] for p in records["saturation"]["points"]] == [1, 2]
    assert len(records["ingest_search"]["before"]["steps"]) == 1
    verdicts = {v["promise"] for v in section["verdicts"]}
    assert {"load_read_p95_before", "load_ingest_after", "load_throughput_ratio", "load_cold_p95_ratio"} <= verdicts
    doc = json.loads(STORED.read_text())
    doc["suites"] = {"concurrency": {**section, "duration_s": 1.0}}
    written = {p.name for p in write_report(doc, tmp_path / "report")}
    assert {"load_latency.png", "load_saturation.png", "load_mixed.png", "cold_warm.png"} <= written
    markdown = (tmp_path / "report" / "report.md").read_text()
    assert "## Under load" in markdown and "Read P95 at 200 reads/s offered" in markdown
    assert "Highest ingest sustained" in format_load_section(doc)
