"""Pooled repeat rounds and baseline ratio intervals (bench/judge/pooled.py) on the stored 50k-row ci run.

No database and no timing: documents are built by editing the stored run's latencies.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench.judge.pooled import (
    POOLED_METHOD,
    baseline_ratio_interval,
    between_run_share,
    pairs_by_round,
    pooled_speedup_interval,
)

STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def stored() -> Doc:
    return json.loads(STORED.read_text())


def timed_cases(doc: Doc) -> list[Doc]:
    return [c for c in doc["cases"] if c["speedup"] and not c["failures"]]


def with_rounds(samples: list[Doc], factors: list[float]) -> list[Doc]:
    """The samples repeated once per round, round r's after latencies scaled by factors[r] (a whole run that
    was slower or faster: the between-run variation a single round cannot see)."""
    out = []
    for r, factor in enumerate(factors):
        for sample in samples:
            copied = copy.deepcopy(sample)
            copied["round"] = r
            copied["latencies_ms"]["after"] = [x * factor for x in sample["latencies_ms"]["after"]]
            out.append(copied)
    return out


def width(low: float, high: float) -> float:
    return high / low  # intervals of ratios compare on the log scale


def test_a_document_without_rounds_gives_todays_numbers(stored: Doc) -> None:
    seed = stored["measurement"]["seed"]
    for case in timed_cases(stored):
        assert all("round" not in s for s in case["samples"])
        pooled = pooled_speedup_interval(pairs_by_round(case["samples"]), seed=seed)
        assert pooled.estimate.to_dict() == case["speedup"], case["name"]
        assert (pooled.n_rounds, pooled.between_run_share) == (1, None)


# Between-run spreads like the (one case measured 1.14x in one run and 0.79x in the next).
@pytest.mark.parametrize("factors", [[1 / 1.14, 1 / 0.79], [1 / 1.14, 1 / 0.79, 1.0], [1.0, 1.2, 0.85]])
def test_the_pooled_interval_is_never_narrower_than_one_rounds(stored: Doc, factors: list[float]) -> None:
    for case in timed_cases(stored):
        rounds = pairs_by_round(with_rounds(case["samples"], factors))
        pooled = pooled_speedup_interval(rounds, seed=1).estimate
        assert pooled.method == POOLED_METHOD
        for single in rounds:
            one = pooled_speedup_interval([single], seed=1).estimate
            assert width(pooled.low, pooled.high) >= width(one.low, one.high), (case["name"], factors)


def test_identical_rounds_narrow_only_the_execution_noise(stored: Doc) -> None:
    """Rounds that agree exactly are more executions of the same parameters: the execution noise shrinks, the
    between-parameter spread does not (parameters are crossed with rounds, never counted as new ones)."""
    for case in timed_cases(stored):
        rounds = pairs_by_round(with_rounds(case["samples"], [1.0, 1.0, 1.0]))
        pooled = pooled_speedup_interval(rounds, seed=1).estimate
        one = pooled_speedup_interval(rounds[:1], seed=1).estimate
        assert width(pooled.low, pooled.high) <= width(one.low, one.high) * 1.01, case["name"]
        if case["speedup"]["n_params"] > 1:  # many parameters: their spread dominates and is kept
            assert width(pooled.low, pooled.high) > width(one.low, one.high) ** 0.5, case["name"]


def test_rounds_are_grouped_in_order_and_missing_round_is_round_0() -> None:
    samples = [
        {"round": 1, "latencies_ms": {"before": [2.0], "after": [1.0]}},
        {"latencies_ms": {"before": [4.0], "after": [1.0]}},
        {"round": 1, "latencies_ms": {"before": [3.0], "after": [1.0]}},
    ]
    assert pairs_by_round(samples) == [[([4.0], [1.0])], [([2.0], [1.0]), ([3.0], [1.0])]]


def test_the_between_run_share_grows_with_the_between_run_spread(stored: Doc) -> None:
    case = next(c for c in timed_cases(stored) if c["name"] == "control_tags_overlap")
    same = between_run_share(pairs_by_round(with_rounds(case["samples"], [1.0, 1.0, 1.0])))
    spread = between_run_share(pairs_by_round(with_rounds(case["samples"], [1.0, 1.5, 0.6])))
    assert same == 0.0
    assert spread is not None and spread > 0.9
    assert between_run_share([[([1.0], [1.0])]]) is None  # one round: nothing to estimate


def test_the_pooled_point_is_the_geometric_mean_over_rounds(stored: Doc) -> None:
    case = timed_cases(stored)[0]
    rounds = pairs_by_round(with_rounds(case["samples"], [1.0, 2.0]))
    single = pooled_speedup_interval(rounds[:1]).estimate.point
    assert pooled_speedup_interval(rounds).estimate.point == pytest.approx(single / 2**0.5)


class TestBaselineRatio:
    def test_a_synthetic_30pct_regression_lies_wholly_below_the_tolerance(self, stored: Doc) -> None:
        case = next(c for c in timed_cases(stored) if c["name"] == "control_last_24h")
        base = pairs_by_round(case["samples"])
        now = pairs_by_round(with_rounds(case["samples"], [1 / 0.7]))
        estimate = baseline_ratio_interval(now, base)
        assert estimate.point == pytest.approx(0.7)
        assert estimate.high < 0.85

    def test_a_synthetic_0pct_change_reaches_1(self, stored: Doc) -> None:
        for case in timed_cases(stored):
            rounds = pairs_by_round(case["samples"])
            estimate = baseline_ratio_interval(rounds, rounds)
            assert estimate.point == pytest.approx(1.0)
            assert estimate.low <= 1.0 <= estimate.high, case["name"]

    def test_empty_sides_are_refused(self) -> None:
        with pytest.raises(ValueError, match="in baseline"):
            baseline_ratio_interval([[([1.0], [1.0])]], [[]])


def test_the_analysis_pools_a_document_with_rounds(stored: Doc) -> None:
    from bench.core.cases import load_cases
    from bench.judge.analysis import analyze_case

    case = next(c for c in load_cases() if c.name == "control_tags_overlap")
    samples = next(c for c in stored["cases"] if c["name"] == case.name)["samples"]
    one = analyze_case(case, copy.deepcopy(samples), seed=42)
    assert "rounds" not in one
    pooled = analyze_case(case, with_rounds(samples, [1.0, 1.3]), seed=42)
    assert pooled["speedup"]["method"] == POOLED_METHOD
    assert pooled["rounds"]["n_rounds"] == 2
    assert pooled["rounds"]["between_run_share"] > 0.5
    assert pooled["speedup"]["high"] / pooled["speedup"]["low"] > one["speedup"]["high"] / one["speedup"]["low"]
