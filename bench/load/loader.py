"""Loading a generated dataset: COPY into `before`, its indexes, VACUUM ANALYZE; `after` is a physical copy of it
(bench.db.clone) plus the migration under test, or, where a copy is not possible, loaded beside it the same way.

A dataset fingerprint is written to each instance only after a complete, verified load; a load that was
interrupted leaves state "loading" behind, which `require_loaded` refuses to measure and the next load redoes.
`after`'s key adds the migration's sha256, so a changed migration reuses the loaded `before`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import queue
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg
from tqdm import tqdm

from bench.core.config import SCHEMA_DIR
from bench.core.engine import Engine
from bench.core.errors import HarnessError
from bench.core.formatting import rate
from bench.core.migration import PHASE2_FILE, Migration, read_migration
from bench.db.clone import clone_before_into_after, clone_unavailable
from bench.db.database import AGENT_EVENTS, hold_harness_locks, read_meta, write_meta
from bench.db.instances import Instance, InstancePair
from bench.db.schema import apply_migration, create_indexes_before, create_table
from bench.load.parallel import StatementCanceller, run_parallel
from generators.copy_format import COLUMNS, generate_copy_chunks
from generators.shape import DatasetSpec

COPY_SQL = f"COPY {AGENT_EVENTS} ({', '.join(COLUMNS)}) FROM STDIN"
_DONE = object()


def schema_hash() -> str:
    """Changing any schema file invalidates loaded datasets; the migration under test is `after`'s own key."""
    digest = hashlib.sha256()
    for path in sorted(SCHEMA_DIR.glob("*.sql")):
        if path.name != PHASE2_FILE.name:
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def dataset_key(spec: DatasetSpec, engine: Engine, migration: Migration | None = None) -> dict[str, Any]:
    """What an instance's load must match to be reused: `before`'s key, plus the migration's hash for `after`."""
    key: dict[str, Any] = {
        "fingerprint": spec.fingerprint(),
        "engine": engine.name,
        "schema_hash": schema_hash(),
        "rows": spec.rows,
    }
    if migration is not None:
        key["migration_sha256"] = migration.sha256
    return key


def is_current(meta: Any, key: dict[str, Any]) -> bool:
    return isinstance(meta, dict) and meta.get("state") == "complete" and all(meta.get(k) == v for k, v in key.items())


