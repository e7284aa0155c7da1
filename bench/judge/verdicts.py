"""The design document's promises (bench/targets.toml) and the verdicts measured intervals earn against them.

Every judgement reads an interval, not a point: a verdict is only as firm as the interval allows, and an
interval that crosses a bound is "inconclusive" rather than rounded to whichever side the point fell on.
A missing interval means the measurement failed (a failed or timed-out execution), and is judged "failed",
never as a speed. Bounds belong to the target: [2.0, 5.0] is "within" 2-5x and [25, 25] meets "max 25",
while [1.5, 2.0] is "inconclusive", not "below", because 2.0x is still possible.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, NoReturn

from bench.core.cases import load_cases
from bench.core.config import PACKAGE_DIR
from bench.core.errors import HarnessError
from bench.core.formatting import number, ratio
from bench.core.results_model import Verdict
from bench.core.toml_files import read_toml
from bench.core.verdict_words import VerdictWord
from bench.judge.stats import SpeedupEstimate

DEFAULT_TARGETS_PATH = PACKAGE_DIR / "targets.toml"
TARGETS_SCHEMA = 1

PromiseKind = Literal["speedup_range", "max"]

_TOP_LEVEL_KEYS = frozenset({"schema", "promises", "controls", "gate", "candidates"})
_CANDIDATES_KEYS = frozenset({"write_slowdown_max_pct"})
_COMMON_PROMISE_KEYS = frozenset({"kind", "gated", "reason", "source"})
_PROMISE_KEYS: dict[str, frozenset[str]] = {
    "speedup_range": _COMMON_PROMISE_KEYS | {"cases", "expected_min", "expected_max"},
    "max": _COMMON_PROMISE_KEYS | {"metric", "max"},
}
_CONTROL_KEYS = frozenset({"tolerance_pct", "gated", "reason"})
_GATE_KEYS = frozenset({"plan_assertions", "baseline_tolerance_pct", "speedups_from_rows"})
DEFAULT_BASELINE_TOLERANCE_PCT = 15.0
# What a "max" promise can bound: the figures of bench/storage.py storage_comparison that analysis.judge reads.
MAX_METRICS = ("storage_overhead_pct", "index_overhead_pct", "added_bytes")
# Shown in error messages so the fix can be copied.
_EXAMPLES = {
    "kind": 'kind = "speedup_range"',
    "cases": 'cases = ["session_timeline"]',
    "expected_min": "expected_min = 2.0",
    "expected_max": "expected_max = 5.0",
    "metric": 'metric = "storage_overhead_pct"',
    "max": "max = 25.0",
    "gated": "gated = true",
    "reason": 'reason = "why this promise is reported but not gated"',
    "source": 'source = "PHASE2_IMPLEMENTATION.md: ..."',
    "tolerance_pct": "tolerance_pct = 10.0",
    "plan_assertions": "plan_assertions = true",
    "baseline_tolerance_pct": "baseline_tolerance_pct = 15.0",
    "schema": f"schema = {TARGETS_SCHEMA}",
}


class TargetsError(HarnessError, ValueError):
    """A targets file that cannot be used; the message names the file, the key, and how to fix it."""


@dataclass(frozen=True)
class Promise:
    """One promise of the design document, as written in the targets file.

    A "speedup_range" promise uses `cases`, `expected_min` and `expected_max`; a "max" promise uses
    `metric` and `max`. The fields of the other kind are empty (None or ()).
    """

    name: str
    kind: PromiseKind
    cases: tuple[str, ...]
    expected_min: float | None
    expected_max: float | None
    max: float | None
    metric: str | None
    gated: bool
    reason: str
    source: str

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "cases": list(self.cases)}


@dataclass(frozen=True)
class Targets:
    promises: tuple[Promise, ...]
    control_tolerance_pct: float
    controls_gated: bool
    path: Path
    controls_reason: str = ""
    # [gate]: whether a promise case whose after plan skips its index fails the gate, and how far a ratio
    # may fall behind a baseline run before it does (bench/gate.py).
    plan_assertions: bool = True
    baseline_tolerance_pct: float = DEFAULT_BASELINE_TOLERANCE_PCT
    # Below this many rows the speedup promises are reported, not gated: a small dataset cannot show them.
    speedups_from_rows: int | None = None
    # [candidates]: how much slower the application's ingest may get for `python -m bench candidates` to
    # recommend a migration (None: no write budget).
    write_slowdown_max_pct: float | None = None

    def promise(self, name: str) -> Promise:
        for promise in self.promises:
            if promise.name == name:
                return promise
        raise KeyError(f"no promise named {name!r} in {self.path}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": TARGETS_SCHEMA,
            "path": str(self.path),
            "promises": [promise.to_dict() for promise in self.promises],
            "control_tolerance_pct": self.control_tolerance_pct,
            "controls_gated": self.controls_gated,
            "controls_reason": self.controls_reason,
            "gate": {
                "plan_assertions": self.plan_assertions,
                "baseline_tolerance_pct": self.baseline_tolerance_pct,
                "speedups_from_rows": self.speedups_from_rows,
            },
        }


def load_targets(path: Path | None = None, known_cases: Collection[str] | None = None) -> Targets:
    """Read and check a targets file; the packaged bench/targets.toml when no path is given.

    Promises may only name the query cases of bench/queries (or `known_cases`) and the metrics in MAX_METRICS,
    so a typo is refused before a run rather than judged "not measured" after it.
    """
    path = DEFAULT_TARGETS_PATH if path is None else Path(path)
    document = read_toml(path, "targets", DEFAULT_TARGETS_PATH, TargetsError)
    targets = _parse_targets(document, path)
    cases = sorted(known_cases if known_cases is not None else (c.name for c in load_cases()))
    for promise in targets.promises:
        where = f"promises.{promise.name}"
        unknown = [name for name in promise.cases if name not in cases]
        if unknown:
            _fail(
                path,
                f"{where}.cases",
                f"names an unknown case {unknown[0]!r}",
                f"choose from {', '.join(cases)} (the .sql files in bench/queries)",
            )
        if promise.metric is not None and promise.metric not in MAX_METRICS:
            _fail(
                path,
                f"{where}.metric",
                f"is not a known metric ({promise.metric!r})",
                f"choose from {', '.join(MAX_METRICS)}",
            )
    return targets


def _parse_targets(document: Mapping[str, Any], path: Path) -> Targets:
    _reject_unknown_keys(document, _TOP_LEVEL_KEYS, "", path)
    schema = _require(document, "schema", "", path)
    if schema != TARGETS_SCHEMA or isinstance(schema, bool):
        _fail(path, "schema", f"unsupported schema {schema!r}", f"this version reads {_EXAMPLES['schema']}")
    promise_tables = _require(document, "promises", "", path)
    if not isinstance(promise_tables, dict) or not promise_tables:
        _fail(
            path,
            "promises",
            "must hold at least one [promises.<name>] table",
            "add one, e.g. [promises.session_timeline]",
        )
    promises = tuple(_parse_promise(name, table, path) for name, table in promise_tables.items())
    controls = _require(document, "controls", "", path)
    if not isinstance(controls, dict):
        _fail(path, "controls", "must be a table", "write it as [controls] with tolerance_pct = 10.0")
    _reject_unknown_keys(controls, _CONTROL_KEYS, "controls", path)
    tolerance_pct = _number(controls, "tolerance_pct", "controls", path)
    if tolerance_pct < 0:
        _fail(path, "controls.tolerance_pct", f"is negative ({tolerance_pct})", "use a percentage >= 0")
    gated, reason = _gating(controls, "controls", path)
    plan_assertions, baseline_tolerance_pct, speedups_from_rows = _parse_gate(document.get("gate", {}), path)
    return Targets(
        promises=promises,
        control_tolerance_pct=tolerance_pct,
        controls_gated=gated,
        path=path,
        controls_reason=reason,
        plan_assertions=plan_assertions,
        baseline_tolerance_pct=baseline_tolerance_pct,
        speedups_from_rows=speedups_from_rows,
        write_slowdown_max_pct=_parse_candidates(document.get("candidates", {}), path),
    )


def _parse_candidates(table: Any, path: Path) -> float | None:
    """The optional [candidates] table: the write budget of the candidates' recommendation."""
    if not isinstance(table, dict):
        _fail(path, "candidates", "must be a table", "write it as [candidates] with write_slowdown_max_pct = 25.0")
    _reject_unknown_keys(table, _CANDIDATES_KEYS, "candidates", path)
    if "write_slowdown_max_pct" not in table:
        return None
    budget = _number(table, "write_slowdown_max_pct", "candidates", path)
    if budget < 0:
        _fail(path, "candidates.write_slowdown_max_pct", f"is negative ({budget})", "use a percentage >= 0")
    return budget


