"""Cold cache: an embedded server restarted (empty shared buffers) with agent_events' files dropped from the OS cache.

Cold means what a query meets after a restart on a machine whose page cache no longer holds the table: the
server is stopped, every file of agent_events (its partitions or chunks, all their indexes, their TOAST tables,
each with its segments .1, .2, ... and its _fsm/_vm/_init forks) is flushed and evicted from the page cache
with posix_fadvise(POSIX_FADV_DONTNEED), and the server is started again on the same port with the same
settings. pg_buffercache (contrib, installed in the harness's marked database) then shows no block of those
relations in shared buffers, and a plan's "shared read" blocks show the first query reading them in.

Only embedded servers can be made cold: an external server's data directory and restart are not ours (the
callers skip with `cold_unavailable`'s reason). A restart ends every open connection; the shared harness lock
is taken again on a connection of this module's own.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.core.errors import HarnessError
from bench.db.database import HARNESS_LOCK_KEY, connect
from bench.db.instances import Instance

RELATIONS_SQL = """
WITH RECURSIVE tables AS (
    SELECT 'agent_events'::regclass::oid AS oid
    UNION
    SELECT i.inhrelid FROM pg_inherits i JOIN tables t ON i.inhparent = t.oid
), relations AS (
    SELECT oid FROM tables
    UNION SELECT x.indexrelid FROM pg_index x JOIN tables t ON x.indrelid = t.oid
    UNION SELECT c.reltoastrelid FROM pg_class c JOIN tables t ON c.oid = t.oid WHERE c.reltoastrelid <> 0
    UNION SELECT x.indexrelid FROM pg_index x
          JOIN pg_class c ON x.indrelid = c.reltoastrelid JOIN tables t ON c.oid = t.oid
)
SELECT r.oid, pg_relation_filepath(r.oid) FROM relations r WHERE pg_relation_filepath(r.oid) IS NOT NULL
"""
BUFFERED_SQL = f"""
WITH files AS ({RELATIONS_SQL})
SELECT count(*) FROM pg_buffercache b
JOIN pg_class c ON b.relfilenode = pg_relation_filenode(c.oid)
WHERE b.reldatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND c.oid IN (SELECT oid FROM files)
"""
FORK_SUFFIXES = ("", "_fsm", "_vm", "_init")


def cold_unavailable(inst: Instance) -> str | None:
    """Why inst cannot be made cold, or None when it can."""
    if inst.server is None:
        return (
            f"a cold cache needs a restart of the {inst.role} server and access to its data directory, which an "
            "external server (--before-dsn/--after-dsn) does not give the harness; restart it and drop the OS page "
            "cache yourself, then run with --cache warm"
        )
    return None


def relation_files(conn: psycopg.Connection[Any]) -> list[str]:
    """Paths (relative to the data directory) of every relation of agent_events, main fork."""
    return [str(row[1]) for row in conn.execute(RELATIONS_SQL).fetchall()]


def _files_of(data_dir: Path, relative: str) -> list[Path]:
    base = data_dir / relative
    found = []
    for suffix in FORK_SUFFIXES:
        first = base.with_name(base.name + suffix)
        if not first.exists():
            continue
        found.append(first)
        segment = 1
        while (nxt := first.with_name(f"{first.name}.{segment}")).exists():
            found.append(nxt)
            segment += 1
    return found


def evict_from_page_cache(data_dir: Path, relatives: list[str]) -> dict[str, int]:
    """Flush and drop each file from the OS page cache (dirty pages are not dropped, hence the fdatasync)."""
    files = size = 0
    for relative in relatives:
        for path in _files_of(data_dir, relative):
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                size += os.fstat(fd).st_size
                files += 1
            finally:
                os.close(fd)
    return {"files": files, "bytes": size}


def install_buffercache(conn: psycopg.Connection[Any]) -> str | None:
    """pg_buffercache in this (harness-marked) database; the reason when it cannot be installed."""
    try:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_buffercache")
    except psycopg.Error as e:
        return f"pg_buffercache could not be installed: {str(e).strip()}"
    return None


def buffered_blocks(conn: psycopg.Connection[Any]) -> int:
    """Blocks of agent_events' relations in shared buffers now."""
    row = conn.execute(BUFFERED_SQL).fetchone()
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class ColdState:
    role: str
    evicted_files: int
    evicted_bytes: int
    buffered_blocks_after_restart: int | None  # None when pg_buffercache is unavailable

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "evicted_files": self.evicted_files,
            "evicted_bytes": self.evicted_bytes,
            "buffered_blocks_after_restart": self.buffered_blocks_after_restart,
        }


class CacheController:
    """Makes instances cold on demand; holds the shared harness lock across the restarts it causes."""

    def __init__(self, instances: list[Instance]) -> None:
        self.instances = {inst.role: inst for inst in instances}
        self._locks: dict[str, psycopg.Connection[Any]] = {}
        self.buffercache_unavailable: dict[str, str | None] = {}
        for inst in instances:
            reason = cold_unavailable(inst)
            if reason:
                raise HarnessError(reason)
            with inst.connect() as conn:
                self.buffercache_unavailable[inst.role] = install_buffercache(conn)

    def make_cold(self, role: str) -> ColdState:
        inst = self.instances[role]
        server = inst.server
        assert server is not None
        with inst.connect() as conn:
            relatives = relation_files(conn)
        old = self._locks.pop(role, None)
        if old is not None:
            old.close()
        server.stop()
        evicted = evict_from_page_cache(server.data_dir, relatives)
        server.start_again()
        self._lock(inst)
        blocks = None
        if self.buffercache_unavailable.get(role) is None:
            with inst.connect() as conn:
                blocks = buffered_blocks(conn)
        return ColdState(role, evicted["files"], evicted["bytes"], blocks)

    def _lock(self, inst: Instance) -> None:
        conn = connect(inst.dsn, inst.role)
        row = conn.execute("SELECT pg_try_advisory_lock_shared(%s)", [HARNESS_LOCK_KEY]).fetchone()
        if not row or not row[0]:
            conn.close()
            raise HarnessError(
                f"another phase2-bench process took the {inst.role} instance while it restarted for a cold cache "
                "(a load?): wait for it to finish and run again"
            )
        self._locks[inst.role] = conn

    def close(self) -> None:
        for conn in self._locks.values():
            conn.close()
        self._locks.clear()

    def __enter__(self) -> CacheController:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
