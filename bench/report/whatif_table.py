"""whatif.md and the terminal table of a what-if screening: candidates ranked by estimated cost ratio, per query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def format_whatif(
    document: Mapping[str, Any],
    ranked: Sequence[Mapping[str, Any]],
    correlation: Mapping[str, Any] | None,
    comparison: Mapping[str, Any] | None = None,
) -> str:
    screened = [r for r in ranked if r["status"] == "screened"]
    lines = [
        "# What-if screening (HypoPG, planner estimates, nothing timed)",
        "",
        f"hypopg {document['hypopg_version']}, engine {document['engine']}, {document['queries']} queries with sampled "
        "parameters. A ratio is the estimated total cost before / with the candidate: above 1x the planner expects "
        "the candidate to be cheaper. Estimates rank candidates; only `python -m bench bench` measures them.",
        "",
        "| rank | candidate | app (workload-weighted) | design document | simulated as | notes |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for position, row in enumerate(ranked, start=1):
        if row["status"] != "screened":
            lines.append(f"| - | {row['name']} | failed | failed | | {row['error']} |")
            continue
        cand = next(c for c in document["candidates"] if c["name"] == row["name"])
        kinds = sorted({i["how"] for i in cand["indexes"] if i["how"] != "ignored"})
        notes = []
        if row["built"]:
            notes.append(f"{len(row['built'])} index(es) hypopg cannot simulate built and rolled back")
        if row["not_simulated"]:
            notes.append(f"not simulated: {'; '.join(row['not_simulated'])}")
        lines.append(
            f"| {position} | {row['name']} | {_ratio(row['app_weighted'])} | {_ratio(row['design_geomean'])} | "
            f"{', '.join(kinds)} | {'; '.join(notes)} |"
        )
    if screened:
        cases = sorted({c for r in screened for c in r["ratios"]})
        lines += ["", "## Per query", "", "| query | " + " | ".join(r["name"] for r in screened) + " |"]
        lines.append("| --- |" + " --- |" * len(screened))
        for case in cases:
            lines.append(f"| {case} | " + " | ".join(_ratio(r["ratios"].get(case)) for r in screened) + " |")
    if correlation is not None:
        rho = correlation.get("spearman")
        lines += [
            "",
            "## Estimates against measured speedups",
            "",
            f"Spearman rank correlation of `{correlation['candidate']}`'s estimated ratios with the measured speedups "
            f"over {correlation.get('cases', 0)} queries: "
            + ("n/a" if rho is None else f"{rho:.2f}")
            + (f" ({correlation['why']})" if correlation.get("why") else ""),
        ]
    if comparison is not None:
        lines += _comparison_lines(comparison)
    return "\n".join(lines) + "\n"


def _comparison_lines(comparison: Mapping[str, Any]) -> list[str]:
    """Estimated against measured, candidate by candidate (a `python -m bench candidates` run)."""
    lines = [
        "",
        f"## Estimates against the measured candidates ({comparison.get('source', 'a candidates run')})",
        "",
        "| candidate | estimated app ratio | measured app ratio [95%] | per-query Spearman (queries) |",
        "| --- | --- | --- | --- |",
    ]
    for pair in comparison["candidates"]:
        low, high = pair.get("measured_low"), pair.get("measured_high")
        interval = f" [{low:.2f}, {high:.2f}]" if low is not None and high is not None else ""
        rho = pair.get("per_query_spearman")
        lines.append(
            f"| {pair['candidate']} | {_ratio(pair['estimated_app'])} | {pair['measured_app']:.2f}x{interval} | "
            f"{'n/a' if rho is None else f'{rho:.2f}'} ({pair['per_query_cases']}) |"
        )
    rho = comparison.get("spearman")
    lines += [
        "",
        f"Across the {comparison['n']} candidates both screened and measured, the Spearman rank correlation of the "
        "estimated with the measured application ratio is "
        + ("n/a (fewer than 2 candidates, or a tie)" if rho is None else f"{rho:.2f}")
        + ": 1 means the planner's estimates put the candidates in the measured order.",
    ]
    estimates = [round(p["estimated_app"], 2) for p in comparison["candidates"] if p["estimated_app"] is not None]
    tied = sum(1 for e in estimates if estimates.count(e) > 1)
    if tied:
        lines.append(
            f"{tied} of them share an estimate with another (the same "
            "indexes serve the application's queries, to the planner): the planner does not rank those, and the "
            "correlation rests on the others. Where their measured intervals overlap too, neither does the "
            "measurement."
        )
    if not comparison["candidates"]:
        lines.append(
            "No candidate of that run was screened here: screen the same files (`--candidates` names them by file)."
        )
    return lines
