"""`python -m bench candidates`: candidate migrations measured one after the other against the same `before`.

For each candidate: load (before reused, after = physical copy + the candidate), then the timed design-document
cases and a small suite list (app, app_writes), its results document kept in runs-dir/candidates-<UTC>/<name>/.
A candidate that fails to apply or to measure is recorded as failed; the others are still measured. The
table, figure and recommendation come from bench.judge.candidates_table and bench.report.candidates_report.
`latest` of the runs folder is never touched.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cli.interrupts import keep_on_interrupt
from bench.cli.options import (
    check_measure_inputs,
    check_suite_tools,
    config_from,
    dataset_spec_from,
    load_options_from,
    measure_settings_from,
    repeat_from,
    suites_from,
    workload_from,
)
from bench.core.config import runs_dir_from_env
from bench.core.errors import HarnessError, UsageError

if TYPE_CHECKING:
    from bench.core.config import HarnessConfig
    from bench.core.migration import Migration
    from bench.db.instances import InstancePair
    from bench.judge.candidates_table import Row
    from bench.judge.verdicts import Targets
    from bench.measure.timing import MeasureSettings
    from generators.shape import DatasetSpec

CANDIDATE_SUITES = ("app", "app_writes", "migration", "compatibility")
# Names of files that exist per engine: <name>_timescaledb on TimescaleDB, <name>_partitions otherwise.
PER_ENGINE = ("phase2_safe", "targeted_safe")
# what the table and the recommendation read in each row of candidates.json (bench.judge.candidates_table)
ROW_KEYS = (
    "name",
    "applied",
    "measured",
    "error",
    "migration",
    "app_ratio",
    "promises",
    "storage_overhead_pct",
    "write_ratio",
    "migrate_s",
)
DEFAULT_CANDIDATES = ("phase2", "targeted", "targeted_safe", "phase2_safe", "phase2_path_ops", "filepath_expression")


def add_candidates_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--migration",
        dest="candidates",
        action="append",
        default=None,
        metavar="FILE|NAME",
        help="a candidate migration: a SQL file or a shipped name (repeatable); phase2_safe and targeted_safe name "
        "the engine's file (<name>_partitions or <name>_timescaledb); default: phase2, targeted, targeted_safe, "
        "phase2_safe, phase2_path_ops, filepath_expression",
    )
    parser.add_argument(
        "--from",
        dest="from_dir",
        action="append",
        default=None,
        metavar="FOLDER",
        help="measure nothing: draw the table, recommendation and figure of a finished candidates run "
        "(runs-dir/candidates-<UTC>) again with the targets file of --targets; repeat it to put the rows of "
        "several runs on the same data in one table (written in the first folder)",
    )


def _read_candidates(names: list[str], timescaledb: bool | None) -> list[Migration]:
    """Every candidate read and checked (an unknown name or an empty file is refused, exit 2); a per-engine name
    (phase2_safe, targeted_safe) is resolved once the engine is known (timescaledb None: not yet, both files are
    checked)."""
    from bench.core.migration import read_migration

    read = []
    for name in names:
        if name in PER_ENGINE:
            files = [f"{name}_partitions", f"{name}_timescaledb"]
            if timescaledb is None:
                for f in files:
                    read_migration(f)
                continue
            name = files[1] if timescaledb else files[0]
        read.append(read_migration(name))
    return read


def _folder_names(migrations: list[Migration]) -> list[str]:
    names: list[str] = []
    for m in migrations:
        name, n = m.label, 1
        while name in names:
            n += 1
            name = f"{m.label}-{n}"
        names.append(name)
    return names


def cmd_candidates(args: argparse.Namespace) -> int:
    """Each candidate loaded and measured in turn; one table, figure and recommendation line."""
    if args.from_dir is not None:
        return republish(args)
    from bench.db.database import hold_harness_locks
    from bench.db.instances import open_instances
    from bench.judge.verdicts import load_targets

    # Everything that can be refused is refused before any server starts.
    names = list(args.candidates or DEFAULT_CANDIDATES)
    _read_candidates(names, None)
    spec = dataset_spec_from(args, "default")
    settings = measure_settings_from(args)
    workload = workload_from(args)
    config = config_from(args)
    suites = suites_from(args, CANDIDATE_SUITES)
    load_options = load_options_from(args)
    targets = load_targets(args.targets)
    check_suite_tools(config, suites)
    check_measure_inputs(args)
    runs_dir = runs_dir_from_env(args.runs_dir)
    out = _unused(runs_dir / f"candidates-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}")
    plan = _Plan(args, spec, settings, config, suites, workload, load_options, out)
    rows: list[dict[str, Any]] = []
    header, total, created = "", len(names), False
    planned: list[tuple[str, Migration]] = []
    try:
        with open_instances(config) as pair, contextlib.ExitStack() as locks:
            hold_harness_locks(pair, locks)  # from the first load to the last suite: nothing else slips in
            migrations = _read_candidates(names, pair.engine.is_timescaledb)
            planned = list(zip(_folder_names(migrations), migrations, strict=True))
            total = len(migrations)
            out.mkdir(parents=True, exist_ok=False)
            created = True  # from here on the folder is this run's: an interrupt keeps or removes it
            header = (
                f"{spec.rows:,} rows, seed {spec.seed}, engine {pair.engine.label}; suites: "
                f"{', '.join(['timed design-document cases', *suites])}"
            )
            print(f"candidates: {', '.join(m.label for m in migrations)}; {header}; results in {out}", flush=True)
            started = time.monotonic()
            for n, (folder, migration) in enumerate(planned):
                eta = _eta(started, n, total)
                print(f"\n== candidate {n + 1}/{len(migrations)}: {migration.describe()}{eta} ==", flush=True)
                rows.append(_measure_candidate(plan, pair, migration, folder, first=n == 0))
        _publish(rows, header, targets, out)
    except KeyboardInterrupt:
        if created:
            _keep_what_finished(rows, planned, header, targets, out, total)
        raise
    return 0 if any(r["measured"] for r in rows) else 1


def _publish(
    rows: list[dict[str, Any]],
    header: str,
    targets: Targets,
    out: Path,
    stem: str = "candidates",
    interrupted: bool = False,
) -> None:
    """<stem>.json, <stem>.md (also printed) and <stem>.png in out, the recommendation judged with the budgets of
    `targets`; `interrupted` marks the table of a run stopped before its last candidate."""
    from bench.judge.candidates_table import build_table, storage_target
    from bench.report.candidates_report import format_candidates

    table = build_table(rows, storage_target(targets.promises), targets.write_slowdown_max_pct, _shown(targets.path))
    text = format_candidates(table, header)
    document = {"header": header, "interrupted": interrupted, **table}
    (out / f"{stem}.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    (out / f"{stem}.md").write_text(text)
    written = [out / f"{stem}.md", out / f"{stem}.json"]
    try:
        from bench.report.candidates_report import write_candidates_figure

        figure = write_candidates_figure(table, out, header.replace("; suites", "\nsuites"), f"{stem}.png")
        written += [figure] if figure is not None else []
    except ImportError:
        pass
    print("\n" + text)
    print("written: " + ", ".join(str(p) for p in written))


def read_candidates_document(folder: Path, flag: str) -> tuple[Path, list[dict[str, Any]], str]:
    """The rows and header of a finished candidates run's candidates.json; a folder that holds none, or one this
    command did not write, is refused saying so (exit 2)."""
    source = folder / "candidates.json"
    if not source.is_file():
        raise UsageError(
            f"{flag} {folder}: no candidates.json there; give a folder `python -m bench candidates` wrote "
            "(runs-dir/candidates-<UTC>)"
        )
    try:
        document = json.loads(source.read_text())
        rows, header = list(document["rows"]), str(document.get("header", ""))
        missing = sorted({key for row in rows for key in ROW_KEYS if key not in row})
        if missing:
            raise KeyError(f"rows lack {', '.join(missing)}")
        interrupted = bool(document.get("interrupted"))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise UsageError(
            f"{flag} {folder}: candidates.json cannot be read ({type(e).__name__}: {e}); it is not one this command "
            "wrote, or it was edited: run the candidates again"
        ) from None
    if interrupted:
        print(f"note: {source} is the table of an interrupted run: {header}", file=sys.stderr, flush=True)
    return folder, rows, header


def republish(args: argparse.Namespace) -> int:
    """`--from FOLDER`: the table, recommendation and figure of a finished candidates run drawn again from its
    candidates.json, with today's targets file (other budgets, say), into candidates-redrawn-<UTC>.{md,json,png}
    beside the run's own files, which stay as they were; nothing is measured."""
    from bench.judge.verdicts import load_targets

    if args.candidates or args.suites:
        raise UsageError(
            "--from redraws a finished run and measures nothing: leave out --migration and --suites, or leave out "
            "--from to measure"
        )
    folders = [Path(d).expanduser().resolve() for d in args.from_dir]
    repeated = sorted({str(f) for f in folders if folders.count(f) > 1})
    if repeated:
        raise UsageError(f"--from {repeated[0]} is given twice: each run's rows belong in the table once")
    documents = [read_candidates_document(f, "--from") for f in folders]
    folder, rows, header = documents[0]
    dataset = header.split(";")[0]  # rows, seed and engine
    for other, more, other_header in documents[1:]:
        if other_header.split(";")[0] != dataset:
            raise UsageError(
                f"--from {other}: its rows were measured on other data ({other_header.split(';')[0]}) than "
                f"{folder}'s ({dataset}); put runs of the same dataset and engine in one table"
            )
        taken = {r["name"] for r in rows}
        rows += [{**r, "name": r["name"] if r["name"] not in taken else f"{r['name']} ({other.name})"} for r in more]
        header += f"; rows from {other}"
    targets = load_targets(args.targets)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    header += f"; redrawn {stamp} with {_shown(targets.path)}"
    stem = _unused(folder / f"candidates-redrawn-{stamp}.json").stem  # a redraw of the same second keeps its files
    _publish(rows, header, targets, folder, stem=stem)
    return 0 if any(r["measured"] for r in rows) else 1


