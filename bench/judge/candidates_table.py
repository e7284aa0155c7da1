"""The candidates table: one row per candidate migration from its results document, the Pareto front of read gain
against storage overhead, and the recommendation within the storage target.

Pure functions over results documents (dicts, as bench.measure.run writes them); `python -m bench candidates`
(bench.cli.candidates) measures the candidates and hands their documents here. Nothing here times or connects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

APP_VERDICT = "page_views@auto"  # the app suite's weighted database time per 1,000 page views, auto plan cache
WRITE_VERDICT = "ingested_events"  # the app_writes suite's database time per ingested events
STORAGE_METRIC = "storage_overhead_pct"
HOLDS = ("within", "above")  # a speedup promise's verdicts that keep it
# The claim columns: row key -> (suite, verdict). The migration suite measures any migration's first application
# under a writer and its second application; the compatibility suite compares every query's rows before/after.
CLAIMS = {
    "write_stall": ("migration", "migration_non_blocking"),
    "idempotent": ("migration", "migration_idempotent"),
    "backward_compatible": ("compatibility", "backward_compatible"),
}

Row = dict[str, Any]


def _interval(verdict: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if verdict is None or verdict.get("point") is None:
        return None
    return {
        "point": float(verdict["point"]),
        "low": None if verdict.get("low") is None else float(verdict["low"]),
        "high": None if verdict.get("high") is None else float(verdict["high"]),
        "verdict": verdict.get("verdict"),
    }


def _section(doc: Mapping[str, Any], suite: str) -> Mapping[str, Any]:
    return (doc.get("suites") or {}).get(suite) or {}


def _verdict(doc: Mapping[str, Any], suite: str, promise: str) -> Mapping[str, Any] | None:
    return next((v for v in _section(doc, suite).get("verdicts") or [] if v.get("promise") == promise), None)


def _suite_problem(doc: Mapping[str, Any], suite: str) -> str | None:
    """Why a suite that ran has no verdicts: its failure or the reason it was skipped."""
    why = _section(doc, suite).get("failed") or _section(doc, suite).get("skipped")
    return f"{suite}: {why}" if why else None


def _suite_verdict(doc: Mapping[str, Any], suite: str, promise: str) -> tuple[dict[str, Any] | None, str | None]:
    """The interval of one suite verdict, or None with why (suite not run, failed, or verdict missing)."""
    if not _section(doc, suite):
        return None, f"{suite} suite not run"
    problem = _suite_problem(doc, suite)
    if problem:
        return None, problem
    found = _interval(_verdict(doc, suite, promise))
    return found, None if found is not None else f"{suite}: no {promise} verdict (failed measurement)"


def _claim(doc: Mapping[str, Any], suite: str, promise: str) -> dict[str, Any] | None:
    """A suite's claim verdict (idempotent, non-blocking, backward compatible): its word, its figure and its
    evidence; None when the suite was not run or did not reach it (the row's notes say which)."""
    verdict = _verdict(doc, suite, promise)
    if verdict is None:
        return None
    return {"verdict": verdict.get("verdict"), "value": verdict.get("point"), "evidence": verdict.get("evidence")}


def candidate_row(name: str, doc: Mapping[str, Any], migration: Mapping[str, Any] | None = None) -> Row:
    """A measured candidate: its application ratio, promises, storage, write cost, migration duration and write
    stall, idempotency and backward compatibility."""
    app, app_note = _suite_verdict(doc, "app", APP_VERDICT)
    writes, write_note = _suite_verdict(doc, "app_writes", WRITE_VERDICT)
    claims = {key: _claim(doc, suite, promise) for key, (suite, promise) in CLAIMS.items()}
    claim_notes = {problem for suite, _ in CLAIMS.values() if (problem := _suite_problem(doc, suite))}
    promises = {v["promise"]: _interval(v) for v in doc.get("verdicts") or [] if v.get("kind") == "speedup_range"}
    storage = (doc.get("storage") or {}).get(STORAGE_METRIC)
    load = doc.get("load") or {}
    return {
        "name": name,
        "applied": True,
        "measured": True,
        "error": None,
        "migration": dict(migration or (doc.get("dataset") or {}).get("migration") or {}),
        "run_id": doc.get("run_id"),
        "app_ratio": app,
        "promises": promises,
        "storage_overhead_pct": None if storage is None else float(storage),
        "write_ratio": writes,
        "migrate_s": migration_seconds(load),
        **claims,
        "notes": [n for n in (app_note, write_note) if n and "not run" not in n] + sorted(claim_notes),
    }


def migration_seconds(load: Mapping[str, Any]) -> float | None:
    """The migration's duration: the load's migrate_s (copy path: statements, VACUUM ANALYZE and checks), else the
    sum of its statements' times (after loaded beside before); None when the load was reused, not redone."""
    if load.get("migrate_s") is not None:
        return float(load["migrate_s"])
    steps = [s.get("seconds") for s in load.get("migration") or []]
    return float(sum(steps)) if steps and all(v is not None for v in steps) else None


def failed_row(name: str, error: str, applied: bool = False, migration: Mapping[str, Any] | None = None) -> Row:
    """A candidate that did not apply (applied=False) or could not be measured: recorded with its error."""
    return {
        "name": name,
        "applied": applied,
        "measured": False,
        "error": error,
        "migration": dict(migration or {}),
        "run_id": None,
        "app_ratio": None,
        "promises": {},
        "storage_overhead_pct": None,
        "write_ratio": None,
        "migrate_s": None,
        **dict.fromkeys(CLAIMS),
        "notes": [],
    }


def _point(interval: Mapping[str, Any] | None) -> float | None:
    return None if interval is None else interval.get("point")


def _objectives(row: Row) -> tuple[float, float, float | None] | None:
    """(read gain, storage overhead, ingest ratio) of a measured row; None when it lacks the first two."""
    gain, storage = _point(row["app_ratio"]), row["storage_overhead_pct"]
    if not row["measured"] or gain is None or storage is None:
        return None
    return float(gain), float(storage), _point(row["write_ratio"])


def _dominates(a: tuple[float, float, float | None], b: tuple[float, float, float | None]) -> bool:
    """a is at least as good as b on every objective b has and better on one: a higher read gain, a lower storage
    overhead, a higher ingest ratio (before/after: above 1x the writes got faster). Without a write figure of its
    own, a cannot dominate a row that has one."""
    if b[2] is not None and a[2] is None:
        return False  # a row whose write cost is unknown cannot beat one whose write cost is measured
    pairs = [(a[0], b[0]), (-a[1], -b[1])]
    if a[2] is not None and b[2] is not None:
        pairs.append((a[2], b[2]))
    return all(x >= y for x, y in pairs) and any(x > y for x, y in pairs)


def pareto_front(rows: Sequence[Row]) -> list[str]:
    """Names of the measured rows no other row beats on read gain (app ratio, higher is better), storage overhead
    (lower is better) and write cost (ingest ratio, higher is better; compared only where both rows have it); a row
    lacking the read gain or the storage overhead is on no front."""
    points = [(r["name"], o) for r in rows if (o := _objectives(r)) is not None]
    return [name for name, o in points if not any(_dominates(other, o) for n, other in points if n != name)]


def _claim_lost(key: str, claim: Mapping[str, Any] | None) -> str | None:
    """How a claim column that does not hold reads in `gives_up`; None when it holds or was not measured."""
    if claim is None or claim.get("verdict") in ("held", None):
        return None
    verdict = claim["verdict"]
    if verdict == "failed":
        return "the migration failed on the scratch copy" if key != "backward_compatible" else None
    if key == "write_stall":
        stall = f"{claim['value']:,.0f} ms stall" if claim.get("value") is not None else "a stall"
        if verdict == "inconclusive":
            return f"non-blocking unproven ({stall} with no lock wait seen: a busy machine?)"
        return f"blocks writes ({stall})"
    if key == "idempotent":
        return f"not idempotent ({verdict})"
    return f"backward compatibility ({verdict})"


def gives_up(row: Row, best_gain: Row | None, over: Sequence[str] = ()) -> list[str]:
    """What choosing `row` costs: design-document promises it misses, a write stall, a second application that
    fails, changed query results, a slower or unmeasured write path, and a better read gain elsewhere that is over
    the budgets named in `over`."""
    lost = []
    unclaimed = "" if (row.get("migration") or {}).get("makes_promises", True) else ", not claimed"
    for promise, interval in sorted(row["promises"].items()):
        if interval is not None and interval.get("verdict") not in HOLDS:
            lost.append(f"{promise} ({interval['point']:.2f}x, {interval.get('verdict')}{unclaimed})")
    for key in CLAIMS:
        words = _claim_lost(key, row.get(key))
        if words and words not in lost:
            lost.append(words)
    writes = row["write_ratio"]
    if writes is None:
        lost.append("write cost not measured (app_writes suite not run or failed)")
    elif writes.get("high") is not None and writes["high"] < 1.0:
        lost.append(f"writes {writes['point']:.2f}x (slower ingest)")
    if best_gain is not None and best_gain["name"] != row["name"]:
        gain = f"{_point(best_gain['app_ratio']):.2f}x"
        lost.append(
            f"the higher read gain of {best_gain['name']} ({gain}, over the {' and the '.join(over)})"
            if over
            else f"the higher point estimate of {best_gain['name']}'s read gain ({gain}; the intervals overlap)"
        )
    return lost


def over_write_budget(row: Row, write_max_pct: float | None) -> bool:
    """True when the whole interval of the row's ingest ratio lies below 1 / (1 + write_max_pct / 100): its
    writes are slower than the budget allows, and the interval says it is no noise. No budget or no measurement:
    False (the row's table cell shows which)."""
    writes = row["write_ratio"]
    if write_max_pct is None or writes is None or writes.get("high") is None:
        return False
    return float(writes["high"]) < 1.0 / (1.0 + write_max_pct / 100.0)


def _holds(row: Row, key: str) -> bool:
    claim = row.get(key)
    return claim is not None and claim.get("verdict") == "held"


def _safe(row: Row) -> bool:
    """The migration applied without stalling writes past the bound and applies twice (measured, not assumed)."""
    return _holds(row, "write_stall") and _holds(row, "idempotent")


def tied_on_reads(rows: Sequence[Row], best: Row) -> list[Row]:
    """The rows whose application-ratio interval reaches the best one's: on read gain the measurement cannot
    tell them from the best (the best included)."""
    floor = best["app_ratio"].get("low")
    if floor is None:
        return [best]
    return [
        r for r in rows if r is best or (r["app_ratio"].get("high") is not None and r["app_ratio"]["high"] >= floor)
    ]


def recommend(rows: Sequence[Row], storage_max: float | None, write_max_pct: float | None = None) -> dict[str, Any]:
    """Among the measured candidates within the storage target and the write budget (over_write_budget) whose
    queries return the same rows, those tied on read gain with the best application ratio (tied_on_reads); of
    those, a safe migration first (non-blocking and idempotent, as measured), then the lower storage overhead,
    then the faster ingest, then the higher application ratio."""
    measured = [r for r in rows if r["measured"] and _point(r["app_ratio"]) is not None]
    if not measured:
        return {"name": None, "text": "no recommendation: no candidate has an application-workload measurement"}
    best_any = max(measured, key=lambda r: _point(r["app_ratio"]) or 0.0)
    fits = [
        r
        for r in measured
        if (storage_max is None or (r["storage_overhead_pct"] is not None and r["storage_overhead_pct"] <= storage_max))
        and not over_write_budget(r, write_max_pct)
        and (r.get("backward_compatible") or {}).get("verdict") != "not held"
    ]
    budgets = _budgets(storage_max, write_max_pct)
    if not fits:
        return {
            "name": None,
            "text": f"no recommendation: no measured candidate is within {budgets} with unchanged query results",
        }
    best_reads = max(fits, key=lambda r: _point(r["app_ratio"]) or 0.0)
    tied = tied_on_reads(fits, best_reads)
    best = max(
        tied,
        key=lambda r: (
            _safe(r),
            -(r["storage_overhead_pct"] or 0.0),
            _point(r["write_ratio"]) or 0.0,
            _point(r["app_ratio"]) or 0.0,
        ),
    )
    app = best["app_ratio"]
    over = [
        name
        for name, is_over in (
            ("storage target", storage_max is not None and (best_any["storage_overhead_pct"] or 0.0) > storage_max),
            ("write budget", over_write_budget(best_any, write_max_pct)),
        )
        if is_over
    ]
    lost = gives_up(best, best_any, over)
    text = (
        f"recommended: {best['name']} — application database time per 1,000 page views {app['point']:.2f}x "
        f"[{_num(app['low'])}, {_num(app['high'])}], storage overhead {best['storage_overhead_pct']:.1f}%, within "
        f"{budgets}"
    )
    others = [r["name"] for r in tied if r is not best]
    if others:
        lead = best_reads["app_ratio"]
        text += (
            f"; on read gain it is tied with {', '.join(others)} (their intervals reach the best one's, "
            f"{best_reads['name']} {lead['point']:.2f}x [{_num(lead['low'])}, {_num(lead['high'])}]): chosen for "
            + ("a non-blocking, idempotent migration, then " if _safe(best) else "")
            + "the lower storage overhead, then the faster ingest"
        )
    text += f"; gives up: {', '.join(lost) if lost else 'nothing measured here'}"
    if app.get("low") is not None and app["low"] <= 1.0:
        text += " (its application interval includes 1x: no measured read gain)"
    return {"name": best["name"], "text": text, "gives_up": lost, "tied": others}


def _budgets(storage_max: float | None, write_max_pct: float | None) -> str:
    budgets = [f"the {storage_max:g}% storage target"] if storage_max is not None else []
    budgets += [f"the {write_max_pct:g}% write budget"] if write_max_pct is not None else []
    return " and ".join(budgets) or "no budget (bench/targets.toml sets neither a storage target nor a write budget)"


def _num(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}x"


def build_table(
    rows: Sequence[Row], storage_max: float | None, write_max_pct: float | None = None, targets: str | None = None
) -> dict[str, Any]:
    """candidates.json: the rows, the Pareto front, the recommendation and the budgets it used (from `targets`)."""
    return {
        "targets": targets or "bench/targets.toml",
        "rows": list(rows),
        "pareto_front": pareto_front(rows),
        "storage_target_pct": storage_max,
        "write_budget_pct": write_max_pct,
        "recommendation": recommend(rows, storage_max, write_max_pct),
    }


def storage_target(targets_promises: Sequence[Any]) -> float | None:
    """The `max` of the targets' storage_overhead_pct promise (bench/targets.toml), None when it has none."""
    for promise in targets_promises:
        if getattr(promise, "metric", None) == STORAGE_METRIC and getattr(promise, "max", None) is not None:
            return float(promise.max)
    return None
