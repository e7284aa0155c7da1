"""-k without pytest: bench.measure.selection selects the same (case, slot) ids as pytest's own -k would."""

from __future__ import annotations

import pytest
from _pytest.mark.expression import Expression

from bench.core.cases import load_cases
from bench.measure.params import slots_for
from bench.measure.selection import SelectionError, compile_selection, select_ids, slot_id

# The ids bench/conftest.py gives pytest: one per case and parameter slot.
IDS = [slot_id(case.name, label) for case in load_cases() for label, _ in slots_for(case)]

EXPRESSIONS = [
    "session_timeline",
    "SESSION",
    "q50",
    "session and q50",
    "session or jsonb",
    "not control",
    "timeline and not project",
    "(session or project) and not (q05 or max)",
    "not not jsonb",
    "session_timeline[q50]",
    "q5",
    "control and (rare or common) or jsonb and q95",
    "no_such_case",
    "session or not session",
]


def pytest_selects(expr: str, test_id: str) -> bool:
    """pytest's -k: its expression parser, each word a case-insensitive substring of the id."""
    return Expression.compile(expr).evaluate(lambda word, *_: word.lower() in test_id.lower())


@pytest.mark.parametrize("expr", EXPRESSIONS)
def test_the_selection_is_the_one_pytest_makes(expr: str) -> None:
    expected = [i for i in IDS if pytest_selects(expr, i)]
    assert select_ids(expr, IDS) == expected


def test_the_expressions_exercise_both_outcomes() -> None:
    # A test that always selected everything (or nothing) would pass the comparison above vacuously.
    counts = {len(select_ids(expr, IDS)) for expr in EXPRESSIONS}
    assert 0 in counts and len(IDS) in counts and len(counts) > 3


def test_precedence_is_not_then_and_then_or() -> None:
    matches = compile_selection("a or b and not c")
    assert matches("a c") and matches("b") and not matches("b c") and not matches("x")


def test_no_expression_selects_everything() -> None:
    assert select_ids(None, IDS) == IDS and select_ids("", IDS) == IDS


@pytest.mark.parametrize(
    ("expr", "where"),
    [
        ("session and", "column 12"),
        ("(session or q50", "column 16"),
        ("session q50", "column 9"),
        ("and session", "column 1"),
        ("session)", "column 8"),
        ("session, q50", "column 8"),
        ("not", "column 4"),
    ],
)
def test_bad_expressions_are_refused_naming_the_column_and_the_grammar(expr: str, where: str) -> None:
    with pytest.raises(SelectionError) as e:
        compile_selection(expr)
    message = str(e.value)
    assert where in message and "and/or/not" in message and repr(expr) in message
    with pytest.raises(SyntaxError):
        Expression.compile(expr)  # pytest refuses it too
