"""The environment a run was measured in: what must match before two runs are compared."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import psycopg

from bench.core.config import PACKAGE_DIR
from bench.db.instances import InstancePair
from bench.db.server_settings import settings_dict


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _git_in(cwd: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _git(*args: str) -> str | None:
    """A git fact of the harness's own code: only when bench/ is the one of a checkout (a wheel installed into a
    virtual environment that happens to sit inside some repository has no commit of its own)."""
    top = _git_in(PACKAGE_DIR, "rev-parse", "--show-toplevel")
    if top is None or (Path(top) / "bench").resolve() != PACKAGE_DIR.resolve():
        return None
    return _git_in(Path(top), *args)


# One round trip: the server's version, TimescaleDB's (when created in this database) and the settings in force
# that pg_settings shows this role; it hides superuser-only settings (and placeholders) rather than failing.
SERVER_FACTS_SQL = """
SELECT current_setting('server_version'),
       (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'),
       (SELECT json_object_agg(name, current_setting(name)) FROM pg_settings WHERE name = ANY (%s::text[]))
"""
UNKNOWN = "unknown"


def server_facts(conn: psycopg.Connection[Any], timescaledb: bool) -> dict[str, Any]:
    names = list(settings_dict(timescaledb))
    row = conn.execute(SERVER_FACTS_SQL, [names]).fetchone()
    assert row is not None
    shown = (json.loads(row[2]) if isinstance(row[2], str) else row[2]) or {}
    return {
        "postgres_version": row[0],
        "timescaledb_version": row[1],
        "settings": {name: shown[name] if name in shown else _hidden_setting(conn, name) for name in names},
    }


def _hidden_setting(conn: psycopg.Connection[Any], name: str) -> str:
    """A setting pg_settings does not list: "unknown" when this role may not read it (shared_preload_libraries
    needs pg_read_all_settings) or the server does not know it; a placeholder's value otherwise."""
    try:
        with conn.transaction():
            row = conn.execute("SELECT current_setting(%s, true)", [name]).fetchone()
    except psycopg.errors.InsufficientPrivilege:
        return UNKNOWN
    return row[0] if row and row[0] is not None else UNKNOWN


def collect_environment(pair: InstancePair) -> dict[str, Any]:
    per_instance = {}
    for inst in pair:
        with inst.connect() as conn:
            facts = server_facts(conn, pair.engine.is_timescaledb)
        per_instance[inst.role] = {**facts, "kind": inst.kind, "dsn": inst.safe_dsn}
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
