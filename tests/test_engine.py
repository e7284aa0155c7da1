"""The measurement engine without pytest: -k selects the right slots, records stay in memory, the run folder
gets a pytest-benchmark.json pytest-benchmark reads, and --repeat N gives N rounds with restarts between."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import bench.measure.run
from bench.cli import main
from bench.core.cases import load_cases
from bench.core.config import HarnessConfig
from bench.core.errors import HarnessError
from bench.core.results_model import ResultsDocument
from bench.db.instances import InstancePair, restart_between_rounds
from bench.measure.benchmark_json import FILE_NAME, round_stats
from bench.measure.params import slots_for
from bench.measure.run import prepared_run, run_cases
from bench.measure.timing import MeasureSettings

QUICK = MeasureSettings(warmup=1, min_rounds=2, max_rounds=2, budget_s=0.01, statement_timeout_ms=10_000)
SELECT = "session_timeline and (q05 or max) or control and rare"


def expected_ids(select_words: tuple[str, ...]) -> set[str]:
    return {
        f"{c.name}[{label}]"
        for c in load_cases()
        for label, _ in slots_for(c)
        if ("session_timeline" in c.name and label in select_words) or ("control" in c.name and "rare" in label)
    }


def start_times(pair: InstancePair) -> dict[str, Any]:
    times = {}
    for inst in pair:
        with inst.connect() as conn:
            row = conn.execute("SELECT pg_postmaster_start_time()").fetchone()
            assert row is not None
            times[inst.role] = row[0]
    return times


@pytest.fixture(scope="module")
def runs_config(harness_config: HarnessConfig, tmp_path_factory: pytest.TempPathFactory) -> HarnessConfig:
    return dataclasses.replace(harness_config, runs_dir=tmp_path_factory.mktemp("runs"))


def test_records_come_back_in_memory_for_the_selected_slots(
    loaded_pair: InstancePair, runs_config: HarnessConfig
) -> None:
    with prepared_run(runs_config, QUICK, progress=False, pair=loaded_pair) as ctx:
        run_cases(ctx, SELECT)
        timed = {f"{r['case']}[{r['label']}]" for r in ctx.records}
        skipped = {f"{s['case']}[{s['label']}]" for s in ctx.skipped}
        assert timed | skipped == expected_ids(("q05", "max")) and not timed & skipped
        assert timed, "nothing was timed"
        assert all(r["round"] == 0 and len(r["latencies_ms"]["before"]) == 2 for r in ctx.records)
        assert [len(t) for t in ctx.round_times] == [2] * len(ctx.records)
        assert ctx.rounds[0]["slots"] == len(timed | skipped)
    assert not list(runs_config.runs_dir.glob("*/results.json")), "a run without a results document was kept"


@pytest.fixture(scope="module")
def repeated_run(loaded_pair: InstancePair, runs_config: HarnessConfig) -> tuple[dict[str, Any], dict[str, Any]]:
    started = start_times(loaded_pair)
    doc = bench.measure.run.run_benchmark(runs_config, QUICK, select=SELECT, repeat=2, progress=False)
    return doc, started


def test_repeat_tags_every_sample_with_its_round(repeated_run: tuple[dict[str, Any], dict[str, Any]]) -> None:
    doc, _ = repeated_run
    samples = [s for c in doc["cases"] for s in c["samples"]]
    assert {s["round"] for s in samples} == {0, 1}
    by_round = {r: sorted(f"{s['case']}[{s['label']}]" for s in samples if s["round"] == r) for r in (0, 1)}
    assert by_round[0] == by_round[1] and set(by_round[0]) <= expected_ids(("q05", "max"))
    meta = doc["measurement"]
    assert meta["repeat"] == 2 and meta["order_seed"] == QUICK.seed and meta["select"] == SELECT
    assert [r["round"] for r in meta["measurement_rounds"]] == [0, 1]
    assert all(r["wall_s"] > 0 for r in meta["measurement_rounds"])
    assert [r["restarted"] for r in meta["measurement_rounds"]] == [False, True]
    # The typed model keeps the round tag (Sample.other) through a round trip.
    typed = ResultsDocument.from_json(json.loads(json.dumps(doc, default=str)))
    assert {s.other["round"] for c in typed.cases for s in c.samples} == {0, 1}


def test_repeat_restarts_both_servers_between_rounds(
    repeated_run: tuple[dict[str, Any], dict[str, Any]], loaded_pair: InstancePair
) -> None:
    _, started = repeated_run
    now = start_times(loaded_pair)
    assert all(now[role] > started[role] for role in ("before", "after")), (started, now)


def test_pytest_benchmark_reads_the_runs_json(
    repeated_run: tuple[dict[str, Any], dict[str, Any]], runs_config: HarnessConfig
) -> None:
    doc, _ = repeated_run
    path = runs_config.runs_dir / doc["run_id"] / FILE_NAME
    written = json.loads(path.read_text())
    names = {b["name"] for b in written["benchmarks"]}
    samples = [s for c in doc["cases"] for s in c["samples"]]
    assert len(names) == len(samples) == len(written["benchmarks"])
    assert "test_case[session_timeline[q05]-round1]" in names
    for entry in written["benchmarks"]:
        stats = entry["stats"]
        assert stats["rounds"] == 2 and stats["min"] <= stats["median"] <= stats["max"]
        assert entry["extra_info"]["latencies_ms"]["before"]
    # pytest-benchmark's own loader and table: a file it could not load would be warned about and left out.
    shown = subprocess.run(
        [sys.executable, "-c", "from pytest_benchmark.cli import main; main()", "compare", "--columns=min,max",
         str(path)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert "Failed to load" not in shown.stdout + shown.stderr
    assert "session_timeline[q05]-round1" in shown.stdout


def test_a_single_round_keeps_todays_document(loaded_pair: InstancePair, runs_config: HarnessConfig) -> None:
    doc = bench.measure.run.run_benchmark(runs_config, QUICK, select="session_timeline[q50]", progress=False)
    samples = [s for c in doc["cases"] for s in c["samples"]]
    assert [(s["case"], s["label"], s["round"]) for s in samples] == [("session_timeline", "q50", 0)]
    assert doc["measurement"]["repeat"] == 1 and doc["measurement"]["order_seed"] is None
    run_dir = runs_config.runs_dir / doc["run_id"]
    assert (run_dir / "cases" / "session_timeline__q50.json").is_file()  # the compatibility suite reads it
    assert json.loads((run_dir / FILE_NAME).read_text())["benchmarks"][0]["name"] == "test_case[session_timeline[q50]]"


def test_a_selection_matching_nothing_is_a_clear_error(loaded_pair: InstancePair, runs_config: HarnessConfig) -> None:
    with pytest.raises(HarnessError, match=r"no query case matches -k .no_such_case.*session_timeline"):
        bench.measure.run.run_benchmark(runs_config, QUICK, select="no_such_case", progress=False)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-k", "session and (q50"], "expected ')'"),
        (["-k", "session, q50"], "unexpected character ','"),
        (["--repeat", "0"], "--repeat must be a whole number of measurement rounds >= 1 (got 0)"),
        (["--repeat", "-3"], "--repeat must be"),
    ],
)
def test_bad_selection_or_repeat_exits_2_before_any_server_starts(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    for command in ("run", "bench"):
        code = main([command, "--state-dir", str(state), "--runs-dir", str(tmp_path / "runs"), *argv])
        err = capsys.readouterr().err
        assert code == 2, err
        assert message in err, err
    assert not state.exists(), "a server was started for a refused input"


def test_no_restart_between_rounds_under_another_harness_process(
    loaded_pair: InstancePair, harness_config: HarnessConfig
) -> None:
    users = harness_config.state_dir / "users.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, sys; f = open(sys.argv[1]); fcntl.flock(f, fcntl.LOCK_SH); "
         "print('ready', flush=True); sys.stdin.readline()", str(users)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        started = start_times(loaded_pair)
        with contextlib.ExitStack() as locks, pytest.raises(HarnessError, match=f"pid {holder.pid}.*--repeat 1"):
            restart_between_rounds(loaded_pair, locks)
        assert start_times(loaded_pair) == started
    finally:
        holder.communicate("\n", timeout=30)


@pytest.mark.parametrize("n", [1, 2, 5, 7, 8, 30])
def test_round_statistics_are_pytest_benchmarks(n: int) -> None:
    from pytest_benchmark.stats import Stats

    rng = random.Random(n)
    data = [rng.lognormvariate(-6, 0.5) for _ in range(n)] + ([1.0] if n > 5 else [])  # one far outlier
    theirs = Stats()
    for value in data:
        theirs.update(value)
    ours = round_stats(data)
    assert {k: ours[k] for k in Stats.fields} == theirs.as_dict()
    assert ours["data"] == data and ours["iterations"] == 1


def test_a_slot_without_candidate_is_reported_skipped(
    loaded_pair: InstancePair, runs_config: HarnessConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    with prepared_run(runs_config, QUICK, progress=False, pair=loaded_pair) as ctx:
        # As when the data has no value at that selectivity: sample_params left the slot out.
        ctx.samples["session_timeline"] = [s for s in ctx.samples["session_timeline"] if s.label != "q05"]
        run_cases(ctx, "session_timeline[q05] or session_timeline[q50]", verbose=True)
        doc = bench.measure.run.finalize(ctx)
    assert [(r["case"], r["label"]) for r in ctx.records] == [("session_timeline", "q50")]
    assert [(s["case"], s["label"]) for s in doc["measurement"]["skipped_slots"]] == [("session_timeline", "q05")]
    assert "no candidate for parameter slot 'q05'" in doc["measurement"]["skipped_slots"][0]["reason"]
    out = capsys.readouterr().out
    assert "session_timeline[q05] skipped" in out and "session_timeline[q50]: 2 rounds, median before" in out
