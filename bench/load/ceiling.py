"""How close the streaming load gets to the server's own ceiling: `COPY ... FROM 'file'` read by the server.

Both loads write the same rows into a fresh agent_events in a scratch database on the embedded `before`
server, one after the other, in one run; the file is written beforehand and its writing is not timed.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from psycopg import sql

from bench.core.errors import HarnessError
from bench.core.formatting import rate
from bench.db.database import connect, ensure_marked
from bench.db.instances import Instance, InstancePair
from bench.db.schema import create_table
from bench.load.loader import COPY_SQL, _stream
from generators.copy_format import generate_copy_chunks
from generators.shape import DatasetSpec

SCRATCH_DB = "phase2_bench_ceiling"


@dataclass(frozen=True)
class CeilingReport:
    rows: int
    file_bytes: int
    server_copy_s: float
    streaming_s: float

    @property
    def server_rows_per_s(self) -> float:
        return self.rows / self.server_copy_s

    @property
    def streaming_rows_per_s(self) -> float:
        return self.rows / self.streaming_s

    @property
    def ratio(self) -> float:
        return self.streaming_rows_per_s / self.server_rows_per_s

    def summary(self) -> str:
        return (
            f"load ceiling ({self.rows:,} rows, {self.file_bytes / 2**20:,.0f} MiB of COPY text, no indexes):\n"
            f"  server-side COPY FROM file: {rate(self.server_rows_per_s)} ({self.server_copy_s:.1f} s)\n"
            f"  harness streaming COPY:     {rate(self.streaming_rows_per_s)} ({self.streaming_s:.1f} s, "
            "generation included)\n"
            f"  ratio: {self.ratio:.0%} of the ceiling (goal: at least 80%)"
        )


def measure_ceiling(pair: InstancePair, spec: DatasetSpec, progress: bool = True) -> CeilingReport:
    server = pair.before.server
    if server is None:
        raise HarnessError(
            "--measure-ceiling needs the embedded instances: the server must read a file the harness writes"
        )
    admin = pair.before.dsn.replace("dbname=phase2_bench", "dbname=postgres")
    scratch_dsn = pair.before.dsn.replace("dbname=phase2_bench", f"dbname={SCRATCH_DB}")
    data_file = server.root / "ceiling.copy"
    with connect(admin, "before") as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(SCRATCH_DB)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(SCRATCH_DB)))
    try:
        size = 0
        with data_file.open("wb") as f:
            for _, chunk in generate_copy_chunks(spec):
                f.write(chunk)
                size += len(chunk)
        os.chmod(data_file, 0o644)
        scratch = Instance("before", scratch_dsn, "embedded", server)
        with scratch.connect() as conn:
            ensure_marked(conn, "before", scratch_dsn)
            create_table(conn, pair.engine, spec.window_start, spec.reference_instant)
            conn.execute("CHECKPOINT")
            started = time.perf_counter()
            conn.execute(COPY_SQL.replace("FROM STDIN", "FROM {}").format(sql.Literal(str(data_file)).as_string(conn)))
            server_s = time.perf_counter() - started
            create_table(conn, pair.engine, spec.window_start, spec.reference_instant)
            conn.execute("CHECKPOINT")
        _, streaming_s = _stream(spec, [scratch], workers=1, batch_rows=50_000, progress=progress)
        with scratch.connect() as conn:
            count = conn.execute("SELECT count(*) FROM agent_events").fetchone()
            if not count or count[0] != spec.rows:
                raise HarnessError(f"ceiling measurement loaded {count} rows instead of {spec.rows}")
    finally:
        data_file.unlink(missing_ok=True)
        with connect(admin, "before") as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(SCRATCH_DB)))
    return CeilingReport(spec.rows, size, server_s, streaming_s)
