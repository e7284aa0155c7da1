"""A measurement run: instances -> parameters -> timed cases (through pytest-benchmark) -> storage -> verdicts."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import pytest

from bench.core.cases import Case, load_cases
from bench.core.config import PACKAGE_DIR, HarnessConfig
from bench.core.errors import HarnessError
from bench.core.migration import read_migration
from bench.core.results import (
    RESULTS_FILE,
    RESULTS_SCHEMA_VERSION,
    discard_run,
    new_run_dir,
    publish_run,
    run_id_of,
    write_results,
)
from bench.db.database import harness_lock
from bench.db.environment import collect_environment
from bench.db.instances import InstancePair, open_instances
from bench.db.plans import index_parents
from bench.db.schema import (
    deviations,
    expected_index_set,
    index_definitions,
    index_diff,
    index_set,
    index_set_report,
)
from bench.db.storage import measure_storage, storage_comparison
from bench.judge.analysis import analyze_case, judge
from bench.judge.verdicts import Targets, load_targets
from bench.load.loader import require_loaded
from bench.measure.params import ParamSample, sample_params
from bench.measure.timing import MeasureSettings, timing_connection

if TYPE_CHECKING:
    from bench.measure.suites import LoadOptions

SUITE_FILE = PACKAGE_DIR / "test_query_cases.py"  # the pytest front end, run in-process
PLUGIN_NAME = "phase2_run_context"


@dataclass
class RunContext:
    pair: InstancePair
    dataset: dict[str, Any]
    settings: MeasureSettings
    targets: Targets
    run_dir: Path  # under its temporary name until the run is published
    run_id: str
    conns: dict[str, psycopg.Connection[Any]]
    parents: dict[str, dict[str, str]]
    cases: list[Case]
    samples: dict[str, list[ParamSample]]
    started_at: str
    extra: dict[str, Any] = field(default_factory=dict)

    def sample_for(self, case: str, label: str) -> ParamSample | None:
        return next((s for s in self.samples.get(case, []) if s.label == label), None)

    def record(self, record: dict[str, Any]) -> None:
        stem = f"{record['case']}__{record['label']}"
        for role, plan in record.get("raw_plans", {}).items():
            (self.run_dir / "plans" / f"{stem}__{role}.json").write_text(json.dumps(plan, indent=1))
        slim = {k: v for k, v in record.items() if k != "raw_plans"}
        (self.run_dir / "cases" / f"{stem}.json").write_text(json.dumps(slim, default=str))


@contextlib.contextmanager
def prepared_run(
    config: HarnessConfig,
    settings: MeasureSettings,
    targets_path: Path | None = None,
    progress: bool = True,
) -> Iterator[RunContext]:
    """A run folder and everything the timed cases need. The folder is published (renamed to its run id,
    `latest` pointed at it) when the block ends with its results document written; otherwise it is removed."""
    targets = load_targets(targets_path)
    with open_instances(config) as pair, contextlib.ExitStack() as locks:
        for inst in pair:
            locks.enter_context(harness_lock(inst.dsn, inst.role))
        dataset = require_loaded(pair, migration=read_migration(config.migration))
        conns = {role: timing_connection(pair, role, settings.statement_timeout_ms) for role in ("before", "after")}
        run_dir: Path | None = None
        try:
            now = datetime.fromisoformat(dataset["spec"]["reference_instant"])
            cases = load_cases()
            cache: dict[str, list[Any]] = {}
            if progress:
                print("sampling parameters across selectivity ...", flush=True)
            samples = {c.name: sample_params(conns["before"], c, now, settings.seed, cache) for c in cases}
            run_dir = new_run_dir(config.runs_dir)
            (run_dir / "params.json").write_text(
                json.dumps({k: [s.to_dict() for s in v] for k, v in samples.items()}, indent=1)
            )
            parents = {role: index_parents(conns[role], pair.engine) for role in conns}
            started_at = datetime.now(UTC).isoformat()
            yield RunContext(
                pair,
                dataset,
                settings,
                targets,
                run_dir,
                run_id_of(run_dir),
                conns,
                parents,
                cases,
                samples,
                started_at,
            )
            if (run_dir / RESULTS_FILE).is_file():
                publish_run(run_dir)
            else:
                discard_run(run_dir)
        except BaseException:
            if run_dir is not None:
                discard_run(run_dir)
            raise
        finally:
            for conn in conns.values():
                conn.close()


class _ContextPlugin:
    """Hands the prepared run to bench/conftest.py inside pytest."""

    def __init__(self, context: RunContext) -> None:
        self.context = context


def run_cases(ctx: RunContext, select: str | None = None, verbose: bool = False) -> None:
    args = [
        str(SUITE_FILE),
        "-p",
        "no:cacheprovider",
        f"--benchmark-json={ctx.run_dir / 'pytest-benchmark.json'}",
        "--benchmark-columns=min,median,max,rounds",
        "--benchmark-disable-gc",
        "--benchmark-sort=name",
        "-o",
        "console_output_style=count",
        "-q" if not verbose else "-v",
        f"--rootdir={SUITE_FILE.parent}",
    ]
    if select:
        args += ["-k", select]
    code = pytest.main(args, plugins=[_ContextPlugin(ctx)])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # pytest caught the Ctrl-C (or SIGTERM) itself; the harness still exits 130
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        raise HarnessError(
            f"no query case matches -k {select!r}: case names are {', '.join(c.name for c in ctx.cases)}"
        )
    if code not in (pytest.ExitCode.OK,):
        raise HarnessError(f"the query suite did not complete (pytest exit code {int(code)}); see the output above")


def run_suites(
    ctx: RunContext,
    config: HarnessConfig,
    names: list[str],
    progress: bool = True,
    workload: Path | None = None,
    load_options: LoadOptions | None = None,
) -> dict[str, Any]:
    """The extra suites, in order, each in its own section; one that fails is recorded, the others still run."""
    from bench.measure.suites import SuiteContext, section
    from bench.measure.suites.registry import SUITES

    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise HarnessError(f"unknown suite(s) {', '.join(unknown)}: choose from {', '.join(SUITES) or 'none'}")
    sections: dict[str, Any] = {}
    suite_ctx = SuiteContext(
        config,
        ctx.pair,
        ctx.dataset,
        ctx.settings,
        ctx.targets,
        ctx.run_dir,
        progress,
        workload=workload,
        load=load_options,
    )
    for name in names:
        print(f"suite {name}: {SUITES[name][1]} ...", flush=True)
        started = time.perf_counter()
        try:
            sections[name] = SUITES[name][0](suite_ctx)
        except Exception as e:  # one broken suite (a lost connection, a bug) is recorded as failed; the rest still run
            failure = str(e).strip() if isinstance(e, HarnessError) else f"{type(e).__name__}: {str(e).strip()}"
            sections[name] = section(name, SUITES[name][1], failed=f"the {name} suite failed: {failure}")
        sections[name]["duration_s"] = time.perf_counter() - started
    return sections


def cold_cases(ctx: RunContext, progress: bool) -> dict[str, Any]:
    """Cold-cache figures of the promise cases the query suite timed (bench.measure.cold_pass)."""
    from bench.measure.cold_pass import measure_cold_cases

    timed = [c for c in ctx.cases if any((ctx.run_dir / "cases").glob(f"{c.name}__*.json"))]
    return measure_cold_cases(
        ctx.pair,
        timed,
        ctx.samples,
        ctx.targets,
        ctx.settings.statement_timeout_ms,
        ctx.settings.seed,
        progress=progress,
    )


def hold_locks_again(pair: InstancePair, stack: contextlib.ExitStack) -> None:
    """A cold-cache restart ended the connections that held the shared harness lock: take it again."""
    for inst in pair:
        stack.enter_context(harness_lock(inst.dsn, inst.role))


def finalize(
    ctx: RunContext, load_report: dict[str, Any] | None = None, suites: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Assemble, judge and write the results document from the records the suite left in the run folder."""
    records: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((ctx.run_dir / "cases").glob("*.json")):
        rec = json.loads(path.read_text())
        records.setdefault(rec["case"], []).append(rec)
    seed = ctx.settings.seed
    cases = [analyze_case(c, records[c.name], seed) for c in ctx.cases if c.name in records]
    rows = int(ctx.dataset["rows"])
    sizes, index_sets, definitions = {}, {}, {}
    phase2 = bool((ctx.dataset.get("migration") or {}).get("is_phase2", True))
    for inst in ctx.pair:
        with inst.connect() as conn:
            sizes[inst.role] = measure_storage(conn, ctx.pair.engine, rows)
            index_sets[inst.role] = index_set_report(index_set(conn), expected_index_set(inst.role, phase2))
            definitions[inst.role] = index_definitions(conn)
    # What the migration under test did to the indexes, read from both databases.
    index_sets["after"]["migration_changed"] = index_diff(definitions["before"], definitions["after"])
    storage = storage_comparison(sizes["before"], sizes["after"])
    verdicts = judge(cases, storage, ctx.targets, seed)
    finished = datetime.now(UTC)
    doc = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "run_id": ctx.run_id,
        "started_at": ctx.started_at,
        "finished_at": finished.isoformat(),
        "duration_s": (finished - datetime.fromisoformat(ctx.started_at)).total_seconds(),
        "environment": collect_environment(ctx.pair),
        "engine": {"name": ctx.pair.engine.name, "label": ctx.pair.engine.label},
        "deviations": deviations(ctx.pair.engine),
        "dataset": ctx.dataset,
        "load": load_report,
        "measurement": {**ctx.settings.to_dict(), "select": ctx.extra.get("select")},
        "targets": ctx.targets.to_dict(),
        "cases": cases,
        "storage": storage,
        "verdicts": [v.to_dict() for v in verdicts],
        "index_sets": index_sets,
        "suites": suites or {},
        "extra": {k: v for k, v in ctx.extra.items() if k != "select"},
    }
    write_results(doc, ctx.run_dir)
    return doc


