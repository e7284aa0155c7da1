"""The app suite on real servers: every application case runs and returns the same rows before and after, the
statements really are server-side prepared statements, the plan cache mode is honoured, and the JSON-filter
plans use the index they are expected to (and only those)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.core import results
from bench.core.cases import APP_QUERIES_DIR, load_cases
from bench.core.config import HarnessConfig
from bench.db.instances import InstancePair
from bench.load.loader import load_dataset, require_loaded
from bench.measure.suites.app import AppSettings, app_cases, measure_app_workload
from bench.measure.suites.app_params import SamplerContext, draw_params
from bench.measure.suites.app_prepared import explain_prepared, plan_counts, prepared_connection, to_positional
from bench.measure.timing import MeasureSettings, execute_timed
from bench.report.app_section import TITLE, format_app_section
from bench.report.document import markdown_report
from bench.report.figures import FIGURES
from generators.shape import DatasetSpec

QUICK = MeasureSettings(warmup=1, min_rounds=3, max_rounds=3, budget_s=0.01, statement_timeout_ms=20_000)
ROLES = ("before", "after")
STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"  # a real ci-preset results document


@pytest.fixture(scope="module")
def app_section(loaded_pair: InstancePair, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    run_dir = tmp_path_factory.mktemp("app-run")
    return measure_app_workload(loaded_pair, require_loaded(loaded_pair), run_dir, AppSettings(QUICK))


def measured(section: dict[str, Any]) -> dict[str, Any]:
    return section["records"]["cases"]


def test_every_case_runs_in_every_mode_with_the_same_rows(app_section: dict[str, Any]) -> None:
    cases = measured(app_section)
    names = {c.name for c in load_cases(APP_QUERIES_DIR)}
    # time_bucket needs TimescaleDB: on partitions it is not run, and the section says why
    assert set(cases) == names - {"app_time_buckets"}
    assert "needs timescaledb" in app_section["records"]["skipped_cases"]["app_time_buckets"]
    assert any("app_time_buckets: not run" in n for n in app_section["notes"])
    for name, case in cases.items():
        assert set(case["modes"]) == {"auto", "force_generic_plan", "force_custom_plan"}, name
        for mode, result in case["modes"].items():
            assert result["failures"] is None, f"{name} ({mode}): {result['failures']}"
            assert result["same_rows"] is True, f"{name} ({mode}) returned different rows before and after"
            for s in result["samples"]:
                assert len(s["latencies_ms"]["before"]) == len(s["latencies_ms"]["after"]) == 3
                assert s["plans"]["before"]["top_node"] and s["plans"]["after"]["top_node"]


def test_rows_come_back_as_the_application_pages_ask_for_them(app_section: dict[str, Any]) -> None:
    cases = measured(app_section)
    for s in cases["app_session_events"]["modes"]["auto"]["samples"]:
        assert 0 < s["matched_rows"] <= 100
    # the stream poll starts at the newest event and re-reads it (>=): at least one row every poll
    assert cases["app_stream_poll"]["modes"]["auto"]["samples"][0]["matched_rows"] >= 1
    assert cases["app_dashboard_activity"]["modes"]["auto"]["samples"][0]["matched_rows"] == 10
    # filePath holds a string, so Prisma's array_contains form matches nothing, as with the collector's data
    assert all(s["matched_rows"] == 0 for s in cases["app_json_filter_array_contains"]["modes"]["auto"]["samples"])
    assert all(s["matched_rows"] > 0 for s in cases["app_json_filter"]["modes"]["auto"]["samples"])


def test_plan_kinds_follow_the_plan_cache_mode(app_section: dict[str, Any]) -> None:
    for name, case in measured(app_section).items():
        for mode, result in case["modes"].items():
            for s in result["samples"]:
                executions = s["warmups"] + s["rounds"]
                for role in ROLES:
                    counts = s["plan_counts"][role]
                    # every timed and warm-up execution ran the prepared statement, and nothing else counted
                    assert counts["generic"] + counts["custom"] == executions, (name, mode, role, counts)
                    if mode == "force_generic_plan":
                        assert counts["custom"] == 0 and s["explained_as"][role] == "generic"
                    if mode == "force_custom_plan":
                        assert counts["generic"] == 0 and s["explained_as"][role] == "custom"


def test_json_filter_plans_use_the_gin_index_only_for_containment(app_section: dict[str, Any]) -> None:
    cases = measured(app_section)
    for mode in ("auto", "force_generic_plan", "force_custom_plan"):
        for name in ("app_json_filter", "app_json_filter_array_contains"):
            for role in ROLES:
                assert "agent_events_data_idx" not in cases[name]["modes"][mode]["plans"][role]["indexes_used"]
        nopath = cases["app_json_containment_nopath"]["modes"][mode]
        assert nopath["plans"]["before"]["indexes_used"] == []  # the index does not exist before the migration
        assert nopath["plan_check"]["holds"], f"{mode}: {nopath['plans']['after']}"
    finding = app_section["records"]["json_filter"]
    assert finding["verdict"] == "not held" and finding["prisma_after_plans_using_gin"] == 0
    verdict = next(v for v in app_section["verdicts"] if v["promise"] == "gin_serves_prisma_json_filters")
    assert verdict["verdict"] == "not held" and verdict["gated"] is False


def test_weighted_verdicts_are_reported_for_every_unit(app_section: dict[str, Any]) -> None:
    verdicts = {v["promise"]: v for v in app_section["verdicts"]}
    for name in ("page_views", "session_page_view", "dashboard_load", "dashboard_load_project", "open_dashboard_hour"):
        v = verdicts[f"{name}@auto"]
        assert v["verdict"] in ("ok", "improved", "regression", "inconclusive"), v
        assert v["low"] <= v["high"] and not v["gated"]
    assert {"page_views@force_generic_plan", "open_dashboard_hour@force_custom_plan"} <= set(verdicts)
    units = app_section["records"]["units"]["auto"]
    assert units["page_views"]["estimate"]["n_cases"] == 6
    json.dumps(app_section)  # the section is part of the results document


def test_statements_are_server_side_prepared_and_the_explain_is_of_the_generic_plan(
    loaded_pair: InstancePair,
) -> None:
    cases, workload = app_cases()
    case = next(c for c in cases if c.name == "app_session_events")
    now = datetime.fromisoformat(require_loaded(loaded_pair)["spec"]["reference_instant"])
    with loaded_pair.before.connect() as conn:
        draw = draw_params(SamplerContext(conn, now, workload.access, seed=1), case, 1)[0]
    sample = draw.param_sample(case)
    conn = prepared_connection(loaded_pair, "after", "force_generic_plan", 10_000)
    try:
        for _ in range(3):
            assert execute_timed(conn, case.sql, sample.params).error is None
        text, _ = to_positional(case.sql, sample.params)
        rows = conn.execute(
            "SELECT name, from_sql, generic_plans, custom_plans, parameter_types::text[] "
            "FROM pg_prepared_statements WHERE statement = %s",
            [text],
            prepare=False,
        ).fetchall()
        assert len(rows) == 1, rows
        name, from_sql, generic, custom, types = rows[0]
        assert name.startswith("_pg3_") and from_sql is False
        assert (generic, custom) == (3, 0)
        assert types == ["uuid", "bigint", "bigint"]  # as the server infers them for Prisma's statement
        assert plan_counts(conn) == {"generic": 3, "custom": 0, "statements": 1}
        plan = explain_prepared(conn, case.sql, sample.params, "force_generic_plan")
        assert "$1" in json.dumps(plan)  # a generic plan keeps the parameter symbolic
        custom_plan = explain_prepared(conn, case.sql, sample.params, "force_custom_plan")
        assert "$1" not in json.dumps(custom_plan)
        assert plan_counts(conn)["statements"] == 1  # the EXPLAIN's own statement is gone again
        assert conn.execute("SHOW plan_cache_mode", prepare=False).fetchone() == ("force_generic_plan",)
    finally:
        conn.close()


def test_the_report_opens_with_the_application_workload(app_section: dict[str, Any]) -> None:
    doc = json.loads(STORED.read_text())
    doc["suites"] = {"app": app_section}
    text = markdown_report(doc, [("Application workload: latency per case", "app_latency.png")])
    assert text.index(f"## {TITLE}") < text.index("## The design document's promises") < text.index("## Storage")
    assert "![Application workload: latency per case](app_latency.png)" in text
    assert "app_json_filter" in text and "What-if cases" in text
    terminal = format_app_section(doc)
    assert terminal.startswith(TITLE.upper()) and "per 1,000 page views" in terminal
    for name in ("app_weighted_time", "app_latency"):
        assert FIGURES[name].draw(doc) is not None
        assert FIGURES[name].draw({**doc, "suites": {}}) is None


@pytest.mark.timescaledb
def test_application_cases_on_timescaledb(timescaledb_pair: InstancePair, ci_spec: DatasetSpec, tmp_path: Path) -> None:
    load_dataset(timescaledb_pair, ci_spec, progress=False)
    names = ("app_time_buckets", "app_session_events", "app_stream_poll", "app_json_filter")
    section = measure_app_workload(
        timescaledb_pair, require_loaded(timescaledb_pair), tmp_path, AppSettings(QUICK, cases=names)
    )
    assert not section["records"]["skipped_cases"]
    for name, case in section["records"]["cases"].items():
        for mode, result in case["modes"].items():
            assert result["failures"] is None and result["same_rows"] is True, (name, mode, result["failures"])


@pytest.mark.slow
def test_bench_with_the_app_suite_runs_end_to_end(
    harness_config: HarnessConfig,
    loaded_pair: InstancePair,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`python -m bench bench --preset ci --suites app` on the session's servers (the query suite cut to one case)."""
    for variable in ("PHASE2_BEFORE_DSN", "PHASE2_AFTER_DSN"):
        monkeypatch.delenv(variable, raising=False)
    runs = tmp_path / "runs"  # keep reports/runs out of the test
    monkeypatch.setenv("PHASE2_BENCH_RUNS_DIR", str(runs))
    state = ["--state-dir", str(harness_config.state_dir), "--pg-bin", str(harness_config.pg_bin)]
    quick = ["--warmup", "1", "--min-rounds", "2", "--max-rounds", "3", "--budget", "0.05"]
    code = main(
        [
            "bench",
            "--preset",
            "ci",
            "--suites",
            "app",
            "--engine",
            "postgres",
            "--no-progress",
            *state,
            *quick,
            "-k",
            "session_timeline_latest",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.index(TITLE.upper()) < out.index("promise / case")
    doc = results.load_results(runs / "latest")
    section = doc["suites"]["app"]
    assert not section.get("failed") and not section.get("skipped")
    assert section["records"]["units"]["auto"]["page_views"]["estimate"] is not None
    report = (runs / doc["run_id"] / "report.md").read_text()
    assert report.index(f"## {TITLE}") < report.index("## The design document's promises")
    assert (runs / doc["run_id"] / "app_weighted_time.png").exists()
