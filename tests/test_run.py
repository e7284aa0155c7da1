"""A small end-to-end measurement on the `ci` preset, plan summaries from real EXPLAIN output, timeouts as
failures, and the results document's round trip."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

import bench.measure.run
from bench.core import results
from bench.core.cases import Case, load_cases
from bench.core.config import HarnessConfig
from bench.core.errors import HarnessError
from bench.db.instances import InstancePair
from bench.db.plans import capture_plan, index_parents, summarize_plan
from bench.measure.params import ParamSample
from bench.measure.timing import MeasureSettings, measure_sample

QUICK = MeasureSettings(warmup=1, min_rounds=3, max_rounds=3, budget_s=0.01, statement_timeout_ms=10_000)


@pytest.fixture(scope="module")
def ci_run(
    loaded_pair: InstancePair, harness_config: HarnessConfig, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    runs = tmp_path_factory.mktemp("runs")  # keep reports/runs and its `latest` link out of the test
    return bench.measure.run.run_benchmark(dataclasses.replace(harness_config, runs_dir=runs), QUICK)


def test_every_case_is_measured_with_plans(ci_run: dict[str, Any]) -> None:
    names = {c["name"] for c in ci_run["cases"]}
    assert names == {c.name for c in load_cases()}
    for case in ci_run["cases"]:
        assert case["samples"], case["name"]
        for sample in case["samples"]:
            assert len(sample["latencies_ms"]["before"]) == len(sample["latencies_ms"]["after"]) == 3
            assert sample["plans"]["before"]["top_node"] and sample["plans"]["after"]["top_node"]
            assert sample["same_rows"], f"{case['name']}[{sample['label']}] returned different rows"


def test_every_promise_and_control_has_a_verdict(ci_run: dict[str, Any]) -> None:
    verdicts = {v["promise"]: v["verdict"] for v in ci_run["verdicts"]}
    assert {"session_timeline", "project_timeline", "jsonb_containment", "storage_overhead"} <= set(verdicts)
    controls = {c["name"] for c in ci_run["cases"] if c["kind"] == "control"}
    assert controls <= set(verdicts)
    allowed = {"below", "within", "above", "inconclusive", "met", "not met", "ok", "regression", "improved"}
    assert set(verdicts.values()) <= allowed


def test_after_plans_use_the_new_indexes_for_full_timelines(ci_run: dict[str, Any]) -> None:
    by_name = {c["name"]: c for c in ci_run["cases"]}
    for name in ("session_timeline", "project_timeline", "jsonb_containment"):
        check = by_name[name]["plan_check"]
        assert check["expected_index"] in check["after_indexes_used"], check
        assert check["expected_index"] not in check["before_indexes_used"]


def test_storage_overhead_is_computed_from_both_instances(ci_run: dict[str, Any]) -> None:
    st = ci_run["storage"]
    assert "agent_events_data_idx" in st["after"]["indexes_bytes"]
    assert "agent_events_data_idx" not in st["before"]["indexes_bytes"]
    expected = (st["after"]["total_bytes"] - st["before"]["total_bytes"]) / st["before"]["total_bytes"] * 100
    assert st["storage_overhead_pct"] == pytest.approx(expected)


def test_results_document_round_trips(ci_run: dict[str, Any], tmp_path: Path) -> None:
    run_dir = tmp_path / ci_run["run_id"]
    run_dir.mkdir()
    results.write_results(ci_run, run_dir)
    assert not (tmp_path / "latest").exists()  # written is not yet published
    assert results.publish_run(run_dir) == run_dir
    loaded = results.load_results(run_dir)
    assert loaded == json.loads(json.dumps(ci_run, default=str))
    assert (tmp_path / "latest").resolve() == run_dir.resolve()


def test_results_from_another_schema_version_are_refused(ci_run: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({**ci_run, "schema_version": 99}, default=str))
    with pytest.raises(HarnessError, match="schema_version 99"):
        results.load_results(path)


def test_plan_summary_from_real_explain(loaded_pair: InstancePair) -> None:
    with loaded_pair.after.connect() as conn:
        session = conn.execute("SELECT session_id FROM agent_events LIMIT 1").fetchone()
        assert session is not None
        sql = 'SELECT * FROM agent_events WHERE session_id = %(s)s ORDER BY "timestamp" DESC LIMIT 5'
        raw = capture_plan(conn, sql, {"s": session[0]})
        summary = summarize_plan(raw, index_parents(conn, loaded_pair.engine))
    assert summary.top_node == "Limit"
    assert "agent_events_session_id_timestamp_idx" in summary.indexes_used
    assert summary.execution_ms > 0 and summary.planning_ms > 0
    assert summary.shared_hit_blocks + summary.shared_read_blocks > 0
    assert 1 <= summary.actual_rows <= 5


def test_a_timed_out_query_is_a_failure_not_a_time(loaded_pair: InstancePair) -> None:
    case = Case(name="sleepy", kind="control", sampler="none", sql="SELECT pg_sleep(%(seconds)s)")
    sample = ParamSample("all", {"seconds": 0.3}, None, 0)
    conns = {role: loaded_pair.by_role(role).connect() for role in ("before", "after")}
    try:
        for conn in conns.values():
            conn.execute("SET statement_timeout = 50")
        record = measure_sample(conns, case, sample, QUICK, {"before": {}, "after": {}})
    finally:
        for conn in conns.values():
            conn.close()
    assert record["errors"]["before"] == "statement timeout"
    assert all(ms is None for ms in record["latencies_ms"]["before"])
    assert all(ms is None for ms in record["latencies_ms"]["after"])

    from bench.judge.analysis import analyze_case

    analyzed = analyze_case(case, [record], seed=1)
    assert analyzed["speedup"] is None
    assert "statement timeout" in analyzed["failures"]


def test_quantile_picks_never_repeat_a_value() -> None:
    import numpy as np

    from bench.measure.params import QUANTILE_SLOTS, pick_quantile

    rows = [("a", 1), ("b", 5), ("c", 9), ("d", 100)]  # fewer candidates than slots; q95 and max collide
    rng = np.random.default_rng(0)
    used: set[str] = set()
    picks = []
    for _, q in QUANTILE_SLOTS:
        value, _ = pick_quantile(rows, q, rng, used)
        if value not in used:
            picks.append(value)
            used.add(value)
    assert sorted(picks) == ["a", "b", "c", "d"]