def _parse_gate(table: Any, path: Path) -> tuple[bool, float, int | None]:
    """The optional [gate] table; without it, plans are asserted, the baseline tolerance is 15% and speedup
    promises are gated at every dataset size."""
    if not isinstance(table, dict):
        _fail(path, "gate", "must be a table", f"write it as [gate] with {_EXAMPLES['plan_assertions']}")
    _reject_unknown_keys(table, _GATE_KEYS, "gate", path)
    plan_assertions = table.get("plan_assertions", True)
    if not isinstance(plan_assertions, bool):
        _fail(
            path,
            "gate.plan_assertions",
            f"must be true or false, got {plan_assertions!r}",
            f"write {_EXAMPLES['plan_assertions']}",
        )
    tolerance_pct = DEFAULT_BASELINE_TOLERANCE_PCT
    if "baseline_tolerance_pct" in table:
        tolerance_pct = _number(table, "baseline_tolerance_pct", "gate", path)
        if tolerance_pct < 0:
            _fail(path, "gate.baseline_tolerance_pct", f"is negative ({tolerance_pct})", "use a percentage >= 0")
    from_rows = table.get("speedups_from_rows")
    if from_rows is not None and (isinstance(from_rows, bool) or not isinstance(from_rows, int) or from_rows < 1):
        _fail(
            path,
            "gate.speedups_from_rows",
            f"must be a positive whole number of rows, got {from_rows!r}",
            "write speedups_from_rows = 1_000_000, or leave it out to gate speedups at every size",
        )
    return plan_assertions, tolerance_pct, from_rows


