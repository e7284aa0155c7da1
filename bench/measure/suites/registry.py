"""Which suites exist: one plain dict, name -> (run function, one-line description)."""

from __future__ import annotations

from bench.measure.suites import (
    SuiteFunction,
    app,
    app_writes,
    compatibility,
    compression,
    concurrency,
    migration,
    scaling,
    sweep,
    write_cost,
)

SUITES: dict[str, tuple[SuiteFunction, str]] = {
    "compatibility": (
        compatibility.run,
        "backward compatibility: every query returns the same rows before and after",
    ),
    "write_cost": (write_cost.run, "ingest rate before vs after (batched INSERT and COPY) on scratch copies"),
    "migration": (
        migration.run,
        "migration safety: duration, blocked writes, idempotency, CONCURRENTLY alternatives",
    ),
    "compression": (compression.run, "TimescaleDB compression after 7 days: sizes, index overhead, query times"),
    "sweep": (sweep.run, "where the speedups hold: speedup curves over the shape of the data"),
    "scaling": (scaling.run, "promise speedups and storage at several dataset sizes (slow: reloads)"),
    "concurrency": (
        concurrency.run,
        "under load: pgbench readers in the application's mix and ingest, open/closed loop, before vs after",
    ),
    "app": (app.run, "the application's workload: devlog's reads as its ORM sends them, weighted by its pages"),
    "app_writes": (
        app_writes.run,
        "the application's writes with its schema and foreign keys: createMany batches of 100/1000 and create",
    ),
}
