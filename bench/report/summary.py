"""The verdict tables printed at the end of `make bench` (query suite, extra suites); report.md reuses them."""

from __future__ import annotations

import textwrap
from typing import Any

from bench.core.formatting import MISSING, mib, number, percent, percent_change, ratio, ratio_interval, seconds
from bench.core.verdict_words import VerdictWord
from bench.judge.verdicts import judge_speedup_range


def verdict_rows(doc: dict[str, Any]) -> list[list[str]]:
    """Promises (with a line per case under each) and controls, as rows of text."""
    cases = {c["name"]: c for c in doc["cases"]}
    promises = {p["name"]: p for p in doc.get("targets", {}).get("promises", [])}
    rows = []
    for v in doc["verdicts"]:
        if v["kind"] == "max":
            expected = f"<= {v['bound']:g}%"
            measured = percent(v["point"])
        elif v["kind"] == "control":
            expected = f">= {ratio(v['bound'])}"
            measured = ratio_interval(v["point"], v["low"], v["high"])
        else:
            expected = f"{v['expected_min']:g}-{v['expected_max']:g}x"
            measured = ratio_interval(v["point"], v["low"], v["high"])
        gated = "gated" if v["gated"] else "reported"
        rows.append([v["promise"], expected, measured, v["verdict"].upper(), gated, v["evidence"]])
        for name in promises.get(v["promise"], {}).get("cases", []):
            c = cases.get(name)
            if not c:
                continue
            est = c["speedup"]
            if est:
                sub = judge_speedup_range(est["low"], est["high"], v["expected_min"], v["expected_max"])
                measured = ratio_interval(est["point"], est["low"], est["high"])
            else:
                sub, measured = VerdictWord.FAILED, MISSING
            check = c["plan_check"]
            plan = (
                f"after uses {check['expected_index']}: {check['params_using_expected']}/{check['params_planned']}"
                if check.get("expected_index")
                else ""
            )
            rows.append([f"  {name}", "", measured, sub, "", plan])
    return rows


def format_verdict_table(doc: dict[str, Any]) -> str:
    header = ["promise / case", "expected", "measured (95% CI)", "verdict", "", "evidence"]
    rows = [header, *verdict_rows(doc)]
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + r[5])
    st = doc["storage"]
    ds = doc["dataset"]
    lines.insert(1, "-" * min(160, sum(widths) + 40))
    lines.append("")
    migration = (ds.get("migration") or {}).get("label", "phase2")
    lines.append(
        f"engine: {doc['engine']['label']}; dataset {int(ds['rows']):,} rows (fingerprint {ds['fingerprint'][:12]}); "
        f"migration {migration}; storage before {mib(st['before']['total_bytes'])}, "
        f"after {mib(st['after']['total_bytes'])} "
        f"(indexes {percent_change(st['index_overhead_pct'])})"
    )
    lines.append(f"results: reports/runs/{doc['run_id']}/results.json; figures are {doc['measurement']['cache_state']}")
    return "\n".join(lines)


# --- extra suites (doc["suites"]) -------------------------------------------------------------------------

SUITE_HEADER = ["check", "expected", "measured", "verdict", "gate", "evidence"]
# A suite's Verdict records numbers without their unit: (suite, promise prefix) -> (unit, factor), first match.
# Speedups (speedup_range, control) are always ratios ("x").
SUITE_UNITS: tuple[tuple[str, str, str, float], ...] = (
    ("write_cost", "ingest_rate_", " rows/s", 1.0),
    ("migration", "migration_duration", " s", 1.0),
    ("migration", "", " ms", 1.0),  # the non-blocking claims: the longest write stall
    ("compatibility", "", "%", 100.0),  # the share of comparisons with identical results
    ("compression", "compression_", "%", 1.0),
    ("sweep", "time_range_p95/", " ms", 1.0),
    ("scaling", "storage_overhead", "%", 1.0),
    ("app", "gin_", "%", 100.0),  # the share of Prisma JSON-filter plans that use the GIN index
    ("concurrency", "load_read_p95_", " ms", 1.0),
    ("concurrency", "load_ingest_", " events/s", 1.0),
)
EVIDENCE_WIDTH = 110  # the terminal shows the start of the evidence; report.md has all of it