def run_benchmark(
    config: HarnessConfig,
    settings: MeasureSettings,
    targets_path: Path | None = None,
    select: str | None = None,
    load_report: dict[str, Any] | None = None,
    verbose: bool = False,
    suites: list[str] | None = None,
    progress: bool = True,
    before_publish: Callable[[dict[str, Any], Path], None] | None = None,
    workload: Path | None = None,
    load_options: LoadOptions | None = None,
) -> dict[str, Any]:
    """Time, judge and write the results document; before_publish(doc, run_dir) adds files (the report) to the
    run folder while it still has its temporary name, so an interrupt there publishes nothing."""
    started = time.perf_counter()
    with prepared_run(config, settings, targets_path, progress=progress) as ctx, contextlib.ExitStack() as relocked:
        print(f"timing the query cases{f' matching -k {select!r}' if select else ''} ...", flush=True)
        run_cases(ctx, select, verbose)
        if settings.cache != "warm":
            ctx.extra["cold_cache"] = cold_cases(ctx, progress)
            hold_locks_again(ctx.pair, relocked)
        sections = run_suites(ctx, config, suites, progress, workload, load_options) if suites else {}
        if settings.cache != "warm" and suites:
            hold_locks_again(ctx.pair, relocked)
        ctx.extra["suite_wall_s"] = time.perf_counter() - started
        ctx.extra["select"] = select  # the gate excuses promises a deliberate -k left unmeasured, no others
        doc = finalize(ctx, load_report, sections)
        if before_publish is not None:
            before_publish(doc, ctx.run_dir)
    return doc
