"""The calibration runner: K gate runs with a migration that changes nothing and K per planted regression, each
its own results document, judged by the gate and summarised by bench.judge.calibration into calibration.md and
calibration.json in a run folder. Running one gate (load + time + judge) is the caller's `run_gate`, so this
module owns only the plan of runs and what is written.
"""

from __future__ import annotations

import json
import os
import platform
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.core.errors import HarnessError
from bench.judge.calibration import Calibration, GateOutcome, calibration_table, gate_outcome, slowdown_curve
from bench.judge.gate import evaluate
from bench.judge.verdicts import Targets

AA_MIGRATION = "noop"
# The checks each planted regression is meant to trip (prefixes of "kind:name"): a run that failed only on another
# check counts as missed, since noise caught it. The ci gate measures no writes, so regress_unneeded_indexes can
# only be seen by its storage.
EXPECTED_CHECKS: dict[str, tuple[str, ...]] = {
    "regress_drop_timestamp_index": ("control:", "plan:"),
    "regress_phase2_without_gin": ("plan:jsonb_containment", "speedup_range:jsonb_containment"),
    "regress_unneeded_indexes": ("max:storage_overhead", "baseline:storage_overhead_pct", "suite:"),
}
PLANTED_REGRESSIONS = tuple(EXPECTED_CHECKS)
# A migration name for run_gate; None is the Phase 2 file (what the gate judges by default).
RunGate = Callable[[str | None], dict[str, Any]]


def calibration_dir(runs_dir: Path, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return runs_dir / f"calibration-{stamp}"


def machine_description() -> str:
    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def run_calibration(
    run_gate: RunGate,
    targets: Targets,
    runs: int,
    out_dir: Path,
    planted: Sequence[str] = PLANTED_REGRESSIONS,
    aa_migration: str | None = AA_MIGRATION,
    say: Callable[[str], None] = print,
) -> Calibration:
    """K gate runs per migration; the A/A runs also give the control slowdown curve. Writes calibration.json
    and calibration.md to `out_dir` and returns what they hold."""
    if runs < 1:
        raise HarnessError(f"--runs must be at least 1 (got {runs}): calibration needs gate runs to count")
    aa_label = aa_migration or "phase2"
    aa_docs: list[dict[str, Any]] = []
    aa: list[GateOutcome] = []
    planted_outcomes: dict[str, list[GateOutcome]] = {name: [] for name in planted}
    plan = [(aa_migration, aa_label)] + [(name, name) for name in planted]
    total = runs * len(plan)
    done = 0
    for migration, label in plan:
        for _ in range(runs):
            done += 1
            say(f"calibrate: gate run {done} of {total}, migration {label}")
            doc = run_gate(migration)
            outcome = gate_outcome(label, str(doc.get("run_id")), evaluate(doc, targets))
            say(f"calibrate: {label}: gate {'FAILED' if outcome.failed else 'passed'} {list(outcome.failed_checks)}")
            if migration == aa_migration:
                aa.append(outcome)
                aa_docs.append(doc)
            else:
                planted_outcomes[label].append(outcome)
    calibration = Calibration(
        runs_per_migration=runs,
        aa=tuple(aa),
        planted={name: tuple(outcomes) for name, outcomes in planted_outcomes.items()},
        curve=slowdown_curve(aa_docs, targets) if aa_docs else None,
        machine=machine_description(),
        date=datetime.now(UTC).strftime("%Y-%m-%d"),
        control_tolerance_pct=targets.control_tolerance_pct,
        aa_migration=aa_label,
        expected={name: EXPECTED_CHECKS[name] for name in planted if name in EXPECTED_CHECKS},
    )
    write_calibration(calibration, out_dir)
    return calibration


def write_calibration(calibration: Calibration, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "calibration.json", out_dir / "calibration.md"
    json_path.write_text(json.dumps(calibration.to_dict(), indent=2) + "\n", encoding="utf-8")
    md_path.write_text(calibration_table(calibration), encoding="utf-8")
    return [json_path, md_path]
