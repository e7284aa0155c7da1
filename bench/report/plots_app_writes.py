"""The figure of the application's writes (doc["suites"]["app_writes"]), drawn from the results document alone.

Left: time per statement of each route statement, before vs after, with the 95% interval and the verdict on
before/after. Right: database time per ingest unit of the workload (1M events at the collector's batch size).
None when the suite did not run.
"""

from __future__ import annotations

from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bench.core.formatting import ratio_interval
from bench.judge.app_workload import per_text
from bench.report.figure_style import (
    AFTER_COLOUR,
    BEFORE_COLOUR,
    caption,
    grid,
    legend_below,
    new_figure,
    suite_records,
    suite_verdicts,
    verdict_colour,
)

Doc = dict[str, Any]
ROLES = (("before", BEFORE_COLOUR, -0.2), ("after", AFTER_COLOUR, 0.2))
LABELS = {
    "app_ingest_batch": "events createMany\n{rows:,} rows",
    "app_ingest_sessions": "sessions createMany\n(batches of {rows:,})",
    "app_ingest_one": "create one event\n(INSERT … RETURNING)",
}


def _bars(ax: Axes, x: int, est: dict[str, Any], scale: float) -> float:
    """A before and an after bar with their intervals; returns the top of the higher interval."""
    for role, colour, offset in ROLES:
        value = est[f"{role}_ms"] * scale
        low, high = est[f"{role}_low"] * scale, est[f"{role}_high"] * scale
        ax.bar(x + offset, value, width=0.36, color=colour, edgecolor="#252525", lw=0.6)
        ax.errorbar(x + offset, value, yerr=[[max(value - low, 0)], [max(high - value, 0)]], color="black", lw=0.8)
    return float(max(est["before_high"], est["after_high"]) * scale)


def _ratio_label(ax: Axes, x: int, top: float, est: dict[str, Any], word: str) -> None:
    ax.text(
        x,
        top * 1.04,
        f"{ratio_interval(est['speedup'], est['low'], est['high'])}\n{word}",
        ha="center",
        va="bottom",
        fontsize=7.5,
        color=verdict_colour(word),
        fontweight="bold",
    )


def ingest(doc: Doc) -> Figure | None:
    records = suite_records(doc, "app_writes")
    if records is None or not records.get("variants"):
        return None
    verdicts = suite_verdicts(doc, "app_writes")
    units = {n: u for n, u in (records.get("units") or {}).items() if u.get("estimate")}
    fig = new_figure((11.5 if units else 9.0, 5.2))
    axes = fig.subplots(1, 2, width_ratios=[3, 1], squeeze=False)[0] if units else [fig.add_subplot()]
    ax = axes[0]
    keys = [k for k in records["variants"] if records["variants"][k].get("per_statement")]
    keys.sort(key=lambda k: (records["variants"][k]["case"] == "app_ingest_one", k.partition("@")[2].zfill(6), k))
    top = 0.0
    for x, key in enumerate(keys):
        variant = records["variants"][key]
        est = variant["per_statement"]
        high = _bars(ax, x, est, 1.0)
        top = max(top, high)
        word = verdicts.get(key, {}).get("verdict", "reported")
        _ratio_label(ax, x, high, est, word)
    ax.set_yscale("log")
    ax.set_xticks(
        range(len(keys)),
        [
            LABELS[records["variants"][k]["case"]].format(rows=records["variants"][k]["rows_per_statement"])
            for k in keys
        ],
        fontsize=8,
    )
    ax.set_ylabel("ms per statement (log scale)", fontsize=9)
    ax.set_title("Each statement of the ingest routes", fontsize=10, loc="left")
    ax.margins(y=0.25)
    grid(ax, "y")
    for ax_unit, (name, unit) in zip(axes[1:], units.items(), strict=False):
        est = unit["estimate"]
        high = _bars(ax_unit, 0, est, 1 / 1000)
        _ratio_label(ax_unit, 0, high, est, verdicts.get(name, {}).get("verdict", "reported"))
        ax_unit.set_xticks([0], [f"batches of {unit['batch_rows']:,}"], fontsize=8)
        ax_unit.set_ylabel(f"seconds per {per_text(unit['per'], unit['title'])}", fontsize=9)
        ax_unit.set_title("The workload's ingest", fontsize=10, loc="left")
        ax_unit.margins(y=0.25)
        ax_unit.set_xlim(-0.8, 0.8)
        grid(ax_unit, "y")
    fig.suptitle(
        "Application writes: the ingest routes' statements before vs after the migration (lower is better)",
        fontsize=13,
        fontweight="bold",
    )
    handles = [
        Patch(facecolor=BEFORE_COLOUR, edgecolor="#252525", label="before (7 indexes)"),
        Patch(facecolor=AFTER_COLOUR, edgecolor="#252525", label="after (Phase 2 migration)"),
    ]
    legend_below(
        fig,
        handles,
        "application-schema variant (foreign keys to agent_sessions, projects, chat_sessions); mean statement time "
        f"per repetition, 95% bootstrap intervals; before/after above each pair\n{caption(doc)}",
        ncol=2,
    )
    return fig
