"""The application's verdict: per-case statistics, frequency-weighted database time, and the JSON-filter finding.

Pure functions over the records the app suite leaves (bench.measure.suites.app). A record is one parameter of
one case under one plan cache mode, as bench.measure.timing.measure_sample returns it, plus `draws` (how many of
the access model's draws fell on that parameter) and `plan_counts` (executions per role that used a generic or
a custom plan). Weighted time sums executions x mean median latency over the cases a unit issues; its interval
is bench.judge.stats.bootstrap_weighted_time's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.core.formatting import duration as time_text
from bench.core.formatting import ratio
from bench.core.workload import Workload
from bench.judge.analysis import analyze_sample
from bench.judge.stats import bootstrap_speedup_interval, bootstrap_weighted_time, summarize_latencies
from bench.judge.verdicts import Verdict, control_threshold, figure_verdict, reported_ratio_verdict

ROLES = ("before", "after")
GIN_INDEX = "agent_events_data_idx"
# The JSON-filter finding: the forms Prisma emits for a filter on `data`, and the contrast the index can serve.
PRISMA_JSON_CASES = ("app_json_filter", "app_json_filter_array_contains")
CONTAINMENT_CASE = "app_json_containment_nopath"
NOT_GATED = (
    "reported, not gated: the application's mix and access model are inferred from its source, not measured traffic"
)
Pairs = list[tuple[list[float], list[float]]]


def expanded_pairs(samples: Sequence[Mapping[str, Any]]) -> Pairs:
    """One (before, after) pair per draw: a parameter drawn k times counts k times."""
    pairs: Pairs = []
    for s in samples:
        before = [float(v) for v in s["latencies_ms"]["before"] if v is not None]
        after = [float(v) for v in s["latencies_ms"]["after"] if v is not None]
        pairs.extend([(before, after)] * int(s.get("draws", 1)))
    return pairs


def _failures(records: Sequence[Mapping[str, Any]]) -> str:
    failed = [f"{r['label']}/{role}: {r['errors'][role]}" for r in records for role in ROLES if r["errors"][role]]
    failed += [
        f"{r['label']}/{role}: failed execution"
        for r in records
        for role in ROLES
        if not r["errors"][role] and any(v is None for v in r["latencies_ms"][role])
    ]
    return "; ".join(failed)


def analyze_mode(records: Sequence[Mapping[str, Any]], after_uses: str | None, seed: int) -> dict[str, Any]:
    """One case under one plan cache mode: latency figures, speedup, mean time, plans and plan-kind counts."""
    samples = [{**analyze_sample(dict(r)), "draws": int(r.get("draws", 1))} for r in records]
    failures = _failures(records)
    pooled = {role: [v for s in samples for v in s["latencies_ms"][role] * s["draws"]] for role in ROLES}
    speedup = mean_time = None
    if samples and not failures:
        pairs = expanded_pairs(samples)
        speedup = bootstrap_speedup_interval(pairs, seed=seed).to_dict()
        mean_time = bootstrap_weighted_time([(1.0, pairs)], seed=seed).to_dict()
    plans: dict[str, Any] = {}
    for role in ROLES:
        role_plans = [s["plans"][role] for s in samples if s["plans"].get(role)]
        plans[role] = {
            "indexes_used": sorted({i for p in role_plans for i in p["indexes_used"]}),
            "scan_types": sorted({t for p in role_plans for t in p["scan_types"]}),
            "explained_as": _count(s.get("explained_as", {}).get(role) for s in samples),
        }
    after_plans = [s["plans"]["after"] for s in samples if s["plans"].get("after")]
    plan_check: dict[str, Any] = {"expected_index": after_uses}
    if after_uses:
        using = sum(1 for p in after_plans if after_uses in p["indexes_used"])
        plan_check.update(params_using_expected=using, params_planned=len(after_plans))
        plan_check["holds"] = bool(after_plans) and using == len(after_plans)
    return {
        "samples": samples,
        "draws": sum(s["draws"] for s in samples),
        "summary": {role: summarize_latencies(pooled[role]).to_dict() for role in ROLES},
        "speedup": speedup,
        "mean_time": mean_time,
        "failures": failures or None,
        "same_rows": all(s["same_rows"] for s in samples) if samples else None,
        "plans": plans,
        "plan_check": plan_check,
        "plan_counts": {
            role: {
                k: sum(int((s.get("plan_counts") or {}).get(role, {}).get(k, 0)) for s in samples)
                for k in ("generic", "custom")
            }
            for role in ROLES
        },
    }


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for v in values:
        if v:
            counts[v] = counts.get(v, 0) + 1
    return counts


def weighted_estimate(
    weights: Mapping[str, float], cases: Mapping[str, Mapping[str, Any]], mode: str, seed: int
) -> dict[str, Any]:
    """Database time per unit (weights: executions of each case), or the reason there is none."""
    missing = [c for c in weights if mode not in (cases.get(c) or {}).get("modes", {})]
    if missing:
        return {"estimate": None, "failure": f"not measured: {', '.join(missing)}"}
    failed = [f"{c}: {cases[c]['modes'][mode]['failures']}" for c in weights if cases[c]["modes"][mode]["failures"]]
    if failed:
        return {"estimate": None, "failure": "; ".join(failed)}
    terms = [(weight, expanded_pairs(cases[c]["modes"][mode]["samples"])) for c, weight in weights.items()]
    return {"estimate": bootstrap_weighted_time(terms, seed=seed).to_dict(), "failure": None}


def unit_estimates(workload: Workload, cases: Mapping[str, Mapping[str, Any]], seed: int) -> dict[str, Any]:
    """Per mode: each unit's database time per `per` units, and the page-view headline."""
    out: dict[str, Any] = {}
    for mode in workload.plan_cache_modes:
        rows = {}
        for unit in workload.units:
            weights = {c: n * unit.per for c, n in unit.cases.items()}
            rows[unit.name] = {"title": unit.title, "per": unit.per, **weighted_estimate(weights, cases, mode, seed)}
        rows["page_views"] = {
            "title": "page views",
            "per": workload.page_views_per,
            **weighted_estimate(workload.page_view_weights(), cases, mode, seed),
        }
        out[mode] = rows
    return out


