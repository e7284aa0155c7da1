"""Suite figures, the suite sections of report.md and report.html, and the terminal suite table, from a stored
results document with every suite section (no database).

tests/data/results_ci_suites.json is a ci-preset run on the TimescaleDB engine with all six suites, stripped of
what no report reads (see its extra.fixture).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from bench.core.results import validate
from bench.measure.suites import skipped
from bench.report.document import html_report, markdown_report, write_report
from bench.report.figures import FIGURES, SUITE_FIGURES
from bench.report.summary import format_suite_table, suite_verdict_row

STORED = Path(__file__).parent / "data" / "results_ci_suites.json"
# The app_writes suite came later: its section of a real ci-preset run, added to the stored document.
STORED_APP_WRITES = Path(__file__).parent / "data" / "results_app_writes_section.json"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SUITE_FIGURE_NAMES = [name for names in SUITE_FIGURES.values() for name in names]
FAILURE = "HarnessError: the sweep suite failed: server closed the connection unexpectedly"


def stored_doc() -> dict[str, Any]:
    doc = json.loads(STORED.read_text())
    doc["suites"]["app_writes"] = json.loads(STORED_APP_WRITES.read_text())
    return validate(doc, str(STORED))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path, list[Path]]:
    run = tmp_path_factory.mktemp("suites") / "run"
    (run / "plans").mkdir(parents=True)
    doc = stored_doc()
    return doc, run, write_report(doc, run)


def section_of(markdown: str, suite: str) -> str:
    """The text of one suite's section in report.md, up to the next heading of the same or a higher level."""
    match = re.search(rf"^### {re.escape(suite)}: .*?(?=^### |^## |\Z)", markdown, re.M | re.S)
    assert match, f"report.md has no section for suite {suite}"
    return match.group(0)


def with_skipped_and_failed() -> dict[str, Any]:
    doc = stored_doc()
    doc["suites"]["compression"] = {
        **skipped("compression", "TimescaleDB compression", "compression needs TimescaleDB; this run uses partitions"),
        "duration_s": 0.01,
    }
    doc["suites"]["sweep"] = {
        "name": "sweep",
        "title": "where the speedups hold",
        "skipped": None,
        "failed": FAILURE,
        "verdicts": [],
        "records": {},
        "notes": [],
        "duration_s": 3.2,
    }
    return doc


class TestSuiteFigures:
    def test_every_suite_figure_is_written_as_a_readable_png(self, written: Any) -> None:
        _, run, paths = written
        assert len(SUITE_FIGURE_NAMES) == 10
        for name in SUITE_FIGURE_NAMES:
            path = run / f"{name}.png"
            assert path in paths, f"{name}.png was not written"
            data = path.read_bytes()
            assert data.startswith(PNG_SIGNATURE), f"{name}.png is not a PNG"
            height, width = imread(path).shape[:2]
            assert width >= 800 and height >= 400, f"{name}.png is {width}x{height}: too small to read"

    @pytest.mark.parametrize("name", SUITE_FIGURE_NAMES)
    def test_each_figure_names_the_engine_and_the_dataset_size(self, name: str) -> None:
        fig = FIGURES[name].draw(stored_doc())
        assert isinstance(fig, Figure)
        texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]  # type: ignore[attr-defined]
        assert any("TimescaleDB hypertable" in t and "50,000 rows" in t for t in texts), name
        assert fig.get_suptitle(), f"{name} has no title"

    def test_a_suite_that_did_not_run_draws_no_figure(self) -> None:
        doc = with_skipped_and_failed()
        for name in [*SUITE_FIGURES["compression"], *SUITE_FIGURES["sweep"]]:
            assert FIGURES[name].draw(doc) is None, name
        del doc["suites"]
        assert all(FIGURES[name].draw(doc) is None for name in SUITE_FIGURE_NAMES)

    def test_the_registry_lists_the_suite_figures_in_a_fresh_interpreter(self) -> None:
        # A notebook may import only the registry; it must still list every suite's figures.
        code = "import json; from bench.report.figures import FIGURES; print(json.dumps(list(FIGURES)))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        assert set(SUITE_FIGURE_NAMES) <= set(json.loads(out))


