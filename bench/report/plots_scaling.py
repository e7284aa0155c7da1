"""The scaling suite's figure: the promises' speedups and the storage overhead against dataset size.

Drawn from doc["suites"]["scaling"] alone; None when the suite did not run (absent, skipped or failed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.core.formatting import percent_change, ratio
from bench.report.figure_style import (
    BAND_COLOUR,
    LIMIT_COLOUR,
    NEUTRAL,
    Doc,
    caption,
    failed_mark,
    grid,
    legend_below,
    log_limits,
    log_ticks,
    new_figure,
    or_nan,
    suite_records,
    verdict_colour,
    verdict_handles,
)


def _rows_label(rows: float) -> str:
    if rows >= 1e6:
        return f"{rows / 1e6:g}M"
    return f"{rows / 1e3:g}k" if rows >= 1e3 else f"{rows:g}"


def _rows_axis(ax: Axes, sizes: Sequence[float]) -> None:
    ax.set_xscale("log")
    ax.set_xlim(min(sizes) / 1.6, max(sizes) * 1.6)
    ax.set_xticks(list(sizes), [_rows_label(s) for s in sizes])
    ax.minorticks_off()
    ax.set_xlabel("dataset size (rows, log scale)", fontsize=8)
    ax.tick_params(labelsize=8)


def scaling(doc: Doc) -> Figure | None:
    records = suite_records(doc, "scaling")
    if records is None or not records["points"]:
        return None
    promises = {p["name"]: p for p in doc.get("targets", {}).get("promises", [])}
    curves = records["curves"]
    speedup_names = [n for n in curves if promises.get(n, {}).get("kind") == "speedup_range" and curves[n]]
    sizes = [p["rows"] for p in records["points"]]
    panels = len(speedup_names) + 1
    cols = 2 if panels > 1 else 1
    rows = math.ceil(panels / cols)
    fig = new_figure((12, 1.6 + 3.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    seen: list[str] = []
    for ax, name in zip(axes.flat, speedup_names, strict=False):
        lo, hi = promises[name]["expected_min"], promises[name]["expected_max"]
        curve = list(curves[name])
        ax.axhspan(lo, hi, color=BAND_COLOUR, alpha=0.13, lw=0)
        ax.axhline(1.0, color="black", lw=0.8, ls=":")
        ax.plot([c["rows"] for c in curve], [or_nan(c["point"]) for c in curve], color="#bdbdbd", lw=0.9)
        for c in curve:
            colour = verdict_colour(c["verdict"])
            seen.append(c["verdict"])
            if c["point"] is None:
                failed_mark(ax, c["rows"], colour)
                continue
            ax.plot([c["rows"]] * 2, [c["low"], c["high"]], color=colour, lw=1.6)
            ax.plot([c["rows"]], [c["point"]], marker="o", ms=6, color=colour, mec="white", mew=0.5)
            ax.annotate(
                f"{ratio(c['point'])} {c['verdict']}",
                (c["rows"], c["point"]),
                xytext=(7, 4),
                textcoords="offset points",
                fontsize=7.5,
                color=colour,
            )
        _rows_axis(ax, sizes)
        ax.set_yscale("log")
        ylo, yhi = log_limits([*(v for c in curve for v in (c["low"], c["high"])), lo, hi, 1.0], 1.4)
        ax.set_ylim(ylo, yhi)
        log_ticks(ax, "y", ylo, yhi, "x")
        grid(ax)
        ax.set_ylabel("speedup before/after (log)", fontsize=8)
        ax.set_title(f"{name}: promised {lo:g}–{hi:g}x", fontsize=9, loc="left")
    _storage_panel(axes.flat[len(speedup_names)], records, promises, sizes, seen)
    for ax in axes.flat[panels:]:
        ax.set_visible(False)
    handles = [
        *verdict_handles(seen),
        Patch(color=BAND_COLOUR, alpha=0.25, label="promised range"),
        Line2D([], [], color=NEUTRAL, marker="s", label="index overhead (reported)"),
    ]
    settings = records["settings"]
    subtitle = (
        f"{caption(doc)}\neach size regenerated with the same knobs and loaded into its own scratch databases; "
        f"{settings['min_rounds']}-{settings['max_rounds']} executions per parameter"
    )
    legend_below(fig, handles, subtitle, ncol=4)
    fig.suptitle("Scaling: promise speedups and storage overhead against dataset size", fontsize=13, fontweight="bold")
    return fig


def _storage_panel(
    ax: Axes, records: dict[str, Any], promises: dict[str, Any], sizes: Sequence[float], seen: list[str]
) -> None:
    limit_promise = next((p for p in promises.values() if p.get("metric") == "storage_overhead_pct"), None)
    limit = limit_promise["max"] if limit_promise else None
    words = {c["rows"]: c["verdict"] for c in records["curves"].get(limit_promise["name"] if limit_promise else "", [])}
    storage = [p["storage"]["storage_overhead_pct"] for p in records["points"]]
    index = [p["storage"]["index_overhead_pct"] for p in records["points"]]
    ax.plot(sizes, index, color=NEUTRAL, marker="s", ms=5, lw=0.9)
    ax.plot(sizes, storage, color="#bdbdbd", lw=0.9)
    for rows, value, idx in zip(sizes, storage, index, strict=True):
        word = words.get(rows, "")
        seen.append(word)
        ax.plot([rows], [value], marker="o", ms=7, color=verdict_colour(word), mec="white", mew=0.5)
        ax.annotate(
            f"storage {percent_change(value)} {word}",
            (rows, value),
            xytext=(7, 4),
            textcoords="offset points",
            fontsize=7.5,
            color=verdict_colour(word),
        )
        ax.annotate(
            f"indexes {percent_change(idx, 0)}",
            (rows, idx),
            xytext=(7, 4),
            textcoords="offset points",
            fontsize=7.5,
            color=NEUTRAL,
        )
    if limit is not None:
        ax.axhline(limit, color=LIMIT_COLOUR, ls="--", lw=1.1)
        ax.text(
            0.01,
            limit,
            f" limit {limit:g}% (storage)",
            transform=ax.get_yaxis_transform(),
            va="bottom",
            fontsize=8,
            color=LIMIT_COLOUR,
        )
    _rows_axis(ax, sizes)
    top = max([*storage, *index, limit or 0])
    ax.set_ylim(min(0, *storage, *index), top * 1.2)
    grid(ax)
    ax.set_ylabel("after vs before (%)", fontsize=8)
    ax.set_title("storage overhead (judged) and index overhead", fontsize=9, loc="left")