@dataclasses.dataclass(frozen=True)
class _Plan:
    """What every candidate is loaded and measured with (checked before any server started)."""

    args: argparse.Namespace
    spec: DatasetSpec
    settings: MeasureSettings
    config: HarnessConfig
    suites: list[str]
    workload: Path | None
    load_options: Any
    out: Path


def _measure_candidate(plan: _Plan, pair: InstancePair, migration: Migration, folder: str, first: bool) -> Row:
    """One candidate: `after` loaded with it (before reused), then measured; a row, failed when it did not apply
    or its measurement failed. Its results document ends in out/<folder>/."""
    from bench.judge.candidates_table import candidate_row, failed_row
    from bench.load.loader import load_dataset
    from bench.measure.run import run_benchmark

    args = plan.args
    try:
        report = load_dataset(
            pair,
            plan.spec,
            workers=args.workers,
            force=args.force and first,
            progress=not args.no_progress,
            migration=migration,
        )
    except HarnessError as e:  # MigrationError included: the candidate did not apply
        print(f"candidate {folder}: did not apply: {e}", flush=True)
        return failed_row(folder, str(e), applied=False, migration=migration.to_dict())
    print(report.summary(), flush=True)
    staging = plan.out / f".runs-{folder}"
    try:
        doc = run_benchmark(
            dataclasses.replace(plan.config, runs_dir=staging, migration=migration.cli_name),
            plan.settings,
            args.targets,
            args.select,
            report.to_dict(),
            args.verbose,
            progress=not args.no_progress,
            suites=plan.suites,
            workload=plan.workload,
            load_options=plan.load_options,
            pair=pair,
            repeat=repeat_from(args),
        )
    except HarnessError as e:
        print(f"candidate {folder}: applied, but its measurement failed: {e}", flush=True)
        return failed_row(folder, f"measurement failed: {e}", applied=True, migration=migration.to_dict())
    finally:
        _settle(staging, plan.out / folder)
    return candidate_row(folder, doc, migration.to_dict())


