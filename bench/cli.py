"""`python -m bench <command>`: one small function per subcommand; the Makefile only calls these."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.config import (
    ENGINES,
    ENV_RUNS_DIR,
    ENV_STATE_DIR,
    HarnessConfig,
    require_writable_dir,
    runs_dir_from_env,
)
from bench.core.errors import HarnessError
from bench.interrupts import INTERRUPTS, after_interrupt, defer_interrupts, during_interrupt, on_interrupt, running

if TYPE_CHECKING:
    from bench.db import embedded
    from bench.db.instances import InstancePair
    from bench.measure.suites import LoadOptions
    from bench.measure.timing import MeasureSettings
    from generators.shape import DatasetSpec

EXIT_HARNESS_FAILED = 2
EXIT_INTERRUPTED = 130
ENV_DEBUG = "PHASE2_BENCH_DEBUG"
ENV_CACHE = "PHASE2_BENCH_CACHE"
# Extra suites `make bench` runs after the query timings (the slow ones have their own make targets).
DEFAULT_SUITES = ("app", "app_writes", "compatibility", "write_cost", "migration", "compression")
ENV_WORKLOAD = "PHASE2_BENCH_WORKLOAD"


def add_instance_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose the two instances; every command that touches a server takes them."""
    g = parser.add_argument_group("instances")
    g.add_argument(
        "--engine",
        choices=ENGINES,
        default=None,
        help="auto: TimescaleDB when installed, else native daily partitions (env PHASE2_BENCH_ENGINE)",
    )
    g.add_argument(
        "--pg-bin",
        type=Path,
        default=None,
        help="directory with initdb/postgres/pg_ctl for the embedded servers (env PHASE2_BENCH_PG_BIN)",
    )
    g.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="where embedded data directories live (env PHASE2_BENCH_STATE_DIR)",
    )
    g.add_argument("--before-dsn", default=None, help="target an existing server instead (env PHASE2_BEFORE_DSN)")
    g.add_argument("--after-dsn", default=None, help="target an existing server instead (env PHASE2_AFTER_DSN)")
    g.add_argument("--before-port", type=int, default=None, help="port for the embedded before server (default: free)")
    g.add_argument("--after-port", type=int, default=None, help="port for the embedded after server (default: free)")


def add_runs_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=None,
        help=f"where run folders and `latest` live (env {ENV_RUNS_DIR}; default reports/runs)",
    )


# Commands that may create embedded servers, and those that write a run folder (checked before any work).
WRITES_STATE_DIR = ("up", "load", "run", "bench", "gate", "profile")
WRITES_RUN_FOLDER = ("run", "bench", "gate")


def config_from(args: argparse.Namespace) -> HarnessConfig:
    config = _targets_of(args)
    command = getattr(args, "command", None)
    if command in WRITES_STATE_DIR and not config.external:
        require_writable_dir(config.state_dir, "state directory", "--state-dir", ENV_STATE_DIR)
    if command in WRITES_RUN_FOLDER and not getattr(args, "results", None):
        require_writable_dir(config.runs_dir, "runs directory", "--runs-dir", ENV_RUNS_DIR)
    return config


def _targets_of(args: argparse.Namespace) -> HarnessConfig:
    from bench.db.database import check_dsn_syntax

    config = HarnessConfig.from_env(
        engine=args.engine,
        pg_bin=args.pg_bin,
        state_dir=args.state_dir,
        before_dsn=args.before_dsn,
        after_dsn=args.after_dsn,
        before_port=args.before_port,
        after_port=args.after_port,
        runs_dir=getattr(args, "runs_dir", None),
    )
    check_dsn_syntax(config)
    return config


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


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("dataset")
    g.add_argument("--preset", default=None, help="ci (50k rows), small (500k), default (2M), large (10M), xl (50M)")
    g.add_argument("--rows", default=None, help="explicit row count, e.g. 2000000, 2M or 500k (overrides --preset)")
    g.add_argument("--seed", type=int, default=None, help="generator seed (default 42)")
    g.add_argument(
        "--knob",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a data-shape knob of generators/shape.py, e.g. --knob mean_events_per_session=120 "
        "(repeatable; every knob is recorded with the dataset)",
    )
    g.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="generate the shape of a profiled database (`python -m bench profile --out FILE`); rows default to "
        "the profiled count, --rows/--preset rescale it",
    )
    g.add_argument("--workers", type=int, default=1, help="COPY connections per instance (for bigger servers)")
    g.add_argument("--force", action="store_true", help="reload even when the same dataset is already loaded")
    g.add_argument("--no-progress", action="store_true", help="no progress bars (CI logs)")


