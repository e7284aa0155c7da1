"""Statistics computed from given samples: summaries, speedups, geometric means, bootstrap intervals."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bench.judge.stats import (
    HIERARCHICAL_METHOD,
    SINGLE_PARAMETER_METHOD,
    LatencySummary,
    bootstrap_speedup_interval,
    geometric_mean,
    ratio_interval,
    speedup,
    summarize_latencies,
)


def lognormal_pairs(
    n_params: int, n_samples: int, true_speedup: float, seed: int = 42, noise: float = 0.15
) -> list[tuple[list[float], list[float]]]:
    """Parameters of different sizes, each with noisy executions and the same true speedup."""
    rng = np.random.default_rng(seed)
    pairs = []
    for size_ms in rng.uniform(5.0, 50.0, n_params):
        before = rng.lognormal(math.log(size_ms), noise, n_samples)
        after = rng.lognormal(math.log(size_ms / true_speedup), noise, n_samples)
        pairs.append((before.tolist(), after.tolist()))
    return pairs


class TestSummarizeLatencies:
    def test_known_percentiles_use_linear_interpolation(self) -> None:
        summary = summarize_latencies([float(v) for v in range(1, 21)])
        assert summary.n == 20
        assert summary.failures == 0
        assert summary.median_ms == pytest.approx(10.5)
        # linear method: position 0.95 * 19 = 18.05 between the 19th and 20th values.
        assert summary.p95_ms == pytest.approx(19.05)
        assert summary.p99_ms == pytest.approx(19.81)
        assert summary.mean_ms == pytest.approx(10.5)
        assert summary.stdev_ms == pytest.approx(np.std(np.arange(1, 21), ddof=1))
        assert (summary.min_ms, summary.max_ms) == (1.0, 20.0)

    def test_failures_are_counted_and_excluded(self) -> None:
        summary = summarize_latencies([10.0, None, 12.0, None, 11.0])
        assert summary.n == 3
        assert summary.failures == 2
        assert summary.median_ms == 11.0
        assert summary.max_ms == 12.0
        assert not summary.all_failed

    def test_all_failed_has_no_figures_and_is_flagged(self) -> None:
        summary = summarize_latencies([None, None, None])
        assert summary.n == 0
        assert summary.failures == 3
        assert summary.all_failed
        assert summary.unstable
        assert summary.median_ms is None and summary.p95_ms is None and summary.mean_ms is None

    def test_tight_samples_are_stable(self) -> None:
        summary = summarize_latencies([100.0, 101.0, 99.0, 100.0, 102.0])
        assert summary.cv is not None and summary.cv < 0.02
        assert not summary.unstable

    def test_high_cv_is_unstable(self) -> None:
        summary = summarize_latencies([50.0, 100.0, 150.0, 100.0])
        assert summary.cv is not None and summary.cv > 0.10
        assert summary.unstable

    def test_far_out_maximum_is_unstable_even_with_low_cv(self) -> None:
        summary = summarize_latencies([100.0] * 99 + [160.0])
        assert summary.cv is not None and summary.cv < 0.10
        assert summary.unstable

    def test_single_execution_has_no_spread_and_is_unstable(self) -> None:
        summary = summarize_latencies([42.0])
        assert summary.median_ms == 42.0
        assert summary.stdev_ms is None and summary.cv is None
        assert summary.unstable

    def test_to_dict_round_trips(self) -> None:
        summary = summarize_latencies([3.0, None, 4.0, 5.0])
        assert LatencySummary(**summary.to_dict()) == summary
        assert summary.to_dict()["failures"] == 1

    @pytest.mark.parametrize("bad", [0.0, -1.0, math.nan, math.inf])
    def test_impossible_latency_is_rejected(self, bad: float) -> None:
        with pytest.raises(ValueError, match="finite positive"):
            summarize_latencies([10.0, bad])


class TestSpeedup:
    def test_ratio_of_medians(self) -> None:
        assert speedup([10.0, 20.0, 300.0], [5.0, 10.0, 15.0]) == pytest.approx(2.0)

    @pytest.mark.parametrize(
        ("before", "after"),
        [([10.0, None], [5.0, 5.0]), ([10.0, 10.0], [None, 5.0]), ([], [5.0]), ([5.0], [])],
    )
    def test_failures_or_missing_side_give_no_speedup(
        self, before: list[float | None], after: list[float | None]
    ) -> None:
        assert speedup(before, after) is None


class TestGeometricMean:
    def test_reciprocal_ratios_cancel(self) -> None:
        assert geometric_mean([2.0, 0.5]) == pytest.approx(1.0)

    def test_known_value(self) -> None:
        assert geometric_mean([1.0, 4.0, 16.0]) == pytest.approx(4.0)

    @pytest.mark.parametrize("values", [[], [1.0, 0.0], [2.0, -1.0]])
    def test_empty_or_non_positive_is_rejected(self, values: list[float]) -> None:
        with pytest.raises(ValueError):
            geometric_mean(values)


class TestBootstrapSpeedupInterval:
    def test_point_is_geomean_of_median_ratios_and_lies_in_interval(self) -> None:
        pairs = lognormal_pairs(n_params=10, n_samples=30, true_speedup=3.0)
        estimate = bootstrap_speedup_interval(pairs)
        expected_point = geometric_mean([float(np.median(b) / np.median(a)) for b, a in pairs])
        assert estimate.point == pytest.approx(expected_point)
        assert estimate.low < estimate.point < estimate.high
        assert estimate.low < 3.0 < estimate.high
        assert estimate.n_params == 10
        assert estimate.method == HIERARCHICAL_METHOD

    def test_more_executions_narrow_the_interval(self) -> None:
        few = bootstrap_speedup_interval(lognormal_pairs(n_params=8, n_samples=10, true_speedup=3.0))
        many = bootstrap_speedup_interval(lognormal_pairs(n_params=8, n_samples=200, true_speedup=3.0))
        assert many.high - many.low < (few.high - few.low) / 2

    def test_same_seed_same_interval_other_seed_other_interval(self) -> None:
        pairs = lognormal_pairs(n_params=5, n_samples=20, true_speedup=2.0)
        first = bootstrap_speedup_interval(pairs, seed=7)
        assert bootstrap_speedup_interval(pairs, seed=7) == first
        other = bootstrap_speedup_interval(pairs, seed=8)
        assert (other.low, other.high) != (first.low, first.high)
        assert other.point == first.point

    def test_identical_before_and_after_give_an_interval_around_one(self) -> None:
        pairs = [(before, list(before)) for before, _ in lognormal_pairs(n_params=6, n_samples=30, true_speedup=1)]
        estimate = bootstrap_speedup_interval(pairs)
        assert estimate.point == 1.0
        assert estimate.low < 1.0 < estimate.high
        assert estimate.low > 0.85 and estimate.high < 1.15

    def test_outer_level_carries_the_spread_between_parameters(self) -> None:
        # Noise-free executions: all uncertainty is which parameters were drawn. Half of the replicates of
        # two parameters draw the same one twice, so the 95% interval runs from one ratio to the other.
        pairs = [([20.0] * 5, [10.0] * 5), ([80.0] * 5, [10.0] * 5)]
        estimate = bootstrap_speedup_interval(pairs)
        assert estimate.point == pytest.approx(4.0)
        assert estimate.low == pytest.approx(2.0)
        assert estimate.high == pytest.approx(8.0)

    def test_parameters_may_have_different_numbers_of_executions(self) -> None:
        pairs = [([10.0, 11.0, 12.0], [5.0, 5.5]), ([40.0] * 7, [20.0, 21.0, 19.0, 20.0])]
        estimate = bootstrap_speedup_interval(pairs)
        assert estimate.point == pytest.approx(geometric_mean([11.0 / 5.25, 2.0]))
        assert 1.5 < estimate.low <= estimate.point <= estimate.high < 2.5

    def test_single_parameter_resamples_executions_only(self) -> None:
        pairs = lognormal_pairs(n_params=1, n_samples=30, true_speedup=2.0)
        estimate = bootstrap_speedup_interval(pairs)
        assert estimate.n_params == 1
        assert estimate.method == SINGLE_PARAMETER_METHOD
        assert estimate.low < estimate.point < estimate.high

    def test_confidence_level_widens_the_interval(self) -> None:
        pairs = lognormal_pairs(n_params=6, n_samples=20, true_speedup=2.0)
        narrow = bootstrap_speedup_interval(pairs, confidence=0.5)
        wide = bootstrap_speedup_interval(pairs, confidence=0.99)
        assert wide.low < narrow.low and narrow.high < wide.high
        assert wide.confidence == 0.99

    @pytest.mark.parametrize(
        ("pairs", "kwargs"),
        [
            ([], {}),
            ([([1.0], [1.0])], {"confidence": 1.0}),
            ([([1.0], [1.0])], {"n_boot": 0}),
            ([([1.0], [])], {}),
            ([([1.0, 0.0], [1.0])], {}),
        ],
    )
    def test_invalid_input_is_rejected(self, pairs: list[tuple[list[float], list[float]]], kwargs: dict) -> None:
        with pytest.raises(ValueError):
            bootstrap_speedup_interval(pairs, **kwargs)


def test_ratio_interval_of_deterministic_figures_is_a_point() -> None:
    estimate = ratio_interval([120.0], [100.0])
    assert estimate.point == estimate.low == estimate.high == pytest.approx(1.2)
    assert estimate.to_dict()["n_params"] == 1
