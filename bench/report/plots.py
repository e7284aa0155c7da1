"""Figures of a run, drawn from its results document alone (never from the live database).

Each figure stands on its own when pasted into a pull request: a title with units, labelled axes, and a
caption naming the engine, the dataset size and the cache state. Figures are built with matplotlib's object
API on the Agg canvas: no pyplot state to leak or close, and the notebook draws the very same functions.

The figures of the extra suites (`doc["suites"][name]`) live in bench.report.plots_suites; bench.report.figures
lists every figure in one plain registry. A figure function returns None when its section is absent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

from bench.judge.verdicts import control_threshold, judge_speedup_range

Doc = dict[str, Any]

DPI = 120
BEFORE_COLOUR = "#8c8c8c"
AFTER_COLOUR = "#2c7fb8"
RUN_COLOURS = ("#2c7fb8", "#e6550d")  # run A, run B in comparisons
BAND_COLOUR = "#1a9850"
TOLERANCE_COLOUR = "#969696"
# Verdict words of bench.judge.verdicts, by what they mean for the migration.
VERDICT_COLOURS = {
    "within": "#1a9850",
    "ok": "#1a9850",
    "met": "#1a9850",
    "above": "#2166ac",
    "improved": "#2166ac",
    "inconclusive": "#e08214",
    "below": "#d73027",
    "regression": "#d73027",
    "not met": "#d73027",
    "failed": "#4d4d4d",
}
VERDICT_MEANINGS = {
    "within": "within: interval inside the promise",
    "above": "above: faster than promised",
    "below": "below: interval under the promise",
    "inconclusive": "inconclusive: interval crosses a bound",
    "ok": "ok: no slowdown beyond tolerance",
    "improved": "improved: control got faster",
    "regression": "regression: slower beyond tolerance",
    "failed": "failed: no estimate",
    "not measured": "not measured in this run",
}
# The leading table name repeats on every index; the legend is easier to scan without it.
INDEX_PREFIX = "agent_events_"


# --- shared layout ----------------------------------------------------------------------------------------


def caption(doc: Doc) -> str:
    """Engine, dataset size and cache state: what a reader needs to know before trusting a figure."""
    cache = str(doc.get("measurement", {}).get("cache_state", "")).split(":", 1)[0] or "unknown"
    return f"{doc['engine']['label']} · {int(doc['dataset']['rows']):,} rows · {cache} cache · run {doc['run_id']}"


def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    if ax is not None:
        fig = ax.get_figure()
        assert isinstance(fig, Figure)
        return fig, ax, False
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.add_subplot(), True


def _titles(fig: Figure, ax: Axes, owned: bool, title: str, subtitle: str) -> None:
    # On a figure of its own the title goes above everything and the caption under it; on a caller's axes
    # both go into that axes' title, so a grid of figures in the notebook stays readable.
    if owned:
        fig.suptitle(title, fontsize=13, fontweight="bold")
        ax.set_title(subtitle, fontsize=9, color="#404040")
    else:
        ax.set_title(f"{title}\n{subtitle}", fontsize=9)


def _log_ticks(ax: Axes, axis: str, low: float, high: float, unit: str) -> None:
    """Plain labels (0.5x, 2x, 10 ms) on a log axis: readers should not have to decode 10^-1."""
    decades = math.log10(high / low)
    mantissas = (1, 2, 5) if decades <= 4 else (1,)
    ticks = [
        m * 10.0**e
        for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for m in mantissas
        if low <= m * 10.0**e <= high
    ]
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_ticklabels([f"{t:g}{unit}" for t in ticks])
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())


def _fmt_x(value: float) -> str:
    return f"{value:.0f}x" if value >= 100 else f"{value:.3g}x"


def _verdict_colour(verdict: str | None) -> str:
    return VERDICT_COLOURS.get(verdict or "failed", "#4d4d4d")


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
                judged = judge_speedup_range(est["low"], est["high"], lo, hi) if est else "failed"
                group.rows.append(_case_row(cases[name], judged))
                placed.add(name)
        groups.append(group)
    controls = [c for c in doc["cases"] if c["kind"] == "control"]
    if controls:
        tol = float(targets.get("control_tolerance_pct", 10.0))
        threshold = control_threshold(tol)
        group = SpeedupGroup(
            "controls", (threshold, 1 + tol / 100), f"controls: ±{tol:g}% (regression below {threshold:.3g}x)"
        )
        for c in controls:
            group.rows.append(_case_row(c, verdicts.get(c["name"], {}).get("verdict", "failed")))
            placed.add(c["name"])
        groups.append(group)
    others = [c for c in doc["cases"] if c["name"] not in placed]
    if others:
        groups.append(
            SpeedupGroup("other cases", None, "cases outside any promise", [_case_row(c, "") for c in others])
        )
    return groups


def _row_positions(groups: Sequence[SpeedupGroup]) -> tuple[list[float], list[float]]:
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


def _draw_bands(ax: Axes, groups: Sequence[SpeedupGroup], row_ys: list[float], headings: list[float]) -> None:
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


def _interval(ax: Axes, y: float, row: SpeedupRow, colour: str, marker: str, size: float) -> None:
    if row.low is not None and row.high is not None:
        # The bootstrap percentile interval need not contain the point: draw it as a segment, not error bars.
        ax.plot([row.low, row.high], [y, y], color=colour, lw=2.2 if row.pooled else 1.6, solid_capstyle="butt")
        for end in (row.low, row.high):
            ax.plot([end, end], [y - 0.18, y + 0.18], color=colour, lw=1.2)
    if row.point is not None:
        ax.plot([row.point], [y], marker=marker, color=colour, ms=size, mec="white", mew=0.6, ls="none", zorder=3)


def _row_labels(ax: Axes, ys: list[float], labels: list[str]) -> None:
    ax.set_yticks(ys, labels, fontsize=9)
    for tick, label in zip(ax.get_yticklabels(), labels, strict=True):
        if label.endswith("(all cases)"):
            tick.set_fontweight("bold")


def _x_limits(groups: Sequence[SpeedupGroup], extra: Sequence[float] = ()) -> tuple[float, float]:
    values = [1.0, *extra]
    for g in groups:
        values += list(g.band or ())
        for r in g.rows:
            values += [v for v in (r.point, r.low, r.high, r.server) if v]
    return min(values) / 1.5, max(values) * 2.2


def speedups(doc: Doc, ax: Axes | None = None) -> Figure:
    groups = speedup_groups(doc)
    n_rows = sum(len(g.rows) + 1 for g in groups)
    fig, ax, owned = _axes(ax, (11, 1.6 + 0.36 * n_rows))
    row_ys, headings = _row_positions(groups)
    _draw_bands(ax, groups, row_ys, headings)
    labels, verdicts_seen, has_server = [], [], False
    ys = iter(row_ys)
    for g in groups:
        for row in g.rows:
            y = next(ys)
            colour = _verdict_colour(row.verdict)
            _interval(ax, y, row, colour, "D" if row.pooled else "o", 9 if row.pooled else 7)
            if row.server:
                has_server = True
                ax.plot([row.server], [y], marker="x", color="#252525", ms=6, mew=1.4, ls="none", zorder=4)
            right = max(v for v in (row.high, row.point, row.server, 1.0) if v)
            text = f"{_fmt_x(row.point)}  {row.verdict}" if row.point is not None else f"no estimate: {row.verdict}"
            ax.text(right * 1.12, y, text, va="center", fontsize=8, color=colour)
            labels.append(row.label)
            if row.verdict not in verdicts_seen:
                verdicts_seen.append(row.verdict)
    ax.axvline(1.0, color="black", lw=0.8, ls=":")
    _row_labels(ax, row_ys, labels)
    ax.set_ylim(row_ys[-1] + 0.8, -0.8)
    ax.set_xscale("log")
    lo, hi = _x_limits(groups)
    ax.set_xlim(lo, hi)
    _log_ticks(ax, "x", lo, hi, "x")
    ax.set_xlabel("speedup = median latency before / after (log scale; right of 1x: after is faster)")
    handles: list[Any] = [
        Line2D([], [], marker="o", color=_verdict_colour(v), ls="none", label=VERDICT_MEANINGS.get(v, v))
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
    _titles(fig, ax, owned, "Speedup of each case, before → after the migration", caption(doc))
    return fig


# --- latency ----------------------------------------------------------------------------------------------
# One panel per case and one pair of boxes per parameter: pooling the parameters of a case would show a
# slow parameter (a session with 600 events) as the "tail" of a fast one; per parameter, the dots beyond the
# whiskers are real tails of repeated executions.


def _boxplot(ax: Axes, data: list[float], position: float, colour: str) -> None:
    horizontal: dict[str, Any] = (
        {"orientation": "horizontal"}
        if tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10)
        else {"vert": False}
    )
    ax.boxplot(
        [data],
        positions=[position],
        widths=0.34,
        patch_artist=True,
        manage_ticks=False,
        boxprops={"facecolor": colour, "edgecolor": "#252525", "lw": 0.7},
        medianprops={"color": "black", "lw": 1.3},
        whiskerprops={"color": "#252525", "lw": 0.7},
        capprops={"color": "#252525", "lw": 0.7},
        flierprops={"marker": ".", "ms": 3.5, "mfc": colour, "mec": colour},
        **horizontal,
    )


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
                _boxplot(ax, values, y + offset, colour)
        failed = sum(1 for r in ("before", "after") for v in s["latencies_ms"][r] if v is None)
        note = f"{s['speedup']:.2f}x" if s.get("speedup") else "no speedup"
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
    _log_ticks(ax, "x", *xlim, "")
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="#ececec", lw=0.6)
    ax.set_axisbelow(True)
    est = case.get("speedup")
    summary = f"{_fmt_x(est['point'])}, {verdict}" if est else verdict
    ax.set_title(f"{case['name']} ({summary})", fontsize=9, loc="left", color=_verdict_colour(verdict))


def _case_verdicts(doc: Doc) -> dict[str, str]:
    return {r.label: r.verdict for g in speedup_groups(doc) for r in g.rows if not r.pooled}


def latency_case(doc: Doc, name: str, ax: Axes | None = None) -> Figure:
    """Latency of one case, per parameter, before vs after (log scale)."""
    case = next((c for c in doc["cases"] if c["name"] == name), None)
    if case is None:
        raise KeyError(
            f"no case {name!r} in run {doc['run_id']}: cases are {', '.join(c['name'] for c in doc['cases'])}"
        )
    fig, ax, owned = _axes(ax, (7, 1.4 + 0.5 * len(case["samples"])))
    _latency_panel(ax, case, _case_verdicts(doc).get(name, ""), _latency_range([case]))
    ax.set_xlabel("latency of one execution (ms, log scale)")
    _titles(fig, ax, owned, f"Latency of {name}, before (grey) vs after (blue)", caption(doc))
    return fig


def latency(doc: Doc) -> Figure:
    """Small multiples: one panel per case (two per row, promise by promise), one box pair per parameter."""
    order = [r.label for g in speedup_groups(doc) for r in g.rows if not r.pooled]
    by_name = {c["name"]: c for c in doc["cases"]}
    cases = [by_name[n] for n in order]
    grid_rows = [cases[i : i + 2] for i in range(0, len(cases), 2)]
    heights = [max(len(c["samples"]) for c in row) + 1.6 for row in grid_rows]
    fig = Figure(figsize=(12, 1.4 + 0.3 * sum(heights)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
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
    # The caption is the legend's title: two "outside" elements on one edge would overlap.
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=3,
        fontsize=8,
        frameon=False,
        title=caption(doc),
        title_fontsize=9,
    )
    fig.suptitle(
        "Latency per parameter, before vs after: every timed execution (execute + fetch all rows)",
        fontsize=12,
        fontweight="bold",
    )
    return fig


# --- speedup vs rows matched ------------------------------------------------------------------------------

MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">")


def speedup_vs_rows(doc: Doc, ax: Axes | None = None) -> Figure:
    fig, ax, owned = _axes(ax, (11, 6.2))
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
    _log_ticks(ax, "y", ylo, yhi, "x")
    xlo, xhi = (min(xs_all) / 1.6, max(xs_all) * 1.6) if xs_all else (0.5, 10.0)
    ax.set_xlim(xlo, xhi)
    _log_ticks(ax, "x", max(xlo, 0.9), xhi, "")
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
    _titles(fig, ax, owned, "Speedup of each parameter against the rows it matches", caption(doc))
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


def _storage_bars(
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
                    f"{name}\n{_size_text(width)} {unit}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if name == "heap" else "black",
                )
            left += width
        ax.text(left + widest * 0.01, y, f"{_size_text(left)} {unit}{note}", va="center", fontsize=9)
    ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontsize=9)
    ax.set_ylim(len(bars) - 0.4, -0.6)
    ax.set_xlim(0, widest * 1.3)
    handles: list[Any] = [Patch(color="#636363", label="heap"), Patch(color="#bdbdbd", label="TOAST")]
    for n in names:
        size = next(b[1]["indexes_bytes"][n] for b in reversed(bars) if n in b[1]["indexes_bytes"]) / scale
        tag = " (new)" if n in new else " (dropped)" if n in dropped else ""
        label = f"{n.removeprefix(INDEX_PREFIX)}{tag}" + (f": {_size_text(size)} {unit}" if sizes_in_legend else "")
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


def _size_text(value: float) -> str:
    """Three significant figures without scientific notation: 8.47, 99.5, 1,258."""
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def storage(doc: Doc, ax: Axes | None = None) -> Figure:
    st = doc["storage"]
    fig, ax, owned = _axes(ax, (11, 3.9))
    _storage_bars(
        ax,
        [("before", st["before"], ""), ("after", st["after"], f"  ({_pct(st['storage_overhead_pct'])})")],
        2**20,
        "MiB",
    )
    ax.set_xlabel("size on disk (MiB), summed over every partition or chunk")
    verdict = next((v for v in doc["verdicts"] if v["kind"] == "max" and "storage" in v["promise"]), None)
    limit = f"; promise: at most +{verdict['bound']:g}%, {verdict['verdict'].upper()}" if verdict else ""
    _titles(
        fig,
        ax,
        owned,
        f"Storage of agent_events: {_pct(st['storage_overhead_pct'])} in total{limit} · indexes "
        f"{_pct(st['index_overhead_pct'])}",
        caption(doc),
    )
    return fig


# --- comparison of two runs -------------------------------------------------------------------------------


def run_label(doc: Doc, letter: str) -> str:
    return f"{letter}: {int(doc['dataset']['rows']):,} rows, run {doc['run_id']}"


def compare_speedups(doc_a: Doc, doc_b: Doc, ax: Axes | None = None) -> Figure:
    """Each case's speedup and interval in run A and run B, one above the other."""
    groups_a, groups_b = speedup_groups(doc_a), speedup_groups(doc_b)
    rows_b = {(g.name, r.label): r for g in groups_b for r in g.rows}
    for g in groups_b:  # cases only B measured still get a row
        match = next((ga for ga in groups_a if ga.name == g.name), None)
        if match is None:
            groups_a.append(SpeedupGroup(g.name, g.band, g.band_label, []))
            match = groups_a[-1]
        for r in g.rows:
            if all(r.label != ra.label for ra in match.rows):
                match.rows.append(SpeedupRow(r.label, None, None, None, "not measured", r.pooled))
    n_rows = sum(len(g.rows) + 1 for g in groups_a)
    fig, ax, owned = _axes(ax, (11, 1.6 + 0.45 * n_rows))
    row_ys, headings = _row_positions(groups_a)
    _draw_bands(ax, groups_a, row_ys, headings)
    labels = []
    ys = iter(row_ys)
    for g in groups_a:
        for ra in g.rows:
            y = next(ys)
            rb = rows_b.get((g.name, ra.label))
            for letter, row, offset, colour in (("A", ra, -0.2, RUN_COLOURS[0]), ("B", rb, 0.2, RUN_COLOURS[1])):
                if row is None or row.point is None:
                    missing = "not measured" if row is None else row.verdict
                    ax.text(
                        1.1, y + offset, f"{letter}: no estimate ({missing})", va="center", fontsize=7, color=colour
                    )
                    continue
                _interval(ax, y + offset, row, colour, "D" if row.pooled else "o", 7)
                right = max(v for v in (row.high, row.point, 1.0) if v)
                ax.text(
                    right * 1.1, y + offset, f"{_fmt_x(row.point)} {row.verdict}", va="center", fontsize=7, color=colour
                )
            labels.append(ra.label)
    ax.axvline(1.0, color="black", lw=0.8, ls=":")
    _row_labels(ax, row_ys, labels)
    ax.set_ylim(row_ys[-1] + 0.8, -0.8)
    ax.set_xscale("log")
    lo, hi = _x_limits([*groups_a, *groups_b])
    ax.set_xlim(lo, hi)
    _log_ticks(ax, "x", lo, hi, "x")
    ax.set_xlabel("speedup = median latency before / after (log scale), point and 95% interval")
    handles = [
        Line2D([], [], marker="o", color=RUN_COLOURS[0], label=run_label(doc_a, "A")),
        Line2D([], [], marker="o", color=RUN_COLOURS[1], label=run_label(doc_b, "B")),
        Patch(color=BAND_COLOUR, alpha=0.25, label="promised range"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3, fontsize=8, frameon=False)
    _titles(fig, ax, owned, "Speedup per case: run A vs run B", f"{caption(doc_a)}\n{caption(doc_b)}")
    return fig


def compare_storage(doc_a: Doc, doc_b: Doc, ax: Axes | None = None) -> Figure:
    """Bytes per event, so that runs of different dataset sizes share one axis."""
    fig, ax, owned = _axes(ax, (11, 4.6))
    bars = []
    for doc, letter in ((doc_a, "A"), (doc_b, "B")):
        rows = int(doc["dataset"]["rows"])
        st = doc["storage"]
        for role in ("before", "after"):
            per_event = {
                **st[role],
                "heap_bytes": st[role]["heap_bytes"] / rows,
                "toast_bytes": st[role]["toast_bytes"] / rows,
                "indexes_bytes": {k: v / rows for k, v in st[role]["indexes_bytes"].items()},
                "total_bytes": st[role]["total_bytes"] / rows,
            }
            note = f"  ({_pct(st['storage_overhead_pct'])})" if role == "after" else ""
            bars.append((f"{letter} {role}\n{rows:,} rows", per_event, note))
    _storage_bars(ax, bars, 1.0, "B/event", sizes_in_legend=False)
    ax.set_xlabel("bytes per event on disk (heap, TOAST and each index, divided by the rows loaded)")
    _titles(fig, ax, owned, "Storage per event: run A vs run B", f"{caption(doc_a)}\n{caption(doc_b)}")
    return fig
