"""The write-cost suite: scratch copies with the right index sets, a well-formed section, the measured table
untouched, ratios computed correctly from given samples, and a skip where no scratch database may be made."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from bench.core.config import HarnessConfig
from bench.db.database import read_meta
from bench.db.instances import Instance, InstancePair
from bench.db.schema import index_set
from bench.judge.verdicts import judge_min, load_targets
from bench.load.loader import require_loaded
from bench.measure.suites import SuiteContext
from bench.measure.suites.scratch import SCRATCH_PREFIX
from bench.measure.suites.write_cost import (
    SPEC_ROWS_PER_S,
    WriteCostSettings,
    measure_write_cost,
    rate_verdict,
    run,
    summarize_method,
)
from bench.measure.timing import MeasureSettings

QUICK = WriteCostSettings(
    prefill_cap=5_000, repetitions=2, warmup_repetitions=1, insert_rows=1_000, copy_rows=1_000, copy_batch=500
)


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


@pytest.mark.slow
def test_section_on_the_ci_preset(loaded_pair: InstancePair) -> None:
    untouched = measured_state(loaded_pair)
    section = measure_write_cost(loaded_pair, require_loaded(loaded_pair), QUICK)

    assert section["name"] == "write_cost" and section["skipped"] is None
    records = section["records"]
    assert records["scratch"]["prefill_rows"] == 5_000
    assert records["scratch"]["index_set_differences"] == {"before": [], "after": []}
    for method in ("insert", "copy"):
        for role in ("before", "after"):
            figures = records["methods"][method][role]
            assert len(figures["rows_per_s"]) == QUICK.repetitions
            assert figures["low"] <= figures["median_rows_per_s"] <= figures["high"]
    verdicts = {v["promise"]: v for v in section["verdicts"]}
    assert set(verdicts) == {f"ingest_rate_{m}_{r}" for m in ("insert", "copy") for r in ("before", "after")}
    for verdict in verdicts.values():
        assert verdict["kind"] == "min" and verdict["bound"] == SPEC_ROWS_PER_S and not verdict["gated"]
        assert verdict["verdict"] in ("met", "not met", "inconclusive")
        assert "rows/s" in verdict["evidence"]
    assert measured_state(loaded_pair) == untouched
    assert all(not scratch_databases_left(inst) for inst in loaded_pair)


def test_rates_and_ratio_from_given_samples() -> None:
    before = [{"seconds": 1.0, "client_cpu_s": 0.5}, {"seconds": 2.0, "client_cpu_s": 0.5}]
    after = [{"seconds": 1.25, "client_cpu_s": 0.5}, {"seconds": 2.5, "client_cpu_s": 0.5}]
    summary = summarize_method({"before": before, "after": after}, 1_000, WriteCostSettings())

    assert summary["before"]["rows_per_s"] == [1_000.0, 500.0]
    assert summary["before"]["median_rows_per_s"] == pytest.approx(750.0)
    assert summary["before"]["client_cpu_share"] == pytest.approx((0.5 + 0.25) / 2)
    # both repetitions take 25% longer after, so the rate ratio is 0.8 with no spread at all
    ratio = summary["ratio_after_before"]
    assert ratio["point"] == pytest.approx(0.8) and ratio["low"] == pytest.approx(0.8)
    assert summary["write_time_increase_pct"] == pytest.approx(25.0)
    verdict = rate_verdict("insert", "after", summary)
    assert verdict.verdict == "not met" and "0.80x" in verdict.evidence


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(60_000, 70_000, "met"), (40_000, 50_000, "not met"), (45_000, 55_000, "inconclusive"), (None, None, "failed")],
)
def test_judge_min(low: float | None, high: float | None, expected: str) -> None:
    assert judge_min(low, high, 50_000) == expected


@contextlib.contextmanager
def role_without_createdb(inst: Instance) -> Any:
    name = "phase2_bench_no_createdb"
    with inst.connect() as conn, contextlib.suppress(psycopg.errors.DuplicateObject):
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN NOCREATEDB").format(sql.Identifier(name)))
    try:
        yield make_conninfo(inst.dsn, user=name)
    finally:
        with inst.connect() as conn:
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def test_skipped_with_a_reason_where_no_scratch_database_may_be_created(
    loaded_pair: InstancePair, harness_config: HarnessConfig, tmp_path: Path
) -> None:
    with role_without_createdb(loaded_pair.before) as dsn:
        restricted = InstancePair(
            Instance("before", dsn, "external"), Instance("after", dsn, "external"), loaded_pair.engine
        )
        ctx = SuiteContext(
            harness_config, restricted, require_loaded(loaded_pair), MeasureSettings(), load_targets(), tmp_path, False
        )
        section = run(ctx)
    assert section["skipped"] and "CREATEDB" in section["skipped"]
    assert section["verdicts"] == []
