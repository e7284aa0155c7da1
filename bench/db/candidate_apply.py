"""Applying a candidate migration file to an instance: in one transaction, or one statement per transaction.

A file marked `-- transaction: none` runs as `psql -f` would run it: autocommit, each statement on its own, and
each cell a `\\gexec` query returns run as a statement of its own (how the non-blocking files reach every
partition). Otherwise the whole file runs in one transaction, so a failure leaves the instance as it was.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg

from bench.core.candidates import Candidate, Step
from bench.core.errors import HarnessError


class CandidateError(HarnessError):
    """A statement of a candidate migration failed."""


def generated_statements(conn: psycopg.Connection[Any], step: Step) -> list[str]:
    """A `\\gexec` step's statements: every non-NULL cell its query returns, in order (psql's \\gexec)."""
    return [cell for row in conn.execute(step.sql).fetchall() for cell in row if cell is not None]


def _run(conn: psycopg.Connection[Any], candidate: Candidate, position: int, step: Step) -> int:
    """Runs one step; returns how many statements it ran (a generator runs what it returned)."""
    try:
        if not step.generator:
            conn.execute(step.sql)
            return 1
        generated = generated_statements(conn, step)
        for statement in generated:
            conn.execute(statement)
        return len(generated)
    except psycopg.Error as e:
        where = "rolled back" if candidate.one_transaction else "statements before it stay applied"
        raise CandidateError(
            f"candidate {candidate.name}: statement {position} failed ({str(e).strip()}); {where}. "
            f"Statement: {step.sql[:200]}"
        ) from e


def apply_candidate(conn: psycopg.Connection[Any], candidate: Candidate) -> dict[str, Any]:
    """Applies it on an autocommit connection; returns how many statements ran and how long it took."""
    if not conn.autocommit:
        raise HarnessError("apply_candidate needs an autocommit connection (Instance.connect() gives one)")
    started = time.perf_counter()
    ran = 0
    if candidate.one_transaction:
        with conn.transaction():
            for position, step in enumerate(candidate.steps, start=1):
                ran += _run(conn, candidate, position, step)
    else:
        for position, step in enumerate(candidate.steps, start=1):
            ran += _run(conn, candidate, position, step)
    return {"candidate": candidate.name, "statements": ran, "seconds": time.perf_counter() - started}
