"""The report of a run, written into its folder: every registered figure as PNG, report.md and report.html.

report.md is short enough for a pull-request comment or a CI job summary (figures by relative path).
report.html is one self-contained file: the same content with the figures embedded, plus per-case plan
summaries and the raw EXPLAIN plans, ready to paste into a plan visualiser.
"""

from __future__ import annotations

import base64
import html
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.core.config import runs_dir_from_env
from bench.core.formatting import mib, number, percent_change, ratio, ratio_interval
from bench.report.app_section import html_app_section, markdown_app_section
from bench.report.figure_style import verdict_colour
from bench.report.figures import APP_FIGURE_NAMES, FIGURES, LOAD_FIGURE_NAMES, SUITE_FIGURES, FigureSpec
from bench.report.load_section import html_load_section, markdown_load_section
from bench.report.plots import server_speedup
from bench.report.section_tables import markdown_rows
from bench.report.summary import SUITE_HEADER, suite_status, suite_verdict_row, verdict_rows

Doc = dict[str, Any]
VERDICT_HEADER = ["promise / case", "expected", "measured (95% CI)", "verdict", "gate", "evidence"]
# A server-side speedup this many times the timed one means the index's gain is hidden by fixed costs.
HIDDEN_GAIN_FACTOR = 2.0


def write_report(doc: Doc, run_dir: Path | None = None) -> list[Path]:
    """Write the figures, report.md and report.html into the run's folder; return the paths written."""
    run_dir = Path(run_dir) if run_dir is not None else runs_dir_from_env() / doc["run_id"]
    run_dir.mkdir(parents=True, exist_ok=True)
    figures = render_figures(doc)
    paths = []
    for spec, png in figures:
        path = run_dir / f"{spec.name}.png"
        path.write_bytes(png)
        paths.append(path)
    md = run_dir / "report.md"
    md.write_text(markdown_report(doc, [(spec.title, f"{spec.name}.png") for spec, _ in figures]))
    page = run_dir / "report.html"
    page.write_text(html_report(doc, figures, run_dir / "plans"))
    return [*paths, md, page]


def render_figures(doc: Doc) -> list[tuple[FigureSpec, bytes]]:
    rendered = []
    for spec in FIGURES.values():
        fig = spec.draw(doc)
        if fig is None:
            continue
        buf = io.BytesIO()
        fig.savefig(buf, format="png")
        rendered.append((spec, buf.getvalue()))
    return rendered


# --- content shared by both formats -----------------------------------------------------------------------


def _cache_word(doc: Doc) -> str:
    return str(doc["measurement"].get("cache_state", "")).split(":", 1)[0] or "unknown"


def subtitle(doc: Doc) -> str:
    return (
        f"run {doc['run_id']} · {doc['engine']['label']} · {int(doc['dataset']['rows']):,} rows · "
        f"{_cache_word(doc)} cache"
    )


def headline(doc: Doc) -> str:
    """One line a reviewer reads first: every promise's verdict, then how the controls fared."""
    promises = [v for v in doc["verdicts"] if v["kind"] != "control"]
    controls = [v["verdict"] for v in doc["verdicts"] if v["kind"] == "control"]
    parts = [f"{v['promise']} {v['verdict'].upper()}" for v in promises]
    text = "Promises: " + ", ".join(parts) + "."
    if controls:
        counts = {word: controls.count(word) for word in dict.fromkeys(controls)}
        text += " Controls: " + ", ".join(f"{n} {word}" for word, n in counts.items()) + "."
    return text


def migration_line(doc: Doc) -> str:
    """The migration's label, file and hash, and what it did to the indexes as read from both databases."""
    m = doc["dataset"].get("migration") or {}
    head = (
        f"{m.get('label')} ({Path(str(m.get('path'))).name}, sha256 {str(m.get('sha256'))[:12]})"
        if m
        else "Phase 2 (schema/migration_phase2.sql; not recorded by this run)"
    )
    diff = ((doc.get("index_sets") or {}).get("after") or {}).get("migration_changed")
    if not diff:
        return head
    parts = [f"+ {d['name']}" for d in diff["added"]] + [f"- {d['name']}" for d in diff["dropped"]]
    parts += [f"~ {d['name']}" for d in diff["changed"]]
    return f"{head}; indexes: {', '.join(parts) if parts else 'none changed'}"


