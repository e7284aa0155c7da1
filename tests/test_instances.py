"""The embedded instances against real servers: start, status, stop, both engines' schema paths, safety, and
the error each bad input gets."""

from __future__ import annotations

import json
import os
import pwd
import re
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fixtures.instances import discard_data_dirs, scratch_databases
from psycopg.conninfo import make_conninfo

from bench.cli import main
from bench.core.config import HarnessConfig
from bench.core.engine import TIMESCALEDB
from bench.core.errors import HarnessError, MigrationError, UnsafeTargetError
from bench.db.database import MARKER_TABLE, ensure_marked, table_exists
from bench.db.embedded import SERVICE_USER, free_port, port_is_free
from bench.db.instances import InstancePair, embedded_servers, open_instances
from bench.db.pg_binaries import PgBinaries
from bench.db.schema import (
    EXPECTED_AFTER,
    EXPECTED_BEFORE,
    PRIMARY_KEY,
    apply_migration,
    compare_index_sets,
    create_indexes_before,
    create_table,
    index_set,
)
from bench.db.server_settings import settings_dict
from bench.db.status import format_status, instance_status

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests run from

# Not aligned to midnight at either end: the partitions must still cover whole UTC days, 1 to 4 March.
WINDOW_START = datetime(2024, 3, 1, 15, 30, tzinfo=UTC)
WINDOW_END = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
WINDOW_DAYS = [datetime(2024, 3, day, tzinfo=UTC) for day in (1, 2, 3, 4)]
PASSWORD = "hunter2-not-for-logs"


@pytest.fixture(autouse=True)
def _no_harness_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads PHASE2_* variables; a developer's own settings must not steer these tests."""
    for name in list(os.environ):
        if name.startswith("PHASE2_"):
            monkeypatch.delenv(name)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`python -m bench ...` in this process; main() installs a SIGTERM handler, which is put back."""
    previous = signal.getsignal(signal.SIGTERM)
    try:
        code = main(argv)
    finally:
        signal.signal(signal.SIGTERM, previous)
    out, err = capsys.readouterr()
    return code, out, err


# ---- processes ----------------------------------------------------------------------------------------------
def process_alive(pid: int) -> bool:
    """A zombie counts as gone: it has exited and only waits for its parent (perhaps a lazy PID 1) to reap it."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return False
    return fields[0] not in ("Z", "X")


def process_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError(f"no Uid line for pid {pid}")


def processes_using(data_dir: Path) -> list[int]:
    """Live processes whose command line names `data_dir` (a postmaster is started with -D <data_dir>)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(data_dir) in cmdline and process_alive(int(entry.name)):
            pids.append(int(entry.name))
    return pids


def postmaster_pid(data_dir: Path) -> int:
    return int((data_dir / "postmaster.pid").read_text().splitlines()[0])


def assert_stopped(data_dir: Path, pid: int) -> None:
    assert not (data_dir / "postmaster.pid").exists(), f"{data_dir}/postmaster.pid left behind"
    assert not process_alive(pid), f"postmaster {pid} of {data_dir} still runs"
    assert processes_using(data_dir) == [], f"processes still use {data_dir}"


# ---- settings ------------------------------------------------------------------------------------------------
UNIT_FACTORS = {
    "B": 1,
    "kB": 1024,
    "MB": 1024**2,
    "GB": 1024**3,
    "TB": 1024**4,
    "us": 0.001,
    "ms": 1,
    "s": 1000,
    "min": 60_000,
    "h": 3_600_000,
    "d": 86_400_000,
}


def unit_factor(unit: str) -> float:
    """pg_settings units may carry a multiplier, e.g. shared_buffers is counted in '8kB' pages."""
    match = re.fullmatch(r"(\d*)\s*([A-Za-z]+)", unit)
    assert match and match[2] in UNIT_FACTORS, f"unknown unit {unit!r}"
    return int(match[1] or 1) * UNIT_FACTORS[match[2]]


def comparable(value: str, setting_unit: str | None = None) -> float | str:
    """One form for '1GB', '1024MB' and pg_settings' ('131072', '8kB'): bytes or milliseconds; text lowercased.

    A bare number for a setting that has a unit is in that unit, as in postgresql.conf.
    """
    match = re.fullmatch(r"(-?\d+(?:\.\d+)?)\s*([A-Za-z]+)?", value.strip())
    if not match:
        return value.strip().lower()
    number = float(match[1])
    if match[2]:
        return number * unit_factor(match[2])
    return number * unit_factor(setting_unit) if setting_unit else number


def assert_settings_in_force(conn: psycopg.Connection[Any], timescaledb: bool) -> None:
    """Every chosen setting has its value, read from the harness's configuration file, not a default."""
    expected = settings_dict(timescaledb)
    rows = conn.execute(
        "SELECT name, setting, unit, source FROM pg_settings WHERE name = ANY(%s)", [list(expected)]
    ).fetchall()
    in_force = {name: (setting, unit, source) for name, setting, unit, source in rows}
    assert set(in_force) == set(expected), f"settings the server does not know: {set(expected) - set(in_force)}"
    for name, value in expected.items():
        setting, unit, source = in_force[name]
        assert comparable(setting, unit) == comparable(value, unit), f"{name}: {setting} {unit or ''} != {value}"
        assert source == "configuration file", f"{name} comes from {source}, not the harness's include file"