def add_measure_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("measurement")
    g.add_argument("-k", "--select", default=None, help="only cases matching this pytest -k expression")
    g.add_argument("--targets", type=Path, default=None, help="targets TOML (default: bench/targets.toml)")
    g.add_argument("--warmup", type=int, default=None, help="untimed executions per instance before timing")
    g.add_argument("--min-rounds", type=int, default=None)
    g.add_argument("--max-rounds", type=int, default=None)
    g.add_argument("--budget", type=float, default=None, help="seconds aimed at per parameter and instance")
    g.add_argument(
        "--statement-timeout-ms",
        type=int,
        default=None,
        help="a query running longer is recorded as a failure (default 30000)",
    )
    g.add_argument("--verbose", action="store_true", help="one line per timed case")
    g.add_argument(
        "--cache",
        choices=("warm", "cold", "both"),
        default=None,
        help="cache state: warm (default), or add cold figures (restart + OS page cache evicted; embedded servers "
        "only) to the query suite and the concurrency suite (env PHASE2_BENCH_CACHE)",
    )
    g.add_argument(
        "--duration", type=int, default=None, help="concurrency: measured seconds per round (env PHASE2_LOAD_DURATION)"
    )
    g.add_argument("--clients", type=int, default=None, help="concurrency: pgbench clients (env PHASE2_LOAD_CLIENTS)")
    g.add_argument(
        "--rate", type=float, default=None, help="concurrency: offered reads per second (env PHASE2_LOAD_RATE)"
    )
    g.add_argument(
        "--ingest-rate",
        type=float,
        default=None,
        help="concurrency: ingest events per second beside the reads (env PHASE2_LOAD_INGEST_RATE)",
    )
    g.add_argument(
        "--suites",
        default=None,
        help="comma-separated extra suites after the query timings (`--suites list` shows them); "
        "`make bench` runs the default set",
    )
    g.add_argument(
        "--workload",
        type=Path,
        default=None,
        help="the application's workload file for the app and app_writes suites, e.g. one `python -m bench profile` "
        f"wrote from pg_stat_statements (default: bench/workloads/devlog.toml; env {ENV_WORKLOAD})",
    )


def workload_from(args: argparse.Namespace) -> Path | None:
    """--workload (or its environment variable), checked now so a bad file fails before minutes of loading."""
    import os

    raw = args.workload or os.environ.get(ENV_WORKLOAD) or None
    if raw is None:
        return None
    from bench.measure.suites.app import app_cases

    path = Path(raw)
    app_cases(path)  # raises a WorkloadError naming the key and the fix
    return path


def suites_from(args: argparse.Namespace, default: tuple[str, ...] = ()) -> list[str]:
    from bench.measure.suites.registry import SUITES

    if args.suites == "list":
        print("\n".join(f"{name:20s} {desc}" for name, (_, desc) in SUITES.items()) or "no extra suites")
        raise SystemExit(0)
    if args.suites is None:
        return [s for s in default if s in SUITES]
    names = [s.strip() for s in args.suites.split(",") if s.strip()]
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        raise HarnessError(
            f"--suites: unknown suite(s) {', '.join(unknown)}: choose from {', '.join(SUITES) or 'none'} "
            "(`--suites list` describes them)"
        )
    return names


def check_run_inputs(args: argparse.Namespace, default_suites: tuple[str, ...] = ()) -> None:
    """Suite names and the targets file are refused before servers start and data loads, not after timing."""
    from bench.judge.verdicts import load_targets

    suites_from(args, default_suites)
    load_targets(args.targets)


