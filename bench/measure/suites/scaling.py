"""Scaling: the promise cases and storage at several dataset sizes, each loaded into its own scratch databases.

For each size the loaded dataset's spec is regenerated at that row count (same knobs; a project count derived
from rows is derived again), loaded with bench.load.loader into marked scratch databases on both servers (the
pre-Phase-2 indexes, the migration on after, VACUUM ANALYZE), its promise cases timed interleaved with the
suite's parameter slots, its storage measured, and the databases dropped before the next size.

Sizes: PHASE2_BENCH_SCALING_SIZES (e.g. "500k,2M,10M"); by default 500k, 2M and 10M rows, or 20k and 50k when
the measured dataset is the ci preset or smaller. Measured on a 2-core machine: 500k took 74 s (42 s load), 2M
218 s (124 s load); 10M should take 15-20 minutes and ~8 GB of disk per server while it exists, so the default
sizes take about 25 minutes and the ci sizes about 30 s. It is not part of `make bench`.
"""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import datetime
from typing import Any

from bench.core.cases import Case, load_cases
from bench.core.errors import HarnessError
from bench.db.instances import InstancePair
from bench.db.plans import index_parents
from bench.db.storage import measure_storage, storage_comparison
from bench.judge.analysis import analyze_case, judge
from bench.load.loader import load_dataset, spec_at_rows
from bench.measure.params import sample_params
from bench.measure.suites import SuiteContext, reduced_settings
from bench.measure.suites.scratch import migration_of, scratch_pair
from bench.measure.timing import MeasureSettings, measure_sample, timing_connection
from generators.shape import PRESETS, SpecError, parse_rows

NAME = "scaling"
TITLE = "promise speedups and storage overhead against dataset size"
SIZES_ENV = "PHASE2_BENCH_SCALING_SIZES"
DEFAULT_SIZES = (500_000, 2_000_000, 10_000_000)
CI_SIZES = (20_000, 50_000)
ROLES = ("before", "after")


def scaling_sizes(measured_rows: int) -> tuple[int, ...]:
    text = os.environ.get(SIZES_ENV)
    if not text:
        return CI_SIZES if measured_rows <= PRESETS["ci"] else DEFAULT_SIZES
    try:
        return tuple(sorted({parse_rows(part.strip()) for part in text.split(",") if part.strip()}))
    except SpecError as e:
        raise HarnessError(f"{SIZES_ENV}: {e}; write e.g. 500k,2M,10M") from None


def rows_label(rows: int) -> str:
    if rows % 1_000_000 == 0:
        return f"{rows // 1_000_000}M"
    return f"{rows // 1_000}k" if rows % 1_000 == 0 else str(rows)


def _time_cases(
    pair: InstancePair, cases: list[Case], now: datetime, settings: MeasureSettings
) -> dict[str, list[Any]]:
    conns = {role: timing_connection(pair, role, settings.statement_timeout_ms) for role in ROLES}
    try:
        parents = {role: index_parents(conns[role], pair.engine) for role in ROLES}
        cache: dict[str, list[Any]] = {}
        records: dict[str, list[Any]] = {}
        for case in cases:
            samples = sample_params(conns["before"], case, now, settings.seed, cache)
            records[case.name] = [
                {k: v for k, v in measure_sample(conns, case, s, settings, parents).items() if k != "raw_plans"}
                for s in samples
            ]
        return records
    finally:
        for conn in conns.values():
            conn.close()


