"""Figures of the application's workload (doc["suites"]["app"]), drawn from the results document alone.

- weighted database time before vs after per page type (one panel per unit, one bar pair per plan cache mode);
- latency distributions of every application case under the application's own plan cache mode.
Each returns None when the run has no app section (or the suite did not run).
"""

from __future__ import annotations

from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from bench.core.formatting import ratio, ratio_interval
from bench.judge.app_workload import per_text
from bench.report.figure_style import AFTER_COLOUR, BEFORE_COLOUR, DPI, boxplot, caption, legend_below, suite_records

Doc = dict[str, Any]
ROLES = (("before", BEFORE_COLOUR), ("after", AFTER_COLOUR))


def _unit_label(row: dict[str, Any]) -> str:
    return f"per {per_text(row['per'], row['title'])}"


def _seconds(ms: float) -> float:
    return ms / 1000.0


def weighted_time(doc: Doc) -> Figure | None:
    """Database time per unit of use, before vs after, per plan cache mode, with bootstrap intervals."""
    records = suite_records(doc, "app")
    if not records or not records.get("units"):
        return None
    modes = list(records["units"])
    names = ["page_views", *[u["name"] for u in records["workload"]["units"]]]
    fig = Figure(figsize=(3.0 * len(names) + 1, 4.6), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names, strict=True):
        first = records["units"][modes[0]][name]
        for m, mode in enumerate(modes):
            est = records["units"][mode][name]["estimate"]
            for r, (role, colour) in enumerate(ROLES):
                x = m + (r - 0.5) * 0.38
                if est is None:
                    ax.text(x, 0, "failed", rotation=90, ha="center", va="bottom", fontsize=7, color="#d73027")
                    continue
                value = _seconds(est[f"{role}_ms"])
                low, high = _seconds(est[f"{role}_low"]), _seconds(est[f"{role}_high"])
                ax.bar(x, value, width=0.36, color=colour, edgecolor="#252525", lw=0.6)
                ax.errorbar(
                    x, value, yerr=[[max(value - low, 0)], [max(high - value, 0)]], color="black", lw=0.8, capsize=2.5
                )
            if est is not None:
                top = max(_seconds(est["before_high"]), _seconds(est["after_high"]))
                ax.text(m, top * 1.04, ratio(est["speedup"]), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(
            range(len(modes)), [mode.replace("force_", "").replace("_plan", "") for mode in modes], fontsize=8
        )
        ax.set_title(first["title"], fontsize=10, loc="left")
        ax.set_ylabel(f"seconds {_unit_label(first)}", fontsize=8)
        ax.margins(y=0.15)
        ax.grid(axis="y", color="#ececec", lw=0.6)
        ax.set_axisbelow(True)
    handles = [
        Patch(facecolor=BEFORE_COLOUR, edgecolor="#252525", label="before (old indexes)"),
        Patch(facecolor=AFTER_COLOUR, edgecolor="#252525", label="after (migration applied)"),
    ]
    legend_below(fig, handles, caption(doc), ncol=2)
    fig.suptitle(
        "Application workload: database time per page type, before vs after, per plan cache mode\n"
        "bars: executions x median latency summed over the cases a page issues; whiskers: 95% bootstrap "
        "interval; label: before/after",
        fontsize=11,
        fontweight="bold",
    )
    return fig


def case_latency(doc: Doc) -> Figure | None:
    """Every execution of every application case (all parameter draws), under the application's plan cache mode."""
    records = suite_records(doc, "app")
    if not records or not records.get("cases"):
        return None
    mode = records["workload"]["headline_mode"]
    cases = sorted(records["cases"].values(), key=lambda c: (bool(c.get("what_if")), c["name"]))
    fig = Figure(figsize=(11, 1.6 + 0.42 * len(cases)), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    labels, values_seen = [], []
    for y, case in enumerate(cases):
        measured = case["modes"].get(mode)
        if measured is None:
            labels.append(f"{case['name']} (not measured)")
            continue
        for role, colour in ROLES:
            values = [float(v) for s in measured["samples"] for v in s["latencies_ms"][role] if v is not None]
            if values:
                boxplot(ax, values, y + (-0.19 if role == "before" else 0.19), colour, flier_size=3)
                values_seen += values
        est = measured.get("speedup")
        note = ratio_interval(est["point"], est["low"], est["high"]) if est else "failed"
        ax.text(0.995, y, note, transform=ax.get_yaxis_transform(), ha="right", va="center", fontsize=8)
        labels.append(f"{case['name']}{' (what-if)' if case.get('what_if') else ''}")
    ax.set_yticks(range(len(cases)), labels, fontsize=8)
    ax.set_ylim(len(cases) - 0.45, -0.55)
    ax.set_xscale("log")
    if values_seen:
        ax.set_xlim(min(values_seen) / 1.4, max(values_seen) * 6)
    ax.set_xlabel(f"latency of one execution (ms, log scale), plan cache mode {mode}", fontsize=9)
    ax.grid(axis="x", color="#ececec", lw=0.6)
    ax.set_axisbelow(True)
    handles = [
        Patch(facecolor=BEFORE_COLOUR, edgecolor="#252525", label="before"),
        Patch(facecolor=AFTER_COLOUR, edgecolor="#252525", label="after"),
    ]
    legend_below(fig, handles, caption(doc), ncol=2)
    n_draws = sum(c["modes"][mode]["draws"] for c in cases if mode in c["modes"])
    fig.suptitle(
        f"Application cases: every timed execution over {n_draws} parameter draws, as prepared statements "
        "(right: speedup, 95% CI)",
        fontsize=11,
        fontweight="bold",
    )
    return fig
