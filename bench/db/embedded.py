"""Embedded PostgreSQL servers: initdb, start, stop, as an unprivileged user when the harness runs as root."""

from __future__ import annotations

import json
import os
import pwd
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.core.errors import HarnessError
from bench.db.pg_binaries import PgBinaries
from bench.db.server_settings import render_conf

SUPERUSER = "bench"
DATABASE = "phase2_bench"
CONF_INCLUDE = "phase2_bench.conf"
# initdb and postgres refuse to run as root; this system user owns the data directories instead.
SERVICE_USER = "postgres"


def port_is_free(port: int) -> bool:
    """Whether postgres could listen on 127.0.0.1:port. It binds with SO_REUSEADDR, and so does this check:
    connections a stopped server just closed (TIME_WAIT on its port) do not block it, a listener does."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class ServiceAccount:
    """Who runs the server: the current user, or `postgres` when we are root."""

    uid: int
    gid: int
    name: str

    @classmethod
    def for_current_user(cls) -> ServiceAccount:
        if os.geteuid() != 0:
            entry = pwd.getpwuid(os.geteuid())
            return cls(entry.pw_uid, entry.pw_gid, entry.pw_name)
        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise HarnessError(
                f"running as root, but the system user {SERVICE_USER!r} that should own the servers does not "
                "exist: install PostgreSQL's server package (it creates the user) or run as a normal user"
            ) from None
        return cls(entry.pw_uid, entry.pw_gid, entry.pw_name)

    @property
    def is_other_user(self) -> bool:
        return self.uid != os.geteuid()

    def run(self, cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        if self.is_other_user:
            kwargs.update(user=self.uid, group=self.gid, extra_groups=[])
        return subprocess.run(cmd, capture_output=True, text=True, cwd="/", **kwargs)  # type: ignore[call-overload]

    def make_dir(self, path: Path) -> None:
        """Create `path` owned by the account, and make sure it can reach it through every parent."""
        path.mkdir(parents=True, exist_ok=True)
        if self.is_other_user:
            os.chown(path, self.uid, self.gid)
            for parent in [path, *path.parents]:
                if parent == Path("/"):
                    break
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    raise HarnessError(
                        f"the server user {self.name!r} cannot enter {parent} (mode {oct(mode & 0o777)}); "
                        f"choose a state directory it can reach with PHASE2_BENCH_STATE_DIR (for example /var/tmp/...)"
                    )


# The kernel's limit on PIDs (pid_max) is at most 2**22; anything larger in a pid file is garbage.
PID_MAX = 2**22


@dataclass(frozen=True)
class PidFileCheck:
    """What a data directory's postmaster.pid says: `live` is (pid, port) of the postmaster running on that data
    directory; `stale` says why a pid file that is there does not name one (then nothing may be signalled)."""

    live: tuple[int, int] | None = None
    stale: str | None = None


def inspect_pid_file(pid_file: Path, data_dir: Path) -> PidFileCheck:
    """Trust the pid file only when its pid is a postmaster started on this very data directory: a stale file
    may name a reused pid (another server, any process), and pg_ctl stop signals whatever pid the file names."""
    try:
        lines = pid_file.read_bytes().decode(errors="replace").splitlines()
    except FileNotFoundError:
        return PidFileCheck()
    except OSError as e:
        return PidFileCheck(stale=f"{pid_file} cannot be read ({e.strerror})")
    try:
        pid, recorded_dir, port = int(lines[0]), lines[1], int(lines[3])
    except (IndexError, ValueError):
        return PidFileCheck(stale=f"{pid_file} is not a PostgreSQL pid file (garbage, or cut short)")
    if not 0 < pid < PID_MAX or not 0 < port < 65536:
        return PidFileCheck(stale=f"{pid_file} names pid {pid} and port {port}, which cannot be a server's")
    if Path(recorded_dir).resolve() != data_dir.resolve():
        return PidFileCheck(stale=f"{pid_file} names process {pid} of another data directory ({recorded_dir})")
    not_ours = _not_a_postmaster_of(pid, data_dir)
    if not_ours:
        return PidFileCheck(stale=f"{pid_file} names process {pid}, which {not_ours}")
    return PidFileCheck(live=(pid, port))


def _not_a_postmaster_of(pid: int, data_dir: Path) -> str | None:
    """None when `pid` is a live postmaster of `data_dir`, else why not. pg_ctl starts it as `postgres -D <dir>`
    and the postmaster works in its data directory; backends rename themselves (`postgres: ...`)."""
    proc = Path(f"/proc/{pid}")
    try:
        state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        argv = [os.fsdecode(arg) for arg in (proc / "cmdline").read_bytes().split(b"\0")]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return "is not running"
    if state in ("Z", "X"):
        return "is not running"
    program = Path(argv[0]).name if argv else ""
    if program != "postgres":
        return f"is not a PostgreSQL server ({program or 'no command line'})"
    served = argv[argv.index("-D") + 1] if "-D" in argv[:-1] else None
    try:
        cwd = Path(os.readlink(proc / "cwd"))
    except PermissionError:
        return "belongs to another user"
    except OSError:
        return "is not running"
    if served is None or Path(served).resolve() != data_dir.resolve() or cwd.resolve() != data_dir.resolve():
        return f"is a PostgreSQL server of another data directory ({served or cwd})"
    return None


def processes_working_in(directory: Path) -> list[tuple[int, str]]:
    """(pid, name) of the processes whose working directory is `directory`: a postmaster and its children."""
    target = directory.resolve()
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if Path(os.readlink(proc / "cwd")).resolve() == target:
                found.append((int(proc.name), (proc / "comm").read_text().strip()))
        except OSError:
            continue
    return found


class EmbeddedServer:
    """One local server: `before` or `after`, its data directory under the harness's state dir."""

    def __init__(self, name: str, state_dir: Path, binaries: PgBinaries, account: ServiceAccount) -> None:
        self.name = name
        self.root = state_dir / name
        self.data_dir = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.log_file = self.root / "server.log"
        self.state_file = self.root / "instance.json"
        self.binaries = binaries
        self.account = account

    # ---- state -------------------------------------------------------------------------------------------
    @property
    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def recorded(self) -> dict[str, object]:
        if self.state_file.exists():
            return dict(json.loads(self.state_file.read_text()))
        return {}

    def _record(self, **values: object) -> None:
        state = self.recorded()
        state.update(values)
        self.state_file.write_text(json.dumps(state, indent=2))

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "postmaster.pid"

    def inspect_pid_file(self) -> PidFileCheck:
        return inspect_pid_file(self.pid_file, self.data_dir)

    def running_pid_port(self) -> tuple[int, int] | None:
        """(pid, port) of this data directory's live postmaster; None when postmaster.pid names no such server."""
        return self.inspect_pid_file().live

    @property
    def port(self) -> int | None:
        live = self.running_pid_port()
        return live[1] if live else None

    def dsn(self) -> str:
        port = self.port
        if port is None:
            raise HarnessError(f"the {self.name} instance is not running: start it with `python -m bench up`")
        return f"host=127.0.0.1 port={port} user={SUPERUSER} dbname={DATABASE} application_name=phase2-bench"

    # ---- lifecycle -----------------------------------------------------------------------------------------
    def init(self) -> None:
        self.account.make_dir(self.root)
        self.account.make_dir(self.socket_dir)
        if self.initialized:
            return
        result = self.account.run(
            [
                self.binaries.path("initdb"),
                "-D",
                str(self.data_dir),
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ]
        )
        if result.returncode != 0:
            raise HarnessError(f"initdb for the {self.name} instance failed:\n{result.stderr.strip()}")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(f"\ninclude_if_exists = '{CONF_INCLUDE}'\n")

    def start(self, timescaledb: bool, port: int | None = None) -> int:
        """Start the server (no-op when it already runs); returns its port."""
        check = self.inspect_pid_file()
        if check.live:
            return check.live[1]
        if check.stale:
            self._remove_stale_pid_file(check.stale)
        if port is not None:
            if not port_is_free(port):
                raise HarnessError(
                    f"port {port} on 127.0.0.1 is already in use, so the {self.name} instance cannot listen on it: "
                    f"choose another with --{self.name}-port, or leave it out to pick a free port"
                )
        else:
            previous = self.recorded().get("port")
            port = previous if isinstance(previous, int) and port_is_free(previous) else free_port()
        conf_path = self.data_dir / CONF_INCLUDE
        conf_path.write_text(render_conf(timescaledb, port, str(self.socket_dir)))
        if self.account.is_other_user:
            os.chown(conf_path, self.account.uid, self.account.gid)
        self._pg_ctl_start("did not start")
        self._record(port=port, timescaledb_preloaded=timescaledb, binaries=str(self.binaries.bindir))
        return port

    def _remove_stale_pid_file(self, why: str) -> None:
        """postmaster.pid refuses a start while it names a live process; this one names none of ours (left by a
        crash, or garbage). Removed only when no process works in the data directory, so never a second server."""
        users = processes_working_in(self.data_dir)
        if users:
            raise HarnessError(
                f"the {self.name} instance cannot start: {why}, yet process(es) "
                f"{', '.join(f'{pid} ({name})' for pid, name in users)} work in {self.data_dir}. Stop them, or "
                f"delete {self.pid_file} if they are not a PostgreSQL server, then run the command again."
            )
        try:
            self.pid_file.unlink(missing_ok=True)
        except OSError as e:
            raise HarnessError(f"the {self.name} instance cannot start: {why}; removing it failed ({e})") from None

    def start_again(self) -> None:
        """Start a stopped server with the include file written at its last start (same port and settings);
        postgres binds the port with SO_REUSEADDR, so connections a stop just closed (TIME_WAIT) do not block it."""
        self._pg_ctl_start("did not start again after a restart")

    def _pg_ctl_start(self, failure: str) -> None:
        # Its own session: a Ctrl-C in the terminal reaches the harness, which then stops the server cleanly.
        result = self.account.run(
            [
                self.binaries.path("pg_ctl"),
                "start",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "120",
            ],
            start_new_session=True,
        )
        if result.returncode != 0:
            raise HarnessError(
                f"the {self.name} instance {failure} (pg_ctl: {result.stderr.strip() or result.stdout.strip()}).\n"
                f"Last lines of {self.log_file}:\n{self.log_tail()}"
            )

    def stop(self) -> bool:
        """Fast shutdown of this data directory's own postmaster; returns whether one was running. A pid file
        naming any other process is left alone: pg_ctl stop would signal whatever process it names."""
        if not self.running_pid_port():
            return False
        result = self.account.run(
            [self.binaries.path("pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "120"]
        )
        if result.returncode != 0 and self.running_pid_port():
            raise HarnessError(f"could not stop the {self.name} instance: {result.stderr.strip()}")
        deadline = time.monotonic() + 30
        while self.running_pid_port() and time.monotonic() < deadline:
            time.sleep(0.1)
        return True

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