def measure_size(ctx: SuiteContext, rows: int, cases: list[Case], settings: MeasureSettings) -> dict[str, Any]:
    """One point of the curve: load, time, measure storage, judge; the scratch databases are gone afterwards."""
    started = time.perf_counter()
    spec = spec_at_rows(ctx.dataset["spec"], rows)
    with scratch_pair(ctx.pair, f"scaling_{rows_label(rows).lower()}") as pair:
        if ctx.progress:
            print(f"  scaling: loading {rows:,} rows ({spec.project_count} projects) ...", flush=True)
        load = load_dataset(pair, spec, progress=ctx.progress, migration=migration_of(ctx.dataset))
        load_wall_s = time.perf_counter() - started
        if ctx.progress:
            print(f"  scaling: timing the promise cases at {rows_label(rows)} ...", flush=True)
        records = _time_cases(pair, cases, spec.reference_instant, settings)
        sizes = {}
        for inst in pair:
            with inst.connect() as conn:
                sizes[inst.role] = measure_storage(conn, pair.engine, rows)
    storage = storage_comparison(sizes["before"], sizes["after"])
    analyzed = [analyze_case(c, records[c.name], settings.seed) for c in cases if records.get(c.name)]
    verdicts = [
        dataclasses.replace(
            v, promise=f"{v.promise}@{rows_label(rows)}", gated=False, reason="scaling: reported, not gated"
        )
        for v in judge(analyzed, storage, ctx.targets, settings.seed)
    ]
    return {
        "rows": rows,
        "label": rows_label(rows),
        "fingerprint": spec.fingerprint(),
        "projects": spec.project_count,
        "sessions": spec.sessions,
        "load": {
            "wall_s": load_wall_s,
            "copy_s": load.copy_s,
            "load_rows_per_s": load.load_rows_per_s,
            "index_build_s": {role: sum(b.values()) for role, b in load.index_build_s.items()},
            "migration_s": sum(step["seconds"] for step in load.migration),
            "vacuum_analyze_s": load.vacuum_analyze_s,
        },
        "promises": {
            v.promise.split("@")[0]: {
                "point": v.point,
                "low": v.low,
                "high": v.high,
                "verdict": v.verdict,
                "evidence": v.evidence,
            }
            for v in verdicts
        },
        "storage": {
            "before_total_bytes": sizes["before"]["total_bytes"],
            "after_total_bytes": sizes["after"]["total_bytes"],
            "before_index_bytes": sizes["before"]["index_total_bytes"],
            "after_index_bytes": sizes["after"]["index_total_bytes"],
            "storage_overhead_pct": storage["storage_overhead_pct"],
            "index_overhead_pct": storage["index_overhead_pct"],
            "bytes_per_event": {r: sizes[r]["bytes_per_event"] for r in ROLES},
            "indexes_bytes": {r: sizes[r]["indexes_bytes"] for r in ROLES},
        },
        "cases": [{k: v for k, v in c.items() if k != "sql"} for c in analyzed],
        "verdicts": [v.to_dict() for v in verdicts],
        "duration_s": time.perf_counter() - started,
    }


def _trend(points: list[dict[str, Any]], promise: str) -> str:
    steps = []
    for p in points:
        figure = p["promises"].get(promise)
        if figure is None or figure["point"] is None:
            steps.append(f"{p['label']} failed")
        elif promise == "storage_overhead":
            steps.append(f"{p['label']} {figure['point']:.1f}%")
        else:
            steps.append(f"{p['label']} {figure['point']:.3g}x ({figure['low']:.3g}-{figure['high']:.3g})")
    return f"{promise}: " + " -> ".join(steps)


def run(ctx: SuiteContext) -> dict[str, Any]:
    return measure_scaling(ctx, scaling_sizes(int(ctx.dataset["rows"])))


def measure_scaling(ctx: SuiteContext, sizes: tuple[int, ...]) -> dict[str, Any]:
    settings = reduced_settings(ctx.settings)
    cases = [c for c in load_cases() if c.kind == "promise"]
    points = [measure_size(ctx, rows, cases, settings) for rows in sizes]
    promises = [p.name for p in ctx.targets.promises]
    verdicts: list[dict[str, Any]] = [v for p in points for v in p.pop("verdicts")]
    return {
        "name": NAME,
        "title": TITLE,
        "skipped": None,
        "verdicts": verdicts,
        "records": {
            "sizes": list(sizes),
            "points": points,
            "curves": {
                name: [
                    {"rows": p["rows"], **{k: p["promises"][name][k] for k in ("point", "low", "high", "verdict")}}
                    for p in points
                    if name in p["promises"]
                ]
                for name in promises
            },
            "settings": settings.to_dict(),
        },
        "notes": [
            f"Sizes {', '.join(rows_label(r) for r in sizes)} ({SIZES_ENV} to change them); promise cases only "
            "(the controls are judged by the main suite), the suite's parameter slots, "
            f"{settings.min_rounds}-{settings.max_rounds} executions per parameter after {settings.warmup} warm-up(s).",
            *(_trend(points, name) for name in promises),
        ],
    }
