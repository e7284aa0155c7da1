"""Safety: every command keeps one exit-code contract (0 ok, 1 a gate check failed, 2 a harness or input error
in one line, 130 interrupted), inputs are refused before any expensive work, and nothing half-written is kept."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

import bench.load.loader
import bench.report.document
from bench.cli import main
from bench.core.config import HarnessConfig
from bench.core.errors import HarnessError
from bench.db.database import read_meta
from bench.db.instances import InstancePair, embedded_servers, open_instances, stop_embedded
from bench.db.pg_binaries import PgBinaries
from bench.load.loader import load_dataset, require_loaded
from generators.shape import DatasetSpec, spec_from_args

DATA = Path(__file__).parent / "data"
STORED = DATA / "results_ci_partitions.json"
BROKEN_RESULTS = DATA / "broken_results"

Doc = dict[str, Any]


def one_error_line(err: str) -> str:
    """The single `error: ...` line a refused command prints, with nothing else on stderr."""
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one error line, got:\n{err}"
    assert lines[0].startswith("error: "), lines[0]
    assert "Traceback" not in err
    return lines[0]


# --- broken results documents --------------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[Doc], None]:
    """A mutation that sets doc[a][b]... (integer parts index lists) to value, or deletes it when value is ...."""
    parts: list[Any] = [int(p) if p.isdigit() else p for p in path.split(".")]

    def mutate(doc: Doc) -> None:
        target: Any = doc
        for part in parts[:-1]:
            target = target[part]
        if value is ...:
            del target[parts[-1]]
        else:
            target[parts[-1]] = value

    return mutate


# (file name, mutation of the stored document, the key the error must name)
WRONG_TYPES: list[tuple[str, Callable[[Doc], None], str]] = [
    ("cases_is_a_number", _set("cases", 5), "cases"),
    ("case_is_a_string", _set("cases", ["session_timeline"]), "cases[0]"),
    ("verdict_lacks_fields", _set("verdicts", [{"promise": "session_timeline"}]), "verdicts[0]"),
    ("schema_version_is_a_string", _set("schema_version", "1"), "schema_version"),
    ("schema_version_from_the_future", _set("schema_version", 3), "schema_version"),
    ("storage_is_a_string", _set("storage", "big"), "storage"),
    ("latencies_are_a_string", _set("cases.0.samples.0.latencies_ms.before", "fast"), "latencies_ms.before"),
    ("rows_is_a_string", _set("dataset.rows", "many"), "dataset.rows"),
    ("engine_is_missing", _set("engine", ...), "engine"),
    ("speedup_point_is_text", _set("cases.0.speedup.point", "2x"), "cases[0].speedup.point"),
    ("verdict_gated_is_text", _set("verdicts.0.gated", "yes"), "verdicts[0].gated"),
    ("verdict_point_is_a_bool", _set("verdicts.0.point", True), "verdicts[0].point"),
    ("environment_is_null", _set("environment", None), "environment"),
    ("suites_is_a_list", _set("suites", []), "suites"),
    ("deviations_holds_a_number", _set("deviations", [3]), "deviations[0]"),
]
RAW_BROKEN = sorted(BROKEN_RESULTS.glob("*.json"))


def broken_corpus(tmp_path: Path) -> list[tuple[Path, str]]:
    """Every broken results file, with the text its error must contain besides the file name."""
    corpus = [(path, "") for path in RAW_BROKEN]
    for name, mutate, key in WRONG_TYPES:
        doc = json.loads(STORED.read_text())
        mutate(doc)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(doc))
        corpus.append((path, key))
    return corpus


def run_command(command: str, broken: Path, tmp_path: Path) -> int:
    out = tmp_path / "out"
    junit = str(tmp_path / "junit.xml")
    argv = {
        "report": ["report", str(broken)],
        "compare A": ["compare", str(broken), str(STORED), "--out", str(out)],
        "compare B": ["compare", str(STORED), str(broken), "--out", str(out)],
        "gate --results": ["gate", "--results", str(broken), "--junit", junit],
        "gate --baseline": ["gate", "--results", str(STORED), "--baseline", str(broken), "--junit", junit],
    }[command]
    return main(argv)


COMMANDS_READING_RESULTS = ("report", "compare A", "compare B", "gate --results", "gate --baseline")


def test_the_corpus_covers_raw_files() -> None:
    names = {p.name for p in RAW_BROKEN}
    assert {"not_utf8.json", "empty_list.json", "null.json", "string.json", "truncated.json"} <= names


@pytest.mark.parametrize("command", COMMANDS_READING_RESULTS)
def test_broken_results_exit_2_in_one_line_naming_file_and_key(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for broken, key in broken_corpus(tmp_path):
        code = run_command(command, broken, tmp_path)
        err = capsys.readouterr().err
        assert code == 2, f"{command} {broken.name}: exit {code}\n{err}"
        line = one_error_line(err)
        assert str(broken) in line, line
        assert key in line, f"{broken.name}: the error does not name {key!r}: {line}"
        assert not (tmp_path / "junit.xml").exists()


def test_a_valid_document_still_passes_every_reader(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(STORED.read_text())
    assert main(["report", str(run)]) == 0
    assert main(["compare", str(run), str(STORED), "--out", str(tmp_path / "cmp")]) == 0
    assert main(["gate", "--results", str(run), "--junit", str(tmp_path / "j.xml")]) in (0, 1)
    assert "error" not in capsys.readouterr().err


def test_gate_keeps_1_for_a_failed_check(tmp_path: Path) -> None:
    assert main(["gate", "--results", str(STORED), "--junit", str(tmp_path / "junit.xml")]) == 1


# --- unexpected exceptions and --debug -------------------------------------------------------------------------


def _explode(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("figure engine broke")


@pytest.fixture
def exploding_report(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A bug stand-in: rendering the report raises something the harness does not expect."""
    monkeypatch.setattr(bench.report.document, "render_figures", _explode)
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_text(STORED.read_text())
    return run