# ---- schema ------------------------------------------------------------------------------------------------
def build_before_and_after(pair: InstancePair) -> None:
    """What the harness does: both get the table and the 7 old indexes; `after` then gets the migration."""
    for inst in pair:
        with inst.connect() as conn:
            create_table(conn, pair.engine, WINDOW_START, WINDOW_END)
            create_indexes_before(conn)
            if inst.role == "after":
                apply_migration(conn)


def primary_key_columns(conn: psycopg.Connection[Any]) -> list[str]:
    row = conn.execute(
        """
        SELECT array_agg(a.attname::text ORDER BY k.ord)
        FROM pg_constraint c
        CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
        WHERE c.conrelid = 'public.agent_events'::regclass AND c.contype = 'p'
        """
    ).fetchone()
    assert row is not None
    return list(row[0] or [])


def assert_index_sets_match(pair: InstancePair) -> None:
    for inst in pair:
        with inst.connect() as conn:
            actual = index_set(conn)
            expected = EXPECTED_BEFORE if inst.role == "before" else EXPECTED_AFTER
            assert compare_index_sets(actual, expected) == [], f"{inst.role} index set differs"
            assert PRIMARY_KEY in actual, f"{inst.role}: primary key is not {PRIMARY_KEY.describe()}"
            assert primary_key_columns(conn) == ["id", "timestamp"]


