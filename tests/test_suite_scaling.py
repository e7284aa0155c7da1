"""The scaling suite: sizes from the environment or the measured preset, and tiny sizes loaded into scratch
databases that give one point per size with speedups, storage and verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.core.config import HarnessConfig
from bench.db.instances import InstancePair
from bench.judge.verdicts import load_targets
from bench.load.loader import require_loaded, spec_at_rows
from bench.measure.suites import SuiteContext
from bench.measure.suites.scaling import CI_SIZES, DEFAULT_SIZES, SIZES_ENV, measure_scaling, rows_label, scaling_sizes
from bench.measure.timing import MeasureSettings
from generators.shape import DatasetSpec

QUICK = MeasureSettings(warmup=1, min_rounds=3, max_rounds=3, budget_s=0.01, statement_timeout_ms=10_000)


def test_sizes_follow_the_measured_preset_unless_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SIZES_ENV, raising=False)
    assert scaling_sizes(50_000) == CI_SIZES
    assert scaling_sizes(2_000_000) == DEFAULT_SIZES
    monkeypatch.setenv(SIZES_ENV, "2M, 500k,500000")
    assert scaling_sizes(50_000) == (500_000, 2_000_000)


def test_rows_labels() -> None:
    assert [rows_label(n) for n in (5_000, 500_000, 2_000_000, 12_345)] == ["5k", "500k", "2M", "12345"]


def test_spec_at_rows_keeps_the_knobs_and_rederives_projects() -> None:
    measured = DatasetSpec(rows=2_000_000, seed=3, window_days=20)
    assert spec_at_rows(measured.to_dict(), 2_000_000).fingerprint() == measured.fingerprint()
    smaller = spec_at_rows(measured.to_dict(), 500_000)
    assert (smaller.rows, smaller.seed, smaller.window_days) == (500_000, 3, 20)
    assert smaller.project_count == DatasetSpec(rows=500_000).project_count
    explicit = spec_at_rows(DatasetSpec(rows=100_000, projects=40).to_dict(), 50_000)
    assert explicit.project_count == 20


@pytest.mark.slow
def test_tiny_sizes_give_one_point_per_size(
    loaded_pair: InstancePair, harness_config: HarnessConfig, tmp_path: Path
) -> None:
    ctx = SuiteContext(
        harness_config, loaded_pair, require_loaded(loaded_pair), QUICK, load_targets(None), tmp_path, False
    )
    section = measure_scaling(ctx, (5_000, 10_000))
    json.dumps(section)
    points = section["records"]["points"]
    assert [p["rows"] for p in points] == [5_000, 10_000]
    for point in points:
        assert set(point["promises"]) == {
            "session_timeline",
            "project_timeline",
            "jsonb_containment",
            "storage_overhead",
        }
        assert point["storage"]["after_index_bytes"] > point["storage"]["before_index_bytes"] > 0
        assert point["storage"]["storage_overhead_pct"] is not None
        for case in point["cases"]:
            for sample in case["samples"]:
                assert len(sample["latencies_ms"]["before"]) == len(sample["latencies_ms"]["after"]) == 3
    curves = section["records"]["curves"]
    assert [c["rows"] for c in curves["session_timeline"]] == [5_000, 10_000]
    names = {v["promise"] for v in section["verdicts"]}
    assert {"session_timeline@5k", "storage_overhead@10k"} <= names
    assert not any(v["gated"] for v in section["verdicts"])
    # the scratch databases are gone again
    with loaded_pair.before.connect() as conn:
        left = conn.execute("SELECT count(*) FROM pg_database WHERE datname LIKE '%%scaling%%'").fetchone()
    assert left is not None and left[0] == 0
