"""The versioned results document of a run: one JSON file that reports, plots, the notebook and the gate read.

Format history (RESULTS_SCHEMA_VERSION):
  1 - first version: environment, dataset, load, measurement settings, cases with samples and plan
      summaries, storage, verdicts, deviations, index sets.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.core.config import runs_dir_from_env
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


PARTIAL_SUFFIX = ".partial"


def new_run_dir(base: Path | None = None) -> Path:
    """A new run folder under a temporary, hidden name (.<run_id>.partial); publish_run gives it its own name.

    Until then neither `latest` nor a run id points at it, so an interrupted or failed run leaves nothing a
    report, the gate or compare would pick up (and the run removes it on the way out).
    """
    base = base if base is not None else runs_dir_from_env()
    run_id = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    candidate, suffix = run_id, 1
    while (base / candidate).exists() or (base / f".{candidate}{PARTIAL_SUFFIX}").exists():
        suffix += 1
        candidate = f"{run_id}-{suffix}"
    path = base / f".{candidate}{PARTIAL_SUFFIX}"
    (path / "cases").mkdir(parents=True)
    (path / "plans").mkdir()
    return path


def run_id_of(run_dir: Path) -> str:
    """The run id of a run folder, under its temporary name or its final one."""
    name = run_dir.name
    if name.startswith(".") and name.endswith(PARTIAL_SUFFIX):
        return name[1 : -len(PARTIAL_SUFFIX)]
    return name


def publish_run(run_dir: Path) -> Path:
    """Give a complete run folder its final name, then point `latest` at it; returns the final folder."""
    if not (run_dir / RESULTS_FILE).is_file():
        raise HarnessError(f"{run_dir} has no {RESULTS_FILE}: an incomplete run is never published")
    final = run_dir.parent / run_id_of(run_dir)
    if final != run_dir:
        run_dir.rename(final)
    latest = final.parent / "latest"
    pointer = final.parent / ".latest.tmp"
    pointer.unlink(missing_ok=True)
    pointer.symlink_to(final.name)
    os.replace(pointer, latest)  # `latest` always names a complete run, never a missing one
    return final


def discard_run(run_dir: Path) -> None:
    """Remove an unpublished run folder (never a published one)."""
    if run_dir.name.endswith(PARTIAL_SUFFIX):
        shutil.rmtree(run_dir, ignore_errors=True)


def validate(doc: Any, source: str = "results document") -> dict[str, Any]:
    """Refuse a document whose shape the reports, plots, gate and compare would trip over, naming the key."""
    if not isinstance(doc, dict):
        raise HarnessError(
            f"{source} is not a results document (a JSON object with schema_version, cases, verdicts, ...), "
            f"it holds {_json_type(doc)}: point at the results.json a run wrote"
        )
    version = doc.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise HarnessError(
            f"{source}: schema_version must be the number {RESULTS_SCHEMA_VERSION}, got {_json_type(version)}: "
            "the file was not written by this harness, or was edited"
        )
    if version != RESULTS_SCHEMA_VERSION:
        raise HarnessError(
            f"{source} has schema_version {version!r}; this harness reads version {RESULTS_SCHEMA_VERSION}. "
            "Re-run the benchmark with this version, or use the harness version that wrote it."
        )
    missing = [k for k in REQUIRED_KEYS if k not in doc]
    if missing:
        raise HarnessError(f"{source} is incomplete (missing {', '.join(missing)}): was the run interrupted?")
    problem = shape_problem(doc, DOCUMENT_SHAPE)
    if problem:
        raise HarnessError(
            f"{source}: {problem}; the document is damaged or was not written by this harness: "
            "re-run the benchmark (or restore the file)"
        )
    return doc


# --- the document's shape ------------------------------------------------------------------------------------
# What the report, plots, gate, compare and summary modules read, checked once on
# loading so a damaged file gets one error naming its key instead of a traceback from deep inside a figure.
# A key ending in "?" may be absent; Null(x) may be null; [x] is a list of x; Each(x) an object of x values.


@dataclass(frozen=True)
class Null:
    shape: Any


@dataclass(frozen=True)
class Each:
    shape: Any


NUMBER = "number"
STRING_LIST = [str]
ROLE_PLAN = Null(
    {
        "top_node?": str,
        "scan_types?": STRING_LIST,
        "indexes_used": STRING_LIST,
        "actual_rows?": Null(NUMBER),
        "planning_ms?": Null(NUMBER),
        "execution_ms?": Null(NUMBER),
        "expected_index?": Null(str),
        "uses_expected_index?": Null(bool),
    }
)
SAMPLE_SHAPE = {
    "label": str,
    "latencies_ms": {"before": [Null(NUMBER)], "after": [Null(NUMBER)]},
    "errors": {"before": Null(str), "after": Null(str)},
    "plans": {"before": ROLE_PLAN, "after": ROLE_PLAN},
    "summary?": {"before": {"median_ms?": Null(NUMBER)}, "after": {"median_ms?": Null(NUMBER)}},
    "speedup?": Null(NUMBER),
    "matched_rows?": Null(NUMBER),
    "same_rows?": Null(bool),
    "sample?": {"params?": dict},
}
ESTIMATE_SHAPE = {"point": NUMBER, "low": NUMBER, "high": NUMBER}
CASE_SHAPE = {
    "name": str,
    "kind": str,
    "promise?": Null(str),
    "samples": [SAMPLE_SHAPE],
    "speedup": Null(ESTIMATE_SHAPE),
    "plan_check": {
        "before_indexes_used?": STRING_LIST,
        "after_indexes_used?": STRING_LIST,
        "expected_index?": Null(str),
        "params_using_expected?": int,
        "params_planned?": int,
        "holds?": Null(bool),
    },
    "failures?": Null(str),
    "unstable?": STRING_LIST,
    "same_rows?": Null(bool),
}
VERDICT_SHAPE = {
    "promise": str,
    "kind": str,
    "verdict": str,
    "point": Null(NUMBER),
    "low": Null(NUMBER),
    "high": Null(NUMBER),
    "expected_min": Null(NUMBER),
    "expected_max": Null(NUMBER),
    "bound": Null(NUMBER),
    "gated": bool,
    "reason": str,
    "evidence": str,
}
INSTANCE_STORAGE = {
    "heap_bytes": NUMBER,
    "toast_bytes": NUMBER,
    "indexes_bytes": Each(NUMBER),
    "index_total_bytes": NUMBER,
    "total_bytes": NUMBER,
}
DOCUMENT_SHAPE = {
    "schema_version": int,
    "run_id": str,
    "started_at": str,
    "environment": {"settings?": Null(dict), "instances?": Null(Each(dict))},
    "engine": {"name": str, "label": str},
    "dataset": {"rows": int, "fingerprint": str, "spec?": dict},
    "measurement": {"seed?": int, "cache_state?": str},
    "targets?": {
        "promises?": [{"name": str, "kind": str, "cases?": STRING_LIST, "expected_min?": Null(NUMBER)}],
        "control_tolerance_pct?": NUMBER,
    },
    "cases": [CASE_SHAPE],
    "storage": {
        "before": INSTANCE_STORAGE,
        "after": INSTANCE_STORAGE,
        "storage_overhead_pct": Null(NUMBER),
        "index_overhead_pct?": Null(NUMBER),
    },
    "verdicts": [VERDICT_SHAPE],
    "deviations": [str],
    "index_sets": Null(Each({"differences?": list})),
    "suites?": Null(
        Each({"title?": Null(str), "skipped?": Null(str), "failed?": Null(str), "verdicts?": list, "records?": dict})
    ),
    "extra?": Null(dict),
}


def shape_problem(value: Any, shape: Any, where: str = "") -> str | None:
    """The first place where value does not have shape, as "<key> must be ..., got ...", or None."""
    if isinstance(shape, Null):
        return None if value is None else shape_problem(value, shape.shape, where)
    name = where or "the document"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{name} must be an object, got {_json_type(value)}"
        for key, sub in shape.items():
            optional, field = key.endswith("?"), key.rstrip("?")
            if field not in value:
                if optional:
                    continue
                return f"{_join(where, field)} is missing"
            problem = shape_problem(value[field], sub, _join(where, field))
            if problem:
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{name} must be a list, got {_json_type(value)}"
        for index, item in enumerate(value):
            problem = shape_problem(item, shape[0], f"{where}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(shape, Each):
        if not isinstance(value, dict):
            return f"{name} must be an object, got {_json_type(value)}"
        for key, item in value.items():
            problem = shape_problem(item, shape.shape, _join(where, key))
            if problem:
                return problem
        return None
    if _has_type(value, shape):
        return None
    return f"{name} must be {_SHAPE_NAMES.get(shape, getattr(shape, '__name__', str(shape)))}, got {_json_type(value)}"


_SHAPE_NAMES: dict[Any, str] = {
    NUMBER: "a number",
    str: "a string",
    int: "a whole number",
    bool: "true or false",
    dict: "an object",
    list: "a list",
}


def _has_type(value: Any, shape: Any) -> bool:
    if isinstance(value, bool):
        return shape is bool  # JSON true is not the number 1
    if shape == NUMBER:
        return isinstance(value, int | float)
    return isinstance(value, shape)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {json.dumps(value[:40])}"
    if isinstance(value, list):
        return "a list"
    return "an object"


def write_results(doc: dict[str, Any], run_dir: Path) -> Path:
    """Write the results document into run_dir; publish_run then makes the run visible."""
    validate(doc)
    path = run_dir / RESULTS_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, indent=1, default=str))
    os.replace(tmp, path)  # a half-written document is never left under the final name
    return path


def resolve_run(run: str | Path | None, base: Path | None = None) -> Path:
    """A run's results.json from a run folder, a results file, a run id, or `latest` (of base, by default the
    runs folder: PHASE2_BENCH_RUNS_DIR, else reports/runs of the working directory)."""
    base = base if base is not None else runs_dir_from_env()
    candidate = Path(run) if run else base / "latest"
    if not candidate.exists() and run and (base / str(run)).exists():
        candidate = base / str(run)
    if candidate.is_dir():
        candidate = candidate / RESULTS_FILE
    if not candidate.exists():
        hint = "run `make bench` first" if not run else f"look in {base} for run folders"
        raise HarnessError(f"no results document at {candidate}: {hint}")
    return candidate


def load_results(run: str | Path | None = None, base: Path | None = None) -> dict[str, Any]:
    path = resolve_run(run, base)
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise HarnessError(
            f"{path} is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}): it is not a results "
            "document; point at the results.json a run wrote"
        ) from None
    except OSError as e:
        raise HarnessError(f"cannot read {path}: {e.strerror}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise HarnessError(f"{path} is not valid JSON ({e}); it may have been cut short") from None
    return validate(doc, str(path))
