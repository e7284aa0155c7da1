"""Speedups pooled over independent measurement rounds, and a run's ratio to one or more baseline runs.

Why a third bootstrap level: one round (one server start, one case order) shares its cache state, its
checkpoints and the machine's mood of the moment, so the executions of one round are not independent of each
other, and the same case can measure 1.14x in one run and 0.79x in the next. Kalibera and Jones ("Rigorous
benchmarking in reasonable time", ISMM 2013) resample each level of such a design in turn: here rounds, then
the parameters within a chosen round, then each chosen parameter's before and after executions. The interval
then carries between-run variation; the geometric mean weighs every round alike. When every round measured the
same parameters (the usual case: the parameters come from the seed), one parameter draw is shared by all round
slots of a replicate (parameters are crossed with rounds, not nested in them), so repeating rounds never
passes the same few parameters off as new ones.

With one round the pooled estimate *is* bench.judge.stats.bootstrap_speedup_interval, so a results document
without "round" keys gets exactly the numbers it always had.

`between_run_share` is Kalibera and Jones' variance-component estimate for two levels over the per-(round,
parameter) log speedups: S2 = T2 - T1 / n1 (T2 the variance of round means, T1 the mean variance within a
round, n1 parameters per round), share = S2 / (S2 + T1), clamped to [0, 1]. A share near 1 says more rounds,
not more executions, would narrow the interval.

A baseline ratio (current / baseline speedup) is bootstrapped from both sides independently: the log ratio of
each replicate pair, so neither run is taken as exact. Several baseline documents pool as rounds of one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.judge.stats import (
    FloatArray,
    SpeedupEstimate,
    _check_bootstrap_settings,
    _percentile_interval,
    _positive_array,
    _resampled_log_median_ratios,
    bootstrap_speedup_interval,
)

POOLED_METHOD = "pooled_hierarchical_bootstrap_percentile"
RATIO_METHOD = "baseline_ratio_bootstrap_percentile"

Pair = tuple[Sequence[float], Sequence[float]]


@dataclass(frozen=True)
class PooledEstimate:
    """A speedup pooled over rounds: the estimate, how many rounds it pools, and the between-run variance share."""

    estimate: SpeedupEstimate
    n_rounds: int
    between_run_share: float | None  # None with one round: there is no between-run variation to estimate

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def pooled_speedup_interval(
    rounds: Sequence[Sequence[Pair]], n_boot: int = 2000, confidence: float = 0.95, seed: int = 0
) -> PooledEstimate:
    """Geometric-mean speedup over every (round, parameter), with a three-level bootstrap percentile interval.

    `rounds` holds, per round, one (before_ms, after_ms) pair per parameter, failures already excluded.
    """
    kept = [list(pairs) for pairs in rounds if pairs]
    if not kept:
        raise ValueError("pooled_speedup_interval needs at least one round with a (before, after) pair")
    if len(kept) == 1:
        return PooledEstimate(bootstrap_speedup_interval(kept[0], n_boot, confidence, seed), 1, None)
    point_log, replicates = _pooled_log_replicates(kept, n_boot, confidence, seed)
    low, high = _percentile_interval(np.exp(replicates), confidence)
    estimate = SpeedupEstimate(
        point=float(np.exp(point_log)),
        low=low,
        high=high,
        n_params=max(len(pairs) for pairs in kept),
        method=POOLED_METHOD,
        confidence=confidence,
        n_boot=n_boot,
    )
    return PooledEstimate(estimate, len(kept), between_run_share(kept))


def baseline_ratio_interval(
    current: Sequence[Sequence[Pair]],
    baseline: Sequence[Sequence[Pair]],
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> SpeedupEstimate:
    """The ratio current speedup / baseline speedup (below 1: the run lost ground), with its interval.

    Both arguments are lists of rounds as for pooled_speedup_interval; pass every baseline document's rounds
    in `baseline` to pool several baselines. The two sides are resampled independently (different streams).
    """
    now_point, now_reps = _pooled_log_replicates(_nonempty(current, "current"), n_boot, confidence, seed)
    base_point, base_reps = _pooled_log_replicates(_nonempty(baseline, "baseline"), n_boot, confidence, seed + 1)
    low, high = _percentile_interval(np.exp(now_reps - base_reps), confidence)
    return SpeedupEstimate(
        point=float(np.exp(now_point - base_point)),
        low=low,
        high=high,
        n_params=max(len(pairs) for pairs in current),
        method=RATIO_METHOD,
        confidence=confidence,
        n_boot=n_boot,
    )


def between_run_share(rounds: Sequence[Sequence[Pair]]) -> float | None:
    """Kalibera and Jones' between-run share of the variance of per-(round, parameter) log speedups."""
    logs = [np.array([_log_ratio(before, after) for before, after in pairs]) for pairs in rounds if pairs]
    if len(logs) < 2:
        return None
    within = float(np.mean([values.var(ddof=1) if values.size > 1 else 0.0 for values in logs]))
    n_per_round = float(np.mean([values.size for values in logs]))
    between = float(np.var([values.mean() for values in logs], ddof=1)) - within / n_per_round
    between = max(between, 0.0)
    total = between + within
    return 0.0 if total == 0 else min(1.0, between / total)