def key_figures(doc: Doc) -> list[tuple[str, str]]:
    ds, st, m, env = doc["dataset"], doc["storage"], doc["measurement"], doc["environment"]
    spec = ds.get("spec", {})
    window = f", {spec['window_days']} days" if "window_days" in spec else ""
    seed = f", seed {spec['seed']}" if "seed" in spec else ""
    return [
        ("engine", doc["engine"]["label"]),
        ("dataset", f"{int(ds['rows']):,} rows{seed}{window}, fingerprint {ds['fingerprint'][:12]}"),
        ("migration under test", migration_line(doc)),
        (
            "storage",
            f"{mib(st['before']['total_bytes'])} → {mib(st['after']['total_bytes'])} "
            f"({percent_change(st['storage_overhead_pct'])}); indexes {mib(st['before']['index_total_bytes'])} → "
            f"{mib(st['after']['index_total_bytes'])} ({percent_change(st['index_overhead_pct'])})",
        ),
        (
            "bytes per event",
            f"{number(st['before'].get('bytes_per_event') or 0, 0)} → "
            f"{number(st['after'].get('bytes_per_event') or 0, 0)}",
        ),
        (
            "measurement",
            f"{_cache_word(doc)} cache ({m['warmup']} warm-up executions), {m['min_rounds']}-{m['max_rounds']} "
            f"timed rounds per parameter and instance, interleaved; timeout {m['statement_timeout_ms'] / 1000:g} s",
        ),
        ("PostgreSQL", f"{env.get('postgres_version')}; TimescaleDB {env.get('timescaledb_version') or 'not used'}"),
        ("commit", _commit(env)),
    ]


def _commit(env: dict[str, Any]) -> str:
    commit = (env.get("commit") or "unknown")[:12]
    dirty = env.get("dirty")
    return commit + (" (dirty: uncommitted changes)" if dirty else "" if dirty is False else " (dirty: unknown)")


def storage_rows(doc: Doc, per_index: bool) -> list[list[str]]:
    st = doc["storage"]
    before, after = st["before"], st["after"]

    def row(label: str, b: float | None, a: float | None) -> list[str]:
        change = percent_change((a - b) / b * 100) if a is not None and b else ("new" if b is None else "dropped")
        return [label, mib(b), mib(a), change]

    rows = [
        row("heap", before["heap_bytes"], after["heap_bytes"]),
        row("TOAST", before["toast_bytes"], after["toast_bytes"]),
    ]
    if per_index:
        names = list(dict.fromkeys([*before["indexes_bytes"], *after["indexes_bytes"]]))
        rows += [row(f"index {n}", before["indexes_bytes"].get(n), after["indexes_bytes"].get(n)) for n in names]
    rows.append(row("all indexes", before["index_total_bytes"], after["index_total_bytes"]))
    rows.append(row("total", before["total_bytes"], after["total_bytes"]))
    return rows


def _distinct_params(case: dict[str, Any]) -> int:
    return len(
        {
            json.dumps({k: v for k, v in s.get("sample", {}).get("params", {}).items() if k != "now"}, sort_keys=True)
            for s in case["samples"]
        }
    )


