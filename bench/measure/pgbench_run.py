"""Running pgbench: finding it (15 or newer), its command line, its logs, and the CPU it and the server used.

pgbench ships with the server binaries (the harness's --pg-bin discovery). Each run writes its per-transaction
logs into a folder of its own; `--progress` lines are passed on when progress is shown. The driver's CPU time
comes from the kernel's accounting of the finished child (wait4), the server's from /proc: the postmaster's
own time plus what its reaped children (the backends that served pgbench) and its live ones used.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from bench.core.config import ENV_PG_BIN
from bench.core.errors import HarnessError
from bench.db.pg_binaries import candidate_bindirs

MIN_MAJOR = 15  # the log format parsed by bench.judge.pgbench_log (failures and retries columns) is 15's
VERSION_LINE = re.compile(r"pgbench \(PostgreSQL\) (\d+)(?:\.(\d+))?")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Pgbench:
    path: Path
    version: str
    major: int


def pgbench_version(path: Path) -> tuple[str, int]:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30)
    except OSError as e:
        raise HarnessError(
            f"{path} cannot be run ({e.strerror}): point --pg-bin at PostgreSQL {MIN_MAJOR}+ binaries"
        ) from None
    text = out.stdout.strip() or out.stderr.strip()
    match = VERSION_LINE.search(text)
    if out.returncode != 0 or not match:
        raise HarnessError(f"{path} --version answered {text!r}, not `pgbench (PostgreSQL) N`: is it pgbench?")
    return text, int(match.group(1))


def find_pgbench(explicit_bindir: Path | None = None) -> Pgbench:
    """pgbench from --pg-bin (or the server binaries' usual places), refusing one older than 15."""
    if explicit_bindir is not None:
        candidates = [Path(explicit_bindir) / "pgbench"]
    else:
        candidates = [bindir / "pgbench" for bindir in candidate_bindirs(None)]
        on_path = shutil.which("pgbench")
        if on_path:
            candidates.append(Path(on_path))
    found = next((p for p in candidates if os.access(p, os.X_OK)), None)
    if found is None:
        where = ", ".join(str(p.parent) for p in candidates) or "nowhere (no pg_config, no /usr/lib/postgresql/*/bin)"
        raise HarnessError(
            f"pgbench not found (looked in {where}): the concurrency suite drives its load with pgbench {MIN_MAJOR} or "
            f"newer. Install it with the PostgreSQL server or client package (Debian: postgresql-{MIN_MAJOR}) or point "
            f"--pg-bin / {ENV_PG_BIN} at a directory that has it."
        )
    version, major = pgbench_version(found)
    if major < MIN_MAJOR:
        raise HarnessError(
            f"{found} is {version}; the concurrency suite needs pgbench {MIN_MAJOR} or newer (its log format and "
            f"failure accounting): point --pg-bin / {ENV_PG_BIN} at the bin directory of PostgreSQL {MIN_MAJOR}+"
        )
    return Pgbench(found, version, major)


@dataclass(frozen=True)
class PgbenchRun:
    """What one pgbench invocation was asked to do."""

    dsn: str
    scripts: Sequence[str]  # `path@weight` arguments
    protocol: str  # "prepared", "extended" or "simple"
    clients: int
    threads: int
    duration_s: int
    rate: float | None = None  # transactions per second over all clients; None: as fast as possible
    latency_limit_ms: float | None = None
    sampling_rate: float = 1.0
    progress_s: int = 1
    label: str = "pgbench"

    def arguments(self, log_prefix: Path) -> list[str]:
        args = [
            "--no-vacuum",
            f"--protocol={self.protocol}",
            f"--client={self.clients}",
            f"--jobs={self.threads}",
            f"--time={self.duration_s}",
            "--log",
            f"--log-prefix={log_prefix}",
            f"--progress={self.progress_s}",
        ]
        if self.sampling_rate < 1.0:
            args.append(f"--sampling-rate={self.sampling_rate:g}")
        if self.rate is not None:
            args.append(f"--rate={self.rate:g}")
            if self.latency_limit_ms is not None:
                args.append(f"--latency-limit={self.latency_limit_ms:g}")
        for script in self.scripts:
            args += ["--file", script]
        return args


def connection_environment(dsn: str) -> tuple[str, dict[str, str]]:
    """The DSN without its password (pgbench's dbname argument) and the password as PGPASSWORD.

    A password on a command line is visible to every user of the machine in the process list.
    """
    parts = {k: v for k, v in conninfo_to_dict(dsn).items() if v is not None}
    password = parts.pop("password", None)
    env = dict(os.environ)
    if password is not None:
        env["PGPASSWORD"] = str(password)
    parts.setdefault("application_name", "phase2-bench-pgbench")
    parts["application_name"] = "phase2-bench-pgbench"
    return make_conninfo("", **parts), env


@dataclass
class PgbenchResult:
    run: PgbenchRun
    returncode: int
    log_files: list[Path]
    wall_s: float
    cpu_s: float  # user + system time of pgbench itself
    started_at: float  # time.time() just before the start
    summary: str  # pgbench's own closing report (stdout)
    stderr_tail: list[str] = field(default_factory=list)

    @property
    def aborted(self) -> bool:
        """pgbench exits 2 when clients were aborted (an error in a script, a lost connection)."""
        return self.returncode != 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.run.label,
            "protocol": self.run.protocol,
            "clients": self.run.clients,
            "threads": self.run.threads,
            "duration_s": self.run.duration_s,
            "rate": self.run.rate,
            "latency_limit_ms": self.run.latency_limit_ms,
            "sampling_rate": self.run.sampling_rate,
            "returncode": self.returncode,
            "wall_s": self.wall_s,
            "cpu_s": self.cpu_s,
            "errors": [line for line in self.stderr_tail if "error" in line.lower() or "abort" in line.lower()][-5:],
        }


