"""Figures of a run's query suite, drawn from its results document alone (never from the live database): the
speedup of every case against its promise, latency per parameter, speedup against rows matched, and storage.

Each figure stands on its own when pasted into a pull request: a title with units, labelled axes, and a
caption naming the engine, the dataset size and the cache state (bench.report.figure_style, which every figure
module shares). The speedup rows and storage bars here are reused by the two-run comparison
(bench.report.plots_compare); the extra suites' figures live in one module per suite (plots_write_cost, ...),
and bench.report.figures lists every figure in one plain registry.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.core.formatting import MIB, number, percent_change, ratio
from bench.core.verdict_words import VerdictWord
from bench.judge.verdicts import control_threshold, judge_speedup_range
from bench.report.figure_style import (
    AFTER_COLOUR,
    BAND_COLOUR,
    BEFORE_COLOUR,
    TOLERANCE_COLOUR,
    Doc,
    boxplot,
    caption,
    figure_axes,
    legend_below,
    log_ticks,
    new_figure,
    titles,
    verdict_colour,
    verdict_label,
)

# The leading table name repeats on every index; the legend is easier to scan without it.
INDEX_PREFIX = "agent_events_"


# --- speedup rows: shared by the speedup figure and the comparison -----------------------------------------


@dataclass(frozen=True)
class SpeedupRow:
    label: str
    point: float | None
    low: float | None
    high: float | None
    verdict: str
    pooled: bool = False  # the promise's own estimate, over all its cases: what the verdict judges
    server: float | None = None  # geomean over parameters of EXPLAIN ANALYZE execution-time ratios


@dataclass
class SpeedupGroup:
    name: str
    band: tuple[float, float] | None  # expected range (promise) or tolerance band (controls)
    band_label: str
    rows: list[SpeedupRow] = field(default_factory=list)


def server_speedup(case: dict[str, Any]) -> float | None:
    """Server-side speedup: before/after EXPLAIN ANALYZE execution time, geometric mean over parameters.

    One untimed execution per parameter, so it is no estimate to judge by; it shows how much of the user's
    wait (planning, network, decoding rows) the index cannot shorten.
    """
    ratios = []
    for s in case["samples"]:
        plans = s.get("plans") or {}
        before, after = plans.get("before"), plans.get("after")
        if before and after and before.get("execution_ms") and after.get("execution_ms"):
            ratios.append(math.log(before["execution_ms"] / after["execution_ms"]))
    return math.exp(sum(ratios) / len(ratios)) if ratios else None


def _case_row(case: dict[str, Any], verdict: str) -> SpeedupRow:
    est = case.get("speedup") or {}
    return SpeedupRow(
        case["name"], est.get("point"), est.get("low"), est.get("high"), verdict, False, server_speedup(case)
    )


def speedup_groups(doc: Doc) -> list[SpeedupGroup]:
    """Promises in targets order (pooled estimate first, then each case), then the controls."""
    cases = {c["name"]: c for c in doc["cases"]}
    verdicts = {v["promise"]: v for v in doc["verdicts"]}
    targets = doc.get("targets", {})
    groups, placed = [], set()
    for p in targets.get("promises", []):
        if p["kind"] != "speedup_range":
            continue
        lo, hi = p["expected_min"], p["expected_max"]
        group = SpeedupGroup(p["name"], (lo, hi), f"{p['name']}: promised {lo:g}–{hi:g}x")
        v = verdicts.get(p["name"])
        if v:
            group.rows.append(
                SpeedupRow(f"{p['name']} (all cases)", v["point"], v["low"], v["high"], v["verdict"], True)
            )
        for name in p["cases"]:
            if name in cases:
                est = cases[name].get("speedup")
                judged = judge_speedup_range(est["low"], est["high"], lo, hi) if est else VerdictWord.FAILED
                group.rows.append(_case_row(cases[name], judged))
                placed.add(name)
        groups.append(group)
    controls = [c for c in doc["cases"] if c["kind"] == "control"]
    if controls:
        tol = float(targets.get("control_tolerance_pct", 10.0))
        threshold = control_threshold(tol)
        group = SpeedupGroup(
            "controls", (threshold, 1 + tol / 100), f"controls: ±{tol:g}% (regression below {ratio(threshold)})"
        )
        for c in controls:
            group.rows.append(_case_row(c, verdicts.get(c["name"], {}).get("verdict", VerdictWord.FAILED)))
            placed.add(c["name"])
        groups.append(group)
    others = [c for c in doc["cases"] if c["name"] not in placed]
    if others:
        groups.append(
            SpeedupGroup("other cases", None, "cases outside any promise", [_case_row(c, "") for c in others])
        )
    return groups


def row_positions(groups: Sequence[SpeedupGroup]) -> tuple[list[float], list[float]]:
    """y of each row (top to bottom) and of each group's heading, leaving a gap row for the heading."""
    rows, headings, y = [], [], 0.0
    for g in groups:
        headings.append(y)
        y += 1.0
        for _ in g.rows:
            rows.append(y)
            y += 1.0
        y += 0.3
    return rows, headings