def dataset_spec_from(args: argparse.Namespace, default_preset: str = "default") -> DatasetSpec:
    from generators.shape import SpecError, spec_from_args

    if getattr(args, "workers", 1) < 1:
        raise HarnessError(f"--workers must be at least 1 (got {args.workers})")
    if args.profile is not None:
        from bench.load.profile import spec_for_load

        return spec_for_load(args.profile, args.rows, args.preset, args.seed, _knobs(args.knob))
    preset = args.preset if args.preset or args.rows else default_preset
    try:
        spec = spec_from_args(args.rows, preset, args.seed, **_knobs(args.knob))
        spec.validate()
    except SpecError as e:
        raise HarnessError(str(e)) from None
    return spec


def _knobs(pairs: list[str]) -> dict[str, Any]:
    knobs: dict[str, Any] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise HarnessError(f"--knob {pair!r}: write it as NAME=VALUE, e.g. --knob window_days=14")
        text = value.strip()
        try:
            knobs[name.strip()] = int(text)
        except ValueError:
            try:
                knobs[name.strip()] = float(text)
            except ValueError:
                knobs[name.strip()] = text
    return knobs


def measure_settings_from(args: argparse.Namespace) -> MeasureSettings:
    from bench.measure.timing import CACHE_STATES, MeasureSettings

    overrides = {
        k: v
        for k, v in {
            "warmup": args.warmup,
            "min_rounds": args.min_rounds,
            "max_rounds": args.max_rounds,
            "budget_s": args.budget,
            "statement_timeout_ms": args.statement_timeout_ms,
        }.items()
        if v is not None
    }
    cache = args.cache or os.environ.get(ENV_CACHE) or "warm"
    if cache not in CACHE_STATES:
        raise HarnessError(f"{ENV_CACHE}={cache!r}: choose one of {', '.join(CACHE_STATES)}")
    settings = MeasureSettings(**overrides, cache=cache)
    if settings.min_rounds < 2 or settings.max_rounds < settings.min_rounds or settings.warmup < 1:
        raise HarnessError("need --warmup >= 1, --min-rounds >= 2 and --max-rounds >= --min-rounds")
    if settings.statement_timeout_ms < 1:
        raise HarnessError("--statement-timeout-ms must be positive")
    return settings


LOAD_OPTIONS = (
    ("duration", "duration_s", "PHASE2_LOAD_DURATION", int),
    ("clients", "clients", "PHASE2_LOAD_CLIENTS", int),
    ("rate", "rate", "PHASE2_LOAD_RATE", float),
    ("ingest_rate", "ingest_rate", "PHASE2_LOAD_INGEST_RATE", float),
)


def load_options_from(args: argparse.Namespace) -> LoadOptions:
    """--duration/--clients/--rate/--ingest-rate (flags win over their environment variables), all positive."""
    from bench.measure.suites import LoadOptions

    values: dict[str, Any] = {}
    for option, field, env, kind in LOAD_OPTIONS:
        value = getattr(args, option, None)
        source = f"--{option.replace('_', '-')}"
        if value is None and os.environ.get(env):
            source = env
            try:
                value = kind(os.environ[env])
            except ValueError:
                raise HarnessError(f"{env}={os.environ[env]!r} is not a number; give e.g. {env}=10") from None
        if value is not None and not value > 0:
            raise HarnessError(f"{source} must be positive, got {value}")
        values[field] = value
    return LoadOptions(**values)


def check_suite_tools(config: HarnessConfig, suites: list[str]) -> None:
    """Refuse before any server starts when a chosen suite lacks its tool (pgbench for concurrency)."""
    if "concurrency" in suites:
        from bench.measure.pgbench_run import find_pgbench

        find_pgbench(config.pg_bin)


def _load(args: argparse.Namespace, pair: InstancePair, spec: DatasetSpec) -> dict[str, Any]:
    from bench.load.loader import load_dataset

    print(
        f"dataset: {spec.rows:,} rows, seed {spec.seed}, fingerprint {spec.fingerprint()[:12]}; "
        f"engine: {pair.engine.label}",
        flush=True,
    )
    report = load_dataset(pair, spec, workers=args.workers, force=args.force, progress=not args.no_progress)
    print(report.summary(), flush=True)
    return report.to_dict()


