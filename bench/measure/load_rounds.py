"""One round of load on one instance: pgbench readers and/or ingest, the server's counters, the CPU split.

A round starts pgbench (readers against the measured database, ingest against the instance's scratch copy,
side by side when both run), reads the server's counters before and after (bench.measure.server_evidence),
and the CPU time pgbench and the server used. The per-transaction logs are cut to the measured window (the
first `warmup_s` seconds of each run are discarded) and summarised per script; the raw latencies are kept in
memory for the pooled curves and the logs are deleted (pgbench's own closing report is kept beside them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.db.instances import Instance
from bench.judge.pgbench_log import latencies_us, read_logs, summarize_by_script
from bench.measure import server_evidence
from bench.measure.pgbench_run import Pgbench, PgbenchResult, PgbenchRun, run_together, server_cpu_s
from bench.measure.pgbench_scripts import Script

ROLES = ("before", "after")


@dataclass(frozen=True)
class Target:
    """Where one instance's load goes: reads to the measured database, writes to its scratch copy."""

    role: str
    readers: Instance
    ingest: Instance | None
    extensions: dict[str, dict[str, str | None]] = field(default_factory=dict)  # database -> unavailable reasons

    def postmaster_pid(self) -> int | None:
        # Read each time: a cold-cache restart gives the server a new pid.
        server = self.readers.server
        live = server.running_pid_port() if server is not None else None
        return live[0] if live else None


@dataclass(frozen=True)
class ReaderLoad:
    scripts: Sequence[Script]
    protocol: str
    clients: int
    threads: int
    rate: float | None
    latency_limit_ms: float | None


@dataclass(frozen=True)
class IngestLoad:
    scripts: Sequence[Script]
    clients: int
    rate: float  # batches per second (pgbench transactions)
    batch_rows: int
    protocol: str = "prepared"


@dataclass(frozen=True)
class Load:
    readers: ReaderLoad | None
    ingest: IngestLoad | None
    duration_s: int  # measured seconds
    warmup_s: int  # run before them, discarded
    sampling_rate: float = 1.0

    @property
    def run_s(self) -> int:
        return self.duration_s + self.warmup_s


@dataclass
class RoundData:
    record: dict[str, Any]
    latencies: dict[str, npt.NDArray[np.float64]]  # script name (and "all") -> latencies in microseconds


def abba(rounds: int) -> Iterator[tuple[int, str]]:
    """before, after; after, before; before, after; ...: each instance is as often first as second."""
    for number in range(rounds):
        for role in ROLES if number % 2 == 0 else ROLES[::-1]:
            yield number, role


def progress_interval(run_s: int) -> int:
    """About five `progress:` lines a run: enough to show it is alive, few enough to read."""
    return max(1, run_s // 5)


def _runs(target: Target, load: Load, log_dir: Path, label: str) -> list[tuple[PgbenchRun, Path]]:
    runs = []
    if load.readers is not None:
        r = load.readers
        reads = PgbenchRun(
            dsn=target.readers.dsn,
            scripts=[s.argument for s in r.scripts],
            protocol=r.protocol,
            clients=r.clients,
            threads=r.threads,
            duration_s=load.run_s,
            rate=r.rate,
            latency_limit_ms=r.latency_limit_ms,
            sampling_rate=load.sampling_rate,
            progress_s=progress_interval(load.run_s),
            label=f"{label} {target.role} readers",
        )
        runs.append((reads, log_dir / "readers"))
    if load.ingest is not None:
        assert target.ingest is not None
        i = load.ingest
        writes = PgbenchRun(
            dsn=target.ingest.dsn,
            scripts=[s.argument for s in i.scripts],
            protocol=i.protocol,
            clients=i.clients,
            threads=1,
            duration_s=load.run_s,
            rate=i.rate,
            sampling_rate=1.0,
            progress_s=progress_interval(load.run_s),
            label=f"{label} {target.role} ingest",
        )
        runs.append((writes, log_dir / "ingest"))
    return runs


def _parse(result: PgbenchResult, scripts: Sequence[Script], load: Load) -> tuple[dict[str, Any], dict[str, Any]]:
    log = read_logs(result.log_files, rate_limited=result.run.rate is not None)
    start = log.first_start_us + load.warmup_s * 1_000_000
    window = log.between(start, start + load.duration_s * 1_000_000)
    names = {number: s.name for number, s in enumerate(scripts)}
    summary = summarize_by_script(window, names, load.duration_s, result.run.sampling_rate, result.run.latency_limit_ms)
    latencies = {"all": latencies_us(window)} | {n: latencies_us(window, i) for i, n in names.items()}
    for path in result.log_files:
        path.unlink()
    return summary, latencies


def _snapshots(target: Target, load: Load) -> dict[str, Any]:
    shots = {"readers": server_evidence.snapshot(target.readers, target.extensions.get("readers", {}))}
    if load.ingest is not None and target.ingest is not None:
        shots["ingest"] = server_evidence.snapshot(target.ingest, target.extensions.get("ingest", {}))
    return shots


def run_round(pgbench: Pgbench, target: Target, load: Load, log_dir: Path, label: str, echo: bool) -> RoundData:
    first = _snapshots(target, load)
    pid = target.postmaster_pid()
    cpu_before = server_cpu_s(pid) if pid else None
    runs = _runs(target, load, log_dir, label)
    results = run_together(pgbench, runs, echo)
    second = _snapshots(target, load)
    cpu_after = server_cpu_s(pid) if pid and target.postmaster_pid() == pid else None
    record: dict[str, Any] = {
        "role": target.role,
        "pgbench": [r.to_dict() for r in results],
        "aborted": any(r.aborted for r in results),
        "evidence": {name: server_evidence.difference(first[name], second[name]) for name in second},
    }
    latencies: dict[str, npt.NDArray[np.float64]] = {}
    for result, (_, directory) in zip(results, runs, strict=True):
        (directory / "pgbench_report.txt").write_text(result.summary + "\n".join(result.stderr_tail[-10:]))
        if directory.name == "readers" and load.readers is not None:
            record["readers"], latencies = _parse(result, load.readers.scripts, load)
        elif load.ingest is not None:
            summary, _ = _parse(result, load.ingest.scripts, load)
            tps = summary["all"]["tps"] or 0.0
            record["ingest"] = {
                "offered_events_per_s": load.ingest.rate * load.ingest.batch_rows,
                "events_per_s": tps * load.ingest.batch_rows,
                "batches": summary["all"],
            }
    driver = sum(r.cpu_s for r in results)
    wall = max(r.wall_s for r in results)
    server = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
    record["cpu"] = {
        "wall_s": wall,
        "driver_cpu_s": driver,
        "server_cpu_s": server,
        "driver_share": driver / (driver + server) if server is not None and driver + server > 0 else None,
        "machine_busy": (driver + server) / (wall * (os.cpu_count() or 1)) if server is not None else None,
    }
    return RoundData(record, latencies)