def draw_bands(ax: Axes, groups: Sequence[SpeedupGroup], row_ys: list[float], headings: list[float]) -> None:
    i = 0
    for g, head in zip(groups, headings, strict=True):
        top, bottom = head + 0.5, row_ys[i + len(g.rows) - 1] + 0.5
        i += len(g.rows)
        if g.band:
            colour = TOLERANCE_COLOUR if g.name == "controls" else BAND_COLOUR
            ax.fill_betweenx([top, bottom], *g.band, color=colour, alpha=0.15, lw=0)
            for edge in g.band:
                ax.plot([edge, edge], [top, bottom], color=colour, lw=0.8, alpha=0.6)
        ax.text(
            0.005, head, g.band_label, transform=ax.get_yaxis_transform(), fontsize=9, fontweight="bold", va="center"
        )
        if head > 0:
            ax.axhline(head - 0.65, color="#d9d9d9", lw=0.8)


def draw_interval(ax: Axes, y: float, row: SpeedupRow, colour: str, marker: str, size: float) -> None:
    if row.low is not None and row.high is not None:
        # The bootstrap percentile interval need not contain the point: draw it as a segment, not error bars.
        ax.plot([row.low, row.high], [y, y], color=colour, lw=2.2 if row.pooled else 1.6, solid_capstyle="butt")
        for end in (row.low, row.high):
            ax.plot([end, end], [y - 0.18, y + 0.18], color=colour, lw=1.2)
    if row.point is not None:
        ax.plot([row.point], [y], marker=marker, color=colour, ms=size, mec="white", mew=0.6, ls="none", zorder=3)


def row_labels(ax: Axes, ys: list[float], labels: list[str]) -> None:
    ax.set_yticks(ys, labels, fontsize=9)
    for tick, label in zip(ax.get_yticklabels(), labels, strict=True):
        if label.endswith("(all cases)"):
            tick.set_fontweight("bold")


def x_limits(groups: Sequence[SpeedupGroup], extra: Sequence[float] = ()) -> tuple[float, float]:
    values = [1.0, *extra]
    for g in groups:
        values += list(g.band or ())
        for r in g.rows:
            values += [v for v in (r.point, r.low, r.high, r.server) if v]
    return min(values) / 1.5, max(values) * 2.2


def speedups(doc: Doc, ax: Axes | None = None) -> Figure:
    groups = speedup_groups(doc)
    n_rows = sum(len(g.rows) + 1 for g in groups)
    fig, ax, owned = figure_axes(ax, (11, 1.6 + 0.36 * n_rows))
    row_ys, headings = row_positions(groups)
    draw_bands(ax, groups, row_ys, headings)
    labels, verdicts_seen, has_server = [], [], False
    ys = iter(row_ys)
    for g in groups:
        for row in g.rows:
            y = next(ys)
            colour = verdict_colour(row.verdict)
            draw_interval(ax, y, row, colour, "D" if row.pooled else "o", 9 if row.pooled else 7)
            if row.server:
                has_server = True
                ax.plot([row.server], [y], marker="x", color="#252525", ms=6, mew=1.4, ls="none", zorder=4)
            right = max(v for v in (row.high, row.point, row.server, 1.0) if v)
            text = f"{ratio(row.point)}  {row.verdict}" if row.point is not None else f"no estimate: {row.verdict}"
            ax.text(right * 1.12, y, text, va="center", fontsize=8, color=colour)
            labels.append(row.label)
            if row.verdict not in verdicts_seen:
                verdicts_seen.append(row.verdict)
    ax.axvline(1.0, color="black", lw=0.8, ls=":")
    row_labels(ax, row_ys, labels)
    ax.set_ylim(row_ys[-1] + 0.8, -0.8)
    ax.set_xscale("log")
    lo, hi = x_limits(groups)
    ax.set_xlim(lo, hi)
    log_ticks(ax, "x", lo, hi, "x")
    ax.set_xlabel("speedup = median latency before / after (log scale; right of 1x: after is faster)")
    handles: list[Any] = [
        Line2D([], [], marker="o", color=verdict_colour(v), ls="none", label=verdict_label(v))
        for v in verdicts_seen
        if v
    ]
    handles += [
        Line2D([], [], marker="D", color="#636363", ls="none", label="promise, all its cases (judged)"),
        Line2D([], [], marker="o", color="#636363", ls="-", label="case: point and 95% interval"),
    ]
    if has_server:
        handles.append(
            Line2D([], [], marker="x", color="#252525", mew=1.4, ms=6, ls="none", label="server time only (EXPLAIN)")
        )
    handles.append(Patch(color=BAND_COLOUR, alpha=0.25, label="promised range"))
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3, fontsize=8, frameon=False)
    titles(fig, ax, owned, "Speedup of each case, before → after the migration", caption(doc))
    return fig


