"""The two instances the harness measures, `before` and `after`: embedded servers or existing ones by DSN."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg

from bench.core.config import ENV_PG_BIN, HarnessConfig
from bench.core.engine import Engine, resolve_engine
from bench.core.errors import HarnessError
from bench.db.database import (
    check_dsn_syntax,
    check_target,
    connect,
    hold_harness_locks,
    mark,
    redact_dsn,
    timescaledb_presence,
)
from bench.db.embedded import DATABASE, EmbeddedServer, ServiceAccount
from bench.db.pg_binaries import find_pg_binaries
from bench.db.server_use import ServerUse, flock_holders

ROLES = ("before", "after")


@dataclass
class Instance:
    role: str
    dsn: str
    kind: str  # "embedded" or "external"
    server: EmbeddedServer | None = None

    def connect(self, autocommit: bool = True, **kwargs: Any) -> psycopg.Connection[Any]:
        return connect(self.dsn, self.role, autocommit=autocommit, **kwargs)

    @property
    def safe_dsn(self) -> str:
        return redact_dsn(self.dsn)


@dataclass
class InstancePair:
    before: Instance
    after: Instance
    engine: Engine
    started: list[str] = field(default_factory=list)
    use: ServerUse | None = None  # embedded servers: this process's use of them (who else may, before a restart)

    def __iter__(self) -> Iterator[Instance]:
        return iter((self.before, self.after))

    def by_role(self, role: str) -> Instance:
        return self.before if role == "before" else self.after


def check_both(instances: list[Instance]) -> None:
    """Both databases are checked before either is marked, so refusing one leaves the other untouched."""
    for inst in instances:
        check_target(inst.role, inst.dsn)


def mark_both(instances: list[Instance]) -> None:
    for inst in instances:
        with inst.connect() as conn:
            mark(conn)


def _open_external(config: HarnessConfig) -> InstancePair:
    assert config.before_dsn is not None and config.after_dsn is not None
    instances = [
        Instance("before", config.before_dsn, "external"),
        Instance("after", config.after_dsn, "external"),
    ]
    check_both(instances)
    available = []
    for inst in instances:
        with inst.connect() as conn:
            presence = timescaledb_presence(conn)
        available.append(presence.installed and presence.preloaded)
    if available[0] != available[1]:
        raise HarnessError(
            "TimescaleDB is available (installed and preloaded) on one target but not the other: both instances "
            "must run the same engine. Install/preload it on both, or pass --engine postgres."
        )
    engine = resolve_engine(config.engine, available[0], "the servers behind --before-dsn/--after-dsn")
    mark_both(instances)
    return InstancePair(instances[0], instances[1], engine)


def embedded_servers(config: HarnessConfig) -> list[EmbeddedServer]:
    binaries = find_pg_binaries(config.pg_bin)
    account = ServiceAccount.for_current_user()
    return [EmbeddedServer(role, config.state_dir, binaries, account) for role in ROLES]


def running_instances(config: HarnessConfig) -> tuple[list[Instance], list[str]]:
    """Both instances as they are, for read-only commands: nothing is started, restarted, created or marked.
    Also the roles of embedded servers that are not running (then no instance is returned)."""
    if config.external:
        assert config.before_dsn is not None and config.after_dsn is not None
        return [Instance("before", config.before_dsn, "external"), Instance("after", config.after_dsn, "external")], []
    servers = embedded_servers(config)
    down = [server.name for server in servers if not server.running_pid_port()]
    if down:
        return [], down
    return [Instance(server.name, server.dsn(), "embedded", server) for server in servers], []


def _create_database(server: EmbeddedServer) -> None:
    port = server.port
    admin = f"host=127.0.0.1 port={port} user=bench dbname=postgres"
    with connect(admin, server.name) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE]).fetchone()
        if not exists:
            conn.execute(f"CREATE DATABASE {DATABASE}")


def _refuse_timescaledb_data_without_library(server: EmbeddedServer, recorded_binaries: object) -> None:
    """A database that holds the timescaledb extension cannot run any statement on binaries without it."""
    admin = f"host=127.0.0.1 port={server.port} user=bench dbname={DATABASE}"
    with connect(admin, server.name) as conn:
        row = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
    if row is None:
        return
    other = recorded_binaries and str(recorded_binaries) != str(server.binaries.bindir)
    earlier = f" ({recorded_binaries})" if other else ""
    raise HarnessError(
        f"the {server.name} instance holds a TimescaleDB {row[0]} dataset, loaded with binaries that have "
        f"TimescaleDB{earlier}, but the PostgreSQL binaries in {server.binaries.bindir} have no TimescaleDB, so no "
        f"statement can run there: point {ENV_PG_BIN} (or --pg-bin) at the binaries with TimescaleDB again, or "
        "remove the harness's embedded instances with `python -m bench clean` and load again"
    )


def _open_embedded(
    config: HarnessConfig,
    servers: list[EmbeddedServer],
    engine: Engine,
    started: list[EmbeddedServer],
    use: ServerUse,
    restart: bool,
) -> InstancePair:
    ports = {"before": config.before_port, "after": config.after_port}
    # Preloaded whenever installed, whatever the engine: a database that once held a hypertable keeps the
    # extension, and without the library no DDL at all runs there (switching engines would fail).
    preload = servers[0].binaries.has_timescaledb
    for server in servers:
        server.init()
        recorded_binaries = server.recorded().get("binaries")
        live = server.running_pid_port()
        if live and preload and restart and not server.recorded().get("timescaledb_preloaded"):
            if not use.alone():
                raise HarnessError(
                    f"the {server.name} server runs without TimescaleDB preloaded, and another phase2-bench process "
                    f"({use.other_users()}) uses it, so it is not restarted under that process: wait for it to "
                    "finish, then run this command again"
                )
            server.stop()  # restart with TimescaleDB preloaded
            live = None
        if not live:
            server.start(preload, ports[server.name])
            started.append(server)
        _create_database(server)
        if not preload:
            _refuse_timescaledb_data_without_library(server, recorded_binaries)
    before, after = (Instance(s.name, s.dsn(), "embedded", s) for s in servers)
    check_both([before, after])
    mark_both([before, after])
    return InstancePair(before, after, engine, [s.name for s in started], use)


@contextlib.contextmanager
def open_instances(config: HarnessConfig, keep_running: bool = False, restart: bool = True) -> Iterator[InstancePair]:
    """Yield both instances; embedded servers this call started are stopped at the end unless keep_running,
    and always when the call fails (a failed `up` leaves nothing behind), but never while another harness
    process uses them. `restart=False`: a running server is used as it is, even without TimescaleDB preloaded."""
    check_dsn_syntax(config)
    if config.external:
        yield _open_external(config)
        return
    servers = embedded_servers(config)
    binaries = servers[0].binaries
    # Refused before the lock files create the state directory.
    engine = resolve_engine(config.engine, binaries.has_timescaledb, f"the PostgreSQL binaries in {binaries.bindir}")
    use = ServerUse(config.state_dir)
    started: list[EmbeddedServer] = []
    failed = True
    try:
        with use.deciding():
            use.join()
            pair = _open_embedded(config, servers, engine, started, use, restart)
        yield pair
        failed = False
    finally:
        try:
            if started and (failed or not keep_running):
                _stop_unless_used(use, started)
        finally:
            use.leave()


def _stop_unless_used(use: ServerUse, servers: list[EmbeddedServer]) -> None:
    with use.deciding():
        if use.alone():
            for server in servers:
                server.stop()
        else:
            print(
                f"left the embedded servers running: another phase2-bench process uses them ({use.other_users()}); "
                "stop them with `python -m bench down` once it is done",
                file=sys.stderr,
            )


@contextlib.contextmanager
def sole_use(config: HarnessConfig) -> Iterator[tuple[list[EmbeddedServer], ServerUse]]:
    """The embedded servers, for `down` and `clean`: refused while another harness process uses them."""
    servers = embedded_servers(config)
    use = ServerUse(config.state_dir)
    if not config.state_dir.exists():  # nothing can run there; a lock file would create the directory
        yield servers, use
        return
    try:
        with use.deciding():
            use.join()
            if not use.alone():
                raise HarnessError(
                    f"the embedded servers in {config.state_dir} are in use by another phase2-bench process "
                    f"({use.other_users()}): wait for it to finish, then run the command again"
                )
            yield servers, use
    finally:
        use.leave()


def stop_embedded(config: HarnessConfig) -> list[str]:
    with sole_use(config) as (servers, _):
        return [server.name for server in servers if server.stop()]


EXTERNAL_NOT_RESTARTED = (
    "external instances (--before-dsn/--after-dsn) cannot be restarted by the harness: between measurement "
    "rounds their connections were only opened again, so the rounds share one server lifetime and cache state"
)


def restart_between_rounds(pair: InstancePair, locks: contextlib.ExitStack) -> bool:
    """Stop and start both embedded servers (same port and settings) and hold the harness lock again on each;
    returns False for external instances, which are left as they are."""
    if any(inst.server is None for inst in pair):
        return False
    assert pair.before.server is not None
    use = ServerUse(pair.before.server.root.parent)
    with use.deciding():
        # Only processes count: this one may hold the users lock more than once (its own nested commands).
        others = flock_holders(use.users_file)
        if others:
            raise HarnessError(
                f"another phase2-bench process (pid {', '.join(map(str, others))}) uses the embedded servers, so "
                "they are not restarted under it between measurement rounds: wait for it to finish, or run with "
                "--repeat 1"
            )
        for inst in pair:
            assert inst.server is not None
            inst.server.stop()
            inst.server.start_again()
        # Still deciding: a process joining now waits until this run holds its lock again.
        hold_harness_locks(pair, locks, after_restart=True)
    return True
