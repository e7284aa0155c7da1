"""The application's workload: devlog's reads of agent_events, as its ORM sends them, in the mix its pages send them.

The design document's cases stand for the queries it names; this suite times the queries the application that
owns agent_events really runs (bench/queries/app/, each citing its source at devlog 05063cc), with parameters
drawn from its access model (bench.measure.suites.app_params) and weighted by how often a page view or an open
dashboard issues each (bench/workloads/devlog.toml). Every statement is a named server-side prepared statement,
as Prisma sends it, timed once per plan cache mode: auto (PostgreSQL's default, the application's), then
force_generic_plan (what a long-lived pool can settle on) and force_custom_plan (a fresh plan each time, as the
design document's cases are timed). Before and after are interleaved as in the query suite, EXPLAIN runs
untimed on the prepared statement, results are compared by fingerprint, and failures are failures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
from tqdm import tqdm

from bench.core.cases import APP_QUERIES_DIR, Case, load_cases
from bench.core.errors import HarnessError
from bench.core.workload import Workload, load_workload
from bench.db.instances import InstancePair
from bench.db.plans import index_parents
from bench.judge.app_workload import analyze_mode, app_verdicts, json_filter_finding, unit_estimates
from bench.measure.suites import SuiteContext, reduced_settings, section
from bench.measure.suites.app_params import SAMPLERS, AppDraw, SamplerContext, draw_params
from bench.measure.suites.app_prepared import (
    PreparedPlanCapture,
    count_difference,
    plan_counts,
    prepared_connection,
    prime,
)
from bench.measure.timing import MeasureSettings, measure_sample

NAME = "app"
TITLE = "the application's workload: devlog's reads as Prisma sends them, weighted by how often its pages send them"
ROLES = ("before", "after")


@dataclass(frozen=True)
class AppSettings:
    measure: MeasureSettings
    tolerance_pct: float = 10.0  # as the design document's controls: slower beyond this is a regression
    workload_path: Path | None = None
    cases: tuple[str, ...] | None = None  # a subset of the application cases (tests); None: all


def run(ctx: SuiteContext) -> dict[str, Any]:
    settings = AppSettings(reduced_settings(ctx.settings), ctx.targets.control_tolerance_pct, ctx.workload)
    return measure_app_workload(ctx.pair, ctx.dataset, ctx.run_dir, settings, ctx.progress)


def app_cases(workload_path: Path | None = None) -> tuple[list[Case], Workload]:
    cases = load_cases(APP_QUERIES_DIR)
    unknown = [f"{c.path}: `-- params: {c.sampler}`" for c in cases if c.sampler not in SAMPLERS]
    if unknown:
        raise HarnessError(f"{unknown[0]} names no access-model sampler; use one of {', '.join(SAMPLERS)}")
    return cases, load_workload(workload_path, [c.name for c in cases])


def measure_app_workload(
    pair: InstancePair, dataset: dict[str, Any], run_dir: Path, settings: AppSettings, progress: bool = False
) -> dict[str, Any]:
    cases, workload = app_cases(settings.workload_path)
    if settings.cases is not None:
        cases = [c for c in cases if c.name in settings.cases]
    skipped = {
        c.name: f"needs {' or '.join(c.engines)}; this run's engine is {pair.engine.label}"
        for c in cases
        if pair.engine.name not in c.engines
    }
    runnable = [c for c in cases if c.name not in skipped]
    now = datetime.fromisoformat(dataset["spec"]["reference_instant"])
    seed = settings.measure.seed
    with pair.before.connect() as conn:
        sampler = SamplerContext(conn, now, workload.access, seed)
        draws = {
            c.name: draw_params(
                sampler, c, workload.access.what_if_samples if c.name in workload.what_if else workload.access.samples
            )
            for c in runnable
        }
    parents = {}
    for inst in pair:
        with inst.connect() as conn:
            parents[inst.role] = index_parents(conn, pair.engine)
    (run_dir / "plans").mkdir(parents=True, exist_ok=True)
    records: dict[str, dict[str, list[dict[str, Any]]]] = {c.name: {} for c in runnable}
    steps = len(workload.plan_cache_modes) * sum(len(d) for d in draws.values())
    bar = tqdm(total=steps, desc="app", unit="param", disable=not progress, leave=False)
    try:
        for mode in workload.plan_cache_modes:
            for case in runnable:
                records[case.name][mode] = time_case(
                    pair, case, draws[case.name], mode, settings.measure, parents, run_dir
                )
                bar.update(len(draws[case.name]))
    finally:
        bar.close()
    analyzed = {
        c.name: {
            **case_meta(c, workload, draws[c.name]),
            "modes": {m: analyze_mode(r, c.after_uses, seed) for m, r in records[c.name].items()},
        }
        for c in runnable
    }
    units = unit_estimates(workload, analyzed, seed)
    finding = json_filter_finding(analyzed)
    verdicts = app_verdicts(workload, units, finding, settings.tolerance_pct)
    notes = section_notes(workload, skipped, analyzed)
    return section(
        NAME,
        TITLE,
        verdicts,
        {
            "workload": workload.to_dict(),
            "now": now.isoformat(),
            "settings": settings.measure.to_dict(),
            "tolerance_pct": settings.tolerance_pct,
            "cases": analyzed,
            "skipped_cases": skipped,
            "units": units,
            "json_filter": finding,
        },
        notes,
    )


def case_meta(case: Case, workload: Workload, draws: list[AppDraw]) -> dict[str, Any]:
    return {
        "name": case.name,
        "sql_file": f"bench/queries/app/{case.name}.sql",
        "sql": case.sql,
        "source": case.source,
        "does": case.does,
        "frequency": case.frequency,
        "bugs": case.bugs,
        "after_uses": case.after_uses,
        "what_if": workload.what_if.get(case.name),
        "per_page_views": workload.page_view_weights().get(case.name, 0.0),
        "units": {u.name: u.cases[case.name] for u in workload.units if case.name in u.cases},
        "draws": [d.to_dict() for d in draws],
    }


def time_case(
    pair: InstancePair,
    case: Case,
    draws: list[AppDraw],
    mode: str,
    settings: MeasureSettings,
    parents: dict[str, dict[str, str]],
    run_dir: Path,
) -> list[dict[str, Any]]:
    """Every parameter of one case under one plan cache mode, on fresh connections (a fresh statement cache)."""
    conns = {role: prepared_connection(pair, role, mode, settings.statement_timeout_ms) for role in ROLES}
    try:
        samples = [d.param_sample(case) for d in draws]
        primed = prime(conns, case, samples, 2 * settings.budget_s) if mode == "auto" else 0
        capture = PreparedPlanCapture(conns, mode)
        records = []
        for draw, sample in zip(draws, samples, strict=True):
            capture.start(conns)
            record = measure_sample(conns, case, sample, settings, parents, plan_capture=capture)
            record["plan_counts"] = {
                role: count_difference(plan_counts(conns[role]), capture.counts_before[role]) for role in ROLES
            }
            record["explained_as"] = dict(capture.explained_as)
            record["draws"] = draw.draws
            record["mode"] = mode
            record["primed"] = primed
            _save_plans(run_dir, case.name, mode, record)
            records.append(record)
        return records
    except psycopg.OperationalError as e:
        raise HarnessError(f"{case.name} ({mode}): lost the connection: {str(e).strip()}") from e
    finally:
        for conn in conns.values():
            conn.close()


def _save_plans(run_dir: Path, case: str, mode: str, record: dict[str, Any]) -> None:
    label = "".join(ch if ch.isalnum() else "_" for ch in record["label"])
    for role, plan in record.pop("raw_plans", {}).items():
        (run_dir / "plans" / f"app__{case}__{mode}__{label}__{role}.json").write_text(json.dumps(plan, indent=1))


def section_notes(workload: Workload, skipped: dict[str, str], cases: dict[str, Any]) -> list[str]:
    notes = [
        f"Queries of {workload.application} at {workload.commit[:7]}, as Prisma 6.15 renders them, sent as named "
        "server-side prepared statements (psycopg prepare_threshold=0); under auto, each statement first ran "
        "5 untimed executions, past the plan cache's custom-plan warm-up, as on a long-lived pool connection "
        "(fewer when they took over twice the time budget; the plan counts then show it).",
        "Times are what the client waits for (execute and fetch every row over loopback); weighted time sums "
        "executions x the mean over parameter draws of the median execution.",
        "Statements the application adds for include: {session, project} (on agent_sessions and projects) are not "
        "measured: the harness has no such tables.",
    ]
    notes += [f"{name}: not run: {reason}" for name, reason in skipped.items()]
    short = sorted(
        n
        for n, c in cases.items()
        if any(s.get("primed", 5) < 5 for s in c["modes"].get("auto", {}).get("samples", []))
    )
    if short:
        notes.append("primed fewer than 5 times under auto (slow statements): " + ", ".join(short))
    differ = [n for n, c in cases.items() for m, r in c["modes"].items() if r["same_rows"] is False]
    if differ:
        notes.append("RESULTS DIFFER between before and after: " + ", ".join(sorted(set(differ))))
    return notes