# --- latency ----------------------------------------------------------------------------------------------
# One panel per case and one pair of boxes per parameter: pooling the parameters of a case would show a
# slow parameter (a session with 600 events) as the "tail" of a fast one; per parameter, the dots beyond the
# whiskers are real tails of repeated executions.


def _latency_range(cases: Sequence[dict[str, Any]]) -> tuple[float, float]:
    values = [v for c in cases for s in c["samples"] for r in ("before", "after") for v in s["latencies_ms"][r] if v]
    # Room on the right for the per-parameter speedup written inside the panel.
    return (min(values) / 1.4, max(values) * 2.5) if values else (0.1, 10.0)


def _latency_panel(ax: Axes, case: dict[str, Any], verdict: str, xlim: tuple[float, float]) -> None:
    samples = sorted(case["samples"], key=lambda s: (s.get("matched_rows") or 0, s["label"]))
    labels = []
    for y, s in enumerate(samples):
        for role, offset, colour in (("before", -0.19, BEFORE_COLOUR), ("after", 0.19, AFTER_COLOUR)):
            values = [float(v) for v in s["latencies_ms"][role] if v is not None]
            if values:
                boxplot(ax, values, y + offset, colour)
        failed = sum(1 for r in ("before", "after") for v in s["latencies_ms"][r] if v is None)
        note = ratio(s["speedup"]) if s.get("speedup") else "no speedup"
        if failed:
            note += f", {failed} failed"
        ax.text(
            0.99,
            y,
            note,
            transform=ax.get_yaxis_transform(),
            ha="right",
            va="center",
            fontsize=8,
            color="#d73027" if failed else "#252525",
        )
        rows = s.get("matched_rows")
        labels.append(f"{s['label']} · {rows:,} row{'' if rows == 1 else 's'}" if rows is not None else s["label"])
    ax.set_yticks(range(len(samples)), labels, fontsize=8)
    ax.set_ylim(len(samples) - 0.45, -0.55)
    ax.set_xscale("log")
    ax.set_xlim(*xlim)
    log_ticks(ax, "x", *xlim, "")
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#ececec", lw=0.6)
    ax.set_axisbelow(True)
    est = case.get("speedup")
    summary = f"{ratio(est['point'])}, {verdict}" if est else verdict
    ax.set_title(f"{case['name']} ({summary})", fontsize=9, loc="left", color=verdict_colour(verdict))


def _case_verdicts(doc: Doc) -> dict[str, str]:
    return {r.label: r.verdict for g in speedup_groups(doc) for r in g.rows if not r.pooled}


def latency_case(doc: Doc, name: str, ax: Axes | None = None) -> Figure:
    """Latency of one case, per parameter, before vs after (log scale)."""
    case = next((c for c in doc["cases"] if c["name"] == name), None)
    if case is None:
        raise KeyError(
            f"no case {name!r} in run {doc['run_id']}: cases are {', '.join(c['name'] for c in doc['cases'])}"
        )
    fig, ax, owned = figure_axes(ax, (7, 1.4 + 0.5 * len(case["samples"])))
    _latency_panel(ax, case, _case_verdicts(doc).get(name, ""), _latency_range([case]))
    ax.set_xlabel("latency of one execution (ms, log scale)")
    titles(fig, ax, owned, f"Latency of {name}, before (grey) vs after (blue)", caption(doc))
    return fig


