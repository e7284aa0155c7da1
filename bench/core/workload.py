"""An application's workload file (bench/workloads/*.toml): what each unit of use issues, and its access model.

A unit (one session page view, one dashboard load, one hour of an open dashboard) lists the application cases
it runs and how many times; an ingest unit (its cases are the writes of bench/queries/app_writes/, with
`batch_rows`) says what ingesting events issues; [page_views] splits page views between page units for the
headline figure;
[what_if] lists the cases no shipped page issues, with the reason; [access] holds the knobs of the parameter
draws; [run] the plan cache modes to measure. The file is checked on load, and every problem names the key and
how to fix it. docs/app-workload.md describes the model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from bench.core.config import PACKAGE_DIR
from bench.core.errors import HarnessError
from bench.core.toml_files import read_toml

WORKLOADS_DIR = PACKAGE_DIR / "workloads"
DEFAULT_WORKLOAD_PATH = WORKLOADS_DIR / "devlog.toml"
# The application's writes (bench.measure.suites.app_writes times them); an ingest unit counts only these.
WRITE_CASES_DIR = PACKAGE_DIR / "queries" / "app_writes"
MAX_BATCH_ROWS = 1000  # the batch route's zod .max(1000) and the collector's batchSize limit
WORKLOAD_SCHEMA = 1
PLAN_CACHE_MODES = ("auto", "force_generic_plan", "force_custom_plan")
MIX_TOLERANCE = 1e-6

_TOP_KEYS = frozenset(
    {"schema", "application", "commit", "run", "access", "units", "page_views", "what_if", "observed"}
)
_RUN_KEYS = frozenset({"plan_cache_modes"})
_UNIT_KEYS = frozenset({"title", "per", "source", "cases", "batch_rows"})
_OBSERVED_KEYS = frozenset({"source", "statements"})
_STATEMENT_KEYS = frozenset({"queryid", "case", "calls", "mean_exec_time_ms", "rows", "text"})
_PAGE_VIEW_KEYS = frozenset({"per", "mix", "reason"})


class WorkloadError(HarnessError, ValueError):
    """A workload file that cannot be used; the message names the file, the key and the fix."""


@dataclass(frozen=True)
class AccessModel:
    """How the parameters of the application's reads are drawn (docs/app-workload.md)."""

    samples: int = 8
    what_if_samples: int = 3
    recent_session_days: float = 1.0
    old_session_share: float = 0.25
    old_session_after_days: float = 7.0
    activity_window_days: float = 7.0
    dashboard_hours: tuple[float, float] = (8.0, 20.0)
    project_events_days: float = 7.0
    time_bucket_days: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "dashboard_hours": list(self.dashboard_hours)}


@dataclass(frozen=True)
class Unit:
    name: str
    title: str
    per: float  # the verdict's scale: database time per `per` units
    source: str
    cases: dict[str, float]  # case -> executions per unit
    batch_rows: int | None = None  # ingest units only: events per batch request the counts assume

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ObservedStatement:
    """One pg_stat_statements entry a profiled mix was taken from: aggregates and normalised text only."""

    queryid: int
    case: str  # the application case it matched, "" when none did
    calls: int
    mean_exec_time_ms: float
    rows: int
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Workload:
    path: Path
    application: str
    commit: str
    plan_cache_modes: tuple[str, ...]
    access: AccessModel
    units: tuple[Unit, ...]
    page_views_per: float
    page_view_mix: dict[str, float]  # page unit -> share of page views
    page_views_reason: str
    what_if: dict[str, str] = field(default_factory=dict)  # case -> why no shipped page issues it
    write_units: tuple[Unit, ...] = ()  # ingest units: their cases are writes, measured by the app_writes suite
    observed: tuple[ObservedStatement, ...] = ()
    observed_source: str = ""

    @property
    def headline_mode(self) -> str:
        return self.plan_cache_modes[0]

    def unit(self, name: str) -> Unit:
        return next(u for u in self.units if u.name == name)

    @property
    def weighted_cases(self) -> list[str]:
        return list(dict.fromkeys(c for u in self.units for c in u.cases))

    def page_view_weights(self) -> dict[str, float]:
        """Executions of each case per `page_views_per` page views."""
        weights: dict[str, float] = {}
        for unit_name, share in self.page_view_mix.items():
            for case, count in self.unit(unit_name).cases.items():
                weights[case] = weights.get(case, 0.0) + self.page_views_per * share * count
        return weights

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "application": self.application,
            "commit": self.commit,
            "plan_cache_modes": list(self.plan_cache_modes),
            "headline_mode": self.headline_mode,
            "access": self.access.to_dict(),
            "units": [u.to_dict() for u in self.units],
            "page_views": {"per": self.page_views_per, "mix": self.page_view_mix, "reason": self.page_views_reason},
            "what_if": self.what_if,
            "write_units": [u.to_dict() for u in self.write_units],
            "observed": {"source": self.observed_source, "statements": [o.to_dict() for o in self.observed]},
        }