def per_text(per: float, title: str) -> str:
    """ "1,000 dashboard loads with ?projectId=", "hour of an open dashboard"."""
    if per == 1:
        return title
    head, sep, tail = title.partition(" with ")
    head = head if head.endswith("s") else head + "s"
    return f"{per:,.0f} {head}{sep}{tail}"


def weighted_verdict(name: str, row: Mapping[str, Any], mode: str, tolerance_pct: float) -> Verdict:
    # Rounded for display only; the judgement uses the exact threshold.
    threshold = round(control_threshold(tolerance_pct), 3)
    est = row["estimate"]
    per = per_text(row["per"], row["title"])
    if est is None:
        low = high = point = None
        evidence = f"database time per {per} ({mode}): measurement failed: {row['failure']}"
    else:
        low, high, point = est["low"], est["high"], est["speedup"]
        evidence = (
            f"database time per {per} ({mode} plan cache mode): before {time_text(est['before_ms'])} "
            f"[{time_text(est['before_low'])}, {time_text(est['before_high'])}], after {time_text(est['after_ms'])} "
            f"[{time_text(est['after_low'])}, {time_text(est['after_high'])}]; before/after {ratio(point)} "
            f"({est['confidence'] * 100:g}% CI {low:.3g}-{high:.3g}x) over {est['n_cases']} cases, "
            f"{est['n_params']} parameter draws"
        )
    return reported_ratio_verdict(f"{name}@{mode}", point, low, high, tolerance_pct, evidence, NOT_GATED, threshold)


def app_verdicts(
    workload: Workload, units: Mapping[str, Any], json_finding: Mapping[str, Any] | None, tolerance_pct: float
) -> list[Verdict]:
    """Every unit under the application's own mode; page views and the non-page units under the other modes."""
    headline = workload.headline_mode
    non_page = [u.name for u in workload.units if u.name not in workload.page_view_mix]
    verdicts = [weighted_verdict("page_views", units[headline]["page_views"], headline, tolerance_pct)]
    verdicts += [weighted_verdict(u.name, units[headline][u.name], headline, tolerance_pct) for u in workload.units]
    for mode in workload.plan_cache_modes[1:]:
        for name in ["page_views", *non_page]:
            verdicts.append(weighted_verdict(name, units[mode][name], mode, tolerance_pct))
    if json_finding and json_finding.get("verdict"):
        verdicts.append(json_verdict(json_finding))
    return verdicts


def json_filter_finding(cases: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """Which index each JSON form's plans use, per mode and instance; None when no JSON case ran."""
    forms: dict[str, Any] = {}
    for name in (*PRISMA_JSON_CASES, CONTAINMENT_CASE):
        case = cases.get(name)
        if not case:
            continue
        forms[name] = {
            mode: {
                role: {
                    "indexes_used": m["plans"][role]["indexes_used"],
                    "scan_types": m["plans"][role]["scan_types"],
                    "params_using_gin": sum(
                        1
                        for s in m["samples"]
                        if s["plans"].get(role) and GIN_INDEX in s["plans"][role]["indexes_used"]
                    ),
                    "params_planned": sum(1 for s in m["samples"] if s["plans"].get(role)),
                }
                for role in ROLES
            }
            for mode, m in case["modes"].items()
        }
    if not forms:
        return None
    prisma = [(n, mode, f["after"]) for n in PRISMA_JSON_CASES if n in forms for mode, f in forms[n].items()]
    planned = sum(a["params_planned"] for _, _, a in prisma)
    using = sum(a["params_using_gin"] for _, _, a in prisma)
    verdict = None
    if planned:
        verdict = "held" if using == planned else "not held" if using == 0 else "inconclusive"
    return {"forms": forms, "prisma_after_plans": planned, "prisma_after_plans_using_gin": using, "verdict": verdict}


def json_verdict(finding: Mapping[str, Any]) -> Verdict:
    parts = []
    for name, modes in finding["forms"].items():
        per_mode = ", ".join(
            f"{mode} {f['after']['params_using_gin']}/{f['after']['params_planned']}" for mode, f in modes.items()
        )
        indexes = sorted({i for f in modes.values() for i in f["after"]["indexes_used"]})
        scans = sorted({t for f in modes.values() for t in f["after"]["scan_types"]})
        parts.append(
            f"{name}: after plans using {GIN_INDEX} {per_mode} (indexes {', '.join(indexes) or 'none'}; "
            f"scans {', '.join(scans) or 'none'})"
        )
    share = finding["prisma_after_plans_using_gin"] / finding["prisma_after_plans"]
    return figure_verdict(
        promise="gin_serves_prisma_json_filters",
        kind="claim",
        verdict=finding["verdict"],
        value=share,
        reason="reported, not gated: no shipped page filters data; a finding about what a Prisma JSON filter would get",
        evidence="; ".join(parts),
        expected_min=1.0,
        bound=1.0,
    )
