"""The loader against real servers: every generated row lands, fingerprints skip or reload, interrupted loads
are never measured, and bad inputs say what to fix."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

import bench.load.loader
from bench.cli import main
from bench.core.errors import HarnessError
from bench.db.database import HARNESS_LOCK_KEY, read_meta
from bench.db.instances import InstancePair
from bench.load.loader import dataset_key, load_dataset, require_loaded
from generators.shape import DatasetSpec, SpecError, spec_from_args


def test_every_generated_row_loads_and_is_verified(loaded_pair: InstancePair, ci_spec: DatasetSpec) -> None:
    meta = require_loaded(loaded_pair, ci_spec)
    assert meta["state"] == "complete"
    assert meta["rows"] == ci_spec.rows
    for inst in loaded_pair:
        with inst.connect() as conn:
            count = conn.execute("SELECT count(*) FROM agent_events").fetchone()
            assert count is not None and count[0] == ci_spec.rows
            window = conn.execute('SELECT min("timestamp"), max("timestamp") FROM agent_events').fetchone()
            assert window is not None
            assert ci_spec.window_start <= window[0] and window[1] < ci_spec.reference_instant


def test_both_instances_hold_identical_rows(loaded_pair: InstancePair) -> None:
    digests = []
    for inst in loaded_pair:
        with inst.connect() as conn:
            row = conn.execute("SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM agent_events t").fetchone()
            digests.append(row[0] if row else None)
    assert digests[0] is not None and digests[0] == digests[1]


def test_same_fingerprint_skips_the_load(loaded_report: dict[str, Any]) -> None:
    assert loaded_report["loaded"] == []
    assert sorted(loaded_report["skipped"]) == ["after", "before"]


def test_different_fingerprint_reloads(scratch_pair: InstancePair) -> None:
    first = spec_from_args(2_000, None, 1)
    second = spec_from_args(3_000, None, 1)
    assert load_dataset(scratch_pair, first, progress=False).loaded == ["before", "after"]
    report = load_dataset(scratch_pair, second, progress=False)
    assert report.loaded == ["before", "after"]
    assert require_loaded(scratch_pair, second)["rows"] == 3_000
    with pytest.raises(HarnessError, match="not the requested one"):
        require_loaded(scratch_pair, first)


def _interrupting_chunks(after_chunks: int, action: Any) -> Any:
    real = bench.load.loader.generate_copy_chunks

    def chunks(spec: DatasetSpec, batch_rows: int = 50_000) -> Iterator[tuple[int, bytes]]:
        for i, chunk in enumerate(real(spec, 1_000)):
            if i == after_chunks:
                action()
            yield chunk

    return chunks


def test_interrupted_load_is_detected_and_redone(scratch_pair: InstancePair, monkeypatch: pytest.MonkeyPatch) -> None:
    spec = spec_from_args(5_000, None, 3)

    def interrupt() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(bench.load.loader, "generate_copy_chunks", _interrupting_chunks(2, interrupt))
    with pytest.raises(KeyboardInterrupt):
        load_dataset(scratch_pair, spec, progress=False)
    for inst in scratch_pair:
        with inst.connect() as conn:
            assert read_meta(conn, "dataset")["state"] == "loading"
    with pytest.raises(HarnessError, match="incomplete load"):
        require_loaded(scratch_pair, spec)
    monkeypatch.undo()
    report = load_dataset(scratch_pair, spec, progress=False)
    assert report.loaded == ["before", "after"]
    assert require_loaded(scratch_pair, spec)["state"] == "complete"


def test_server_side_failure_mid_load_is_reported(scratch_pair: InstancePair, monkeypatch: pytest.MonkeyPatch) -> None:
    """A backend killed in the middle of COPY (as when a server dies) gives a clear error, no complete marker."""
    spec = spec_from_args(20_000, None, 4)
    victim = scratch_pair.before

    def kill_copy_backend() -> None:
        with victim.connect() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND query LIKE 'COPY %%agent_events%%' AND pid <> pg_backend_pid()"
            )

    monkeypatch.setattr(bench.load.loader, "generate_copy_chunks", _interrupting_chunks(3, kill_copy_backend))
    with pytest.raises(HarnessError, match="before"):
        load_dataset(scratch_pair, spec, progress=False)
    with victim.connect() as conn:
        assert read_meta(conn, "dataset")["state"] == "loading"


@pytest.mark.parametrize(
    ("rows", "message"),
    [("0", "positive"), ("-5", "rows"), ("abc", "rows"), ("1.5x", "rows")],
)
def test_bad_row_counts_are_refused(rows: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        spec_from_args(rows, None, None)


def test_unknown_preset_lists_the_valid_ones() -> None:
    with pytest.raises(SpecError, match="valid presets: ci"):
        spec_from_args(None, "huge", None)


def test_cli_bad_rows_exit_2_with_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["load", "--rows", "lots"]) == 2
    assert "rows" in capsys.readouterr().err


def test_workers_must_be_positive(scratch_pair: InstancePair) -> None:
    with pytest.raises(HarnessError, match="--workers"):
        load_dataset(scratch_pair, spec_from_args(1_000, None, None), workers=0, progress=False)


def test_parallel_workers_load_the_same_rows(scratch_pair: InstancePair) -> None:
    spec = spec_from_args(6_000, None, 5)
    report = load_dataset(scratch_pair, spec, workers=3, batch_rows=1_000, progress=False)
    assert report.workers == 3
    assert require_loaded(scratch_pair, spec)["rows"] == 6_000


def test_dataset_key_changes_with_engine_and_spec() -> None:
    from bench.core.engine import PARTITIONS_NOT_INSTALLED, TIMESCALEDB

    spec = spec_from_args(1_000, None, 1)
    assert dataset_key(spec, TIMESCALEDB) != dataset_key(spec, PARTITIONS_NOT_INSTALLED)
    assert dataset_key(spec, TIMESCALEDB) != dataset_key(spec_from_args(1_000, None, 2), TIMESCALEDB)


def test_load_refuses_while_another_process_holds_the_instances(scratch_pair: InstancePair) -> None:
    spec = spec_from_args(1_000, None, 9)
    # What another harness process's measurement holds: the lock, on a connection that names that process.
    with psycopg.connect(scratch_pair.before.dsn, autocommit=True, application_name="phase2-bench pid 4242") as other:
        other.execute("SELECT pg_advisory_lock(%s)", [HARNESS_LOCK_KEY])
        with pytest.raises(
            HarnessError,
            match=r"another phase2-bench process \(pid 4242, since .* UTC\) is measuring or loading the before",
        ):
            load_dataset(scratch_pair, spec, progress=False)
    assert load_dataset(scratch_pair, spec, progress=False).loaded == ["before", "after"]