def notes(doc: Doc) -> list[str]:
    """What a reviewer should know before trusting the table: failures, plan surprises, noise, environment."""
    out = []
    for c in doc["cases"]:
        if c.get("failures"):
            out.append(f"{c['name']}: FAILED executions ({c['failures']}); failures are never counted as times.")
        if c.get("same_rows") is False:
            out.append(f"{c['name']}: before and after RETURNED DIFFERENT ROWS for at least one parameter.")
        server, est = server_speedup(c), c.get("speedup")
        if c["kind"] != "control" and server and est and server > HIDDEN_GAIN_FACTOR * est["point"]:
            out.append(
                f"{c['name']}: server execution alone is {ratio(server)} faster (EXPLAIN ANALYZE), the timed speedup "
                f"{ratio(est['point'])}: planning, transfer and decoding of rows cost the same before and after."
            )
        distinct = _distinct_params(c)
        if c["samples"] and distinct < len(c["samples"]):
            out.append(
                f"{c['name']}: {len(c['samples'])} parameter samples but only {distinct} distinct values; "
                "repeated values weigh twice in the interval."
            )
    unstable = {c["name"]: len(c.get("unstable") or []) for c in doc["cases"] if c.get("unstable")}
    if unstable:
        listed = ", ".join(f"{name} ({n})" for name, n in unstable.items())
        out.append(
            "Unstable timings (stdev > 10% of the mean, or min/max far from it) in parameter/instance series of: "
            f"{listed}. Treat small differences there as noise."
        )
    for role, report in (doc.get("index_sets") or {}).items():
        if report.get("differences"):
            out.append(
                f"{role} instance's indexes differ from the expected set: {'; '.join(map(str, report['differences']))}"
            )
    env = doc["environment"]
    if env.get("settings_identical") is False:
        out.append("The before and after servers ran with DIFFERENT settings; see the environment section.")
    if env.get("dirty"):
        out.append("Measured from a working tree with uncommitted changes.")
    return out


def environment_rows(doc: Doc) -> list[tuple[str, str]]:
    env = doc["environment"]
    kinds = {role: inst.get("kind", "?") for role, inst in (env.get("instances") or {}).items()}
    return [
        ("engine", f"{env.get('engine')} ({env.get('engine_label')})"),
        ("PostgreSQL", str(env.get("postgres_version"))),
        ("TimescaleDB", str(env.get("timescaledb_version") or "not installed")),
        ("CPU", f"{env.get('cpu_model')} × {env.get('cpu_count')}"),
        ("memory", f"{env.get('memory_gib')} GiB"),
        ("OS", str(env.get("os"))),
        ("Python, psycopg", f"{env.get('python')}, {env.get('psycopg')}"),
        ("host", str(env.get("hostname"))),
        ("instances", ", ".join(f"{role}: {kind}" for role, kind in kinds.items())),
        ("commit", f"{env.get('commit')}{' (dirty)' if env.get('dirty') else ''}"),
        ("settings identical on both", str(env.get("settings_identical"))),
    ]


def suite_sections(doc: Doc) -> list[dict[str, Any]]:
    """Each extra suite's title, whether it ran, its verdicts as rows, its notes and its figures' names."""
    out = []
    for name, section in (doc.get("suites") or {}).items():
        out.append(
            {
                "name": name,
                "title": section.get("title") or name,
                "status": suite_status(section),
                "rows": [suite_verdict_row(name, v) for v in section.get("verdicts") or []],
                "notes": [str(n) for n in section.get("notes") or []],
                "figures": SUITE_FIGURES.get(name, []),
            }
        )
    return out


def settings_text(doc: Doc) -> str:
    return ", ".join(f"{k}={v}" for k, v in (doc["environment"].get("settings") or {}).items())


# --- report.md --------------------------------------------------------------------------------------------


def markdown_verdict_rows(doc: Doc) -> list[list[str]]:
    """bench.report.summary.verdict_rows, with case lines marked so Markdown keeps their indentation visible."""
    rows = []
    for r in verdict_rows(doc):
        is_case = r[0].startswith("  ")
        name = f"↳ {r[0].strip()}" if is_case else f"**{r[0]}**"
        verdict = r[3] if is_case else f"**{r[3]}**"
        rows.append([name, r[1], r[2], verdict, r[4], r[5]])
    return rows


