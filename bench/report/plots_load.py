"""Figures of the concurrency suite (doc["suites"]["concurrency"]) and of the cold-cache pass, from the document.

- latency percentile spectra per read (HDR-style: percentile on a 1/(1-p) axis, latency on a log axis), before
  vs after, in the open loop at the offered rate;
- the saturation curve: throughput and P95 against clients, closed loop;
- the mixed load: the reads' tail with and without ingest beside it, and the ingest search's steps;
- cold vs warm: speedup per promise with a warm and a cold cache, side by side.
Each returns None when the document holds nothing for it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import ScalarFormatter

from bench.report.figure_style import AFTER_COLOUR, BEFORE_COLOUR, caption, legend_below, new_figure, suite_records

Doc = dict[str, Any]
ROLES = (("before", BEFORE_COLOUR), ("after", AFTER_COLOUR))
TAIL_TICKS = (50.0, 90.0, 99.0, 99.9, 99.99)
COLD_COLOUR = "#5e3c99"
WARM_COLOUR = "#fdb863"
SPEEDUP_TICKS = (0.1, 0.2, 0.5, 0.8, 1.0, 1.25, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0)


def load_records(doc: Doc) -> dict[str, Any] | None:
    return suite_records(doc, "concurrency")


def _legend(fig: Figure, doc: Doc, extra: list[Line2D] | None = None) -> None:
    handles = [Line2D([], [], color=colour, lw=2, label=role) for role, colour in ROLES] + (extra or [])
    legend_below(fig, handles, caption(doc), ncol=len(handles))


def _tail_x(percentile: float) -> float:
    """HDR-style position: 90% at 1, 99% at 2, 99.9% at 3 (log10 of 1/(1-p))."""
    return math.log10(1.0 / (1.0 - percentile / 100.0))


def _spectrum(ax: Axes, curve: list[list[float]], colour: str) -> None:
    points = [(p, ms) for p, ms in curve if 0 < p < 100 and ms > 0]
    if not points:
        return
    ax.plot([_tail_x(p) for p, _ in points], [ms for _, ms in points], color=colour, lw=1.6, marker=".", ms=4)
    maximum = next((ms for p, ms in curve if p == 100), None)
    if maximum:
        ax.plot([_tail_x(points[-1][0])], [maximum], marker="^", color=colour, ms=5, ls="none")


def latency_spectra(doc: Doc) -> Figure | None:
    """Per read, its latency at each percentile, before vs after, open loop at the offered rate."""
    records = load_records(doc)
    phase = (records or {}).get("phases", {}).get("open_loop_prepared")
    if not phase or not phase.get("curves"):
        return None
    names = ["all", *[n for n in phase["curves"]["before"] if n != "all"]]
    cols = 4
    rows = math.ceil(len(names) / cols)
    fig = new_figure((3.2 * cols, 2.7 * rows + 1.2))
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    bound = records["settings"]["latency_limit_ms"] if records else None
    for ax, name in zip(axes, names, strict=False):
        deepest = 0.0
        for role, colour in ROLES:
            curve = phase["curves"][role].get(name, [])
            _spectrum(ax, curve, colour)
            deepest = max([deepest, *(p for p, _ in curve if p < 100)])
        ax.set_yscale("log")
        ticks = [p for p in TAIL_TICKS if p <= max(deepest, 90.0)]
        ax.set_xticks([_tail_x(p) for p in ticks], [f"{p:g}%" for p in ticks], fontsize=7)
        ax.set_xlim(-0.1, _tail_x(max(deepest, 90.0)) + 0.3)
        ax.tick_params(axis="y", labelsize=7)
        if bound:
            ax.axhline(bound, color="#d73027", lw=0.8, ls="--")
        ax.set_title("all reads (the mix)" if name == "all" else name.removeprefix("app_"), fontsize=9, loc="left")
        ax.grid(color="#ececec", lw=0.6)
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    load = phase["load"]
    fig.suptitle(
        f"Under load: latency by percentile, before vs after ({load['rate']:g} reads/s offered, {load['clients']} "
        f"clients, -M {load['protocol']})\nms, log scale; ▲ max; dashed: the specification's {bound:g} ms",
        fontsize=11,
        fontweight="bold",
    )
    _legend(fig, doc)
    return fig


def saturation_curve(doc: Doc) -> Figure | None:
    records = load_records(doc)
    saturation = (records or {}).get("saturation")
    if not saturation or not saturation.get("points"):
        return None
    points = saturation["points"]
    clients = [p["clients"] for p in points]
    fig = new_figure((10, 4.4))
    tps_ax, p95_ax = fig.subplots(1, 2)
    for role, colour in ROLES:
        tps = [p.get(role, {}).get("tps") or np.nan for p in points]
        p95 = [p.get(role, {}).get("p95_ms") or np.nan for p in points]
        tps_ax.plot(clients, tps, color=colour, marker="o", lw=1.8)
        p95_ax.plot(clients, p95, color=colour, marker="o", lw=1.8)
    for ax, label in ((tps_ax, "transactions per second (the read mix)"), (p95_ax, "P95 latency, ms")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(clients, [str(c) for c in clients])
        ax.set_xlabel("pgbench clients (closed loop)", fontsize=8)
        ax.set_ylabel(label, fontsize=8)
        ax.grid(color="#ececec", lw=0.6)
    tps_ax.set_ylim(bottom=0)
    p95_ax.set_yscale("log")
    p95_ax.yaxis.set_major_formatter(ScalarFormatter())
    fig.suptitle(
        f"Under load: saturation curve, before vs after ({saturation['duration_s']} s per point, -M "
        f"{saturation['protocol']})",
        fontsize=11,
        fontweight="bold",
    )
    _legend(fig, doc)
    return fig


def mixed_load(doc: Doc) -> Figure | None:
    records = load_records(doc)
    phases = (records or {}).get("phases", {})
    search = (records or {}).get("ingest_search")
    if not phases.get("mixed") and not search:
        return None
    fig = new_figure((11, 4.6))
    tail_ax, search_ax = fig.subplots(1, 2)
    groups = [("reads alone", phases.get("open_loop_prepared")), ("reads + ingest", phases.get("mixed"))]
    for g, (_, phase) in enumerate(groups):
        if not phase:
            continue
        for r, (role, colour) in enumerate(ROLES):
            p95 = (phase["summary"]["scripts"].get("all", {}).get(role) or {}).get("p95")
            if not p95:
                continue
            x = g + (r - 0.5) * 0.38
            tail_ax.bar(x, p95["point"], width=0.36, color=colour, edgecolor="#252525", lw=0.6)
            tail_ax.errorbar(
                x,
                p95["point"],
                yerr=[[p95["point"] - p95["low"]], [p95["high"] - p95["point"]]],
                color="black",
                lw=0.8,
                capsize=2.5,
            )
    tail_ax.set_xticks(range(len(groups)), [label for label, _ in groups], fontsize=8)
    tail_ax.set_ylabel("read P95, ms (median of rounds, whiskers: their range)", fontsize=8)
    ingest = (phases.get("mixed") or {}).get("summary", {}).get("ingest")
    if ingest:
        tail_ax.set_title(f"with {ingest['offered_events_per_s']:,.0f} events/s offered", fontsize=9, loc="left")
    tail_ax.grid(axis="y", color="#ececec", lw=0.6)
    if search:
        for role, colour in ROLES:
            steps = search.get(role, {}).get("steps", [])
            for step in steps:
                marker = "o" if step["passed"] else "x"
                search_ax.scatter(
                    step["offered_events_per_s"], step["read_p95_ms"] or np.nan, color=colour, marker=marker, s=36
                )
            best = search.get(role, {}).get("highest_sustained_events_per_s")
            if best:
                search_ax.axvline(best, color=colour, lw=1, ls=":")
        search_ax.axhline(search["read_p95_bound_ms"], color="#d73027", lw=0.8, ls="--")
        search_ax.set_xscale("log")
        search_ax.set_yscale("log")
        search_ax.set_xlabel("ingest offered, events/s", fontsize=8)
        search_ax.set_ylabel("read P95, ms", fontsize=8)
        search_ax.set_title("ingest search: o sustained, x not; dotted: highest sustained", fontsize=9, loc="left")
        search_ax.grid(color="#ececec", lw=0.6)
    else:
        search_ax.set_visible(False)
    fig.suptitle("Under load: reads beside the collector's ingest", fontsize=11, fontweight="bold")
    _legend(fig, doc)
    return fig


def cold_warm_rows(doc: Doc) -> list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]]:
    """(label, warm estimate, cold estimate) per promise, then the under-load read P95 ratio."""
    rows: list[tuple[str, dict[str, Any] | None, dict[str, Any] | None]] = []
    cold = (doc.get("extra") or {}).get("cold_cache") or {}
    warm = {v["promise"]: v for v in doc.get("verdicts", []) if v["kind"] == "speedup_range"}
    for name, entry in (cold.get("promises") or {}).items():
        w = warm.get(name)
        warm_est = {"point": w["point"], "low": w["low"], "high": w["high"]} if w and w["point"] is not None else None
        rows.append((name, warm_est, entry.get("cold")))
    phases = (load_records(doc) or {}).get("phases", {})
    if phases.get("cold_open_loop") and phases.get("open_loop_prepared"):
        rows.append(
            (
                "read P95 under load",
                phases["open_loop_prepared"]["summary"]["scripts"]["all"]["p95_speedup"],
                phases["cold_open_loop"]["summary"]["scripts"]["all"]["p95_speedup"],
            )
        )
    return rows


def cold_warm(doc: Doc) -> Figure | None:
    rows = cold_warm_rows(doc)
    if not rows:
        return None
    fig = new_figure((max(6.0, 1.8 * len(rows) + 2), 4.6))
    ax = fig.subplots()
    values = [1.0]
    for i, (_, warm, cold) in enumerate(rows):
        for offset, estimate, colour in ((-0.15, warm, WARM_COLOUR), (0.15, cold, COLD_COLOUR)):
            if not estimate:
                ax.text(i + offset, 1, "n/a", ha="center", fontsize=7, color="#d73027")
                continue
            point, low, high = estimate["point"], estimate["low"], estimate["high"]
            values += [low, high]
            ax.errorbar(
                i + offset,
                point,
                yerr=[[max(point - low, 0)], [max(high - point, 0)]],
                fmt="o",
                color=colour,
                mec="#252525",
                ms=8,
                lw=1.4,
                capsize=3,
            )
            ax.annotate(f"{point:.2g}x", (i + offset, point), xytext=(6, 0), textcoords="offset points", fontsize=7)
    ax.axhline(1.0, color="#404040", lw=0.8)
    ax.set_yscale("log")
    ticks = [t for t in SPEEDUP_TICKS if min(values) / 1.5 <= t <= max(values) * 1.5]
    ax.set_yticks(ticks, [f"{t:g}x" for t in ticks], fontsize=8)
    ax.minorticks_off()
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_xticks(range(len(rows)), [label for label, _, _ in rows], fontsize=8)
    ax.set_ylabel("speedup before/after (log; above 1: after faster)", fontsize=8)
    ax.grid(axis="y", color="#ececec", lw=0.6)
    handles = [
        Line2D([], [], color=WARM_COLOUR, marker="o", ls="none", label="warm cache"),
        Line2D([], [], color=COLD_COLOUR, marker="o", ls="none", label="cold cache (restart + OS cache evicted)"),
    ]
    legend_below(fig, handles, caption(doc), ncol=2)
    fig.suptitle("Cold vs warm cache: speedup per promise, with 95% intervals", fontsize=11, fontweight="bold")
    return fig
