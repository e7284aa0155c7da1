"""The CI performance gate: one results document (and optionally a baseline run) against the targets file.

Every check ends as pass, fail, warn or reported; the gate fails (exit 1) when any check fails.
- speedup_range promise: only the lower bound is gated, on the bootstrap interval. "below" (the whole
  interval under expected_min) fails; "failed" (a failed or timed-out query) fails, since a failed
  measurement is never a pass; "inconclusive" warns, so a noisy runner neither fails a PR nor passes it
  silently; "within" and "above" pass.
- not measured: a promise none of whose cases ran fails, unless the run was deliberately filtered with -k
  (the run records it as measurement.select), which makes it a warning that says so. A case named in the targets
  file that an unfiltered run lacks is a typo or a deleted query file, and fails.
- max promise (storage_overhead_pct): "not met" or not measured fails. The figure is deterministic, so
  "inconclusive" cannot happen; it would warn.
- control: "regression" (after slower than the tolerance allows, the interval excluding 1x) or "failed"
  fails; "inconclusive" warns.
- plan: every after plan of a promise case must use the case's expected index ([gate] plan_assertions),
  so a change that silently stops using an index fails even when the timing cannot tell.
- rows: before and after returning different rows for a case warns (a LIMIT over tied sort keys can do it).
- baseline (--baseline, repeatable): ratios only, never absolute times, because CI runners differ in speed.
  A case's ratio (this run's speedup / the pooled baselines') is bootstrapped from both sides
  (bench/judge/pooled.py); the case fails when the whole interval lies below 1 - tolerance and warns when
  only the point does. storage_overhead_pct fails when it grew by more than the tolerance, in points.
  A baseline from another dataset or engine is refused.
- dataset size: below [gate] speedups_from_rows the speedup promises are reported, not gated ("50k rows
  cannot show them"); plan, control, rows, storage and baseline checks stay gated.
- a migration whose file says `-- promises: none` (recorded in the results, or makes_promises=False) gets
  its speedup and plan checks reported, not gated.
Promises with gated = false, controls with [controls] gated = false, and the plan checks of ungated
promises are evaluated and listed as "reported" with their reason; they never fail the gate.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from bench.core.errors import HarnessError
from bench.core.formatting import MISSING, number, percent, percent_change, percentage_points, ratio, ratio_interval
from bench.core.results import read_document
from bench.core.results_model import CaseResult, PlanCheck, ResultsDocument, SuiteSection, Verdict
from bench.core.verdict_words import (
    BOUND_WORDS,
    CONTROL_WORDS,
    SPEEDUP_RANGE_WORDS,
    Meaning,
    VerdictWord,
    verdict_word,
)
from bench.judge.pooled import Pair, baseline_ratio_interval, pairs_by_round
from bench.judge.verdicts import Promise, Targets

GateStatus = Literal["pass", "fail", "warn", "reported"]
DocumentLike = ResultsDocument | dict[str, Any]
STEP_SUMMARY_ENV = "GITHUB_STEP_SUMMARY"
SUITE_NAME = "phase2-bench gate"
STORAGE_METRIC = "storage_overhead_pct"

# What a verdict word means for the migration decides the check; a figure reported without a bound passes.
_STATUS_BY_MEANING: dict[Meaning, GateStatus] = {
    Meaning.GOOD: "pass",
    Meaning.NEUTRAL: "pass",
    Meaning.UNCLEAR: "warn",
    Meaning.BAD: "fail",
    Meaning.FAILED: "fail",
}
# The judging parts of the targets a run records; when they match, the run's own verdicts are used.
_JUDGING_KEYS = ("promises", "control_tolerance_pct", "controls_gated", "controls_reason")


@dataclass(frozen=True)
class GateCheck:
    """One line of the gate: `figure` is what was measured, `bound` what it was held to."""

    name: str
    kind: str  # speedup_range, max, control, plan, rows, baseline
    status: GateStatus
    figure: str
    bound: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def gate_failed(checks: Iterable[GateCheck]) -> bool:
    return any(check.status == "fail" for check in checks)


def judged_against(doc: ResultsDocument | dict[str, Any], targets: Targets) -> bool:
    """Whether the run's verdicts were judged against these promises and controls."""
    used = as_document(doc).targets or {}
    current = targets.to_dict()
    return all(used.get(key) == current[key] for key in _JUDGING_KEYS)