def _md_status(status: str) -> str:
    # A failure message is not set in italics: it may hold the underscores and asterisks of SQL or paths.
    return f"**{status}**" if status.startswith("FAILED") else f"_{status}_"


def _md_figures(figures: Sequence[tuple[str, str]]) -> list[str]:
    return [line for title, path in figures for line in (f"**{title}**", "", f"![{title}]({path})", "")]


def _md_app_lines(doc: Doc, figures: Sequence[tuple[str, str]]) -> list[str]:
    """The application's workload first, then the design document's promises under their own heading."""
    lines = markdown_app_section(doc, figures)
    return [*lines, "## The design document's promises", ""] if lines else []


def markdown_report(doc: Doc, figures: Sequence[tuple[str, str]]) -> str:
    lines = [
        "# Phase 2 index migration: benchmark report",
        "",
        f"_{subtitle(doc)}_",
        "",
        *_md_app_lines(doc, figures),
        headline(doc),
        "",
        *markdown_rows(VERDICT_HEADER, markdown_verdict_rows(doc)),
        "",
        "## Key figures",
        "",
        *markdown_rows(["", ""], [[f"**{k}**", v] for k, v in key_figures(doc)]),
        "",
    ]
    found = notes(doc)
    if found:
        lines += ["## Notes", "", *[f"- {n}" for n in found], ""]
    lines += [
        "## Storage",
        "",
        *markdown_rows(["", "before", "after", "change"], storage_rows(doc, per_index=False)),
        "",
    ]
    suites = suite_sections(doc)
    placed = {f"{name}.png" for suite in suites for name in suite["figures"]}
    placed |= {f"{name}.png" for name in (*APP_FIGURE_NAMES, *LOAD_FIGURE_NAMES)}
    rest = [(title, path) for title, path in figures if path not in placed]
    if rest:
        lines += ["## Figures", "", *_md_figures(rest)]
    lines += markdown_load_section(doc, figures)
    if suites:
        lines += ["## Suites", ""]
        for suite in suites:
            lines += [f"### {suite['name']}: {suite['title']}", "", _md_status(suite["status"]), ""]
            if suite["rows"]:
                rows = [[*r[:3], f"**{r[3]}**", *r[4:]] for r in suite["rows"]]
                lines += [*markdown_rows(SUITE_HEADER, rows), ""]
            lines += [*(f"- {n}" for n in suite["notes"]), *([""] if suite["notes"] else [])]
            own = [f"{name}.png" for name in suite["figures"]]
            lines += _md_figures([(title, path) for title, path in figures if path in own])
    if doc.get("deviations"):
        lines += ["## Deviations from the design document", "", *[f"- {d}" for d in doc["deviations"]], ""]
    lines += [
        "## Environment",
        "",
        *markdown_rows(["", ""], environment_rows(doc)),
        "",
        f"<details><summary>server settings</summary>\n\n{settings_text(doc)}\n\n</details>",
        "",
        f"Results: `reports/runs/{doc['run_id']}/results.json` (schema {doc['schema_version']}); "
        "plans and per-case details in `report.html`.",
        "",
    ]
    return "\n".join(lines)


# --- report.html ------------------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1200px; margin: 2em auto;
       padding: 0 1em; color: #222; line-height: 1.4; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.case td:first-child { padding-left: 1.8em; }
