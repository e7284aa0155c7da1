"""Any migration under test: read and refused early, built into `after` as a copy of `before`, reported as an index
diff read from both databases, and required to match when a run measures it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fixtures.instances import scratch_databases

from bench.cli import main
from bench.core.config import HarnessConfig
from bench.core.errors import HarnessError, UsageError
from bench.core.migration import PHASE2_FILE, read_migration, shipped_names
from bench.db.database import HARNESS_LOCK_KEY, read_meta
from bench.db.instances import InstancePair, open_instances
from bench.db.schema import index_definitions, index_diff
from bench.load.loader import load_dataset, require_loaded
from generators.shape import spec_from_args

# `bench calibrate` (branch gate) runs the gate with these names: they are an interface.
SHIPPED = [
    "filepath_expression",
    "noop",
    "phase2_path_ops",
    "phase2_safe_partitions",
    "phase2_safe_timescaledb",
    "regress_drop_timestamp_index",
    "regress_phase2_without_gin",
    "regress_unneeded_indexes",
    "targeted",
    "targeted_safe_partitions",
    "targeted_safe_timescaledb",
]
SPEC = spec_from_args(3_000, None, 7)


# ---- reading a migration ---------------------------------------------------------------------------------------
def test_no_migration_means_phase2() -> None:
    migration = read_migration(None)
    assert migration.path == PHASE2_FILE and migration.label == "phase2"
    assert migration.is_phase2 and migration.makes_promises
    assert len(migration.statements) == 5
    assert read_migration("phase2") == migration
    assert read_migration(str(PHASE2_FILE)).is_phase2


def test_shipped_names_are_stable_and_read_by_name() -> None:
    assert shipped_names() == SHIPPED
    noop = read_migration("noop")
    assert noop.label == "noop" and not noop.is_phase2 and not noop.makes_promises
    assert read_migration("noop.sql") == noop
    assert read_migration("regress_drop_timestamp_index").makes_promises
    assert not read_migration("regress_unneeded_indexes").makes_promises
    assert read_migration("regress_phase2_without_gin").sha256 != read_migration(None).sha256


def test_a_file_of_ones_own_is_labelled_by_its_name(tmp_path: Path) -> None:
    path = tmp_path / "add_brin.sql"
    path.write_text('-- promises: none\nCREATE INDEX x ON agent_events USING brin ("timestamp");\n')
    migration = read_migration(str(path))
    assert migration.label == "add_brin" and migration.cli_name == str(path)
    assert not migration.makes_promises
    assert migration.statements == ('CREATE INDEX x ON agent_events USING brin ("timestamp")',)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "the file is empty"),
        ("  \n\n", "the file is empty"),
        ("-- only a comment\n/* and another */\n", "no SQL statement"),
        (b"\xff\xfe\x00", "not UTF-8"),
        ("DIR", "is a directory"),
    ],
)
def test_bad_migrations_are_refused_saying_what_to_do(tmp_path: Path, content: Any, message: str) -> None:
    path = tmp_path / "m.sql"
    if content == "DIR":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=message):
        read_migration(str(path))


@pytest.fixture
def untouched_state_dir(state_dir_factory: Callable[[str], Path]) -> Iterator[Path]:
    path = state_dir_factory("untouched")
    yield path
    assert list(path.iterdir()) == [], "a refused command started servers (or wrote) in the state directory"


@pytest.mark.parametrize("command", ["load", "run", "bench", "gate"])
def test_a_bad_migration_exits_2_before_any_server_starts(
    command: str,
    untouched_state_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for variable in ("PHASE2_BEFORE_DSN", "PHASE2_AFTER_DSN", "PHASE2_BENCH_STATE_DIR", "PHASE2_BENCH_MIGRATION"):
        monkeypatch.delenv(variable, raising=False)
    argv = [command, "--state-dir", str(untouched_state_dir), "--engine", "postgres"]
    if command != "load":
        argv += ["--runs-dir", str(tmp_path / "runs")]
    assert main([*argv, "--migration", "regress_no_such_thing"]) == 2
    err = capsys.readouterr().err
    assert "regress_no_such_thing" in err and "noop" in err and "Traceback" not in err
    empty = tmp_path / "empty.sql"
    empty.write_text("-- nothing\n")
    monkeypatch.setenv("PHASE2_BENCH_MIGRATION", str(empty))
    assert main(argv) == 2
    assert "no SQL statement" in capsys.readouterr().err


# ---- building after from before -------------------------------------------------------------------------------
@pytest.fixture
def own_pair(fresh_harness_config: Callable[..., HarnessConfig]) -> Iterator[InstancePair]:
    """Servers of this test's own: the copy stops and starts them."""
    with open_instances(fresh_harness_config()) as pair:
        yield pair


