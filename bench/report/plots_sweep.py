"""The sweep suite's figures: each promise's speedup as a curve over the shape of the data (rows matched,
query window), and the P95 latency of time-range queries against the query window.

Drawn from doc["suites"]["sweep"] alone; None when the suite did not run (absent, skipped or failed).
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.core.formatting import milliseconds
from bench.report.figure_style import (
    AFTER_COLOUR,
    BAND_COLOUR,
    BEFORE_COLOUR,
    LIMIT_COLOUR,
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
    suite_verdicts,
    verdict_colour,
    verdict_handles,
)

HOUR_LABELS = {1.0: "1 h", 24.0: "1 day", 168.0: "1 week", 720.0: "30 days"}


def _is_window(dimension: str) -> bool:
    return dimension.endswith("_query_window")


def _sweep_panel(ax: Axes, curve: dict[str, Any], word: str) -> list[str]:
    lo_band, hi_band = curve["expected_min"], curve["expected_max"]
    points = list(curve["points"])
    xs = [max(p["x"], 1.0) for p in points]  # a log axis has no 0
    ax.axhspan(lo_band, hi_band, color=BAND_COLOUR, alpha=0.13, lw=0)
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.plot(xs, [or_nan(p["speedup"]) for p in points], color="#bdbdbd", lw=0.8, zorder=1)
    judgements = []
    for x, p in zip(xs, points, strict=True):
        colour = verdict_colour(p["judgement"])
        judgements.append(p["judgement"])
        if p["speedup"] is None:
            failed_mark(ax, x, colour)
            continue
        ax.plot([x, x], [p["low"], p["high"]], color=colour, lw=1.4)
        ax.plot([x], [p["speedup"]], marker="o", ms=5, color=colour, mec="white", mew=0.5, zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ylo, yhi = log_limits([*(v for p in points for v in (p["low"], p["high"])), lo_band, hi_band, 1.0], 1.4)
    ax.set_ylim(ylo, yhi)
    log_ticks(ax, "y", ylo, yhi, "x")
    if _is_window(curve["dimension"]):
        hours = sorted(set(xs))
        ax.set_xlim(hours[0] / 2, hours[-1] * 2)
        ax.set_xticks(hours, [HOUR_LABELS.get(h, f"{h:g} h") for h in hours])
        ax.minorticks_off()
    else:
        xlo, xhi = min(xs) / 1.6, max(xs) * 1.6
        ax.set_xlim(xlo, xhi)
        log_ticks(ax, "x", max(xlo, 0.9), xhi, "")
    ax.tick_params(labelsize=8)
    grid(ax)
    ax.set_xlabel(f"{curve['x_label']} (log)", fontsize=8)
    ax.set_title(
        f"{curve['promise']} by {curve['x_label']}: {word.upper()} (promised {lo_band:g}–{hi_band:g}x)\n"
        + textwrap.fill(curve["statement"], 78),
        fontsize=8,
        loc="left",
        color=verdict_colour(word),
    )
    return judgements


def sweep_curves(doc: Doc) -> Figure | None:
    records = suite_records(doc, "sweep")
    if records is None or not records["curves"]:
        return None
    curves = records["curves"]
    verdicts = suite_verdicts(doc, "sweep")
    rows = math.ceil(len(curves) / 2)
    fig = new_figure((13, 1.4 + 3.6 * rows))
    axes = fig.subplots(rows, 2, squeeze=False)
    seen: list[str] = []
    for ax, curve in zip(axes.flat, curves, strict=False):
        word = verdicts.get(f"{curve['promise']}/{curve['dimension']}", {}).get("verdict", "")
        seen += _sweep_panel(ax, curve, word)
    for ax in axes.flat[len(curves) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("speedup before/after (log)", fontsize=8)
    handles = [
        *verdict_handles(seen),
        Line2D([], [], color="#636363", marker="o", label="point: geomean of its parameters, 95% CI"),
        Patch(color=BAND_COLOUR, alpha=0.25, label="promised range"),
    ]
    settings = records["settings"]
    subtitle = (
        f"{caption(doc)}\neach point timed on both instances interleaved, {settings['min_rounds']}-"
        f"{settings['max_rounds']} executions after {settings['warmup']} warm-up(s); panel title: the curve's verdict"
    )
    legend_below(fig, handles, subtitle, ncol=5)
    fig.suptitle("Where the speedups hold: speedup against the shape of the data", fontsize=13, fontweight="bold")
    return fig


def sweep_p95(doc: Doc) -> Figure | None:
    records = suite_records(doc, "sweep")
    points = [p for p in (records or {}).get("points", []) if _is_window(p["dimension"])]
    if records is None or not points:
        return None
    verdicts = suite_verdicts(doc, "sweep")
    bound = next((v["bound"] for v in verdicts.values() if v["promise"].startswith("time_range_p95/")), 100.0)
    fig = new_figure((10, 5.8))
    ax = fig.add_subplot()
    markers: dict[str, str] = {}
    for p in points:
        markers.setdefault(p["dimension"], "os"[len(markers) % 2])
    series: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    for p in points:
        entity = p["label"].split("|", 1)[-1]
        for role in ("before", "after"):
            value = (p.get("p95_ms") or {}).get(role)
            if value is not None and not p["failed"]:
                series.setdefault((p["dimension"], entity, role), []).append((p["x"], value))
    for (dimension, _, role), xy in series.items():
        xy.sort()
        colour = AFTER_COLOUR if role == "after" else BEFORE_COLOUR
        ax.plot(
            [a for a, _ in xy], [b for _, b in xy], marker=markers[dimension], color=colour, ms=5, lw=0.8, alpha=0.85
        )
    ax.axhline(bound, color=LIMIT_COLOUR, ls="--", lw=1.1)
    ax.text(
        0.01,
        bound * 1.08,
        f"specification: P95 < {bound:g} ms",
        transform=ax.get_yaxis_transform(),
        color=LIMIT_COLOUR,
        fontsize=8,
    )
    windows = {w["hours"]: w["label"] for w in records.get("windows", [])}
    for hours, label in windows.items():
        v = verdicts.get(f"time_range_p95/{label}")
        if v:
            ax.text(
                hours,
                0.97,
                f"{v['verdict'].upper()}\nworst after\n{milliseconds(v['point'])}"
                if v["point"]
                else v["verdict"].upper(),
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="top",
                fontsize=8,
                color=verdict_colour(v["verdict"]),
                fontweight="bold",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    hours = sorted(windows) or sorted({p["x"] for p in points})
    ax.set_xlim(hours[0] / 2, hours[-1] * 2)
    ax.set_xticks(hours, [HOUR_LABELS.get(h, f"{h:g} h") for h in hours])
    ax.minorticks_off()
    values = [b for xy in series.values() for _, b in xy]
    ylo, yhi = log_limits([*values, bound], 1.5)
    yhi *= 6  # room for the verdicts at the top
    ax.set_ylim(ylo, yhi)
    log_ticks(ax, "y", ylo, yhi, " ms")
    grid(ax)
    ax.set_xlabel("query window: how far back the timeline reaches (log scale)")
    ax.set_ylabel("P95 latency of one entity (ms, log scale)")
    handles = [
        Line2D([], [], color=BEFORE_COLOUR, marker="o", label="before"),
        Line2D([], [], color=AFTER_COLOUR, marker="o", label="after (judged)"),
        *(
            Line2D([], [], color="#525252", marker=m, ls="none", label=f"{d.removesuffix('_query_window')} timeline")
            for d, m in markers.items()
        ),
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        frameon=False,
        title="line: one entity",
        title_fontsize=8,
    )
    fig.suptitle("P95 latency of time-range queries against the query window", fontsize=13, fontweight="bold")
    settings = records["settings"]
    ax.set_title(
        f"{caption(doc)}\nP95 of {settings['min_rounds']}-{settings['max_rounds']} executions per entity, "
        "interpolated; verdicts at the top judge the worst after",
        fontsize=9,
        color="#404040",
    )
    return fig
