"""One function per subcommand (`cmd_<name>(args) -> exit code`); bench.cli maps the names to them."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.cli.options import (
    DEFAULT_SUITES,
    check_measure_inputs,
    check_run_inputs,
    check_suite_tools,
    config_from,
    dataset_spec_from,
    load_options_from,
    measure_settings_from,
    migration_from,
    repeat_from,
    suites_from,
    workload_from,
)
from bench.core.config import runs_dir_from_env
from bench.core.errors import HarnessError

if TYPE_CHECKING:
    from bench.core.migration import Migration
    from bench.db.instances import InstancePair
    from generators.shape import DatasetSpec


def cmd_up(args: argparse.Namespace) -> int:
    from bench.db.instances import open_instances
    from bench.db.status import format_status, instance_status

    config = config_from(args)
    with open_instances(config, keep_running=True) as pair:
        print(format_status(instance_status(pair)))
        print(f"\nengine for new loads: {pair.engine.label}")
        if not config.external:
            print(f"\nEmbedded servers running (state in {config.state_dir}); stop them with `python -m bench down`.")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from bench.db.instances import embedded_servers, stop_embedded

    config = config_from(args)
    if config.external:
        print("external servers (--before-dsn/--after-dsn) are not managed by the harness: nothing to stop")
        return 0
    stale = [(s.name, s.inspect_pid_file().stale) for s in embedded_servers(config)]
    stopped = stop_embedded(config)
    print(f"stopped: {', '.join(stopped)}" if stopped else "no embedded server was running")
    for name, why in stale:
        if why:
            print(f"{name}: {why}; nothing was signalled")
    return 0


def cmd_clean(args: argparse.Namespace) -> int:
    """Stop the embedded servers and delete their data directories (only folders the harness created)."""
    import shutil

    from bench.db.instances import sole_use

    config = config_from(args)
    if config.external:
        print("external servers are not managed by the harness: nothing to clean")
        return 0
    removed = []
    with sole_use(config) as (servers, use):
        for server in servers:
            server.stop()
            if server.root.exists() and (server.state_file.exists() or server.initialized):
                shutil.rmtree(server.root)
                removed.append(str(server.root))
        use.remove_files()
    if config.state_dir.exists() and not any(config.state_dir.iterdir()):
        config.state_dir.rmdir()
    print("removed: " + ", ".join(removed) if removed else f"nothing to remove in {config.state_dir}")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """Read-only: reports what runs and what the databases hold; starts, stops and marks nothing."""
    from bench.db.instances import running_instances
    from bench.db.status import format_status, instance_status

    instances, down = running_instances(config_from(args))
    if down:
        print(f"embedded instances not running: {', '.join(down)} (start them with `python -m bench up`)")
        return 1
    statuses = instance_status(instances)
    print(json.dumps(statuses, indent=2, default=str) if args.json else format_status(statuses))
    return 0 if all(s.get("healthy") for s in statuses) else 1


def _load(args: argparse.Namespace, pair: InstancePair, spec: DatasetSpec, migration: Migration) -> dict[str, Any]:
    from bench.load.loader import load_dataset

    print(
        f"dataset: {spec.rows:,} rows, seed {spec.seed}, fingerprint {spec.fingerprint()[:12]}; "
        f"engine: {pair.engine.label}; migration under test: {migration.describe()}",
        flush=True,
    )
    report = load_dataset(
        pair, spec, workers=args.workers, force=args.force, progress=not args.no_progress, migration=migration
    )
    print(report.summary(), flush=True)
    return report.to_dict()


def cmd_load(args: argparse.Namespace) -> int:
    from bench.db.instances import open_instances

    spec = dataset_spec_from(args)
    config = config_from(args)
    migration = migration_from(config)
    with open_instances(config) as pair:
        _load(args, pair, spec, migration)
        if args.profile is not None:
            from bench.load.profile import fidelity_report, load_profile

            print("\nfidelity (the loaded before instance profiled, beside the source profile):")
            print(fidelity_report(pair.before.dsn, load_profile(args.profile), spec.rows)[0])
        if args.measure_ceiling:
            from bench.load.ceiling import measure_ceiling

            print(measure_ceiling(pair, spec, progress=not args.no_progress).summary())
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from bench.measure.run import run_benchmark
    from bench.report.app_section import format_app_section
    from bench.report.load_section import format_load_section
    from bench.report.summary import format_suite_table, format_verdict_table

    check_run_inputs(args)
    config, suites = config_from(args), suites_from(args)
    check_suite_tools(config, suites)
    doc = run_benchmark(
        config,
        measure_settings_from(args),
        args.targets,
        args.select,
        verbose=args.verbose,
        suites=suites,
        workload=workload_from(args),
        load_options=load_options_from(args),
        repeat=repeat_from(args),
    )
    if app_section := format_app_section(doc):
        print("\n" + app_section)
    print("\n" + format_verdict_table(doc))
    if suite_table := format_suite_table(doc):
        print("\n" + suite_table)
    if load_text := format_load_section(doc):
        print("\n" + load_text)
    return 0


def _benchmark(
    args: argparse.Namespace,
    default_preset: str,
    default_suites: tuple[str, ...],
    before_publish: Callable[[dict[str, Any], Path], None] | None = None,
) -> dict[str, Any]:
    """instances -> load -> suites -> storage -> verdicts; embedded servers started here are stopped after
    (unless another harness process is using them)."""
    import contextlib

    from bench.db.database import hold_harness_locks
    from bench.db.instances import open_instances
    from bench.measure.run import run_benchmark

    spec = dataset_spec_from(args, default_preset)
    settings = measure_settings_from(args)
    workload = workload_from(args)
    config = config_from(args)
    migration = migration_from(config)
    suites = suites_from(args, default_suites)
    load_options = load_options_from(args)
    check_suite_tools(config, suites)
    check_measure_inputs(args)
    with open_instances(config) as pair, contextlib.ExitStack() as locks:
        hold_harness_locks(pair, locks)  # from the load to the last suite: no other load or measurement slips in
        load_report = _load(args, pair, spec, migration)
        return run_benchmark(
            config,
            settings,
            args.targets,
            args.select,
            load_report,
            args.verbose,
            progress=not args.no_progress,
            suites=suites,
            before_publish=before_publish,
            workload=workload,
            load_options=load_options,
            pair=pair,  # the instances are opened once: load and measurement share them and their locks
            repeat=repeat_from(args),
        )


def cmd_bench(args: argparse.Namespace) -> int:
    """instances -> load -> suites -> storage -> verdicts -> report; non-zero only if the harness failed."""
    import time

    from bench.report.app_section import format_app_section
    from bench.report.load_section import format_load_section
    from bench.report.summary import format_suite_table, format_verdict_table

    started = time.perf_counter()
    check_run_inputs(args, DEFAULT_SUITES)
    written: list[Path] = []
    doc = _benchmark(args, "default", DEFAULT_SUITES, lambda doc, run_dir: written.extend(_report_into(doc, run_dir)))
    if app_section := format_app_section(doc):
        print("\n" + app_section)
    print("\n" + format_verdict_table(doc))
    if suite_table := format_suite_table(doc):
        print("\n" + suite_table)
    if load_text := format_load_section(doc):
        print("\n" + load_text)
    print(f"\nmake bench took {time.perf_counter() - started:,.0f} s end to end")
    if written:
        published = runs_dir_from_env(args.runs_dir) / doc["run_id"]
        print("report: " + ", ".join(str(published / p.name) for p in written))
    return 0


def _report_into(doc: dict[str, Any], run_dir: Path) -> list[Path]:
    """The report, written into the run folder before it is published (nothing without matplotlib)."""
    try:
        from bench.report.document import write_report
    except ImportError:
        return []
    print("report: writing the figures, report.md and report.html ...", flush=True)
    return write_report(doc, run_dir)


def cmd_gate(args: argparse.Namespace) -> int:
    """A short benchmark (the ci preset) or an existing run, judged by bench/gate.py: 0 pass, 1 a check failed."""
    from bench.core.results import load_results, resolve_run
    from bench.judge.gate import (
        evaluate,
        format_gate_table,
        gate_failed,
        judged_against,
        markdown_summary,
        write_junit,
        write_markdown,
    )
    from bench.judge.verdicts import load_targets

    # Everything that can be refused is checked before the benchmark spends minutes on it.
    targets = load_targets(args.targets)
    if args.baseline_tolerance_pct is not None and not args.baseline_tolerance_pct >= 0:
        raise HarnessError(f"--baseline-tolerance-pct must be a percentage >= 0, got {args.baseline_tolerance_pct}")
    runs_dir = runs_dir_from_env(args.runs_dir)
    baseline = [load_results(b, runs_dir) for b in args.baseline or ()]
    if args.results:
        if args.preset or args.rows or args.select or args.suites or args.workload or args.repeat or args.migration:
            raise HarnessError(
                "--results judges an existing run: --preset, --rows, -k, --suites, --workload, --repeat and "
                "--migration apply "
                "to a new run"
            )
        path = resolve_run(args.results, runs_dir)
        doc = load_results(path)
        run_dir = path.parent
    else:
        suites_from(args)
        doc = _benchmark(args, "ci", ())
        run_dir = runs_dir / doc["run_id"]
    if not judged_against(doc, targets):
        print(f"note: the run was judged against other targets; its samples are judged again against {targets.path}")
    checks = evaluate(doc, targets, baseline, args.baseline_tolerance_pct)
    print("\n" + format_gate_table(checks))
    written = [write_junit(checks, args.junit or run_dir / "gate-junit.xml")]
    written += write_markdown(markdown_summary(checks, doc, baseline), args.markdown)
    print("gate reports: " + ", ".join(str(p) for p in written))
    return 1 if gate_failed(checks) else 0


def cmd_calibrate(args: argparse.Namespace) -> int:
    """K gate runs with the no-op migration and K per planted regression: false-alarm and detection rates."""
    from bench.judge.calibration import calibration_table
    from bench.judge.verdicts import load_targets
    from bench.measure.calibrate import PLANTED_REGRESSIONS, calibration_dir, run_calibration

    targets = load_targets(args.targets)
    if args.runs < 1:
        raise HarnessError(f"--runs must be at least 1 (got {args.runs})")
    planted = [] if args.planted == ["none"] else list(args.planted or PLANTED_REGRESSIONS)
    aa_migration = None if args.aa_migration == "phase2" else args.aa_migration
    _refuse_unknown_migrations([m for m in (aa_migration, *planted) if m is not None])
    suites_from(args)
    runs_dir = runs_dir_from_env(args.runs_dir)

    def run_gate(migration: str | None) -> dict[str, Any]:
        run_args = argparse.Namespace(**vars(args))
        run_args.migration = migration  # read by config_from where --migration exists
        return _benchmark(run_args, "ci", ())

    out_dir = calibration_dir(runs_dir)
    calibration = run_calibration(run_gate, targets, args.runs, out_dir, planted, aa_migration)
    print("\n" + calibration_table(calibration))
    print(f"calibration: {out_dir / 'calibration.md'}, {out_dir / 'calibration.json'}")
    return 0


def _refuse_unknown_migrations(names: list[str]) -> None:
    """A typo in --planted is refused before the first of many gate runs, not after the A/A ones."""
    from bench.core.migration import shipped_names

    shipped = set(shipped_names())
    unknown = [n for n in names if n not in shipped and not Path(n).is_file()]
    if unknown:
        raise HarnessError(
            f"unknown migration {unknown[0]!r}: choose from {', '.join(sorted(shipped))} (schema/migrations/) "
            "or give the path of a .sql file"
        )


def cmd_report(args: argparse.Namespace) -> int:
    from bench.core.results import load_results, resolve_run
    from bench.report.document import write_report

    path = resolve_run(args.run, runs_dir_from_env(args.runs_dir))
    for written in write_report(load_results(path), path.parent):
        print(written)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from bench.core.results import load_results
    from bench.report.compare import compare_runs, default_compare_dir

    runs_dir = runs_dir_from_env(args.runs_dir)
    doc_a, doc_b = load_results(args.run_a, runs_dir), load_results(args.run_b, runs_dir)
    for written in compare_runs(doc_a, doc_b, args.out or default_compare_dir(doc_a, doc_b), force=args.force):
        print(written)
    return 0


def cmd_profile(args: argparse.Namespace) -> int:
    """Aggregate statistics of an agent_events table, read-only; or --compare two profiles."""
    import os

    from bench.load.profile import ProfileOptions, compare_files, profile_database, summary, write_profile

    if args.compare:
        report, passed = compare_files(*args.compare)
        print(report)
        return 0 if passed else 1
    options = ProfileOptions(
        table=args.table,
        allow_values=tuple(v.strip() for v in args.allow_values.split(",") if v.strip()),
        sample_above_rows=args.sample_above_rows,
        sample_rows=args.sample_rows,
        statement_timeout_ms=args.statement_timeout_ms,
    )
    options.validate()  # before the statements are read: a refused option touches nothing
    dsn = args.dsn or os.environ.get("PHASE2_PROFILE_DSN")
    if args.instance:
        from bench.db.instances import open_instances

        # Reading needs no TimescaleDB preloaded: a running server is profiled as it is, never restarted.
        with open_instances(config_from(args), restart=False) as pair:
            dsn = pair.by_role(args.instance).dsn
            mix_line = _observed_mix(dsn, args)
            profile = profile_database(dsn, options)
    elif dsn:
        # The statements first: the profile's own reads of the table would otherwise be counted among them.
        mix_line = _observed_mix(dsn, args)
        profile = profile_database(dsn, options)
    else:
        raise HarnessError("name the database to profile: --dsn 'host=... dbname=...' (or --instance before)")
    text = write_profile(profile, args.out)
    if args.out:
        print(f"{summary(profile)}\nprofile: {args.out}\n{mix_line}")
    else:
        print(f"{summary(profile)}\n{mix_line}", file=sys.stderr)
        print(text, end="")
    return 0


def _observed_mix(dsn: str, args: argparse.Namespace) -> str:
    """The observed mix from pg_stat_statements, written as a workload file; one line saying what happened."""
    from psycopg.conninfo import conninfo_to_dict

    from bench.load.statements import read_observed_mix, write_observed_workload

    out = args.workload_out or (args.out.with_suffix(".workload.toml") if args.out else Path("observed.workload.toml"))
    result = read_observed_mix(dsn, args.table, args.statement_timeout_ms)
    return write_observed_workload(result, str(conninfo_to_dict(dsn).get("dbname") or "database"), out)


def _measured_by_row(folder: Path, rows: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Each measured candidate's speedups per query, from the results document the candidates run kept for it."""
    from bench.core.results import load_results
    from bench.judge.whatif_rank import measured_speedups

    return {
        row["name"]: measured_speedups(load_results(folder / row["name"]))
        for row in rows
        if row.get("measured") and (folder / row["name"] / "results.json").is_file()
    }


