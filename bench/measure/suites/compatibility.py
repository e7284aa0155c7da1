"""Backward compatibility: every query case returns the same rows on both instances.

The design document says "all existing queries continue to work". Two sources of evidence, both compared by an
order-insensitive fingerprint of the whole result (bench.measure.timing.execute_timed(digest=True)):
- the timing run's own records (reports/runs/<run>/cases/*.json): its first execution of every case and
  parameter on each instance;
- further parameters measured here: the quantile slots drawn with another seed (they differ where candidates
  tie) and a few candidates drawn at random, each skipping the values the run already compared.
A query that fails only after the migration counts against the claim; one that fails on both (a timeout on a
slow machine) is reported as a failure, never as a match.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from tqdm import tqdm

from bench.core.cases import Case, load_cases
from bench.core.verdict_words import VerdictWord
from bench.db.instances import InstancePair
from bench.judge.verdicts import Verdict, figure_verdict
from bench.measure.params import ParamSample, params_for, sample_params
from bench.measure.suites import SuiteContext, section
from bench.measure.timing import Execution, execute_timed

NAME = "compatibility"
TITLE = "backward compatibility: every control and promise query returns the same rows before and after"
ROLES = ("before", "after")
NOT_GATED = "reported, not gated: the gate judges speed; this claim is about results"


@dataclass(frozen=True)
class CompatibilitySettings:
    random_per_case: int = 2  # random candidates compared per case, beyond the run's quantile slots
    seed: int = 20251101
    statement_timeout_ms: int = 30_000


def run(ctx: SuiteContext) -> dict[str, Any]:
    settings = CompatibilitySettings(seed=ctx.settings.seed, statement_timeout_ms=ctx.settings.statement_timeout_ms)
    return check_compatibility(ctx.pair, ctx.dataset, ctx.run_dir, settings, ctx.progress)


def check_compatibility(
    pair: InstancePair, dataset: dict[str, Any], run_dir: Path, settings: CompatibilitySettings, progress: bool = False
) -> dict[str, Any]:
    records = run_records(run_dir)
    used = _used_values(run_dir)
    now = datetime.fromisoformat(dataset["spec"]["reference_instant"])
    conns = {role: _connection(pair, role, settings.statement_timeout_ms) for role in ROLES}
    comparisons: list[dict[str, Any]] = []
    cache: dict[str, list[Any]] = {}
    cases = load_cases()
    bar = tqdm(total=len(cases), desc="compatibility", unit="case", disable=not progress, leave=False)
    try:
        for case in cases:
            recorded = [r for r in records if r["case"] == case.name]
            samples = further_samples(conns["before"], case, now, settings, cache, used.get(case.name, set()))
            if not recorded:  # the run did not time this case (-k): compare its own slots here instead
                own = sample_params(conns["before"], case, now, settings.seed, cache)
                seen = {_key(s.value) for s in own}
                samples = own + [s for s in samples if _key(s.value) not in seen]
            for sample in samples:
                comparisons.append(compare_case(conns, case, sample))
            bar.update(1)
    finally:
        bar.close()
        for conn in conns.values():
            conn.close()
    by_case = _by_case(records, comparisons)
    verdict = compatibility_verdict(by_case, len(records), len(comparisons))
    notes = [
        "Fingerprints are sha256 over the sorted repr() of every row, so row order does not matter but every "
        "column value does.",
    ]
    if not records:
        notes.append(
            "No timing-run records in the run's cases/ folder: the query suite did not run; every case's own "
            "parameter slots were compared here."
        )
    return section(
        NAME,
        TITLE,
        [verdict],
        {"run_records": records, "compared_here": comparisons, "by_case": by_case},
        notes,
    )


def _connection(pair: InstancePair, role: str, timeout_ms: int) -> psycopg.Connection[Any]:
    conn = pair.by_role(role).connect(prepare_threshold=None)
    conn.execute(f"SET statement_timeout = {int(timeout_ms)}")
    return conn


def run_records(run_dir: Path) -> list[dict[str, Any]]:
    """What the timing run left per case and parameter: whether both instances returned the same rows."""
    records = []
    for path in sorted((run_dir / "cases").glob("*.json")):
        rec = json.loads(path.read_text())
        errors = rec.get("errors") or {}
        records.append(
            {
                "case": rec["case"],
                "label": rec["label"],
                "result_digest": rec.get("result_digest"),
                "errors": errors,
                "outcome": outcome(
                    (rec.get("result_digest") or {}).get("before"),
                    (rec.get("result_digest") or {}).get("after"),
                    errors.get("before"),
                    errors.get("after"),
                ),
            }
        )
    return records


def _used_values(run_dir: Path) -> dict[str, set[str]]:
    path = run_dir / "params.json"
    if not path.exists():
        return {}
    return {case: {json.dumps(s["value"]) for s in samples} for case, samples in json.loads(path.read_text()).items()}


def further_samples(
    conn: psycopg.Connection[Any],
    case: Case,
    now: datetime,
    settings: CompatibilitySettings,
    cache: dict[str, list[Any]],
    used: set[str],
) -> list[ParamSample]:
    """Parameters the run did not compare: its slots drawn with another seed, then random candidates."""
    if case.sampler == "none":
        return []
    fresh = [s for s in sample_params(conn, case, now, settings.seed + 1, cache) if _key(s.value) not in used]
    taken = used | {_key(s.value) for s in fresh}
    candidates = [value for value, _ in cache.get(case.sampler, []) if _key(value) not in taken]
    if not candidates:
        return fresh
    rng = np.random.default_rng([settings.seed + 1, sum(map(ord, case.name))])
    picks = rng.choice(len(candidates), size=min(settings.random_per_case, len(candidates)), replace=False)
    counts = dict(cache.get(case.sampler, []))
    for i, index in enumerate(sorted(int(p) for p in picks), start=1):
        value = candidates[index]
        fresh.append(ParamSample(f"random{i}", params_for(case.sampler, value, now), value, int(counts[value])))
    return fresh


def _key(value: Any) -> str:
    return json.dumps(value, default=str)


def compare_case(conns: dict[str, psycopg.Connection[Any]], case: Case, sample: ParamSample) -> dict[str, Any]:
    """Run one case with one parameter on both instances and compare the result fingerprints."""
    runs: dict[str, Execution] = {
        role: execute_timed(conns[role], case.sql, sample.params, digest=True) for role in ROLES
    }
    return {
        "case": case.name,
        "label": sample.label,
        "value": sample.to_dict()["value"],
        "rows": {role: runs[role].rows for role in ROLES},
        "result_digest": {role: runs[role].digest for role in ROLES},
        "errors": {role: runs[role].error for role in ROLES},
        "outcome": outcome(runs["before"].digest, runs["after"].digest, runs["before"].error, runs["after"].error),
    }


def outcome(
    before_digest: str | None, after_digest: str | None, before_error: str | None, after_error: str | None
) -> str:
    """same / different / broken (fails only after the migration) / failed (fails before, nothing to compare)."""
    if before_error is None and after_error is not None:
        return "broken"
    if before_error is not None or before_digest is None or after_digest is None:
        return "failed"
    return "same" if before_digest == after_digest else "different"


def _by_case(records: list[dict[str, Any]], comparisons: list[dict[str, Any]]) -> dict[str, Any]:
    by_case: dict[str, Any] = {}
    for source, items in (("run", records), ("here", comparisons)):
        for item in items:
            entry = by_case.setdefault(item["case"], {"compared": 0, "same": 0, "not_same": [], "failed": []})
            entry["compared"] += 1
            label = f"{item['label']} ({source})"
            if item["outcome"] == "same":
                entry["same"] += 1
            elif item["outcome"] == "failed":
                entry["failed"].append(label)
            else:
                entry["not_same"].append(f"{label}: {item['outcome']}")
    return by_case


def compatibility_verdict(by_case: dict[str, Any], from_run: int, here: int) -> Verdict:
    not_same = [f"{case}[{label}]" for case, entry in by_case.items() for label in entry["not_same"]]
    failed = [f"{case}[{label}]" for case, entry in by_case.items() for label in entry["failed"]]
    total = sum(entry["compared"] for entry in by_case.values())
    same = sum(entry["same"] for entry in by_case.values())
    if not_same:
        verdict = VerdictWord.NOT_HELD
    elif failed:
        verdict = VerdictWord.INCONCLUSIVE
    elif total == 0:
        verdict = VerdictWord.FAILED
    else:
        verdict = VerdictWord.HELD
    evidence = (
        f"{same} of {total} comparisons identical over {len(by_case)} cases ({from_run} from the timing run, "
        f"{here} compared here)"
    )
    if not_same:
        evidence += "; results differ: " + ", ".join(not_same[:10])
    if failed:
        evidence += "; not comparable (failed or timed out): " + ", ".join(failed[:10])
    return figure_verdict(
        promise="backward_compatible",
        kind="claim",
        verdict=verdict,
        value=same / total if total else None,
        reason=NOT_GATED,
        evidence=evidence,
        expected_min=1.0,
        bound=1.0,
    )
