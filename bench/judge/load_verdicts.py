"""Figures and verdicts of the concurrency suite, from its rounds (pure: no database, no pgbench).

A phase runs rounds of equal length on each instance, alternating before and after (ABBA). Each round
yields one value per figure (a P95, a throughput); an instance's figure is the median of its rounds with the
rounds' range as its interval (bench.judge.stats.rounds_interval), and a before/after ratio is the ratio of
the medians with the bootstrap interval of bench.judge.stats.ratio_interval over the rounds. Latency ratios
are before/after and throughput ratios after/before, so above 1 always means the after instance did better.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.core.verdict_words import VerdictWord
from bench.judge.stats import ratio_interval, rounds_interval
from bench.judge.verdicts import (
    Verdict,
    control_threshold,
    figure_verdict,
    judge_max,
    reported_ratio_verdict,
)

ROLES = ("before", "after")
LATENCY_FIGURES = ("p50", "p95", "p99", "p99.9", "max")
SPEC_READ_P95_MS = 100.0
SPEC_EVENTS_PER_S = 50_000.0
SPEC_SOURCE = "specs/20251031/001-database-architecture: P95 < 100 ms for time-range queries, > 50,000 event writes/s"
NOT_GATED = (
    "reported, not gated: load figures of a machine that runs the driver and both servers on shared cores; "
    "point the suite at production-sized servers by DSN to judge them there"
)


def _positive(values: Sequence[float | None]) -> list[float]:
    return [float(v) for v in values if v is not None and v > 0]


def rounds_figure(values: Sequence[float | None]) -> dict[str, Any] | None:
    kept = _positive(values)
    return rounds_interval(kept).to_dict() if kept else None


def ratio(
    better_when_lower: bool, before: Sequence[float | None], after: Sequence[float | None], seed: int
) -> dict[str, Any] | None:
    b, a = _positive(before), _positive(after)
    if not b or not a:
        return None
    estimate = ratio_interval(b, a, seed=seed) if better_when_lower else ratio_interval(a, b, seed=seed)
    return estimate.to_dict()


def _usable(rounds: Sequence[Mapping[str, Any]], role: str) -> list[Mapping[str, Any]]:
    return [r for r in rounds if r["role"] == role and not r["aborted"]]


def reader_figures(rounds: Sequence[Mapping[str, Any]], script: str, seed: int) -> dict[str, Any]:
    """One script's (or "all" scripts') figures per instance over the rounds, and the before/after ratios."""
    values: dict[str, dict[str, list[float | None]]] = {}
    row: dict[str, Any] = {}
    for role in ROLES:
        figures = [r["readers"][script] for r in _usable(rounds, role) if script in r.get("readers", {})]
        values[role] = {k: [f["latency_ms"][k] for f in figures] for k in LATENCY_FIGURES}
        values[role]["tps"] = [f["tps"] for f in figures]
        values[role]["exec_p95"] = [f["exec_ms"]["p95"] for f in figures]
        values[role]["lag_p95"] = [(f["lag_ms"] or {}).get("p95") for f in figures]
        row[role] = {
            "rounds": len(figures),
            **{k: rounds_figure(v) for k, v in values[role].items()},
            "transactions": sum(f["transactions"] for f in figures),
            "skipped": sum(f["skipped"] for f in figures),
            "failed": sum(f["failed"] for f in figures),
            "late": sum(f["late"] or 0 for f in figures) if any(f["late"] is not None for f in figures) else None,
        }
    row["p95_speedup"] = ratio(True, values["before"]["p95"], values["after"]["p95"], seed)
    row["p99_speedup"] = ratio(True, values["before"]["p99"], values["after"]["p99"], seed)
    row["tps_ratio"] = ratio(False, values["before"]["tps"], values["after"]["tps"], seed)
    return row


def ingest_figures(rounds: Sequence[Mapping[str, Any]], seed: int) -> dict[str, Any] | None:
    if not any("ingest" in r for r in rounds):
        return None
    per_role = {role: [r["ingest"]["events_per_s"] for r in _usable(rounds, role) if "ingest" in r] for role in ROLES}
    offered = next(r["ingest"]["offered_events_per_s"] for r in rounds if "ingest" in r)
    return {
        "offered_events_per_s": offered,
        **{role: rounds_figure(per_role[role]) for role in ROLES},
        "ratio": ratio(False, per_role["before"], per_role["after"], seed),
    }


def cpu_figures(rounds: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for role in ROLES:
        mine = [r["cpu"] for r in rounds if r["role"] == role]
        out[role] = {
            "driver_share": rounds_figure([c["driver_share"] for c in mine]),
            "machine_busy": rounds_figure([c["machine_busy"] for c in mine]),
            "driver_cpu_s": sum(c["driver_cpu_s"] for c in mine),
            "server_cpu_s": sum(c["server_cpu_s"] or 0.0 for c in mine)
            if all(c["server_cpu_s"] is not None for c in mine)
            else None,
        }
    return out


def phase_summary(rounds: Sequence[Mapping[str, Any]], scripts: Sequence[str], seed: int) -> dict[str, Any]:
    readers = any("readers" in r for r in rounds)
    return {
        "rounds_per_instance": {role: len([r for r in rounds if r["role"] == role]) for role in ROLES},
        "aborted_rounds": sum(1 for r in rounds if r["aborted"]),
        "scripts": {s: reader_figures(rounds, s, seed) for s in ["all", *scripts]} if readers else {},
        "ingest": ingest_figures(rounds, seed),
        "cpu": cpu_figures(rounds),
    }


# ---- verdicts -----------------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f} ms" if value >= 10 else f"{value:.3g} ms"


def read_p95_verdict(
    phase: Mapping[str, Any], role: str, rate: float | None, bound_ms: float = SPEC_READ_P95_MS
) -> Verdict:
    """The application's reads, all scripts pooled: P95 at the offered rate against the specification's bound."""
    figures = phase["scripts"].get("all", {}).get(role, {})
    p95 = figures.get("p95")
    verdict = judge_max(p95["low"], p95["high"], bound_ms) if p95 else VerdictWord.FAILED
    evidence = (
        "measurement failed: no transaction completed"
        if not p95
        else (
            f"P95 {_ms(p95['point'])} (rounds {_ms(p95['low'])}-{_ms(p95['high'])}, {p95['n_rounds']} rounds) at "
            f"{rate:g} reads/s offered; {figures['transactions']:,} transactions, {figures['skipped']:,} skipped and "
            f"{figures['late'] or 0:,} over {bound_ms:g} ms"
        )
    )
    return Verdict(
        promise=f"load_read_p95_{role}",
        kind="max",
        verdict=verdict,
        point=p95["point"] if p95 else None,
        low=p95["low"] if p95 else None,
        high=p95["high"] if p95 else None,
        expected_min=None,
        expected_max=None,
        bound=bound_ms,
        gated=False,
        reason=NOT_GATED,
        evidence=evidence + f"; {SPEC_SOURCE}",
    )


def judge_at_least(value: float | None, bound: float, stopped_early: bool) -> VerdictWord:
    """A sustained rate against a floor: met at or above it; below it, not met only if the search found the limit."""
    if value is None:
        return VerdictWord.FAILED
    if value >= bound:
        return VerdictWord.MET
    return VerdictWord.INCONCLUSIVE if stopped_early else VerdictWord.NOT_MET


def ingest_verdict(search: Mapping[str, Any], role: str, bound: float = SPEC_EVENTS_PER_S) -> Verdict:
    found = search[role]
    value = found.get("highest_sustained_events_per_s")
    stopped_early = found.get("limit_found") is False
    evidence = (
        f"highest ingest rate sustained with read P95 < {search['read_p95_bound_ms']:g} ms: "
        + (
            f"{value:,.0f} events/s"
            if value is not None
            else f"none (even {found['steps'][0]['offered_events_per_s']:,.0f} events/s failed)"
            if found.get("steps")
            else "not measured"
        )
        + f" over {len(found.get('steps', []))} steps"
        + ("; the search ended before finding the limit" if stopped_early else "")
        + f"; the specification expects > {bound:,.0f} events/s"
    )
    return figure_verdict(
        promise=f"load_ingest_{role}",
        kind="min",
        verdict=judge_at_least(value, bound, stopped_early) if found.get("steps") else VerdictWord.FAILED,
        value=value,
        reason=NOT_GATED,
        evidence=evidence,
        expected_min=bound,
        bound=bound,
    )


def ratio_verdict(name: str, estimate: Mapping[str, Any] | None, what: str, tolerance_pct: float) -> Verdict:
    """A before/after ratio under load judged like a single-client control: a regression beyond the tolerance."""
    threshold = control_threshold(tolerance_pct)
    if estimate is None:
        evidence = f"measurement failed: {what} missing on an instance"
        low = high = point = None
    else:
        point, low, high = estimate["point"], estimate["low"], estimate["high"]
        evidence = (
            f"{what} {point:.3g}x ({estimate['confidence'] * 100:g}% CI {low:.3g}-{high:.3g}x over the rounds); "
            f"regression below {threshold:.3g}x ({tolerance_pct:g}% tolerance)"
        )
    return reported_ratio_verdict(name, point, low, high, tolerance_pct, evidence, NOT_GATED)


def load_verdicts(records: Mapping[str, Any], tolerance_pct: float) -> list[Verdict]:
    phases = records["phases"]
    verdicts: list[Verdict] = []
    headline = phases.get("open_loop_prepared")
    if headline:
        verdicts += [read_p95_verdict(headline["summary"], role, headline["load"]["rate"]) for role in ROLES]
    search = records.get("ingest_search")
    if search and not search.get("skipped"):
        verdicts += [ingest_verdict(search, role) for role in ROLES]
    if headline:
        scripts = headline["summary"]["scripts"]
        verdicts.append(
            ratio_verdict("load_p95_ratio", scripts["all"]["p95_speedup"], "read P95 before/after", tolerance_pct)
        )
        verdicts.append(
            ratio_verdict("load_p99_ratio", scripts["all"]["p99_speedup"], "read P99 before/after", tolerance_pct)
        )
        for name, row in scripts.items():
            if name != "all":
                verdicts.append(
                    ratio_verdict(f"load_p95:{name}", row["p95_speedup"], "P95 before/after", tolerance_pct)
                )
    closed = phases.get("closed_loop")
    if closed:
        tps = closed["summary"]["scripts"]["all"]["tps_ratio"]
        verdicts.append(
            ratio_verdict("load_throughput_ratio", tps, "closed-loop throughput after/before", tolerance_pct)
        )
    mixed = phases.get("mixed")
    if mixed:
        p95 = mixed["summary"]["scripts"]["all"]["p95_speedup"]
        verdicts.append(
            ratio_verdict("load_mixed_read_p95_ratio", p95, "read P95 with ingest, before/after", tolerance_pct)
        )
    cold = phases.get("cold_open_loop")
    if cold:
        p95 = cold["summary"]["scripts"]["all"]["p95_speedup"]
        verdicts.append(ratio_verdict("load_cold_p95_ratio", p95, "cold-cache read P95 before/after", tolerance_pct))
    return verdicts
