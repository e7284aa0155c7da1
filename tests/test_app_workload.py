"""The application's workload without a server: its case files, the workload file's checks, and the weighted
verdict computed from given samples (no timing thresholds)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.core.cases import APP_QUERIES_DIR, QUERIES_DIR, load_cases, parse_case
from bench.core.errors import HarnessError
from bench.core.workload import DEFAULT_WORKLOAD_PATH, WorkloadError, load_workload
from bench.judge.app_workload import (
    expanded_pairs,
    json_filter_finding,
    per_text,
    unit_estimates,
    weighted_verdict,
)
from bench.judge.stats import bootstrap_weighted_time
from bench.measure.suites.app import app_cases
from bench.measure.suites.app_prepared import to_positional

APP_CASES = [c.name for c in load_cases(APP_QUERIES_DIR)]


# ==== case files ==============================================================================================
class TestCaseFiles:
    def test_every_application_case_cites_its_source_at_the_commit(self) -> None:
        cases = load_cases(APP_QUERIES_DIR)
        assert len(cases) == 15
        for case in cases:
            assert case.kind == "app" and case.origin == "application", case.name
            assert case.source and case.does and case.frequency, case.name
            # a cited file is path@05063cc:lines; the JSON what-ifs have no call site and say so
            assert "@05063cc" in case.source or case.source.startswith("no call site"), case.name
            assert case.directory == APP_QUERIES_DIR and case.path.exists()

    def test_prisma_shape_qualified_columns_and_bound_limits(self) -> None:
        for case in load_cases(APP_QUERIES_DIR):
            if case.name == "app_time_buckets":  # raw SQL through $queryRawUnsafe, as the service writes it
                assert "time_bucket(%(bucket_width)s" in case.sql and case.engines == ("timescaledb",)
                continue
            assert case.sql.startswith('SELECT "public"."agent_events"."id", "public"."agent_events"."timestamp"')
            assert '"chatSessionId"' not in case.sql and "chatSessionId" in (case.columns or "")
            assert "OFFSET %(offset)s" in case.sql and case.binds["offset"] == 0
            if "LIMIT" in case.sql:
                assert "LIMIT %(limit)s" in case.sql and isinstance(case.binds["limit"], int)
        by_name = {c.name: c for c in load_cases(APP_QUERIES_DIR)}
        assert "WHERE 1=1" in by_name["app_dashboard_activity"].sql
        assert by_name["app_session_events"].binds == {"limit": 100, "offset": 0}
        assert by_name["app_stream_poll"].binds["limit"] == 50
        assert "400" in (by_name["app_project_events"].bugs or "")

    def test_design_document_cases_say_so_and_no_longer_claim_to_be_the_application(self) -> None:
        cases = load_cases()
        assert cases and all(c.origin == "design document" for c in cases)
        for name in ("session_timeline_latest", "project_timeline_latest"):
            description = next(c for c in cases if c.name == name).description
            assert "Not the application's query" in description
            assert "What the application's event list runs" not in description
        # the suites' variants of the design document's cases too
        for sub in ("compression", "sweep"):
            for path in sorted((QUERIES_DIR / sub).glob("*_*.sql")):
                if path.read_text().startswith("-- kind:"):
                    assert parse_case(path).origin == "design document", path

    @pytest.mark.parametrize(
        ("header", "message"),
        [
            ("-- kind: app\n-- params: none\n", "an application case needs the header(s) `-- origin:`"),
            ("-- kind: app\n-- origin: app\n-- params: none\n", "`-- origin:` must be one of"),
            ("-- kind: control\n-- params: none\n-- params: tags\n", "appears twice"),
            ("-- kind: control\n-- params: none\n-- binds: limit\n", "is not name=value"),
            ("-- kind: control\n-- params: none\n-- engines: oracle\n", "`-- engines:` lists oracle"),
        ],
    )
    def test_bad_headers_are_refused_with_the_fix(self, tmp_path: Path, header: str, message: str) -> None:
        path = tmp_path / "bad_case.sql"
        path.write_text(header + "SELECT 1\n")
        with pytest.raises(HarnessError, match=message.replace("(", r"\(").replace(")", r"\)")):
            parse_case(path)

    def test_a_long_header_value_continues_on_indented_lines(self, tmp_path: Path) -> None:
        path = tmp_path / "long.sql"
        path.write_text(
            "-- kind: control\n-- params: none\n-- bugs: first part\n--    second part\n-- free text\nSELECT 1\n"
        )
        case = parse_case(path)
        assert case.bugs == "first part second part" and case.description == "free text" and case.sql == "SELECT 1"

    def test_placeholders_become_numbered_as_psycopg_sends_them(self) -> None:
        text, values = to_positional("a = %(x)s AND b = %(y)s AND c = %(x)s AND d LIKE 'x%%'", {"x": 1, "y": 2})
        assert text == "a = $1 AND b = $2 AND c = $1 AND d LIKE 'x%'"
        assert values == [1, 2]


# ==== the workload file =======================================================================================
VALID = """
schema = 1
application = "codervisor/devlog"
commit = "05063cc"
[units.page]
title = "page"
per = 1000
source = "somewhere"
cases = { app_session_events = 1 }
[units.hour]
title = "hour"
per = 1
source = "elsewhere"
cases = { app_stream_poll = 720 }
[page_views]
per = 1000
mix = { page = 1.0 }
reason = "assumed"
"""


def write_workload(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "workload.toml"
    path.write_text(text)
    return path


KNOWN = ["app_session_events", "app_stream_poll", "app_json_filter"]
VALID_WITH_WHAT_IF = VALID + '[what_if]\napp_json_filter = "no caller"\n'


class TestWorkloadFile:
    def test_the_packaged_workload_places_every_application_case(self) -> None:
        cases, workload = app_cases()
        assert workload.path == DEFAULT_WORKLOAD_PATH
        # the single-event create is a write (bench/queries/app_writes/), placed among the what-ifs too
        assert set(workload.weighted_cases) | set(workload.what_if) == {c.name for c in cases} | {"app_ingest_one"}
        assert workload.plan_cache_modes == ("auto", "force_generic_plan", "force_custom_plan")
        assert workload.unit("open_dashboard_hour").cases == {"app_stream_poll": 720.0}
        weights = workload.page_view_weights()
        # 1,000 page views: 500 session pages, 400 plain dashboards, 100 with a project; every dashboard reads
        # the last hour without its project
        assert weights == {
            "app_session_events": 500.0,
            "app_dashboard_activity": 400.0,
            "app_dashboard_today": 400.0,
            "app_dashboard_last_hour": 500.0,
            "app_dashboard_activity_project": 100.0,
            "app_dashboard_today_project": 100.0,
        }

    def test_a_valid_file_loads(self, tmp_path: Path) -> None:
        workload = load_workload(write_workload(tmp_path, VALID_WITH_WHAT_IF), KNOWN)
        assert workload.headline_mode == "auto" and workload.what_if == {"app_json_filter": "no caller"}
        assert workload.to_dict()["page_views"]["mix"] == {"page": 1.0}

    @pytest.mark.parametrize(
        ("change", "key", "fix"),
        [
            (("app_session_events = 1", "app_sesion_events = 1"), "units.page.cases.app_sesion_events", "file name"),
            (("app_session_events = 1", "app_session_events = 0"), "units.page.cases.app_session_events", "> 0"),
            (("mix = { page = 1.0 }", "mix = { page = 0.9 }"), "page_views.mix", "add up to 1"),
            (("mix = { page = 1.0 }", "mix = { pages = 1.0 }"), "page_views.mix.pages", "use one of"),
            (("per = 1\n", "per = -1\n"), "units.hour.per", "> 0"),
            (('title = "hour"\n', ""), "units.hour.title", 'title = "..."'),
            (("schema = 1", "schema = 2"), "schema", "schema = 1"),
            (("[page_views]", "colour = 1\n[page_views]"), "units.hour.colour", "is not a known key"),
            (("[what_if]\n", '[run]\nplan_cache_modes = ["sometimes"]\n[what_if]\n'), "run.plan_cache_modes", "list"),
            (("[what_if]\n", "[access]\nsamples = 0\n[what_if]\n"), "access.samples", "at least 1"),
            (("[what_if]\n", "[access]\ndashboard_hours = [20, 8]\n[what_if]\n"), "access.dashboard_hours", "hours"),
            (('app_json_filter = "no caller"', 'app_json_filter = ""'), "what_if.app_json_filter", "reason"),
            (('app_json_filter = "no caller"', 'app_stream_poll = "x"'), "what_if.app_stream_poll", "either"),
            (('app_json_filter = "no caller"', ""), "units / what_if", "app_json_filter"),
        ],
    )
    def test_each_problem_names_the_key_and_the_fix(
        self, tmp_path: Path, change: tuple[str, str], key: str, fix: str
    ) -> None:
        assert change[0] in VALID_WITH_WHAT_IF
        path = write_workload(tmp_path, VALID_WITH_WHAT_IF.replace(change[0], change[1], 1))
        with pytest.raises(WorkloadError) as err:
            load_workload(path, KNOWN)
        message = str(err.value)
        assert message.startswith(f"{path}: {key} ") and fix in message, message
        assert "\n" not in message

    def test_unreadable_and_malformed_files(self, tmp_path: Path) -> None:
        with pytest.raises(WorkloadError, match="cannot read the workload file"):
            load_workload(tmp_path / "missing.toml", KNOWN)
        with pytest.raises(WorkloadError, match="not valid TOML"):
            load_workload(write_workload(tmp_path, "schema = = 1"), KNOWN)


# ==== the weighted verdict from given samples =================================================================
def sample(before: list[float | None], after: list[float | None], draws: int = 1, label: str = "p") -> dict[str, Any]:
    """A record as the suite leaves it (plans left out)."""
    return {
        "case": "c",
        "label": label,
        "latencies_ms": {"before": before, "after": after},
        "errors": {"before": None, "after": None},
        "same_rows": True,
        "plans": {"before": None, "after": None},
        "draws": draws,
    }


def analyzed(samples: list[dict[str, Any]], mode: str = "auto") -> dict[str, Any]:
    from bench.judge.app_workload import analyze_mode

    return {"modes": {mode: analyze_mode(samples, None, seed=1)}}


class TestWeightedVerdict:
    def test_constant_latencies_give_the_exact_weighted_sum_and_a_point_interval(self) -> None:
        est = bootstrap_weighted_time(
            [(500.0, [([2.0] * 5, [1.0] * 5)]), (720.0, [([1.0] * 5, [1.0] * 5), ([3.0] * 5, [3.0] * 5)])], seed=3
        )
        # 500 x 2 + 720 x mean(1, 3) before; 500 x 1 + 720 x 2 after
        assert est.before_ms == pytest.approx(2440.0) and est.after_ms == pytest.approx(1940.0)
        assert est.speedup == pytest.approx(2440.0 / 1940.0)
        # Only the second case varies: its replicate mean of medians is 1, 2 or 3 (both parameters drawn alike
        # for before and after), so the interval ends are the all-1 and all-3 replicates.
        assert (est.before_low, est.before_high) == pytest.approx((1000.0 + 720.0, 1000.0 + 2160.0))
        assert (est.after_low, est.after_high) == pytest.approx((500.0 + 720.0, 500.0 + 2160.0))
        assert (est.low, est.high) == pytest.approx((3160.0 / 2660.0, 1720.0 / 1220.0))
        assert est.n_cases == 2 and est.n_params == 3

    def test_single_parameter_constant_case_has_no_spread(self) -> None:
        est = bootstrap_weighted_time([(1000.0, [([4.0] * 7, [2.0] * 7)])], seed=0)
        assert (est.before_low, est.before_ms, est.before_high) == pytest.approx((4000.0, 4000.0, 4000.0))
        assert (est.low, est.speedup, est.high) == pytest.approx((2.0, 2.0, 2.0))

    def test_medians_not_means_and_draws_count_twice(self) -> None:
        twice = [sample([1.0, 1.0, 100.0], [1.0, 1.0, 1.0], draws=2), sample([4.0] * 3, [2.0] * 3)]
        pairs = expanded_pairs(twice)
        assert len(pairs) == 3  # the first value drawn twice counts twice
        est = bootstrap_weighted_time([(3.0, pairs)], seed=0)
        # mean of medians over draws: (1 + 1 + 4) / 3 = 2 before, (1 + 1 + 2) / 3 after
        assert est.before_ms == pytest.approx(3.0 * 2.0) and est.after_ms == pytest.approx(3.0 * 4.0 / 3.0)

    def test_same_seed_same_interval(self) -> None:
        pairs = [([1.0, 1.2, 0.9, 1.1], [0.5, 0.6, 0.4, 0.55]), ([2.0, 2.2, 1.9], [1.0, 1.4, 1.1])]
        first = bootstrap_weighted_time([(10.0, pairs)], seed=7)
        assert first == bootstrap_weighted_time([(10.0, pairs)], seed=7)
        assert first.low <= first.speedup <= first.high

    def test_bad_inputs_are_refused(self) -> None:
        with pytest.raises(ValueError, match="at least one"):
            bootstrap_weighted_time([])
        with pytest.raises(ValueError, match="weight"):
            bootstrap_weighted_time([(0.0, [([1.0], [1.0])])])
        with pytest.raises(ValueError, match="finite positive"):
            bootstrap_weighted_time([(1.0, [([0.0], [1.0])])])

    def test_units_and_page_views_from_given_samples(self) -> None:
        _, workload = app_cases()
        constant = {
            name: analyzed([sample([2.0] * 5, [1.0] * 5)])
            for name in workload.weighted_cases
            if name != "app_stream_poll"
        }
        constant["app_stream_poll"] = analyzed([sample([0.5] * 5, [0.25] * 5)])
        units = unit_estimates(workload, constant, seed=1)
        assert units["force_generic_plan"]["page_views"]["estimate"] is None  # not measured in that mode
        page = units["auto"]["page_views"]["estimate"]
        # 2,000 statements per 1,000 page views at 2 ms before, 1 ms after
        assert page["before_ms"] == pytest.approx(4000.0) and page["after_ms"] == pytest.approx(2000.0)
        hour = units["auto"]["open_dashboard_hour"]["estimate"]
        assert hour["before_ms"] == pytest.approx(360.0) and hour["low"] == pytest.approx(2.0)
        verdict = weighted_verdict("page_views", units["auto"]["page_views"], "auto", 10.0)
        assert verdict.verdict == "improved" and not verdict.gated
        assert "per 1,000 page views" in verdict.evidence and "before 4 s [4 s, 4 s]" in verdict.evidence

    def test_a_failed_or_missing_case_fails_its_units_never_counts_as_fast(self) -> None:
        _, workload = app_cases()
        cases = {name: analyzed([sample([2.0] * 3, [1.0] * 3)]) for name in workload.weighted_cases}
        cases["app_session_events"] = analyzed([sample([2.0] * 3, [1.0, None, 1.0])])
        units = unit_estimates(workload, cases, seed=1)["auto"]
        assert units["session_page_view"]["estimate"] is None
        assert "app_session_events" in units["session_page_view"]["failure"]
        assert units["page_views"]["estimate"] is None
        assert units["dashboard_load"]["estimate"] is not None
        assert weighted_verdict("page_views", units["page_views"], "auto", 10.0).verdict == "failed"
        del cases["app_stream_poll"]
        hour = unit_estimates(workload, cases, seed=1)["auto"]["open_dashboard_hour"]
        assert hour["estimate"] is None and "not measured: app_stream_poll" in hour["failure"]

    def test_slower_after_is_a_regression(self) -> None:
        row = {"title": "page views", "per": 1000.0, "estimate": None, "failure": None}
        row["estimate"] = bootstrap_weighted_time([(1000.0, [([1.0] * 5, [2.0] * 5)])]).to_dict()
        assert weighted_verdict("page_views", row, "auto", 10.0).verdict == "regression"

    def test_per_text_reads_naturally(self) -> None:
        assert per_text(1000, "dashboard load with ?projectId=") == "1,000 dashboard loads with ?projectId="
        assert per_text(1, "hour of an open dashboard") == "hour of an open dashboard"
        assert per_text(1000, "page views") == "1,000 page views"


class TestJsonFinding:
    @staticmethod
    def case_with(indexes_after: list[list[str]]) -> dict[str, Any]:
        records = []
        for i, indexes in enumerate(indexes_after):
            rec = sample([1.0] * 3, [1.0] * 3, label=f"path{i}")
            plan = {"indexes_used": indexes, "scan_types": ["Bitmap Index Scan"] if indexes else ["Seq Scan"]}
            rec["plans"] = {"before": {"indexes_used": [], "scan_types": ["Seq Scan"]}, "after": plan}
            records.append(rec)
        return analyzed(records)

    def test_path_forms_without_the_index_do_not_hold(self) -> None:
        cases = {
            "app_json_filter": self.case_with([[], []]),
            "app_json_filter_array_contains": self.case_with([[]]),
            "app_json_containment_nopath": self.case_with([["agent_events_data_idx"]] * 2),
        }
        finding = json_filter_finding(cases)
        assert finding is not None
        assert finding["verdict"] == "not held" and finding["prisma_after_plans"] == 3
        assert finding["forms"]["app_json_containment_nopath"]["auto"]["after"]["params_using_gin"] == 2

    def test_a_path_form_using_the_index_would_hold(self) -> None:
        finding = json_filter_finding({"app_json_filter": self.case_with([["agent_events_data_idx"]])})
        assert finding is not None and finding["verdict"] == "held"
        assert json_filter_finding({}) is None