def as_document(doc: ResultsDocument | dict[str, Any]) -> ResultsDocument:
    """The typed results document (a dict is read, upgraded and checked through the results model)."""
    return doc if isinstance(doc, ResultsDocument) else read_document(doc)


def evaluate(
    doc: DocumentLike,
    targets: Targets,
    baseline: DocumentLike | Sequence[DocumentLike] | None = None,
    baseline_tolerance_pct: float | None = None,
    makes_promises: bool | None = None,
) -> list[GateCheck]:
    """Every gate check of a results document; the baseline tolerance defaults to the targets' [gate] one.

    `baseline` is one results document or several (pooled). `makes_promises` False (or a run whose migration
    says `-- promises: none`) turns the speedup and plan checks into reported ones.
    """
    run = as_document(doc)
    bases = as_documents(baseline)
    for base in bases:
        refuse_incomparable_baseline(run, base)  # refuse before judging anything
    exempt_speedups = speedup_exemption(run, targets)
    exempt_plans = None
    if makes_promises is None:
        makes_promises = migration_makes_promises(run)
    if not makes_promises:
        exempt_speedups = exempt_plans = "the migration says `-- promises: none`"
    verdicts = {v.promise: v for v in _verdicts(run, targets)}
    cases = {c.name: c for c in run.cases}
    select = run.measurement.select or None
    checks: list[GateCheck] = []
    for promise in targets.promises:
        if promise.kind == "max":
            checks.append(_max_check(promise, verdicts.get(promise.name)))
            continue
        check = _speedup_check(promise, verdicts.get(promise.name), cases, select)
        checks.append(_reported(check, exempt_speedups) if exempt_speedups and check.status != "reported" else check)
        plans = _plan_checks(promise, cases, targets.plan_assertions)
        checks.extend(_reported(c, exempt_plans) if exempt_plans and c.status != "reported" else c for c in plans)
    checks.extend(control_check(v) for v in verdicts.values() if v.kind == "control")
    checks.append(_rows_check(list(cases.values())))
    for name, section in (run.suites or {}).items():
        checks.extend(_suite_checks(name, section))
    if bases:
        tolerance = targets.baseline_tolerance_pct if baseline_tolerance_pct is None else baseline_tolerance_pct
        checks.extend(baseline_checks(run, bases, tolerance))
    return checks


def as_documents(baseline: DocumentLike | Sequence[DocumentLike] | None) -> list[ResultsDocument]:
    if baseline is None:
        return []
    if isinstance(baseline, ResultsDocument | dict):
        return [as_document(baseline)]
    return [as_document(b) for b in baseline]


def speedup_exemption(run: ResultsDocument, targets: Targets) -> str | None:
    """Why the speedup promises are reported, not gated, on this run's dataset size (None: they are gated)."""
    from_rows = targets.speedups_from_rows
    if from_rows is None or run.dataset.rows >= from_rows:
        return None
    return f"{run.dataset.rows:,} rows cannot show them; [gate] speedups_from_rows gates them from {from_rows:,} rows"


def migration_makes_promises(run: ResultsDocument) -> bool:
    """False when the run's migration under test (bench.core.migration, recorded in the dataset) says
    `-- promises: none`; a run without a recorded migration is the Phase 2 one, which makes them."""
    migration = run.dataset.other.get("migration") or run.dataset.spec.get("migration") or {}
    return bool(migration.get("makes_promises", True)) if isinstance(migration, dict) else True


def _verdicts(doc: ResultsDocument, targets: Targets) -> list[Verdict]:
    if judged_against(doc, targets):
        return list(doc.verdicts)
    # Another targets file: judge the run's own samples against it (same seed, so the same intervals).
    from bench.judge.analysis import judge

    json_doc = doc.to_json()
    return judge(json_doc["cases"], json_doc["storage"], targets, int(doc.measurement.seed or 0))