def _definitions(pair: InstancePair) -> dict[str, dict[str, str]]:
    out = {}
    for inst in pair:
        with inst.connect() as conn:
            out[inst.role] = index_definitions(conn)
    return out


def _content(pair: InstancePair) -> list[tuple[int, str]]:
    out = []
    for inst in pair:
        with inst.connect() as conn:
            row = conn.execute("SELECT count(*), md5(string_agg(t::text, '|' ORDER BY id)) FROM agent_events t")
            out.append(tuple(row.fetchone()))  # type: ignore[arg-type]
    return out  # type: ignore[return-value]


@pytest.mark.slow
def test_a_changed_migration_reuses_before_and_shows_in_the_index_diff(own_pair: InstancePair) -> None:
    noop = read_migration("noop")
    report = load_dataset(own_pair, SPEC, progress=False, migration=noop)
    assert report.method == "clone" and report.loaded == ["before", "after"]
    assert report.before_ready_s and report.clone_s and report.migrate_s and report.ready_ratio
    assert "both ready in" in report.summary()
    defs = _definitions(own_pair)
    assert defs["before"] == defs["after"] and len(defs["before"]) == 8  # 7 indexes and the primary key
    assert index_diff(defs["before"], defs["after"]) == {"added": [], "dropped": [], "changed": [], "unchanged": 8}
    assert require_loaded(own_pair, SPEC, noop)["migration"]["label"] == "noop"
    with own_pair.before.connect() as conn:
        before_loaded_at = read_meta(conn, "dataset")["loaded_at"]

    drop = read_migration("regress_drop_timestamp_index")
    report = load_dataset(own_pair, SPEC, progress=False, migration=drop)
    assert report.skipped == ["before"] and report.loaded == ["after"]
    assert report.copy_s == 0 and report.ready_ratio is None  # nothing generated: only the copy and the migration
    with own_pair.before.connect() as conn:
        assert read_meta(conn, "dataset")["loaded_at"] == before_loaded_at, "before was loaded again"
    diff = index_diff(*_definitions(own_pair).values())
    assert [d["name"] for d in diff["dropped"]] == ["agent_events_timestamp_idx"]
    assert diff["added"] == [] and diff["changed"] == []
    contents = _content(own_pair)
    assert contents[0] == contents[1] and contents[0][0] == SPEC.rows

    # A run measuring another migration than the one after holds is refused, naming the command that fixes it.
    with pytest.raises(HarnessError, match=r"make load ARGS='--migration noop'"):
        require_loaded(own_pair, SPEC, noop)
    with pytest.raises(HarnessError, match="regress_drop_timestamp_index"):
        require_loaded(own_pair, SPEC, read_migration(None))
    # The same migration again: nothing to do.
    assert load_dataset(own_pair, SPEC, progress=False, migration=drop).loaded == []