@dataclass
class LoadReport:
    rows: int
    fingerprint: str
    loaded: list[str]
    skipped: list[str]
    generate_s: float = 0.0
    copy_s: float = 0.0
    index_build_s: dict[str, dict[str, float]] = field(default_factory=dict)
    migration: list[dict[str, Any]] = field(default_factory=list)
    vacuum_analyze_s: dict[str, float] = field(default_factory=dict)
    workers: int = 1
    notes: list[str] = field(default_factory=list)  # steps skipped because the role lacks a privilege
    migration_under_test: dict[str, Any] = field(default_factory=dict)  # Migration.to_dict()
    method: str = "clone"  # "clone": after is a copy of before; "side_by_side": both loaded from the generator
    before_ready_s: float | None = None  # COPY, indexes and VACUUM ANALYZE of before alone
    clone_s: float | None = None  # stop both, copy before's data directory over after's, start both
    migrate_s: float | None = None  # the migration on the copy, its VACUUM ANALYZE and checks
    both_ready_s: float | None = None  # from the start of the load until both instances are ready

    @property
    def ready_ratio(self) -> float | None:
        """Both instances ready, as a multiple of loading and indexing before alone (clone path, before loaded)."""
        if self.before_ready_s and self.both_ready_s and self.method == "clone" and "before" in self.loaded:
            return self.both_ready_s / self.before_ready_s
        return None

    @property
    def load_rows_per_s(self) -> float | None:
        return self.rows / self.copy_s if self.copy_s else None

    @property
    def generate_rows_per_s(self) -> float | None:
        return self.rows / self.generate_s if self.generate_s else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "fingerprint": self.fingerprint,
            "loaded": self.loaded,
            "skipped": self.skipped,
            "generate_s": self.generate_s,
            "copy_s": self.copy_s,
            "load_rows_per_s": self.load_rows_per_s,
            "generate_rows_per_s": self.generate_rows_per_s,
            "index_build_s": self.index_build_s,
            "migration": self.migration,
            "vacuum_analyze_s": self.vacuum_analyze_s,
            "workers": self.workers,
            "notes": self.notes,
            "migration_under_test": self.migration_under_test,
            "method": self.method,
            "before_ready_s": self.before_ready_s,
            "clone_s": self.clone_s,
            "migrate_s": self.migrate_s,
            "both_ready_s": self.both_ready_s,
            "ready_ratio": self.ready_ratio,
        }

    def summary(self) -> str:
        if not self.loaded:
            return f"dataset {self.fingerprint[:12]} ({self.rows:,} rows) already loaded in both instances: skipped"
        if self.skipped:
            lines = [f"reused the loaded {', '.join(self.skipped)} (dataset {self.fingerprint[:12]} already there)"]
        else:
            lines = [f"loaded {self.rows:,} rows ({self.workers} worker(s) per instance)"]
        how = "copied from before" if self.method == "clone" else "loaded beside before"
        lines.append(f"  instances: {', '.join(r if r == 'before' else f'{r} ({how})' for r in self.loaded)}")
        if self.copy_s:
            lines += [
                f"  generation: {rate(self.generate_rows_per_s or 0)} (generator busy {self.generate_s:.1f} s)",
                f"  COPY stream: {rate(self.load_rows_per_s or 0)} per instance ({self.copy_s:.1f} s wall, "
                "generation overlapped)",
            ]
        for role, builds in self.index_build_s.items():
            lines.append(f"  index builds [{role}]: " + ", ".join(f"{k} {v:.1f}s" for k, v in builds.items()))
        if self.clone_s is not None:
            lines.append(f"  after copied from before's data directory: {self.clone_s:.1f} s (stop, copy, start)")
        if self.migration:
            label = self.migration_under_test.get("label", "migration")
            lines.append(f"  migration {label} [after]: {sum(s['seconds'] for s in self.migration):.1f} s")
        lines.append("  VACUUM ANALYZE: " + ", ".join(f"{k} {v:.1f}s" for k, v in self.vacuum_analyze_s.items()))
        lines += [f"  note: {note}" for note in self.notes]
        if self.ready_ratio is not None:
            assert self.both_ready_s is not None and self.before_ready_s is not None
            lines.append(
                f"  both ready in {self.both_ready_s:.1f} s = {self.ready_ratio:.2f} x the {self.before_ready_s:.1f} s "
                "of loading and indexing before alone"
            )
        elif self.both_ready_s is not None:
            lines.append(f"  both ready in {self.both_ready_s:.1f} s")
        return "\n".join(lines)


def _friendly(e: BaseException, inst: Instance) -> HarnessError:
    text = str(e).strip()
    if isinstance(e, HarnessError):
        return e
    if "No space left on device" in text or "could not extend file" in text:
        return HarnessError(
            f"the {inst.role} server ran out of disk space during the load: {text}\nFree space on the disk that "
            "holds its data directory (or choose another with PHASE2_BENCH_STATE_DIR), or load fewer rows. "
            "The partial load is marked incomplete and is never measured."
        )
    if isinstance(e, psycopg.OperationalError):
        return HarnessError(
            f"the {inst.role} server went away during the load: {text}\nCheck its log (python -m bench status); "
            "the partial load is marked incomplete and is redone by the next load."
        )
    if not isinstance(e, psycopg.Error):
        text = f"{type(e).__name__}: {text}"
    return HarnessError(
        f"loading the {inst.role} instance failed: {text}; the partial load is marked incomplete and is redone by "
        "the next load"
    )


class _Stopped(Exception):
    """Raised inside a COPY block to abort it (the server discards the rows) when the load is stopping."""