def _speedup_check(
    promise: Promise, verdict: Verdict | None, cases: dict[str, CaseResult], select: str | None
) -> GateCheck:
    bound = f">= {promise.expected_min:g}x (promised {promise.expected_min:g}-{promise.expected_max:g}x)"
    missing = [name for name in promise.cases if name not in cases]
    if len(missing) == len(promise.cases):
        if select:
            status: GateStatus = "warn"
            message = f"not measured: the run was filtered with -k {select!r}, so this promise was not checked"
        else:
            status = "fail"
            message = f"not measured: none of its cases ({', '.join(promise.cases)}) ran in an unfiltered run"
        return _gating(GateCheck(promise.name, promise.kind, status, VerdictWord.NOT_MEASURED, bound, message), promise)
    if verdict is None:
        message = "the results document has no verdict for this promise"
        return _gating(GateCheck(promise.name, promise.kind, "fail", MISSING, bound, message), promise)
    status = _status(verdict.verdict, SPEEDUP_RANGE_WORDS, "fail")
    message = f"{verdict.verdict}: {verdict.evidence}"
    if missing and select:
        message += (
            f"; judged on {len(promise.cases) - len(missing)} of {len(promise.cases)} cases "
            f"(-k {select!r} left out {', '.join(missing)})"
        )
    elif missing:
        status = "fail"
        message = f"{', '.join(missing)} named in the targets file did not run (is the case name right?); {message}"
    return _gating(GateCheck(promise.name, promise.kind, status, _interval(verdict), bound, message), promise)


def _max_check(promise: Promise, verdict: Verdict | None) -> GateCheck:
    is_pct = (promise.metric or "").endswith("_pct")
    bound = f"<= {promise.max:g}{'%' if is_pct else ''}"
    if verdict is None:
        message = "the results document has no verdict for this promise"
        return _gating(GateCheck(promise.name, promise.kind, "fail", MISSING, bound, message), promise)
    value = verdict.point
    if value is None:
        figure: str = VerdictWord.NOT_MEASURED
    else:
        figure = percent(value) if is_pct else number(value, 1)
    status = _status(verdict.verdict, BOUND_WORDS, "fail")
    check = GateCheck(promise.name, promise.kind, status, figure, bound, f"{verdict.verdict}: {verdict.evidence}")
    return _gating(check, promise)


def _plan_checks(promise: Promise, cases: dict[str, CaseResult], plan_assertions: bool) -> list[GateCheck]:
    checks = []
    for name in promise.cases:
        case = cases.get(name)
        plan = case.plan_check if case else PlanCheck()
        index = plan.expected_index
        if not index:
            continue  # nothing to assert: the case names no index for the after instance
        using, planned = plan.params_using_expected, plan.params_planned
        if plan.holds:
            status: GateStatus = "pass"
            message = f"every after plan uses {index}"
        elif planned:
            status = "fail"
            used = ", ".join(plan.after_indexes_used) or "no index"
            message = f"after plans use {index} for {using} of {planned} parameters (they use: {used})"
        else:
            status = "fail"
            message = "no after plan was captured (the measurement failed)"
        check = GateCheck(name, "plan", status, f"{using}/{planned} after plans", f"all use {index}", message)
        if not promise.gated:
            check = _reported(check, f"promise {promise.name} is not gated: {promise.reason}")
        elif not plan_assertions:
            check = _reported(check, "[gate] plan_assertions = false")
        checks.append(check)
    return checks


def control_check(verdict: Verdict) -> GateCheck:
    """A control verdict as the gate checks it (bench.judge.calibration re-judges injected slowdowns with it)."""
    status = _status(verdict.verdict, CONTROL_WORDS, "fail")
    message = f"{verdict.verdict}: {verdict.evidence}"
    check = GateCheck(verdict.promise, "control", status, _interval(verdict), _bound(verdict), message)
    return check if verdict.gated else _reported(check, verdict.reason)


def _rows_check(cases: Sequence[CaseResult]) -> GateCheck:
    # A failed case has no rows to compare; its failure is reported by its own check.
    compared = [c for c in cases if c.same_rows is not None and not c.failures]
    differ = [c.name for c in compared if c.same_rows is False]
    figure = f"{len(differ)} of {len(compared)} cases differ"
    if not differ:
        return GateCheck("same rows", "rows", "pass", figure, "0 cases differ", "before and after return the same rows")
    message = (
        f"before and after returned different rows for {', '.join(differ)}: a LIMIT over tied sort keys can do "
        "this; otherwise the migration changed the results and the speedup compares different work"
    )
    return GateCheck("same rows", "rows", "warn", figure, "0 cases differ", message)


