"""`python -m bench candidates`: the pure table, Pareto front and recommendation (fast), the refusal of an unknown
candidate before any server starts, and one real run on the session's ci-loaded servers where a candidate with
broken SQL is recorded as failed while the other two are measured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.cli import main
from bench.core.config import HarnessConfig
from bench.db.instances import InstancePair
from bench.judge.candidates_table import (
    build_table,
    candidate_row,
    failed_row,
    pareto_front,
    recommend,
    storage_target,
)
from bench.judge.verdicts import load_targets
from bench.report.candidates_report import format_candidates


def verdict(promise: str, point: float, low: float, high: float, word: str = "ok", kind: str = "control") -> Any:
    return {"promise": promise, "kind": kind, "verdict": word, "point": point, "low": low, "high": high}


def claims(stall_ms: float = 12.0, stall: str = "held", idempotent: str = "held", compatible: str = "held") -> Any:
    """The migration and compatibility suites' sections as a candidate's results document holds them."""
    return {
        "migration": {
            "verdicts": [
                verdict("migration_non_blocking", stall_ms, stall_ms, stall_ms, stall, "claim"),
                verdict("migration_idempotent", 0, 0, 0, idempotent, "claim"),
            ]
        },
        "compatibility": {"verdicts": [verdict("backward_compatible", 1.0, 1.0, 1.0, compatible, "claim")]},
    }


def doc(app: float, storage: float, writes: float = 1.0, timeline: str = "below") -> dict[str, Any]:
    return {
        "run_id": "r",
        "verdicts": [
            verdict("session_timeline", 1.1, 0.9, 1.3, timeline, "speedup_range"),
            verdict("storage_overhead", storage, storage, storage, "met", "max"),
        ],
        "storage": {"storage_overhead_pct": storage},
        "load": {"migrate_s": 1.5},
        "suites": {
            "app": {"verdicts": [verdict("page_views@auto", app, app * 0.9, app * 1.1)]},
            "app_writes": {"verdicts": [verdict("ingested_events", writes, writes * 0.95, writes * 0.99)]},
        },
    }


class TestTable:
    def test_a_row_carries_every_column(self) -> None:
        row = candidate_row("phase2", doc(1.4, 15.0, 0.9))
        assert row["app_ratio"]["point"] == 1.4 and row["app_ratio"]["low"] == pytest.approx(1.26)
        assert row["promises"]["session_timeline"]["verdict"] == "below"
        assert "storage_overhead" not in row["promises"]  # a max promise is its own column
        assert row["storage_overhead_pct"] == 15.0 and row["migrate_s"] == 1.5
        side_by_side = {**doc(1.0, 0.0), "load": {"migrate_s": None, "migration": [{"seconds": 0.5}, {"seconds": 1}]}}
        assert candidate_row("y", side_by_side)["migrate_s"] == 1.5
        assert candidate_row("z", {**doc(1.0, 0.0), "load": None})["migrate_s"] is None
        assert row["write_ratio"]["point"] == 0.9 and row["measured"] and row["applied"]

    def test_a_suite_that_did_not_run_leaves_its_columns_empty(self) -> None:
        bare = doc(1.0, 0.0)
        bare["suites"] = {"app": {"failed": "the app suite failed: boom", "verdicts": []}}
        row = candidate_row("x", bare)
        assert row["app_ratio"] is None and row["write_ratio"] is None
        assert row["notes"] == ["app: the app suite failed: boom"]

    def test_claim_columns_come_from_the_migration_and_compatibility_suites(self) -> None:
        measured = doc(1.2, 10.0)
        measured["suites"].update(claims(stall_ms=2_345.0, stall="not held", idempotent="not held"))
        row = candidate_row("blocking", measured)
        assert row["write_stall"]["value"] == 2_345.0 and row["write_stall"]["verdict"] == "not held"
        assert row["idempotent"]["verdict"] == "not held" and row["backward_compatible"]["verdict"] == "held"
        pick = recommend([row], 25.0)
        assert "blocks writes (2,345 ms stall)" in pick["text"] and "not idempotent (not held)" in pick["text"]
        measured["suites"].update(claims(stall="inconclusive", idempotent="failed"))
        lost = recommend([candidate_row("busy", measured)], 25.0)["gives_up"]
        assert "non-blocking unproven (12 ms stall with no lock wait seen: a busy machine?)" in lost
        assert "the migration failed on the scratch copy" in lost
        text = format_candidates(build_table([row], 25.0))
        assert "| 1.5 | 2,345 (not held) | not held | held |" in text
        skipped = doc(1.0, 0.0)
        skipped["suites"]["migration"] = {"skipped": "no scratch database", "verdicts": []}
        row = candidate_row("unmeasured", skipped)
        assert row["write_stall"] is None and row["idempotent"] is None and row["backward_compatible"] is None
        assert row["notes"] == ["migration: no scratch database"]
        assert "| n/a | n/a | n/a |" in format_candidates(build_table([row], 25.0))
        assert failed_row("f", "e")["idempotent"] is None

    def test_the_write_budget_excludes_a_candidate_whose_ingest_is_surely_slower(self) -> None:
        slow, fine = doc(2.0, 10.0, writes=0.7), doc(1.3, 10.0, writes=0.9)
        rows = [candidate_row("slow_ingest", slow), candidate_row("fine", fine)]
        # slow_ingest's whole interval [0.665, 0.693] lies below 1/1.25 = 0.8: over a 25% budget
        assert recommend(rows, 25.0, 25.0)["name"] == "fine"
        assert "of slow_ingest (2.00x, over the write budget)" in recommend(rows, 25.0, 25.0)["text"]
        assert "no budget (bench/targets.toml sets neither" in recommend(rows, None)["text"]
        assert recommend(rows, 25.0, 50.0)["name"] == "slow_ingest"  # 1/1.5 = 0.667 is inside its interval
        assert recommend(rows, 25.0)["name"] == "slow_ingest"  # no budget
        assert recommend(rows[:1], 25.0, 25.0)["name"] is None
        assert build_table(rows, 25.0, 25.0)["write_budget_pct"] == 25.0

    def test_the_write_budget_comes_from_targets_toml(self, tmp_path: Path) -> None:
        assert load_targets().write_slowdown_max_pct == 25.0
        text = load_targets().path.read_text()
        negative = tmp_path / "t.toml"
        negative.write_text(text.replace("write_slowdown_max_pct = 25.0", "write_slowdown_max_pct = -1"))
        with pytest.raises(ValueError, match=r"candidates\.write_slowdown_max_pct"):
            load_targets(negative)
        unknown = tmp_path / "u.toml"
        unknown.write_text(text.replace("write_slowdown_max_pct = 25.0", "write_budget = 1"))
        with pytest.raises(ValueError, match="write_budget"):
            load_targets(unknown)
        absent = tmp_path / "a.toml"
        absent.write_text(text.replace("[candidates]\nwrite_slowdown_max_pct = 25.0\n", ""))
        assert load_targets(absent).write_slowdown_max_pct is None

    def test_pareto_front_keeps_the_undominated(self) -> None:
        rows = [
            candidate_row("cheap", doc(1.1, 2.0)),
            candidate_row("fast", doc(2.0, 30.0)),
            candidate_row("dominated", doc(1.05, 20.0)),
            failed_row("broken", "statement 1 failed"),
        ]
        assert pareto_front(rows) == ["cheap", "fast"]

    def test_write_cost_is_the_fronts_third_objective(self) -> None:
        rows = [
            candidate_row("fast_reads", doc(1.5, 10.0, writes=0.8)),
            candidate_row("cheap_writes", doc(1.4, 12.0, writes=1.0)),  # worse on two, better on writes
            candidate_row("worse", doc(1.3, 12.0, writes=0.9)),  # beaten on all three by cheap_writes
        ]
        assert pareto_front(rows) == ["fast_reads", "cheap_writes"]
        unmeasured_writes = {**doc(1.6, 20.0), "suites": {"app": doc(1.6, 20.0)["suites"]["app"]}}
        rows.append(candidate_row("no_write_figure", unmeasured_writes))  # compared on reads and storage only
        assert pareto_front(rows) == ["fast_reads", "cheap_writes", "no_write_figure"]

    def test_a_row_without_a_write_figure_cannot_push_a_better_writer_off_the_front(self) -> None:
        def reads_only(app: float) -> dict[str, Any]:
            return {**doc(app, 10.0), "suites": {"app": doc(app, 10.0)["suites"]["app"]}}

        rows = [
            candidate_row("bad_writes", doc(2.1, 10.0, writes=0.5)),
            candidate_row("unknown_writes", reads_only(2.0)),
            candidate_row("good_writes", doc(1.95, 10.0, writes=1.3)),
        ]
        assert pareto_front(rows) == ["bad_writes", "good_writes"]
        pick = recommend(rows[1:2], 25.0, 25.0)
        assert "write cost not measured" in pick["text"]

    def test_recommendation_respects_the_storage_target_and_says_what_it_gives_up(self) -> None:
        rows = [candidate_row("cheap", doc(1.3, 10.0, 0.9)), candidate_row("fast", doc(2.0, 30.0))]
        pick = recommend(rows, 25.0)
        assert pick["name"] == "cheap"
        assert "session_timeline (1.10x, below)" in pick["text"]
        assert (
            "writes 0.90x" in pick["text"]
            and "higher read gain of fast (2.00x, over the storage target)" in pick["text"]
        )
        assert recommend(rows, 40.0)["name"] == "fast"
        assert recommend(rows, 5.0)["name"] is None
        assert recommend([failed_row("b", "e")], 25.0)["name"] is None

    def test_among_candidates_tied_on_reads_a_safe_small_one_wins(self) -> None:
        def measured(app: float, storage: float, safe: bool, compatible: str = "held") -> dict[str, Any]:
            document = doc(app, storage)
            stall = "held" if safe else "not held"
            document["suites"].update(claims(stall=stall, idempotent="held", compatible=compatible))
            return document

        rows = [
            candidate_row("blocking_fast", measured(1.74, 14.9, safe=False)),  # [1.57, 1.91]
            candidate_row("safe_big", measured(1.65, 14.9, safe=True)),  # [1.49, 1.82]: reaches 1.57
            candidate_row("safe_small", measured(1.60, 1.3, safe=True)),  # [1.44, 1.76]: reaches 1.57
            candidate_row("slow", measured(1.2, 0.5, safe=True)),  # [1.08, 1.32]: clearly slower
        ]
        pick = recommend(rows, 25.0, 25.0)
        assert pick["name"] == "safe_small" and pick["tied"] == ["blocking_fast", "safe_big"]
        assert "chosen for a non-blocking, idempotent migration, then the lower storage overhead" in pick["text"]
        assert recommend(rows[:2], 25.0)["name"] == "safe_big"  # safe before a higher point estimate
        rows[2] = candidate_row("changes_results", measured(1.60, 1.3, safe=True, compatible="not held"))
        assert recommend(rows, 25.0)["name"] == "safe_big"  # a candidate that changes query results is never picked

    def test_the_storage_target_comes_from_targets_toml(self) -> None:
        assert storage_target(load_targets().promises) == 25.0

    def test_markdown_lists_failed_and_measured_rows(self) -> None:
        rows = [
            candidate_row("noop", doc(1.0, 0.0), {"makes_promises": False}),
            candidate_row("phase2", doc(1.2, 10.0), {"makes_promises": True}),
            failed_row("broken", "statement 1 failed: | oops"),
        ]
        text = format_candidates(build_table(rows, 25.0), "header line")
        assert "| noop | yes | 1.00x [0.90, 1.10] | 1.10x [0.90, 1.30] below (not claimed) | 0.0% |" in text
        assert "| phase2 | yes | 1.20x [1.08, 1.32] | 1.10x [0.90, 1.30] below | 10.0% |" in text
        assert "| broken | no | failed: statement 1 failed: \\| oops |" in text
        # noop's interval [0.90, 1.10] reaches phase2's low 1.08: tied on reads, noop's 0% storage decides
        assert "recommended: noop" in text and "tied with phase2" in text
        assert "the higher point estimate of phase2's read gain (1.20x; the intervals overlap)" in text
        assert "session_timeline (1.10x, below, not claimed)" in text  # noop's file says `-- promises: none`

    def test_the_figure_draws_with_its_front(self, tmp_path: Path) -> None:
        pytest.importorskip("matplotlib")
        from bench.report.candidates_report import write_candidates_figure

        table = build_table([candidate_row("a", doc(1.1, 2.0)), candidate_row("b", doc(2.0, 30.0))], 25.0)
        path = write_candidates_figure(table, tmp_path, "subtitle")
        assert path is not None and path.stat().st_size > 0
        assert write_candidates_figure(build_table([failed_row("c", "e")], 25.0), tmp_path) is None


def test_from_draws_a_finished_run_again_with_todays_budgets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "candidates-20261202T000000Z"
    folder.mkdir()
    rows = [candidate_row("cheap", doc(1.3, 10.0)), candidate_row("fast", doc(2.0, 30.0))]
    (folder / "candidates.json").write_text(json.dumps({"header": "h", **build_table(rows, 25.0)}))
    targets = load_targets().path.read_text()
    roomy = tmp_path / "roomy.toml"
    roomy.write_text(targets.replace("max = 25.0", "max = 40.0"))
    original = (folder / "candidates.json").read_text()
    assert main(["candidates", "--from", str(folder), "--targets", str(roomy)]) == 0
    assert "recommended: fast" in capsys.readouterr().out
    (redrawn,) = folder.glob("candidates-redrawn-*.json")
    assert json.loads(redrawn.read_text())["recommendation"]["name"] == "fast"
    assert "Storage target: 40%" in redrawn.with_suffix(".md").read_text()
    assert f"({roomy})" in redrawn.with_suffix(".md").read_text()  # the budgets name the targets file used
    assert f"redrawn {redrawn.stem.removeprefix('candidates-redrawn-')} with {roomy}" in redrawn.read_text()
    assert (folder / "candidates.json").read_text() == original  # the run's own files stay as they were
    for path in folder.glob("candidates-redrawn-*"):
        path.unlink()
    old_run = json.loads(original)  # written before the claim columns and the write budget existed
    for row in old_run["rows"]:
        for key in ("write_stall", "idempotent", "backward_compatible"):
            del row[key]
    del old_run["write_budget_pct"]
    (folder / "candidates.json").write_text(json.dumps(old_run))
    assert main(["candidates", "--from", str(folder)]) == 0
    assert "| n/a | n/a | n/a |" in capsys.readouterr().out
    (redrawn,) = folder.glob("candidates-redrawn-*.json")
    assert json.loads(redrawn.read_text())["recommendation"]["name"] == "cheap"

    assert main(["candidates", "--from", str(tmp_path / "nowhere")]) == 2
    assert "no candidates.json there" in capsys.readouterr().err
    (folder / "candidates.json").write_text(json.dumps({"rows": [{"name": "x"}]}))
    assert main(["candidates", "--from", str(folder)]) == 2
    assert "rows lack app_ratio, applied" in capsys.readouterr().err


def test_the_progress_line_says_how_long_the_rest_will_take(monkeypatch: pytest.MonkeyPatch) -> None:
    from bench.cli import candidates

    monkeypatch.setattr(candidates.time, "monotonic", lambda: 1_200.0)
    assert candidates._eta(0.0, 0, 5) == ""
    assert candidates._eta(0.0, 2, 5) == " (20.0 min so far, about 30 min left)"
    assert candidates._eta(1_170.0, 2, 3) == " (0.5 min so far, under a minute left)"


def test_from_twice_puts_two_runs_on_the_same_data_in_one_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, rows, header in (
        (first, [candidate_row("phase2", doc(1.3, 14.9))], "2,000,000 rows, seed 42, engine E; suites: x"),
        (second, [candidate_row("phase2", doc(1.4, 1.3))], "2,000,000 rows, seed 42, engine E; suites: y"),
        (other, [candidate_row("t", doc(1.4, 1.3))], "50,000 rows, seed 42, engine E; suites: y"),
    ):
        folder.mkdir()
        (folder / "candidates.json").write_text(json.dumps({"header": header, **build_table(rows, 25.0)}))
    assert main(["candidates", "--from", str(first), "--from", str(second)]) == 0
    (redrawn,) = first.glob("candidates-redrawn-*.json")
    table = json.loads(redrawn.read_text())
    assert [r["name"] for r in table["rows"]] == ["phase2", "phase2 (b)"] and f"rows from {second}" in table["header"]
    capsys.readouterr()
    assert main(["candidates", "--from", str(first), "--from", str(other)]) == 2
    assert "measured on other data (50,000 rows" in capsys.readouterr().err
    assert main(["candidates", "--from", str(first), "--from", f"{first}/"]) == 2
    assert "is given twice" in capsys.readouterr().err
    assert main(["candidates", "--from", str(first), "--migration", "noop"]) == 2
    assert "measures nothing: leave out --migration" in capsys.readouterr().err
    assert main(["candidates", "--from", str(first), "--from", str(second)]) == 0  # the same second: kept apart
    assert len(list(first.glob("candidates-redrawn-*.json"))) == 2
    assert "(bench/targets.toml)" in redrawn.with_suffix(".md").read_text()


def test_an_interrupted_run_keeps_the_table_of_what_finished(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench.cli.candidates import _keep_what_finished

    folder = tmp_path / "candidates-x"
    (folder / "phase2").mkdir(parents=True)
    _keep_what_finished([candidate_row("phase2", doc(1.3, 10.0))], [], "h", load_targets(), folder, total=5)
    table = json.loads((folder / "candidates.json").read_text())
    assert table["header"] == "h; INTERRUPTED after 1 of 5 candidates" and table["rows"][0]["name"] == "phase2"
    assert table["interrupted"] is True
    from bench.cli.interrupts import after_interrupt, forget_kept

    said = after_interrupt(None, set())  # the interrupt's last line names what was kept, not "nothing"
    assert f"kept: the table of the 1 of 5 candidates finished, marked INTERRUPTED, in {folder}" in said
    assert "nothing half-done" not in said
    forget_kept()
    assert "nothing half-done is kept" in after_interrupt(None, set())
    assert main(["candidates", "--from", str(folder)]) == 0  # redrawn, with a note that the run was cut short
    assert "is the table of an interrupted run: h; INTERRUPTED after 1 of 5" in capsys.readouterr().err
    empty = tmp_path / "candidates-y"
    (empty / ".runs-phase2").mkdir(parents=True)
    _keep_what_finished([], [], "h", load_targets(), empty, total=5)
    assert not empty.exists()  # nothing finished: the folder this command created goes
    _keep_what_finished([], [], "h", load_targets(), tmp_path / "never-created", total=5)  # interrupted before mkdir


def test_a_candidate_published_just_before_the_interrupt_is_in_the_kept_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The interrupt lands after a candidate's results document was published but before its row was taken: it
    counts as finished. A table that cannot be written is said in the interrupt's line, not claimed."""
    from bench.cli import candidates
    from bench.cli.interrupts import after_interrupt, forget_kept
    from bench.core.migration import read_migration

    folder = tmp_path / "candidates-z"
    (folder / "targeted").mkdir(parents=True)
    (folder / "targeted" / "results.json").write_text(json.dumps(doc(1.5, 1.3)))
    planned = [("phase2", read_migration("phase2")), ("targeted", read_migration("targeted"))]
    forget_kept()
    candidates._keep_what_finished([candidate_row("phase2", doc(1.3, 10.0))], planned, "h", load_targets(), folder, 3)
    table = json.loads((folder / "candidates.json").read_text())
    assert [r["name"] for r in table["rows"]] == ["phase2", "targeted"] and "2 of 3" in table["header"]

    def broken(*args: Any, **kwargs: Any) -> None:
        raise OSError("No space left on device")

    monkeypatch.setattr(candidates, "_publish", broken)
    forget_kept()
    candidates._keep_what_finished([], planned, "h", load_targets(), folder, 3)
    said = after_interrupt(None, set())
    assert "their table could not be written (OSError: No space left on device)" in said
    assert "nothing half-done" not in said
    forget_kept()