def latency(doc: Doc) -> Figure:
    """Small multiples: one panel per case (two per row, promise by promise), one box pair per parameter."""
    order = [r.label for g in speedup_groups(doc) for r in g.rows if not r.pooled]
    by_name = {c["name"]: c for c in doc["cases"]}
    cases = [by_name[n] for n in order]
    grid_rows = [cases[i : i + 2] for i in range(0, len(cases), 2)]
    heights = [max(len(c["samples"]) for c in row) + 1.6 for row in grid_rows]
    fig = new_figure((12, 1.4 + 0.3 * sum(heights)))
    axes = fig.subplots(len(grid_rows), 2, gridspec_kw={"height_ratios": heights}, squeeze=False)
    xlim = _latency_range(cases)
    verdicts = _case_verdicts(doc)
    for row, row_axes in zip(grid_rows, axes, strict=True):
        for i, ax in enumerate(row_axes):
            if i < len(row):
                _latency_panel(ax, row[i], verdicts.get(row[i]["name"], ""), xlim)
            else:
                ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("latency of one execution (ms, log scale)", fontsize=9)
    handles = [
        Patch(facecolor=BEFORE_COLOUR, edgecolor="#252525", label="before (old indexes)"),
        Patch(facecolor=AFTER_COLOUR, edgecolor="#252525", label="after (migration applied)"),
        Line2D(
            [],
            [],
            color="black",
            lw=1.3,
            label="median · box: quartiles · whiskers: 1.5 IQR · dots: executions beyond · right: median speedup",
        ),
    ]
    legend_below(fig, handles, caption(doc))
    fig.suptitle(
        "Latency per parameter, before vs after: every timed execution (execute + fetch all rows)",
        fontsize=12,
        fontweight="bold",
    )
    return fig


# --- speedup vs rows matched ------------------------------------------------------------------------------

MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">")


