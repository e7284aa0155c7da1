"""A probe for blocked writes and reads: a writer, a reader and a lock monitor on their own connections.

While an action runs in the caller's thread (a migration statement, or a test holding a lock), the writer
inserts one event every 10 ms and the reader lists a session timeline every 20 ms, each recording when every
operation started and ended; the monitor samples pg_stat_activity and pg_locks to see whether they queue for a
lock and what the backend that blocks them is running. A stall is the longest time during which no operation
completed: an action that holds a conflicting lock for t seconds shows up as a stall of at least t.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import numpy as np
import psycopg

from bench.core.cases import QUERIES_DIR, parse_case
from bench.db.instances import Instance
from bench.judge.stats import summarize_latencies
from bench.measure.suites.scratch import RowStream, insert_rows, insert_statement

READER_CASE = QUERIES_DIR / "session_timeline.sql"
LOCK_WAITS_SQL = QUERIES_DIR / "lock_probe" / "lock_waits.sql"


@dataclass(frozen=True)
class ProbeSettings:
    write_interval_s: float = 0.010
    read_interval_s: float = 0.020
    poll_interval_s: float = 0.025
    settle_s: float = 0.3  # probing before and after the action, so a stall at either end is seen whole
    stall_ms: float = 100.0  # a write or read slower than this counts as blocked (they normally take ~1-5 ms)


@dataclass(frozen=True)
class ProbeWorkload:
    rows: list[tuple[Any, ...]]  # insert_rows() of the rows following the copy; the id is replaced per write
    sessions: list[str]  # sessions the reader lists, active at the end of the copy
    now: datetime  # the reader's "now": the first timestamp after the copy

    @classmethod
    def from_stream(cls, stream: RowStream, rows: int) -> ProbeWorkload:
        batch = stream.take(rows)
        values = insert_rows(batch)
        sessions = list(dict.fromkeys(batch.session_id.tolist()))[:100]
        return cls(values, sessions, values[0][1])


class LoadProbe:
    """Writes and reads at a steady pace on their own connections while an action runs in the caller's thread."""

    def __init__(self, inst: Instance, workload: ProbeWorkload, settings: ProbeSettings) -> None:
        self.inst = inst
        self.workload = workload
        self.settings = settings
        self.started = 0.0
        self.writes: list[tuple[float, float, str | None]] = []  # (start, end, error), seconds since start
        self.reads: list[tuple[float, float, str | None]] = []
        self.lock_waits: list[dict[str, Any]] = []
        self.marks: list[dict[str, Any]] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[psycopg.Connection[Any]] = []
        self._errors: list[BaseException] = []

    def clock(self) -> float:
        return time.perf_counter() - self.started

    def __enter__(self) -> LoadProbe:
        for _ in range(3):
            try:
                self._conns.append(self.inst.connect())
            except BaseException:
                for conn in self._conns:
                    conn.close()
                raise
        writer, reader, monitor = self._conns
        pids = {"writer": writer.info.backend_pid, "reader": reader.info.backend_pid}
        self.started = time.perf_counter()
        self._threads = [
            threading.Thread(target=self._guard, args=(self._write_loop, writer), name="probe-writer", daemon=True),
            threading.Thread(target=self._guard, args=(self._read_loop, reader), name="probe-reader", daemon=True),
            threading.Thread(
                target=self._guard, args=(self._monitor_loop, monitor, pids), name="probe-monitor", daemon=True
            ),
        ]
        for thread in self._threads:
            thread.start()
        time.sleep(self.settings.settle_s)
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(self.settings.settle_s)
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)
        for conn in self._conns:
            conn.close()

    @contextlib.contextmanager
    def mark(self, label: str) -> Iterator[dict[str, Any]]:
        """Record when an action (a statement) ran, so stalls can be attributed to it."""
        entry: dict[str, Any] = {"label": label, "start_s": self.clock()}
        try:
            yield entry
        finally:
            entry["end_s"] = self.clock()
            self.marks.append(entry)

    def _pause_until(self, deadline: float) -> None:
        delay = deadline - self.clock()
        if delay > 0:
            self._stop.wait(delay)

    def _guard(self, loop: Callable[..., None], *args: Any) -> None:
        try:
            loop(*args)
        except BaseException as e:  # a probe that died must not look like a probe that saw nothing
            self._errors.append(e)

    def _write_loop(self, conn: psycopg.Connection[Any]) -> None:
        statement = insert_statement(1)
        rows = self.workload.rows
        i = 0
        while not self._stop.is_set():
            row = rows[i % len(rows)]
            i += 1
            start = self.clock()
            error = None
            try:
                conn.execute(statement, (str(uuid.uuid4()), *row[1:]))
            except psycopg.Error as e:
                error = f"{type(e).__name__}: {str(e).strip()}"
            end = self.clock()
            self.writes.append((start, end, error))
            self._pause_until(start + self.settings.write_interval_s)

    def _read_loop(self, conn: psycopg.Connection[Any]) -> None:
        query = parse_case(READER_CASE).sql
        sessions = self.workload.sessions
        i = 0
        while not self._stop.is_set():
            params = {"session_id": sessions[i % len(sessions)], "now": self.workload.now}
            i += 1
            start = self.clock()
            error = None
            try:
                conn.execute(query, params).fetchall()
            except psycopg.Error as e:
                error = f"{type(e).__name__}: {str(e).strip()}"
            end = self.clock()
            self.reads.append((start, end, error))
            self._pause_until(start + self.settings.read_interval_s)

    def _monitor_loop(self, conn: psycopg.Connection[Any], pids: dict[str, int]) -> None:
        query = LOCK_WAITS_SQL.read_text()
        role_of = {pid: role for role, pid in pids.items()}
        while not self._stop.is_set():
            at = self.clock()
            for pid, wait_type, mode, relation, blocked_by in conn.execute(query, {"pids": list(pids.values())}):
                if wait_type == "Lock":
                    self.lock_waits.append(
                        {"at_s": at, "who": role_of[pid], "mode": mode, "relation": relation, "blocked_by": blocked_by}
                    )
            self._pause_until(at + self.settings.poll_interval_s)

    def report(self) -> dict[str, Any]:
        if self._errors:
            raise self._errors[0]
        return {
            "writes": _traffic_summary(self.writes, self.settings.stall_ms),
            "reads": _traffic_summary(self.reads, self.settings.stall_ms),
            "lock_waits": _lock_wait_summary(self.lock_waits, self.settings.poll_interval_s),
            "statements": self.marks,
            "settings": asdict(self.settings),
            # For plots: every operation as [start s, latency ms] (a few thousand points per scenario).
            "write_timeline": [[round(s, 4), round((e - s) * 1000, 3)] for s, e, _ in self.writes],
            "read_timeline": [[round(s, 4), round((e - s) * 1000, 3)] for s, e, _ in self.reads],
        }