def cmd_load(args: argparse.Namespace) -> int:
    from bench.db.instances import open_instances

    spec = dataset_spec_from(args)
    config = config_from(args)
    with open_instances(config) as pair:
        _load(args, pair, spec)
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

    from bench.db.database import harness_lock
    from bench.db.instances import open_instances
    from bench.measure.run import run_benchmark

    spec = dataset_spec_from(args, default_preset)
    settings = measure_settings_from(args)
    workload = workload_from(args)
    config = config_from(args)
    suites = suites_from(args, default_suites)
    load_options = load_options_from(args)
    check_suite_tools(config, suites)
    with open_instances(config) as pair, contextlib.ExitStack() as locks:
        # From the load to the last suite: no other load or measurement can slip in between.
        for inst in pair:
            locks.enter_context(harness_lock(inst.dsn, inst.role))
        load_report = _load(args, pair, spec)
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


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("gate")
    g.add_argument(
        "--results",
        default=None,
        help="judge this results document (results.json, its run folder, a run id or `latest`) instead of running",
    )
    g.add_argument(
        "--baseline",
        default=None,
        help="results document of the base branch: fail when speedup ratios or storage overhead regressed from it",
    )
    g.add_argument(
        "--baseline-tolerance-pct",
        type=float,
        default=None,
        help="how far a ratio may fall below the baseline (default: [gate] baseline_tolerance_pct, 15)",
    )
    g.add_argument("--junit", type=Path, default=None, help="JUnit XML report (default: <run dir>/gate-junit.xml)")
    g.add_argument(
        "--markdown",
        type=Path,
        default=None,
        help="write the Markdown summary here too (it is always appended to $GITHUB_STEP_SUMMARY when set)",
    )


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
    baseline = load_results(args.baseline, runs_dir) if args.baseline else None
    if args.results:
        if args.preset or args.rows or args.select or args.suites or args.workload:
            raise HarnessError(
                "--results judges an existing run: --preset, --rows, -k, --suites and --workload apply to a new run"
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


def add_profile_options(parser: argparse.ArgumentParser) -> None:
    from bench.load.profile import ALLOWABLE_VALUES, ProfileOptions

    defaults = ProfileOptions()
    g = parser.add_argument_group("profile")
    g.add_argument("--dsn", default=None, help="database holding the table to profile (env PHASE2_PROFILE_DSN)")
    g.add_argument("--instance", choices=("before", "after"), default=None, help="profile a harness instance instead")
    g.add_argument("--table", default=defaults.table, help="table to profile, optionally schema-qualified")
    g.add_argument("--out", type=Path, default=None, help="write the profile here (default: print it)")
    g.add_argument(
        "--allow-values",
        default=",".join(defaults.allow_values),
        help=f"columns whose category names may be written (subset of {','.join(ALLOWABLE_VALUES)}; others are "
        "written as ranks); file paths, commands and messages never are",
    )
    g.add_argument("--sample-above-rows", type=int, default=defaults.sample_above_rows, help="sample larger tables")
    g.add_argument("--sample-rows", type=int, default=defaults.sample_rows, help="rows a sample aims at")
    g.add_argument("--statement-timeout-ms", type=int, default=defaults.statement_timeout_ms)
    g.add_argument(
        "--workload-out",
        type=Path,
        default=None,
        help="where the observed mix of pg_stat_statements goes, in the workload format (`--workload FILE` replays "
        "it); default: beside --out as NAME.workload.toml, else ./observed.workload.toml",
    )
    g.add_argument(
        "--compare",
        nargs=2,
        metavar=("SOURCE", "GENERATED"),
        default=None,
        help="no database: print the fidelity report of two profile files (exit 1 when a statistic is off)",
    )


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


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "up": (cmd_up, "start both embedded instances (or check the DSN targets) and leave them running"),
    "down": (cmd_down, "stop the embedded instances"),
    "clean": (cmd_clean, "stop the embedded instances and delete their data directories"),
    "status": (cmd_status, "health, engine, versions, settings and index sets of both instances"),
    "load": (cmd_load, "generate the dataset and load it into both instances (skipped when already loaded)"),
    "run": (cmd_run, "time the query suites on the loaded instances, measure storage, judge every promise"),
    "bench": (cmd_bench, "everything: instances, load, suites, storage, verdicts, report"),
    "gate": (cmd_gate, "CI gate on the ci preset or --results: exit 0 pass, 1 a gated check failed, 2 harness failed"),
    "report": (cmd_report, "figures, report.md and report.html of a run, from its results document"),
    "compare": (cmd_compare, "two runs side by side; refuses runs from different environments unless --force"),
    "profile": (cmd_profile, "read-only profile of an agent_events table (JSON), or --compare two profiles"),
}
# Commands that read results documents only and never touch a server.
OFFLINE_COMMANDS = ("report", "compare")