def _stream(
    spec: DatasetSpec, targets: list[Instance], workers: int, batch_rows: int, progress: bool
) -> tuple[float, float]:
    """Generate once, COPY every chunk into each target; returns (generator busy seconds, wall seconds)."""
    queues: dict[str, queue.Queue[Any]] = {t.role: queue.Queue(maxsize=4 * workers) for t in targets}
    stop = threading.Event()
    errors: list[HarnessError] = []
    bar = tqdm(total=spec.rows * len(targets), unit="row", unit_scale=True, desc="load (COPY)", disable=not progress)
    lock = threading.Lock()

    def consume(inst: Instance) -> None:
        try:
            with inst.connect() as conn, conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
                while True:
                    item = queues[inst.role].get()
                    if stop.is_set():
                        raise _Stopped
                    if item is _DONE:
                        break
                    rows, payload = item
                    copy.write(payload)
                    with lock:
                        bar.update(rows)
        except _Stopped:
            pass
        except BaseException as e:  # whatever kills a consumer stops the producer, or it would wait forever
            errors.append(_friendly(e, inst))
            stop.set()

    threads = [
        threading.Thread(target=consume, args=(t,), name=f"copy-{t.role}-{i}", daemon=True)
        for t in targets
        for i in range(workers)
    ]
    started = time.perf_counter()
    for th in threads:
        th.start()
    generate_s = 0.0
    chunks: Iterator[tuple[int, bytes]] = generate_copy_chunks(spec, batch_rows)
    try:
        while not stop.is_set():
            t0 = time.perf_counter()
            item = next(chunks, None)
            generate_s += time.perf_counter() - t0
            if item is None:
                break
            for q in queues.values():
                _put(q, item, stop)
    except BaseException:
        stop.set()  # an interrupt: the consumers abort their COPY instead of finishing what is queued
        raise
    finally:
        for q in queues.values():
            for _ in range(workers):
                _put(q, _DONE, stop, force=True)
        for th in threads:
            th.join()
        bar.close()
    if errors:
        raise errors[0]
    return generate_s, time.perf_counter() - started


def _put(q: queue.Queue[Any], item: Any, stop: threading.Event, force: bool = False) -> None:
    while True:
        try:
            q.put(item, timeout=0.2)
            return
        except queue.Full:
            if stop.is_set():
                if not force:
                    return
                with contextlib.suppress(queue.Empty):  # drain so the sentinel fits and the consumers can exit
                    q.get_nowait()


def _finish(
    inst: Instance,
    report: LoadReport,
    spec: DatasetSpec,
    key: dict[str, Any],
    canceller: StatementCanceller,
    bar: tqdm[Any] | None = None,
    migration: Migration | None = None,
    build_indexes: bool = True,
) -> None:
    """Indexes (timed; a copy of before has them), the migration on `after`, VACUUM ANALYZE, row count check, then
    the fingerprint."""

    def step() -> None:
        canceller.check()  # an interrupt between two statements stops here, not after all of them
        if bar is not None:
            bar.update(1)

    with canceller.connect(inst) as conn:
        if build_indexes:
            report.index_build_s[inst.role] = create_indexes_before(conn, step)
        if migration is not None:
            print(f"load: applying the migration {migration.label} to after ...", flush=True)
            report.migration = apply_migration(conn, migration, on_statement=step)
        t0 = time.perf_counter()
        if build_indexes or _needs_analyze(conn, migration):
            conn.execute(f"VACUUM ANALYZE {AGENT_EVENTS}")
        else:
            conn.execute(f"VACUUM {AGENT_EVENTS}")
            report.notes.append(
                "ANALYZE skipped on after: it is a copy of before's rows and the migration only changed indexes on "
                "plain columns, so after keeps before's planner statistics (the same on both sides)"
            )
        report.vacuum_analyze_s[inst.role] = time.perf_counter() - t0
        # Flush the load's dirty pages now, so no checkpoint writes them out under a timed query later.
        # (External servers may refuse it: it needs superuser or pg_checkpoint; the measurement still runs.)
        try:
            conn.execute("CHECKPOINT")
        except psycopg.errors.InsufficientPrivilege:
            report.notes.append(
                f"CHECKPOINT skipped on {inst.role}: it needs superuser or the pg_checkpoint role, so the load's "
                "dirty pages are written by the server's own checkpoints, possibly during measurement"
            )
        step()
        count = conn.execute(f"SELECT count(*) FROM {AGENT_EVENTS}").fetchone()[0]  # type: ignore[index]
        if count != spec.rows:
            raise HarnessError(
                f"the {inst.role} instance holds {count:,} rows after the load, but {spec.rows:,} were generated; "
                "it stays marked incomplete. Rerun the load (python -m bench load --force)."
            )
        canceller.check()
        write_meta(
            conn,
            "dataset",
            {
                **key,
                "state": "complete",
                "spec": spec.to_dict(),
                "loaded_at": datetime.now(UTC).isoformat(),
                "index_build_s": report.index_build_s.get(inst.role, {}),
                "copy_s": report.copy_s,
                "built_by": "copy of before" if not build_indexes else "load",
                **({"migration": migration.to_dict()} if migration is not None else {}),
            },
        )