def _nonempty(rounds: Sequence[Sequence[Pair]], what: str) -> list[list[Pair]]:
    kept = [list(pairs) for pairs in rounds if pairs]
    if not kept:
        raise ValueError(f"baseline_ratio_interval needs at least one (before, after) pair in {what}")
    return kept


def _log_ratio(before: Sequence[float], after: Sequence[float]) -> float:
    return float(np.log(np.median(_positive_array(before, "before")) / np.median(_positive_array(after, "after"))))


def _pooled_log_replicates(
    rounds: list[list[Pair]], n_boot: int, confidence: float, seed: int
) -> tuple[float, FloatArray]:
    """The point log speedup and `n_boot` bootstrap replicates of it (rounds -> parameters -> executions)."""
    _check_bootstrap_settings(n_boot, confidence)
    arrays = [
        [
            (_positive_array(b, f"round {r} pairs[{i}] before"), _positive_array(a, f"round {r} pairs[{i}] after"))
            for i, (b, a) in enumerate(pairs)
        ]
        for r, pairs in enumerate(rounds)
    ]
    per_round_points = [np.mean([np.log(np.median(b) / np.median(a)) for b, a in params]) for params in arrays]
    point = float(np.mean(per_round_points))
    rng = np.random.default_rng(seed)
    n_rounds = len(arrays)
    # Level 1: which round fills each of the n_rounds slots of each replicate.
    chosen_rounds = rng.integers(0, n_rounds, size=(n_boot, n_rounds))
    n_params = {len(params) for params in arrays}
    if len(n_params) == 1:
        return point, _crossed_replicates(rng, arrays, chosen_rounds, n_params.pop())
    slot_means = np.empty((n_boot, n_rounds), dtype=np.float64)
    for r, params in enumerate(arrays):
        round_slots = chosen_rounds == r
        n_slots = int(round_slots.sum())
        if not n_slots:
            continue
        # Rounds that measured different parameter sets: parameters resampled within each slot (nested).
        chosen = rng.integers(0, len(params), size=(n_slots, len(params)))
        values = np.empty((n_slots, len(params)), dtype=np.float64)
        for p, (before, after) in enumerate(params):
            hits = chosen == p
            count = int(hits.sum())
            if count:
                values[hits] = _resampled_log_median_ratios(rng, before, after, count)
        slot_means[round_slots] = values.mean(axis=1)
    return point, slot_means.mean(axis=1)


def _crossed_replicates(
    rng: np.random.Generator,
    arrays: list[list[tuple[FloatArray, FloatArray]]],
    chosen_rounds: npt.NDArray[np.int64],
    n_params: int,
) -> FloatArray:
    """Every round measured the same parameters (same seed, same order): one parameter draw per replicate is
    shared by all its round slots. Drawing parameters afresh per round would count the same few sessions as
    new ones in every round and shrink the between-parameter spread, the part of the interval that matters."""
    n_boot, n_rounds = chosen_rounds.shape
    chosen_params = rng.integers(0, n_params, size=(n_boot, n_params))
    # Level 3 for every (replicate, round slot, parameter slot): grouped by (round, parameter) to draw in bulk.
    keys = (chosen_rounds[:, :, None] * n_params + chosen_params[:, None, :]).ravel()
    values = np.empty(keys.size, dtype=np.float64)
    order = np.argsort(keys, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(keys, minlength=n_rounds * n_params))))
    for key in range(n_rounds * n_params):
        where = order[bounds[key] : bounds[key + 1]]
        if where.size:
            before, after = arrays[key // n_params][key % n_params]
            values[where] = _resampled_log_median_ratios(rng, before, after, int(where.size))
    return values.reshape(n_boot, n_rounds * n_params).mean(axis=1)


def pairs_by_round(samples: Sequence[dict[str, Any]]) -> list[list[Pair]]:
    """(before, after) latency pairs grouped by the samples' "round" (0-based; a sample without one is round 0),
    in round order. Failed executions (None) must have been excluded by the caller's failure check."""
    grouped: dict[int, list[Pair]] = {}
    for sample in samples:
        latencies = sample["latencies_ms"]
        grouped.setdefault(int(sample.get("round") or 0), []).append((latencies["before"], latencies["after"]))
    return [grouped[r] for r in sorted(grouped)]
