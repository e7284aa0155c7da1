"""Figures of two runs side by side (bench.report.compare): each case's speedup in run A and run B, and storage
per event, so that runs of different dataset sizes share one axis. Built from bench.report.plots' speedup rows
and storage bars.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.core.formatting import percent_change, ratio
from bench.core.verdict_words import VerdictWord
from bench.report.figure_style import BAND_COLOUR, RUN_COLOURS, Doc, caption, figure_axes, log_ticks, titles
from bench.report.plots import (
    SpeedupGroup,
    SpeedupRow,
    draw_bands,
    draw_interval,
    row_labels,
    row_positions,
    speedup_groups,
    storage_bars,
    x_limits,
)


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
                match.rows.append(SpeedupRow(r.label, None, None, None, VerdictWord.NOT_MEASURED, r.pooled))
    n_rows = sum(len(g.rows) + 1 for g in groups_a)
    fig, ax, owned = figure_axes(ax, (11, 1.6 + 0.45 * n_rows))
    row_ys, headings = row_positions(groups_a)
    draw_bands(ax, groups_a, row_ys, headings)
    labels = []
    ys = iter(row_ys)
    for g in groups_a:
        for ra in g.rows:
            y = next(ys)
            rb = rows_b.get((g.name, ra.label))
            for letter, row, offset, colour in (("A", ra, -0.2, RUN_COLOURS[0]), ("B", rb, 0.2, RUN_COLOURS[1])):
                if row is None or row.point is None:
                    missing = VerdictWord.NOT_MEASURED if row is None else row.verdict
                    ax.text(
                        1.1, y + offset, f"{letter}: no estimate ({missing})", va="center", fontsize=7, color=colour
                    )
                    continue
                draw_interval(ax, y + offset, row, colour, "D" if row.pooled else "o", 7)
                right = max(v for v in (row.high, row.point, 1.0) if v)
                ax.text(
                    right * 1.1, y + offset, f"{ratio(row.point)} {row.verdict}", va="center", fontsize=7, color=colour
                )
            labels.append(ra.label)
    ax.axvline(1.0, color="black", lw=0.8, ls=":")
    row_labels(ax, row_ys, labels)
    ax.set_ylim(row_ys[-1] + 0.8, -0.8)
    ax.set_xscale("log")
    lo, hi = x_limits([*groups_a, *groups_b])
    ax.set_xlim(lo, hi)
    log_ticks(ax, "x", lo, hi, "x")
    ax.set_xlabel("speedup = median latency before / after (log scale), point and 95% interval")
    handles = [
        Line2D([], [], marker="o", color=RUN_COLOURS[0], label=run_label(doc_a, "A")),
        Line2D([], [], marker="o", color=RUN_COLOURS[1], label=run_label(doc_b, "B")),
        Patch(color=BAND_COLOUR, alpha=0.25, label="promised range"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3, fontsize=8, frameon=False)
    titles(fig, ax, owned, "Speedup per case: run A vs run B", f"{caption(doc_a)}\n{caption(doc_b)}")
    return fig


def compare_storage(doc_a: Doc, doc_b: Doc, ax: Axes | None = None) -> Figure:
    """Bytes per event, so that runs of different dataset sizes share one axis."""
    fig, ax, owned = figure_axes(ax, (11, 4.6))
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
            note = f"  ({percent_change(st['storage_overhead_pct'])})" if role == "after" else ""
            bars.append((f"{letter} {role}\n{rows:,} rows", per_event, note))
    storage_bars(ax, bars, 1.0, "B/event", sizes_in_legend=False)
    ax.set_xlabel("bytes per event on disk (heap, TOAST and each index, divided by the rows loaded)")
    titles(fig, ax, owned, "Storage per event: run A vs run B", f"{caption(doc_a)}\n{caption(doc_b)}")
    return fig
