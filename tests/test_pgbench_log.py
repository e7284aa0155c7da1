"""pgbench's per-transaction log, parsed against a recorded one, and the pure figures of the concurrency suite.

tests/data/pgbench_log/ holds the two files (one per thread) of a real pgbench 15.20 run:
`pgbench -M prepared -c 2 -j 2 -T 1 --rate 60 --latency-limit 15 --log -f light.sql@3 -f heavy.sql@1` against
the ci dataset. pgbench's own closing report of that run said: 32 transactions processed, 19 skipped (15 of
script 0, 4 of script 1), 10 of 32 above the 15.0 ms latency limit. The parser must agree with it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench.judge.load_verdicts import judge_at_least, load_verdicts, phase_summary, ratio_verdict, rounds_figure
from bench.judge.pgbench_log import (
    OK,
    SKIPPED,
    LogFormatError,
    parse_log,
    percentile_curve,
    read_logs,
    summarize_by_script,
)
from bench.judge.stats import rounds_interval
from bench.measure.suites.concurrency import next_rate

RECORDED = sorted((Path(__file__).parent / "data" / "pgbench_log").glob("pgbench_log.*"))


@pytest.fixture(scope="module")
def recorded() -> object:
    return read_logs(RECORDED, rate_limited=True)


def test_recorded_log_agrees_with_pgbench_own_report(recorded: object) -> None:
    log = recorded
    assert len(RECORDED) == 2  # one file per thread, read together
    summary = summarize_by_script(log, {0: "light", 1: "heavy"}, 1.0, 1.0, latency_limit_ms=15.0)  # type: ignore[arg-type]
    assert summary["all"]["transactions"] == 32
    assert summary["all"]["skipped"] == 19
    assert summary["all"]["late"] == 10
    assert (summary["light"]["transactions"], summary["light"]["skipped"]) == (25, 15)
    assert (summary["heavy"]["transactions"], summary["heavy"]["skipped"]) == (7, 4)
    assert summary["light"]["late"] + summary["heavy"]["late"] == 10
    assert summary["all"]["failed"] == 0


def test_latency_holds_the_schedule_lag_and_execution_is_without_it() -> None:
    # the first line of the recorded log: 22,217 us from the scheduled start, 2,752 us of it schedule lag
    log = parse_log(["0 1 22217 0 1796111945 590932 2752"], rate_limited=True)
    summary = summarize_by_script(log, {0: "s"}, 1.0, 1.0, None)["s"]
    assert summary["latency_ms"]["max"] == pytest.approx(22.217)
    assert summary["exec_ms"]["max"] == pytest.approx(22.217 - 2.752)
    assert summary["lag_ms"]["max"] == pytest.approx(2.752)
    assert summary["late"] is None  # no limit given, no count invented


def test_skipped_and_failed_transactions_are_never_latencies() -> None:
    lines = ["0 1 skipped 0 10 0 5", "0 2 failed 0 10 100 0", "0 3 1000 0 10 200 0"]
    log = parse_log(lines, rate_limited=True)
    assert log.status.tolist() == [SKIPPED, 2, OK]
    summary = summarize_by_script(log, {0: "s"}, 2.0, 1.0, None)["all"]
    assert (summary["transactions"], summary["skipped"], summary["failed"]) == (1, 1, 1)
    assert summary["tps"] == 0.5  # completed transactions only, over the window
    assert summary["latency_ms"]["p50"] == 1.0


def test_sampling_rate_scales_throughput_back() -> None:
    log = parse_log([f"0 {i} 1000 0 10 {i} " for i in range(10)], rate_limited=False)
    assert summarize_by_script(log, {}, 1.0, 0.1, None)["all"]["tps"] == pytest.approx(100.0)


def test_warm_up_is_cut_by_completion_time(recorded: object) -> None:
    log = recorded
    start = log.first_start_us  # type: ignore[attr-defined]
    later = log.between(start + 500_000, start + 10_000_000)  # type: ignore[attr-defined]
    assert 0 < len(later) < len(log)  # type: ignore[arg-type]
    assert later.end_us.min() >= start + 500_000


def test_a_line_of_the_wrong_shape_names_its_number() -> None:
    with pytest.raises(LogFormatError, match="line 2: 6 fields, expected 7"):
        parse_log(["0 1 100 0 10 0 3", "0 2 100 0 10 0"], rate_limited=True)
    with pytest.raises(LogFormatError, match="line 1: time 'x'"):
        parse_log(["0 1 x 0 10 0"], rate_limited=False)


def test_percentile_curve_goes_only_as_deep_as_the_count() -> None:
    curve = percentile_curve(np.arange(1.0, 101.0) * 1000)  # 100 values: 99% is the deepest meaningful point
    percentiles = [p for p, _ in curve]
    assert percentiles[-1] == 100.0 and 99.0 in percentiles and 99.9 not in percentiles
    assert curve[-1][1] == 100.0  # ms
    assert percentile_curve(np.empty(0)) == []


def test_rounds_interval_is_the_range_with_its_order_statistics_confidence() -> None:
    est = rounds_interval([3.0, 1.0, 2.0])
    assert (est.point, est.low, est.high) == (2.0, 1.0, 3.0)
    assert est.confidence == pytest.approx(0.75)
    assert rounds_interval([1.0] * 6).confidence == pytest.approx(1 - 2 / 64)
    with pytest.raises(ValueError):
        rounds_interval([])
    assert rounds_figure([None, 0.0]) is None  # a round with nothing measured gives no figure, not a zero


def _round(role: str, p95: float, tps: float) -> dict[str, object]:
    figures = {
        "transactions": 100,
        "skipped": 0,
        "failed": 0,
        "late": 0,
        "tps": tps,
        "latency_ms": {"p50": p95 / 2, "p95": p95, "p99": p95 * 1.5, "p99.9": p95 * 2, "max": p95 * 3},
        "exec_ms": {"p95": p95},
        "lag_ms": {"p95": 0.1},
    }
    cpu = {"driver_share": 0.2, "machine_busy": 0.5, "driver_cpu_s": 1.0, "server_cpu_s": 4.0}
    return {"role": role, "aborted": False, "readers": {"all": figures, "q": figures}, "cpu": cpu}


def test_a_regression_under_load_is_flagged_and_a_steady_one_is_ok() -> None:
    slower = [_round("before", 10.0 + i * 0.1, 500.0) for i in range(3)]
    slower += [_round("after", 15.0 + i * 0.1, 400.0) for i in range(3)]
    summary = phase_summary(slower, ["q"], seed=1)
    row = summary["scripts"]["q"]
    assert row["before"]["p95"]["point"] == pytest.approx(10.1)
    assert row["p95_speedup"]["high"] < 1 / 1.1  # after clearly 1.5x slower
    assert ratio_verdict("p95", row["p95_speedup"], "P95", 10.0).verdict == "regression"
    assert ratio_verdict("tps", row["tps_ratio"], "tps", 10.0).verdict == "regression"
    same = [_round(role, 10.0, 500.0) for role in ("before", "after", "after", "before", "before", "after")]
    steady = phase_summary(same, ["q"], seed=1)["scripts"]["all"]
    assert ratio_verdict("p95", steady["p95_speedup"], "P95", 10.0).verdict == "ok"
    assert ratio_verdict("missing", None, "P95", 10.0).verdict == "failed"


def test_load_verdicts_judge_the_specification_bounds() -> None:
    rounds = [_round(role, p95, 500.0) for role, p95 in (("before", 20.0), ("after", 150.0))] * 3
    phase = {"load": {"rate": 200.0}, "summary": phase_summary(rounds, ["q"], seed=1)}
    steps = [{"offered_events_per_s": 2000.0, "passed": True}, {"offered_events_per_s": 4000.0, "passed": False}]
    search = {
        "read_p95_bound_ms": 100.0,
        "before": {"highest_sustained_events_per_s": 2000.0, "limit_found": True, "steps": steps},
        "after": {"highest_sustained_events_per_s": 60_000.0, "limit_found": False, "steps": steps},
    }
    verdicts = {
        v.promise: v for v in load_verdicts({"phases": {"open_loop_prepared": phase}, "ingest_search": search}, 10)
    }
    assert verdicts["load_read_p95_before"].verdict == "met"
    assert verdicts["load_read_p95_after"].verdict == "not met"
    assert verdicts["load_ingest_before"].verdict == "not met"
    assert verdicts["load_ingest_after"].verdict == "met"
    assert all(not v.gated for v in verdicts.values())
    assert judge_at_least(10_000.0, 50_000.0, stopped_early=True) == "inconclusive"


def test_the_ingest_search_doubles_then_halves_the_interval() -> None:
    assert next_rate(None, None, 1000.0) == 2000.0
    assert next_rate(1000.0, None, 1000.0) == 2000.0
    assert next_rate(None, 1000.0, 1000.0) == 500.0
    assert next_rate(1000.0, 4000.0, 4000.0) == pytest.approx(2000.0)