def write_case_names() -> list[str]:
    return sorted(p.stem for p in WRITE_CASES_DIR.glob("*.sql"))


def load_workload(path: Path | None, known_cases: Iterable[str], write_cases: Iterable[str] | None = None) -> Workload:
    """Read and check a workload file against the application cases that exist (bench/queries/app/, and the
    writes of bench/queries/app_writes/ unless `write_cases` names them)."""
    path = DEFAULT_WORKLOAD_PATH if path is None else Path(path)
    document = read_toml(path, "workload", DEFAULT_WORKLOAD_PATH, WorkloadError)
    writes = write_case_names() if write_cases is None else list(write_cases)
    return parse_workload(document, path, list(known_cases), writes)


def parse_workload(
    document: Mapping[str, Any], path: Path, known_cases: list[str], write_cases: list[str] | None = None
) -> Workload:
    _reject_unknown(document, _TOP_KEYS, "", path)
    if document.get("schema") != WORKLOAD_SCHEMA:
        found = "is missing" if "schema" not in document else f"is {document['schema']!r}"
        _fail(path, "schema", found, f"this version reads `schema = {WORKLOAD_SCHEMA}`")
    application = _text(document, "application", "", path)
    commit = _text(document, "commit", "", path)
    modes = _plan_cache_modes(_table(document, "run", "", path, required=False), path)
    access = _access(_table(document, "access", "", path, required=False), path)
    units_table = _table(document, "units", "", path)
    if not units_table:
        _fail(path, "units", "is empty", "add at least one unit, e.g. [units.session_page_view]")
    writes = write_case_names() if write_cases is None else write_cases
    every_unit = [_unit(name, table, path, known_cases, writes) for name, table in units_table.items()]
    units = tuple(u for u in every_unit if u.batch_rows is None)
    write_units = tuple(u for u in every_unit if u.batch_rows is not None)
    if not units:
        _fail(path, "units", "has no unit of reads", "add at least one, e.g. [units.session_page_view]")
    what_if = _what_if(_table(document, "what_if", "", path, required=False), path, [*known_cases, *writes])
    per, mix, reason = _page_views(_table(document, "page_views", "", path), path, [u.name for u in units])
    observed, observed_source = _observed(
        _table(document, "observed", "", path, required=False), path, [*known_cases, *writes]
    )
    weighted = {c for u in every_unit for c in u.cases}
    both = sorted(weighted & set(what_if))
    if both:
        _fail(path, f"what_if.{both[0]}", "is also counted in a unit", "a case is either weighted or a what-if")
    unplaced = [c for c in known_cases if c not in weighted and c not in what_if]
    if unplaced:
        _fail(
            path,
            "units / what_if",
            f"leave out the application case(s) {', '.join(unplaced)}",
            "count each in a unit's cases, or list it under [what_if] with the reason no page issues it",
        )
    return Workload(
        path,
        application,
        commit,
        modes,
        access,
        units,
        per,
        mix,
        reason,
        what_if,
        write_units,
        observed,
        observed_source,
    )


def _plan_cache_modes(table: Mapping[str, Any], path: Path) -> tuple[str, ...]:
    _reject_unknown(table, _RUN_KEYS, "run", path)
    modes = table.get("plan_cache_modes", list(PLAN_CACHE_MODES))
    if not isinstance(modes, list) or not modes or any(m not in PLAN_CACHE_MODES for m in modes):
        _fail(
            path,
            "run.plan_cache_modes",
            f"is {modes!r}",
            f"list some of {list(PLAN_CACHE_MODES)}, the first is the headline",
        )
    if len(set(modes)) != len(modes):
        _fail(path, "run.plan_cache_modes", f"repeats a mode in {modes!r}", "list each mode once")
    return tuple(modes)