def _suite_checks(name: str, section: SuiteSection) -> list[GateCheck]:
    """An extra suite's verdicts carry their own gated flag; a suite that could not run is a failed measurement."""
    if section.failed:
        failed = f"the suite could not run: {section.failed}"
        return [GateCheck(name, "suite", "fail", VerdictWord.FAILED, MISSING, failed)]
    if section.skipped:
        return [GateCheck(name, "suite", "reported", "skipped", MISSING, f"skipped: {section.skipped}")]
    checks = []
    for verdict in section.verdicts:
        status = _status(verdict.verdict, frozenset(VerdictWord), "warn")
        message = f"{verdict.verdict}: {verdict.evidence}"
        check = GateCheck(f"{name}/{verdict.promise}", "suite", status, _figure(verdict), _bound(verdict), message)
        checks.append(check if verdict.gated else _reported(check, verdict.reason))
    return checks


def _status(word: str, rule_words: frozenset[VerdictWord], otherwise: GateStatus) -> GateStatus:
    """The check's status from what the word means; `otherwise` for a word this rule never gives."""
    known = verdict_word(word)
    return _STATUS_BY_MEANING[known.meaning] if known in rule_words else otherwise


def _gating(check: GateCheck, promise: Promise) -> GateCheck:
    return check if promise.gated else _reported(check, promise.reason)


def _reported(check: GateCheck, reason: str) -> GateCheck:
    would = {"pass": "would pass", "fail": "would fail", "warn": "would warn", "reported": "reported"}[check.status]
    return replace(check, status="reported", message=f"reported, not gated ({reason}); {would}: {check.message}")


def refuse_incomparable_baseline(doc: ResultsDocument, baseline: ResultsDocument) -> None:
    """Ratios compare only on the same dataset and engine: any other baseline is refused (no --force here, unlike
    bench.report.compare), naming both values."""
    pairs = {
        "dataset fingerprint": (doc.dataset.fingerprint, baseline.dataset.fingerprint),
        "engine": (doc.engine.name, baseline.engine.name),
    }
    for what, (current, base) in pairs.items():
        if current != base:
            raise HarnessError(
                f"the baseline was measured with {what} {base!r} but this run with {current!r}: speedups are only "
                "comparable on the same dataset and engine. Make the baseline with the same --preset/--rows/--seed "
                "and --engine, or gate without --baseline."
            )


def baseline_checks(
    doc: ResultsDocument, baselines: Sequence[ResultsDocument], tolerance_pct: float
) -> list[GateCheck]:
    """Every case's ratio (this run's speedup / the pooled baselines'), judged on its bootstrap interval."""
    for baseline in baselines:
        refuse_incomparable_baseline(doc, baseline)
    select = doc.measurement.select or None
    seed = int(doc.measurement.seed or 0)
    current = {c.name: c for c in doc.cases}
    base_cases: dict[str, list[CaseResult]] = {}
    for baseline in baselines:
        for case in baseline.cases:
            base_cases.setdefault(case.name, []).append(case)
    checks = [_environment_check(doc, baseline) for baseline in baselines]
    checks.extend(
        _baseline_case_check(name, cases, current.get(name), select, tolerance_pct, seed)
        for name, cases in base_cases.items()
    )
    for name in current.keys() - base_cases.keys():
        checks.append(
            GateCheck(name, "baseline", "warn", MISSING, MISSING, "new case: the baseline has no figure for it")
        )
    checks.append(_baseline_storage_check(doc, baselines, tolerance_pct))
    return checks


def _environment_check(doc: ResultsDocument, baseline: ResultsDocument) -> GateCheck:
    # Different versions or settings do not make ratios meaningless, but they are worth knowing (pyperf warns).
    env, base = doc.environment, baseline.environment
    differences = [
        f"{key} {base.get(key)!r} -> {env.get(key)!r}"
        for key in ("postgres_version", "timescaledb_version")
        if env.get(key) != base.get(key)
    ]
    settings, base_settings = env.get("settings") or {}, base.get("settings") or {}
    differences += [
        f"{key} {base_settings.get(key)!r} -> {settings.get(key)!r}"
        for key in sorted(settings.keys() | base_settings.keys())
        if settings.get(key) != base_settings.get(key)
    ]
    run = f"baseline run {baseline.run_id}"
    if not differences:
        return GateCheck("environment", "baseline", "pass", run, "same versions and settings", "comparable")
    return GateCheck(
        "environment", "baseline", "warn", run, "same versions and settings", "differs: " + "; ".join(differences)
    )


