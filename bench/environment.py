"""The environment a run was measured in: what must match before two runs are compared."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from bench.config import REPO_ROOT
from bench.instances import InstancePair
from bench.server_settings import settings_dict

# Two runs that differ in any of these are not comparable (pyperf's _CHECKED_METADATA idea).
CHECKED_KEYS = ("engine", "postgres_version", "timescaledb_version", "cpu_model", "settings")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def collect_environment(pair: InstancePair) -> dict[str, Any]:
    per_instance = {}
    for inst in pair:
        with inst.connect() as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
            ts = conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'").fetchone()
            settings = {
                name: conn.execute("SELECT current_setting(%s)", [name]).fetchone()[0]  # type: ignore[index]
                for name in settings_dict(pair.engine.is_timescaledb)
            }
        per_instance[inst.role] = {
            "postgres_version": version,
            "timescaledb_version": ts[0] if ts else None,
            "settings": settings,
            "kind": inst.kind,
            "dsn": inst.safe_dsn,
        }
    dirty = _git("status", "--porcelain")
    return {
        "engine": pair.engine.name,
        "engine_label": pair.engine.label,
        "postgres_version": per_instance["before"]["postgres_version"],
        "timescaledb_version": per_instance["before"]["timescaledb_version"],
        "settings": per_instance["before"]["settings"],
        "settings_identical": per_instance["before"]["settings"] == per_instance["after"]["settings"],
        "instances": per_instance,
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "psycopg": psycopg.__version__,
        "hostname": platform.node(),
        "commit": _git("rev-parse", "HEAD"),
        "dirty": bool(dirty) if dirty is not None else None,
    }