def speedup_vs_rows(doc: Doc, ax: Axes | None = None) -> Figure:
    fig, ax, owned = figure_axes(ax, (11, 6.2))
    promises = [p for p in doc.get("targets", {}).get("promises", []) if p["kind"] == "speedup_range"]
    bands: dict[tuple[float, float], list[str]] = {}
    for p in promises:
        bands.setdefault((p["expected_min"], p["expected_max"]), []).append(p["name"])
    colours = matplotlib.colormaps["tab10"].colors  # type: ignore[attr-defined]
    xs_all, ys_all, clamped, i = [], [], False, 0
    controls_x, controls_y = [], []
    for case in doc["cases"]:
        pts = [
            (s["matched_rows"], s["speedup"])
            for s in case["samples"]
            if s.get("speedup") and s.get("matched_rows") is not None
        ]
        if not pts:
            continue
        clamped = clamped or any(r < 1 for r, _ in pts)
        xs = [max(r, 1) for r, _ in pts]  # a log axis has no 0; an empty result is drawn at 1 row
        ys = [sp for _, sp in pts]
        xs_all += xs
        ys_all += ys
        if case["kind"] == "control":
            controls_x += xs
            controls_y += ys
            continue
        ax.plot(
            xs,
            ys,
            ls="none",
            marker=MARKERS[i % len(MARKERS)],
            color=colours[i % len(colours)],
            ms=7,
            mec="white",
            mew=0.5,
            alpha=0.9,
            label=case["name"],
            zorder=3,
        )
        i += 1
    if controls_x:
        ax.plot(
            controls_x, controls_y, ls="none", marker=".", color="#969696", ms=7, label="controls (all cases)", zorder=2
        )
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    y_values = ys_all + [v for band in bands for v in band] + [1.0]
    ylo, yhi = min(y_values) / 1.4, max(y_values) * 1.4
    ax.set_ylim(ylo, yhi)
    log_ticks(ax, "y", ylo, yhi, "x")
    xlo, xhi = (min(xs_all) / 1.6, max(xs_all) * 1.6) if xs_all else (0.5, 10.0)
    ax.set_xlim(xlo, xhi)
    log_ticks(ax, "x", max(xlo, 0.9), xhi, "")
    for (lo, hi), names in bands.items():
        ax.axhspan(lo, hi, color=BAND_COLOUR, alpha=0.12, lw=0)
        ax.text(
            0.01,
            math.sqrt(lo * hi),
            f"promised {lo:g}–{hi:g}x: {', '.join(names)}",
            transform=ax.get_yaxis_transform(),
            fontsize=8,
            va="center",
            color="#006837",
        )
    ax.grid(color="#ececec", lw=0.6)
    ax.set_axisbelow(True)
    rows_note = " (0 rows drawn at 1)" if clamped else ""
    ax.set_xlabel(f"rows returned by the parameter (log scale){rows_note}")
    ax.set_ylabel("speedup = median before / median after (log)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False, title="case", title_fontsize=9)
    titles(fig, ax, owned, "Speedup of each parameter against the rows it matches", caption(doc))
    return fig


# --- storage ----------------------------------------------------------------------------------------------


def _index_order(storages: Sequence[dict[str, Any]]) -> tuple[list[str], set[str], set[str]]:
    """Indexes of the first bar in its order, then new ones; and which are new and which were dropped.

    Bars come in (before, after) pairs; an index is new when only after-bars have it, dropped when only
    before-bars do.
    """
    befores, afters = storages[0::2], storages[1::2] or storages[:1]
    in_before = {n for s in befores for n in s["indexes_bytes"]}
    in_after = {n for s in afters for n in s["indexes_bytes"]}
    names = list(dict.fromkeys(n for s in storages for n in s["indexes_bytes"]))
    names.sort(key=lambda n: n not in in_before)  # stable: existing indexes first, new ones at the end
    return names, in_after - in_before, in_before - in_after


def _index_colours(names: Sequence[str], new: set[str]) -> dict[str, Any]:
    # tab20c: blues and purples for the indexes that were already there, oranges and greens for new ones.
    palette = matplotlib.colormaps["tab20c"].colors  # type: ignore[attr-defined]
    old_slots = [0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 19]
    new_slots = [4, 5, 6, 7, 8, 9, 10, 11]
    colours, i_old, i_new = {}, 0, 0
    for n in names:
        if n in new:
            colours[n] = palette[new_slots[i_new % len(new_slots)]]
            i_new += 1
        else:
            colours[n] = palette[old_slots[i_old % len(old_slots)]]
            i_old += 1
    return colours


def storage_bars(
    ax: Axes, bars: Sequence[tuple[str, dict[str, Any], str]], scale: float, unit: str, sizes_in_legend: bool = True
) -> None:
    """Stacked horizontal bars: heap, TOAST, then each index; `scale` divides bytes into `unit`."""
    names, new, dropped = _index_order([b[1] for b in bars])
    colour = _index_colours(names, new)
    widest = max(b[1]["total_bytes"] / scale for b in bars)
    for y, (_, st, note) in enumerate(bars):
        segments = [("heap", st["heap_bytes"], "#636363"), ("TOAST", st["toast_bytes"], "#bdbdbd")]
        segments += [(n, st["indexes_bytes"][n], colour[n]) for n in names if n in st["indexes_bytes"]]
        left = 0.0
        for name, size, c in segments:
            width = size / scale
            ax.barh(
                y, width, left=left, color=c, edgecolor="white", lw=0.6, height=0.6, hatch="//" if name in new else None
            )
            if width > 0.12 * widest and name in ("heap", "TOAST"):
                ax.text(
                    left + width / 2,
                    y,
                    f"{name}\n{number(width)} {unit}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if name == "heap" else "black",
                )
            left += width
        ax.text(left + widest * 0.01, y, f"{number(left)} {unit}{note}", va="center", fontsize=9)
    ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontsize=9)
    ax.set_ylim(len(bars) - 0.4, -0.6)
    ax.set_xlim(0, widest * 1.3)
    handles: list[Any] = [Patch(color="#636363", label="heap"), Patch(color="#bdbdbd", label="TOAST")]
    for n in names:
        size = next(b[1]["indexes_bytes"][n] for b in reversed(bars) if n in b[1]["indexes_bytes"]) / scale
        tag = " (new)" if n in new else " (dropped)" if n in dropped else ""
        label = f"{n.removeprefix(INDEX_PREFIX)}{tag}" + (f": {number(size)} {unit}" if sizes_in_legend else "")
        handles.append(Patch(facecolor=colour[n], hatch="//" if n in new else None, edgecolor="white", label=label))
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        title=f"heap, TOAST, indexes ({INDEX_PREFIX}…)",
        title_fontsize=8,
    )
    ax.grid(axis="x", color="#ececec", lw=0.6)
    ax.set_axisbelow(True)


def storage(doc: Doc, ax: Axes | None = None) -> Figure:
    st = doc["storage"]
    fig, ax, owned = figure_axes(ax, (11, 3.9))
    storage_bars(
        ax,
        [("before", st["before"], ""), ("after", st["after"], f"  ({percent_change(st['storage_overhead_pct'])})")],
        MIB,
        "MiB",
    )
    ax.set_xlabel("size on disk (MiB), summed over every partition or chunk")
    verdict = next((v for v in doc["verdicts"] if v["kind"] == "max" and "storage" in v["promise"]), None)
    limit = f"; promise: at most +{verdict['bound']:g}%, {verdict['verdict'].upper()}" if verdict else ""
    titles(
        fig,
        ax,
        owned,
        f"Storage of agent_events: {percent_change(st['storage_overhead_pct'])} in total{limit} · indexes "
        f"{percent_change(st['index_overhead_pct'])}",
        caption(doc),
    )
    return fig