def _suite_unit(suite: str, verdict: dict[str, Any]) -> tuple[str, float]:
    if verdict.get("kind") in ("speedup_range", "control"):
        return "x", 1.0
    for name, prefix, unit, factor in SUITE_UNITS:
        if name == suite and str(verdict.get("promise", "")).startswith(prefix):
            return unit, factor
    return "", 1.0


def _suite_number(value: float | None, unit: str, factor: float, with_unit: bool = True) -> str:
    if value is None:
        return MISSING
    text = number(value * factor, 1 if unit == "%" else None)
    return text + unit if with_unit else text


def _bound(value: float, unit: str, factor: float) -> str:
    value *= factor
    return (f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}") + unit


def suite_verdict_row(suite: str, verdict: dict[str, Any]) -> list[str]:
    """One suite verdict as [check, expected, measured, verdict, gate, evidence], numbers with their unit."""
    unit, factor = _suite_unit(suite, verdict)
    lo, hi, bound = verdict.get("expected_min"), verdict.get("expected_max"), verdict.get("bound")
    kind = verdict.get("kind")
    if lo is not None and hi is not None:
        expected = f"{_bound(lo, '', factor)}-{_bound(hi, unit, factor)}"
    elif kind == "control" and bound is not None:
        expected = f">= {ratio(bound)}"  # the tolerance threshold: lower is a regression
    elif kind == "min" and bound is not None:
        expected = f"> {_bound(bound, unit, factor)}"
    elif lo is not None:
        expected = f">= {_bound(lo, unit, factor)}"
    elif bound is not None:
        expected = f"<= {_bound(bound, unit, factor)}"
    else:
        expected = "-"
    measured = _suite_number(verdict.get("point"), unit, factor)
    low, high = verdict.get("low"), verdict.get("high")
    if low is not None and high is not None and low != high:
        measured += f" [{_suite_number(low, unit, factor, False)}, {_suite_number(high, unit, factor, False)}]"
    return [
        str(verdict.get("promise")),
        expected,
        measured,
        str(verdict.get("verdict", "")).upper(),
        "gated" if verdict.get("gated") else "reported",
        str(verdict.get("evidence", "")),
    ]


def suite_status(section: dict[str, Any]) -> str:
    """Whether a suite ran: "FAILED: ...", "skipped: ..." or "ran in N s"."""
    if section.get("failed"):
        return f"FAILED: {section['failed']}"
    if section.get("skipped"):
        return f"skipped: {section['skipped']}"
    return f"ran in {seconds(section['duration_s'], 0)}" if section.get("duration_s") is not None else "ran"


def format_suite_table(doc: dict[str, Any]) -> str:
    """The extra suites' verdicts for the terminal, after the verdict table; "" when the run had none."""
    suites = doc.get("suites") or {}
    if not suites:
        return ""
    rows = {name: [suite_verdict_row(name, v) for v in s.get("verdicts") or []] for name, s in suites.items()}
    every = [SUITE_HEADER, *(r for suite_rows in rows.values() for r in suite_rows)]
    widths = [max(len(r[i]) for r in every) for i in range(5)]

    def line(r: list[str]) -> str:
        evidence = textwrap.shorten(r[5], EVIDENCE_WIDTH, placeholder=" ...")
        return "  " + "  ".join(r[i].ljust(widths[i]) for i in range(5)) + "  " + evidence

    lines = [line(SUITE_HEADER), "-" * min(160, sum(widths) + 40)]
    for name, section in suites.items():
        lines.append(f"suite {name}: {suite_status(section)}")
        lines += [line(r) for r in rows[name]]
    lines.append(f"notes, figures and the whole evidence: reports/runs/{doc['run_id']}/report.md")
    return "\n".join(lines)