def _shown(path: Path) -> str:
    """A targets file as the table names it: relative to the working directory when it is below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def _eta(started: float, done: int, total: int) -> str:
    """How long the candidates so far took, and the rest at that pace (the first one also loads before)."""
    if done == 0:
        return ""
    spent = time.monotonic() - started
    left = spent / done * (total - done) / 60
    return f" ({spent / 60:.1f} min so far, {'under a minute' if left < 1 else f'about {left:.0f} min'} left)"


def _keep_what_finished(
    rows: list[dict[str, Any]],
    planned: list[tuple[str, Migration]],
    header: str,
    targets: Targets,
    out: Path,
    total: int,
) -> None:
    """An interrupted run (its folder created by this run): the table of the candidates measured so far, marked
    as interrupted, so an hour of measurements is not lost; a folder with no finished candidate is removed. A
    candidate whose results document was published just before the interrupt counts as finished too, and a table
    that cannot be written is said, not claimed."""
    from bench.judge.candidates_table import candidate_row

    if not out.is_dir():
        return
    listed = {r["name"] for r in rows}
    for folder, migration in planned:
        results = out / folder / "results.json"
        if folder not in listed and results.is_file():
            with contextlib.suppress(OSError, ValueError):
                rows.append(candidate_row(folder, json.loads(results.read_text()), migration.to_dict()))
    if not rows:
        shutil.rmtree(out, ignore_errors=True)
        return
    try:
        _publish(rows, f"{header}; INTERRUPTED after {len(rows)} of {total} candidates", targets, out, interrupted=True)
    except Exception as e:  # the interrupt's last line must not claim a table that is not there
        keep_on_interrupt(
            f"the results of the {len(rows)} of {total} candidates finished in {out}/<candidate>/results.json; their "
            f"table could not be written ({type(e).__name__}: {e})"
        )
        return
    keep_on_interrupt(f"the table of the {len(rows)} of {total} candidates finished, marked INTERRUPTED, in {out}")


def _unused(path: Path) -> Path:
    """path, or path-2, path-3, ... (before its suffix) when a run or a redraw of the same second already took it."""
    candidate, n = path, 1
    while candidate.exists():
        n += 1
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
    return candidate


def _settle(staging: Path, final: Path) -> None:
    """The published run (staging/<run_id>) becomes final; the staging folder (and its `latest`) goes. A failed run
    left nothing published there, and run_benchmark already removed its partial folder."""
    if not staging.is_dir():
        return
    published = [p for p in staging.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")]
    if published:
        published[0].rename(final)
    shutil.rmtree(staging)  # created by this command, holding at most a `latest` link now
