"""The server settings both instances run with, chosen deliberately and recorded in every result.

The docker-compose services use the same values (a test keeps them in step), so a figure measured on the
embedded engine and one measured on the compose engine differ in the engine, not in configuration.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    name: str
    value: str
    why: str


SERVER_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "shared_buffers",
        "1GB",
        "holds the hot indexes of the default 2M-row dataset; two instances share the 24 GiB machine",
    ),
    Setting("effective_cache_size", "8GB", "what the OS page cache can really hold for one instance"),
    Setting("work_mem", "64MB", "sorts and bitmaps of the aggregate and control cases stay in memory"),
    Setting(
        "maintenance_work_mem",
        "1GB",
        "index builds after the bulk load (the GIN index above all) do not spill",
    ),
    Setting(
        "random_page_cost",
        "1.1",
        "SSD storage; the default 4.0 models spinning disks and biases plans toward sequential scans",
    ),
    Setting(
        "max_parallel_workers_per_gather",
        "0",
        "2 cores are shared by the client and the server; parallel workers would add variance, not speed",
    ),
    Setting("max_parallel_maintenance_workers", "0", "index build times are comparable run to run"),
    Setting(
        "jit",
        "off",
        "JIT compilation costs milliseconds on short timeline queries and varies run to run; "
        "the application's OLTP queries should not pay it",
    ),
    Setting(
        "autovacuum",
        "off",
        "the harness runs VACUUM ANALYZE explicitly after each load, so statistics and the visibility map "
        "are identical on both instances and no background vacuum runs under a timed query",
    ),
    Setting("wal_level", "minimal", "bulk loads into a table created in the same transaction skip WAL"),
    Setting("max_wal_senders", "0", "required by wal_level=minimal"),
    Setting("max_wal_size", "8GB", "no forced checkpoint in the middle of a bulk load"),
    Setting("checkpoint_timeout", "30min", "no timed checkpoint in the middle of a measurement"),
    Setting("track_io_timing", "on", "EXPLAIN (BUFFERS) reports I/O time next to buffer counts"),
    Setting("default_statistics_target", "100", "PostgreSQL's default, stated so it is recorded"),
)

# Only for servers with TimescaleDB: no network here, and no background job may reorder chunks under a query.
TIMESCALEDB_SETTINGS: tuple[Setting, ...] = (
    Setting("shared_preload_libraries", "timescaledb", "TimescaleDB must be preloaded"),
    Setting("timescaledb.telemetry_level", "off", "no network access; telemetry would only log failures"),
)


def settings_dict(timescaledb: bool = False) -> dict[str, str]:
    chosen = SERVER_SETTINGS + (TIMESCALEDB_SETTINGS if timescaledb else ())
    return {s.name: s.value for s in chosen}


def render_conf(timescaledb: bool, port: int, socket_dir: str) -> str:
    """The include file an embedded server reads at start (postgresql.conf includes it)."""
    lines = ["# Written by phase2-bench at every start; edit bench/server_settings.py instead."]
    lines.append(f"port = {port}")
    lines.append("listen_addresses = '127.0.0.1'")
    lines.append(f"unix_socket_directories = '{socket_dir}'")
    for name, value in settings_dict(timescaledb).items():
        lines.append(f"{name} = '{value}'")
    return "\n".join(lines) + "\n"