# Statements that change no row and no column (the copy's statistics stay true after them); a SELECT only when it
# selects a constant, as noop.sql does (a SELECT can call a function that writes).
INDEX_ONLY = re.compile(r"^(create\s+(unique\s+)?index\b|drop\s+index\b|comment\s+on\b|select\s+\d+$)", re.IGNORECASE)
EXPRESSION_INDEXES_SQL = (
    f"SELECT count(*) FROM pg_index WHERE indrelid = '{AGENT_EVENTS}'::regclass AND indexprs IS NOT NULL"
)


def _needs_analyze(conn: psycopg.Connection[Any], migration: Migration | None) -> bool:
    """Whether a copy of the analyzed before needs ANALYZE after the migration: when the migration may have
    changed rows or columns, or built an expression index (whose statistics only ANALYZE gathers)."""
    if migration is None:
        return False
    if not all(INDEX_ONLY.match(statement) for statement in migration.statements):
        return True
    row = conn.execute(EXPRESSION_INDEXES_SQL).fetchone()
    return bool(row and row[0])


def load_dataset(
    pair: InstancePair,
    spec: DatasetSpec,
    workers: int = 1,
    force: bool = False,
    batch_rows: int = 50_000,
    progress: bool = True,
    migration: Migration | None = None,
) -> LoadReport:
    """`before` loaded and indexed, `after` the same data plus the migration under test (None: Phase 2)."""
    spec.validate()
    if workers < 1:
        raise HarnessError(f"--workers must be at least 1 (got {workers})")
    migration = migration if migration is not None else read_migration(None)
    with contextlib.ExitStack() as locks:
        hold_harness_locks(pair, locks)
        return _load_locked(pair, spec, workers, force, batch_rows, progress, migration)


def _mark_loading(inst: Instance, key: dict[str, Any]) -> None:
    with inst.connect() as conn:
        write_meta(conn, "dataset", {**key, "state": "loading", "started_at": datetime.now(UTC).isoformat()})


