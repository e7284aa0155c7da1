"""What-if screening with HypoPG on a loaded copy: plans per query and candidate, nothing left behind, failures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from bench.core.candidates import read_candidate
from bench.db.instances import Instance, InstancePair
from bench.db.schema import index_set
from bench.judge.whatif_rank import (
    candidates_comparison,
    correlation,
    cost_ratios,
    measured_speedups,
    rank_candidates,
    spearman,
)
from bench.measure.suites.scratch import RowStream, build_copies
from bench.measure.whatif import PHASE2_CANDIDATE, catalogue_queries, left_behind, screen
from bench.report.whatif_table import format_whatif
from generators.shape import DatasetSpec

COPY_ROWS = 3_000


def _hypopg_or_skip(conn: psycopg.Connection) -> None:
    if conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'hypopg'").fetchone() is None:
        pytest.skip("hypopg is not installed for this PostgreSQL (Debian: apt-get install postgresql-15-hypopg)")


def _loaded_copy(pair: InstancePair, spec: DatasetSpec) -> Instance:
    build_copies([pair.before], pair.engine, spec, RowStream(spec), COPY_ROWS, [False], progress=False)
    return pair.before


def test_spearman_and_ratios_from_given_numbers() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 3, 4]) == pytest.approx(0.9486832980505138)  # ties share a rank
    assert spearman([1, 2], [1, 2]) is None
    base = [{"case": "a", "label": "x", "cost": 100.0}, {"case": "a", "label": "y", "cost": 10.0}]
    with_ = [{"case": "a", "label": "x", "cost": 25.0}, {"case": "a", "label": "y", "cost": 10.0}]
    assert cost_ratios(base, with_) == {"a": pytest.approx(2.0)}  # geometric mean of 4x and 1x


def test_measured_speedups_read_both_suites() -> None:
    doc = {
        "cases": [{"name": "session_timeline", "speedup": {"point": 1.1}}],
        "suites": {
            "app": {"records": {"cases": {"app_session_events": {"modes": {"auto": {"speedup": {"point": 2}}}}}}}
        },
    }
    assert measured_speedups(doc) == {"session_timeline": 1.1, "app_session_events": 2.0}


def test_correlation_over_the_cases_both_sides_have() -> None:
    ranked = [{"name": "p", "status": "screened", "ratios": {"a": 1.0, "b": 3.0, "c": 2.0, "only_estimated": 9.0}}]
    result = correlation(ranked, {"a": 1.1, "b": 5.0, "c": 0.9, "only_measured": 2.0}, "p")
    assert result["cases"] == 3 and result["spearman"] == pytest.approx(0.5)
    assert correlation(ranked, {}, "missing")["spearman"] is None


def test_estimates_beside_a_candidates_run() -> None:
    """Rows are matched to screened candidates by their migration file; the across-candidates Spearman ranks the
    estimated against the measured application ratios; an unmeasured or unscreened candidate is left out."""
    ranked = [
        {"name": "migration_phase2", "status": "screened", "app_weighted": 1.5, "ratios": {"a": 2.0, "b": 1.0}},
        {"name": "targeted", "status": "screened", "app_weighted": 1.6, "ratios": {"a": 3.0, "b": 1.0}},
        {"name": "filepath_expression", "status": "screened", "app_weighted": 1.2, "ratios": {"a": 1.0, "b": 2.0}},
        {"name": "broken", "status": "failed", "error": "x"},
    ]

    def row(name: str, path: str, measured: float | None) -> dict[str, Any]:
        app = None if measured is None else {"point": measured, "low": measured * 0.9, "high": measured * 1.1}
        return {"name": name, "measured": measured is not None, "app_ratio": app, "migration": {"path": path}}

    rows = [
        row("phase2", "/x/schema/migration_phase2.sql", 1.46),
        row("targeted", "/x/schema/migrations/targeted.sql", 1.59),
        row("filepath_expression", "/x/schema/migrations/filepath_expression.sql", 1.03),
        row("broken", "/x/broken.sql", None),
        row("never_screened", "/x/other.sql", 1.2),
    ]
    measured = {"phase2": {"a": 1.2, "b": 1.0}, "targeted": {"a": 2.0, "b": 1.1}}
    result = candidates_comparison(ranked, rows, measured)
    assert [p["candidate"] for p in result["candidates"]] == ["phase2", "targeted", "filepath_expression"]
    assert result["n"] == 3 and result["spearman"] == pytest.approx(1.0)  # the same order on both sides
    by_name = {p["candidate"]: p for p in result["candidates"]}
    assert by_name["phase2"]["screened_as"] == "migration_phase2" and by_name["phase2"]["per_query_cases"] == 2
    assert by_name["filepath_expression"]["per_query_cases"] == 0  # no results document kept for it
    rows[2]["app_ratio"]["point"] = 1.7  # measured best, estimated worst
    assert candidates_comparison(ranked, rows, measured)["spearman"] == pytest.approx(-0.5)
    text = format_whatif(
        {"hypopg_version": "1.3.1", "engine": "e", "queries": 2, "candidates": []},
        [],
        None,
        {"source": "run", **result},
    )
    assert "| targeted | 1.60x | 1.59x [1.43, 1.75] | " in text and "is 1.00:" in text
    assert "share an estimate" not in text
    ranked[0]["app_weighted"] = 1.6  # phase2 and targeted: the same estimate
    text = format_whatif(
        {"hypopg_version": "1.3.1", "engine": "e", "queries": 2, "candidates": []},
        [],
        None,
        {"source": "run", **candidates_comparison(ranked, rows, measured)},
    )
    assert "2 of them share an estimate with another" in text


def test_whatif_refuses_a_folder_that_is_no_candidates_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.cli import main

    state = tmp_path / "state"
    assert main(["whatif", "--candidates-run", str(tmp_path), "--state-dir", str(state)]) == 2
    err = capsys.readouterr().err
    assert f"--candidates-run {tmp_path}: no candidates.json there" in err
    assert not state.exists()


@pytest.mark.slow
def test_screening_plans_every_query_and_leaves_nothing(
    scratch_pair: InstancePair, ci_spec: DatasetSpec, tmp_path: Path
) -> None:
    inst = _loaded_copy(scratch_pair, ci_spec)
    broken = tmp_path / "broken.sql"
    broken.write_text('-- promises: none\nCREATE INDEX "x" ON "public"."agent_events"("no_such_column");\n')
    candidates = [read_candidate(PHASE2_CANDIDATE), read_candidate(broken), read_candidate("targeted")]
    with inst.connect() as conn:
        _hypopg_or_skip(conn)
        untouched = index_set(conn)
        queries = catalogue_queries(conn, scratch_pair.engine, ci_spec.reference_instant, seed=1, app_draws=2)
        document = screen(conn, scratch_pair.engine, candidates, queries)
        assert left_behind(conn) == 0  # hypothetical indexes live in this backend: checked on the same connection
        assert index_set(conn) == untouched  # drops and built indexes were rolled back
    assert {q.origin for q in queries} == {"design document", "application"}
    assert len(document["baseline"]) == len(queries)
    by_name = {c["name"]: c for c in document["candidates"]}
    assert by_name["broken"]["status"] == "failed" and "no_such_column" in by_name["broken"]["error"]
    for name in ("migration_phase2", "targeted"):
        assert by_name[name]["status"] == "screened"
        assert [(p["case"], p["label"]) for p in by_name[name]["plans"]] == [
            (p["case"], p["label"]) for p in document["baseline"]
        ]
        assert all(p["cost"] > 0 for p in by_name[name]["plans"])
    phase2 = by_name["migration_phase2"]
    assert {i["how"] for i in phase2["indexes"]} == {"dropped", "hypothetical", "built"}  # GIN: no hypopg support
    used = {i for p in phase2["plans"] for i in p["indexes"]}
    assert any(i.startswith("hypo:") for i in used)
    assert "agent_events_data_idx" in used  # the GIN was built (and rolled back) for the containment query
    ranked = rank_candidates(document, {"app_session_events": 1.0, "app_dashboard_activity": 1.0})
    assert ranked[-1]["name"] == "broken"


def test_cli_refuses_a_missing_candidate_before_any_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from bench.cli import main

    state = tmp_path / "state"
    code = main(["whatif", "--candidates", str(tmp_path / "missing.sql"), "--state-dir", str(state)])
    assert code == 2
    assert "no shipped candidate of that name" in capsys.readouterr().err
    assert not state.exists()  # refused before a server was created
