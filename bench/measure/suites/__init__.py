"""Suites beyond the query timings (write cost, migration safety, compression, sweeps, scaling).

Each suite is a function `run(ctx: SuiteContext) -> dict`, listed in bench.measure.suites.registry.SUITES. It
returns a JSON-safe section that lands in the results document as doc["suites"][name]:

    {"name": ..., "title": ..., "skipped": None | "reason", "verdicts": [Verdict.to_dict(), ...],
     "records": {...whatever the suite measured...}, "notes": [...]}

Rules every suite follows: it never changes the measured agent_events table or its dataset (it works on
scratch tables or scratch databases it creates, marked, and drops them again), a failed measurement is
recorded as a failure, and a suite that cannot run on this engine returns skipped with the reason.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.core.config import HarnessConfig
from bench.db.instances import InstancePair
from bench.judge.verdicts import Targets, Verdict
from bench.measure.timing import MeasureSettings


@dataclass(frozen=True)
class LoadOptions:
    """--duration, --clients, --rate and --ingest-rate for the suites that drive load (None: the suite's default)."""

    duration_s: int | None = None
    clients: int | None = None
    rate: float | None = None
    ingest_rate: float | None = None


@dataclass(frozen=True)
class SuiteContext:
    config: HarnessConfig
    pair: InstancePair
    dataset: dict[str, Any]  # the loaded dataset's meta (fingerprint, rows, spec, ...)
    settings: MeasureSettings
    targets: Targets
    run_dir: Path
    progress: bool = True
    workload: Path | None = None  # the application's workload file (--workload); None: bench/workloads/devlog.toml
    load: LoadOptions | None = None


SuiteFunction = Callable[[SuiteContext], dict[str, Any]]


def reduced_settings(base: MeasureSettings) -> MeasureSettings:
    """Fewer executions per point than the query suite (suites time many more points); its settings stay the cap."""
    return dataclasses.replace(
        base,
        warmup=min(base.warmup, 2),
        min_rounds=min(base.min_rounds, 5),
        max_rounds=min(base.max_rounds, 15),
        budget_s=min(base.budget_s, 0.3),
    )


def section(
    name: str,
    title: str,
    verdicts: Sequence[Verdict] = (),
    records: dict[str, Any] | None = None,
    notes: Sequence[str] = (),
    skipped: str | None = None,
    failed: str | None = None,
) -> dict[str, Any]:
    """A suite's section of the results document: the one place its keys are spelled."""
    out: dict[str, Any] = {
        "name": name,
        "title": title,
        "skipped": skipped,
        "verdicts": [v.to_dict() for v in verdicts],
        "records": records or {},
        "notes": list(notes),
    }
    if failed is not None:
        out["failed"] = failed
    return out


def skipped(name: str, title: str, reason: str) -> dict[str, Any]:
    return section(name, title, skipped=reason)