def _load_locked(
    pair: InstancePair,
    spec: DatasetSpec,
    workers: int,
    force: bool,
    batch_rows: int,
    progress: bool,
    migration: Migration,
) -> LoadReport:
    started = time.perf_counter()
    keys = {"before": dataset_key(spec, pair.engine), "after": dataset_key(spec, pair.engine, migration)}
    current: dict[str, bool] = {}
    for inst in pair:
        with inst.connect() as conn:
            current[inst.role] = not force and is_current(read_meta(conn, "dataset"), keys[inst.role])
    why_no_clone = None if all(current.values()) else clone_unavailable(pair)
    if why_no_clone is None and not current["before"]:
        current["after"] = False  # a copy of the new before replaces whatever after held
    report = LoadReport(
        spec.rows,
        keys["before"]["fingerprint"],
        [r for r in ("before", "after") if not current[r]],
        [r for r in ("before", "after") if current[r]],
        workers=workers,
        migration_under_test=migration.to_dict(),
        method="clone" if why_no_clone is None else "side_by_side",
    )
    if not report.loaded:
        return report
    if why_no_clone is not None:
        report.notes.append(f"after was loaded beside before, not copied from it: {why_no_clone}")
    targets = [inst for inst in pair if not current[inst.role]]
    generated = [t for t in targets if why_no_clone is not None or t.role == "before"]
    for inst in generated:  # refused before anything is marked or dropped
        with inst.connect() as conn:
            require_connection_room(conn, inst.role, workers)
    for inst in targets:  # marked first: an interrupted load is never taken as loaded
        _mark_loading(inst, keys[inst.role])
    if generated:
        _generate(pair, spec, workers, batch_rows, progress, generated, keys, report, migration)
    if why_no_clone is None:
        report.before_ready_s = time.perf_counter() - started if "before" in report.loaded else None
        print("load: after = a copy of before's data directory ...", flush=True)
        report.clone_s = clone_before_into_after(pair)
        _mark_loading(pair.after, keys["after"])
        t0 = time.perf_counter()
        steps = len(migration.statements) + 1
        with tqdm(total=steps, unit="step", desc="migration, VACUUM ANALYZE", disable=not progress) as bar:
            run_parallel(
                [
                    functools.partial(
                        _finish,
                        pair.after,
                        report,
                        spec,
                        keys["after"],
                        bar=bar,
                        migration=migration,
                        build_indexes=False,
                    )
                ]
            )
        report.migrate_s = time.perf_counter() - t0
    report.both_ready_s = time.perf_counter() - started
    return report


def _generate(
    pair: InstancePair,
    spec: DatasetSpec,
    workers: int,
    batch_rows: int,
    progress: bool,
    targets: list[Instance],
    keys: dict[str, dict[str, Any]],
    report: LoadReport,
    migration: Migration,
) -> None:
    """COPY the generated rows into each target, then its indexes (and on `after` the migration), VACUUM ANALYZE."""
    for inst in targets:
        with inst.connect() as conn:
            create_table(conn, pair.engine, spec.window_start, spec.reference_instant)
    print(f"load: COPY {spec.rows:,} rows into {', '.join(t.role for t in targets)} ...", flush=True)
    report.generate_s, report.copy_s = _stream(spec, targets, workers, batch_rows, progress)
    print("load: building indexes, VACUUM ANALYZE ...", flush=True)
    # 7 indexes and VACUUM ANALYZE per instance, plus the migration's statements on `after`
    steps = sum(8 + (len(migration.statements) if t.role == "after" else 0) for t in targets)
    with tqdm(total=steps, unit="step", desc="indexes, migration, VACUUM ANALYZE", disable=not progress) as bar:
        run_parallel(
            [
                functools.partial(
                    _finish,
                    inst,
                    report,
                    spec,
                    keys[inst.role],
                    bar=bar,
                    migration=migration if inst.role == "after" else None,
                )
                for inst in targets
            ]
        )


# Connections another client could still open: reserved slots are kept back (superuser_reserved_connections,
# and reserved_connections from PostgreSQL 16), and every other client backend holds one.
CONNECTION_ROOM_SQL = """
SELECT current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
         + coalesce(current_setting('reserved_connections', true)::int, 0),
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())
"""


def require_connection_room(conn: psycopg.Connection[Any], role: str, workers: int) -> None:
    """Each worker is one COPY connection per instance: refuse a count the server would turn away mid-load."""
    max_connections, reserved, in_use = conn.execute(CONNECTION_ROOM_SQL).fetchone()  # type: ignore[misc]
    room = max_connections - reserved - in_use
    if workers > room:
        raise HarnessError(
            f"--workers {workers} needs {workers} COPY connections to the {role} server, which accepts only {room} "
            f"more (max_connections {max_connections}, {reserved} reserved, {in_use} in use): use --workers "
            f"{max(room, 1)} or fewer, or raise max_connections"
        )


