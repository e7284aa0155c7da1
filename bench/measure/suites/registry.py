"""Which suites exist: importing this module registers them (their code is imported only when they run)."""

from bench.measure.suites import register

register("compatibility", "compatibility", "backward compatibility: every query returns the same rows before and after")
register("write_cost", "write_cost", "ingest rate before vs after (batched INSERT and COPY) on scratch copies")
register("migration", "migration", "migration safety: duration, blocked writes, idempotency, CONCURRENTLY alternatives")
register("compression", "compression", "TimescaleDB compression after 7 days: sizes, index overhead, query times")
register("sweep", "sweep", "where the speedups hold: speedup curves over the shape of the data")
register("scaling", "scaling", "promise speedups and storage at several dataset sizes (slow: reloads)")
