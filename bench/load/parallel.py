"""Per-instance jobs run side by side (each server works on its own core), with their running statements
cancelled on an interrupt or on another job's failure, so no job goes on to record its work as complete."""

from __future__ import annotations

import concurrent.futures
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg

from bench.db.instances import Instance


class Cancelled(Exception):
    """A run_parallel job stopped because the caller was interrupted or another job failed."""


class StatementCanceller:
    """The connections run_parallel's jobs work on, so an interrupt cancels their running statements (an index
    build can take minutes) instead of waiting for every remaining one, and no job starts another."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()
        self._conns: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connect(self, inst: Instance) -> Iterator[psycopg.Connection[Any]]:
        with inst.connect() as conn:
            with self._lock:
                self._conns.append(conn)
            try:
                self.check()
                yield conn
            finally:
                with self._lock:
                    self._conns.remove(conn)

    def check(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled("cancelled: the run was interrupted or another instance failed")

    def cancel(self) -> None:
        self.cancelled.set()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(psycopg.Error):
                conn.cancel()


def run_parallel(jobs: list[Callable[[StatementCanceller], None]]) -> None:
    """Run per-instance jobs concurrently (each server works on its own core) and re-raise the first error.

    On an interrupt (or a job's failure) the other jobs' statements are cancelled and the error re-raised as
    soon as they have stopped, so no job goes on to record its work as complete.
    """
    canceller = StatementCanceller()
    pool = ThreadPoolExecutor(max_workers=len(jobs))
    futures = [pool.submit(job, canceller) for job in jobs]
    try:
        for future in futures:
            future.result()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        while not all(f.done() for f in futures):
            canceller.cancel()  # again each round: a job may have been between two statements
            concurrent.futures.wait(futures, timeout=0.5)
        raise
    finally:
        pool.shutdown(wait=True)