@pytest.mark.slow
def test_a_one_statement_per_transaction_migration_loads_like_phase2(own_pair: InstancePair) -> None:
    """phase2_safe_partitions (psql's \\gexec, CONCURRENTLY) goes through the same --migration path as any file
    and leaves after with Phase 2's index set, under the same names."""
    if own_pair.engine.is_timescaledb:
        pytest.skip("phase2_safe_partitions is the native partitions engine's file (TimescaleDB has its own)")
    load_dataset(own_pair, SPEC, progress=False, migration=read_migration(None))
    phase2 = _definitions(own_pair)["after"]
    safe = read_migration("phase2_safe_partitions")
    report = load_dataset(own_pair, SPEC, progress=False, migration=safe)
    assert report.loaded == ["after"]
    assert sorted(_definitions(own_pair)["after"]) == sorted(phase2)
    assert require_loaded(own_pair, SPEC, safe)["migration"]["label"] == "phase2_safe_partitions"


@pytest.mark.slow
def test_the_copy_holds_what_a_direct_load_holds(own_pair: InstancePair) -> None:
    """after as a copy of before, and after loaded side by side (scratch databases cannot be copied): the same
    fingerprint, rows and index set."""
    cloned = load_dataset(own_pair, SPEC, progress=False)
    assert cloned.method == "clone"
    with scratch_databases(own_pair) as scratch:
        direct = load_dataset(scratch, SPEC, progress=False)
        assert direct.method == "side_by_side" and direct.loaded == ["before", "after"]
        assert any("loaded beside before" in note for note in direct.notes)
        metas = [require_loaded(p, SPEC, read_migration(None)) for p in (own_pair, scratch)]
        assert metas[0]["fingerprint"] == metas[1]["fingerprint"]
        assert metas[0]["migration"]["sha256"] == metas[1]["migration"]["sha256"]
        assert _content(own_pair) == _content(scratch)
        assert _definitions(own_pair)["after"] == _definitions(scratch)["after"]
        with own_pair.after.connect() as conn:
            assert read_meta(conn, "dataset")["built_by"] == "copy of before"


@pytest.mark.slow
def test_the_harness_lock_is_held_again_after_the_copy(own_pair: InstancePair) -> None:
    """The copy restarts both servers, which ends the lock's connection: a second harness process must still be
    kept out while the load's caller holds the lock."""
    from bench.db.database import harness_lock

    with harness_lock(own_pair.before.dsn, "before"), harness_lock(own_pair.after.dsn, "after"):
        load_dataset(own_pair, SPEC, progress=False, migration=read_migration("noop"))
        for inst in own_pair:
            with inst.connect() as conn:
                held = conn.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = %s",
                    [HARNESS_LOCK_KEY],
                ).fetchone()
            assert held == (1,), f"the {inst.role} lock was not taken again after the restart"


@pytest.mark.slow
def test_an_interrupted_copy_leaves_after_to_be_made_again(
    fresh_harness_config: Callable[..., HarnessConfig], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C half-way through copying before's data directory: the interrupt goes on (not turned into 'after did
    not start'), before serves, and the next command initializes after again and loads it."""
    import bench.db.clone

    config = fresh_harness_config()
    with open_instances(config) as pair:
        load_dataset(pair, SPEC, progress=False)
    real_copy = bench.db.clone._copy_data_dir

    def copy_then_interrupt(source: Any, target: Any) -> None:
        real_copy(source, target)
        raise KeyboardInterrupt

    monkeypatch.setattr(bench.db.clone, "_copy_data_dir", copy_then_interrupt)
    with open_instances(config) as pair, pytest.raises(KeyboardInterrupt):
        load_dataset(pair, SPEC, progress=False, migration=read_migration("noop"))
    monkeypatch.undo()
    assert pair.after.server is not None and not pair.after.server.initialized  # the half copy is gone
    with open_instances(config) as pair:  # after initialized anew
        report = load_dataset(pair, SPEC, progress=False, migration=read_migration("noop"))
        assert report.loaded == ["after"] and report.skipped == ["before"]
        assert require_loaded(pair, SPEC, read_migration("noop"))["migration"]["label"] == "noop"
