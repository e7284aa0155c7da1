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
from bench.db.embedded import CONF_INCLUDE, DATABASE
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
        try:
            shutil.rmtree(after.data_dir)
            result = before.account.run(["cp", "-a", "--reflink=auto", str(before.data_dir), str(after.data_dir)])
            if result.returncode != 0:
                raise HarnessError(
                    f"copying the before data directory to {after.data_dir} failed: {result.stderr.strip()}. The "
                    "after instance is incomplete: free disk space, then run `python -m bench load` again (before "
                    "is kept)"
                )
            conf = after.data_dir / CONF_INCLUDE
            conf.write_bytes(include)
            if after.account.is_other_user:
                os.chown(conf, after.account.uid, after.account.gid)
            (after.data_dir / "postmaster.opts").unlink(missing_ok=True)  # names before's directory; rewritten at start
        finally:
            before.start_again()
            if after.initialized:
                after.start_again()
    for inst in pair:
        retake_harness_lock(inst.dsn, inst.role)
    return time.perf_counter() - started
