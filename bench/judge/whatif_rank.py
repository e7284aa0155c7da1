"""Ranking what-if screenings: estimated cost ratios per query and candidate, and how they rank against measured
speedups (Spearman). Reads the whatif document only, never a database."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def _geomean(values: Sequence[float], weights: Sequence[float] | None = None) -> float | None:
    pairs = [(v, 1.0 if weights is None else w) for v, w in zip(values, weights or values, strict=True)]
    pairs = [(v, w) for v, w in pairs if v > 0 and w > 0]
    total = sum(w for _, w in pairs)
    if not pairs or total <= 0:
        return None
    return math.exp(sum(w * math.log(v) for v, w in pairs) / total)


def cost_ratios(baseline: Sequence[Mapping[str, Any]], plans: Sequence[Mapping[str, Any]]) -> dict[str, float]:
    """Per case: estimated cost before / with the candidate, geometric mean over its parameters (draw-weighted)."""
    per_case: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for before, after in zip(baseline, plans, strict=True):
        if before["case"] != after["case"] or before["label"] != after["label"]:
            raise ValueError(f"plans out of step: {before['case']}/{before['label']} vs {after['case']}")
        if before["cost"] > 0 and after["cost"] > 0:
            per_case[before["case"]].append((before["cost"] / after["cost"], float(before.get("draws", 1))))
    ratios = {}
    for case, rows in per_case.items():
        value = _geomean([r for r, _ in rows], [w for _, w in rows])
        if value is not None:
            ratios[case] = value
    return ratios


def rank_candidates(document: Mapping[str, Any], weights: Mapping[str, float]) -> list[dict[str, Any]]:
    """Per candidate: its ratios, the workload-weighted geometric mean over application cases and the plain one
    over the design document's; best weighted score first (ties: the design document's), failed ones last."""
    baseline = document["baseline"]
    origins = {p["case"]: p["origin"] for p in baseline}
    ranked = []
    for cand in document["candidates"]:
        row: dict[str, Any] = {"name": cand["name"], "status": cand["status"], "error": cand.get("error")}
        if cand["status"] == "screened":
            ratios = cost_ratios(baseline, cand["plans"])
            app = [c for c in ratios if origins[c] == "application" and weights.get(c, 0) > 0]
            design = [c for c in ratios if origins[c] == "design document"]
            row["ratios"] = ratios
            row["app_weighted"] = _geomean([ratios[c] for c in app], [weights[c] for c in app])
            row["design_geomean"] = _geomean([ratios[c] for c in design])
            row["not_simulated"] = [i["definition"] for i in cand["indexes"] if i["how"] == "skipped"]
            row["built"] = [i["definition"] for i in cand["indexes"] if i["how"] == "built"]
        ranked.append(row)
    ranked.sort(
        key=lambda r: (r["status"] != "screened", -(r.get("app_weighted") or 0.0), -(r.get("design_geomean") or 0.0))
    )
    return ranked


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1  # ties share their average rank
        i = j + 1
    return ranks


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation (Pearson over average ranks); None under 3 pairs or with no spread."""
    if len(xs) != len(ys) or len(xs) < 3:
        return None
    rx, ry = _ranks(xs), _ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx, vy = sum((a - mx) ** 2 for a in rx), sum((b - my) ** 2 for b in ry)
    return None if vx == 0 or vy == 0 else cov / math.sqrt(vx * vy)


def measured_speedups(results: Mapping[str, Any]) -> dict[str, float]:
    """Point speedups per case of a results document: the query suite's cases and the app suite's (first mode)."""
    speedups: dict[str, float] = {}
    for case in results.get("cases") or []:
        point = (case.get("speedup") or {}).get("point")
        if point:
            speedups[case["name"]] = float(point)
    suites = results.get("suites") or {}
    for section in suites.values() if isinstance(suites, Mapping) else suites:
        cases = ((section or {}).get("records") or {}).get("cases")
        if not isinstance(cases, Mapping):
            continue
        for name, case in cases.items():
            modes = case.get("modes") if isinstance(case, Mapping) else None
            if isinstance(modes, Mapping) and modes:
                point = (next(iter(modes.values())).get("speedup") or {}).get("point")
                if point:
                    speedups.setdefault(name, float(point))
    return speedups


def correlation(ranked: Sequence[Mapping[str, Any]], measured: Mapping[str, float], candidate: str) -> dict[str, Any]:
    """Spearman over the cases both the screening (of `candidate`) and the measurement have."""
    row = next((r for r in ranked if r["name"] == candidate and r["status"] == "screened"), None)
    if row is None:
        return {"candidate": candidate, "cases": 0, "spearman": None, "why": f"no screened candidate {candidate!r}"}
    common = sorted(set(row["ratios"]) & set(measured))
    rho = spearman([row["ratios"][c] for c in common], [measured[c] for c in common])
    return {
        "candidate": candidate,
        "cases": len(common),
        "spearman": rho,
        "pairs": {c: {"estimated": row["ratios"][c], "measured": measured[c]} for c in common},
    }


def candidates_comparison(
    ranked: Sequence[Mapping[str, Any]],
    rows: Sequence[Mapping[str, Any]],
    measured_by_row: Mapping[str, Mapping[str, float]],
) -> dict[str, Any]:
    """Estimates against a `python -m bench candidates` run: per candidate both screened and measured, the estimated
    workload-weighted ratio beside the measured application ratio and the per-query Spearman of its estimates
    against its measured speedups; across those candidates, the Spearman of the two application figures (does the
    planner put the candidates in the measured order?). A row is matched to a screened candidate by its migration
    file's name (the screening names candidates after their files)."""
    screened = {r["name"]: r for r in ranked if r["status"] == "screened"}
    pairs = []
    for row in rows:
        stem = Path(str((row.get("migration") or {}).get("path") or row["name"])).stem
        measured = (row.get("app_ratio") or {}).get("point")
        estimate = screened.get(stem)
        if estimate is None or not row.get("measured") or measured is None:
            continue
        per_query = correlation(ranked, measured_by_row.get(row["name"], {}), stem)
        pairs.append(
            {
                "candidate": row["name"],
                "screened_as": stem,
                "estimated_app": estimate.get("app_weighted"),
                "measured_app": float(measured),
                "measured_low": (row.get("app_ratio") or {}).get("low"),
                "measured_high": (row.get("app_ratio") or {}).get("high"),
                "per_query_spearman": per_query.get("spearman"),
                "per_query_cases": per_query.get("cases", 0),
            }
        )
    usable = [p for p in pairs if p["estimated_app"] is not None]
    rho = spearman([p["estimated_app"] for p in usable], [p["measured_app"] for p in usable])
    return {"candidates": pairs, "spearman": rho, "n": len(usable)}