def test_an_unexpected_exception_exits_2_in_one_line_suggesting_debug(
    exploding_report: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHASE2_BENCH_DEBUG", raising=False)
    assert main(["report", str(exploding_report)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "RuntimeError" in line and "figure engine broke" in line and "--debug" in line


@pytest.mark.parametrize("how", ["flag before", "flag after", "env"])
def test_debug_prints_the_traceback(
    how: str, exploding_report: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHASE2_BENCH_DEBUG", raising=False)
    argv = {
        "flag before": ["--debug", "report", str(exploding_report)],
        "flag after": ["report", str(exploding_report), "--debug"],
        "env": ["report", str(exploding_report)],
    }[how]
    if how == "env":
        monkeypatch.setenv("PHASE2_BENCH_DEBUG", "1")
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "_explode" in err
    assert err.rstrip().splitlines()[-1].startswith("error: RuntimeError")


def test_debug_shows_the_traceback_of_a_harness_error_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PHASE2_BENCH_DEBUG", raising=False)
    broken = BROKEN_RESULTS / "null.json"
    assert main(["report", str(broken)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert main(["--debug", "report", str(broken)]) == 2
    assert "Traceback (most recent call last)" in capsys.readouterr().err


# --- inputs refused before any expensive work ------------------------------------------------------------------


@pytest.fixture
def untouched_state_dir(state_dir_factory: Callable[[str], Path]) -> Iterator[Path]:
    """An empty state directory that must still be empty after a refused command: no server was started."""
    path = state_dir_factory("untouched")
    yield path
    assert list(path.iterdir()) == [], "a refused command started servers (or wrote) in the state directory"


@pytest.fixture
def no_dsn_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("PHASE2_BEFORE_DSN", "PHASE2_AFTER_DSN", "PHASE2_BENCH_STATE_DIR", "PHASE2_BENCH_RUNS_DIR"):
        monkeypatch.delenv(variable, raising=False)


@pytest.mark.usefixtures("no_dsn_env")
@pytest.mark.parametrize("command", ["run", "bench"])
def test_an_unknown_suite_is_refused_before_any_server_starts(
    command: str, untouched_state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--state-dir", str(untouched_state_dir), "--runs-dir", str(tmp_path), "--engine", "postgres"]
    assert main([*argv, "--suites", "compatibility,nosuch"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "nosuch" in line and "compatibility" in line and "write_cost" in line  # the choices are listed


@pytest.mark.usefixtures("no_dsn_env")
@pytest.mark.parametrize("command", ["run", "candidates"])
@pytest.mark.parametrize("budget", ["-1", "0"])
def test_a_budget_that_is_not_positive_is_refused_before_any_server_starts(
    command: str, budget: str, untouched_state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [command, "--state-dir", str(untouched_state_dir), "--runs-dir", str(tmp_path), "--engine", "postgres"]
    assert main([*argv, "--budget", budget]) == 2
    assert f"--budget {budget}: give the seconds to aim at per parameter, above 0" in one_error_line(
        capsys.readouterr().err
    )
    assert not any(tmp_path.iterdir())


TARGETS_WITH = {
    "unknown case": ('cases = ["session_timeline", "session_timeline_latest"]', 'cases = ["session_timelime"]'),
    "unknown metric": ('metric = "storage_overhead_pct"', 'metric = "storage_overhead_percent"'),
    "bad TOML": ("[controls]", "[controls"),
}


def broken_targets(tmp_path: Path, problem: str) -> Path:
    from bench.judge.verdicts import DEFAULT_TARGETS_PATH

    old, new = TARGETS_WITH[problem]
    text = DEFAULT_TARGETS_PATH.read_text()
    assert old in text
    path = tmp_path / "targets.toml"
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.mark.usefixtures("no_dsn_env")
@pytest.mark.parametrize("problem", list(TARGETS_WITH))
@pytest.mark.parametrize("command", ["run", "bench", "gate", "gate --results"])
def test_a_broken_targets_file_is_refused_first_naming_file_key_and_choices(
    command: str, problem: str, untouched_state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    targets = broken_targets(tmp_path, problem)
    if command == "gate --results":
        argv = ["gate", "--results", str(STORED), "--junit", str(tmp_path / "junit.xml")]
    else:
        argv = [command, "--state-dir", str(untouched_state_dir), "--runs-dir", str(tmp_path / "runs")]
    assert main([*argv, "--targets", str(targets)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(targets) in line
    if problem == "unknown case":
        assert "promises.session_timeline.cases" in line and "session_timelime" in line
        assert "session_timeline_latest" in line and "control_last_24h" in line  # the valid choices
    if problem == "unknown metric":
        assert "promises.storage_overhead.metric" in line and "storage_overhead_percent" in line
        assert "index_overhead_pct" in line
    if problem == "bad TOML":
        assert "line" in line


@pytest.mark.usefixtures("no_dsn_env")
@pytest.mark.parametrize(
    ("before", "problem"),
    [
        ("host=127.0.0.1 port", 'missing "="'),
        ("postgresql://bench@127.0.0.1:notaport/db", "notaport"),
        ("host=127.0.0.1 port=99999 dbname=x", "99999"),
    ],
)
@pytest.mark.parametrize("command", ["status", "load", "run"])
def test_an_unparsable_dsn_is_refused_up_front(
    command: str, before: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    after = "host=127.0.0.1 port=1 dbname=after"
    assert main([command, "--before-dsn", before, "--after-dsn", after]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--before-dsn" in line and "PHASE2_BEFORE_DSN" in line and problem in line


@contextlib.contextmanager
def unwritable(path: Path) -> Iterator[None]:
    """path cannot be written to, even by root (an immutable directory), until the block ends."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        made = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
        if made.returncode != 0:
            pytest.skip(f"cannot make {path} unwritable for root (chattr +i: {made.stderr.strip()})")
        undo = ["chattr", "-i", str(path)]
    else:
        path.chmod(0o555)
        undo = ["chmod", "755", str(path)]
    try:
        probe = path / "probe"
        with pytest.raises(OSError):
            probe.write_text("")
        yield
    finally:
        subprocess.run(undo, check=True)


@pytest.mark.usefixtures("no_dsn_env")
@pytest.mark.parametrize("command", ["up", "load", "run", "bench"])
def test_an_unwritable_state_dir_is_named_with_its_fix(
    command: str, state_dir_factory: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state_dir = state_dir_factory("readonly")
    argv = [command, "--state-dir", str(state_dir), "--engine", "postgres"]
    if command in ("run", "bench"):
        argv += ["--runs-dir", str(tmp_path)]
    with unwritable(state_dir):
        assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(state_dir) in line and "PHASE2_BENCH_STATE_DIR" in line and "--state-dir" in line
    assert list(state_dir.iterdir()) == []


@pytest.mark.usefixtures("no_dsn_env")
@pytest.mark.parametrize("how", ["flag", "env"])
@pytest.mark.parametrize("command", ["run", "bench", "gate"])
def test_an_unwritable_runs_dir_is_refused_before_any_server_starts(
    command: str,
    how: str,
    untouched_state_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs = tmp_path / "runs"
    argv = [command, "--state-dir", str(untouched_state_dir), "--engine", "postgres"]
    if how == "flag":
        argv += ["--runs-dir", str(runs)]
    else:
        monkeypatch.setenv("PHASE2_BENCH_RUNS_DIR", str(runs))
    with unwritable(runs):
        assert main(argv) == 2
    line = one_error_line(capsys.readouterr().err)
    assert str(runs) in line and "PHASE2_BENCH_RUNS_DIR" in line and "--runs-dir" in line


@pytest.mark.usefixtures("no_dsn_env")
def test_workers_beyond_the_connection_limit_are_refused_before_loading(
    fresh_harness_config: Callable[..., HarnessConfig], capsys: pytest.CaptureFixture[str]
) -> None:
    config = fresh_harness_config()
    with open_instances(config, keep_running=True) as pair, pair.before.connect() as conn:
        limit = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
    argv = ["load", "--state-dir", str(config.state_dir), "--pg-bin", str(config.pg_bin), "--engine", "postgres"]
    assert main([*argv, "--preset", "ci", "--no-progress", "--workers", str(limit)]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert "--workers" in line and "max_connections" in line and str(limit) in line
    with open_instances(config) as pair:
        for inst in pair:
            with inst.connect() as conn:
                assert read_meta(conn, "dataset") is None, "the load started before the worker count was checked"


# --- the load never hangs on a dead COPY consumer ---------------------------------------------------------------


def test_a_copy_consumer_dying_of_an_unexpected_error_ends_the_load_marked_incomplete(
    scratch_pair: InstancePair, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = bench.load.loader.generate_copy_chunks

    def chunks_with_garbage(spec: DatasetSpec, batch_rows: int = 50_000) -> Iterator[tuple[int, Any]]:
        for i, (rows, payload) in enumerate(real(spec, 500)):
            yield rows, (object() if i == 2 else payload)  # copy.write raises TypeError on it

    monkeypatch.setattr(bench.load.loader, "generate_copy_chunks", chunks_with_garbage)
    spec = spec_from_args(20_000, None, 11)
    outcome: list[BaseException | None] = []

    def load() -> None:
        try:
            load_dataset(scratch_pair, spec, progress=False)
            outcome.append(None)
        except BaseException as e:
            outcome.append(e)

    worker = threading.Thread(target=load, daemon=True)
    worker.start()
    worker.join(timeout=120)  # a hang detector, not a timing assertion: the load used to retry forever
    assert not worker.is_alive(), "the load hung after a COPY consumer died"
    (error,) = outcome
    assert isinstance(error, HarnessError), repr(error)
    assert "TypeError" in str(error) and ("before" in str(error) or "after" in str(error))
    for inst in scratch_pair:
        with inst.connect() as conn:
            assert read_meta(conn, "dataset")["state"] == "loading"
    with pytest.raises(HarnessError, match="incomplete load"):
        require_loaded(scratch_pair, spec)


# --- a failed run leaves no half-written run folder ---------------------------------------------------------------


@pytest.mark.usefixtures("no_dsn_env")
def test_a_failed_run_leaves_no_run_folder_and_keeps_latest(
    loaded_pair: InstancePair, harness_config: HarnessConfig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "runs"
    (runs / "20200101T000000Z").mkdir(parents=True)
    (runs / "20200101T000000Z" / "results.json").write_text(STORED.read_text())
    (runs / "latest").symlink_to("20200101T000000Z")
    argv = ["run", "--state-dir", str(harness_config.state_dir), "--pg-bin", str(harness_config.pg_bin)]
    argv += ["--engine", "postgres", "--runs-dir", str(runs), "-k", "no_such_case", "--suites", ""]
    assert main(argv) == 2  # sampled parameters and wrote params.json, then found no case to time
    assert "no query case matches" in one_error_line(capsys.readouterr().err)
    assert sorted(p.name for p in runs.iterdir()) == ["20200101T000000Z", "latest"]
    assert os.readlink(runs / "latest") == "20200101T000000Z"


# --- SIGINT at each phase of `bench`: exit 130, no server left, nothing published or half-written ---------------

REPO = Path(__file__).resolve().parent.parent
PREVIOUS_RUN = "20200101T000000Z"  # a complete earlier run that `latest` points at; an interrupt must not move it
QUICK_BENCH = ("--warmup", "1", "--min-rounds", "2", "--max-rounds", "3", "--budget", "0.05", "-k", "session_timeline")


@dataclasses.dataclass
class BenchState:
    config: HarnessConfig
    runs_dir: Path


@pytest.fixture(scope="module")
def bench_state(state_dir_factory: Callable[[str], Path], pg_binaries: PgBinaries) -> BenchState:
    """A state dir holding the loaded ci dataset (servers stopped), and a runs dir with one earlier run."""
    config = HarnessConfig(state_dir=state_dir_factory("interrupts"), engine="postgres", pg_bin=pg_binaries.bindir)
    with open_instances(config) as pair:
        load_dataset(pair, spec_from_args(None, "ci", None), progress=False)
    runs_dir = state_dir_factory("interrupt-runs")
    (runs_dir / PREVIOUS_RUN).mkdir()
    (runs_dir / PREVIOUS_RUN / "results.json").write_text(STORED.read_text())
    (runs_dir / "latest").symlink_to(PREVIOUS_RUN)
    return BenchState(config, runs_dir)


class BenchProcess:
    """`python -m bench bench` in a subprocess, its stdout read line by line to find the phase it is in."""

    def __init__(self, state: BenchState, *extra: str) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("PHASE2_BEFORE_DSN", "PHASE2_AFTER_DSN")}
        env.update(PHASE2_BENCH_RUNS_DIR=str(state.runs_dir), PYTHONUNBUFFERED="1")
        env.pop("PHASE2_BENCH_DEBUG", None)
        config = state.config
        argv = ["bench", "--preset", "ci", "--state-dir", str(config.state_dir), "--engine", "postgres"]
        argv += ["--pg-bin", str(config.pg_bin), "--no-progress", *QUICK_BENCH, *extra]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bench", *argv],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.readers = [
            threading.Thread(target=self._read, args=(self.proc.stdout, self.stdout, True), daemon=True),
            threading.Thread(target=self._read, args=(self.proc.stderr, self.stderr, False), daemon=True),
        ]
        for reader in self.readers:
            reader.start()

    def _read(self, stream: Any, into: list[str], announce: bool) -> None:
        for line in stream:
            into.append(line)
            if announce:
                self.lines.put(line)
        if announce:
            self.lines.put(None)

    def wait_for(self, marker: str) -> None:
        while True:
            try:
                line = self.lines.get(timeout=300)
            except queue.Empty:
                pytest.fail(f"no {marker!r} line within 300 s:\n{''.join(self.stdout)}")
            if line is None:
                pytest.fail(f"bench ended before {marker!r}:\n{''.join(self.stdout)}\n{''.join(self.stderr)}")
            if line.startswith(marker):
                return

    def interrupt(self, sig: int = signal.SIGINT) -> None:
        self.proc.send_signal(sig)

    def finish(self) -> int:
        try:
            code = self.proc.wait(timeout=90)  # a hang detector: an interrupt that is not honoured never ends
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail(f"bench did not end after the interrupt:\n{''.join(self.stdout)}\n{''.join(self.stderr)}")
        for reader in self.readers:
            reader.join(timeout=10)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def bench_process(bench_state: BenchState) -> Iterator[Callable[..., BenchProcess]]:
    started: list[BenchProcess] = []

    def start(*extra: str) -> BenchProcess:
        started.append(BenchProcess(bench_state, *extra))
        return started[-1]

    yield start
    for process in started:
        process.close()
    with contextlib.suppress(HarnessError):
        stop_embedded(bench_state.config)


def running_servers(config: HarnessConfig) -> list[str]:
    return [s.name for s in embedded_servers(config) if s.running_pid_port()]


def assert_interrupted_cleanly(process: BenchProcess, state: BenchState) -> None:
    code = process.finish()
    err = "".join(process.stderr)
    assert code == 130, f"exit {code}\n{''.join(process.stdout)}\n{err}"
    assert "Traceback" not in err, err
    assert err.strip().splitlines()[-1].startswith("interrupted"), err
    assert running_servers(state.config) == [], "a server was left running"
    assert sorted(p.name for p in state.runs_dir.iterdir()) == [PREVIOUS_RUN, "latest"], "a run folder was left"
    assert os.readlink(state.runs_dir / "latest") == PREVIOUS_RUN


def dataset_states(config: HarnessConfig) -> dict[str, str | None]:
    with open_instances(config) as pair:
        states = {}
        for inst in pair:
            with inst.connect() as conn:
                meta = read_meta(conn, "dataset")
                states[inst.role] = meta.get("state") if isinstance(meta, dict) else None
    return states


@contextlib.contextmanager
def holding_lock(config: HarnessConfig, role: str, mode: str) -> Iterator[psycopg.Connection[Any]]:
    """A transaction of the test's own holding `LOCK TABLE agent_events IN <mode> MODE` on an instance."""
    server = next(s for s in embedded_servers(config) if s.name == role)
    conn = psycopg.connect(server.dsn().replace("application_name=phase2-bench", "application_name=lock-holder"))
    try:
        conn.execute(f"LOCK TABLE agent_events IN {mode} MODE")
        yield conn
    finally:
        with contextlib.suppress(psycopg.Error):  # the harness's cleanup stops the server under it
            conn.close()


def wait_until_blocked(config: HarnessConfig, role: str, statement: str, waits_on: str = "Lock") -> None:
    """Until the harness's `statement` waits for the test's lock on `role` (or, waits_on="Timeout", sleeps there):
    the phase is pinned there."""
    server = next(s for s in embedded_servers(config) if s.name == role)
    with psycopg.connect(server.dsn().replace("phase2-bench", "observer"), autocommit=True) as conn:
        for _ in range(600):
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'phase2-bench' "
                "AND wait_event_type = %s AND query ILIKE %s",
                [waits_on, f"{statement}%"],
            ).fetchone()
            if row and row[0]:
                return
            time.sleep(0.1)
    pytest.fail(f"the harness never waited on the test's lock with {statement} on {role}")


@pytest.mark.slow
def test_sigint_during_timing_exits_130(bench_process: Callable[..., BenchProcess], bench_state: BenchState) -> None:
    process = bench_process("--suites", "")
    process.wait_for("timing the query cases")
    with holding_lock(bench_state.config, "before", "ACCESS EXCLUSIVE"):  # pins a timed query until the interrupt
        wait_until_blocked(bench_state.config, "before", "")
        process.interrupt()
        assert_interrupted_cleanly(process, bench_state)
    assert dataset_states(bench_state.config) == {"before": "complete", "after": "complete"}


@pytest.mark.slow
def test_sigint_during_a_suite_exits_130(bench_process: Callable[..., BenchProcess], bench_state: BenchState) -> None:
    process = bench_process("--suites", "migration")  # works on scratch copies for several seconds
    process.wait_for("suite migration")
    process.interrupt()
    assert_interrupted_cleanly(process, bench_state)


@pytest.mark.slow
def test_sigterm_while_the_report_is_written_publishes_nothing(
    bench_process: Callable[..., BenchProcess], bench_state: BenchState
) -> None:
    process = bench_process("--suites", "")
    process.wait_for("report: writing")
    process.interrupt(signal.SIGTERM)
    assert_interrupted_cleanly(process, bench_state)


@pytest.mark.slow
def test_interrupts_during_the_cleanup_leave_no_server_running(
    bench_process: Callable[..., BenchProcess], bench_state: BenchState
) -> None:
    """A user hammering Ctrl-C: every signal after the first lands in the cleanup, which must still finish."""
    process = bench_process("--suites", "")
    process.wait_for("timing the query cases")
    with holding_lock(bench_state.config, "before", "ACCESS EXCLUSIVE"):
        wait_until_blocked(bench_state.config, "before", "")
        while process.proc.poll() is None:
            process.interrupt(signal.SIGINT)
            time.sleep(0.02)
            process.interrupt(signal.SIGTERM)
            time.sleep(0.02)
        assert_interrupted_cleanly(process, bench_state)
    message = "".join(process.stderr).strip().splitlines()[-1]
    assert "still running" not in message, message


@pytest.mark.slow
def test_sigint_during_copy_leaves_the_load_incomplete(
    bench_process: Callable[..., BenchProcess], bench_state: BenchState
) -> None:
    process = bench_process("--suites", "", "--force")
    process.wait_for("load: COPY")
    process.interrupt()
    assert_interrupted_cleanly(process, bench_state)
    assert dataset_states(bench_state.config) == {"before": "loading", "after": "loading"}


@pytest.mark.slow
def test_sigint_during_index_builds_cancels_them_and_never_marks_complete(
    bench_process: Callable[..., BenchProcess], bench_state: BenchState
) -> None:
    process = bench_process("--suites", "", "--force")
    process.wait_for("load: building indexes")
    # Each instance's next index build waits behind the test's lock until the interrupt cancels it.
    with (
        holding_lock(bench_state.config, "before", "ACCESS EXCLUSIVE"),
        holding_lock(bench_state.config, "after", "ACCESS EXCLUSIVE"),
    ):
        wait_until_blocked(bench_state.config, "before", "CREATE INDEX")
        process.interrupt()
        assert_interrupted_cleanly(process, bench_state)
    assert dataset_states(bench_state.config) == {"before": "loading", "after": "loading"}


@pytest.mark.slow
def test_sigint_during_the_migration_cancels_it_and_never_marks_complete(
    bench_process: Callable[..., BenchProcess], bench_state: BenchState, tmp_path: Path
) -> None:
    # after is a copy of before made by restarting both servers, so no lock of the test's survives until the
    # migration: a migration under test that runs until it is interrupted pins the phase instead.
    slow = tmp_path / "slow_migration.sql"
    slow.write_text("-- promises: none\nSELECT pg_sleep(600);\n")
    process = bench_process("--suites", "", "--force", "--migration", str(slow))
    process.wait_for("load: applying the migration")
    wait_until_blocked(bench_state.config, "after", "SELECT pg_sleep", waits_on="Timeout")
    process.interrupt()
    assert_interrupted_cleanly(process, bench_state)
    assert dataset_states(bench_state.config) == {"before": "complete", "after": "loading"}


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["candidates", "--repeat", "abc"], "argument --repeat: invalid int value: 'abc'"),
        (["whatif", "--candidates-run"], "argument --candidates-run: expected one argument"),
        (["run", "--cache", "lukewarm"], "argument --cache: invalid choice: 'lukewarm'"),
        (["no_such_command"], "invalid choice: 'no_such_command'"),
        (["candidates", "--bogus"], "candidates: unrecognized arguments: --bogus"),
    ],
)
def test_a_bad_flag_is_one_error_line_naming_the_help(argv: list[str], says: str) -> None:
    shown = subprocess.run(
        [sys.executable, "-m", "bench", *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert shown.returncode == 2 and shown.stdout == ""
    lines = shown.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: python -m bench") and says in lines[0], shown.stderr
    command = "python -m bench" if argv[0] == "no_such_command" else f"python -m bench {argv[0]}"
    assert lines[0].endswith(f"see `{command} --help`")  # the help of the command the flag was given to


def test_an_interrupt_while_a_scratch_database_is_created_leaves_none(instance_pair: InstancePair) -> None:
    """Ctrl-C landing in CREATE DATABASE of a suite's scratch copy: the database is dropped on the way out."""
    from psycopg import sql as psql

    from bench.measure.suites.scratch import SCRATCH_PREFIX, scratch_database

    before = instance_pair.before

    class InterruptedAfterCreate:
        def __init__(self) -> None:
            self.conn = before.connect()

        def __enter__(self) -> InterruptedAfterCreate:
            return self

        def __exit__(self, *exc: object) -> None:
            self.conn.close()

        def execute(self, query: Any, *args: Any) -> Any:
            result = self.conn.execute(query, *args)
            text = query.as_string(self.conn) if isinstance(query, psql.Composable) else str(query)
            if text.startswith("CREATE DATABASE"):
                raise KeyboardInterrupt  # the database exists now, and the interrupt lands
            return result

    connects = iter([InterruptedAfterCreate])
    target = dataclasses.replace(before)
    object.__setattr__(target, "connect", lambda **kw: next(connects, before.connect)())
    with pytest.raises(KeyboardInterrupt), scratch_database(target, "interrupted"):
        pass
    with before.connect() as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [f"{SCRATCH_PREFIX}_interrupted%"])
        assert left.fetchall() == []