.sub { color: #555; }
img { max-width: 100%; border: 1px solid #eee; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.85em; }
details { margin: 0.3em 0; }
summary { cursor: pointer; }
.failed { color: #d73027; font-weight: bold; }
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _html_table(header: Sequence[str], rows: Sequence[Sequence[object]], row_class: Sequence[str] | None = None) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in header) + "</tr>"]
    for i, r in enumerate(rows):
        cls = f' class="{_e(row_class[i])}"' if row_class and row_class[i] else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{_e(c)}</td>" for c in r) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _verdict_table_html(doc: Doc) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in VERDICT_HEADER) + "</tr>"]
    for r in verdict_rows(doc):
        is_case = r[0].startswith("  ")
        colour = verdict_colour(r[3], default="#222")
        cells = [_e(r[0].strip()), _e(r[1]), _e(r[2]), f'<b style="color:{colour}">{_e(r[3])}</b>', _e(r[4]), _e(r[5])]
        cls = ' class="case"' if is_case else ""
        out.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _suite_table_html(rows: Sequence[Sequence[str]]) -> str:
    out = ["<table>", "<tr>" + "".join(f"<th>{_e(h)}</th>" for h in SUITE_HEADER) + "</tr>"]
    for r in rows:
        verdict = f'<b style="color:{verdict_colour(r[3])}">{_e(r[3])}</b>'
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in [*map(_e, r[:3]), verdict, *map(_e, r[4:])]) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _html_figures(figures: Sequence[tuple[FigureSpec, bytes]], heading: str) -> list[str]:
    parts = []
    for spec, png in figures:
        data = base64.b64encode(png).decode("ascii")
        parts += [
            f"<{heading}>{_e(spec.title)}</{heading}>",
            f"<img alt='{_e(spec.title)}' src='data:image/png;base64,{data}'>",
        ]
    return parts


def _plan_rows(case: dict[str, Any]) -> list[list[str]]:
    rows = []
    for s in case["samples"]:
        for role in ("before", "after"):
            p = (s.get("plans") or {}).get(role) or {}
            summary = (s.get("summary") or {}).get(role) or {}
            rows.append(
                [
                    s["label"] if role == "before" else "",
                    f"{s.get('matched_rows'):,}" if role == "before" and s.get("matched_rows") is not None else "",
                    ratio(s["speedup"]) if role == "before" and s.get("speedup") else "",
                    role,
                    number(summary.get("median_ms"), 3),
                    p.get("top_node", "no plan"),
                    ", ".join(p.get("scan_types") or []),
                    ", ".join(p.get("indexes_used") or []) or "none",
                    number(p.get("actual_rows"), 0),
                    f"{p.get('shared_hit_blocks', '-')} / {p.get('shared_read_blocks', '-')}",
                    str(p.get("partitions_scanned", "-")),
                    number(p.get("planning_ms"), 3),
                    number(p.get("execution_ms"), 3),
                ]
            )
    return rows


PLAN_HEADER = [
    "parameter",
    "rows matched",
    "speedup",
    "instance",
    "timed median (ms)",
    "top node",
    "scan types",
    "indexes used",
    "rows (EXPLAIN)",
    "buffers hit / read",
    "partitions",
    "planning (ms)",
    "execution (ms)",
]


def _raw_plans(case: dict[str, Any], plans_dir: Path) -> str:
    out = []
    for s in case["samples"]:
        for role in ("before", "after"):
            path = plans_dir / f"{case['name']}__{s['label']}__{role}.json"
            text = path.read_text() if path.is_file() else f"(no raw plan: plans/{path.name} does not exist)"
            out.append(
                f"<details><summary>raw plan: {_e(s['label'])} / {_e(role)} "
                f"<span class='sub'>({_e(path.name)})</span></summary><pre>{_e(text)}</pre></details>"
            )
    return "\n".join(out)


def _case_section(case: dict[str, Any], plans_dir: Path) -> str:
    check = case.get("plan_check") or {}
    est = case.get("speedup")
    speed = ratio_interval(est["point"], est["low"], est["high"]) if est else "no estimate (failed)"
    plan_line = (
        f"after uses {check['expected_index']} for "
        f"{check['params_using_expected']}/{check['params_planned']} parameters"
        if check.get("expected_index")
        else f"indexes used before: {', '.join(check.get('before_indexes_used') or []) or 'none'}; "
        f"after: {', '.join(check.get('after_indexes_used') or []) or 'none'}"
    )
    server = server_speedup(case)
    server_text = f"; server execution time only: {ratio(server)}" if server else ""
    kind = f"promise {case['promise']}" if case.get("promise") else case["kind"]
    return "\n".join(
        [
            f"<h3 id='case-{_e(case['name'])}'>{_e(case['name'])} <span class='sub'>({_e(kind)})</span></h3>",
            f"<p>speedup {_e(speed)}{_e(server_text)}; {_e(plan_line)}</p>",
            f"<pre>{_e(case.get('sql', ''))}</pre>",
            _html_table(PLAN_HEADER, _plan_rows(case)),
            f"<details><summary>raw EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) plans of {_e(case['name'])}</summary>",
            _raw_plans(case, plans_dir),
            "</details>",
        ]
    )


