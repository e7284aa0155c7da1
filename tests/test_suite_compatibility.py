"""The compatibility suite: result fingerprints tell one changed row apart, the timing run's records are read,
and the loaded ci pair is judged compatible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.core.cases import load_cases
from bench.db.instances import InstancePair
from bench.load.loader import require_loaded
from bench.measure.params import ParamSample
from bench.measure.suites.compatibility import CompatibilitySettings, check_compatibility, compare_case, outcome
from bench.measure.suites.scratch import RowStream, build_copies
from generators.shape import DatasetSpec


def test_fingerprints_differ_when_one_row_differs(scratch_pair: InstancePair, ci_spec: DatasetSpec) -> None:
    targets = [scratch_pair.before, scratch_pair.after]
    build_copies(targets, scratch_pair.engine, ci_spec, RowStream(ci_spec), 2_000, [False, True], progress=False)
    case = next(c for c in load_cases() if c.name == "control_last_24h")
    conns = {inst.role: inst.connect() for inst in scratch_pair}
    try:
        newest = conns["before"].execute('SELECT max("timestamp") FROM agent_events').fetchone()
        assert newest is not None
        sample = ParamSample("all", {"now": newest[0]}, None, 0)

        same = compare_case(conns, case, sample)
        assert same["outcome"] == "same" and same["rows"]["before"] == same["rows"]["after"] > 0

        conns["after"].execute(
            "UPDATE agent_events SET severity = 'changed by the test' "
            'WHERE id = (SELECT id FROM agent_events ORDER BY "timestamp" DESC LIMIT 1)'
        )
        changed = compare_case(conns, case, sample)
    finally:
        for conn in conns.values():
            conn.close()
    assert changed["outcome"] == "different"
    assert changed["rows"]["before"] == changed["rows"]["after"]
    assert changed["result_digest"]["before"] == same["result_digest"]["before"]
    assert changed["result_digest"]["after"] != same["result_digest"]["after"]


@pytest.mark.parametrize(
    ("digests", "errors", "expected"),
    [
        (("a", "a"), (None, None), "same"),
        (("a", "b"), (None, None), "different"),
        (("a", None), (None, "QueryCanceled: statement timeout"), "broken"),
        ((None, None), ("statement timeout", "statement timeout"), "failed"),
        ((None, "a"), ("statement timeout", None), "failed"),
    ],
)
def test_outcome(digests: tuple[Any, Any], errors: tuple[Any, Any], expected: str) -> None:
    assert outcome(*digests, *errors) == expected


QUICK = CompatibilitySettings(random_per_case=1, statement_timeout_ms=10_000)


@pytest.mark.slow
def test_the_loaded_ci_pair_is_compatible(loaded_pair: InstancePair, tmp_path: Path) -> None:
    section = check_compatibility(loaded_pair, require_loaded(loaded_pair), tmp_path, QUICK)

    (verdict,) = section["verdicts"]
    assert verdict["promise"] == "backward_compatible" and verdict["kind"] == "claim" and not verdict["gated"]
    assert verdict["verdict"] == "held", verdict["evidence"]
    assert set(section["records"]["by_case"]) == {c.name for c in load_cases()}
    assert any("No timing-run records" in note for note in section["notes"])


@pytest.mark.slow
def test_a_run_record_with_different_rows_is_listed(loaded_pair: InstancePair, tmp_path: Path) -> None:
    (tmp_path / "cases").mkdir()
    record = {
        "case": "session_timeline",
        "label": "q50",
        "result_digest": {"before": "1111", "after": "2222"},
        "errors": {"before": None, "after": None},
        "same_rows": False,
    }
    (tmp_path / "cases" / "session_timeline__q50.json").write_text(json.dumps(record))
    section = check_compatibility(loaded_pair, require_loaded(loaded_pair), tmp_path, QUICK)

    (verdict,) = section["verdicts"]
    assert verdict["verdict"] == "not held"
    assert "session_timeline[q50 (run): different]" in verdict["evidence"]
