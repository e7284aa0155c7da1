"""Where the speedups hold: each promise's speedup as a curve over the shape of the data, on the loaded dataset.

The query suite samples 6 parameters per case; here each dimension is sampled finer (8-16 candidates whose
matched rows are spread evenly in log scale from the smallest to the largest) or, for the query window, the
same entities are timed at 1 hour, 1 day, 1 week and 30 days (bench/queries/sweep/*.sql). Every point is timed
like the suite (both instances interleaved, in this run, untimed EXPLAIN beside it); a failed or timed-out
execution makes its point a failure, never a fast time.

A point's interval is the bootstrap interval of that parameter's executions (or, for a window, of the few
entities pooled); the statement per curve says over which x range the whole interval clears the promise.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_left
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg

from bench.core.cases import QUERIES_DIR, Case, load_cases
from bench.core.formatting import number, ratio
from bench.db.plans import index_parents
from bench.judge.stats import SpeedupEstimate, bootstrap_speedup_interval, summarize_latencies
from bench.judge.verdicts import Promise, Verdict, figure_verdict, judge_max, judge_speedup_range, speedup_range_verdict
from bench.measure.params import PARAMS_DIR, ParamSample, sample_params
from bench.measure.suites import SuiteContext, reduced_settings, section
from bench.measure.timing import measure_sample, timing_connection

NAME = "sweep"
TITLE = "where the speedups hold: speedup curves over session length, project size, query window, filePath frequency"
SWEEP_DIR = QUERIES_DIR / "sweep"
ROLES = ("before", "after")

# (label, hours): the windows of the session and project timelines along the query-window dimension.
WINDOWS: tuple[tuple[str, float], ...] = (("1 hour", 1.0), ("1 day", 24.0), ("1 week", 168.0), ("30 days", 720.0))
# Entities timed at every window: typical and large ones among those active in the last hour (the largest
# project of the default preset returns ~500k rows over 30 days, which would take the sweep's whole budget).
WINDOW_ENTITY_SLOTS: tuple[tuple[str, float], ...] = (("q25", 0.25), ("q50", 0.50), ("q90", 0.90))
# What the specification expects of time-range queries; reported per window for the after instance.
TIME_RANGE_P95_MS = 100.0


@dataclass(frozen=True)
class Dimension:
    name: str
    promise: str
    x_label: str
    cases: tuple[str, ...]
    slots: int  # log-spaced slots over the candidates' matched rows; 0 for the query-window dimensions
    x_log: bool = True


DIMENSIONS: tuple[Dimension, ...] = (
    Dimension(
        "session_events_last_day",
        "session_timeline",
        "events in the session's last day",
        ("session_timeline", "session_timeline_latest"),
        16,
    ),
    Dimension(
        "project_events_last_week",
        "project_timeline",
        "events in the project's last week",
        ("project_timeline", "project_timeline_latest"),
        16,
    ),
    Dimension("session_query_window", "session_timeline", "query window (hours)", ("session_timeline_window",), 0),
    Dimension("project_query_window", "project_timeline", "query window (hours)", ("project_timeline_window",), 0),
    # Before, the whole-table containment is a sequential scan (~1 s at 2M rows): fewer slots keep the sweep short.
    Dimension("file_path_events", "jsonb_containment", "events carrying the filePath", ("jsonb_containment",), 8),
    Dimension(
        "file_path_events_last_hour",
        "jsonb_containment",
        "events carrying the filePath in the last hour",
        ("jsonb_containment_recent",),
        12,
    ),
)


def log_spaced_slots(counts: list[int], n: int) -> tuple[tuple[str, float], ...]:
    """n quantile slots whose matched rows are spread evenly in log scale from the smallest candidate to the
    largest: with plain quantiles a Zipf-like tail (filePaths, projects) would get one point of sixteen."""
    if not counts or n < 1:
        return ()
    ordered = sorted(counts)
    last = max(len(ordered) - 1, 1)
    targets = np.geomspace(max(ordered[0], 1), max(ordered[-1], 1), n)
    return tuple((f"s{i:02d}", min(bisect_left(ordered, t), last) / last) for i, t in enumerate(targets))


def sample_dimension(
    conn: psycopg.Connection[Any],
    case: Case,
    now: datetime,
    seed: int,
    log_slots: int = 0,
    slots: tuple[tuple[str, float], ...] = (),
) -> list[ParamSample]:
    """Parameters for `slots`, or for `log_slots` log-spaced ones, of the case's candidates (each value once)."""
    own = SWEEP_DIR / "params"
    params_dir = own if (own / f"{case.sampler}.sql").exists() else PARAMS_DIR
    rows = [(v, int(n)) for v, n in conn.execute((params_dir / f"{case.sampler}.sql").read_text(), {"now": now})]
    chosen = log_spaced_slots([n for _, n in rows], log_slots) if log_slots else slots
    return sample_params(conn, case, now, seed, {case.sampler: rows}, chosen, params_dir)