def html_report(doc: Doc, figures: Sequence[tuple[FigureSpec, bytes]], plans_dir: Path) -> str:
    parts = [
        "<!DOCTYPE html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>Phase 2 benchmark report {_e(doc['run_id'])}</title>",
        f"<style>{CSS}</style></head><body>",
        "<h1>Phase 2 index migration: benchmark report</h1>",
        f"<p class='sub'>{_e(subtitle(doc))}</p>",
        *html_app_section(doc, _html_figures([(s, png) for s, png in figures if s.name in APP_FIGURE_NAMES], "h3")),
        f"<p><b>{_e(headline(doc))}</b></p>",
        "<h2>Verdicts</h2>",
        _verdict_table_html(doc),
        "<h2>Key figures</h2>",
        _html_table(["", ""], key_figures(doc)),
    ]
    found = notes(doc)
    if found:
        parts += ["<h2>Notes</h2>", "<ul>", *[f"<li>{_e(n)}</li>" for n in found], "</ul>"]
    parts += ["<h2>Storage</h2>", _html_table(["", "before", "after", "change"], storage_rows(doc, per_index=True))]
    suites = suite_sections(doc)
    placed = {name for suite in suites for name in suite["figures"]} | {*APP_FIGURE_NAMES, *LOAD_FIGURE_NAMES}
    rest = [(spec, png) for spec, png in figures if spec.name not in placed]
    if rest:
        parts += ["<h2>Figures</h2>", *_html_figures(rest, "h3")]
    parts += html_load_section(
        doc, _html_figures([(s, png) for s, png in figures if s.name in LOAD_FIGURE_NAMES], "h3")
    )
    if suites:
        parts.append("<h2>Suites</h2>")
        for suite in suites:
            failed = suite["status"].startswith("FAILED")
            parts += [
                f"<h3>{_e(suite['name'])}: {_e(suite['title'])}</h3>",
                f"<p class='{'failed' if failed else 'sub'}'>{_e(suite['status'])}</p>",
            ]
            if suite["rows"]:
                parts.append(_suite_table_html(suite["rows"]))
            if suite["notes"]:
                parts += ["<ul>", *[f"<li>{_e(n)}</li>" for n in suite["notes"]], "</ul>"]
            parts += _html_figures([(spec, png) for spec, png in figures if spec.name in suite["figures"]], "h4")
    parts += ["<h2>Plans per case</h2>", "<p class='sub'>One untimed EXPLAIN ANALYZE per parameter and instance.</p>"]
    parts += [_case_section(c, plans_dir) for c in doc["cases"]]
    if doc.get("deviations"):
        parts += ["<h2>Deviations from the design document</h2>", "<ul>"]
        parts += [f"<li>{_e(d)}</li>" for d in doc["deviations"]]
        parts.append("</ul>")
    env = doc["environment"]
    settings = sorted((env.get("settings") or {}).items())
    parts += [
        "<h2>Environment</h2>",
        _html_table(["", ""], environment_rows(doc)),
        "<h3>Server settings</h3>",
        _html_table(["setting", "value"], settings),
        f"<p class='sub'>Results: reports/runs/{_e(doc['run_id'])}/results.json "
        f"(schema {_e(doc['schema_version'])})</p>",
        "</body></html>",
    ]
    return "\n".join(parts)
