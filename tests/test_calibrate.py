"""Calibration: the pure parts on the stored 50k-row ci run (fast), the runner with stored documents standing in
for gate runs, and one real K=1 run on the session's servers (slow).

The planted-regression test needs schema/migrations/ (shipped since the `mig` merge); without it it skips, saying so.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.core.config import HarnessConfig
from bench.db.instances import InstancePair
from bench.judge.calibration import (
    Calibration,
    GateOutcome,
    calibration_table,
    detection_rate,
    failing_checks,
    failure_rate,
    gate_outcome,
    rate,
    slowdown_curve,
    slowed_samples,
    wilson_interval,
)
from bench.judge.gate import GateCheck
from bench.judge.verdicts import load_targets
from bench.measure.calibrate import run_calibration

STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"
MIGRATIONS = Path(__file__).parent.parent / "schema" / "migrations"
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def stored() -> Doc:
    return json.loads(STORED.read_text())


def passing(doc: Doc) -> Doc:
    """The stored run with every gated check holding (its jsonb_containment_recent plans skip the GIN index)."""
    doc = copy.deepcopy(doc)
    plan = next(c for c in doc["cases"] if c["name"] == "jsonb_containment_recent")["plan_check"]
    plan.update(holds=True, params_using_expected=plan["params_planned"])
    for v in doc["verdicts"]:
        if v["kind"] == "control":
            v.update(verdict="ok", low=0.95, point=1.0, high=1.05)
    return doc


class TestWilson:
    def test_known_values(self) -> None:
        assert wilson_interval(0, 10) == pytest.approx((0.0, 0.2775), abs=1e-4)
        assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)
        assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)

    def test_a_bad_proportion_is_refused(self) -> None:
        with pytest.raises(ValueError, match="0 <= hits <= n"):
            wilson_interval(3, 2)
        assert rate(0, 0).text() == "no runs"
        assert rate(1, 20).text() == "1/20 = 5% [1%, 24%]"


def check(name: str, kind: str, status: str) -> GateCheck:
    return GateCheck(name, kind, status, "", "", "")  # type: ignore[arg-type]


def test_detection_counts_only_the_expected_checks() -> None:
    caught = GateOutcome("regress", "r1", True, ("plan:jsonb_containment",), 10, 8)
    by_noise = GateOutcome("regress", "r2", True, ("control:control_hourly_aggregate",), 10, 8)
    assert detection_rate([caught, by_noise], ("plan:jsonb",)).hits == 1
    assert detection_rate([caught, by_noise]).hits == 2  # nothing expected: any failed check


def test_an_outcome_names_its_failed_checks() -> None:
    checks = [check("a", "control", "fail"), check("b", "plan", "pass"), check("c", "speedup_range", "reported")]
    outcome = gate_outcome("noop", "run1", checks)
    assert (outcome.failed, outcome.failed_checks, outcome.n_checks, outcome.n_gated) == (True, ("control:a",), 3, 2)
    outcomes = [outcome, gate_outcome("noop", "run2", checks[1:])]
    assert failure_rate(outcomes).hits == 1
    assert failing_checks(outcomes) == [("control:a", 1)]


class TestSlowdownCurve:
    def test_no_injection_is_not_detected_and_half_again_is(self, stored: Doc) -> None:
        curve = slowdown_curve([stored, stored], load_targets(), slowdowns_pct=(0, 50))
        zero, fifty = curve.points
        assert zero.detection.n == fifty.detection.n == 2 * len(curve.controls) == 12
        assert zero.detection.hits == 0
        assert fifty.detection.rate == 1.0
        assert curve.smallest_detected_pct == 50

    def test_the_curve_rises_with_the_slowdown(self, stored: Doc) -> None:
        curve = slowdown_curve([stored], load_targets())
        rates = [p.detection.rate or 0.0 for p in curve.points]
        assert rates == sorted(rates)
        assert curve.smallest_detected_pct is not None and 10 < curve.smallest_detected_pct <= 50

    def test_slowed_samples_keep_failures_as_failures(self) -> None:
        samples = [{"latencies_ms": {"before": [1.0], "after": [2.0, None]}}]
        assert slowed_samples(samples, 1.5)[0]["latencies_ms"]["after"] == [3.0, None]
        assert samples[0]["latencies_ms"]["after"] == [2.0, None]  # the original is untouched


class TestRunner:
    def test_rates_files_and_table(self, stored: Doc, tmp_path: Path) -> None:
        """Stored documents stand in for gate runs: the runner's plan of runs, judging and writing are real."""
        regressed = passing(stored)
        next(v for v in regressed["verdicts"] if v["promise"] == "control_last_24h").update(
            verdict="regression", low=0.6, point=0.7, high=0.8
        )
        asked: list[str | None] = []

        def run_gate(migration: str | None) -> Doc:
            asked.append(migration)
            return regressed if migration == "regress_x" else passing(stored)

        calibration = run_calibration(run_gate, load_targets(), 2, tmp_path, ["regress_x"], "noop", say=lambda _: None)
        assert asked == ["noop", "noop", "regress_x", "regress_x"]
        assert failure_rate(calibration.aa).text() == "0/2 = 0% [0%, 66%]"
        assert failure_rate(calibration.planted["regress_x"]).rate == 1.0
        assert failing_checks(calibration.planted["regress_x"]) == [("control:control_last_24h", 2)]
        written = json.loads((tmp_path / "calibration.json").read_text())
        assert written["false_alarms"]["rate"]["hits"] == 0
        assert written["planted"]["regress_x"]["detection"]["n"] == 2
        table = (tmp_path / "calibration.md").read_text()
        assert (
            "| A/A (no-op migration) | false alarms | 0/2 = 0% [0%, 66%] | <= 5% | not yet shown (more runs) | none |"
            in table
        )
        assert "`control:control_last_24h` x2" in table
        assert "Smallest control slowdown detected" in table

    def test_zero_runs_are_refused(self, tmp_path: Path) -> None:
        from bench.core.errors import HarnessError

        with pytest.raises(HarnessError, match="--runs must be at least 1"):
            run_calibration(lambda m: {}, load_targets(), 0, tmp_path)

    def test_the_table_says_when_a_goal_is_missed(self) -> None:
        failed = GateOutcome("noop", "r", True, ("control:x",), 10, 8)
        calibration = Calibration(1, (failed,), {}, None, "machine", "2026-12-02", 10.0)
        assert "| 1/1 = 100% [21%, 100%] | <= 5% | no | `control:x` x1 |" in calibration_table(calibration)
        many = Calibration(1, (GateOutcome("noop", "r", False, (), 10, 8),) * 80, {}, None, "m", "d", 10.0)
        assert "| 0/80 = 0% [0%, 5%] | <= 5% | yes | none |" in calibration_table(many)


