"""Where the harness keeps its state and which servers it targets; every flag has an environment variable."""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path

from bench.core.errors import HarnessError


def _package_data(*parts: str) -> Path:
    """A folder of bench's package data. pip always installs unzipped, so importlib.resources gives a real path
    (the SQL runners, the case loader and tests need Path's glob and name)."""
    resource = files("bench").joinpath(*parts)
    if not isinstance(resource, Path):
        raise HarnessError(
            f"bench's package data is not a folder ({resource!r}): install the wheel unzipped (pip does)"
        )
    return resource


# Package data: the queries, targets and workloads in bench/, and schema/ shipped as bench/_schema (a symlink in
# the checkout, a copy in the wheel). Nothing else is looked up next to the code: runs go to the working directory.
PACKAGE_DIR = _package_data()
SCHEMA_DIR = _package_data("_schema")
RUNS_SUBDIR = Path("reports", "runs")
ENGINES = ("auto", "timescaledb", "postgres")

ENV_STATE_DIR = "PHASE2_BENCH_STATE_DIR"
ENV_RUNS_DIR = "PHASE2_BENCH_RUNS_DIR"
ENV_PG_BIN = "PHASE2_BENCH_PG_BIN"
ENV_ENGINE = "PHASE2_BENCH_ENGINE"
ENV_BEFORE_DSN = "PHASE2_BEFORE_DSN"
ENV_AFTER_DSN = "PHASE2_AFTER_DSN"
ENV_MIGRATION = "PHASE2_BENCH_MIGRATION"


def default_state_dir() -> Path:
    """Embedded data directories belong to the working directory (the project folder, like reports/runs):
    ./.bench, or when running as root a folder under /var/tmp named after the working directory.

    As root the server runs as the unprivileged `postgres` user, which usually cannot enter /root or a CI
    workspace; a folder under /var/tmp is reachable by it and survives reboots of the shell.
    """
    if os.geteuid() == 0:
        digest = hashlib.sha256(str(Path.cwd()).encode()).hexdigest()[:10]
        return Path("/var/tmp/phase2-bench") / digest
    return Path.cwd() / ".bench"


def default_runs_dir() -> Path:
    """reports/runs of the working directory, never of the installed code."""
    return Path.cwd() / RUNS_SUBDIR


def runs_dir_from_env(flag: Path | None = None) -> Path:
    """Where run folders go: the flag, else PHASE2_BENCH_RUNS_DIR, else reports/runs of the working directory."""
    if flag is not None:
        return Path(flag)
    return Path(os.environ[ENV_RUNS_DIR]) if os.environ.get(ENV_RUNS_DIR) else default_runs_dir()


def require_writable_dir(path: Path, what: str, flag: str, env: str) -> None:
    """Refuse an unwritable folder before any work: write a file into it, or into the nearest existing folder
    above it when it does not exist yet (nothing is left behind; the command creates the folder itself)."""
    existing = path
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        if not existing.is_dir():
            raise NotADirectoryError(20, "not a directory", str(existing))
        with tempfile.TemporaryFile(dir=existing, prefix=".phase2-bench-write-test-"):
            pass
    except OSError as e:
        raise HarnessError(
            f"the {what} {path} is not writable ({e.strerror or e}): make it writable, or choose another with "
            f"{flag} or {env}"
        ) from None


@dataclass(frozen=True)
class HarnessConfig:
    state_dir: Path
    engine: str = "auto"
    pg_bin: Path | None = None
    before_dsn: str | None = None
    after_dsn: str | None = None
    before_port: int | None = None
    after_port: int | None = None
    runs_dir: Path = field(default_factory=default_runs_dir)
    # The migration under test: a SQL file or a shipped name (bench.core.migration); None is Phase 2.
    migration: str | None = None

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise HarnessError(
                f"unknown engine {self.engine!r}: choose one of {', '.join(ENGINES)} (--engine or {ENV_ENGINE})"
            )
        if (self.before_dsn is None) != (self.after_dsn is None):
            raise HarnessError(
                "give both --before-dsn and --after-dsn (or both PHASE2_BEFORE_DSN and PHASE2_AFTER_DSN), "
                "or neither to use the embedded instances"
            )
        if self.before_dsn is not None and self.before_dsn == self.after_dsn:
            raise HarnessError("--before-dsn and --after-dsn point at the same database: give two databases")
        for port in (self.before_port, self.after_port):
            if port is not None and not 1024 <= port <= 65535:
                raise HarnessError(f"port {port} is out of range: choose a port between 1024 and 65535")
        if self.before_port is not None and self.before_port == self.after_port:
            raise HarnessError(
                f"--before-port and --after-port are both {self.before_port}: the two servers need two ports; "
                "give them different ports, or leave one out to pick a free port"
            )

    @property
    def external(self) -> bool:
        return self.before_dsn is not None

    @classmethod
    def from_env(cls, **overrides: object) -> HarnessConfig:
        """Flags win over environment variables, which win over defaults."""
        values: dict[str, object] = {
            "state_dir": Path(os.environ[ENV_STATE_DIR]) if os.environ.get(ENV_STATE_DIR) else default_state_dir(),
            "engine": os.environ.get(ENV_ENGINE) or "auto",
            "pg_bin": Path(os.environ[ENV_PG_BIN]) if os.environ.get(ENV_PG_BIN) else None,
            "before_dsn": os.environ.get(ENV_BEFORE_DSN) or None,
            "after_dsn": os.environ.get(ENV_AFTER_DSN) or None,
            "runs_dir": runs_dir_from_env(),
            "migration": os.environ.get(ENV_MIGRATION) or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]