def _parse_promise(name: str, table: Any, path: Path) -> Promise:
    where = f"promises.{name}"
    if not isinstance(table, dict):
        _fail(path, where, "must be a table", f"write it as [{where}] followed by its keys")
    kind = _require(table, "kind", where, path)
    if not isinstance(kind, str) or kind not in _PROMISE_KEYS:
        _fail(path, f"{where}.kind", f"unknown kind {kind!r}", f"use one of {sorted(_PROMISE_KEYS)}")
    _reject_unknown_keys(table, _PROMISE_KEYS[kind], where, path)
    gated, reason = _gating(table, where, path)
    source = table.get("source", "")
    if not isinstance(source, str):
        _fail(path, f"{where}.source", "must be a string", f"write {_EXAMPLES['source']}")
    if kind == "speedup_range":
        expected_min = _number(table, "expected_min", where, path)
        expected_max = _number(table, "expected_max", where, path)
        if expected_min <= 0:
            _fail(
                path,
                f"{where}.expected_min",
                f"must be a positive speedup, got {expected_min}",
                "a speedup is before/after, e.g. 2.0 for twice as fast",
            )
        if expected_min > expected_max:
            _fail(
                path,
                f"{where}.expected_min",
                f"({expected_min}) is greater than expected_max ({expected_max})",
                "swap the two values",
            )
        return Promise(
            name=name,
            kind="speedup_range",
            cases=_cases(table, where, path),
            expected_min=expected_min,
            expected_max=expected_max,
            max=None,
            metric=None,
            gated=gated,
            reason=reason,
            source=source,
        )
    metric = _require(table, "metric", where, path)
    if not isinstance(metric, str) or not metric:
        _fail(path, f"{where}.metric", "must be a non-empty string", f"write {_EXAMPLES['metric']}")
    bound = _number(table, "max", where, path)
    return Promise(
        name=name,
        kind="max",
        cases=(),
        expected_min=None,
        expected_max=None,
        max=bound,
        metric=metric,
        gated=gated,
        reason=reason,
        source=source,
    )


