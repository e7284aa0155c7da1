"""The compression suite: skipped with its reason on native partitions, and on TimescaleDB a small rebuilt dataset
compressed in scratch databases, with sizes, reductions, overhead vs savings and interleaved timings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.core.config import HarnessConfig
from bench.db.instances import InstancePair
from bench.judge.verdicts import load_targets
from bench.load.loader import require_loaded
from bench.measure.suites import SuiteContext
from bench.measure.suites.compression import (
    COMPARISONS,
    PAST_CASES,
    WHOLE_TABLE_CASES,
    measure_compression,
    overhead_vs_savings,
    reduction_pct,
    run,
)
from bench.measure.timing import MeasureSettings
from generators.shape import DatasetSpec

QUICK = MeasureSettings(warmup=1, min_rounds=3, max_rounds=3, budget_s=0.01, statement_timeout_ms=10_000)
SMALL = DatasetSpec(rows=20_000, seed=7)


def test_reduction_and_overhead_arithmetic() -> None:
    assert reduction_pct(100.0, 25.0) == pytest.approx(75.0)
    assert reduction_pct(0.0, 0.0) is None and reduction_pct(None, 3.0) is None
    sizes = {
        "before": {"uncompressed": {"total_bytes": 1_000}, "compressed": {"total_bytes": 400}},
        "after": {"uncompressed": {"total_bytes": 1_200}, "compressed": {"total_bytes": 450}},
    }
    figures = overhead_vs_savings(sizes)
    assert figures["index_overhead_bytes"] == 200
    assert figures["index_overhead_bytes_once_compressed"] == 50
    assert figures["compression_savings_bytes"] == 750
    assert figures["savings_to_overhead"] == pytest.approx(3.75)
    assert figures["overhead_pct_of_savings"] == pytest.approx(200 / 750 * 100)


def test_partitions_engine_is_skipped_with_the_reason(
    loaded_pair: InstancePair, harness_config: HarnessConfig, tmp_path: Path
) -> None:
    ctx = SuiteContext(
        harness_config, loaded_pair, require_loaded(loaded_pair), QUICK, load_targets(None), tmp_path, False
    )
    section = run(ctx)
    # "... PostgreSQL partitions (TimescaleDB not installed)" where the binaries lack it, as on most machines
    assert section["skipped"] == f"compression needs TimescaleDB; this run uses {loaded_pair.engine.label}"
    assert section["skipped"].startswith("compression needs TimescaleDB; this run uses PostgreSQL partitions (")
    assert section["verdicts"] == [] and section["records"] == {}


@pytest.mark.slow
@pytest.mark.timescaledb
def test_compression_on_timescaledb(
    timescaledb_pair: InstancePair, timescaledb_config: HarnessConfig, tmp_path: Path
) -> None:
    # The suite never reads the measured table: it rebuilds the dataset its meta describes in scratch databases.
    dataset = {"rows": SMALL.rows, "fingerprint": SMALL.fingerprint(), "spec": SMALL.to_dict()}
    ctx = SuiteContext(timescaledb_config, timescaledb_pair, dataset, QUICK, load_targets(None), tmp_path, False)
    section = measure_compression(ctx, cap=SMALL.rows)
    json.dumps(section)
    assert section["skipped"] is None
    records = section["records"]
    assert records["dataset"]["rows"] == SMALL.rows and records["dataset"]["same_as_measured"]
    for role in ("before", "after"):
        uncompressed, compressed = records["sizes"][role]["uncompressed"], records["sizes"][role]["compressed"]
        assert uncompressed["compressed_chunks"] == 0
        # 30 daily chunks; those ending 7+ days before the reference instant are compressed
        assert compressed["compressed_chunks"] == records["compress"][role]["chunks_compressed"] >= 20
        assert compressed["total_bytes"] < uncompressed["total_bytes"]
        assert 0 < records["reduction"][role]["compressed_chunks_pct"] < 100
    # the GIN index exists on the after instance only, and compressed chunks drop it
    gin = "agent_events_data_idx"
    assert gin not in records["sizes"]["before"]["uncompressed"]["indexes_bytes"]
    assert (
        records["sizes"]["after"]["compressed"]["indexes_bytes"][gin]
        < (records["sizes"]["after"]["uncompressed"]["indexes_bytes"][gin])
    )
    assert records["overhead_vs_savings"]["compression_savings_bytes"] > 0
    assert set(records["timings"]) == {name for name, *_ in COMPARISONS}
    for per_case in records["timings"].values():
        assert set(per_case) == {*PAST_CASES, *WHOLE_TABLE_CASES}
        for timing in per_case.values():
            assert timing["samples"]
            for sample in timing["samples"]:
                assert len(sample["latencies_ms"]["before"]) == len(sample["latencies_ms"]["after"]) == 3
                assert sample["same_rows"], "compressed and uncompressed copies returned different rows"
    # chunk indexes are named by their hypertable index in the plans (TimescaleDB 2.28 has no chunk_index catalog)
    uncompressed_gin = records["timings"]["phase2/uncompressed"]["jsonb_containment"]["samples"]
    assert any(gin in s["plans"]["after"]["indexes_used"] for s in uncompressed_gin)
    verdicts = {v["promise"]: v for v in section["verdicts"]}
    assert {"compression_reduction/before", "compression_reduction/after"} <= set(verdicts)
    assert verdicts["compression_reduction/after"]["verdict"] in {"below", "within", "above"}
    assert verdicts["compression_savings_vs_index_overhead"]["verdict"] in {"met", "not met"}
    assert {"session_timeline/compressed", "project_timeline/compressed", "jsonb_containment/compressed"} <= set(
        verdicts
    )
    assert not any(v["gated"] for v in verdicts.values())