def add_debug_option(parser: argparse.ArgumentParser, default: Any) -> None:
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default,
        help=f"print the traceback of an error (env {ENV_DEBUG}=1)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    add_debug_option(parser, default=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (func, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_debug_option(p, default=argparse.SUPPRESS)  # after the command too; SUPPRESS keeps a --debug before it
        if name not in OFFLINE_COMMANDS:
            add_instance_options(p)
        p.set_defaults(func=func)
        if name == "status":
            p.add_argument("--json", action="store_true", help="print the status as JSON")
        if name in ("load", "bench", "gate"):
            add_dataset_options(p)
        if name == "load":
            p.add_argument(
                "--measure-ceiling",
                action="store_true",
                help="also compare the streaming load with the server's own COPY FROM file",
            )
        if name in ("run", "bench", "gate"):
            add_measure_options(p)
        if name in ("run", "bench", "gate", "report", "compare"):
            add_runs_dir_option(p)
        if name == "gate":
            add_gate_options(p)
        if name == "report":
            p.add_argument("run", nargs="?", default=None, help="run folder, run id or results.json (default: latest)")
        if name == "profile":
            add_profile_options(p)
        if name == "compare":
            p.add_argument("run_a", help="run A: run folder, run id or results.json")
            p.add_argument("run_b", help="run B: run folder, run id or results.json")
            p.add_argument("--out", type=Path, default=None, help="output folder (default: reports/compare/A_vs_B)")
            p.add_argument("--force", action="store_true", help="compare even when the environments differ")
    return parser


def _unexpected(e: BaseException) -> str:
    first_line = (str(e).strip().splitlines() or [""])[0]
    return (
        f"{type(e).__name__}: {first_line} (unexpected; rerun with --debug or {ENV_DEBUG}=1 for the traceback, "
        "and report it if it looks like a bug)"
    )


def _embedded_servers_of(args: argparse.Namespace) -> list[embedded.EmbeddedServer] | None:
    """The embedded servers a command works with; None for offline commands, DSN targets or unusable input
    (the command itself then reports the input)."""
    if not hasattr(args, "state_dir"):
        return None
    try:
        config = _targets_of(args)
        if config.external:
            return None
        from bench.db.instances import embedded_servers

        return embedded_servers(config)
    except Exception:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(args.debug) or os.environ.get(ENV_DEBUG) == "1"
    previous = {sig: signal.getsignal(sig) for sig in INTERRUPTS}
    for sig, handler in previous.items():
        if handler is not signal.SIG_IGN:  # a caller that ignores SIGINT (nohup, a background job) keeps that
            signal.signal(sig, on_interrupt)
    servers = _embedded_servers_of(args)
    running_before = running(servers)
    interrupted = False
    try:
        return int(args.func(args))
    except BaseException as e:
        interrupted = isinstance(e, KeyboardInterrupt) or during_interrupt(e)
        if not interrupted and not isinstance(e, Exception):
            raise  # SystemExit from `--suites list`
        if debug:
            traceback.print_exc()
        if interrupted:
            defer_interrupts()  # also when a library re-raised the interrupt, not on_interrupt
            print(after_interrupt(servers, running_before), file=sys.stderr)
            return EXIT_INTERRUPTED
        print(f"error: {e if isinstance(e, HarnessError) else _unexpected(e)}", file=sys.stderr)
        return EXIT_HARNESS_FAILED
    finally:
        # After an interrupt the process is on its way out with 130: a late signal must not kill it instead.
        if not interrupted:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