def _access(table: Mapping[str, Any], path: Path) -> AccessModel:
    defaults = AccessModel()
    _reject_unknown(table, frozenset(asdict(defaults)), "access", path)
    values: dict[str, Any] = {}
    for key, default in asdict(defaults).items():
        if key not in table:
            continue
        where = f"access.{key}"
        value = table[key]
        if isinstance(default, int) and not isinstance(default, bool):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                _fail(path, where, f"is {value!r}", f"give a whole number of at least 1, e.g. {key} = {default}")
        elif isinstance(default, tuple):
            if (
                not isinstance(value, list)
                or len(value) != 2
                or not all(_is_number(v) for v in value)
                or not 0 <= value[0] <= value[1] <= 24
            ):
                _fail(path, where, f"is {value!r}", "give [first, last] hours between 0 and 24, e.g. [8.0, 20.0]")
            value = (float(value[0]), float(value[1]))
        else:
            if not _is_number(value) or value < 0:
                _fail(path, where, f"is {value!r}", f"give a number >= 0, e.g. {key} = {default}")
            if key == "old_session_share" and value > 1:
                _fail(path, where, f"is {value!r}", "give a share between 0 and 1")
            value = float(value)
        values[key] = value
    return AccessModel(**values)


def _unit(name: str, table: Any, path: Path, known_cases: list[str], write_cases: list[str]) -> Unit:
    where = f"units.{name}"
    if not isinstance(table, Mapping):
        _fail(path, where, "is not a table", f"write [{where}] with title, per, source and cases")
    _reject_unknown(table, _UNIT_KEYS, where, path)
    cases = _table(table, "cases", where, path)
    if not cases:
        _fail(path, f"{where}.cases", "is empty", "list the cases one unit issues, e.g. { app_session_events = 1 }")
    counts = {}
    for case, count in cases.items():
        if case not in known_cases and case not in write_cases:
            _fail(
                path,
                f"{where}.cases.{case}",
                "is not an application case",
                f"use a file name of bench/queries/app/ or app_writes/ without .sql: "
                f"{', '.join([*known_cases, *write_cases])}",
            )
        if not _is_number(count) or count <= 0:
            _fail(path, f"{where}.cases.{case}", f"is {count!r}", "give the executions per unit, a number > 0")
        counts[case] = float(count)
    writes = [c for c in cases if c in write_cases]
    if writes and len(writes) != len(cases):
        _fail(
            path,
            f"{where}.cases",
            f"mixes writes ({', '.join(writes)}) with reads",
            "put the writes in an ingest unit of their own, with batch_rows",
        )
    return Unit(
        name,
        _text(table, "title", where, path),
        _positive(table, "per", where, path),
        _text(table, "source", where, path),
        counts,
        _batch_rows(table, where, path, bool(writes)),
    )


def _batch_rows(table: Mapping[str, Any], where: str, path: Path, ingest: bool) -> int | None:
    value = table.get("batch_rows")
    if not ingest:
        if value is not None:
            _fail(path, f"{where}.batch_rows", "is set on a unit of reads", "only an ingest unit has batch_rows")
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= MAX_BATCH_ROWS:
        _fail(
            path,
            f"{where}.batch_rows",
            f"is {value!r}",
            f"give the events per batch request of this ingest unit, 1 to {MAX_BATCH_ROWS}, e.g. batch_rows = 100",
        )
    return int(value)


