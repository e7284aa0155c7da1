""" "Under load": the section of report.md, report.html and the terminal summary for the concurrency suite and the
cold-cache figures, built from the results document alone (doc["suites"]["concurrency"], doc["extra"]["cold_cache"]).

Its content is plain data (tables of text); bench.report.document places it before the suites.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Any

from bench.core.formatting import MISSING, milliseconds, number, percent, ratio_interval
from bench.report.figures import LOAD_FIGURE_NAMES
from bench.report.plots_load import cold_warm_rows, load_records
from bench.report.section_tables import Table, html_tables, markdown_figures, markdown_tables, text_table

Doc = dict[str, Any]
TITLE = "Under load"
ROLES = ("before", "after")


@dataclass(frozen=True)
class LoadSection:
    status: str  # "" when there is something to show, else why not
    headline: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: tuple[str, ...] = LOAD_FIGURE_NAMES


def _x(est: dict[str, Any] | None) -> str:
    return ratio_interval(est["point"], est["low"], est["high"]) if est else MISSING


def _figure(est: dict[str, Any] | None, unit: str = "ms") -> str:
    if not est:
        return "-"
    if unit == "ms":
        return milliseconds(est["point"])
    return f"{est['point']:,.0f}"


def _rate(value: float | None) -> str:
    return number(value, 0)


def _share(value: float | None) -> str:
    return MISSING if value is None else percent(value * 100, 0)


def load_section(doc: Doc) -> LoadSection | None:
    """None when the run has neither the concurrency suite nor cold-cache figures."""
    section = (doc.get("suites") or {}).get("concurrency")
    cold = (doc.get("extra") or {}).get("cold_cache")
    if section is None and cold is None:
        return None
    if section is not None and (section.get("failed") or section.get("skipped")) and cold is None:
        return LoadSection(status=section.get("failed") or f"skipped: {section['skipped']}")
    records = load_records(doc)
    tables: list[Table] = []
    headline: list[str] = []
    if records:
        headline = headline_lines(records, section.get("verdicts") or [] if section else [])
        tables += [reads_table(records), phases_table(records), saturation_table(records), search_table(records)]
        tables.append(evidence_table(records))
    elif section is not None:
        headline.append(f"concurrency suite: {section.get('failed') or 'skipped: ' + str(section.get('skipped'))}")
    if cold is not None:
        if cold.get("skipped"):
            headline.append(f"cold cache: not measured: {cold['skipped']}")
        rows = cold_warm_rows(doc)
        if rows:
            tables.append(cold_warm_table(rows, cold))
    return LoadSection(status="", headline=headline, tables=[t for t in tables if t.rows])


def headline_lines(records: dict[str, Any], verdicts: Sequence[dict[str, Any]]) -> list[str]:
    words = {v["promise"]: v for v in verdicts}
    lines = []
    open_loop = records["phases"].get("open_loop_prepared")
    if open_loop:
        p95 = {r: (open_loop["summary"]["scripts"]["all"].get(r) or {}).get("p95") for r in ROLES}
        verdict = " / ".join(words.get(f"load_read_p95_{r}", {}).get("verdict", "-").upper() for r in ROLES)
        lines.append(
            f"Read P95 at {open_loop['load']['rate']:g} reads/s offered ({open_loop['load']['clients']} clients, the "
            f"application's mix): before {_figure(p95['before'])}, after {_figure(p95['after'])} "
            f"(the specification: < 100 ms: {verdict})."
        )
    search = records.get("ingest_search")
    if search:
        found = {r: search[r]["highest_sustained_events_per_s"] for r in ROLES}
        verdict = " / ".join(words.get(f"load_ingest_{r}", {}).get("verdict", "-").upper() for r in ROLES)
        lines.append(
            f"Highest ingest sustained with read P95 < {search['read_p95_bound_ms']:g} ms: "
            f"before {_rate(found['before'])}, after {_rate(found['after'])} events/s "
            f"(the specification: > 50,000: {verdict})."
        )
    points = (records.get("saturation") or {}).get("points") or []
    if points:
        peaks = {r: max((p.get(r, {}).get("tps") or 0.0 for p in points), default=0.0) for r in ROLES}
        lines.append(
            f"Saturation: at most {_rate(peaks['before'])} (before) and {_rate(peaks['after'])} (after) read "
            f"transactions/s over {', '.join(str(p['clients']) for p in points)} clients."
        )
    cpu = records.get("cpu") or {}
    if cpu.get("driver_share") is not None:
        lines.append(
            f"The driver (pgbench) used {_share(cpu['driver_share'])} of the CPU time it and the server spent; the "
            f"machine was {_share(cpu['machine_busy'])} busy on {cpu['cores']} cores."
        )
    return lines


def reads_table(records: dict[str, Any]) -> Table:
    phase = records["phases"].get("open_loop_prepared")
    if not phase:
        return Table("", [], [])
    scripts = phase["summary"]["scripts"]
    rows = []
    for name, row in scripts.items():
        before, after = row["before"], row["after"]
        rows.append(
            [
                "all (the mix)" if name == "all" else name,
                str(records["mix"].get(name, "")),
                " / ".join(_figure(before.get(k)).replace(" ms", "") for k in ("p50", "p95", "p99", "p99.9")) + " ms",
                " / ".join(_figure(after.get(k)).replace(" ms", "") for k in ("p50", "p95", "p99", "p99.9")) + " ms",
                f"{_figure(before.get('max'))} / {_figure(after.get('max'))}",
                _x(row["p95_speedup"]),
                f"{before.get('late') or 0}+{before.get('skipped')} / {after.get('late') or 0}+{after.get('skipped')}",
            ]
        )
    load = phase["load"]
    caption = (
        f"Open loop, -M {load['protocol']}: {load['rate']:g} reads/s offered by {load['clients']} clients, latency "
        f"counted from each transaction's scheduled start; per instance the median of {records['settings']['rounds']} "
        "rounds of their P50/P95/P99/P99.9; the ratio's interval is a bootstrap over the rounds."
    )
    header = [
        "read",
        "weight",
        "before P50/P95/P99/P99.9",
        "after P50/P95/P99/P99.9",
        "max before / after",
        "P95 before/after",
        "over 100 ms + skipped",
    ]
    return Table(caption, header, rows)


def _pair(row: dict[str, Any], key: str, unit: str = "ms") -> str:
    return f"{_figure(row.get('before', {}).get(key), unit)} / {_figure(row.get('after', {}).get(key), unit)}"


def phases_table(records: dict[str, Any]) -> Table:
    rows = []
    for name, phase in records["phases"].items():
        scripts = phase["summary"]["scripts"].get("all") or {}
        load = phase["load"]
        offered = f"{load['rate']:g}/s" if load.get("rate") else "closed loop"
        ingest = phase["summary"].get("ingest")
        cpu = phase["summary"]["cpu"]
        rows.append(
            [
                name,
                f"{load.get('clients')} clients, {offered}, -M {load.get('protocol')}"
                + (f", ingest {ingest['offered_events_per_s']:,.0f} ev/s" if ingest else ""),
                _pair(scripts, "tps", "n"),
                _pair(scripts, "p95"),
                _pair(scripts, "lag_p95"),
                _x(scripts.get("p95_speedup")),
                _x(scripts.get("tps_ratio")),
                f"{_figure(ingest['before'], 'n')} / {_figure(ingest['after'], 'n')}" if ingest else "-",
                f"{_share((cpu['before']['driver_share'] or {}).get('point'))} / "
                f"{_share((cpu['after']['driver_share'] or {}).get('point'))}",
            ]
        )
    header = [
        "phase",
        "load",
        "reads/s b / a",
        "read P95 b / a",
        "lag P95 b / a",
        "P95 before/after",
        "reads/s after/before",
        "ingest ev/s b / a",
        "driver CPU b / a",
    ]
    return Table("Every phase, medians of its rounds (b: before, a: after).", header, rows)


def saturation_table(records: dict[str, Any]) -> Table:
    saturation = records.get("saturation") or {}
    rows = [
        [
            str(p["clients"]),
            _rate(p.get("before", {}).get("tps")),
            _rate(p.get("after", {}).get("tps")),
            milliseconds(p.get("before", {}).get("p95_ms")),
            milliseconds(p.get("after", {}).get("p95_ms")),
        ]
        for p in saturation.get("points", [])
    ]
    caption = f"Closed loop, one round of {saturation.get('duration_s')} s per instance and client count."
    return Table(caption, ["clients", "reads/s before", "reads/s after", "P95 before", "P95 after"], rows)


def search_table(records: dict[str, Any]) -> Table:
    search = records.get("ingest_search")
    if not search:
        return Table("", [], [])
    rows = []
    for role in ROLES:
        found = search[role]
        steps = "; ".join(
            f"{s['offered_events_per_s']:,.0f}: {'ok' if s['passed'] else s['why']}" for s in found["steps"]
        )
        rows.append(
            [
                role,
                _rate(found["highest_sustained_events_per_s"]),
                _rate(found["lowest_failed_events_per_s"]),
                steps,
            ]
        )
    caption = (
        f"Ingest beside {search['reads_per_s']:g} reads/s: doubling from the target rate until pgbench falls behind "
        f"(schedule lag P95 over {search.get('ingest_lag_ms', 250):g} ms) or the reads' P95 reaches "
        f"{search['read_p95_bound_ms']:g} ms, then halving the interval."
    )
    return Table(caption, ["instance", "highest sustained ev/s", "lowest failed ev/s", "steps (offered ev/s)"], rows)


def _per_round(phase: dict[str, Any], role: str, database: str, key: str) -> float | None:
    values = [
        r["evidence"][database]["database"].get(key)
        for r in phase["rounds"]
        if r["role"] == role and database in r["evidence"]
    ]
    kept = [v for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def evidence_table(records: dict[str, Any]) -> Table:
    rows = []
    for name, phase in records["phases"].items():
        for role in ROLES:
            rounds = [r for r in phase["rounds"] if r["role"] == role]
            if not rounds:
                continue
            wal = [r["evidence"]["readers"].get("wal_bytes") for r in rounds]
            checkpoints = sum(
                r["evidence"]["readers"]["bgwriter"].get("checkpoints_timed", 0)
                + r["evidence"]["readers"]["bgwriter"].get("checkpoints_req", 0)
                for r in rounds
            )
            gin = [(r["evidence"].get("ingest") or {}).get("gin_pending") for r in rounds]
            gin_tuples = [g["pending_tuples"] for g in gin if g]
            read, hit = _per_round(phase, role, "readers", "blks_read"), _per_round(phase, role, "readers", "blks_hit")
            rows.append(
                [
                    name,
                    role,
                    f"{read:,.0f} / {hit:,.0f}" if read is not None and hit is not None else "-",
                    _rate(_per_round(phase, role, "readers", "temp_bytes")),
                    f"{sum(w for w in wal if w) / len(wal) / 2**20:,.1f}" if any(wal) else "-",
                    str(checkpoints),
                    f"{max(gin_tuples):,}" if gin_tuples else "-",
                ]
            )
    caption = (
        "Server evidence per round (mean over the rounds): the measured database's blocks read from outside shared "
        "buffers vs found in them, temporary bytes; WAL MiB (whole server); checkpoints; GIN pending-list tuples of "
        "the ingest copy's data index at the end of a round (largest)."
    )
    header = ["phase", "instance", "blks read / hit", "temp bytes", "WAL MiB", "checkpoints", "GIN pending"]
    return Table(caption, header, rows)


def cold_warm_table(
    rows: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]], cold: dict[str, Any]
) -> Table:
    out = [[label, _x(warm), _x(cold_est)] for label, warm, cold_est in rows]
    caption = (
        f"Speedup before/after with a warm and a cold cache. Cold: {cold.get('state', '')}; "
        f"{cold.get('params_per_case', '-')} parameters per case, {cold.get('restarts', 0)} restarts."
    )
    return Table(caption, ["promise", "warm (95% CI)", "cold (95% CI)"], out)


# --- rendering ----------------------------------------------------------------------------------------------


def markdown_load_section(doc: Doc, figures: Sequence[tuple[str, str]]) -> list[str]:
    section = load_section(doc)
    if section is None:
        return []
    lines = [f"## {TITLE}", ""]
    if section.status:
        return [*lines, f"**{section.status}**", ""]
    lines += [*(f"- {h}" for h in section.headline), ""]
    lines += markdown_tables(section.tables)
    return [*lines, *markdown_figures(figures, section.figures)]


def html_load_section(doc: Doc, figure_html: Sequence[str]) -> list[str]:
    section = load_section(doc)
    if section is None:
        return []
    parts = [f"<h2>{escape(TITLE)}</h2>"]
    if section.status:
        return [*parts, f"<p class='failed'>{escape(section.status)}</p>"]
    parts += ["<ul>", *(f"<li>{escape(h)}</li>" for h in section.headline), "</ul>"]
    parts += html_tables(section.tables)
    return [*parts, *figure_html]


def format_load_section(doc: Doc) -> str:
    """The section for the terminal: the headline and the per-read and cold-vs-warm tables."""
    section = load_section(doc)
    if section is None:
        return ""
    lines = [TITLE.upper()]
    if section.status:
        return "\n".join([*lines, f"  {section.status}"])
    lines += section.headline
    for table in section.tables:
        if table.header[0] in ("read", "promise", "clients"):
            lines += ["", *text_table(table, ruled=False)]
    return "\n".join(lines)
