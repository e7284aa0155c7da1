"""The candidate migrations of schema/migrations/: read, applied to a freshly loaded copy, the safe ones twice."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from bench.core.candidates import read_candidate, shipped_candidates
from bench.core.errors import HarnessError
from bench.db.candidate_apply import CandidateError, apply_candidate
from bench.db.instances import Instance, InstancePair
from bench.db.schema import index_set
from bench.measure.suites.scratch import RowStream, build_copies
from generators.shape import DatasetSpec

COPY_ROWS = 3_000
# Every shipped candidate but the TimescaleDB-only ones runs on native partitions, and all of them twice.
ON_PARTITIONS = [
    "filepath_expression",
    "phase2_path_ops",
    "phase2_safe_partitions",
    "targeted",
    "targeted_safe_partitions",
]


def _loaded_copy(pair: InstancePair, spec: DatasetSpec) -> Instance:
    build_copies([pair.before], pair.engine, spec, RowStream(spec), COPY_ROWS, [False], progress=False)
    return pair.before


def _invalid_indexes(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE NOT i.indisvalid"
    ).fetchall()
    return [r[0] for r in rows]


def test_shipped_candidates_have_headers_and_steps() -> None:
    assert set(ON_PARTITIONS) | {"phase2_safe_timescaledb", "targeted_safe_timescaledb"} <= set(shipped_candidates())
    safe = read_candidate("phase2_safe_partitions")
    assert not safe.one_transaction and safe.makes_promises
    assert [s.generator for s in safe.steps].count(True) == 1
    assert safe.drops == ("agent_events_session_id_idx", "agent_events_project_id_idx")
    # the hypothetical form drops what hypopg cannot take
    assert all("ONLY" not in c and "IF NOT EXISTS" not in c for c in safe.creates)
    targeted = read_candidate("targeted")
    assert targeted.one_transaction and not targeted.makes_promises
    assert "agent_events_tags_idx" in targeted.drops
    assert not any("data" in c for c in targeted.creates)
    assert "WITH" not in " ".join(read_candidate("phase2_safe_timescaledb").creates)
    for engine in ("partitions", "timescaledb"):  # targeted's index set, applied without blocking writes
        safe = read_candidate(f"targeted_safe_{engine}")
        assert not safe.one_transaction and not safe.makes_promises
        assert sorted(safe.drops) == sorted(targeted.drops)
        assert sorted(c.replace(" ONLY", "") for c in safe.creates) == sorted(targeted.creates)


def test_an_unknown_candidate_names_the_shipped_ones(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match="targeted"):
        read_candidate("no_such_candidate")
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing\n")
    with pytest.raises(HarnessError, match="no SQL statement"):
        read_candidate(empty)


@pytest.mark.slow
@pytest.mark.parametrize("name", ON_PARTITIONS)
def test_candidate_applies_to_a_loaded_copy_twice(scratch_pair: InstancePair, ci_spec: DatasetSpec, name: str) -> None:
    inst = _loaded_copy(scratch_pair, ci_spec)
    candidate = read_candidate(name)
    with inst.connect() as conn:
        before = index_set(conn)
        first = apply_candidate(conn, candidate)
        after_once = index_set(conn)
        apply_candidate(conn, candidate)
        assert index_set(conn) == after_once
        assert _invalid_indexes(conn) == []
    assert first["statements"] >= len(candidate.steps)
    assert after_once != before
    for dropped in candidate.drops:
        assert dropped not in after_once


@pytest.mark.slow
def test_safe_partitions_reaches_every_partition(scratch_pair: InstancePair, ci_spec: DatasetSpec) -> None:
    inst = _loaded_copy(scratch_pair, ci_spec)
    with inst.connect() as conn:
        report = apply_candidate(conn, read_candidate("phase2_safe_partitions"))
        partitions = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'agent_events'::regclass"
        ).fetchone()[0]
        attached = conn.execute(
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'agent_events_data_idx'::regclass"
        ).fetchone()[0]
        again = apply_candidate(conn, read_candidate("phase2_safe_partitions"))
    # 3 parent indexes, CREATE CONCURRENTLY + ATTACH per partition and index, 2 drops, the engine check
    assert report["statements"] == 1 + 3 + partitions * 3 * 2 + 2
    assert attached == partitions > 1
    assert again["statements"] == 1 + 3 + 0 + 2  # nothing left to build


@pytest.mark.slow
def test_safe_timescaledb_is_refused_on_partitions(scratch_pair: InstancePair, ci_spec: DatasetSpec) -> None:
    inst = _loaded_copy(scratch_pair, ci_spec)
    with inst.connect() as conn, pytest.raises(CandidateError, match="statement 1 failed"):
        apply_candidate(conn, read_candidate("phase2_safe_timescaledb"))


@pytest.mark.slow
@pytest.mark.timescaledb
@pytest.mark.parametrize(
    "name", ["phase2_safe_timescaledb", "targeted", "targeted_safe_timescaledb", "phase2_path_ops"]
)
def test_candidate_applies_to_a_hypertable_twice(
    timescaledb_scratch_pair: InstancePair, ci_spec: DatasetSpec, name: str
) -> None:
    inst = _loaded_copy(timescaledb_scratch_pair, ci_spec)
    candidate = read_candidate(name)
    with inst.connect() as conn:
        apply_candidate(conn, candidate)
        once = index_set(conn)
        apply_candidate(conn, candidate)
        assert index_set(conn) == once
        assert _invalid_indexes(conn) == []