def _observed(
    table: Mapping[str, Any], path: Path, known_cases: list[str]
) -> tuple[tuple[ObservedStatement, ...], str]:
    if not table:
        return (), ""
    _reject_unknown(table, _OBSERVED_KEYS, "observed", path)
    source = _text(table, "source", "observed", path)
    entries = table.get("statements", [])
    if not isinstance(entries, list):
        _fail(path, "observed.statements", "is not a list", "write each as [[observed.statements]]")
    statements = []
    for i, entry in enumerate(entries):
        where = f"observed.statements[{i}]"
        if not isinstance(entry, Mapping):
            _fail(path, where, "is not a table", "write each as [[observed.statements]]")
        _reject_unknown(entry, _STATEMENT_KEYS, where, path)
        case = entry.get("case", "")
        if not isinstance(case, str) or (case and case not in known_cases):
            _fail(path, f"{where}.case", f"is {case!r}", f'use "" or one of {", ".join(known_cases)}')
        numbers = {}
        for key in ("queryid", "calls", "rows"):
            value = entry.get(key)
            if not isinstance(value, int) or isinstance(value, bool) or (key != "queryid" and value < 0):
                _fail(path, f"{where}.{key}", f"is {value!r}", "give a whole number (>= 0 for calls and rows)")
            numbers[key] = int(value)
        mean: Any = entry.get("mean_exec_time_ms")
        if not _is_number(mean) or mean < 0:
            _fail(path, f"{where}.mean_exec_time_ms", f"is {mean!r}", "give a number of milliseconds >= 0")
        text = entry.get("text")
        if not isinstance(text, str):
            _fail(path, f"{where}.text", "is missing", 'write text = "the normalised statement"')
        statements.append(
            ObservedStatement(numbers["queryid"], case, numbers["calls"], float(mean), numbers["rows"], text)
        )
    return tuple(statements), source


def _what_if(table: Mapping[str, Any], path: Path, known_cases: list[str]) -> dict[str, str]:
    reasons = {}
    for case, reason in table.items():
        if case not in known_cases:
            _fail(path, f"what_if.{case}", "is not an application case", f"use one of {', '.join(known_cases)}")
        if not isinstance(reason, str) or not reason.strip():
            _fail(path, f"what_if.{case}", "has no reason", f'write {case} = "why no shipped page issues it"')
        reasons[case] = reason.strip()
    return reasons


def _page_views(table: Mapping[str, Any], path: Path, units: list[str]) -> tuple[float, dict[str, float], str]:
    _reject_unknown(table, _PAGE_VIEW_KEYS, "page_views", path)
    mix = _table(table, "mix", "page_views", path)
    shares = {}
    for unit, share in mix.items():
        if unit not in units:
            _fail(path, f"page_views.mix.{unit}", "is not a unit", f"use one of {', '.join(units)}")
        if not _is_number(share) or share < 0:
            _fail(path, f"page_views.mix.{unit}", f"is {share!r}", "give a share between 0 and 1")
        shares[unit] = float(share)
    if not math.isclose(sum(shares.values()), 1.0, abs_tol=MIX_TOLERANCE):
        _fail(
            path, "page_views.mix", f"adds up to {sum(shares.values()):g}", "make the shares of page views add up to 1"
        )
    return _positive(table, "per", "page_views", path), shares, _text(table, "reason", "page_views", path)


def _table(table: Mapping[str, Any], key: str, where: str, path: Path, required: bool = True) -> Mapping[str, Any]:
    if key not in table:
        if required:
            _fail(path, _join(where, key), "is missing", f"add [{_join(where, key)}]")
        return {}
    value = table[key]
    if not isinstance(value, Mapping):
        _fail(
            path, _join(where, key), f"is {value!r}, not a table", f"write [{_join(where, key)}] or {key} = {{ ... }}"
        )
    return value


def _text(table: Mapping[str, Any], key: str, where: str, path: Path) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value.strip():
        _fail(path, _join(where, key), "is missing or empty", f'write {key} = "..."')
    return value.strip()


def _positive(table: Mapping[str, Any], key: str, where: str, path: Path) -> float:
    value: Any = table.get(key)
    if not _is_number(value) or value <= 0:
        _fail(path, _join(where, key), f"is {value!r}", f"give a number > 0, e.g. {key} = 1000")
    return float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _reject_unknown(table: Mapping[str, Any], allowed: frozenset[str], where: str, path: Path) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        _fail(path, _join(where, unknown[0]), "is not a known key", f"use one of {', '.join(sorted(allowed))}")


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _fail(path: Path, key: str, problem: str, fix: str) -> NoReturn:
    raise WorkloadError(f"{path}: {key} {problem}; {fix}")
