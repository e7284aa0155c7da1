"""The versioned results document of a run: one JSON file that reports, plots, the notebook and the gate read.

Its shape is declared once, as types, in bench.core.results_model; this module reads and writes the file,
upgrades older versions, and keeps run folders (a run is published only once its document is complete).

Format history (RESULTS_SCHEMA_VERSION; every older version still loads, through `upgrade`):
  1 - first version: environment, dataset, load, measurement settings, cases with samples and plan
      summaries, storage, verdicts, deviations, index sets, suite sections, extra.
  2 - the -k selection a run was narrowed to is `measurement.select` (it was `extra.select`); verdict words
      are checked against the vocabulary of bench.core.verdict_words.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.core.config import runs_dir_from_env
from bench.core.errors import HarnessError
from bench.core.results_model import ResultsDocument
from bench.core.typed_json import ShapeError, describe

RESULTS_SCHEMA_VERSION = 2
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


def upgrade(doc: dict[str, Any], source: str = "results document") -> dict[str, Any]:
    """A document of an older schema version rewritten as the current one (a new dict; the input is untouched)."""
    version = doc.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int):
        raise HarnessError(
            f"{source}: schema_version must be a whole number (1 to {RESULTS_SCHEMA_VERSION}), got "
            f"{describe(version)}: the file was not written by this harness, or was edited"
        )
    if version > RESULTS_SCHEMA_VERSION or version < 1:
        raise HarnessError(
            f"{source} has schema_version {version}; this harness reads versions 1 to {RESULTS_SCHEMA_VERSION}. "
            "Use the harness version that wrote it, or re-run the benchmark with this one."
        )
    out = dict(doc)
    if version == 1:  # 1 -> 2: the -k selection moves from the free-form `extra` into `measurement`
        extra = dict(out.get("extra") or {})
        measurement = dict(out.get("measurement") or {}) if isinstance(out.get("measurement"), dict) else {}
        measurement.setdefault("select", extra.pop("select", None))
        out["measurement"], out["extra"] = measurement, extra
        out["schema_version"] = 2
    return out


def read_document(doc: Any, source: str = "results document") -> ResultsDocument:
    """The typed results document from parsed JSON of any schema version this harness knows; a document
    that is not one gets one error naming the field a report, the gate or compare would trip over."""
    if not isinstance(doc, dict):
        raise HarnessError(
            f"{source} is not a results document (a JSON object with schema_version, cases, verdicts, ...), "
            f"it holds {describe(doc)}: point at the results.json a run wrote"
        )
    current = upgrade(doc, source)
    missing = [k for k in REQUIRED_KEYS if k not in current]
    if missing:
        raise HarnessError(f"{source} is incomplete (missing {', '.join(missing)}): was the run interrupted?")
    try:
        return ResultsDocument.from_json(current)
    except ShapeError as e:
        raise HarnessError(
            f"{source}: {e}; the document is damaged or was not written by this harness: "
            "re-run the benchmark (or restore the file)"
        ) from None


def validate(doc: Any, source: str = "results document") -> dict[str, Any]:
    """The document as the current schema version writes it (upgraded, checked against the model)."""
    return read_document(doc, source).to_json()


def write_results(doc: dict[str, Any] | ResultsDocument, run_dir: Path) -> Path:
    """Write the results document into run_dir; publish_run then makes the run visible."""
    typed = doc if isinstance(doc, ResultsDocument) else read_document(doc)
    if typed.schema_version != RESULTS_SCHEMA_VERSION:
        raise HarnessError(f"a new results document must have schema_version {RESULTS_SCHEMA_VERSION}")
    path = run_dir / RESULTS_FILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(typed.to_json(), indent=1, default=str))
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
    """A stored run as the current schema's JSON (upgraded and checked); load_document gives the typed one."""
    return load_document(run, base).to_json()


def load_document(run: str | Path | None = None, base: Path | None = None) -> ResultsDocument:
    """A stored run (folder, results file, run id or `latest`) read through the typed results model."""
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
    return read_document(doc, str(path))
