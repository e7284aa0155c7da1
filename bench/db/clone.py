"""The `after` instance as a physical copy of `before`: both embedded servers stopped, before's data directory
copied over after's (keeping after's own port and settings), both started again.

A copy is byte for byte the loaded and indexed `before`, so the load builds the dataset once and `after` only adds
the migration. Only for the embedded servers the harness created, when no other harness process uses them and
neither server holds a database beyond the harness's own; otherwise the loader loads both side by side.
"""

from __future__ import annotations

import os
import shutil
import time

from psycopg.conninfo import conninfo_to_dict

from bench.core.errors import HarnessError
from bench.db.database import retake_harness_lock
from bench.db.embedded import CONF_INCLUDE, DATABASE, EmbeddedServer
from bench.db.instances import InstancePair

SYSTEM_DATABASES = ("postgres", "template0", "template1")


def clone_unavailable(pair: InstancePair) -> str | None:
    """Why `after` cannot be made a copy of `before` here (None: it can)."""
    for inst in pair:
        if inst.kind != "embedded" or inst.server is None:
            return "the instances are external servers (--before-dsn/--after-dsn), whose data directories are not ours"
        dbname = conninfo_to_dict(inst.dsn).get("dbname")
        if dbname != DATABASE:
            return f"the {inst.role} instance is the database {dbname}, not the embedded server's own {DATABASE}"
        if not inst.server.state_file.exists() or not inst.server.initialized:
            return f"the {inst.role} data directory {inst.server.data_dir} was not set up by the harness"
    for inst in pair:
        with inst.connect() as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE NOT datname = ANY(%s) ORDER BY 1",
                [[*SYSTEM_DATABASES, DATABASE]],
            ).fetchall()
        if rows:
            names = ", ".join(r[0] for r in rows)
            return f"the {inst.role} server holds other databases ({names}), which a copy would replace or duplicate"
    if pair.use is None:
        return "the servers were not opened by this process"
    with pair.use.deciding():
        if not pair.use.alone():
            return f"another phase2-bench process ({pair.use.other_users()}) uses the servers, so they are not stopped"
    return None


def clone_before_into_after(pair: InstancePair) -> float:
    """Replace after's data directory with a copy of before's; returns the seconds from stop to both serving."""
    before, after = pair.before.server, pair.after.server
    assert before is not None and after is not None and pair.use is not None
    started = time.perf_counter()
    with pair.use.deciding():
        if not pair.use.alone():
            raise HarnessError(
                f"another phase2-bench process ({pair.use.other_users()}) started using the servers during the load, "
                "so after is not replaced by a copy of before: run `python -m bench load` again once it is done"
            )
        # after's own include file holds its port and socket directory; everything else comes from before.
        include = (after.data_dir / CONF_INCLUDE).read_bytes()
        before.stop()
        after.stop()
        copied = False
        try:
            shutil.rmtree(after.data_dir)
            _copy_data_dir(before, after)
            conf = after.data_dir / CONF_INCLUDE
            conf.write_bytes(include)
            if after.account.is_other_user:
                os.chown(conf, after.account.uid, after.account.gid)
            (after.data_dir / "postmaster.opts").unlink(missing_ok=True)  # names before's directory; rewritten at start
            copied = True
        finally:
            before.start_again()
            if copied:
                after.start_again()
            else:
                # An interrupted or failed copy: the half-copied directory would never start. It goes, so the next
                # command initializes after anew and the load fills it; the error or the interrupt goes on as it was.
                shutil.rmtree(after.data_dir, ignore_errors=True)
    for inst in pair:
        retake_harness_lock(inst.dsn, inst.role)
    return time.perf_counter() - started


def _copy_data_dir(source: EmbeddedServer, target: EmbeddedServer) -> None:
    """cp -a as the server's account, all but the WAL a cleanly stopped server no longer needs: pg_wal keeps
    max_wal_size of recycled segments (a gigabyte after a load), and only the last checkpoint's is read at start."""
    redo = _redo_segment(source)
    entries = sorted(p for p in source.data_dir.iterdir() if not (redo and p.name == "pg_wal"))
    steps = [["mkdir", "-m", "700", str(target.data_dir)]]
    steps.append(["cp", "-a", "--reflink=auto", *map(str, entries), str(target.data_dir)])
    if redo:
        wal = source.data_dir / "pg_wal"
        steps.append(["mkdir", "-m", "700", str(target.data_dir / "pg_wal")])
        kept = [wal / redo] + [p for p in wal.iterdir() if p.is_dir()]  # archive_status
        steps.append(["cp", "-a", "--reflink=auto", *map(str, kept), str(target.data_dir / "pg_wal")])
    for step in steps:
        result = source.account.run(step)
        if result.returncode != 0:
            raise HarnessError(
                f"copying the before data directory to {target.data_dir} failed ({' '.join(step[:2])}: "
                f"{result.stderr.strip()}). The after instance is incomplete: free disk space, then run `python -m "
                "bench load` again (before is kept)"
            )


def _redo_segment(server: EmbeddedServer) -> str | None:
    """The WAL segment of a cleanly shut down server's last checkpoint (None: copy all of pg_wal)."""
    result = server.account.run([server.binaries.path("pg_controldata"), "-D", str(server.data_dir)])
    fields = dict(line.split(":", 1) for line in result.stdout.splitlines() if ":" in line)
    state = fields.get("Database cluster state", "").strip()
    redo = fields.get("Latest checkpoint's REDO WAL file", "").strip()
    if result.returncode != 0 or state != "shut down" or not redo or not (server.data_dir / "pg_wal" / redo).is_file():
        return None
    return redo
