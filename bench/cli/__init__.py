"""`python -m bench <command>`: one small function per subcommand; the Makefile only calls these."""

# The parser and main live here (the `phase2-bench = "bench.cli:main"` entry point); the options and their checks
# are in bench.cli.options, the commands in bench.cli.commands, interrupt handling in bench.cli.interrupts.
from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from bench.cli.candidates import add_candidates_options, cmd_candidates
from bench.cli.commands import (
    cmd_bench,
    cmd_calibrate,
    cmd_clean,
    cmd_compare,
    cmd_down,
    cmd_gate,
    cmd_load,
    cmd_profile,
    cmd_report,
    cmd_run,
    cmd_status,
    cmd_up,
    cmd_whatif,
)
from bench.cli.interrupts import (
    INTERRUPTS,
    after_interrupt,
    defer_interrupts,
    during_interrupt,
    forget_kept,
    on_interrupt,
    running,
)
from bench.cli.options import (
    DEFAULT_SUITES,
    TAKES_MIGRATION,
    add_calibrate_options,
    add_dataset_options,
    add_gate_options,
    add_instance_options,
    add_measure_options,
    add_migration_option,
    add_profile_options,
    add_runs_dir_option,
    add_whatif_options,
    targets_of,
)
from bench.core.errors import HarnessError

if TYPE_CHECKING:
    from bench.db import embedded

__all__ = ["DEFAULT_SUITES", "EXIT_HARNESS_FAILED", "EXIT_INTERRUPTED", "build_parser", "main"]

EXIT_HARNESS_FAILED = 2
EXIT_INTERRUPTED = 130
ENV_DEBUG = "PHASE2_BENCH_DEBUG"
COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "up": (cmd_up, "start both embedded instances (or check the DSN targets) and leave them running"),
    "down": (cmd_down, "stop the embedded instances"),
    "clean": (cmd_clean, "stop the embedded instances and delete their data directories"),
    "status": (cmd_status, "health, engine, versions, settings and index sets of both instances"),
    "load": (cmd_load, "generate the dataset and load it into both instances (skipped when already loaded)"),
    "run": (cmd_run, "time the query suites on the loaded instances, measure storage, judge every promise"),
    "bench": (cmd_bench, "everything: instances, load, suites, storage, verdicts, report"),
    "gate": (cmd_gate, "CI gate on the ci preset or --results: exit 0 pass, 1 a gated check failed, 2 harness failed"),
    "calibrate": (
        cmd_calibrate,
        "K gate runs with a no-op migration and K per planted regression: false-alarm and detection rates",
    ),
    "report": (cmd_report, "figures, report.md and report.html of a run, from its results document"),
    "compare": (cmd_compare, "two runs side by side; refuses runs from different environments unless --force"),
    "profile": (cmd_profile, "read-only profile of an agent_events table (JSON), or --compare two profiles"),
    "candidates": (
        cmd_candidates,
        "candidate migrations one after another against the same before: one table, figure and recommendation",
    ),
    "whatif": (cmd_whatif, "rank candidate index sets by the planner's estimates with HypoPG on before (no timing)"),
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


class OneLineErrors(argparse.ArgumentParser):
    """A bad flag or value is one `error:` line naming the --help to read (exit 2), not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {self.prog}: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineErrors(prog="python -m bench", description=__doc__)
    add_debug_option(parser, default=False)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=OneLineErrors)
    for name, (func, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_debug_option(p, default=argparse.SUPPRESS)  # after the command too; SUPPRESS keeps a --debug before it
        if name not in OFFLINE_COMMANDS:
            add_instance_options(p)
        p.set_defaults(func=func, command_parser=p)
        if name == "status":
            p.add_argument("--json", action="store_true", help="print the status as JSON")
        if name in ("load", "bench", "gate", "calibrate", "candidates"):
            add_dataset_options(p)
        if name == "load":
            p.add_argument(
                "--measure-ceiling",
                action="store_true",
                help="also compare the streaming load with the server's own COPY FROM file",
            )
        if name in TAKES_MIGRATION:
            add_migration_option(p)
        if name in ("run", "bench", "gate", "calibrate", "candidates"):
            add_measure_options(p)
        if name == "candidates":
            add_candidates_options(p)
        if name in ("run", "bench", "gate", "calibrate", "report", "compare", "whatif", "candidates"):
            add_runs_dir_option(p)
        if name == "gate":
            add_gate_options(p)
        if name == "calibrate":
            add_calibrate_options(p)
        if name == "report":
            p.add_argument("run", nargs="?", default=None, help="run folder, run id or results.json (default: latest)")
        if name == "profile":
            add_profile_options(p)
        if name == "whatif":
            add_whatif_options(p)
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
        config = targets_of(args)
        if config.external:
            return None
        from bench.db.instances import embedded_servers

        return embedded_servers(config)
    except Exception:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # argparse reports them from the top-level parser: name the command's --help instead
        getattr(args, "command_parser", parser).error(f"unrecognized arguments: {' '.join(extra)}")
    forget_kept()
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
