"""Finding the PostgreSQL server binaries and what they can load (TimescaleDB or not)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from bench.core.config import ENV_PG_BIN
from bench.core.errors import HarnessError

REQUIRED = ("initdb", "postgres", "pg_ctl")


@dataclass(frozen=True)
class PgBinaries:
    bindir: Path

    def path(self, name: str) -> str:
        return str(self.bindir / name)

    @property
    def version(self) -> str:
        out = subprocess.run([self.path("postgres"), "--version"], capture_output=True, text=True, check=True)
        return out.stdout.strip()

    @property
    def sharedir(self) -> Path:
        # pg_config beside the binaries knows the (relocatable) share dir; Debian's layout is the fallback.
        pg_config = self.bindir / "pg_config"
        if pg_config.exists():
            out = subprocess.run([str(pg_config), "--sharedir"], capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip():
                return Path(out.stdout.strip())
        major = self.bindir.parent.name
        return Path("/usr/share/postgresql") / major

    @property
    def has_timescaledb(self) -> bool:
        return (self.sharedir / "extension" / "timescaledb.control").exists()


def _candidates(explicit: Path | None) -> list[tuple[str, Path]]:
    if explicit is not None:
        return [("--pg-bin / " + ENV_PG_BIN, explicit)]
    found: list[tuple[str, Path]] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if out.returncode == 0 and out.stdout.strip():
            found.append(("pg_config --bindir", Path(out.stdout.strip())))
    initdb = shutil.which("initdb")
    if initdb:
        found.append(("PATH", Path(initdb).resolve().parent))
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name), reverse=True):
        found.append(("/usr/lib/postgresql", Path(d)))
    return found


def find_pg_binaries(explicit: Path | None = None) -> PgBinaries:
    tried = []
    for source, bindir in _candidates(explicit):
        missing = [name for name in REQUIRED if not os.access(bindir / name, os.X_OK)]
        if not missing:
            return PgBinaries(bindir.resolve())
        tried.append(f"{bindir} (from {source}: missing {', '.join(missing)})")
    where = "; ".join(tried) if tried else "nothing on PATH, no pg_config, no /usr/lib/postgresql/*/bin"
    raise HarnessError(
        "PostgreSQL server binaries (initdb, postgres, pg_ctl) not found. Tried: "
        f"{where}. Install the server (Debian: apt-get install postgresql-15) or point --pg-bin / "
        f"{ENV_PG_BIN} at the directory holding them, or target running servers with --before-dsn/--after-dsn."
    )


def candidate_bindirs(explicit: Path | None = None) -> list[Path]:
    """Where the server binaries are looked for, in order (for tools that ship beside them, like pgbench)."""
    return [bindir for _, bindir in _candidates(explicit)]
