"""The results document as types: a run, its environment, dataset, cases with their samples, storage, suite
sections and verdicts (with the VerdictWord enum), each a frozen dataclass.

This is the shape every consumer relies on - the gate, the reports, compare, the terminal summary and the
notebook - declared once. `ResultsDocument.from_json` reads a parsed document (after bench.core.results has
upgraded an older schema version) and names the first bad field; `to_json` writes the same JSON back. Fields
only one figure reads stay in each object's `other` mapping, so they survive a round trip without being
declared here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bench.core.typed_json import from_json, to_json
from bench.core.verdict_words import VerdictWord


@dataclass(frozen=True)
class Verdict:
    """One judged promise or control, ready for the run's JSON document and the report.

    `point`, `low` and `high` are speedups for speedup_range and control verdicts, and the metric itself
    for max verdicts. `bound` is the max for max verdicts and the control threshold for controls.
    """

    promise: str
    kind: str
    verdict: VerdictWord
    point: float | None
    low: float | None
    high: float | None
    expected_min: float | None
    expected_max: float | None
    bound: float | None
    gated: bool
    reason: str
    evidence: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Estimate:
    """A ratio (or any figure) with its confidence interval."""

    point: float
    low: float
    high: float
    other: dict[str, Any] = field(default_factory=dict)  # method, confidence, n_boot, n_params


@dataclass(frozen=True)
class RolePlan:
    """What EXPLAIN ANALYZE showed for one execution on one instance."""

    indexes_used: list[str]
    top_node: str | None = None
    scan_types: list[str] = field(default_factory=list)
    actual_rows: float | None = None
    planning_ms: float | None = None
    execution_ms: float | None = None
    expected_index: str | None = None
    uses_expected_index: bool | None = None
    other: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Latencies:
    before: list[float | None]
    after: list[float | None]


@dataclass(frozen=True)
class Errors:
    before: str | None
    after: str | None


@dataclass(frozen=True)
class Plans:
    before: RolePlan | None
    after: RolePlan | None


@dataclass(frozen=True)
class Sample:
    """One parameter slot of a case: per-round latencies on both instances, plans, errors."""

    label: str
    latencies_ms: Latencies
    errors: Errors
    plans: Plans
    summary: dict[str, dict[str, Any]] | None = None  # role -> median_ms, p95_ms, ...
    speedup: float | None = None
    matched_rows: float | None = None
    same_rows: bool | None = None
    sample: dict[str, Any] = field(default_factory=dict)  # the parameters: label, params, value
    other: dict[str, Any] = field(default_factory=dict)

    def median_ms(self, role: str) -> float | None:
        return ((self.summary or {}).get(role) or {}).get("median_ms")


@dataclass(frozen=True)
class PlanCheck:
    before_indexes_used: list[str] = field(default_factory=list)
    after_indexes_used: list[str] = field(default_factory=list)
    expected_index: str | None = None
    params_using_expected: int = 0
    params_planned: int = 0
    holds: bool | None = None


@dataclass(frozen=True)
class CaseResult:
    """A timed query case: its samples and the speedup estimate over them."""

    name: str
    kind: str
    samples: list[Sample]
    speedup: Estimate | None
    plan_check: PlanCheck
    promise: str | None = None
    failures: str | None = None
    unstable: list[str] = field(default_factory=list)
    same_rows: bool | None = None
    other: dict[str, Any] = field(default_factory=dict)  # sql_file, sql


@dataclass(frozen=True)
class InstanceStorage:
    heap_bytes: float
    toast_bytes: float
    indexes_bytes: dict[str, float]
    index_total_bytes: float
    total_bytes: float
    other: dict[str, Any] = field(default_factory=dict)  # bytes_per_event, method


@dataclass(frozen=True)
class Storage:
    before: InstanceStorage
    after: InstanceStorage
    storage_overhead_pct: float | None
    index_overhead_pct: float | None = None
    other: dict[str, Any] = field(default_factory=dict)  # added_bytes


@dataclass(frozen=True)
class EngineInfo:
    name: str
    label: str


@dataclass(frozen=True)
class Dataset:
    rows: int
    fingerprint: str
    spec: dict[str, Any] = field(default_factory=dict)
    other: dict[str, Any] = field(default_factory=dict)  # state, copy_s, engine, loaded_at, schema_hash, ...


@dataclass(frozen=True)
class Measurement:
    """How the cases were timed. `select` is the -k expression a run was deliberately narrowed to, or None."""

    seed: int | None = None
    cache_state: str | None = None
    select: str | None = None
    other: dict[str, Any] = field(default_factory=dict)  # warmup, rounds, budget, timeout


@dataclass(frozen=True)
class Environment:
    """Where the run ran; CHECKED_KEYS of bench.core.results decide whether two runs compare."""

    settings: dict[str, Any] | None = None
    instances: dict[str, dict[str, Any]] | None = None
    other: dict[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        if key in ("settings", "instances"):
            value = getattr(self, key)
            return default if value is None else value
        return self.other.get(key, default)


@dataclass(frozen=True)
class IndexSet:
    differences: list[Any] = field(default_factory=list)
    other: dict[str, Any] = field(default_factory=dict)  # indexes, expected, migration_changed


@dataclass(frozen=True)
class SuiteSection:
    """An extra suite's part of the run: its verdicts and records, or why it was skipped or failed."""

    name: str | None = None
    title: str | None = None
    skipped: str | None = None
    failed: str | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    records: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    duration_s: float | None = None
    other: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ResultsDocument:
    """One run, everything a report, the gate or compare needs."""

    schema_version: int
    run_id: str
    started_at: str
    environment: Environment
    engine: EngineInfo
    dataset: Dataset
    measurement: Measurement
    cases: list[CaseResult]
    storage: Storage
    verdicts: list[Verdict]
    deviations: list[str]
    index_sets: dict[str, IndexSet] | None
    finished_at: str | None = None
    duration_s: float | None = None
    load: dict[str, Any] | None = None
    targets: dict[str, Any] | None = None
    suites: dict[str, SuiteSection] | None = None
    extra: dict[str, Any] | None = None
    other: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, doc: Any) -> ResultsDocument:
        """Raises bench.core.typed_json.ShapeError naming the first field that is not as declared."""
        return from_json(cls, doc)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = to_json(self)
        return out

    def case(self, name: str) -> CaseResult | None:
        return next((c for c in self.cases if c.name == name), None)

    def suite(self, name: str) -> SuiteSection | None:
        return (self.suites or {}).get(name)

    def all_verdicts(self) -> list[tuple[str | None, Verdict]]:
        """Every verdict of the run with the suite it came from (None: the query suite)."""
        out: list[tuple[str | None, Verdict]] = [(None, v) for v in self.verdicts]
        for name, sec in (self.suites or {}).items():
            out += [(name, v) for v in sec.verdicts]
        return out
