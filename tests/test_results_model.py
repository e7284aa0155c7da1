"""The typed results model: stored schema-1 documents load through the upgrade path, a document survives a round
trip unchanged, and a damaged one is refused with the name of the bad field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from bench.core.errors import HarnessError
from bench.core.results import RESULTS_SCHEMA_VERSION, load_document, read_document, upgrade, write_results
from bench.core.results_model import CaseResult, Estimate, ResultsDocument, Verdict
from bench.core.typed_json import ShapeError, from_json
from bench.core.verdict_words import VerdictWord

DATA = Path(__file__).parent / "data"
SCHEMA_1 = [DATA / "results_ci_suites.json", DATA / "results_ci_partitions.json"]


@pytest.fixture(scope="module")
def stored() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(SCHEMA_1[0].read_text())
    return doc


@pytest.mark.parametrize("path", SCHEMA_1, ids=lambda p: p.name)
def test_a_schema_1_document_loads_through_the_upgrade_path(path: Path) -> None:
    raw = json.loads(path.read_text())
    assert raw["schema_version"] == 1 and "select" not in raw["measurement"]
    doc = load_document(path)
    assert doc.schema_version == RESULTS_SCHEMA_VERSION == 2
    assert doc.measurement.select == raw["extra"].get("select")
    assert "select" not in (doc.extra or {})
    assert all(isinstance(c, CaseResult) for c in doc.cases)
    assert all(isinstance(v.verdict, VerdictWord) for _, v in doc.all_verdicts())
    assert len(doc.cases) == len(raw["cases"]) and doc.dataset.rows == raw["dataset"]["rows"]


def test_the_upgrade_does_not_touch_its_input(stored: dict[str, Any]) -> None:
    before = copy.deepcopy(stored)
    upgraded = upgrade(stored)
    assert stored == before
    assert upgraded["schema_version"] == 2


def test_typed_fields_read_as_declared(stored: dict[str, Any]) -> None:
    doc = read_document(stored)
    case = doc.case("jsonb_containment")
    assert case is not None and isinstance(case.speedup, Estimate)
    assert case.speedup.low <= case.speedup.point <= case.speedup.high
    assert case.speedup.other["method"] == "hierarchical_bootstrap_percentile"  # undeclared keys are kept
    assert case.plan_check.expected_index == "agent_events_data_idx"
    sample = case.samples[0]
    assert sample.median_ms("before") == stored["cases"][0]["samples"][0]["summary"]["before"]["median_ms"]
    assert sample.plans.after is not None and "agent_events_data_idx" in sample.plans.after.indexes_used
    assert isinstance(doc.verdicts[0], Verdict)
    suite = doc.suite("compatibility")
    assert suite is not None and suite.verdicts and suite.title


def test_a_document_survives_a_round_trip(stored: dict[str, Any]) -> None:
    current = upgrade(stored)
    written = read_document(current).to_json()
    assert _kept(current, written) is None  # every key and value is still there (defaults may be added)
    assert ResultsDocument.from_json(written) == read_document(current)


def test_kept_finds_a_lost_key(stored: dict[str, Any]) -> None:
    written = read_document(upgrade(stored)).to_json()
    del written["cases"][0]["samples"][1]["latencies_ms"]["after"]
    assert _kept(upgrade(stored), written) == "cases[0].samples[1].latencies_ms.after"


def _kept(original: Any, written: Any, where: str = "") -> str | None:
    """None when `written` holds every key and value of `original`, else where the first difference is."""
    if isinstance(original, dict):
        if not isinstance(written, dict):
            return where
        for key, value in original.items():
            sub = f"{where}.{key}" if where else key
            if key not in written:
                return sub
            lost = _kept(value, written[key], sub)
            if lost:
                return lost
        return None
    if isinstance(original, list):
        if not isinstance(written, list) or len(written) != len(original):
            return where
        return next((lost for i, v in enumerate(original) if (lost := _kept(v, written[i], f"{where}[{i}]"))), None)
    return None if original == written else where


def test_write_then_load_gives_the_same_document(stored: dict[str, Any], tmp_path: Path) -> None:
    doc = read_document(stored)
    path = write_results(doc, tmp_path)
    assert load_document(path) == doc
    assert json.loads(path.read_text())["schema_version"] == RESULTS_SCHEMA_VERSION


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["cases"][1]["samples"][0].__setitem__("label", 7), "cases[1].samples[0].label"),
        (lambda d: d["verdicts"][2].__setitem__("verdict", "splendid"), "verdicts[2].verdict"),
        (lambda d: d["storage"]["after"].pop("total_bytes"), "storage.after.total_bytes"),
        (lambda d: d["suites"]["migration"].__setitem__("verdicts", {}), "suites.migration.verdicts"),
        (lambda d: d["measurement"].__setitem__("seed", "42"), "measurement.seed"),
    ],
    ids=["label", "verdict word", "missing size", "suite verdicts", "seed"],
)
def test_a_damaged_document_is_refused_naming_the_field(stored: dict[str, Any], mutate: Any, field: str) -> None:
    doc = copy.deepcopy(stored)
    mutate(doc)
    with pytest.raises(HarnessError, match=field.replace("[", r"\[").replace("]", r"\]")):
        read_document(doc, "stored.json")


def test_an_unknown_verdict_word_lists_the_known_ones() -> None:
    with pytest.raises(ShapeError) as info:
        from_json(Verdict, {**_verdict(), "verdict": "great"}, "verdicts[0]")
    assert info.value.where == "verdicts[0].verdict"
    assert "'within'" in str(info.value) and "'not measured'" in str(info.value)


def test_a_verdict_word_is_read_in_any_case() -> None:
    assert from_json(Verdict, {**_verdict(), "verdict": "NOT MET"}).verdict is VerdictWord.NOT_MET


def test_versions_this_harness_does_not_know_are_refused(stored: dict[str, Any]) -> None:
    for version, text in ((0, "versions 1 to 2"), (3, "versions 1 to 2"), ("2", "whole number"), (True, "whole")):
        with pytest.raises(HarnessError, match=text):
            read_document({**stored, "schema_version": version})


def _verdict() -> dict[str, Any]:
    return {
        "promise": "p",
        "kind": "max",
        "verdict": "met",
        "point": 1,
        "low": 1,
        "high": 1,
        "expected_min": None,
        "expected_max": None,
        "bound": 25,
        "gated": True,
        "reason": "",
        "evidence": "",
    }
