"""From raw per-sample records to per-case statistics and a verdict for every promise and control."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from bench.core.cases import Case
from bench.core.verdict_words import VerdictWord
from bench.judge.pooled import pairs_by_round, pooled_speedup_interval
from bench.judge.stats import SpeedupEstimate, speedup, summarize_latencies
from bench.judge.verdicts import Targets, Verdict, control_verdict, max_verdict, speedup_range_verdict

ROLES = ("before", "after")


def analyze_sample(record: dict[str, Any]) -> dict[str, Any]:
    before = record["latencies_ms"]["before"]
    after = record["latencies_ms"]["after"]
    return {
        **{k: v for k, v in record.items() if k != "raw_plans"},
        "summary": {role: summarize_latencies(record["latencies_ms"][role]).to_dict() for role in ROLES},
        "speedup": speedup(before, after),
    }


def _failure_text(samples: list[dict[str, Any]]) -> str:
    failed = []
    for s in samples:
        for role in ROLES:
            if s["errors"][role]:
                failed.append(f"{s['label']}/{role}: {s['errors'][role]}")
    return "; ".join(failed)


def _plan_check(case: Case, samples: list[dict[str, Any]]) -> dict[str, Any]:
    after_plans = [s["plans"]["after"] for s in samples if s["plans"]["after"]]
    before_used = sorted({i for s in samples if s["plans"]["before"] for i in s["plans"]["before"]["indexes_used"]})
    after_used = sorted({i for p in after_plans for i in p["indexes_used"]})
    # The full shape for every case (the typed model's PlanCheck), so a written document reads back unchanged.
    check: dict[str, Any] = {
        "before_indexes_used": before_used,
        "after_indexes_used": after_used,
        "expected_index": None,
        "params_using_expected": 0,
        "params_planned": 0,
        "holds": None,
    }
    if case.after_uses:
        using = sum(1 for p in after_plans if p.get("uses_expected_index"))
        check.update(
            expected_index=case.after_uses,
            params_using_expected=using,
            params_planned=len(after_plans),
            holds=bool(after_plans) and using == len(after_plans),
        )
    return check


def analyze_case(case: Case, records: list[dict[str, Any]], seed: int) -> dict[str, Any]:
    samples = [analyze_sample(r) for r in records]
    failures = _failure_text(samples)
    estimate, rounds = None, None
    if samples and not failures:
        # One round (no "round" keys) is today's two-level bootstrap; several are pooled (bench/judge/pooled.py).
        pooled = pooled_speedup_interval(pairs_by_round(samples), seed=seed)
        estimate = pooled.estimate.to_dict()
        if pooled.n_rounds > 1:
            rounds = {"n_rounds": pooled.n_rounds, "between_run_share": pooled.between_run_share}
    return {
        "name": case.name,
        "kind": case.kind,
        "promise": case.promise,
        "sql_file": f"bench/queries/{case.name}.sql",
        "sql": case.sql,
        "samples": samples,
        "speedup": estimate,
        "failures": failures or None,
        "unstable": sorted({f"{s['label']}/{r}" for s in samples for r in ROLES if s["summary"][r]["unstable"]}),
        "plan_check": _plan_check(case, samples),
        "same_rows": all(s["same_rows"] for s in samples) if samples else None,
        **({"rounds": rounds} if rounds else {}),
    }


def judge(cases: list[dict[str, Any]], storage: dict[str, Any] | None, targets: Targets, seed: int) -> list[Verdict]:
    by_name = {c["name"]: c for c in cases}
    verdicts: list[Verdict] = []
    for promise in targets.promises:
        if promise.kind == "max":
            value = storage.get(promise.metric or "") if storage else None
            verdicts.append(max_verdict(promise, value, "" if storage else "storage was not measured"))
            continue
        measured = [by_name[n] for n in promise.cases if n in by_name]
        if not measured:
            skipped = speedup_range_verdict(promise, None, 0, "not measured in this run")
            verdicts.append(
                _replace(skipped, verdict=VerdictWord.NOT_MEASURED, evidence="its cases were not selected in this run")
            )
            continue
        failures = "; ".join(f"{c['name']}: {c['failures']}" for c in measured if c["failures"])
        estimate = None
        if not failures:
            rounds = pairs_by_round([s for c in measured for s in c["samples"]])
            estimate = pooled_speedup_interval(rounds, seed=seed).estimate if rounds else None
        verdict = speedup_range_verdict(promise, estimate, len(measured), failures or "no parameters")
        verdicts.append(_with_plan_note(verdict, measured))
    per_control: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        if c["kind"] == "control":
            per_control[c["name"]].append(c)
    for name, (case,) in per_control.items():
        # analyze_case bootstrapped this case from the same samples with the same seed; its estimate is reused.
        estimate = SpeedupEstimate(**case["speedup"]) if case["speedup"] and not case["failures"] else None
        verdict = control_verdict(name, estimate, targets, case["failures"] or "")
        if case["same_rows"] is False:
            verdict = _replace(verdict, evidence=verdict.evidence + "; RESULTS DIFFER between before and after")
        verdicts.append(verdict)
    return verdicts


def _replace(v: Verdict, **changes: Any) -> Verdict:
    from dataclasses import replace

    return replace(v, **changes)


def _with_plan_note(verdict: Verdict, cases: list[dict[str, Any]]) -> Verdict:
    notes = []
    for c in cases:
        check = c["plan_check"]
        if check.get("expected_index") and not check.get("holds"):
            notes.append(
                f"{c['name']}: after used {check['expected_index']} in {check['params_using_expected']}/"
                f"{check['params_planned']} parameters (used: {', '.join(check['after_indexes_used']) or 'none'})"
            )
    if not notes:
        return _replace(verdict, evidence=verdict.evidence + "; after plans use the new index")
    return _replace(verdict, evidence=verdict.evidence + "; NEW INDEX NOT ALWAYS USED: " + "; ".join(notes))