def _case_rounds(case: CaseResult) -> list[list[Pair]]:
    """A measured case's (before, after) pairs per round ("round" of each sample; none means one round)."""
    samples = [{"latencies_ms": asdict(s.latencies_ms), "round": s.other.get("round")} for s in case.samples]
    return pairs_by_round(samples)


def _baseline_case_check(
    name: str,
    base_cases: list[CaseResult],
    case: CaseResult | None,
    select: str | None,
    tolerance_pct: float,
    seed: int,
) -> GateCheck:
    floor = 1 - tolerance_pct / 100
    n_base = len(base_cases)
    bound = f">= {ratio(floor)} of the baseline{'s' if n_base > 1 else ''} (tolerance {tolerance_pct:g}%)"
    measured = [c for c in base_cases if c.speedup is not None and not c.failures and c.samples]
    if not measured:
        return GateCheck(name, "baseline", "warn", MISSING, bound, "the baseline's measurement of this case failed")
    if case is None:
        if select:
            return GateCheck(name, "baseline", "warn", VerdictWord.NOT_MEASURED, bound, f"left out by -k {select!r}")
        message = "in the baseline but not in this unfiltered run (renamed or removed? refresh the baseline)"
        return GateCheck(name, "baseline", "fail", VerdictWord.NOT_MEASURED, bound, message)
    if case.speedup is None or case.failures or not case.samples:
        message = "this run's measurement of the case failed"
        return GateCheck(name, "baseline", "fail", VerdictWord.FAILED, bound, message)
    base_rounds = [pairs for base in measured for pairs in _case_rounds(base)]
    estimate = baseline_ratio_interval(_case_rounds(case), base_rounds, seed=seed)
    figure = ratio_interval(estimate.point, estimate.low, estimate.high)
    pooled = f"{len(measured)} baselines pooled; " if len(measured) > 1 else ""
    change = percent_change((estimate.point - 1) * 100)
    if estimate.high < floor:
        message = f"{pooled}{change} against the baseline: the whole interval lies below {ratio(floor)}"
        return GateCheck(name, "baseline", "fail", figure, bound, message)
    if estimate.point < floor:
        message = f"{pooled}{change} against the baseline, but the interval reaches {ratio(floor)}: not told from noise"
        return GateCheck(name, "baseline", "warn", figure, bound, message)
    return GateCheck(name, "baseline", "pass", figure, bound, f"{pooled}{change} against the baseline")


def _baseline_storage_check(
    doc: ResultsDocument, baselines: Sequence[ResultsDocument], tolerance_pct: float
) -> GateCheck:
    now = doc.storage.storage_overhead_pct
    figures = [b.storage.storage_overhead_pct for b in baselines if b.storage.storage_overhead_pct is not None]
    if not figures:
        return GateCheck(STORAGE_METRIC, "baseline", "warn", MISSING, MISSING, "the baseline has no storage figure")
    base = sum(figures) / len(figures)  # a deterministic figure: several baselines only average out layout noise
    bound = f"<= {percent(base + tolerance_pct)} (baseline {percent(base)} + {tolerance_pct:g} points)"
    if now is None:
        message = "storage was not measured"
        return GateCheck(STORAGE_METRIC, "baseline", "fail", VerdictWord.NOT_MEASURED, bound, message)
    growth = now - base
    status: GateStatus = "fail" if growth > tolerance_pct else "pass"
    return GateCheck(STORAGE_METRIC, "baseline", status, percent(now), bound, percentage_points(growth))


def _figure(verdict: Verdict) -> str:
    if verdict.kind == "max":
        return VerdictWord.NOT_MEASURED if verdict.point is None else number(verdict.point)
    return _interval(verdict)


def _bound(verdict: Verdict) -> str:
    low, high = verdict.expected_min, verdict.expected_max
    if low is not None and high is None:  # a floor without a range: write_cost's rates
        return f">= {low:g}"
    if low is not None:
        return f">= {low:g}x (promised {low:g}-{high:g}x)"
    if verdict.bound is None:
        return MISSING
    return f"<= {verdict.bound:g}" if verdict.kind == "max" else f">= {ratio(verdict.bound)}"


def _interval(verdict: Verdict) -> str:
    if verdict.point is None:
        return VerdictWord.FAILED
    return ratio_interval(verdict.point, verdict.low, verdict.high)


# ---- output: terminal table, JUnit XML, Markdown job summary ----