def calibrate_args(harness_config: HarnessConfig, tmp_path: Path, *extra: str) -> list[str]:
    return [
        "calibrate",
        "--engine",
        "postgres",
        "--state-dir",
        str(harness_config.state_dir),
        "--pg-bin",
        str(harness_config.pg_bin),
        "--no-progress",
        "--runs-dir",
        str(tmp_path / "runs"),
        "--warmup",
        "1",
        "--min-rounds",
        "2",
        "--max-rounds",
        "5",
        "--budget",
        "0.2",
        "--runs",
        "1",
        *extra,
    ]


def test_an_unknown_planted_name_is_refused_before_any_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["calibrate", "--runs", "1", "--runs-dir", str(tmp_path), "--planted", "regress_typo"]) == 2
    err = capsys.readouterr().err
    assert "unknown migration 'regress_typo': choose from " in err and "noop" in err
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_calibrate_runs_one_real_gate(
    harness_config: HarnessConfig, instance_pair: InstancePair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """K=1 on the session's servers with the Phase 2 migration: it writes the table, whatever the rates are."""
    for variable in ("PHASE2_BEFORE_DSN", "PHASE2_AFTER_DSN"):
        monkeypatch.delenv(variable, raising=False)
    args = calibrate_args(harness_config, tmp_path, "--aa-migration", "phase2", "--planted", "none")
    assert main(args) == 0
    (folder,) = (tmp_path / "runs").glob("calibration-*")
    written = json.loads((folder / "calibration.json").read_text())
    assert written["false_alarms"]["rate"]["n"] == 1
    assert written["slowdown_curve"]["points"]
    assert "false alarms" in (folder / "calibration.md").read_text()


# A planted regression on real servers: the no-op gate passes, the dropped timestamp index fails it.
@pytest.mark.slow
@pytest.mark.skipif(
    not (MIGRATIONS / "regress_drop_timestamp_index.sql").exists() or not (MIGRATIONS / "noop.sql").exists(),
    reason="schema/migrations/noop.sql and regress_drop_timestamp_index.sql arrive with the mig branch",
)
def test_a_planted_regression_fails_the_gate_and_noop_passes(
    harness_config: HarnessConfig, instance_pair: InstancePair, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("PHASE2_BEFORE_DSN", "PHASE2_AFTER_DSN"):
        monkeypatch.delenv(variable, raising=False)
    args = calibrate_args(harness_config, tmp_path, "--planted", "regress_drop_timestamp_index")
    assert main(args) == 0
    (folder,) = (tmp_path / "runs").glob("calibration-*")
    written = json.loads((folder / "calibration.json").read_text())
    assert written["false_alarms"]["rate"]["hits"] == 0, written["false_alarms"]["checks"]
    planted = written["planted"]["regress_drop_timestamp_index"]
    assert planted["detection"]["hits"] == 1, planted["checks"]  # by a control or plan check (EXPECTED_CHECKS)
