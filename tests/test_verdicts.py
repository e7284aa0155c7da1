"""Verdict boundaries, verdict records, and the targets file (packaged, malformed, semantically wrong)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bench.core.errors import HarnessError
from bench.judge.stats import SpeedupEstimate
from bench.judge.verdicts import (
    DEFAULT_TARGETS_PATH,
    TargetsError,
    control_threshold,
    control_verdict,
    judge_control,
    judge_max,
    judge_speedup_range,
    load_targets,
    max_verdict,
    speedup_range_verdict,
)

THRESHOLD_10PCT = control_threshold(10.0)  # 1 / 1.1 = 0.909...


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1.0, 1.9, "below"),
        (1.0, 2.0, "inconclusive"),  # touches expected_min from below: 2.0x is still possible
        (1.5, 2.5, "inconclusive"),
        (2.0, 5.0, "within"),  # bounds are inclusive
        (2.0, 2.0, "within"),
        (5.0, 5.0, "within"),
        (3.0, 4.0, "within"),
        (4.5, 5.5, "inconclusive"),
        (5.0, 6.0, "inconclusive"),  # touches expected_max from above
        (5.01, 6.0, "above"),
        (1.0, 10.0, "inconclusive"),  # wider than the whole range
        (None, None, "failed"),
    ],
)
def test_judge_speedup_range(low: float | None, high: float | None, expected: str) -> None:
    assert judge_speedup_range(low, high, expected_min=2.0, expected_max=5.0) == expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (10.0, 10.0, "met"),
        (24.0, 25.0, "met"),
        (25.0, 25.0, "met"),  # the bound is inclusive
        (25.01, 25.01, "not met"),
        (26.0, 30.0, "not met"),
        (25.0, 26.0, "inconclusive"),
        (20.0, 30.0, "inconclusive"),
        (None, None, "failed"),
    ],
)
def test_judge_max(low: float | None, high: float | None, expected: str) -> None:
    assert judge_max(low, high, bound=25.0) == expected


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (0.5, 0.9, "regression"),  # whole interval slower than the 10% tolerance allows
        (0.5, THRESHOLD_10PCT, "inconclusive"),  # touches the tolerance bound
        (0.8, 0.95, "inconclusive"),  # surely slower, perhaps within tolerance
        (0.8, 1.05, "inconclusive"),  # too noisy: both 1x and a >10% slowdown are possible
        (THRESHOLD_10PCT, 0.95, "ok"),  # a slowdown of exactly the tolerance is within it
        (0.95, 1.05, "ok"),
        (0.95, 1.0, "ok"),
        (1.0, 1.2, "ok"),  # touches 1x, so not shown to be faster
        (1.01, 1.2, "improved"),
        (None, None, "failed"),
    ],
)
def test_judge_control(low: float | None, high: float | None, expected: str) -> None:
    assert judge_control(low, high, tolerance_pct=10.0) == expected


def test_control_threshold() -> None:
    assert control_threshold(10.0) == pytest.approx(1 / 1.1)
    assert control_threshold(0.0) == 1.0


@pytest.mark.parametrize(("low", "high"), [(3.0, 2.0), (None, 2.0), (1.0, None), (float("nan"), 1.0)])
def test_judges_reject_malformed_intervals(low: float | None, high: float | None) -> None:
    with pytest.raises(ValueError):
        judge_speedup_range(low, high, 2.0, 5.0)


def estimate(point: float, low: float, high: float, n_params: int) -> SpeedupEstimate:
    return SpeedupEstimate(point, low, high, n_params, "hierarchical_bootstrap_percentile", 0.95, 2000)


class TestVerdictRecords:
    def test_speedup_range_verdict_and_evidence(self) -> None:
        promise = load_targets().promise("session_timeline")
        verdict = speedup_range_verdict(promise, estimate(3.1, 2.6, 3.7, 18), n_cases=2)
        assert verdict.verdict == "within"
        assert verdict.evidence == "geomean 3.1x (95% CI 2.6-3.7x) over 2 cases, 18 parameters"
        assert (verdict.expected_min, verdict.expected_max) == (2.0, 5.0)
        assert verdict.gated
        assert json.loads(json.dumps(verdict.to_dict()))["verdict"] == "within"

    def test_failed_measurement_is_failed_not_a_speed(self) -> None:
        promise = load_targets().promise("jsonb_containment")
        verdict = speedup_range_verdict(promise, None, n_cases=2, failure="jsonb_containment timed out")
        assert verdict.verdict == "failed"
        assert verdict.point is None and verdict.low is None
        assert "jsonb_containment timed out" in verdict.evidence

    def test_max_verdict(self) -> None:
        promise = load_targets().promise("storage_overhead")
        verdict = max_verdict(promise, 31.5)
        assert verdict.verdict == "not met"
        assert verdict.bound == 25.0
        assert verdict.low == verdict.high == 31.5
        assert verdict.evidence == "storage_overhead_pct 31.5 (limit 25)"
        assert max_verdict(promise, None).verdict == "failed"

    def test_control_verdict_uses_the_targets_tolerance(self) -> None:
        verdict = control_verdict("recent_errors", estimate(0.8, 0.75, 0.85, 10), load_targets())
        assert verdict.verdict == "regression"
        assert verdict.kind == "control"
        assert verdict.bound == pytest.approx(THRESHOLD_10PCT)
        assert "regression below 0.909x (10% tolerance)" in verdict.evidence

    def test_promise_of_the_wrong_kind_is_refused(self) -> None:
        with pytest.raises(ValueError, match="not speedup_range"):
            speedup_range_verdict(load_targets().promise("storage_overhead"), None, n_cases=1)


class TestPackagedTargets:
    def test_loads_the_design_documents_promises(self) -> None:
        targets = load_targets()
        assert targets.path == DEFAULT_TARGETS_PATH
        assert [p.name for p in targets.promises] == [
            "session_timeline",
            "project_timeline",
            "jsonb_containment",
            "storage_overhead",
        ]
        session = targets.promise("session_timeline")
        assert session.cases == ("session_timeline", "session_timeline_latest")
        assert (session.expected_min, session.expected_max) == (2.0, 5.0)
        jsonb = targets.promise("jsonb_containment")
        assert (jsonb.expected_min, jsonb.expected_max) == (10.0, 100.0)
        storage = targets.promise("storage_overhead")
        assert (storage.kind, storage.metric, storage.max) == ("max", "storage_overhead_pct", 25.0)
        assert all(p.gated and p.source.startswith("PHASE2_IMPLEMENTATION.md") for p in targets.promises)
        assert (targets.control_tolerance_pct, targets.controls_gated) == (10.0, True)
        assert (targets.plan_assertions, targets.baseline_tolerance_pct) == (True, 15.0)

    def test_to_dict_is_json(self) -> None:
        document = json.loads(json.dumps(load_targets().to_dict()))
        assert document["promises"][0]["cases"] == ["session_timeline", "session_timeline_latest"]
        assert document["control_tolerance_pct"] == 10.0


VALID = """\
schema = 1