class RunningPgbench:
    """A started pgbench; `finish()` waits for it and collects its CPU time and logs."""

    def __init__(self, pgbench: Pgbench, run: PgbenchRun, log_dir: Path, echo_progress: bool) -> None:
        self.run = run
        self.log_dir = log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_prefix = log_dir / "pgbench_log"
        dbname, env = connection_environment(run.dsn)
        self.echo = echo_progress
        self.started_at = time.time()
        self._started = time.perf_counter()
        self.process = subprocess.Popen(
            [str(pgbench.path), *run.arguments(self.log_prefix), dbname],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=log_dir,
            env=env,
        )

    def finish(self) -> PgbenchResult:
        assert self.process.stderr is not None and self.process.stdout is not None
        tail: list[str] = []
        for line in self.process.stderr:
            tail = [*tail[-40:], line.rstrip()]
            if self.echo and line.startswith("progress:"):
                print(f"    [{self.run.label}] {line.rstrip()}", file=sys.stderr, flush=True)
        summary = self.process.stdout.read()
        _, status, usage = os.wait4(self.process.pid, 0)
        self.process.returncode = os.waitstatus_to_exitcode(status)
        return PgbenchResult(
            run=self.run,
            returncode=self.process.returncode,
            log_files=sorted(self.log_dir.glob("pgbench_log.*")),
            wall_s=time.perf_counter() - self._started,
            cpu_s=usage.ru_utime + usage.ru_stime,
            started_at=self.started_at,
            summary=summary,
            stderr_tail=tail,
        )


def run_together(pgbench: Pgbench, runs: Sequence[tuple[PgbenchRun, Path]], echo_progress: bool) -> list[PgbenchResult]:
    """Start every run at once (readers and ingest side by side) and wait for all of them.

    Their stderr is read one after the other: pgbench writes a line a second, far below a pipe's buffer.
    """
    started = [RunningPgbench(pgbench, run, log_dir, echo_progress) for run, log_dir in runs]
    return [r.finish() for r in started]


def process_cpu_s(pid: int, include_children: bool) -> float:
    """utime + stime of a process from /proc/<pid>/stat, with its reaped children's (cutime + cstime)."""
    with open(f"/proc/{pid}/stat") as f:
        # The command name is in parentheses and may hold spaces: the fields after its closing one are fixed.
        fields = f.read().rsplit(")", 1)[1].split()
    utime, stime, cutime, cstime = (int(v) for v in fields[11:15])
    ticks = utime + stime + (cutime + cstime if include_children else 0)
    return ticks / CLOCK_TICKS


def server_cpu_s(postmaster_pid: int) -> float:
    """CPU seconds a server used so far: the postmaster, its exited backends, and its live processes.

    Children that exit are added to the postmaster's cutime/cstime when it reaps them, so the difference of
    two readings is the server's CPU time in between, wherever it ran.
    """
    total = process_cpu_s(postmaster_pid, include_children=True)
    try:
        children = Path(f"/proc/{postmaster_pid}/task/{postmaster_pid}/children").read_text().split()
    except OSError:  # a kernel without CONFIG_PROC_CHILDREN: find them by parent pid
        children = [p.parent.name for p in Path("/proc").glob("[0-9]*/stat") if _parent_pid(p) == postmaster_pid]
    for child in children:
        try:
            total += process_cpu_s(int(child), include_children=True)
        except (OSError, ValueError, IndexError):
            continue  # it exited between the listing and the read: the postmaster has (or will have) its time
    return total


def _parent_pid(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
