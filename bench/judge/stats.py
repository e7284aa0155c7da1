"""Latency summaries and speedup estimates: pure functions over recorded samples.

A speedup is `median(before) / median(after)` for one parameter sample (one session id, one project id,
one JSONB filter). The median, not the mean, because one execution that meets a checkpoint or an
autovacuum should not move the figure.

Why the geometric mean over parameters: speedups are ratios, and ratios combine by multiplication. The
arithmetic mean of 2x and 0.5x says 1.25x although one parameter lost exactly what the other gained;
the geometric mean says 1x, and it agrees with itself whichever instance is put on top
(Fleming & Wallace, "How not to lie with statistics", CACM 1986).

Why a hierarchical (two-level) bootstrap: the design document promises a speedup for a kind of query, so
the uncertainty that matters is mostly between parameters (a session with 40 events against one with
40,000). The executions of one parameter share a plan, rows and cache state; pooling 10 parameters x 30
executions as 300 independent draws would give an interval far narrower than the evidence. So each
replicate first resamples parameters with replacement, then resamples the before and after executions of
each chosen parameter, so that measurement noise is carried along instead of being taken as exact.
The interval is the plain percentile interval of the replicates; it is not guaranteed to contain the
point estimate when medians of few executions are skewed, and is reported as computed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

# pyperf's `check` warns when the minimum or maximum is 50% or more away from the mean.
FAR_OUT_FRACTION = 0.5

HIERARCHICAL_METHOD = "hierarchical_bootstrap_percentile"
SINGLE_PARAMETER_METHOD = "bootstrap_percentile"


@dataclass(frozen=True)
class LatencySummary:
    """Figures for one list of executions of one query on one instance.

    `n` counts the successful executions the figures come from; `failures` the failed or timed-out
    ones, which are excluded from every figure. When all executions failed, `n` is 0, every figure is
    None and `unstable` is True: there is nothing to trust.

    Percentiles use numpy's default "linear" method (Hyndman & Fan definition 7, as R's default and
    Excel's PERCENTILE.INC). With ~30 executions p99 interpolates between the two slowest, so read it as
    an indication of the tail, not a measured p99.
    """

    n: int
    failures: int
    median_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    mean_ms: float | None
    stdev_ms: float | None
    min_ms: float | None
    max_ms: float | None
    cv: float | None
    unstable: bool

    @property
    def all_failed(self) -> bool:
        return self.n == 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize_latencies(samples_ms: Sequence[float | None], unstable_cv: float = 0.10) -> LatencySummary:
    """Summarise executions, where None marks a failed or timed-out one (never a fast time)."""
    failures = sum(1 for sample in samples_ms if sample is None)
    succeeded = [sample for sample in samples_ms if sample is not None]
    if not succeeded:
        return LatencySummary(
            n=0,
            failures=failures,
            median_ms=None,
            p95_ms=None,
            p99_ms=None,
            mean_ms=None,
            stdev_ms=None,
            min_ms=None,
            max_ms=None,
            cv=None,
            unstable=True,
        )
    values = _positive_array(succeeded, "samples_ms")
    median, p95, p99 = (float(q) for q in np.percentile(values, [50, 95, 99]))
    mean = float(values.mean())
    # Sample standard deviation (ddof=1); one execution has no measurable spread.
    stdev = float(values.std(ddof=1)) if values.size >= 2 else None
    cv = stdev / mean if stdev is not None else None
    return LatencySummary(
        n=int(values.size),
        failures=failures,
        median_ms=median,
        p95_ms=p95,
        p99_ms=p99,
        mean_ms=mean,
        stdev_ms=stdev,
        min_ms=float(values.min()),
        max_ms=float(values.max()),
        cv=cv,
        unstable=_is_unstable(values, mean, cv, unstable_cv),
    )


def _is_unstable(values: FloatArray, mean: float, cv: float | None, unstable_cv: float) -> bool:
    """pyperf's rule: stdev >= 10% of the mean, or the min or max >= 50% away from the mean.

    A single execution counts as unstable because nothing shows that it would repeat.
    """
    if cv is None:
        return True
    far_out = max(abs(float(values.min()) - mean), abs(float(values.max()) - mean)) >= FAR_OUT_FRACTION * mean
    return cv >= unstable_cv or far_out


def speedup(before_ms: Sequence[float | None], after_ms: Sequence[float | None]) -> float | None:
    """median(before) / median(after); None when either side is empty or has any failure.

    A case with failures is not a speedup: dropping the failed executions would keep only the ones that
    happened to finish and flatter the side that timed out.
    """
    if not before_ms or not after_ms:
        return None
    if any(sample is None for sample in before_ms) or any(sample is None for sample in after_ms):
        return None
    before = _positive_array([s for s in before_ms if s is not None], "before_ms")
    after = _positive_array([s for s in after_ms if s is not None], "after_ms")
    return float(np.median(before) / np.median(after))


def geometric_mean(values: Iterable[float]) -> float:
    array = _positive_array(list(values), "values")
    return float(np.exp(np.log(array).mean()))


@dataclass(frozen=True)
class SpeedupEstimate:
    """A speedup (before/after, above 1 means after is faster) with its bootstrap interval."""

    point: float
    low: float
    high: float
    n_params: int
    method: str
    confidence: float
    n_boot: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def bootstrap_speedup_interval(
    pairs: Sequence[tuple[Sequence[float], Sequence[float]]],
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> SpeedupEstimate:
    """Geometric mean of per-parameter median ratios, with a two-level bootstrap percentile interval.

    `pairs` holds one (before_ms, after_ms) pair per parameter, failures already excluded: check them with
    `speedup` or `summarize_latencies` first, since a case with failures gets no estimate. With a single
    parameter only the executions are resampled. The same seed always gives the same interval.
    """
    if not pairs:
        raise ValueError("bootstrap_speedup_interval needs at least one (before, after) pair")
    _check_bootstrap_settings(n_boot, confidence)
    parameters = [
        (_positive_array(before, f"pairs[{i}] before"), _positive_array(after, f"pairs[{i}] after"))
        for i, (before, after) in enumerate(pairs)
    ]
    n_params = len(parameters)
    # Work in logs: the geometric mean of ratios is the exp of the mean of log ratios.
    point_log_ratios = np.array([np.log(np.median(before) / np.median(after)) for before, after in parameters])
    point = float(np.exp(point_log_ratios.mean()))

    rng = np.random.default_rng(seed)
    # Outer level: which parameter fills each of the n_params slots of each replicate.
    chosen = rng.integers(0, n_params, size=(n_boot, n_params))
    replicate_log_ratios = np.empty((n_boot, n_params), dtype=np.float64)
    for index, (before, after) in enumerate(parameters):
        slots = chosen == index
        n_slots = int(slots.sum())
        if n_slots:
            # Inner level: a fresh resample of executions for every slot, so a parameter drawn twice in
            # one replicate contributes two independent draws, as the two-level bootstrap requires.
            replicate_log_ratios[slots] = _resampled_log_median_ratios(rng, before, after, n_slots)
    replicates = np.exp(replicate_log_ratios.mean(axis=1))
    low, high = _percentile_interval(replicates, confidence)
    return SpeedupEstimate(
        point=point,
        low=low,
        high=high,
        n_params=n_params,
        method=HIERARCHICAL_METHOD if n_params > 1 else SINGLE_PARAMETER_METHOD,
        confidence=confidence,
        n_boot=n_boot,
    )


def ratio_interval(
    before_values: Sequence[float],
    after_values: Sequence[float],
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> SpeedupEstimate:
    """One before/after ratio of medians with its bootstrap interval (one parameter, or storage sizes).

    For deterministic figures such as one size per instance, low == high == point.
    """
    return bootstrap_speedup_interval([(before_values, after_values)], n_boot=n_boot, confidence=confidence, seed=seed)


def median_interval(
    values: Sequence[float], n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Bootstrap percentile interval of the median of `values`, one level: each value is a unit (a repetition
    of a write workload), so there is nothing below it to resample."""
    _check_bootstrap_settings(n_boot, confidence)
    array = _positive_array(values, "values")
    medians = _resampled_medians(np.random.default_rng(seed), array, n_boot)
    return _percentile_interval(medians, confidence)