# ==== instances start, report, stop ===========================================================================
def test_status_shows_both_instances_healthy_with_engine_versions_and_settings(
    loaded_pair: InstancePair,
    harness_config: HarnessConfig,
    pg_binaries: PgBinaries,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, err = run_cli(
        [
            "status",
            "--json",
            "--engine",
            "postgres",
            "--pg-bin",
            str(pg_binaries.bindir),
            "--state-dir",
            str(harness_config.state_dir),
        ],
        capsys,
    )
    assert code == 0, err
    statuses = json.loads(out)
    assert [s["role"] for s in statuses] == ["before", "after"]
    expected_settings = {k: comparable(v) for k, v in settings_dict(timescaledb=False).items()}
    for status in statuses:
        assert status["healthy"] is True, status
        assert status["kind"] == "embedded"
        assert status["marked"] is True
        # Read from the database: the loaded table's shape, whatever engine the command line asks for.
        assert re.fullmatch(r"PostgreSQL partitions \(\d+ partitions\)", status["engine"]), status["engine"]
        assert status["table"]["kind"] == "partitioned" and status["table"]["parts"] > 0
        assert status["dataset"]["engine"] == loaded_pair.engine.name
        # `postgres --version` says e.g. "postgres (PostgreSQL) 15.18 (Debian ...)"; SHOW gives "15.18 (...)".
        assert status["server_version"].split()[0] in pg_binaries.version
        assert status["timescaledb_version"] is None
        assert {k: comparable(v) for k, v in status["settings"].items()} == expected_settings
    assert statuses[0]["dsn"] != statuses[1]["dsn"]


def test_settings_in_force_come_from_the_harness(instance_pair: InstancePair) -> None:
    for inst in instance_pair:
        with inst.connect() as conn:
            assert_settings_in_force(conn, timescaledb=False)


def test_servers_run_as_the_service_account(instance_pair: InstancePair) -> None:
    """As root, initdb and postgres refuse to run, so the harness hands the servers to `postgres`."""
    owner = pwd.getpwnam(SERVICE_USER).pw_uid if os.geteuid() == 0 else os.geteuid()
    for inst in instance_pair:
        assert inst.server is not None
        data_dir = inst.server.data_dir
        assert data_dir.stat().st_uid == owner
        assert process_uid(postmaster_pid(data_dir)) == owner


def test_status_shows_index_sets_of_both_roles(scratch_pair: InstancePair) -> None:
    build_before_and_after(scratch_pair)
    statuses = instance_status(scratch_pair)
    for status, expected in zip(statuses, (EXPECTED_BEFORE, EXPECTED_AFTER), strict=True):
        assert status["healthy"] is True
        report = status["index_set"]
        assert report["differences"] == []
        assert {d["name"] for d in report["expected"]} == {d.name for d in expected}
        assert {d["name"] for d in report["indexes"]} == {d.name for d in expected} | {PRIMARY_KEY.name}
    text = format_status(statuses)
    assert text.count("index set matches the design document") == 2
    assert "agent_events_data_idx (data) gin" in text  # only `after` has the GIN index


def test_up_then_down_leaves_no_server_behind(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    assert config.pg_bin is not None
    options = ["--engine", "postgres", "--pg-bin", str(config.pg_bin), "--state-dir", str(config.state_dir)]

    code, out, err = run_cli(["up", *options], capsys)
    assert code == 0, err
    assert out.count("  healthy") == 2
    data_dirs = [config.state_dir / role / "data" for role in ("before", "after")]
    pids = [postmaster_pid(d) for d in data_dirs]
    assert all(process_alive(pid) for pid in pids)

    code, out, err = run_cli(["down", *options], capsys)
    assert code == 0, err
    assert "stopped: before, after" in out
    for data_dir, pid in zip(data_dirs, pids, strict=True):
        assert_stopped(data_dir, pid)

    code, out, _ = run_cli(["status", *options], capsys)
    assert code == 1
    assert "not running: before, after" in out


def test_clean_stops_the_servers_and_removes_only_their_folders(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    assert config.pg_bin is not None
    options = ["--engine", "postgres", "--pg-bin", str(config.pg_bin), "--state-dir", str(config.state_dir)]
    keep = config.state_dir / "not-ours.txt"
    keep.write_text("a file the harness did not create")
    code, _, err = run_cli(["up", *options], capsys)
    assert code == 0, err
    pids = [postmaster_pid(config.state_dir / role / "data") for role in ("before", "after")]

    code, out, err = run_cli(["clean", *options], capsys)
    assert code == 0, err
    assert "removed:" in out
    assert not (config.state_dir / "before").exists() and not (config.state_dir / "after").exists()
    assert not any(process_alive(pid) for pid in pids)
    assert keep.read_text() == "a file the harness did not create"


# ==== the harness as an unprivileged user =======================================================================
def _not_readable_by_others(files: list[Path]) -> Path | None:
    """The first of `files` (symlinks followed), or of their parent directories, that a user outside its
    owner and group cannot read or enter."""
    for file in files:
        real = file.resolve()
        if not real.stat().st_mode & stat.S_IROTH:
            return real
        for parent in real.parents:
            if not parent.stat().st_mode & stat.S_IXOTH:
                return parent
    return None


def _interpreters() -> list[tuple[list[str], dict[str, str]]]:
    """Ways to run the harness with this venv's packages: its own python, else (when that lives somewhere
    only root can enter, as with a pyenv under /root) the system python of the same version on its path."""
    site_packages = Path(psycopg.__file__).resolve().parent.parent
    ways: list[tuple[list[str], dict[str, str]]] = [([sys.executable], {})]
    system = Path(f"/usr/bin/python{sys.version_info.major}.{sys.version_info.minor}")
    if system.exists() and system.resolve() != Path(sys.executable).resolve():
        ways.append(([str(system), "-s"], {"PYTHONPATH": f"{REPO_ROOT}{os.pathsep}{site_packages}"}))
    return ways


@dataclass(frozen=True)
class UnprivilegedRun:
    """How to run `python -m bench` as an unprivileged user, that user's uid, and a state dir it owns."""

    python: list[str]
    env: dict[str, str]
    as_user: dict[str, Any]
    uid: int
    state_dir: Path


@pytest.fixture
def unprivileged_run(state_dir_factory: Callable[[str], Path]) -> UnprivilegedRun:
    state_dir = state_dir_factory("unprivileged") / "state"
    state_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHASE2_")}
    if os.geteuid() != 0:
        return UnprivilegedRun([sys.executable], env, {}, os.geteuid(), state_dir)
    try:
        account = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pytest.skip(f"running as root and there is no {SERVICE_USER!r} user to run the harness as")
    as_user: dict[str, Any] = {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}
    reasons = []
    for python, extra_env in _interpreters():
        needed = [REPO_ROOT / "bench" / "cli" / "__init__.py", Path(python[0]), Path(psycopg.__file__)]
        blocked = _not_readable_by_others(needed)
        if blocked is not None:
            reasons.append(
                f"with {python[0]}: it cannot read or enter {blocked} (mode {oct(blocked.stat().st_mode & 0o777)})"
            )
            continue
        probe = subprocess.run(
            [*python, "-c", "import bench.cli, psycopg"],
            capture_output=True,
            text=True,
            cwd="/",
            env={**env, **extra_env},
            **as_user,
        )
        if probe.returncode != 0:
            reasons.append(f"with {python[0]}: {' '.join(probe.stderr.strip().splitlines()[-1:])}")
            continue
        os.chown(state_dir, account.pw_uid, account.pw_gid)
        return UnprivilegedRun(python, {**env, **extra_env}, as_user, account.pw_uid, state_dir)
    pytest.skip(f"the {SERVICE_USER!r} user cannot run the harness in {REPO_ROOT}: " + "; ".join(reasons))


@pytest.mark.slow
def test_harness_runs_as_an_unprivileged_user(unprivileged_run: UnprivilegedRun, pg_binaries: PgBinaries) -> None:
    """Not root: the harness runs the servers as the current user (no user switch, no chown)."""
    run = unprivileged_run
    uid, state_dir = run.uid, run.state_dir
    options = ["--engine", "postgres", "--pg-bin", str(pg_binaries.bindir), "--state-dir", str(state_dir)]

    def bench(subcommand: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*run.python, "-m", "bench", subcommand, *options],
            capture_output=True,
            text=True,
            cwd="/",
            env=run.env,
            timeout=180,
            **run.as_user,
        )

    data_dirs = [state_dir / role / "data" for role in ("before", "after")]
    try:
        up = bench("up")
        assert up.returncode == 0, up.stderr
        assert up.stdout.count("  healthy") == 2
        pids = [postmaster_pid(d) for d in data_dirs]
        for data_dir, pid in zip(data_dirs, pids, strict=True):
            assert data_dir.stat().st_uid == uid
            assert process_uid(pid) == uid

        down = bench("down")
        assert down.returncode == 0, down.stderr
        assert "stopped: before, after" in down.stdout
        for data_dir, pid in zip(data_dirs, pids, strict=True):
            assert_stopped(data_dir, pid)
    finally:
        if any((d / "postmaster.pid").exists() for d in data_dirs):
            bench("down")
        discard_data_dirs(state_dir)


# ==== both engines' schema paths ==============================================================================
def test_partitions_schema_and_migration(scratch_pair: InstancePair) -> None:
    assert not scratch_pair.engine.is_timescaledb
    build_before_and_after(scratch_pair)
    assert_index_sets_match(scratch_pair)
    expected_bounds = [
        (
            f"agent_events_p{day:%Y%m%d}",
            f"FOR VALUES FROM ('{day:%Y-%m-%d} 00:00:00+00') TO ('{day + timedelta(days=1):%Y-%m-%d} 00:00:00+00')",
        )
        for day in WINDOW_DAYS
    ]
    for inst in scratch_pair:
        with inst.connect() as conn:
            conn.execute("SET TimeZone = 'UTC'")
            rows = conn.execute(
                """
                SELECT c.relname::text, pg_get_expr(c.relpartbound, c.oid)
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'public.agent_events'::regclass
                ORDER BY c.relname
                """
            ).fetchall()
            assert rows == expected_bounds, f"{inst.role}: one partition per UTC day of the window"


@pytest.mark.timescaledb
def test_timescaledb_schema_and_migration(timescaledb_scratch_pair: InstancePair) -> None:
    pair = timescaledb_scratch_pair
    assert pair.engine == TIMESCALEDB
    text = format_status(instance_status(pair))
    assert text.count("TimescaleDB not yet created in this database") == 2, "status contradicts the engine line"
    build_before_and_after(pair)
    assert_index_sets_match(pair)
    for inst in pair:
        with inst.connect() as conn:
            dimensions = conn.execute(
                "SELECT column_name::text, time_interval FROM timescaledb_information.dimensions "
                "WHERE hypertable_schema = 'public' AND hypertable_name = 'agent_events'"
            ).fetchall()
            assert dimensions == [("timestamp", timedelta(days=1))], f"{inst.role}: not a 1-day hypertable"
    statuses = instance_status(pair)
    for status in statuses:
        assert status["healthy"] is True
        assert status["engine"] == TIMESCALEDB.label
        assert re.fullmatch(r"\d+\.\d+\.\d+", status["timescaledb_version"] or ""), "no TimescaleDB version"
        assert status["index_set"]["differences"] == []
    assert format_status(statuses).count(f"TimescaleDB {statuses[0]['timescaledb_version']}") == 2


@pytest.mark.timescaledb
def test_timescaledb_settings_in_force(timescaledb_scratch_pair: InstancePair) -> None:
    for inst in timescaledb_scratch_pair:
        with inst.connect() as conn:
            # timescaledb.* settings exist in pg_settings once the extension's library is loaded in the database.
            conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            assert_settings_in_force(conn, timescaledb=True)


# ==== safety ====================================================================================================
@pytest.mark.parametrize("foreign_role", ["before", "after"])
def test_unmarked_database_with_agent_events_is_refused(instance_pair: InstancePair, foreign_role: str) -> None:
    other_role = "after" if foreign_role == "before" else "before"
    # Somebody else's database on one server, an empty one on the other; both DSNs carry a password
    # (trust authentication ignores it), which no message may repeat.
    with scratch_databases(instance_pair, prefix="foreign", mark=False) as scratch:
        dsns = {inst.role: make_conninfo(inst.dsn, password=PASSWORD) for inst in scratch}
        foreign_dsn = dsns[foreign_role]
        with psycopg.connect(foreign_dsn, autocommit=True) as conn:
            conn.execute("CREATE TABLE agent_events (id bigint PRIMARY KEY, note text)")
            conn.execute("INSERT INTO agent_events VALUES (1, 'somebody else''s row')")

            with pytest.raises(UnsafeTargetError) as direct:
                ensure_marked(conn, foreign_role, foreign_dsn)
            assert PASSWORD not in str(direct.value)

        config = HarnessConfig(state_dir=Path("/nonexistent"), before_dsn=dsns["before"], after_dsn=dsns["after"])
        with pytest.raises(UnsafeTargetError) as opened, open_instances(config):
            pass
        message = str(opened.value)
        assert PASSWORD not in message
        assert f"the {foreign_role} database" in message
        assert "already holds public.agent_events (table)" in message
        assert "no phase2-bench marker" in message

        with psycopg.connect(foreign_dsn, autocommit=True) as conn:
            assert not table_exists(conn, MARKER_TABLE), "the harness adopted a database it did not create"
            assert conn.execute("SELECT count(*) FROM agent_events").fetchone() == (1,)
        with psycopg.connect(dsns[other_role], autocommit=True) as conn:
            assert not table_exists(conn, "agent_events")


# ==== bad inputs ================================================================================================
def test_unknown_engine_in_config() -> None:
    with pytest.raises(HarnessError) as e:
        HarnessConfig(state_dir=Path("/nonexistent"), engine="mysql")
    message = str(e.value)
    assert "unknown engine 'mysql'" in message
    assert all(engine in message for engine in ("auto", "timescaledb", "postgres"))


def test_unknown_engine_on_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        run_cli(["up", "--engine", "mysql"], capsys)
    assert e.value.code == 2
    assert "invalid choice: 'mysql'" in capsys.readouterr().err


def test_unknown_engine_in_the_environment(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PHASE2_BENCH_ENGINE", "mysql")
    code, _, err = run_cli(["status"], capsys)
    assert code == 2
    assert "unknown engine 'mysql'" in err
    assert "PHASE2_BENCH_ENGINE" in err


def test_missing_binaries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    state_dir = tmp_path / "state"
    code, _, err = run_cli(["up", "--pg-bin", str(empty), "--state-dir", str(state_dir)], capsys)
    assert code == 2
    assert "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found" in err
    assert f"{empty} (from --pg-bin" in err
    assert "missing initdb, postgres, pg_ctl" in err
    assert not state_dir.exists(), "nothing is created before the binaries are found"


@pytest.mark.parametrize("busy_role", ["before", "after"])
def test_port_in_use(fresh_harness_config: Callable[..., HarnessConfig], busy_role: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = fresh_harness_config(**{f"{busy_role}_port": port})
        with pytest.raises(HarnessError) as e, open_instances(config):
            pass
    message = str(e.value)
    assert f"port {port} on 127.0.0.1 is already in use" in message
    assert f"the {busy_role} instance cannot listen on it" in message
    assert f"--{busy_role}-port" in message
    # When `after` cannot start, the `before` server this call had already started is stopped again.
    for role in ("before", "after"):
        assert not (config.state_dir / role / "data" / "postmaster.pid").exists(), f"{role} left running"
    if busy_role == "before":
        assert not (config.state_dir / "after" / "data").exists(), "after was set up although before failed"


@pytest.mark.parametrize("form", ["keywords", "url"])
def test_unreachable_dsn(tmp_path: Path, form: str) -> None:
    port = free_port()  # nothing listens there: connecting is refused at once
    if form == "url":
        before = f"postgresql://bench:{PASSWORD}@127.0.0.1:{port}/before_db?connect_timeout=5"
        after = f"postgresql://bench:{PASSWORD}@127.0.0.1:{port}/after_db?connect_timeout=5"
    else:
        before = f"host=127.0.0.1 port={port} user=bench dbname=before_db password={PASSWORD}"
        after = f"host=127.0.0.1 port={port} user=bench dbname=after_db password={PASSWORD}"
    config = HarnessConfig(state_dir=tmp_path, before_dsn=before, after_dsn=after)
    with pytest.raises(HarnessError) as e, open_instances(config):
        pass
    message = str(e.value)
    assert message.startswith("cannot connect to the before database")
    assert f"port={port}" in message
    assert "refused" in message.lower()
    assert PASSWORD not in message


def test_broken_migration_names_the_statement_and_rolls_back(scratch_pair: InstancePair, tmp_path: Path) -> None:
    broken = tmp_path / "migration_broken.sql"
    broken.write_text(
        "-- Statements 1 and 2 change the instance, so only a rollback restores the old index set.\n"
        'DROP INDEX IF EXISTS "agent_events_session_id_idx";\n'
        'DROP INDEX IF EXISTS "agent_events_project_id_idx";\n'
        'CREATE INDEX "agent_events_broken_idx" ON "agent_events"("no_such_column");\n'
        'CREATE INDEX "agent_events_data_idx" ON "agent_events" USING GIN ("data");\n'
    )
    with scratch_pair.before.connect() as conn:
        create_table(conn, scratch_pair.engine, WINDOW_START, WINDOW_END)
        create_indexes_before(conn)
        with pytest.raises(MigrationError) as e:
            apply_migration(conn, broken)
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert compare_index_sets(index_set(conn), EXPECTED_BEFORE) == [], "the failed migration was not rolled back"
    error = e.value
    assert (error.file, error.index) == ("migration_broken.sql", 3)
    assert 'column "no_such_column" does not exist' in error.server_message
    message = str(error)
    assert message.startswith("migration_broken.sql: statement 3 failed")
    assert "no_such_column" in message
    assert "rolled back" in message


def test_timescaledb_engine_refused_when_not_installed(
    pg_binaries: PgBinaries, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if pg_binaries.has_timescaledb:
        pytest.skip(f"the PostgreSQL binaries in {pg_binaries.bindir} have TimescaleDB, so it is not absent here")
    state_dir = tmp_path / "state"
    code, _, err = run_cli(
        ["up", "--engine", "timescaledb", "--pg-bin", str(pg_binaries.bindir), "--state-dir", str(state_dir)], capsys
    )
    assert code == 2
    assert (
        f"--engine timescaledb was asked for, but TimescaleDB is not installed for the PostgreSQL binaries in "
        f"{pg_binaries.bindir}" in err
    )
    assert "--engine auto / postgres" in err
    assert not state_dir.exists(), "no server is set up for an engine that cannot run"


@pytest.mark.timescaledb
def test_timescaledb_dataset_refused_by_binaries_without_it(
    fresh_harness_config: Callable[..., HarnessConfig], timescaledb_bin: Path, pg_binaries: PgBinaries
) -> None:
    """Instances that hold the timescaledb extension, reopened with binaries lacking it: a clear error naming
    both fixes, not an UndefinedFile from the first statement (found running `--engine postgres` after a
    TimescaleDB run in the same folder)."""
    if pg_binaries.has_timescaledb:
        pytest.skip(f"the PostgreSQL binaries in {pg_binaries.bindir} have TimescaleDB, so none lack it here")
    with_tsdb = fresh_harness_config(engine="timescaledb", pg_bin=timescaledb_bin)
    with open_instances(with_tsdb) as pair, pair.before.connect() as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
    without = HarnessConfig(state_dir=with_tsdb.state_dir, engine="postgres", pg_bin=pg_binaries.bindir)
    with pytest.raises(HarnessError) as raised, open_instances(without):
        pass
    message = str(raised.value)
    assert "holds a TimescaleDB" in message and str(pg_binaries.bindir) in message
    assert "PHASE2_BENCH_PG_BIN" in message and "python -m bench clean" in message
    assert not any(s.running_pid_port() for s in embedded_servers(without)), "servers it started are stopped again"


def test_a_port_whose_last_connections_are_in_time_wait_is_free() -> None:
    """A server that just stopped leaves its closed connections in TIME_WAIT on its port; postgres binds with
    SO_REUSEADDR and starts there, so the harness must not call that port in use. A listener still makes it busy."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    served, _ = listener.accept()
    assert not port_is_free(port)  # listening
    served.close()  # the server side closes first: its end of the connection goes to TIME_WAIT
    client.close()
    listener.close()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))  # what the check used to do: a plain bind is refused
    assert port_is_free(port)