def _cases(table: Mapping[str, Any], where: str, path: Path) -> tuple[str, ...]:
    cases = _require(table, "cases", where, path)
    if not isinstance(cases, list) or not cases or not all(isinstance(case, str) and case for case in cases):
        _fail(path, f"{where}.cases", "must be a non-empty list of case names", f"write {_EXAMPLES['cases']}")
    if len(set(cases)) != len(cases):
        _fail(path, f"{where}.cases", f"lists a case twice: {cases}", "list each case once")
    return tuple(cases)


def _gating(table: Mapping[str, Any], where: str, path: Path) -> tuple[bool, str]:
    """gated defaults to true; gated = false needs a reason, so nobody quietly ungates a promise."""
    gated = table.get("gated", True)
    if not isinstance(gated, bool):
        _fail(path, f"{where}.gated", f"must be true or false, got {gated!r}", f"write {_EXAMPLES['gated']}")
    reason = table.get("reason", "")
    if not isinstance(reason, str):
        _fail(path, f"{where}.reason", "must be a string", f"write {_EXAMPLES['reason']}")
    if not gated and not reason.strip():
        _fail(
            path,
            f"{where}.reason",
            "is required when gated = false",
            f"add {_EXAMPLES['reason']}, or set gated = true",
        )
    return gated, reason


def _require(table: Mapping[str, Any], key: str, where: str, path: Path) -> Any:
    if key not in table:
        _fail(path, _join(where, key), "is missing", f"add {_EXAMPLES.get(key, key + ' = ...')}")
    return table[key]


def _number(table: Mapping[str, Any], key: str, where: str, path: Path) -> float:
    value = _require(table, key, where, path)
    # bool is an int in Python; `expected_min = true` is a typo, not 1.0.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        _fail(
            path,
            _join(where, key),
            f"must be a finite number, got {value!r}",
            f"write {_EXAMPLES.get(key, key + ' = 1.0')}",
        )
    return float(value)


def _reject_unknown_keys(table: Mapping[str, Any], allowed: frozenset[str], where: str, path: Path) -> None:
    unknown = sorted(set(table) - allowed)
    if unknown:
        _fail(
            path,
            _join(where, unknown[0]),
            "is not a known key",
            f"remove it or fix its spelling; allowed here: {', '.join(sorted(allowed))}",
        )


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _fail(path: Path, key: str, problem: str, fix: str) -> NoReturn:
    raise TargetsError(f"{path}: {key} {problem}; {fix}")


def judge_speedup_range(low: float | None, high: float | None, expected_min: float, expected_max: float) -> VerdictWord:
    """Where the speedup interval [low, high] lies against the closed range [expected_min, expected_max].

    below: high < expected_min. above: low > expected_max. within: the interval lies inside the range,
    touching a bound included. inconclusive: the interval crosses a bound (or both).
    """
    interval = _checked_interval(low, high)
    if interval is None:
        return VerdictWord.FAILED
    low, high = interval
    if high < expected_min:
        return VerdictWord.BELOW
    if low > expected_max:
        return VerdictWord.ABOVE
    if expected_min <= low and high <= expected_max:
        return VerdictWord.WITHIN
    return VerdictWord.INCONCLUSIVE


def judge_max(low: float | None, high: float | None, bound: float) -> VerdictWord:
    """met: the whole interval is <= bound. not met: the whole interval is > bound.

    The design document says "<25%"; the bound is taken as inclusive, since a measured overhead equal to
    it at float precision is a coincidence, not evidence either way. A deterministic figure (storage)
    arrives as low == high and is never inconclusive.
    """
    interval = _checked_interval(low, high)
    if interval is None:
        return VerdictWord.FAILED
    low, high = interval
    if high <= bound:
        return VerdictWord.MET
    if low > bound:
        return VerdictWord.NOT_MET
    return VerdictWord.INCONCLUSIVE