def _check_bootstrap_settings(n_boot: int, confidence: float) -> None:
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")


def _resampled_medians(rng: np.random.Generator, values: FloatArray, count: int) -> FloatArray:
    """`count` medians, each of a resample of `values` with replacement: the one resampling step of every
    bootstrap here."""
    return np.median(rng.choice(values, size=(count, values.size), replace=True), axis=1)


def _resampled_log_median_ratios(
    rng: np.random.Generator, before: FloatArray, after: FloatArray, count: int
) -> FloatArray:
    return np.log(_resampled_medians(rng, before, count) / _resampled_medians(rng, after, count))


def _percentile_interval(replicates: FloatArray, confidence: float) -> tuple[float, float]:
    tail = (1.0 - confidence) / 2.0
    low, high = np.quantile(replicates, [tail, 1.0 - tail])
    return float(low), float(high)


@dataclass(frozen=True)
class WeightedTimeEstimate:
    """Frequency-weighted database time (ms per unit of use), before and after, and their ratio.

    `speedup` is before/after like every other speedup here: above 1 means after spends less time.
    """

    before_ms: float
    before_low: float
    before_high: float
    after_ms: float
    after_low: float
    after_high: float
    speedup: float
    low: float
    high: float
    n_cases: int
    n_params: int
    method: str
    confidence: float
    n_boot: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


WEIGHTED_METHOD = "hierarchical_bootstrap_percentile_weighted_sum"