def _window_samples(entities: list[ParamSample]) -> list[tuple[float, ParamSample]]:
    return [
        (hours, ParamSample(f"{window}|{e.label}", {**e.params, "window": window}, e.value, e.candidates_matched))
        for window, hours in WINDOWS
        for e in entities
    ]


def _point(dim: Dimension, case: Case, x: float, group: str, record: dict[str, Any], seed: int) -> dict[str, Any]:
    lat = record["latencies_ms"]
    failed = "; ".join(f"{r}: {record['errors'][r]}" for r in ROLES if record["errors"][r]) or None
    estimate = None if failed else bootstrap_speedup_interval([(lat["before"], lat["after"])], seed=seed)
    summaries = {r: summarize_latencies(lat[r]) for r in ROLES}
    after_plan = record["plans"]["after"] or {}
    return {
        "dimension": dim.name,
        "promise": dim.promise,
        "case": case.name,
        "group": group,
        "label": record["label"],
        "x": x,
        "value": record["sample"]["value"],
        "params": record["sample"]["params"],
        "matched_rows": record["matched_rows"],
        "speedup": estimate.point if estimate else None,
        "low": estimate.low if estimate else None,
        "high": estimate.high if estimate else None,
        "median_ms": {r: summaries[r].median_ms for r in ROLES},
        "p95_ms": {r: summaries[r].p95_ms for r in ROLES},
        "after_uses_expected_index": after_plan.get("uses_expected_index"),
        # From the untimed EXPLAIN ANALYZE: tells planning cost (many partitions x indexes) from execution.
        "explain_ms": {
            r: {
                "planning": (record["plans"][r] or {}).get("planning_ms"),
                "execution": (record["plans"][r] or {}).get("execution_ms"),
            }
            for r in ROLES
        },
        "same_rows": record["same_rows"],
        "failed": failed,
        "rounds": record["rounds"],
        "latencies_ms": lat,
    }


def pooled_curve(points: list[dict[str, Any]], promise: Promise, seed: int) -> list[dict[str, Any]]:
    """One point per x group (a slot's cases, or a window's entities), pooled by the geometric mean."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for p in points:
        groups.setdefault(p["group"], []).append(p)
    curve = []
    for group, members in groups.items():
        failed = "; ".join(f"{p['case']}[{p['label']}]: {p['failed']}" for p in members if p["failed"]) or None
        estimate = None
        if not failed:
            pairs = [(p["latencies_ms"]["before"], p["latencies_ms"]["after"]) for p in members]
            estimate = bootstrap_speedup_interval(pairs, seed=seed)
        low, high = (estimate.low, estimate.high) if estimate else (None, None)
        curve.append(
            {
                "x": members[0]["x"],
                "group": group,
                "speedup": estimate.point if estimate else None,
                "low": low,
                "high": high,
                "n_params": len(members),
                "judgement": judge_speedup_range(low, high, promise.expected_min or 0.0, promise.expected_max or 0.0),
                "failed": failed,
            }
        )
    return sorted(curve, key=lambda c: (c["x"], c["group"]))


def reach(point: dict[str, Any], expected_min: float) -> str:
    """Where a point's interval lies against the promised minimum: reaches / short / unclear / failed."""
    if point["low"] is None or point["high"] is None:
        return "failed"
    if point["low"] >= expected_min:
        return "reaches"
    return "short" if point["high"] < expected_min else "unclear"