def _traffic_summary(ops: list[tuple[float, float, str | None]], stall_ms: float) -> dict[str, Any]:
    """Latency distribution, the longest time without a completed operation, and the blocked operations."""
    latencies = [(end - start) * 1000 for start, end, error in ops if error is None]
    ends = sorted(end for _, end, _ in ops)
    gaps = np.diff(ends) * 1000 if len(ends) > 1 else np.array([0.0])
    blocked = [ms for ms in latencies if ms > stall_ms]
    errors = [error for _, _, error in ops if error is not None]
    summary = summarize_latencies([ms if ms > 0 else 1e-6 for ms in latencies]) if latencies else None
    return {
        "count": len(ops),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "latency_ms": summary.to_dict() if summary else None,
        "max_latency_ms": max(latencies) if latencies else None,
        "max_gap_ms": float(gaps.max()),  # the stall: longest time during which nothing completed
        "blocked": len(blocked),
        "blocked_ms_total": float(sum(blocked)),
    }


def _lock_wait_summary(samples: list[dict[str, Any]], poll_s: float) -> dict[str, Any]:
    by_who: dict[str, Any] = {}
    for who in ("writer", "reader"):
        mine = [s for s in samples if s["who"] == who]
        causes: dict[str, int] = {}
        for s in mine:
            cause = f"waits for {s['mode']} on {s['relation']}; the blocking backend runs: {s['blocked_by']}"
            causes[cause] = causes.get(cause, 0) + 1
        by_who[who] = {
            "samples": len(mine),
            "approx_ms": len(mine) * poll_s * 1000,
            "causes": [{"cause": c, "samples": n} for c, n in sorted(causes.items(), key=lambda kv: -kv[1])[:5]],
        }
    return by_who


def measure_blocking(
    inst: Instance, action: Callable[[LoadProbe], Any], workload: ProbeWorkload, settings: ProbeSettings | None = None
) -> tuple[Any, dict[str, Any]]:
    """Run action(probe) while the probe writes and reads; returns its result and what the probe saw.

    The test hook: an action that holds a known lock for a known time must come out as a stall that long.
    """
    probe = LoadProbe(inst, workload, settings or ProbeSettings())
    with probe, probe.mark("action"):
        result = action(probe)
    return result, probe.report()