def test_an_unknown_candidate_is_refused_before_any_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "state"
    argv = ["candidates", "--state-dir", str(state), "--runs-dir", str(tmp_path / "runs"), "--migration", "noop"]
    assert main([*argv, "--migration", "no_such_candidate"]) == 2
    assert "'no_such_candidate': no such file, and no shipped migration" in capsys.readouterr().err
    assert not state.exists() and not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_candidates_on_real_servers(
    harness_config: HarnessConfig,
    loaded_pair: InstancePair,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """noop and phase2 measured, a candidate with broken SQL recorded as failed between them; `latest` untouched.
    Phase 2 last, so the session's after instance ends as the other tests expect it."""
    for variable in ("PHASE2_BEFORE_DSN", "PHASE2_AFTER_DSN", "PHASE2_BENCH_MIGRATION"):
        monkeypatch.delenv(variable, raising=False)
    broken = tmp_path / "broken.sql"
    broken.write_text("CREATE INDEX candidate_broken_idx ON agent_events (no_such_column);\n")
    runs = tmp_path / "runs"
    argv = [
        "candidates",
        "--engine",
        "postgres",
        "--state-dir",
        str(harness_config.state_dir),
        "--pg-bin",
        str(harness_config.pg_bin),
        "--runs-dir",
        str(runs),
        "--preset",
        "ci",
        "--no-progress",
        "--warmup",
        "1",
        "--min-rounds",
        "2",
        "--max-rounds",
        "3",
        "--budget",
        "0.1",
        "--suites",
        "app,migration",  # app_writes doubles the time; its column is covered by the table's unit tests
        "--migration",
        "noop",
        "--migration",
        str(broken),
        "--migration",
        "phase2",
    ]
    assert main(argv) == 0
    (folder,) = runs.glob("candidates-*")
    assert not (runs / "latest").exists()
    table = json.loads((folder / "candidates.json").read_text())
    by_name = {row["name"]: row for row in table["rows"]}
    assert list(by_name) == ["noop", "broken", "phase2"]
    assert not by_name["broken"]["applied"] and "no_such_column" in by_name["broken"]["error"]
    for name in ("noop", "phase2"):
        row = by_name[name]
        assert row["measured"] and row["app_ratio"] is not None, row
        assert json.loads((folder / name / "results.json").read_text())["dataset"]["migration"]["label"] == name
    assert by_name["noop"]["storage_overhead_pct"] == pytest.approx(0.0, abs=1.0)
    assert by_name["phase2"]["storage_overhead_pct"] > 1.0  # the GIN and composite indexes take room
    assert by_name["phase2"]["write_ratio"] is None and by_name["phase2"]["migrate_s"] > 0
    # the migration suite's claims, per candidate: Phase 2 as written fails its second application
    assert by_name["phase2"]["idempotent"]["verdict"] == "not held"
    assert by_name["noop"]["idempotent"]["verdict"] == "held"
    assert all(by_name[n]["write_stall"]["value"] is not None for n in ("noop", "phase2"))
    assert by_name["phase2"]["backward_compatible"] is None  # the compatibility suite was not asked for
    text = (folder / "candidates.md").read_text()
    assert "| broken | no | failed:" in text and text in capsys.readouterr().out
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == []
