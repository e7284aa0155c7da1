"""A measurement run: instances -> parameters -> timed cases (N rounds) -> storage -> verdicts.

The harness times the query cases itself (bench.measure.timing) and keeps the records in memory; `pytest bench`
(bench/conftest.py) is a second front end over the same prepared run and timing.
"""

from __future__ import annotations

import contextlib
import json
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

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
from bench.db.database import hold_harness_locks
from bench.db.environment import collect_environment
from bench.db.instances import EXTERNAL_NOT_RESTARTED, InstancePair, open_instances, restart_between_rounds
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
from bench.measure.benchmark_json import write_benchmark_json
from bench.measure.params import ParamSample, sample_params, slots_for
from bench.measure.selection import compile_selection, slot_id
from bench.measure.timing import MeasureSettings, RoundTimer, measure_sample, timing_connection

if TYPE_CHECKING:
    from bench.measure.suites import LoadOptions

SUITE_FILE = PACKAGE_DIR / "test_query_cases.py"  # the pytest front end (`pytest bench -k ...`)


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
    # What the timing left, in memory: one record per (round, case, slot), the timed rounds of each (seconds,
    # for pytest-benchmark.json), the slots the data has no candidate for, and the measurement rounds.
    records: list[dict[str, Any]] = field(default_factory=list)
    round_times: list[list[float]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    round_index: int = 0
    repeat: int = 1

    def sample_for(self, case: str, label: str) -> ParamSample | None:
        return next((s for s in self.samples.get(case, []) if s.label == label), None)

    def record(self, record: dict[str, Any], round_s: list[float] | None = None) -> None:
        """Keep a timed record (tagged with its measurement round). The first round's plans go to plans/ (the
        report links them) and its slim record to cases/ (the compatibility suite reads the result digests)."""
        record = {**record, "round": self.round_index}
        self.records.append({k: v for k, v in record.items() if k != "raw_plans"})
        self.round_times.append(list(round_s or []))
        if self.round_index > 0:
            return
        stem = f"{record['case']}__{record['label']}"
        for role, plan in record.get("raw_plans", {}).items():
            (self.run_dir / "plans" / f"{stem}__{role}.json").write_text(json.dumps(plan, indent=1))
        slim = {k: v for k, v in record.items() if k != "raw_plans"}
        (self.run_dir / "cases" / f"{stem}.json").write_text(json.dumps(slim, default=str))

    def reconnect(self) -> None:
        """New timing connections (a restart between rounds ended the old ones)."""
        for role, conn in list(self.conns.items()):
            conn.close()
            self.conns[role] = timing_connection(self.pair, role, self.settings.statement_timeout_ms)


@contextlib.contextmanager
def prepared_run(
    config: HarnessConfig,
    settings: MeasureSettings,
    targets_path: Path | None = None,
    progress: bool = True,
    pair: InstancePair | None = None,
) -> Iterator[RunContext]:
    """A run folder and everything the timed cases need, on `pair` when the caller already opened the
    instances (otherwise they are opened here). The folder is published (renamed to its run id, `latest`
    pointed at it) when the block ends with its results document written; otherwise it is removed."""
    targets = load_targets(targets_path)
    opened = contextlib.nullcontext(pair) if pair is not None else open_instances(config)
    with opened as pair, contextlib.ExitStack() as locks:
        hold_harness_locks(pair, locks)
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


def selected_slots(cases: list[Case], select: str | None) -> list[tuple[Case, str]]:
    """Every (case, parameter slot) whose id `case[label]` the -k expression selects, in file order."""
    slots = [(case, label) for case in cases for label, _ in slots_for(case)]
    if not select:
        return slots
    matches = compile_selection(select)
    chosen = [(case, label) for case, label in slots if matches(slot_id(case.name, label))]
    if not chosen:
        raise HarnessError(
            f"no query case matches -k {select!r}: ids look like 'session_timeline[q50]'; case names are "
            f"{', '.join(c.name for c in cases)}"
        )
    return chosen


def run_cases(
    ctx: RunContext, select: str | None = None, verbose: bool = False, order: random.Random | None = None
) -> None:
    """Time every selected slot once (one measurement round); `order` shuffles the slots when given.
    A slot the data has no candidate for is recorded as skipped, never silently left out."""
    slots = selected_slots(ctx.cases, select)
    if order is not None:
        order.shuffle(slots)
    ids = [slot_id(case.name, label) for case, label in slots]
    started = time.perf_counter()
    for n, (case, label) in enumerate(slots, 1):
        sample = ctx.sample_for(case.name, label)
        if sample is None:
            reason = f"{case.name}: the data has no candidate for parameter slot {label!r}"
            if ctx.round_index == 0:
                ctx.skipped.append({"case": case.name, "label": label, "reason": reason})
            print(f"[{n}/{len(slots)}] {slot_id(case.name, label)} skipped: {reason}", flush=True)
            continue
        timer = RoundTimer()
        record = measure_sample(ctx.conns, case, sample, ctx.settings, ctx.parents, pedantic=timer)
        ctx.record(record, timer.round_s)
        if verbose:
            lat = record["latencies_ms"]
            medians = {r: _median(lat[r]) for r in ("before", "after")}
            print(
                f"[{n}/{len(slots)}] {slot_id(case.name, label)}: {record['rounds']} rounds, median before "
                f"{medians['before']} ms, after {medians['after']} ms",
                flush=True,
            )
    ctx.rounds.append(
        {"round": ctx.round_index, "wall_s": time.perf_counter() - started, "order": ids, "slots": len(ids)}
    )


def _median(values: list[float | None]) -> str:
    times = [v for v in values if v is not None]
    if len(times) < len(values) or not times:
        return "failed"
    return f"{statistics.median(times):.3f}"


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

    timed_names = {r["case"] for r in ctx.records}
    timed = [c for c in ctx.cases if c.name in timed_names]
    return measure_cold_cases(
        ctx.pair,
        timed,
        ctx.samples,
        ctx.targets,
        ctx.settings.statement_timeout_ms,
        ctx.settings.seed,
        progress=progress,
    )


def finalize(
    ctx: RunContext, load_report: dict[str, Any] | None = None, suites: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Assemble, judge and write the results document from the records the timing kept in memory (and the
    rounds in pytest-benchmark's format beside it)."""
    records: dict[str, list[dict[str, Any]]] = {}
    # Per case: round by round, slots in label order (the order the cases/ files were read in before).
    for rec in sorted(ctx.records, key=lambda r: (r["round"], r["label"])):
        records.setdefault(rec["case"], []).append(json.loads(json.dumps(rec, default=str)))
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
    environment = collect_environment(ctx.pair)
    doc = {
        "schema_version": RESULTS_SCHEMA_VERSION,
        "run_id": ctx.run_id,
        "started_at": ctx.started_at,
        "finished_at": finished.isoformat(),
        "duration_s": (finished - datetime.fromisoformat(ctx.started_at)).total_seconds(),
        "environment": environment,
        "engine": {"name": ctx.pair.engine.name, "label": ctx.pair.engine.label},
        "deviations": deviations(ctx.pair.engine),
        "dataset": ctx.dataset,
        "load": load_report,
        "measurement": {**ctx.settings.to_dict(), "select": ctx.extra.get("select"), **_rounds_metadata(ctx)},
        "targets": ctx.targets.to_dict(),
        "cases": cases,
        "storage": storage,
        "verdicts": [v.to_dict() for v in verdicts],
        "index_sets": index_sets,
        "suites": suites or {},
        "extra": {k: v for k, v in ctx.extra.items() if k not in ("select", "repeat", "restart_note")},
    }
    if any(ctx.round_times):
        write_benchmark_json(ctx.run_dir, list(zip(ctx.records, ctx.round_times, strict=True)), environment, ctx.repeat)
    write_results(doc, ctx.run_dir)
    return doc


def _rounds_metadata(ctx: RunContext) -> dict[str, Any]:
    """How the timed cases were repeated: rounds, the seed of their shuffled order, each round's wall time."""
    meta: dict[str, Any] = {
        "repeat": ctx.repeat,
        "order_seed": ctx.settings.seed if ctx.repeat > 1 else None,
        "measurement_rounds": ctx.rounds,
        "skipped_slots": ctx.skipped,
    }
    if ctx.extra.get("restart_note"):
        meta["restart_note"] = ctx.extra["restart_note"]
    return meta


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
    pair: InstancePair | None = None,
    repeat: int = 1,
) -> dict[str, Any]:
    """Time, judge and write the results document; before_publish(doc, run_dir) adds files (the report) to the
    run folder while it still has its temporary name, so an interrupt there publishes nothing. `pair`: instances
    the caller already opened (and holds the harness locks of). `repeat`: measurement rounds of the timed
    cases, both servers restarted and the case order shuffled (seeded) between them."""
    check_repeat(repeat)
    if select:
        compile_selection(select)  # a bad -k is refused before any instance is touched
    started = time.perf_counter()
    with (
        prepared_run(config, settings, targets_path, progress=progress, pair=pair) as ctx,
        contextlib.ExitStack() as relocked,
    ):
        ctx.repeat = repeat
        order = random.Random(settings.seed) if repeat > 1 else None
        for round_index in range(repeat):
            ctx.round_index = round_index
            if round_index > 0:
                print(f"round {round_index + 1}/{repeat}: restarting both servers ...", flush=True)
                if not restart_between_rounds(ctx.pair, relocked):
                    ctx.extra["restart_note"] = EXTERNAL_NOT_RESTARTED
                ctx.reconnect()
            which = f" matching -k {select!r}" if select else ""
            rounds = f" (round {round_index + 1}/{repeat})" if repeat > 1 else ""
            print(f"timing the query cases{which}{rounds} ...", flush=True)
            run_cases(ctx, select, verbose, order)
            if ctx.rounds:
                ctx.rounds[-1]["restarted"] = round_index > 0 and "restart_note" not in ctx.extra
        if settings.cache != "warm":
            ctx.extra["cold_cache"] = cold_cases(ctx, progress)
            hold_harness_locks(ctx.pair, relocked)  # a cold-cache restart ended the connections that held it
        sections = run_suites(ctx, config, suites, progress, workload, load_options) if suites else {}
        if settings.cache != "warm" and suites:
            hold_harness_locks(ctx.pair, relocked)  # a cold-cache restart ended the connections that held it
        ctx.extra["suite_wall_s"] = time.perf_counter() - started
        ctx.extra["select"] = select  # the gate excuses promises a deliberate -k left unmeasured, no others
        doc = finalize(ctx, load_report, sections)
        if before_publish is not None:
            before_publish(doc, ctx.run_dir)
    return doc


def check_repeat(repeat: int) -> None:
    if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 1:
        raise HarnessError(
            f"--repeat must be a whole number of measurement rounds >= 1 (got {repeat!r}); e.g. --repeat 3"
        )
