"""The command line's options, each defined once and shared by the commands that take it, and their validation
(everything a flag or its environment variable can get wrong is refused before a server starts)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.core.config import (
    ENGINES,
    ENV_MIGRATION,
    ENV_RUNS_DIR,
    ENV_STATE_DIR,
    HarnessConfig,
    require_writable_dir,
)
from bench.core.errors import HarnessError

if TYPE_CHECKING:
    from bench.core.migration import Migration
    from bench.measure.suites import LoadOptions
    from bench.measure.timing import MeasureSettings
    from generators.shape import DatasetSpec

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


def add_migration_option(parser: argparse.ArgumentParser) -> None:
    """The migration under test, for the commands that build or measure `after`."""
    from bench.core.migration import PHASE2_LABEL, shipped_names

    parser.add_argument(
        "--migration",
        default=None,
        metavar="FILE|NAME",
        help="the SQL that turns before into after: a file, or a shipped name "
        f"({', '.join([PHASE2_LABEL, *shipped_names()])}); default: Phase 2, schema/migration_phase2.sql "
        f"(env {ENV_MIGRATION})",
    )


def add_runs_dir_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--runs-dir",
        type=Path,
        default=None,
        help=f"where run folders and `latest` live (env {ENV_RUNS_DIR}; default reports/runs)",
    )


def add_whatif_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--candidates",
        nargs="+",
        default=None,
        metavar="FILE",
        help="candidate migrations: SQL files or names in schema/migrations/, `phase2` for the design document's "
        "(default: phase2 and every shipped candidate)",
    )
    parser.add_argument(
        "--results", default=None, help="a measured run (folder, id or results.json): Spearman of estimates vs speedups"
    )
    parser.add_argument(
        "--correlate", default="migration_phase2", help="which candidate --results measured (default: migration_phase2)"
    )
    parser.add_argument(
        "--candidates-run",
        default=None,
        metavar="FOLDER",
        help="a `python -m bench candidates` run (runs-dir/candidates-<UTC>): each measured candidate's estimate "
        "beside its measurement, and the rank correlation across candidates",
    )
    parser.add_argument(
        "--hypothetical-only",
        action="store_true",
        help="skip indexes hypopg cannot simulate (GIN; expressions on a partitioned table) instead of building them "
        "inside the rolled-back transaction",
    )
    parser.add_argument("--app-draws", type=int, default=3, help="parameter draws per application query (default 3)")


# Commands that may create embedded servers, and those that write a run folder (checked before any work).
WRITES_STATE_DIR = ("up", "load", "run", "bench", "gate", "profile", "calibrate", "whatif")
WRITES_RUN_FOLDER = ("run", "bench", "gate", "calibrate", "whatif")
TAKES_MIGRATION = ("load", "run", "bench", "gate")


def config_from(args: argparse.Namespace) -> HarnessConfig:
    config = targets_of(args)
    command = getattr(args, "command", None)
    if command in WRITES_STATE_DIR and not config.external:
        require_writable_dir(config.state_dir, "state directory", "--state-dir", ENV_STATE_DIR)
    if command in WRITES_RUN_FOLDER and not getattr(args, "results", None):
        require_writable_dir(config.runs_dir, "runs directory", "--runs-dir", ENV_RUNS_DIR)
    if command in TAKES_MIGRATION:
        migration_from(config)  # a missing, empty or SQL-less file is refused before any server starts
    return config


def migration_from(config: HarnessConfig) -> Migration:
    """The migration under test (--migration, else PHASE2_BENCH_MIGRATION, else Phase 2), read and checked."""
    from bench.core.migration import read_migration

    return read_migration(config.migration)


def targets_of(args: argparse.Namespace) -> HarnessConfig:
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
        migration=getattr(args, "migration", None),
    )
    check_dsn_syntax(config)
    return config


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
    g.add_argument(
        "-k",
        "--select",
        default=None,
        help="only case slots whose id case[label] matches: words (substrings), and, or, not, parentheses",
    )
    g.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="measurement rounds of the timed cases, both servers restarted and the order shuffled between "
        "them (default 1)",
    )
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
        "`make bench` runs the default set; `candidates` runs app,app_writes,migration,compatibility",
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
    check_measure_inputs(args)


def check_measure_inputs(args: argparse.Namespace) -> None:
    """A bad --repeat or -k is refused before servers start and data loads."""
    from bench.measure.run import check_repeat
    from bench.measure.selection import compile_selection

    check_repeat(repeat_from(args))
    if getattr(args, "select", None):
        compile_selection(args.select)


def repeat_from(args: argparse.Namespace) -> int:
    repeat = getattr(args, "repeat", None)
    return 1 if repeat is None else int(repeat)


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
    if not settings.budget_s > 0:
        raise HarnessError(f"--budget {settings.budget_s:g}: give the seconds to aim at per parameter, above 0")
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


def add_gate_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("gate")
    g.add_argument(
        "--results",
        default=None,
        help="judge this results document (results.json, its run folder, a run id or `latest`) instead of running",
    )
    g.add_argument(
        "--baseline",
        action="append",
        default=None,
        help="results document of the base branch (repeatable: several are pooled); fail when the interval of a "
        "case's ratio to it lies below 1 - tolerance, or storage overhead grew beyond it",
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


def add_calibrate_options(parser: argparse.ArgumentParser) -> None:
    from bench.measure.calibrate import AA_MIGRATION, PLANTED_REGRESSIONS

    g = parser.add_argument_group("calibrate")
    g.add_argument("--runs", type=int, default=10, help="gate runs per migration (default 10; `make calibrate RUNS=K`)")
    g.add_argument(
        "--planted",
        action="append",
        default=None,
        metavar="NAME",
        help=f"a planted regression to run (repeatable; default: {', '.join(PLANTED_REGRESSIONS)}); "
        "--planted none runs the A/A gates only",
    )
    g.add_argument(
        "--aa-migration",
        default=AA_MIGRATION,
        help=f"the migration of the A/A runs (default {AA_MIGRATION}, a migration that changes nothing; "
        "phase2 judges the Phase 2 file instead)",
    )