class TestSuiteSections:
    def test_report_md_shows_every_suite_verdict_word_in_its_section(self, written: Any) -> None:
        doc, run, _ = written
        text = (run / "report.md").read_text()
        for name, section in doc["suites"].items():
            part = section_of(text, name)
            assert section["verdicts"], f"the stored {name} section has no verdicts"
            for v in section["verdicts"]:
                row = next(line for line in part.splitlines() if line.startswith(f"| {v['promise']} |"))
                assert f"**{v['verdict'].upper()}**" in row, row
            for note in section["notes"]:
                assert f"- {note}" in part
            for figure in SUITE_FIGURES.get(name, []):
                assert f"]({figure}.png)" in part, f"{figure} is not shown under {name}"

    def test_numbers_carry_their_units(self) -> None:
        doc = stored_doc()
        rows = {
            r[0]: r for name, s in doc["suites"].items() for r in (suite_verdict_row(name, v) for v in s["verdicts"])
        }
        assert rows["ingest_rate_copy_after"][1] == "> 50,000 rows/s"
        assert rows["ingest_rate_copy_after"][2].startswith("50,122 rows/s [")
        assert rows["migration_non_blocking"][1:3] == ["<= 100 ms", "290 ms"]
        assert rows["migration_duration"][1:4] == ["-", "0.313 s", "REPORTED"]
        assert rows["migration_idempotent"][1:4] == ["-", "-", "NOT HELD"]
        assert rows["compression_reduction/after"][1:3] == ["70-90%", "63.8%"]
        assert rows["session_timeline/compressed"][1:3] == ["2-5x", "1.62x [0.802, 2.57]"]
        assert rows["time_range_p95/30 days"][1:4] == ["<= 100 ms", "119 ms", "NOT MET"]
        assert rows["storage_overhead@50k"][1:3] == ["<= 25%", "19.6%"]
        assert rows["backward_compatible"][1:3] == [">= 100%", "100.0%"]

    def test_a_skipped_suite_shows_its_reason_and_a_failed_one_its_failure(self) -> None:
        doc = with_skipped_and_failed()
        text = markdown_report(doc, [])
        assert "_skipped: compression needs TimescaleDB; this run uses partitions_" in section_of(text, "compression")
        assert f"**FAILED: {FAILURE}**" in section_of(text, "sweep")
        page = html_report(doc, [], Path("/nonexistent"))
        assert "skipped: compression needs TimescaleDB; this run uses partitions" in page
        assert f"<p class='failed'>FAILED: {FAILURE}</p>" in page

    def test_report_html_is_self_contained_with_the_suite_figures_embedded(self, written: Any) -> None:
        _, run, paths = written
        page = (run / "report.html").read_text()
        sources = re.findall(r"""src=['"]([^'"]*)['"]""", page)
        assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
        assert len(sources) == len([p for p in paths if p.suffix == ".png"])
        assert not re.search(r"<link|<script|@import|url\(", page)
        for name in ("write_cost", "migration", "compression", "sweep", "scaling"):
            assert f"<h3>{name}: " in page
        assert page.count('<b style="color:#1a9850">HELD</b>') == 2  # compatibility, transaction_per_chunk


class TestTerminal:
    def test_suite_table_lists_every_suite_with_its_verdicts(self) -> None:
        doc = stored_doc()
        table = format_suite_table(doc)
        for name, section in doc["suites"].items():
            assert f"suite {name}: ran in" in table
            for v in section["verdicts"]:
                line = next(line for line in table.splitlines() if line.strip().startswith(v["promise"] + " "))
                assert v["verdict"].upper() in line
        assert f"reports/runs/{doc['run_id']}/report.md" in table

    def test_suite_table_shows_skips_and_failures_and_is_empty_without_suites(self) -> None:
        doc = with_skipped_and_failed()
        table = format_suite_table(doc)
        assert "suite compression: skipped: compression needs TimescaleDB; this run uses partitions" in table
        assert f"suite sweep: FAILED: {FAILURE}" in table
        bare = copy.deepcopy(doc)
        bare["suites"] = {}
        assert format_suite_table(bare) == ""
