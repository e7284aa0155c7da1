"""The versioned results document of a run: one JSON file that reports, plots, the notebook and the gate read.

Format history (RESULTS_SCHEMA_VERSION):
  1 - first version: environment, dataset, load, measurement settings, cases with samples and plan
      summaries, storage, verdicts, deviations, index sets.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.core.config import RUNS_DIR
from bench.core.errors import HarnessError

RESULTS_SCHEMA_VERSION = 1
RESULTS_FILE = "results.json"
# Two runs that differ in any of these environment keys are not comparable (pyperf's _CHECKED_METADATA idea).
CHECKED_KEYS = ("engine", "postgres_version", "timescaledb_version", "cpu_model", "settings")
REQUIRED_KEYS = (
    "schema_version",
    "run_id",
    "started_at",
    "environment",
    "dataset",
    "measurement",
    "cases",
    "storage",
    "verdicts",
    "deviations",
    "index_sets",
)


def new_run_dir(base: Path = RUNS_DIR) -> Path:
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = base / run_id
    suffix = 1
    while path.exists():
        suffix += 1
        path = base / f"{run_id}-{suffix}"
    (path / "cases").mkdir(parents=True)
    (path / "plans").mkdir()
    return path


def validate(doc: dict[str, Any], source: str = "results document") -> dict[str, Any]:
    version = doc.get("schema_version")
    if version != RESULTS_SCHEMA_VERSION:
        raise HarnessError(
            f"{source} has schema_version {version!r}; this harness reads version {RESULTS_SCHEMA_VERSION}. "
            "Re-run the benchmark with this version, or use the harness version that wrote it."
        )
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise HarnessError(f"{source} is incomplete (missing {', '.join(missing)}): was the run interrupted?")
    for case in doc["cases"]:
        for key in ("name", "kind", "samples", "speedup", "plan_check"):
            if key not in case:
                raise HarnessError(f"{source}: case {case.get('name')!r} lacks {key!r}")
    return doc


def write_results(doc: dict[str, Any], run_dir: Path) -> Path:
    validate(doc)
    path = run_dir / RESULTS_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str))
    os.replace(tmp, path)  # a half-written document is never left under the final name
    latest = run_dir.parent / "latest"
    if latest.is_symlink() or latest.exists():
        latest.unlink()
    latest.symlink_to(run_dir.name)
    return path


def resolve_run(run: str | Path | None, base: Path = RUNS_DIR) -> Path:
    """A run's results.json from a run folder, a results file, a run id, or `latest`."""
    candidate = Path(run) if run else base / "latest"
    if not candidate.exists() and run and (base / str(run)).exists():
        candidate = base / str(run)
    if candidate.is_dir():
        candidate = candidate / RESULTS_FILE
    if not candidate.exists():
        hint = "run `make bench` first" if not run else f"look in {base} for run folders"
        raise HarnessError(f"no results document at {candidate}: {hint}")
    return candidate


def load_results(run: str | Path | None = None, base: Path = RUNS_DIR) -> dict[str, Any]:
    path = resolve_run(run, base)
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise HarnessError(f"{path} is not valid JSON ({e}); it may have been cut short") from None
    return validate(doc, str(path))