def require_loaded(
    pair: InstancePair, spec: DatasetSpec | None = None, migration: Migration | None = None
) -> dict[str, Any]:
    """The dataset both instances hold, refusing incomplete, mismatched or missing loads, and an `after` built
    with another migration than `migration` (when given). The migration `after` holds is returned under
    "migration"."""
    metas = []
    for inst in pair:
        with inst.connect() as conn:
            metas.append(read_meta(conn, "dataset"))
    for inst, meta in zip(pair, metas, strict=True):
        if not isinstance(meta, dict):
            raise HarnessError(f"the {inst.role} instance has no dataset loaded: run `python -m bench load` first")
        if meta.get("state") != "complete":
            raise HarnessError(
                f"the {inst.role} instance holds an incomplete load (state {meta.get('state')!r}, interrupted?): it "
                "is never measured. Run `python -m bench load` to redo it."
            )
    if metas[0]["fingerprint"] != metas[1]["fingerprint"] or metas[0]["schema_hash"] != metas[1]["schema_hash"]:
        raise HarnessError("before and after hold different datasets: run `python -m bench load` to reload both")
    # Measuring one engine's table under another engine's label would publish wrong figures.
    loaded_engines = sorted({str(m.get("engine")) for m in metas})
    if loaded_engines != [pair.engine.name]:
        other = f", or run with --engine {loaded_engines[0]}" if len(loaded_engines) == 1 else ""
        raise HarnessError(
            f"the instances hold a dataset loaded with engine {' and '.join(loaded_engines)}, but this run uses "
            f"engine {pair.engine.name}: reload with `python -m bench load --engine {pair.engine.name}`{other}"
        )
    if spec is not None and not is_current(metas[0], dataset_key(spec, pair.engine)):
        raise HarnessError(
            f"the loaded dataset ({metas[0].get('rows')} rows, fingerprint {str(metas[0].get('fingerprint'))[:12]}) "
            f"is not the requested one ({spec.rows} rows): run `python -m bench load` with the same options"
        )
    loaded_migration = metas[1].get("migration") if isinstance(metas[1].get("migration"), dict) else None
    if migration is not None and metas[1].get("migration_sha256") != migration.sha256:
        held = (
            f"the migration {loaded_migration.get('label')} (sha256 {str(loaded_migration.get('sha256'))[:12]})"
            if loaded_migration
            else "no recorded migration (a load by an older harness, or a copy of before not yet migrated)"
        )
        raise HarnessError(
            f"the after instance holds {held}, but this run measures {migration.describe()}: load after with it, "
            f"`make load ARGS='--migration {migration.cli_name}'` (python -m bench load --migration "
            f"{migration.cli_name}; the loaded before is reused), or run with the migration after holds"
        )
    return {**metas[0], "migration": loaded_migration}


def spec_at_rows(recorded: dict[str, Any], rows: int) -> DatasetSpec:
    """The loaded dataset's spec (as `DatasetSpec.to_dict` recorded it) at another row count, for suites that
    rebuild it. A project count derived from rows is derived again (events per project keep their shape);
    an explicit one is scaled with the rows. At the same row count the fingerprint is unchanged."""
    knobs = {**recorded, "reference_instant": datetime.fromisoformat(recorded["reference_instant"])}
    derived = DatasetSpec(**{**knobs, "projects": None}).project_count
    if knobs["projects"] == derived:
        knobs["projects"] = None
    elif rows != knobs["rows"]:
        knobs["projects"] = max(1, round(knobs["projects"] * rows / knobs["rows"]))
    spec = DatasetSpec(**{**knobs, "rows": rows})
    try:
        spec.validate()
    except ValueError as e:
        raise HarnessError(f"cannot rebuild the dataset at {rows:,} rows: {e}") from None
    return spec