_LABELS = {"pass": "PASS", "fail": "FAIL", "warn": "WARN", "reported": "REPORTED"}
_ICONS = {"pass": "✅ pass", "fail": "❌ fail", "warn": "⚠️ warn", "reported": "ℹ️ reported"}


def summary_line(checks: Sequence[GateCheck]) -> str:
    counts = Counter(check.status for check in checks)
    outcome = "FAILED" if counts["fail"] else "PASSED"
    return (
        f"gate {outcome}: {counts['fail']} failed, {counts['warn']} warnings, "
        f"{counts['reported']} reported (not gated), {counts['pass']} passed, of {len(checks)} checks"
    )


def format_gate_table(checks: Sequence[GateCheck]) -> str:
    header = ["status", "kind", "check", "figure", "bound", "message"]
    rows = [header] + [[_LABELS[c.status], c.kind, c.name, c.figure, c.bound, c.message] for c in checks]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = ["  ".join(row[i].ljust(widths[i]) for i in range(5)) + "  " + row[5] for row in rows]
    lines.insert(1, "-" * min(160, sum(widths) + 40))
    return "\n".join([*lines, "", summary_line(checks)])


# XML 1.0 forbids most control characters; a server error message carrying one must not break the report.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _xml(text: str) -> str:
    return _XML_UNSAFE.sub("?", text)


def junit_tree(checks: Sequence[GateCheck], suite: str = SUITE_NAME) -> ET.ElementTree:
    """One <testcase> per check; a failed check carries <failure message="measured ...; bound ...; why">,
    a reported one <skipped>, a warning its text in <system-out>."""
    counts = Counter(check.status for check in checks)
    totals = {"name": suite, "tests": str(len(checks)), "failures": str(counts["fail"]), "errors": "0"}
    root = ET.Element("testsuites", totals)
    testsuite = ET.SubElement(root, "testsuite", {**totals, "skipped": str(counts["reported"])})
    for check in checks:
        case = ET.SubElement(testsuite, "testcase", classname=f"gate.{check.kind}", name=check.name, time="0")
        detail = _xml(f"measured {check.figure}; bound {check.bound}; {check.message}")
        if check.status == "fail":
            ET.SubElement(case, "failure", message=detail, type=check.kind).text = detail
        elif check.status == "reported":
            ET.SubElement(case, "skipped", message=_xml(check.message))
        else:
            prefix = "WARNING: " if check.status == "warn" else ""
            ET.SubElement(case, "system-out").text = prefix + detail
    tree = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_junit(checks: Sequence[GateCheck], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    junit_tree(checks).write(path, encoding="utf-8", xml_declaration=True)
    return path


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", "<br>")


def markdown_summary(
    checks: Sequence[GateCheck],
    doc: ResultsDocument | dict[str, Any],
    baseline: DocumentLike | Sequence[DocumentLike] | None = None,
) -> str:
    """A CI job summary: the outcome, what was measured, and one table row per check, failures first."""
    failed = gate_failed(checks)
    run = as_document(doc)
    context = (
        f"run `{run.run_id}` · {run.engine.label} · "
        f"{run.dataset.rows:,} rows (dataset `{run.dataset.fingerprint[:12]}`)"
    )
    bases = as_documents(baseline)
    if bases:
        context += " · baseline run" + ("s " if len(bases) > 1 else " ") + ", ".join(f"`{b.run_id}`" for b in bases)
    lines = [
        f"## Performance gate: {'❌ FAILED' if failed else '✅ passed'}",
        "",
        summary_line(checks),
        "",
        context,
        "",
        "| status | check | kind | figure | bound | details |",
        "|---|---|---|---|---|---|",
    ]
    order = {"fail": 0, "warn": 1, "reported": 2, "pass": 3}
    for c in sorted(checks, key=lambda check: order[check.status]):  # stable: evaluation order within a status
        cells = [_ICONS[c.status], f"`{c.name}`", c.kind, c.figure, c.bound, c.message]
        lines.append("| " + " | ".join(_cell(cell) for cell in cells) + " |")
    return "\n".join(lines) + "\n"


def write_markdown(text: str, path: Path | None = None) -> list[Path]:
    """Write the summary to `path` when given, and append it to $GITHUB_STEP_SUMMARY when that is set."""
    written = []
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    step_summary = os.environ.get(STEP_SUMMARY_ENV)
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as out:
            out.write(text + "\n")
        written.append(Path(step_summary))
    return written
