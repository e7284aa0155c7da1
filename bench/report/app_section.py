""" "The application's workload": the section that opens report.md, report.html and the terminal summary.

Built from doc["suites"]["app"] alone (bench.measure.suites.app writes it): the weighted verdict, a table of the
application's cases, the effect of the plan cache mode, and the JSON-filter finding. The content is plain data
(AppSection); bench.report.document renders it as Markdown and HTML, format_app_section as terminal text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.core.formatting import duration, number, ratio, ratio_interval
from bench.judge.app_workload import per_text
from bench.report.app_writes_section import batch_words, ingest_units
from bench.report.figures import APP_FIGURE_NAMES
from bench.report.section_tables import Table, html_tables, markdown_figures, markdown_tables, text_table

Doc = dict[str, Any]
TITLE = "The application's workload"
JSON_CASES = ("app_json_filter", "app_json_filter_array_contains", "app_json_containment_nopath")
GIN_INDEX = "agent_events_data_idx"
PREFIX = "agent_events_"


@dataclass(frozen=True)
class AppSection:
    status: str  # "" when the suite ran, else why there are no figures
    headline: str = ""
    tables: list[Table] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    what_if: list[str] = field(default_factory=list)
    figures: tuple[str, ...] = APP_FIGURE_NAMES


def _interval(est: dict[str, Any] | None, point: str = "point") -> str:
    if not est:
        return "failed"
    return ratio_interval(est[point], est["low"], est["high"])


def _per(row: dict[str, Any]) -> str:
    return f"per {per_text(row['per'], row['title'])}"


def _index_names(names: Sequence[str]) -> str:
    return ", ".join(n.removeprefix(PREFIX) for n in names) or "none (seq scan)"


def app_section(doc: Doc) -> AppSection | None:
    """None when the run did not include the app suite."""
    section = (doc.get("suites") or {}).get("app")
    if section is None:
        return None
    if section.get("failed") or section.get("skipped"):
        return AppSection(status=section.get("failed") or f"skipped: {section['skipped']}")
    records = section["records"]
    workload = records["workload"]
    verdict_words = {v["promise"]: v["verdict"] for v in section.get("verdicts") or []}
    ingest = ingest_units(doc)
    return AppSection(
        status="",
        headline=headline(records, verdict_words, ingest),
        tables=[
            weighted_table(records, verdict_words, ingest),
            case_table(records),
            mode_table(records),
        ],
        findings=json_findings(records),
        what_if=[f"{name}: {reason}" for name, reason in workload["what_if"].items()]
        + [f"{name}: not run: {reason}" for name, reason in records.get("skipped_cases", {}).items()],
    )


def headline(
    records: dict[str, Any], verdict_words: dict[str, str], ingest: Sequence[tuple[dict[str, Any], str]] = ()
) -> str:
    workload = records["workload"]
    mode = workload["headline_mode"]
    parts = []
    for name in [
        "page_views",
        *[u["name"] for u in workload["units"] if u["name"] not in workload["page_views"]["mix"]],
    ]:
        row = records["units"][mode][name]
        est = row["estimate"]
        word = verdict_words.get(f"{name}@{mode}", "failed").upper()
        if est is None:
            parts.append(f"{_per(row)}: measurement failed ({row['failure']})")
            continue
        parts.append(
            f"{_per(row)} before {duration(est['before_ms'])}, after {duration(est['after_ms'])}: "
            f"{_interval(est, 'speedup')} before/after, {word}"
        )
    for row, word in ingest:
        est = row["estimate"]
        if est is None:
            parts.append(f"{_per(row)}: measurement failed ({row['failure']})")
            continue
        parts.append(
            f"{_per(row)} {batch_words(row)} (app_writes) before {duration(est['before_ms'])}, after "
            f"{duration(est['after_ms'])}: {_interval(est, 'speedup')} before/after, {word.upper()}"
        )
    return (
        f"{workload['application']} at {workload['commit'][:7]}, its reads as Prisma sends them (named prepared "
        f"statements, plan_cache_mode {mode}), weighted by how often its pages send them. Database time "
        + "; ".join(parts)
        + "."
    )


def weighted_table(
    records: dict[str, Any], verdict_words: dict[str, str], ingest: Sequence[tuple[dict[str, Any], str]] = ()
) -> Table:
    workload = records["workload"]
    rows = []
    for mode, units in records["units"].items():
        for name, row in units.items():
            est = row["estimate"]
            word = verdict_words.get(f"{name}@{mode}")
            if word is None:
                continue  # only the headline mode shows every unit
            rows.append(
                [
                    _per(row),
                    mode,
                    duration(est["before_ms"]) if est else "-",
                    duration(est["after_ms"]) if est else "-",
                    _interval(est, "speedup") if est else f"failed: {row['failure']}",
                    word.upper(),
                ]
            )
    for row, word in ingest:  # the writes, from the app_writes suite: prepared statements, autocommit
        est = row["estimate"]
        rows.append(
            [
                f"{_per(row)} {batch_words(row)}",
                "prepared (writes)",
                duration(est["before_ms"]) if est else "-",
                duration(est["after_ms"]) if est else "-",
                _interval(est, "speedup") if est else f"failed: {row['failure']}",
                word.upper(),
            ]
        )
    caption = (
        "Database time = sum over the cases a unit issues of executions x mean median latency over the access "
        f"model's parameter draws; 95% bootstrap intervals. Page views split {_mix(workload)} "
        f"({workload['page_views']['reason']})."
    )
    return Table(caption, ["unit", "plan cache mode", "before", "after", "before/after (95% CI)", "verdict"], rows)


def _mix(workload: dict[str, Any]) -> str:
    titles = {u["name"]: u["title"] for u in workload["units"]}
    return ", ".join(f"{share:.0%} {titles[name]}" for name, share in workload["page_views"]["mix"].items())


def _weight(case: dict[str, Any], workload: dict[str, Any]) -> str:
    if case.get("what_if"):
        return "what-if"
    parts = []
    if case.get("per_page_views"):
        parts.append(f"{case['per_page_views']:,.0f} / {workload['page_views']['per']:,.0f} page views")
    titles = {u["name"]: u for u in workload["units"]}
    for unit, count in (case.get("units") or {}).items():
        if unit not in workload["page_views"]["mix"]:
            parts.append(f"{count:,.0f} / {titles[unit]['title']}")
    return "; ".join(parts)


def _percentiles(summary: dict[str, Any]) -> str:
    return "/".join(number(summary.get(k)) for k in ("median_ms", "p95_ms", "p99_ms")) + " ms"


def case_table(records: dict[str, Any]) -> Table:
    workload = records["workload"]
    mode = workload["headline_mode"]
    rows = []
    ordered = sorted(records["cases"].values(), key=lambda c: (bool(c.get("what_if")), c["name"]))
    for case in ordered:
        m = case["modes"].get(mode)
        if m is None:
            continue
        counts = m["plan_counts"]
        check = m["plan_check"]
        before_used, after_used = m["plans"]["before"]["indexes_used"], m["plans"]["after"]["indexes_used"]
        plans = f"{_index_names(before_used)} → {_index_names(after_used)}"
        if check.get("expected_index"):
            expected = check["expected_index"].removeprefix(PREFIX)
            plans += f" (expected {expected}: {check['params_using_expected']}/{check['params_planned']})"
        rows.append(
            [
                case["name"],
                _weight(case, workload),
                _percentiles(m["summary"]["before"]),
                _percentiles(m["summary"]["after"]),
                _interval(m["speedup"]) if m["speedup"] else f"failed: {m['failures']}",
                plans,
                f"{counts['before']['generic']}/{counts['before']['custom']}; "
                f"{counts['after']['generic']}/{counts['after']['custom']}",
                {True: "same", False: "DIFFER", None: "-"}[m["same_rows"]],
            ]
        )
    header = [
        "case",
        "executions",
        "before P50/P95/P99",
        "after P50/P95/P99",
        "speedup (95% CI)",
        "indexes before → after",
        "generic/custom plans (before; after)",
        "rows",
    ]
    caption = (
        f"Plan cache mode {mode}, as the application runs them; every execution of every parameter draw. "
        "Generic/custom: executions that used a generic or a custom plan, from pg_prepared_statements."
    )
    return Table(caption, header, rows)


def mode_table(records: dict[str, Any]) -> Table:
    modes = records["workload"]["plan_cache_modes"]
    rows = []
    for case in sorted(records["cases"].values(), key=lambda c: (bool(c.get("what_if")), c["name"])):
        cells = [case["name"]]
        for mode in modes:
            m = case["modes"].get(mode)
            if m is None:
                cells.append("-")
                continue
            before, after = m["summary"]["before"]["median_ms"], m["summary"]["after"]["median_ms"]
            cells.append(
                f"{duration(before)} → {duration(after)} ({ratio(m['speedup']['point']) if m['speedup'] else 'failed'})"
            )
        rows.append(cells)
    caption = (
        "Median latency before → after (speedup) per plan cache mode: auto is PostgreSQL's default, "
        "force_generic_plan what a long-lived pool can settle on, force_custom_plan a fresh plan each time "
        "(how the design document's cases are timed)."
    )
    return Table(caption, ["case", *modes], rows)


def json_findings(records: dict[str, Any]) -> list[str]:
    finding = records.get("json_filter")
    if not finding:
        return []
    lines = []
    for name, modes in finding["forms"].items():
        parts = []
        for mode, roles in modes.items():
            after = roles["after"]
            parts.append(
                f"{mode}: before {_index_names(roles['before']['indexes_used'])}, after "
                f"{_index_names(after['indexes_used'])} ({after['params_using_gin']}/{after['params_planned']} "
                f"parameters on {GIN_INDEX})"
            )
        lines.append(f"{name}: " + "; ".join(parts))
    verdict = finding.get("verdict") or "not measured"
    lines.insert(
        0,
        f"JSON filters on data: does the Phase 2 GIN index serve the filters Prisma emits? {verdict.upper()}. "
        f"{finding['prisma_after_plans_using_gin']} of {finding['prisma_after_plans']} after plans of Prisma's path "
        'forms ("data" #> ARRAY[$1]::text[] ...) use it: jsonb_ops serves operators on the column itself, and '
        'only "data" @> $1 is such a form. The Go collector writes filePath into data; the TypeScript model '
        "documents it in context, which no index covers.",
    )
    return lines


# --- terminal ---------------------------------------------------------------------------------------------


def format_app_section(doc: Doc) -> str:
    """The section for the terminal; "" when the run did not include the app suite."""
    section = app_section(doc)
    if section is None:
        return ""
    lines = [TITLE.upper()]
    if section.status:
        return "\n".join([*lines, f"  {section.status}"])
    lines += [section.headline, ""]
    for table in section.tables[:2]:
        lines += [*text_table(table), ""]
    lines += section.findings[:1]
    lines.append(f"plan cache modes, what-if cases and figures: reports/runs/{doc['run_id']}/report.md")
    return "\n".join(lines)


# --- report.md and report.html ----------------------------------------------------------------------------

WHAT_IF_INTRO = "What-if cases (no shipped page issues them at this commit; measured, never weighted):"


def markdown_app_section(doc: Doc, figures: Sequence[tuple[str, str]]) -> list[str]:
    """Markdown lines of the section, with its figures (title, relative path); [] without an app suite."""
    section = app_section(doc)
    if section is None:
        return []
    lines = [f"## {TITLE}", ""]
    if section.status:
        return [*lines, f"**{section.status}**", ""]
    lines += [section.headline, ""]
    lines += markdown_tables(section.tables)
    lines += [*(f"- {f}" for f in section.findings), ""]
    if section.what_if:
        lines += [WHAT_IF_INTRO, "", *(f"- {w}" for w in section.what_if), ""]
    return [*lines, *markdown_figures(figures, section.figures)]


def html_app_section(doc: Doc, figure_html: Sequence[str]) -> list[str]:
    """HTML parts of the section; `figure_html` is its figures, already embedded by the report."""
    from html import escape

    section = app_section(doc)
    if section is None:
        return []
    parts = [f"<h2>{escape(TITLE)}</h2>"]
    if section.status:
        return [*parts, f"<p class='failed'>{escape(section.status)}</p>"]
    parts.append(f"<p><b>{escape(section.headline)}</b></p>")
    parts += html_tables(section.tables)
    parts += ["<ul>", *(f"<li>{escape(f)}</li>" for f in section.findings), "</ul>"]
    if section.what_if:
        parts += [
            f"<p>{escape(WHAT_IF_INTRO)}</p>",
            "<ul>",
            *(f"<li>{escape(w)}</li>" for w in section.what_if),
            "</ul>",
        ]
    return [*parts, *figure_html]