def judge_min(low: float | None, high: float | None, bound: float) -> VerdictWord:
    """A rate that must exceed `bound`: met when the whole interval is above, not met when it is not above."""
    if low is None or high is None:
        return VerdictWord.FAILED
    if low > bound:
        return VerdictWord.MET
    if high <= bound:
        return VerdictWord.NOT_MET
    return VerdictWord.INCONCLUSIVE


def control_threshold(tolerance_pct: float) -> float:
    """The lowest speedup a control may have: after may be at most tolerance_pct slower than before."""
    return 1.0 / (1.0 + tolerance_pct / 100.0)


def judge_control(low: float | None, high: float | None, tolerance_pct: float) -> VerdictWord:
    """Judge a control case from the interval of its speedup (before/after; above 1 means after is faster).

    With threshold t = 1 / (1 + tolerance_pct/100), e.g. 0.909 for 10%:
    - regression: high < t. after is slower beyond the tolerance, and the interval excludes 1x.
    - improved: low > 1. after is faster, and the interval excludes 1x.
    - ok: t <= low <= 1. the interval rules out a slowdown beyond the tolerance.
    - inconclusive: low < t <= high. the interval crosses the tolerance bound, so a slowdown beyond the
      tolerance is neither shown nor ruled out. When high < 1 as well, after is measurably slower but
      perhaps within tolerance; when the interval also contains 1x, the control is too noisy to tell.
    Only "regression" should fail a gate; "inconclusive" asks for more executions or parameters.
    A slowdown of exactly the tolerance is within it (t itself is ok).
    """
    interval = _checked_interval(low, high)
    if interval is None:
        return VerdictWord.FAILED
    low, high = interval
    threshold = control_threshold(tolerance_pct)
    if high < threshold:
        return VerdictWord.REGRESSION
    if low > 1.0:
        return VerdictWord.IMPROVED
    if low >= threshold:
        return VerdictWord.OK
    return VerdictWord.INCONCLUSIVE


def judge_blocking(max_stall_ms: float, lock_wait_seen: bool, bound_ms: float) -> VerdictWord:
    """Writes were blocked when they stalled beyond the bound while queueing for a lock.

    A stall without a lock wait is the machine being busy (inconclusive), not the migration blocking.
    """
    if max_stall_ms <= bound_ms:
        return VerdictWord.HELD
    return VerdictWord.NOT_HELD if lock_wait_seen else VerdictWord.INCONCLUSIVE


def _checked_interval(low: float | None, high: float | None) -> tuple[float, float] | None:
    if low is None and high is None:
        return None
    if low is None or high is None:
        raise ValueError(f"an interval needs both ends or neither, got low={low!r}, high={high!r}")
    if math.isnan(low) or math.isnan(high) or low > high:
        raise ValueError(f"not an interval: low={low!r}, high={high!r}")
    return low, high


def figure_verdict(
    promise: str,
    kind: str,
    verdict: VerdictWord,
    value: float | None,
    reason: str,
    evidence: str,
    expected_min: float | None = None,
    expected_max: float | None = None,
    bound: float | None = None,
    gated: bool = False,
) -> Verdict:
    """A verdict on one deterministic figure (point, low and high are the same value); reported unless gated."""
    return Verdict(
        promise=promise,
        kind=kind,
        verdict=verdict,
        point=value,
        low=value,
        high=value,
        expected_min=expected_min,
        expected_max=expected_max,
        bound=bound,
        gated=gated,
        reason=reason,
        evidence=evidence,
    )