[promises.p]
kind = "speedup_range"
cases = ["session_timeline"]
expected_min = 2.0
expected_max = 5.0
gated = true

[promises.s]
kind = "max"
metric = "storage_overhead_pct"
max = 25.0

[controls]
tolerance_pct = 10.0
gated = true
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    return path


class TestTargetsFileErrors:
    def test_valid_minimal_file_loads_with_defaults(self, tmp_path: Path) -> None:
        targets = load_targets(write(tmp_path, VALID))
        assert targets.promise("s").gated  # gated defaults to true
        assert targets.promise("s").source == ""
        assert (targets.plan_assertions, targets.baseline_tolerance_pct) == (True, 15.0)  # no [gate] table

    def test_gate_table_loads(self, tmp_path: Path) -> None:
        text = VALID + "\n[gate]\nplan_assertions = false\nbaseline_tolerance_pct = 5\n"
        targets = load_targets(write(tmp_path, text))
        assert (targets.plan_assertions, targets.baseline_tolerance_pct) == (False, 5.0)
        assert targets.to_dict()["gate"] == {
            "plan_assertions": False,
            "baseline_tolerance_pct": 5.0,
            "speedups_from_rows": None,
        }

    def test_ungated_promise_with_reason_loads(self, tmp_path: Path) -> None:
        text = VALID.replace("gated = true\n\n[promises.s]", 'gated = false\nreason = "data too small"\n\n[promises.s]')
        promise = load_targets(write(tmp_path, text)).promise("p")
        assert not promise.gated
        assert promise.reason == "data too small"

    def test_malformed_toml_names_file_and_line(self, tmp_path: Path) -> None:
        path = write(tmp_path, VALID.replace("[promises.s]", "[promises.s"))
        with pytest.raises(TargetsError) as caught:
            load_targets(path)
        message = str(caught.value)
        assert str(path) in message
        assert "line 10" in message

    def test_targets_error_is_a_value_error_the_cli_reports(self, tmp_path: Path) -> None:
        with pytest.raises(TargetsError) as caught:
            load_targets(write(tmp_path, "schema = "))
        assert isinstance(caught.value, ValueError)
        assert isinstance(caught.value, HarnessError)

    def test_missing_file_is_named(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope.toml"
        with pytest.raises(TargetsError, match=re.escape(str(missing))):
            load_targets(missing)

    @pytest.mark.parametrize(
        ("old", "new", "key", "hint"),
        [
            ('kind = "speedup_range"', 'kind = "speedup_rnage"', "promises.p.kind", "use one of"),
            ("expected_min = 2.0", "expected_min = 6.0", "promises.p.expected_min", "swap"),
            ("expected_max = 5.0\n", "", "promises.p.expected_max", "is missing"),
            (
                "gated = true\n\n[promises.s]",
                "gated = false\n\n[promises.s]",
                "promises.p.reason",
                "reason =",
            ),
            ("expected_max = 5.0", "expected_maximum = 5.0", "promises.p.expected_maximum", "allowed here"),
            ("schema = 1", "schema = 1\nthresholds = 3", "thresholds", "allowed here"),
            ("schema = 1", "schema = 2", "schema", "schema = 1"),
            ('cases = ["session_timeline"]', "cases = []", "promises.p.cases", "non-empty list"),
            ("expected_min = 2.0", "expected_min = true", "promises.p.expected_min", "finite number"),
            ('metric = "storage_overhead_pct"\n', "", "promises.s.metric", "is missing"),
            (
                "tolerance_pct = 10.0\ngated = true",
                "tolerance_pct = 10.0\ngated = false",
                "controls.reason",
                "",
            ),
            ("tolerance_pct = 10.0", "tolerance_pct = -1.0", "controls.tolerance_pct", ">= 0"),
            ("schema = 1", "schema = 1\ngate = 3", "gate", "must be a table"),
            ("[controls]", "[gate]\nplan_asertions = true\n\n[controls]", "gate.plan_asertions", "allowed here"),
            ("[controls]", "[gate]\nplan_assertions = 1\n\n[controls]", "gate.plan_assertions", "true or false"),
            (
                "[controls]",
                '[gate]\nbaseline_tolerance_pct = "15"\n\n[controls]',
                "gate.baseline_tolerance_pct",
                "finite",
            ),
            ("[controls]", "[gate]\nbaseline_tolerance_pct = -5\n\n[controls]", "gate.baseline_tolerance_pct", ">= 0"),
        ],
    )
    def test_semantic_error_names_the_key_and_the_fix(
        self, tmp_path: Path, old: str, new: str, key: str, hint: str
    ) -> None:
        assert old in VALID
        path = write(tmp_path, VALID.replace(old, new, 1))
        with pytest.raises(TargetsError) as caught:
            load_targets(path)
        message = str(caught.value)
        assert message.startswith(f"{path}: {key} ")
        assert hint in message
