"""The sweep suite: log-spaced parameter slots, where-it-holds statements from given curves, and one real sweep
of the loaded ci pair that yields a curve per dimension with its statement and verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.core.config import HarnessConfig
from bench.db.instances import InstancePair
from bench.judge.verdicts import load_targets
from bench.load.loader import require_loaded
from bench.measure.suites import SuiteContext
from bench.measure.suites.sweep import (
    DIMENSIONS,
    WINDOWS,
    holds_statement,
    log_spaced_slots,
    pooled_curve,
    reach,
    run,
)
from bench.measure.timing import MeasureSettings

QUICK = MeasureSettings(warmup=1, min_rounds=3, max_rounds=3, budget_s=0.01, statement_timeout_ms=10_000)
ALLOWED = {"below", "within", "above", "inconclusive", "failed", "met", "not met"}


def test_log_spaced_slots_spread_a_zipf_tail() -> None:
    counts = [1] * 500 + [2] * 100 + [5] * 20 + [50, 400, 3_000, 40_000]
    slots = log_spaced_slots(counts, 8)
    assert len(slots) == 8
    quantiles = [q for _, q in slots]
    assert quantiles == sorted(quantiles)
    assert quantiles[0] == 0.0 and quantiles[-1] == 1.0
    # plain quantiles would put 7 of 8 slots on the count 1; log spacing reaches the tail
    ordered = sorted(counts)
    picked = {ordered[round(q * (len(ordered) - 1))] for q in quantiles}
    assert {1, 40_000, 3_000} <= picked


def test_log_spaced_slots_without_candidates() -> None:
    assert log_spaced_slots([], 8) == ()


def _point(x: float, low: float | None, high: float | None, judgement: str = "within") -> dict[str, Any]:
    point = None if low is None or high is None else (low + high) / 2
    return {"x": x, "group": str(x), "speedup": point, "low": low, "high": high, "judgement": judgement}


def test_statement_names_the_threshold_above_which_the_promise_holds() -> None:
    curve = [_point(1, 0.8, 1.1, "below"), _point(10, 1.5, 2.5, "inconclusive"), _point(100, 2.2, 4.0)]
    curve.append(_point(1_000, 5.5, 9.0, "above"))
    statement = holds_statement(curve, "events", 2.0, 5.0)
    assert "for events >= 100" in statement
    assert "2 reaches, 1 short, 1 unclear" in statement and "1 above 5x" in statement


def test_statement_for_a_promise_that_holds_for_short_windows_only() -> None:
    curve = [_point(1, 3.0, 4.0), _point(24, 2.1, 3.0), _point(168, 0.9, 1.2, "below")]
    assert "for hours <= 24" in holds_statement(curve, "hours", 2.0, 5.0)


def test_statement_when_the_promise_holds_nowhere_or_everywhere() -> None:
    nowhere = holds_statement([_point(1, 0.9, 1.1, "below"), _point(5, 1.2, 1.9, "below")], "events", 2.0, 5.0)
    assert nowhere.startswith(">= 2x nowhere") and "best point" in nowhere
    everywhere = holds_statement([_point(1, 2.0, 3.0), _point(5, 2.5, 4.0)], "events", 2.0, 5.0)
    assert "across the whole sampled 1-5" in everywhere


def test_a_failed_point_breaks_the_run_and_is_counted() -> None:
    curve = [_point(1, 2.5, 3.0), _point(10, None, None, "failed"), _point(100, 2.5, 3.0)]
    assert reach(curve[1], 2.0) == "failed"
    assert "1 failed" in holds_statement(curve, "events", 2.0, 5.0)


def _timed(group: str, x: float, before: list[Any], after: list[Any], failed: str | None = None) -> dict[str, Any]:
    return {"group": group, "x": x, "case": "c", "label": group, "failed": failed,
            "latencies_ms": {"before": before, "after": after}}  # fmt: skip


def test_pooled_curve_takes_the_geometric_mean_of_a_group() -> None:
    promise = load_targets(None).promise("session_timeline")
    points = [
        _timed("s00", 3.0, [8.0] * 5, [2.0] * 5),
        _timed("s00", 3.0, [4.0] * 5, [4.0] * 5),
        _timed("s01", 9.0, [1.0], [None], "after: statement timeout"),
    ]
    curve = pooled_curve(points, promise, seed=1)
    assert [c["x"] for c in curve] == [3.0, 9.0]
    assert curve[0]["speedup"] == pytest.approx(2.0)  # sqrt(4 * 1)
    assert curve[0]["n_params"] == 2
    assert curve[1]["speedup"] is None and curve[1]["judgement"] == "failed" and "timeout" in curve[1]["failed"]


@pytest.mark.slow
def test_sweep_of_the_ci_dataset_gives_a_curve_per_dimension(
    loaded_pair: InstancePair, harness_config: HarnessConfig, tmp_path: Path
) -> None:
    ctx = SuiteContext(
        harness_config, loaded_pair, require_loaded(loaded_pair), QUICK, load_targets(None), tmp_path, False
    )
    section = run(ctx)
    json.dumps(section)  # lands in the results document as is
    assert section["name"] == "sweep" and section["skipped"] is None
    curves = {c["dimension"]: c for c in section["records"]["curves"]}
    assert set(curves) == {d.name for d in DIMENSIONS}
    for dim in DIMENSIONS:
        curve = curves[dim.name]
        assert curve["promise"] == dim.promise and curve["statement"]
        assert curve["points"], dim.name
        for point in curve["points"]:
            assert {"x", "speedup", "low", "high", "judgement"} <= set(point)
            if point["speedup"] is not None:
                assert point["low"] <= point["high"]
    windows = {p["x"] for p in section["records"]["points"] if p["dimension"] == "project_query_window"}
    assert windows == {hours for _, hours in WINDOWS}
    for point in section["records"]["points"]:
        assert len(point["latencies_ms"]["before"]) == len(point["latencies_ms"]["after"]) == 3
    names = [v["promise"] for v in section["verdicts"]]
    assert {f"{d.promise}/{d.name}" for d in DIMENSIONS} <= set(names)
    assert {f"time_range_p95/{w}" for w, _ in WINDOWS} <= set(names)
    assert {v["verdict"] for v in section["verdicts"]} <= ALLOWED
    assert not any(v["gated"] for v in section["verdicts"])
