"""The default gate on the 50k-row `ci` run: speedups reported below [gate] speedups_from_rows, plans, controls
and the rest gated; a migration without promises (`-- promises: none`). No database: edited copies of the stored
run.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bench.judge.gate import GateCheck, evaluate, gate_failed
from bench.judge.verdicts import DEFAULT_TARGETS_PATH, TargetsError, load_targets

STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"
SPEEDUP_PROMISES = ("session_timeline", "project_timeline", "jsonb_containment")
Doc = dict[str, Any]


@pytest.fixture(scope="module")
def stored() -> Doc:
    return json.loads(STORED.read_text())


@pytest.fixture
def doc(stored: Doc) -> Doc:
    return copy.deepcopy(stored)


def case(doc: Doc, name: str) -> dict[str, Any]:
    return next(c for c in doc["cases"] if c["name"] == name)


def verdict(doc: Doc, name: str) -> dict[str, Any]:
    return next(v for v in doc["verdicts"] if v["promise"] == name)


def by_name(checks: list[GateCheck], name: str, kind: str) -> GateCheck:
    (check,) = [c for c in checks if c.name == name and c.kind == kind]
    return check


def targets_file(tmp_path: Path, old: str, new: str) -> Path:
    path = tmp_path / "targets.toml"
    path.write_text(DEFAULT_TARGETS_PATH.read_text().replace(old, new), encoding="utf-8")
    return path


class TestDefaultGate:
    """The shipped targets on the 50k-row ci run: speedups reported ("50k rows cannot show them"), the rest gated."""

    def holding_plans_and_controls(self, doc: Doc) -> Doc:
        plan = case(doc, "jsonb_containment_recent")["plan_check"]
        plan.update(holds=True, params_using_expected=plan["params_planned"])
        for v in doc["verdicts"]:
            if v["kind"] == "control":
                v.update(verdict="ok", low=0.95, point=1.0, high=1.05)
        return doc

    def test_an_unchanged_run_passes_with_speedups_reported(self, doc: Doc) -> None:
        checks = evaluate(self.holding_plans_and_controls(doc), load_targets())
        assert not gate_failed(checks)
        for name in SPEEDUP_PROMISES:
            check = by_name(checks, name, "speedup_range")
            assert check.status == "reported"
            assert "50,000 rows cannot show them" in check.message
            assert "would fail: below" in check.message
        assert by_name(checks, "session_timeline", "plan").status == "pass"  # plans stay gated

    def test_an_index_the_after_plans_stop_using_still_fails(self, doc: Doc) -> None:
        checks = evaluate(doc, load_targets())  # as stored: jsonb_containment_recent's plans skip the GIN index
        assert gate_failed(checks)
        assert [c.name for c in checks if c.status == "fail"] == ["jsonb_containment_recent"]
        assert by_name(checks, "jsonb_containment_recent", "plan").status == "fail"

    def test_a_slowed_control_still_fails(self, doc: Doc) -> None:
        doc = self.holding_plans_and_controls(doc)
        verdict(doc, "control_last_24h").update(verdict="regression", low=0.6, point=0.7, high=0.8)
        checks = evaluate(doc, load_targets())
        assert [c.name for c in checks if c.status == "fail"] == ["control_last_24h"]

    def test_speedups_are_gated_from_the_configured_size(self, doc: Doc) -> None:
        targets = replace(load_targets(), speedups_from_rows=50_000)
        checks = evaluate(self.holding_plans_and_controls(doc), targets)
        assert {by_name(checks, n, "speedup_range").status for n in SPEEDUP_PROMISES} == {"fail"}

    def test_a_migration_without_promises_reports_speedups_and_plans(self, doc: Doc) -> None:
        checks = evaluate(doc, load_targets(), makes_promises=False)
        assert not gate_failed(checks)
        plan = by_name(checks, "jsonb_containment_recent", "plan")
        assert plan.status == "reported"
        assert "-- promises: none" in plan.message

    def test_the_recorded_migration_says_whether_it_makes_promises(self, doc: Doc) -> None:
        doc["dataset"]["migration"] = {"label": "noop", "makes_promises": False}
        assert not gate_failed(evaluate(doc, load_targets()))
        doc["dataset"]["migration"]["makes_promises"] = True
        assert gate_failed(evaluate(doc, load_targets()))

    @pytest.mark.parametrize("value", ["0", "-5", "true", '"1e6"', "1.5"])
    def test_a_bad_speedups_from_rows_is_refused(self, tmp_path: Path, value: str) -> None:
        path = targets_file(tmp_path, "speedups_from_rows = 1_000_000", f"speedups_from_rows = {value}")
        with pytest.raises(TargetsError, match=r"gate\.speedups_from_rows must be a positive whole number of rows"):
            load_targets(path)
