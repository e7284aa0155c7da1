"""Which servers the harness starts, stops and signals, against real servers: start-up failures, pid files it
cannot trust, orphans of a killed harness, two harness processes at once, and a read-only `status`."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fixtures.instances import scratch_databases
from test_instances import (
    WINDOW_DAYS,
    WINDOW_END,
    WINDOW_START,
    assert_stopped,
    postmaster_pid,
    process_alive,
    processes_using,
    run_cli,
)

import bench.measure.run
from bench.cli import build_parser
from bench.cli.commands import _benchmark
from bench.core.config import HarnessConfig
from bench.core.engine import PARTITIONS_CHOSEN
from bench.core.errors import HarnessError
from bench.db.database import MARKER_TABLE, table_exists
from bench.db.embedded import SERVICE_USER, free_port
from bench.db.instances import ROLES, InstancePair, embedded_servers, open_instances
from bench.db.pg_binaries import PgBinaries
from bench.db.schema import create_table

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout these tests run from


@pytest.fixture(autouse=True)
def _no_harness_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI reads PHASE2_* variables; a developer's own settings must not steer these tests."""
    for name in list(os.environ):
        if name.startswith("PHASE2_"):
            monkeypatch.delenv(name)


def cli_options(config: HarnessConfig, engine: str | None = None) -> list[str]:
    assert config.pg_bin is not None
    options = ["--pg-bin", str(config.pg_bin), "--state-dir", str(config.state_dir)]
    return ["--engine", engine or config.engine, *options]


def data_dir(config: HarnessConfig, role: str) -> Path:
    return config.state_dir / role / "data"


def pid_file(config: HarnessConfig, role: str) -> Path:
    return data_dir(config, role) / "postmaster.pid"


def as_service_user() -> dict[str, Any]:
    """subprocess arguments that run a command as the user the harness runs its servers as."""
    if os.geteuid() != 0:
        return {}
    account = pwd.getpwnam(SERVICE_USER)
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


def accepts_connections(port: int, dbname: str = "postgres") -> bool:
    try:
        with psycopg.connect(host="127.0.0.1", port=port, user="bench", dbname=dbname, connect_timeout=5) as conn:
            return conn.execute("SELECT 1").fetchone() == (1,)
    except psycopg.OperationalError:
        return False


def harness_ports(config: HarnessConfig) -> dict[str, int]:
    return {role: int(pid_file(config, role).read_text().splitlines()[3]) for role in ROLES}


def set_up_then_down(config: HarnessConfig, capsys: pytest.CaptureFixture[str]) -> None:
    """Data directories that exist, with no server running on them."""
    for command in ("up", "down"):
        code, _, err = run_cli([command, *cli_options(config)], capsys)
        assert code == 0, err