def bootstrap_weighted_time(
    cases: Sequence[tuple[float, Sequence[tuple[Sequence[float], Sequence[float]]]]],
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> WeightedTimeEstimate:
    """Sum over cases of weight x mean over parameters of the median execution, before and after.

    `cases` holds (weight, pairs) per case: its executions per unit of use, and one (before_ms, after_ms) pair
    per parameter draw (a value drawn twice appears twice). This is the time a workload spends, so cases add
    up in milliseconds and a case's parameters average arithmetically, unlike the geometric mean of ratios
    above. The interval comes from the same two-level bootstrap, per case: parameters are resampled, then
    each chosen parameter's executions; before and after share the parameter draw, so the ratio is paired.
    """
    if not cases:
        raise ValueError("bootstrap_weighted_time needs at least one (weight, pairs) case")
    if n_boot < 1:
        raise ValueError(f"n_boot must be at least 1, got {n_boot}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (exclusive), got {confidence}")
    rng = np.random.default_rng(seed)
    point_before = point_after = 0.0
    replicate_before = np.zeros(n_boot, dtype=np.float64)
    replicate_after = np.zeros(n_boot, dtype=np.float64)
    n_params = 0
    for c, (weight, pairs) in enumerate(cases):
        if not (math.isfinite(weight) and weight > 0.0):
            raise ValueError(f"cases[{c}] weight must be a finite positive number, found {weight!r}")
        if not pairs:
            raise ValueError(f"cases[{c}] needs at least one (before, after) pair")
        parameters = [
            (
                _positive_array(before, f"cases[{c}] pairs[{i}] before"),
                _positive_array(after, f"cases[{c}] pairs[{i}] after"),
            )
            for i, (before, after) in enumerate(pairs)
        ]
        n_params += len(parameters)
        point_before += weight * float(np.mean([np.median(b) for b, _ in parameters]))
        point_after += weight * float(np.mean([np.median(a) for _, a in parameters]))
        chosen = rng.integers(0, len(parameters), size=(n_boot, len(parameters)))
        sums_before = np.zeros((n_boot, len(parameters)), dtype=np.float64)
        sums_after = np.zeros((n_boot, len(parameters)), dtype=np.float64)
        for index, (before, after) in enumerate(parameters):
            slots = chosen == index
            n_slots = int(slots.sum())
            if n_slots:
                sums_before[slots] = _resampled_medians(rng, before, n_slots)
                sums_after[slots] = _resampled_medians(rng, after, n_slots)
        replicate_before += weight * sums_before.mean(axis=1)
        replicate_after += weight * sums_after.mean(axis=1)
    tail = (1.0 - confidence) / 2.0
    quantiles = [tail, 1.0 - tail]
    before_low, before_high = (float(q) for q in np.quantile(replicate_before, quantiles))
    after_low, after_high = (float(q) for q in np.quantile(replicate_after, quantiles))
    low, high = (float(q) for q in np.quantile(replicate_before / replicate_after, quantiles))
    return WeightedTimeEstimate(
        before_ms=point_before,
        before_low=before_low,
        before_high=before_high,
        after_ms=point_after,
        after_low=after_low,
        after_high=after_high,
        speedup=point_before / point_after,
        low=low,
        high=high,
        n_cases=len(cases),
        n_params=n_params,
        method=WEIGHTED_METHOD,
        confidence=confidence,
        n_boot=n_boot,
    )


def _positive_array(values: Sequence[float], what: str) -> FloatArray:
    """Latencies and ratios must be finite and positive: a zero or negative time is a broken timer."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{what} must be a non-empty flat sequence of numbers")
    if not np.all(np.isfinite(array)) or np.any(array <= 0.0):
        bad = next(v for v in array.tolist() if not (math.isfinite(v) and v > 0.0))
        raise ValueError(f"{what} must hold finite positive numbers, found {bad!r}")
    return array


ROUNDS_METHOD = "median_of_rounds_min_max"


@dataclass(frozen=True)
class RoundsEstimate:
    """One figure measured once per round (a P95, a throughput): the median of the rounds, between min and max.

    The range of n independent rounds covers their population median with probability 1 - 2 * 0.5**n (both
    ends fall on the same side of it otherwise): 75% for 3 rounds, 94% for 5, 97% for 6. It needs no
    resampling and no assumption about the shape of the distribution; with few rounds it is what they show.
    """

    point: float
    low: float
    high: float
    n_rounds: int
    confidence: float
    method: str = ROUNDS_METHOD

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def rounds_interval(values: Sequence[float]) -> RoundsEstimate:
    array = _positive_array(values, "values")
    return RoundsEstimate(
        point=float(np.median(array)),
        low=float(array.min()),
        high=float(array.max()),
        n_rounds=int(array.size),
        confidence=1.0 - 2.0 * 0.5 ** int(array.size),
    )
