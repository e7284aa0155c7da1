"""Figures, report.md, report.html and run comparison, from a stored results document (no database)."""

from __future__ import annotations

import base64
import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from bench.cli import EXIT_HARNESS_FAILED, main
from bench.core.errors import HarnessError
from bench.report import document, figures, plots
from bench.report.compare import compare_runs, environment_differences
from bench.report.document import html_report, markdown_report, notes, write_report

STORED = Path(__file__).parent / "data" / "results_ci_partitions.json"
FIGURE_FILES = ("speedups.png", "latency.png", "speedup_vs_rows.png", "storage.png")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def stored_doc() -> dict[str, Any]:
    return json.loads(STORED.read_text())


def make_run(base: Path, doc: dict[str, Any], name: str = "run") -> Path:
    run = base / name
    (run / "plans").mkdir(parents=True)
    (run / "results.json").write_text(json.dumps(doc))
    return run


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(STORED, run / "results.json")
    return run


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, list[Path]]:
    """One report of the stored run, with one raw plan beside it, shared by the read-only tests below."""
    run = tmp_path_factory.mktemp("report") / "run"
    doc = stored_doc()
    make_run(run.parent, doc)
    case = doc["cases"][0]
    plan = [{"Plan": {"Node Type": "Bitmap Heap Scan", "Relation Name": "agent_events_p1<&>"}}]
    (run / "plans" / f"{case['name']}__{case['samples'][0]['label']}__after.json").write_text(json.dumps(plan))
    return doc, run, write_report(doc, run)


def assert_png(path: Path) -> None:
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path.name} is not a PNG"
    height, width = imread(path).shape[:2]
    assert width >= 600 and height >= 300, f"{path.name} is {width}x{height}: too small to read"