# ==== start-up failures stop what they started ==================================================================
def test_equal_ports_are_refused_before_anything_starts(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    port = free_port()
    code, _, err = run_cli(["up", "--before-port", str(port), "--after-port", str(port), *cli_options(config)], capsys)
    assert code == 2, err
    assert f"--before-port and --after-port are both {port}" in err
    assert "Traceback" not in err
    for role in ROLES:
        assert not (config.state_dir / role).exists(), f"{role} was set up although the ports were refused"
    with pytest.raises(HarnessError, match="both 5555"):
        HarnessConfig(state_dir=config.state_dir, before_port=5555, after_port=5555)


def test_up_that_fails_on_after_leaves_no_server_running(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, _, err = run_cli(["up", "--after-port", str(port), *cli_options(config)], capsys)
    assert code == 2, err
    assert f"port {port} on 127.0.0.1 is already in use" in err
    assert (data_dir(config, "before") / "PG_VERSION").exists(), "before was never started: nothing was tested"
    for role in ROLES:
        assert not (data_dir(config, role) / "postmaster.pid").exists(), f"`up` failed but left {role} running"
        assert processes_using(data_dir(config, role)) == [], f"processes still use the {role} data directory"


# ==== only its own processes are signalled ======================================================================
@dataclass(frozen=True)
class UnrelatedServer:
    """A PostgreSQL server the harness did not start, on a data directory of its own."""

    data_dir: Path
    pid: int
    port: int


@pytest.fixture
def unrelated_server(state_dir_factory: Callable[[str], Path], pg_binaries: PgBinaries) -> Iterator[UnrelatedServer]:
    root = state_dir_factory("unrelated")
    data = root / "data"
    data.mkdir()
    user = as_service_user()
    if user:
        os.chown(data, user["user"], user["group"])
    run: dict[str, Any] = {"capture_output": True, "text": True, "cwd": "/", **user}
    initdb = [pg_binaries.path("initdb"), "-D", str(data), "--username=bench", "--auth=trust", "--no-instructions"]
    assert subprocess.run(initdb, **run).returncode == 0
    port = free_port()
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {data}"
    start = [pg_binaries.path("pg_ctl"), "start", "-D", str(data), "-l", str(data / "log"), "-w", "-o", options]
    started = subprocess.run(start, start_new_session=True, **run)
    assert started.returncode == 0, started.stderr
    try:
        yield UnrelatedServer(data, int((data / "postmaster.pid").read_text().splitlines()[0]), port)
    finally:
        subprocess.run([pg_binaries.path("pg_ctl"), "stop", "-D", str(data), "-m", "immediate"], **run)
        shutil.rmtree(data, ignore_errors=True)


@pytest.mark.parametrize("pid_file_is", ["copied from the other server", "ours, with its pid"])
def test_down_leaves_alone_a_postmaster_the_harness_did_not_start(
    fresh_harness_config: Callable[..., HarnessConfig],
    unrelated_server: UnrelatedServer,
    capsys: pytest.CaptureFixture[str],
    pid_file_is: str,
) -> None:
    config = fresh_harness_config()
    set_up_then_down(config, capsys)
    other = (unrelated_server.data_dir / "postmaster.pid").read_text()
    if pid_file_is == "copied from the other server":
        stale = other
    else:  # a stale file of our own data directory whose pid now belongs to the other server
        lines = other.splitlines()
        lines[1] = str(data_dir(config, "before"))
        stale = "\n".join(lines) + "\n"
    pid_file(config, "before").write_text(stale)

    code, out, err = run_cli(["down", *cli_options(config)], capsys)
    assert code == 0, err
    assert "no embedded server was running" in out
    assert f"process {unrelated_server.pid}" in out, "the stale pid file is not explained"
    assert process_alive(unrelated_server.pid)
    assert accepts_connections(unrelated_server.port), "`down` stopped a server the harness did not start"

    code, out, _ = run_cli(["status", *cli_options(config)], capsys)
    assert code == 1
    assert "not running: before, after" in out

    # `up` sees the file is stale, starts its own server anyway, and the other one keeps running.
    code, _, err = run_cli(["up", *cli_options(config)], capsys)
    assert code == 0, err
    ours = postmaster_pid(data_dir(config, "before"))
    assert ours != unrelated_server.pid
    code, out, err = run_cli(["down", *cli_options(config)], capsys)
    assert code == 0, err
    assert "stopped: before, after" in out
    assert_stopped(data_dir(config, "before"), ours)
    assert accepts_connections(unrelated_server.port)


def test_a_pid_file_naming_another_process_is_not_signalled(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    set_up_then_down(config, capsys)
    # Owned by the server user, so a wrong pg_ctl stop or kill would succeed in signalling it.
    sleeper = subprocess.Popen(["sleep", "600"], cwd="/", **as_service_user())
    try:
        for role in ROLES:
            port = free_port()
            pid_file(config, role).write_text(f"{sleeper.pid}\n{data_dir(config, role)}\n1700000000\n{port}\n")
        code, out, err = run_cli(["down", *cli_options(config)], capsys)
        assert code == 0, err
        assert "no embedded server was running" in out
        assert f"process {sleeper.pid}" in out
        assert sleeper.poll() is None, f"`down` signalled process {sleeper.pid}, which is not a server"

        code, _, err = run_cli(["up", *cli_options(config)], capsys)
        assert code == 0, err
        assert all(postmaster_pid(data_dir(config, role)) != sleeper.pid for role in ROLES)
        code, out, err = run_cli(["down", *cli_options(config)], capsys)
        assert "stopped: before, after" in out
        assert sleeper.poll() is None, f"`down` signalled process {sleeper.pid}, which is not a server"
    finally:
        sleeper.kill()
        sleeper.wait()


GARBAGE_PID_FILES = {
    "empty": "",
    "text": "garbage\n",
    "four lines of text": "abc\n/x\n1\nzz\n",
    "truncated": "12",
    "pid 0": "0\n{data}\n1700000000\n5432\n",
    "pid -1": "-1\n{data}\n1700000000\n5432\n",
    "huge pid": "99999999999999999999\n{data}\n1700000000\n5432\n",
    "port out of range": "{own}\n{data}\n1700000000\n99999999\n",
    "binary": "\udcff\udcfe\x00\x01",
}


def test_garbage_pid_files_get_a_clean_answer(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    for role in ROLES:
        data_dir(config, role).mkdir(parents=True)
    for kind, content in GARBAGE_PID_FILES.items():
        for role in ROLES:
            text = content.format(data=data_dir(config, role), own=os.getpid())
            pid_file(config, role).write_bytes(text.encode(errors="surrogateescape"))
        code, out, err = run_cli(["down", *cli_options(config)], capsys)
        assert (code, err) == (0, ""), f"`down` with a pid file that is {kind}"
        assert "no embedded server was running" in out, kind
        code, out, err = run_cli(["status", *cli_options(config)], capsys)
        assert (code, err) == (1, ""), f"`status` with a pid file that is {kind}"
        assert "not running: before, after" in out, kind
    assert process_alive(os.getpid())


def test_up_starts_over_a_garbage_pid_file(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    set_up_then_down(config, capsys)
    pid_file(config, "before").write_text(GARBAGE_PID_FILES["four lines of text"])
    code, _, err = run_cli(["up", *cli_options(config)], capsys)
    assert code == 0, err
    assert all(accepts_connections(port) for port in harness_ports(config).values())
    code, out, err = run_cli(["down", *cli_options(config)], capsys)
    assert code == 0, err
    assert "stopped: before, after" in out


# A harness process that opens the instances (starting them when they are down) and holds them until it reads
# a line: then it queries both, prints "ok" and exits. `measure` also holds the measurement lock, as a run does.
HOLDER = """
import sys
import tempfile
from pathlib import Path

from bench.core.config import HarnessConfig
from bench.db.instances import open_instances

state_dir, pg_bin, mode, runs_dir = sys.argv[1:5]
config = HarnessConfig(state_dir=Path(state_dir), engine="postgres", pg_bin=Path(pg_bin), runs_dir=Path(runs_dir))
if mode == "measure":
    from bench.measure.timing import MeasureSettings
    from bench.measure.run import prepared_run

    settings = MeasureSettings()
    with prepared_run(config, settings, progress=False) as ctx:
        print("ready", ",".join(ctx.pair.started), flush=True)
        sys.stdin.readline()
        for conn in ctx.conns.values():
            conn.execute("SELECT count(*) FROM agent_events")
        print("ok", flush=True)
else:
    with open_instances(config) as pair:
        print("ready", ",".join(pair.started), flush=True)
        sys.stdin.readline()
        for inst in pair:
            with inst.connect() as conn:
                conn.execute("SELECT 1")
        print("ok", flush=True)
"""


class Holder:
    """Another harness process using the instances of `config`."""

    def __init__(self, config: HarnessConfig, mode: str, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PHASE2_")}
        self.log = log
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                HOLDER,
                str(config.state_dir),
                str(config.pg_bin),
                mode,
                str(log.with_suffix(".runs")),
            ],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        assert self.process.stdout is not None
        ready = self.process.stdout.readline().split()
        assert ready[:1] == ["ready"], f"the holder did not start: {self.log.read_text()}"
        self.started = ready[1].split(",") if len(ready) > 1 else []

    @property
    def pid(self) -> int:
        return self.process.pid

    def finish(self) -> str:
        """Let it query both instances and exit; returns what it printed."""
        out, _ = self.process.communicate("\n", timeout=120)
        assert self.process.returncode == 0, f"the holder failed: {out} {self.log.read_text()}"
        return out

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def holders(tmp_path: Path) -> Iterator[Callable[[HarnessConfig, str], Holder]]:
    made: list[Holder] = []

    def make(config: HarnessConfig, mode: str = "use") -> Holder:
        made.append(Holder(config, mode, tmp_path / f"holder-{len(made)}.log"))
        return made[-1]

    yield make
    for holder in made:
        holder.kill()


def test_orphans_of_a_killed_harness_are_recognised_and_stopped(
    fresh_harness_config: Callable[..., HarnessConfig],
    holders: Callable[[HarnessConfig, str], Holder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = fresh_harness_config()
    holder = holders(config, "use")
    assert holder.started == list(ROLES)
    pids = [postmaster_pid(data_dir(config, role)) for role in ROLES]
    holder.process.send_signal(signal.SIGKILL)
    holder.process.wait()
    assert all(process_alive(pid) for pid in pids), "the servers did not outlive the killed harness"

    code, out, err = run_cli(["status", *cli_options(config)], capsys)
    assert code == 0, err
    assert out.count("  healthy") == 2
    code, out, err = run_cli(["down", *cli_options(config)], capsys)
    assert code == 0, err
    assert "stopped: before, after" in out
    for role, pid in zip(ROLES, pids, strict=True):
        assert_stopped(data_dir(config, role), pid)


# ==== measurements never overlap; nobody stops servers another harness process uses ============================
QUICK_RUN = ["-k", "session_timeline", "--warmup", "1", "--min-rounds", "2", "--max-rounds", "2", "--budget", "0.01"]


def postmaster_pids(config: HarnessConfig) -> dict[str, int]:
    return {role: postmaster_pid(data_dir(config, role)) for role in ROLES}


def assert_still_serving(config: HarnessConfig, pids: dict[str, int]) -> None:
    assert postmaster_pids(config) == pids, "a server was stopped or restarted under another harness process"
    for role, port in harness_ports(config).items():
        assert accepts_connections(port, "phase2_bench"), f"the {role} server no longer accepts connections"


def test_a_second_measurement_or_load_is_refused_while_one_runs(
    fresh_harness_config: Callable[..., HarnessConfig],
    holders: Callable[[HarnessConfig, str], Holder],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = fresh_harness_config()
    code, _, err = run_cli(["load", "--rows", "2000", "--no-progress", *cli_options(config)], capsys)
    assert code == 0, err
    measuring = holders(config, "measure")
    assert measuring.started == list(ROLES)
    pids = postmaster_pids(config)
    monkeypatch.setenv("PHASE2_BENCH_RUNS_DIR", str(tmp_path / "runs"))

    code, _, err = run_cli(["run", *QUICK_RUN, *cli_options(config)], capsys)
    assert code == 2, "a second measurement ran while another one was timing queries"
    assert f"another phase2-bench process (pid {measuring.pid}" in err
    assert "Traceback" not in err
    code, _, err = run_cli(["load", "--rows", "2000", "--force", "--no-progress", *cli_options(config)], capsys)
    assert code == 2, "a load ran while a measurement was timing queries"
    assert f"another phase2-bench process (pid {measuring.pid}" in err
    assert not (tmp_path / "runs").exists(), "the refused run wrote a run folder"

    assert_still_serving(config, pids)
    assert measuring.finish().split() == ["ok"]
    # The measuring process started both servers and was their last user: it stopped them.
    for role, pid in pids.items():
        assert_stopped(data_dir(config, role), pid)


def test_down_is_refused_while_another_process_uses_the_servers(
    fresh_harness_config: Callable[..., HarnessConfig],
    holders: Callable[[HarnessConfig, str], Holder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = fresh_harness_config()
    user = holders(config, "use")
    pids = postmaster_pids(config)
    for command in ("down", "clean"):
        code, _, err = run_cli([command, *cli_options(config)], capsys)
        assert code == 2, f"`{command}` stopped servers another harness process uses"
        assert f"pid {user.pid}" in err
        assert_still_serving(config, pids)
    assert user.finish().split() == ["ok"]
    code, out, err = run_cli(["down", *cli_options(config)], capsys)
    assert (code, out) == (0, "no embedded server was running\n"), "the holder did not stop the servers it started"


def test_a_process_leaves_running_the_servers_another_one_uses(
    fresh_harness_config: Callable[..., HarnessConfig],
    holders: Callable[[HarnessConfig, str], Holder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = fresh_harness_config()
    starter = holders(config, "use")
    assert starter.started == list(ROLES)
    pids = postmaster_pids(config)
    with open_instances(config) as pair:
        assert pair.started == []
        assert starter.finish().split() == ["ok"]
        assert "another phase2-bench process uses them" in starter.log.read_text()
        assert_still_serving(config, pids)
        for inst in pair:
            with inst.connect() as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
    # Neither process stops them now: the one that started them has gone, so they wait for `down`.
    assert_still_serving(config, pids)
    code, out, err = run_cli(["down", *cli_options(config)], capsys)
    assert code == 0, err
    assert "stopped: before, after" in out


def test_bench_leaves_running_the_servers_another_process_uses(
    fresh_harness_config: Callable[..., HarnessConfig],
    holders: Callable[[HarnessConfig, str], Holder],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    config = fresh_harness_config()
    joined: list[Holder] = []
    pids: dict[str, int] = {}
    measure = bench.measure.run.run_benchmark

    def measure_after_another_process_joined(*args: Any, **kwargs: Any) -> dict[str, Any]:
        joined.append(holders(config, "use"))  # joins the servers `bench` started, after its load
        pids.update(postmaster_pids(config))
        return measure(*args, **kwargs)

    monkeypatch.setattr(bench.measure.run, "run_benchmark", measure_after_another_process_joined)
    monkeypatch.setenv("PHASE2_BENCH_RUNS_DIR", str(tmp_path / "runs"))
    args = build_parser().parse_args(["bench", "--rows", "2000", "--no-progress", *QUICK_RUN, *cli_options(config)])
    doc = _benchmark(args, "ci", ())
    assert doc["dataset"]["rows"] == 2000
    assert joined and joined[0].started == [], "bench did not start the servers: nothing was tested"
    assert_still_serving(config, pids)
    assert joined[0].finish().split() == ["ok"]
    assert "left the embedded servers running" in capsys.readouterr().err


# ==== read-only commands are read-only ==========================================================================
def postmaster_start_times(config: HarnessConfig) -> dict[str, Any]:
    times = {}
    for role, port in harness_ports(config).items():
        with psycopg.connect(host="127.0.0.1", port=port, user="bench", dbname="phase2_bench") as conn:
            times[role] = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
    return times


def connect_embedded(config: HarnessConfig, role: str) -> psycopg.Connection[Any]:
    port = harness_ports(config)[role]
    return psycopg.connect(host="127.0.0.1", port=port, user="bench", dbname="phase2_bench", autocommit=True)


def test_status_starts_stops_and_marks_nothing(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    code, _, err = run_cli(["up", *cli_options(config)], capsys)
    assert code == 0, err
    # before: somebody's plain table and no marker; after: a partitioned agent_events, its marker removed.
    with connect_embedded(config, "before") as conn:
        conn.execute(f"DROP TABLE {MARKER_TABLE}")
        conn.execute("CREATE TABLE agent_events (id bigint PRIMARY KEY, note text)")
        conn.execute("INSERT INTO agent_events VALUES (1, 'a row status must not touch')")
    with connect_embedded(config, "after") as conn:
        conn.execute(f"DROP TABLE {MARKER_TABLE}")
        create_table(conn, PARTITIONS_CHOSEN, WINDOW_START, WINDOW_END)
    pids, started = postmaster_pids(config), postmaster_start_times(config)

    code, out, err = run_cli(["status", "--json", *cli_options(config, engine="auto")], capsys)
    assert code == 0, err
    before, after = json.loads(out)
    assert before["engine"] == "PostgreSQL table, not partitioned"
    assert after["engine"] == f"PostgreSQL partitions ({len(WINDOW_DAYS)} partitions)"
    assert (before["marked"], after["marked"]) == (False, False)
    code, out, err = run_cli(["status", *cli_options(config, engine="auto")], capsys)
    assert code == 0, err
    assert f"engine: PostgreSQL partitions ({len(WINDOW_DAYS)} partitions)" in out

    assert postmaster_pids(config) == pids, "status started, stopped or restarted a server"
    assert postmaster_start_times(config) == started, "status restarted a server"
    for role in ROLES:
        with connect_embedded(config, role) as conn:
            assert not table_exists(conn, MARKER_TABLE), f"status marked the {role} database"
    with connect_embedded(config, "before") as conn:
        assert conn.execute("SELECT id, note FROM agent_events").fetchall() == [(1, "a row status must not touch")]

    embedded_servers(config)[1].stop()
    code, out, err = run_cli(["status", *cli_options(config)], capsys)
    assert code == 1, err
    assert "embedded instances not running: after" in out
    assert not pid_file(config, "after").exists(), "status started the after server"
    assert postmaster_pid(data_dir(config, "before")) == pids["before"]


def test_status_on_external_databases_marks_nothing(
    instance_pair: InstancePair, capsys: pytest.CaptureFixture[str]
) -> None:
    with scratch_databases(instance_pair, prefix="unmarked", mark=False) as scratch:
        code, out, err = run_cli(
            ["status", "--json", "--before-dsn", scratch.before.dsn, "--after-dsn", scratch.after.dsn], capsys
        )
        assert code == 0, err
        for entry in json.loads(out):
            assert entry["marked"] is False
            assert entry["engine"].startswith("none yet: no agent_events table")
        for inst in scratch:
            with inst.connect() as conn:
                assert not table_exists(conn, MARKER_TABLE), f"status marked the {inst.role} database"


@pytest.mark.timescaledb
def test_status_and_a_user_keep_a_running_server_without_timescaledb_as_it_is(
    fresh_harness_config: Callable[..., HarnessConfig],
    timescaledb_bin: Path,
    holders: Callable[[HarnessConfig, str], Holder],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Servers running without TimescaleDB preloaded (started before it was installed: here, by binaries
    without it) are restarted with it for a command that wants it, but neither by `status` nor under another
    harness process that uses them."""
    config = fresh_harness_config()  # binaries without TimescaleDB
    user = holders(config, "use")  # starts both and keeps using them
    pids, started = postmaster_pids(config), postmaster_start_times(config)
    auto = ["--engine", "auto", "--pg-bin", str(timescaledb_bin), "--state-dir", str(config.state_dir)]

    code, out, err = run_cli(["status", "--json", *auto], capsys)
    assert code == 0, err
    assert all(not s["engine"].startswith("TimescaleDB") for s in json.loads(out))
    code, _, err = run_cli(["up", *auto], capsys)
    assert code == 2
    assert "runs without TimescaleDB preloaded, and another phase2-bench process" in err
    assert f"pid {user.pid}" in err
    assert postmaster_pids(config) == pids
    assert postmaster_start_times(config) == started
    assert user.finish().split() == ["ok"]