def speedup_range_verdict(
    promise: Promise, estimate: SpeedupEstimate | None, n_cases: int, failure: str = ""
) -> Verdict:
    """Judge a speedup_range promise from the estimate pooled over its cases (None when any case failed)."""
    if promise.kind != "speedup_range" or promise.expected_min is None or promise.expected_max is None:
        raise ValueError(f"promise {promise.name!r} is of kind {promise.kind!r}, not speedup_range")
    low, high, point = _estimate_figures(estimate)
    if estimate is None:
        evidence = _failure_evidence(failure)
    else:
        evidence = (
            f"geomean {ratio(estimate.point)} ({_confidence(estimate)} CI "
            f"{number(estimate.low)}-{ratio(estimate.high)}) over {_plural(n_cases, 'case')}, "
            f"{_plural(estimate.n_params, 'parameter')}"
        )
    return Verdict(
        promise=promise.name,
        kind=promise.kind,
        verdict=judge_speedup_range(low, high, promise.expected_min, promise.expected_max),
        point=point,
        low=low,
        high=high,
        expected_min=promise.expected_min,
        expected_max=promise.expected_max,
        bound=None,
        gated=promise.gated,
        reason=promise.reason,
        evidence=evidence,
    )


def max_verdict(promise: Promise, value: float | None, failure: str = "") -> Verdict:
    """Judge a max promise from its deterministic metric (None when it could not be measured)."""
    if promise.kind != "max" or promise.max is None:
        raise ValueError(f"promise {promise.name!r} is of kind {promise.kind!r}, not max")
    evidence = (
        _failure_evidence(failure) if value is None else f"{promise.metric} {number(value)} (limit {promise.max:g})"
    )
    return figure_verdict(
        promise.name,
        promise.kind,
        judge_max(value, value, promise.max),
        value,
        promise.reason,
        evidence,
        bound=promise.max,
        gated=promise.gated,
    )


def control_verdict(case: str, estimate: SpeedupEstimate | None, targets: Targets, failure: str = "") -> Verdict:
    """Judge one control case against the targets' tolerance (None estimate when the case failed)."""
    threshold = control_threshold(targets.control_tolerance_pct)
    low, high, point = _estimate_figures(estimate)
    if estimate is None:
        evidence = _failure_evidence(failure)
    else:
        evidence = (
            f"speedup {ratio(estimate.point)} ({_confidence(estimate)} CI "
            f"{number(estimate.low)}-{ratio(estimate.high)}) over "
            f"{_plural(estimate.n_params, 'parameter')}; regression below {ratio(threshold)} "
            f"({targets.control_tolerance_pct:g}% tolerance)"
        )
    return Verdict(
        promise=case,
        kind="control",
        verdict=judge_control(low, high, targets.control_tolerance_pct),
        point=point,
        low=low,
        high=high,
        expected_min=None,
        expected_max=None,
        bound=threshold,
        gated=targets.controls_gated,
        reason=targets.controls_reason,
        evidence=evidence,
    )


def reported_ratio_verdict(
    promise: str,
    point: float | None,
    low: float | None,
    high: float | None,
    tolerance_pct: float,
    evidence: str,
    reason: str,
    shown_threshold: float | None = None,
) -> Verdict:
    """A before/after ratio judged like a control (a regression beyond the tolerance), reported but not gated.

    `shown_threshold` is the rounded floor a table prints as expected (None: no expected column); the judgement
    always uses the exact threshold."""
    return Verdict(
        promise=promise,
        kind="control",
        verdict=judge_control(low, high, tolerance_pct),
        point=point,
        low=low,
        high=high,
        expected_min=shown_threshold,
        expected_max=None,
        bound=control_threshold(tolerance_pct) if shown_threshold is None else shown_threshold,
        gated=False,
        reason=reason,
        evidence=evidence,
    )


def _estimate_figures(estimate: SpeedupEstimate | None) -> tuple[float | None, float | None, float | None]:
    if estimate is None:
        return None, None, None
    return estimate.low, estimate.high, estimate.point


def _failure_evidence(failure: str) -> str:
    return f"measurement failed: {failure}" if failure else "measurement failed: failed or timed-out executions"


def _confidence(estimate: SpeedupEstimate) -> str:
    return f"{estimate.confidence * 100:g}%"


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