class TestFigures:
    def test_every_figure_file_is_written_as_a_readable_png(self, written: Any) -> None:
        _, run, paths = written
        assert [p.name for p in paths] == [*FIGURE_FILES, "report.md", "report.html"]
        for name in FIGURE_FILES:
            assert_png(run / name)

    @pytest.mark.parametrize("name", ["speedups", "latency", "speedup_vs_rows", "storage"])
    def test_figures_carry_a_caption_with_engine_and_dataset_size(self, name: str) -> None:
        doc = stored_doc()
        fig = figures.FIGURES[name].draw(doc)
        assert isinstance(fig, Figure)
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]  # type: ignore[attr-defined]
        assert any("PostgreSQL partitions" in t and "50,000 rows" in t and "warm cache" in t for t in texts)

    def test_figure_functions_draw_on_a_given_axes(self) -> None:
        doc = stored_doc()
        fig = Figure()
        ax = fig.add_subplot()
        assert plots.speedups(doc, ax) is fig
        assert "Speedup" in ax.get_title()

    def test_case_rows_are_judged_against_their_promise_range(self) -> None:
        groups = {g.name: g for g in plots.speedup_groups(stored_doc())}
        assert list(groups) == ["session_timeline", "project_timeline", "jsonb_containment", "controls"]
        jsonb = {r.label: r for r in groups["jsonb_containment"].rows}
        # 6.01x [3.52, 8.24] lies wholly under 10-100x: below, although it is the fastest case of the run.
        assert jsonb["jsonb_containment"].verdict == "below"
        assert jsonb["jsonb_containment (all cases)"].pooled
        assert groups["controls"].band == pytest.approx((1 / 1.1, 1.1))

    def test_server_speedup_is_the_geometric_mean_of_explain_ratios(self) -> None:
        case = {
            "samples": [
                {"plans": {"before": {"execution_ms": 10.0}, "after": {"execution_ms": 2.0}}},
                {"plans": {"before": {"execution_ms": 8.0}, "after": {"execution_ms": 2.0}}},
                {"plans": {"before": None, "after": {"execution_ms": 1.0}}},  # a failed plan is left out
            ]
        }
        assert plots.server_speedup(case) == pytest.approx((5.0 * 4.0) ** 0.5)

    def test_a_figure_added_to_the_registry_is_drawn_without_editing_the_report(
        self, run_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        def extra(doc: dict[str, Any]) -> Figure | None:
            if "extra" not in doc.get("suites", {}):
                return None
            fig = Figure()
            fig.add_subplot().plot([1, 2], [doc["suites"]["extra"]["value"]] * 2)
            return fig

        registry = dict(figures.FIGURES)
        registry["suite_extra"] = figures.FigureSpec("suite_extra", "Extra suite figure", extra)
        registry["suite_absent"] = figures.FigureSpec("suite_absent", "Nothing to show", lambda doc: None)
        monkeypatch.setattr(document, "FIGURES", registry)

        doc = stored_doc()
        doc["suites"] = {"extra": {"name": "extra", "title": "an extra suite", "skipped": None, "value": 3}}
        paths = write_report(doc, run_dir)
        assert run_dir / "suite_extra.png" in paths
        assert_png(run_dir / "suite_extra.png")
        assert not (run_dir / "suite_absent.png").exists()
        assert "![Extra suite figure](suite_extra.png)" in (run_dir / "report.md").read_text()

    def test_suite_sections_are_reported_with_their_verdicts_and_notes(self) -> None:
        doc = stored_doc()
        verdict = {**doc["verdicts"][3], "promise": "compressed_overhead", "point": 31.0, "low": 31.0, "high": 31.0}
        doc["suites"] = {
            "compression": {
                "name": "compression",
                "title": "compression after 7 days",
                "skipped": None,
                "verdicts": [{**verdict, "verdict": "not met"}],
                "notes": ["chunks older than 7 days compressed"],
                "duration_s": 12.0,
            },
            "scaling": {"name": "scaling", "title": "scaling", "skipped": "needs --rows above 1M", "verdicts": []},
        }
        text = markdown_report(doc, [])
        row = markdown_rows(text)["compressed_overhead"]
        assert "<= 25" in row and "31" in row and "NOT MET" in row
        assert "- chunks older than 7 days compressed" in text
        assert "_skipped: needs --rows above 1M_" in text
        assert "compressed_overhead" in html_report(doc, [], Path("/nonexistent"))

    def test_every_figure_name_is_registered_once(self) -> None:
        names = [spec.name for spec in figures._RUN_FIGURES] + [
            spec.name for specs in figures.SUITE_FIGURES_BY_SUITE.values() for spec in specs
        ]
        assert len(names) == len(set(names)) == len(figures.FIGURES)
        assert all(figures.FIGURES[name].name == name for name in names)


def markdown_rows(text: str) -> dict[str, str]:
    """First cell (without bold or arrow) -> the whole table row."""
    rows = {}
    for line in text.splitlines():
        if line.startswith("| "):
            first = line.split("|")[1].strip().strip("*").removeprefix("↳ ")
            rows.setdefault(first, line)
    return rows


class TestMarkdown:
    def test_verdict_table_matches_the_documents_verdicts(self, written: Any) -> None:
        doc, run, _ = written
        rows = markdown_rows((run / "report.md").read_text())
        for v in doc["verdicts"]:
            assert v["promise"] in rows, f"no row for {v['promise']}"
            assert f"**{v['verdict'].upper()}**" in rows[v["promise"]]
        for case in doc["cases"]:
            assert case["name"] in rows

    def test_verdict_table_follows_the_verdicts_not_a_fixed_text(self) -> None:
        doc = stored_doc()
        doc["verdicts"][0]["verdict"] = "within"
        row = markdown_rows(markdown_report(doc, []))[doc["verdicts"][0]["promise"]]
        assert "**WITHIN**" in row and "BELOW" not in row

    def test_figures_are_referenced_by_relative_path(self, written: Any) -> None:
        _, run, _ = written
        text = (run / "report.md").read_text()
        linked = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
        assert sorted(linked) == sorted(FIGURE_FILES)
        assert all((run / link).is_file() for link in linked)

    def test_key_figures_deviations_and_environment_are_stated(self, written: Any) -> None:
        doc, run, _ = written
        text = (run / "report.md").read_text()
        assert "50,000 rows" in text
        assert "38.0 MiB → 45.1 MiB (+18.7%)" in text
        assert doc["deviations"][0] in text
        assert "15.18 (Debian 15.18-0+deb12u1)" in text
        assert "a17a630ed167 (dirty" in text
        assert len(text.splitlines()) < 120, "report.md should stay short enough for a PR comment"

    def test_notes_flag_what_the_table_cannot_show(self) -> None:
        found = "\n".join(notes(stored_doc()))
        assert "jsonb_containment: server execution alone is 30.3x faster" in found
        assert "jsonb_containment_recent: 6 parameter samples but only 2 distinct values" in found
        assert "uncommitted changes" in found

    def test_a_failed_case_is_reported_as_failed(self, run_dir: Path) -> None:
        doc = stored_doc()
        case = next(c for c in doc["cases"] if c["name"] == "session_timeline")
        case["speedup"] = None
        case["failures"] = "q05/after: statement timeout"
        case["samples"][1]["latencies_ms"]["after"][0] = None
        write_report(doc, run_dir)
        text = (run_dir / "report.md").read_text()
        assert re.search(r"\| ↳ session_timeline \| +\| - \| failed \|", text)
        assert "session_timeline: FAILED executions (q05/after: statement timeout)" in text


class TestHtml:
    def test_is_self_contained(self, written: Any) -> None:
        _, run, _ = written
        page = (run / "report.html").read_text()
        references = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]+)""", page, flags=re.IGNORECASE)
        assert references, "expected the figures as embedded images"
        assert all(ref.startswith("data:image/png;base64,") for ref in references), references
        assert "http://" not in page and "https://" not in page

    def test_embeds_the_same_figures_that_were_written(self, written: Any) -> None:
        _, run, _ = written
        page = (run / "report.html").read_text()
        embedded = [base64.b64decode(d) for d in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)]
        assert embedded == [(run / name).read_bytes() for name in FIGURE_FILES]

    def test_has_plan_summaries_per_case_and_the_raw_plans(self, written: Any) -> None:
        doc, run, _ = written
        page = (run / "report.html").read_text()
        for case in doc["cases"]:
            assert f"id='case-{case['name']}'" in page
        assert "Bitmap Heap Scan, Bitmap Index Scan" in page  # after plan of jsonb_containment
        assert "agent_events_p1&lt;&amp;&gt;" in page  # the raw plan written beside the run, escaped
        assert "(no raw plan:" in page  # the others are missing, and said to be

    def test_escapes_every_text(self, tmp_path: Path) -> None:
        doc = stored_doc()
        doc["deviations"] = ["<script>alert('x')</script> & more"]
        doc["engine"]["label"] = "Engine <b>bold</b>"
        page = html_report(doc, [], tmp_path / "plans")
        assert "<script>" not in page and "<b>bold</b>" not in page
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; more" in page


class TestReportDefaults:
    def test_without_a_folder_the_report_goes_into_the_runs_folder(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("PHASE2_BENCH_RUNS_DIR", str(tmp_path))
        doc = stored_doc()
        paths = write_report(doc)
        assert {p.parent for p in paths} == {tmp_path / doc["run_id"]}

    def test_cli_report_writes_and_prints_the_paths(self, run_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["report", str(run_dir)]) == 0
        printed = capsys.readouterr().out.split()
        assert printed == [str(run_dir / n) for n in (*FIGURE_FILES, "report.md", "report.html")]


def other_size(doc: dict[str, Any], rows: int = 2_000_000) -> dict[str, Any]:
    other = copy.deepcopy(doc)
    other["run_id"] = "20261127T000000Z"
    other["dataset"]["rows"] = rows
    other["dataset"]["fingerprint"] = "f" * 64
    return other


class TestCompare:
    def test_two_dataset_sizes_compare_and_the_size_is_stated(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        doc_a = stored_doc()
        doc_b = other_size(doc_a)
        paths = compare_runs(doc_a, doc_b, tmp_path / "cmp")
        assert [p.name for p in paths] == ["compare_speedups.png", "compare_storage.png", "compare.md"]
        for p in paths[:2]:
            assert_png(p)
        text = (tmp_path / "cmp" / "compare.md").read_text()
        assert doc_a["run_id"] in text and doc_b["run_id"] in text
        assert "dataset size differs: 50,000 rows (A) vs 2,000,000 rows (B)" in text
        assert "note: dataset size differs" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("key", "value"),
        [("engine", "timescaledb"), ("postgres_version", "16.4"), ("cpu_model", "Intel Xeon")],
    )
    def test_refuses_runs_from_different_environments(self, tmp_path: Path, key: str, value: str) -> None:
        doc_a = stored_doc()
        doc_b = other_size(doc_a)
        doc_b["environment"][key] = value
        with pytest.raises(HarnessError, match=rf"(?s){key} differs: .* \(A\) vs '{value}' \(B\).*--force") as err:
            compare_runs(doc_a, doc_b, tmp_path / "cmp")
        assert "not comparable" in str(err.value)
        assert not (tmp_path / "cmp").exists(), "nothing is written for a refused comparison"

    def test_names_the_server_settings_that_differ(self) -> None:
        doc_a = stored_doc()
        doc_b = other_size(doc_a)
        doc_b["environment"]["settings"]["work_mem"] = "4MB"
        blocking, _, _ = environment_differences(doc_a, doc_b)
        assert blocking == ["settings differ: work_mem '64MB' vs '4MB'"]

    def test_force_compares_anyway_and_says_so(self, tmp_path: Path) -> None:
        doc_a = stored_doc()
        doc_b = other_size(doc_a)
        doc_b["environment"]["postgres_version"] = "16.4"
        paths = compare_runs(doc_a, doc_b, tmp_path / "cmp", force=True)
        assert all(p.is_file() for p in paths)
        assert "compared with --force although postgres_version differs" in paths[-1].read_text()

    def test_other_differences_are_warned_about(self) -> None:
        doc_a = stored_doc()
        doc_b = other_size(doc_a, rows=50_000)
        doc_b["environment"]["hostname"] = "ci-runner"
        blocking, warned, stated = environment_differences(doc_a, doc_b)
        assert blocking == [] and stated == []
        assert "hostname differs: 'vm' (A) vs 'ci-runner' (B)" in warned
        assert any("different dataset" in w for w in warned)

    def test_cli_exits_2_on_mismatch_and_0_with_force(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        doc_a = stored_doc()
        doc_b = other_size(doc_a)
        doc_b["environment"]["engine"] = "timescaledb"
        run_a, run_b = make_run(tmp_path, doc_a, "a"), make_run(tmp_path, doc_b, "b")
        out = tmp_path / "cmp"
        assert main(["compare", str(run_a), str(run_b), "--out", str(out)]) == EXIT_HARNESS_FAILED
        assert "error: runs" in capsys.readouterr().err
        assert main(["compare", str(run_a), str(run_b), "--out", str(out), "--force"]) == 0
        assert capsys.readouterr().out.split() == [
            str(out / n) for n in ("compare_speedups.png", "compare_storage.png", "compare.md")
        ]