def holds_statement(curve: list[dict[str, Any]], x_label: str, expected_min: float, expected_max: float) -> str:
    """Where along x the promise holds: the longest run of points (in x order) whose whole interval is at or
    above the promised minimum. Faster than the promised maximum still counts as holding; the tally says how
    many points were above it."""
    promised = f">= {expected_min:g}x"
    if not curve:
        return f"no parameters to sweep ({x_label})"
    status = [reach(c, expected_min) for c in curve]
    best: tuple[int, int] | None = None
    start = None
    for i, st in enumerate([*status, None]):
        if st == "reaches" and start is None:
            start = i
        elif st != "reaches" and start is not None:
            if best is None or i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    counts = {k: status.count(k) for k in ("reaches", "short", "unclear", "failed")}
    above = sum(1 for c in curve if c["judgement"] == "above")
    tally = ", ".join(f"{n} {k}" for k, n in counts.items() if n)
    tally += f"; {above} above {expected_max:g}x" if above else ""
    xs = [c["x"] for c in curve]
    span = f"sampled {number(min(xs))}-{number(max(xs))}"
    if best is None:
        speedups = [(c["speedup"], c["x"]) for c in curve if c["speedup"] is not None]
        peak = f"; best point {ratio(max(speedups)[0])} at {number(max(speedups)[1])}" if speedups else ""
        return f"{promised} nowhere on the {span} {x_label}{peak} [{tally} of {len(curve)} points]"
    lo, hi = curve[best[0]]["x"], curve[best[1] - 1]["x"]
    if best == (0, len(curve)):
        where = f"across the whole {span}"
    elif best[1] == len(curve):
        where = f"for {x_label} >= {number(lo)} ({span})"
    elif best[0] == 0:
        where = f"for {x_label} <= {number(hi)} ({span})"
    else:
        where = f"for {x_label} {number(lo)}-{number(hi)} ({span})"
    return f"{promised} (whole interval) {where} [{tally} of {len(curve)} points]"


def _curve_verdict(
    dim: Dimension, promise: Promise, points: list[dict[str, Any]], statement: str, seed: int
) -> Verdict:
    failed = "; ".join(f"{p['case']}[{p['label']}]: {p['failed']}" for p in points if p["failed"])
    estimate: SpeedupEstimate | None = None
    if points and not failed:
        pairs = [(p["latencies_ms"]["before"], p["latencies_ms"]["after"]) for p in points]
        estimate = bootstrap_speedup_interval(pairs, seed=seed)
    verdict = speedup_range_verdict(promise, estimate, len(dim.cases), failed or "no parameters to sweep")
    return dataclasses.replace(
        verdict,
        promise=f"{promise.name}/{dim.name}",
        gated=False,
        reason="sweep: reported, not gated (the pooled figure depends on the slots chosen)",
        evidence=f"{verdict.evidence}; {statement}",
    )


