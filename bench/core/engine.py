"""How agent_events is partitioned: a TimescaleDB hypertable or native daily partitions (labelled in every result)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.core.errors import HarnessError


@dataclass(frozen=True)
class Engine:
    """How agent_events is partitioned on these instances; its label goes into every result."""

    name: str  # "timescaledb" or "postgres"
    label: str

    @property
    def is_timescaledb(self) -> bool:
        return self.name == "timescaledb"


TIMESCALEDB = Engine("timescaledb", "TimescaleDB hypertable (1-day chunks)")
PARTITIONS_NOT_INSTALLED = Engine("postgres", "PostgreSQL partitions (TimescaleDB not installed)")
PARTITIONS_CHOSEN = Engine("postgres", "PostgreSQL partitions (chosen with --engine postgres)")


def resolve_engine(requested: str, timescaledb_available: bool, where: str) -> Engine:
    if requested == "timescaledb":
        if not timescaledb_available:
            raise HarnessError(
                f"--engine timescaledb was asked for, but TimescaleDB is not installed for {where}. Install the "
                "extension for this PostgreSQL (or use the docker-compose services, which ship it), or run with "
                "--engine auto / postgres to use native daily partitions."
            )
        return TIMESCALEDB
    if requested == "postgres":
        return PARTITIONS_CHOSEN if timescaledb_available else PARTITIONS_NOT_INSTALLED
    return TIMESCALEDB if timescaledb_available else PARTITIONS_NOT_INSTALLED
