"""`python -m bench <command>`: one small function per subcommand; the Makefile only calls these."""

from __future__ import annotations

import argparse
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from types import FrameType

from bench.config import ENGINES, HarnessConfig
from bench.errors import HarnessError

EXIT_HARNESS_FAILED = 2


def add_instance_options(parser: argparse.ArgumentParser) -> None:
    """Options that choose the two instances; every command that touches a server takes them."""
    g = parser.add_argument_group("instances")
    g.add_argument("--engine", choices=ENGINES, default=None,
                   help="auto: TimescaleDB when installed, else native daily partitions (env PHASE2_BENCH_ENGINE)")
    g.add_argument("--pg-bin", type=Path, default=None,
                   help="directory with initdb/postgres/pg_ctl for the embedded servers (env PHASE2_BENCH_PG_BIN)")
    g.add_argument("--state-dir", type=Path, default=None,
                   help="where embedded data directories live (env PHASE2_BENCH_STATE_DIR)")
    g.add_argument("--before-dsn", default=None, help="target an existing server instead (env PHASE2_BEFORE_DSN)")
    g.add_argument("--after-dsn", default=None, help="target an existing server instead (env PHASE2_AFTER_DSN)")
    g.add_argument("--before-port", type=int, default=None, help="port for the embedded before server (default: free)")
    g.add_argument("--after-port", type=int, default=None, help="port for the embedded after server (default: free)")


def config_from(args: argparse.Namespace) -> HarnessConfig:
    return HarnessConfig.from_env(
        engine=args.engine, pg_bin=args.pg_bin, state_dir=args.state_dir, before_dsn=args.before_dsn,
        after_dsn=args.after_dsn, before_port=args.before_port, after_port=args.after_port,
    )


def cmd_up(args: argparse.Namespace) -> int:
    from bench.instances import open_instances
    from bench.status import format_status, instance_status

    config = config_from(args)
    with open_instances(config, keep_running=True) as pair:
        print(format_status(instance_status(pair)))
        if not config.external:
            print(f"\nEmbedded servers running (state in {config.state_dir}); stop them with `python -m bench down`.")
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from bench.instances import stop_embedded

    config = config_from(args)
    if config.external:
        print("external servers (--before-dsn/--after-dsn) are not managed by the harness: nothing to stop")
        return 0
    stopped = stop_embedded(config)
    print(f"stopped: {', '.join(stopped)}" if stopped else "no embedded server was running")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from bench.embedded import EmbeddedServer
    from bench.instances import embedded_servers, open_instances
    from bench.status import format_status, instance_status

    config = config_from(args)
    if not config.external:
        servers: list[EmbeddedServer] = embedded_servers(config)
        down = [s.name for s in servers if not s.running_pid_port()]
        if down:
            print(f"embedded instances not running: {', '.join(down)} (start them with `python -m bench up`)")
            return 1
    with open_instances(config) as pair:
        statuses = instance_status(pair)
        print(json.dumps(statuses, indent=2, default=str) if args.json else format_status(statuses))
    return 0 if all(s.get("healthy") for s in statuses) else 1


COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "up": (cmd_up, "start both embedded instances (or check the DSN targets) and leave them running"),
    "down": (cmd_down, "stop the embedded instances"),
    "status": (cmd_status, "health, engine, versions, settings and index sets of both instances"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (func, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_instance_options(p)
        p.set_defaults(func=func)
        if name == "status":
            p.add_argument("--json", action="store_true", help="print the status as JSON")
    return parser


def _terminate(signum: int, frame: FrameType | None) -> None:
    # SIGTERM unwinds like Ctrl-C, so servers started for this command are stopped on the way out.
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return int(args.func(args))
    except HarnessError as e:
        print(f"error: {e}", file=sys.stderr)
        return EXIT_HARNESS_FAILED
    except KeyboardInterrupt:
        print("interrupted: servers started by this command were stopped; nothing half-done is kept", file=sys.stderr)
        return 130
