"""The application's writes judged: time per statement and per 1M ingested events, before vs after.

Pure functions over the samples the app_writes suite leaves (bench.measure.suites.app_writes): for each variant
(a write case at a batch size) and instance, one list of statement times (ms, None for a failed statement) per
repetition. A repetition is the unit of the bootstrap, as a parameter is for the reads: its figure is the MEAN of
its statements, not the median, because GIN's pending list is flushed by whichever insert fills it and a writer
pays those flushes on average. Intervals come from bench.judge.stats.bootstrap_weighted_time, the reads' own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bench.core.formatting import duration as time_text
from bench.core.formatting import interval, rate, ratio
from bench.core.workload import Unit
from bench.judge.app_workload import per_text
from bench.judge.stats import bootstrap_weighted_time, summarize_latencies
from bench.judge.verdicts import Verdict, control_threshold, reported_ratio_verdict

ROLES = ("before", "after")
BATCH_CASE = "app_ingest_batch"
SESSIONS_CASE = "app_ingest_sessions"
SINGLE_CASE = "app_ingest_one"
NOT_GATED = (
    "reported, not gated: the application's ingest pattern is inferred from its source, measured on one connection "
    "per instance sharing this machine with both servers"
)
CASE_WORDS = {
    BATCH_CASE: "createMany of events (multi-row INSERT ... ON CONFLICT DO NOTHING)",
    SESSIONS_CASE: "createMany of the batch's sessions (INSERT ... ON CONFLICT DO NOTHING)",
    SINGLE_CASE: "create of one event (INSERT ... RETURNING)",
}
Samples = Mapping[str, Sequence[Sequence[float | None]]]  # role -> repetitions -> statement ms


def variant_key(case: str, batch_rows: int) -> str:
    """ "app_ingest_batch@100"; the single-row create has no batch size."""
    return case if case == SINGLE_CASE else f"{case}@{batch_rows}"


def repetition_pairs(samples: Samples) -> list[tuple[list[float], list[float]]]:
    """One (before, after) pair per repetition, each the mean of the repetition's statements."""
    return [
        (
            [float(np.mean([float(v) for v in before if v is not None]))],
            [float(np.mean([float(v) for v in after if v is not None]))],
        )
        for before, after in zip(samples["before"], samples["after"], strict=True)
    ]


def failures(samples: Samples, errors: Mapping[str, Sequence[str]] | None = None) -> str | None:
    failed = {role: sum(1 for rep in samples[role] for v in rep if v is None) for role in ROLES}
    if not any(failed.values()):
        return None
    first = {role: (errors or {}).get(role) or [] for role in ROLES}
    return "; ".join(
        f"{role}: {n} failed statement(s){f' ({first[role][0]})' if first[role] else ''}"
        for role, n in failed.items()
        if n
    )


def summarize_variant(
    samples: Samples,
    rows_per_statement: int,
    seed: int,
    confidence: float = 0.95,
    errors: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, Any]:
    """ms per statement and rows/s per instance with intervals, and before/after with its interval."""
    every = {role: [v for rep in samples[role] for v in rep] for role in ROLES}
    out: dict[str, Any] = {
        "rows_per_statement": rows_per_statement,
        "repetitions": len(samples["before"]),
        "statements_per_repetition": len(samples["before"][0]) if samples["before"] else 0,
        "latency": {role: summarize_latencies(every[role]).to_dict() for role in ROLES},
        "failure": failures(samples, errors),
        "per_statement": None,
        "rows_per_s": None,
    }
    if out["failure"] or not samples["before"]:
        out["failure"] = out["failure"] or "no repetitions"
        return out
    est = bootstrap_weighted_time([(1.0, repetition_pairs(samples))], confidence=confidence, seed=seed).to_dict()
    out["per_statement"] = est
    # rows/s is a decreasing function of ms per statement, so the interval's ends swap.
    out["rows_per_s"] = {
        role: {
            "point": rows_per_statement * 1000.0 / est[f"{role}_ms"],
            "low": rows_per_statement * 1000.0 / est[f"{role}_high"],
            "high": rows_per_statement * 1000.0 / est[f"{role}_low"],
        }
        for role in ROLES
    }
    return out


def unit_estimate(unit: Unit, samples: Mapping[str, Samples], seed: int, confidence: float = 0.95) -> dict[str, Any]:
    """Database time per `unit.per` ingested events: executions x mean statement time, summed over the cases."""
    assert unit.batch_rows is not None
    terms = []
    for case, count in unit.cases.items():
        key = variant_key(case, unit.batch_rows)
        if key not in samples:
            return {"estimate": None, "failure": f"not measured: {key}"}
        failure = failures(samples[key])
        if failure:
            return {"estimate": None, "failure": f"{key}: {failure}"}
        terms.append((count * unit.per, repetition_pairs(samples[key])))
    estimate = bootstrap_weighted_time(terms, confidence=confidence, seed=seed).to_dict()
    return {"estimate": estimate, "failure": None}


def _control(promise: str, est: Mapping[str, Any] | None, evidence: str, tolerance_pct: float) -> Verdict:
    threshold = round(control_threshold(tolerance_pct), 3)  # rounded for display; judged on the exact value
    low = high = point = None
    if est is not None:
        low, high, point = est["low"], est["high"], est["speedup"]
    return reported_ratio_verdict(promise, point, low, high, tolerance_pct, evidence, NOT_GATED, threshold)


def _rate(rates: Mapping[str, float]) -> str:
    return f"{rate(rates['point'])} {interval(rates['low'], rates['high'])}"


def variant_verdict(key: str, case: str, summary: Mapping[str, Any], tolerance_pct: float) -> Verdict:
    est = summary["per_statement"]
    rows = summary["rows_per_statement"]
    what = CASE_WORDS[case] + (f", {rows:,} rows per statement" if case != SINGLE_CASE else "")
    if est is None:
        return _control(key, None, f"{what}: measurement failed: {summary['failure']}", tolerance_pct)
    rates = summary["rows_per_s"]
    evidence = (
        f"{what}: before {time_text(est['before_ms'])} per statement [{time_text(est['before_low'])}, "
        f"{time_text(est['before_high'])}] = {_rate(rates['before'])}; after {time_text(est['after_ms'])} "
        f"[{time_text(est['after_low'])}, {time_text(est['after_high'])}] = {_rate(rates['after'])}; before/after "
        f"{est['speedup']:.3g}x ({est['confidence'] * 100:g}% CI {est['low']:.3g}-{est['high']:.3g}x) over "
        f"{summary['repetitions']} repetitions of {summary['statements_per_repetition']} statements, interleaved"
    )
    return _control(key, est, evidence, tolerance_pct)


def unit_verdict(unit: Unit, row: Mapping[str, Any], tolerance_pct: float) -> Verdict:
    per = per_text(unit.per, unit.title)
    est = row["estimate"]
    if est is None:
        return _control(
            unit.name, None, f"database time per {per}: measurement failed: {row['failure']}", tolerance_pct
        )
    counts = ", ".join(f"{n * unit.per:,.0f} x {case}" for case, n in unit.cases.items())
    evidence = (
        f"database time per {per} in batches of {unit.batch_rows} ({counts}): before {time_text(est['before_ms'])} "
        f"[{time_text(est['before_low'])}, {time_text(est['before_high'])}], after {time_text(est['after_ms'])} "
        f"[{time_text(est['after_low'])}, {time_text(est['after_high'])}]; before/after {ratio(est['speedup'])} "
        f"({est['confidence'] * 100:g}% CI {est['low']:.3g}-{est['high']:.3g}x)"
    )
    return _control(unit.name, est, evidence, tolerance_pct)