def cmd_whatif(args: argparse.Namespace) -> int:
    """Screens candidate index sets on the loaded before instance by plain EXPLAIN estimates (HypoPG)."""
    from datetime import UTC, datetime

    from bench.cli.candidates import read_candidates_document
    from bench.core.results import load_results
    from bench.db.instances import open_instances
    from bench.judge.whatif_rank import candidates_comparison, correlation, measured_speedups, rank_candidates
    from bench.load.loader import require_loaded
    from bench.measure.timing import MeasureSettings
    from bench.measure.whatif import candidates_from, catalogue_queries, screen, workload_weights
    from bench.report.whatif_table import format_whatif

    if args.app_draws < 1:
        raise HarnessError(f"--app-draws {args.app_draws}: give at least 1 draw per application query")
    candidates = candidates_from(args.candidates)  # a bad file is refused before any server starts
    results = load_results(args.results) if args.results else None
    measured = (
        read_candidates_document(Path(args.candidates_run).expanduser(), "--candidates-run")
        if args.candidates_run
        else None
    )
    config = config_from(args)
    with open_instances(config) as pair:
        dataset = require_loaded(pair)
        now = datetime.fromisoformat(dataset["spec"]["reference_instant"])
        with pair.before.connect() as conn:
            queries = catalogue_queries(conn, pair.engine, now, MeasureSettings().seed, args.app_draws)
            document = screen(conn, pair.engine, candidates, queries, build_unsupported=not args.hypothetical_only)
    ranked = rank_candidates(document, workload_weights())
    corr = correlation(ranked, measured_speedups(results), args.correlate) if results is not None else None
    comparison = None
    if measured is not None:
        folder, rows, _ = measured
        comparison = {
            "source": str(folder),
            **candidates_comparison(ranked, rows, _measured_by_row(folder, rows)),
        }
    out = config.runs_dir / f"whatif-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}"
    out.mkdir(parents=True, exist_ok=True)
    text = format_whatif(document, ranked, corr, comparison)
    (out / "whatif.json").write_text(
        json.dumps(
            {**document, "ranking": ranked, "correlation": corr, "candidates_run": comparison}, indent=2, default=str
        )
        + "\n"
    )
    (out / "whatif.md").write_text(text)
    print(text + f"\nwritten: {out / 'whatif.json'}, {out / 'whatif.md'}")
    return 0