def _p95_verdicts(points: list[dict[str, Any]]) -> list[Verdict]:
    verdicts = []
    for window, hours in WINDOWS:
        at = [p for p in points if p["dimension"].endswith("_query_window") and p["x"] == hours]
        worst = None if not at or any(p["failed"] for p in at) else max(p["p95_ms"]["after"] for p in at)
        before = None if worst is None else max(p["p95_ms"]["before"] for p in at)
        evidence = (
            "measurement failed or nothing to time"
            if worst is None
            else f"worst after p95 {worst:.3g} ms over {len(at)} session/project timelines (before: {before:.3g} ms); "
            "p95 of 5-15 executions, interpolated"
        )
        verdicts.append(
            figure_verdict(
                promise=f"time_range_p95/{window}",
                kind="max",
                verdict=judge_max(worst, worst, TIME_RANGE_P95_MS),
                value=worst,
                reason="specification: P95 < 100 ms for time-range queries; reported, not gated",
                evidence=evidence,
                bound=TIME_RANGE_P95_MS,
            )
        )
    return verdicts


def run(ctx: SuiteContext) -> dict[str, Any]:
    return measure_sweep(ctx)


def measure_sweep(ctx: SuiteContext) -> dict[str, Any]:
    now = datetime.fromisoformat(ctx.dataset["spec"]["reference_instant"])
    seed = ctx.settings.seed
    settings = reduced_settings(ctx.settings)
    cases = {c.name: c for c in [*load_cases(), *load_cases(SWEEP_DIR)]}
    promises = {p.name: p for p in ctx.targets.promises if p.kind == "speedup_range"}
    conns = {role: timing_connection(ctx.pair, role, settings.statement_timeout_ms) for role in ROLES}
    points: list[dict[str, Any]] = []
    curves: list[dict[str, Any]] = []
    verdicts: list[Verdict] = []
    try:
        parents = {role: index_parents(conns[role], ctx.pair.engine) for role in ROLES}
        for dim in DIMENSIONS:
            if ctx.progress:
                print(f"  sweep {dim.name} ...", flush=True)
            dim_cases = [cases[name] for name in dim.cases]
            if dim.slots:
                slotted = sample_dimension(conns["before"], dim_cases[0], now, seed, log_slots=dim.slots)
                xs_samples = [(float(s.candidates_matched), s) for s in slotted]
            else:
                entities = sample_dimension(conns["before"], dim_cases[0], now, seed, slots=WINDOW_ENTITY_SLOTS)
                xs_samples = _window_samples(entities)
            dim_points = []
            for x, sample in xs_samples:
                group = sample.label.split("|")[0]
                for case in dim_cases:
                    record = measure_sample(conns, case, sample, settings, parents)
                    dim_points.append(_point(dim, case, x, group, record, seed))
            points.extend(dim_points)
            promise = promises.get(dim.promise)
            if promise is None or promise.expected_min is None or promise.expected_max is None:
                continue
            curve = pooled_curve(dim_points, promise, seed)
            statement = holds_statement(curve, dim.x_label, promise.expected_min, promise.expected_max)
            curves.append(
                {
                    "dimension": dim.name,
                    "promise": dim.promise,
                    "x_label": dim.x_label,
                    "x_log": dim.x_log,
                    "cases": list(dim.cases),
                    "expected_min": promise.expected_min,
                    "expected_max": promise.expected_max,
                    "points": curve,
                    "statement": statement,
                }
            )
            verdicts.append(_curve_verdict(dim, promise, dim_points, statement, seed))
        verdicts.extend(_p95_verdicts(points))
    finally:
        for conn in conns.values():
            conn.close()
    return section(
        NAME,
        TITLE,
        verdicts,
        {
            "curves": curves,
            "points": points,
            "windows": [{"label": w, "hours": h} for w, h in WINDOWS],
            "settings": settings.to_dict(),
        },
        [f"{c['promise']} by {c['x_label']}: {c['statement']}" for c in curves]
        + [
            "Each point is one parameter timed on both instances, interleaved, in this run (query windows: "
            f"{len(WINDOW_ENTITY_SLOTS)} entities active in the last hour, pooled by geometric mean); "
            f"{settings.min_rounds}-{settings.max_rounds} executions per point after {settings.warmup} warm-up(s).",
            "x for the quantile dimensions is the candidate's matched rows as the parameter query counts them.",
        ],
    )
