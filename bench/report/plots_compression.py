"""The compression suite's figures: sizes per index set plain vs compressed, what the Phase 2 indexes add
against what compression saves, and query speedups over compressed chunks.

Drawn from doc["suites"]["compression"] alone; None when the suite did not run (absent, skipped or failed).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.core.formatting import MIB, MISSING, mib, number, percent, ratio
from bench.core.verdict_words import VerdictWord
from bench.judge.verdicts import judge_speedup_range
from bench.report.figure_style import (
    AFTER_COLOUR,
    BAND_COLOUR,
    NEUTRAL,
    Doc,
    caption,
    grid,
    legend_below,
    log_limits,
    log_ticks,
    new_figure,
    suite_records,
    suite_verdicts,
    verdict_colour,
    verdict_handles,
)
from bench.report.plots import SpeedupRow, draw_interval

SIZE_PARTS = (("table_bytes", "table (heap)", "#636363"), ("toast_bytes", "TOAST", "#bdbdbd"))
INDEX_COLOURS = {"before": "#9ecae1", "after": AFTER_COLOUR}
REDUCTION_READINGS = (
    ("compressed_chunks_pct", "compressed chunks, indexes included (judged)"),
    ("compressed_chunks_data_pct", "compressed chunks, heap + TOAST only"),
    ("hypertable_pct", "whole hypertable (recent week uncompressed)"),
    ("index_bytes_pct", "indexes of the whole hypertable"),
)


def compression_sizes(doc: Doc) -> Figure | None:
    records = suite_records(doc, "compression")
    if records is None:
        return None
    sizes, reduction = records["sizes"], records["reduction"]
    verdicts = suite_verdicts(doc, "compression")
    fig = new_figure((13, 5.6))
    bars_ax, pct_ax = fig.subplots(1, 2, width_ratios=[1.25, 1])
    scale = MIB
    labels, x = [], 0.0
    widest = max(sizes[r][s]["total_bytes"] for r in sizes for s in sizes[r]) / scale
    for role in ("before", "after"):
        for state in ("uncompressed", "compressed"):
            st = sizes[role][state]
            bottom = 0.0
            for key, _, colour in SIZE_PARTS:
                bars_ax.bar(x, st[key] / scale, bottom=bottom, color=colour, width=0.7, edgecolor="white")
                bottom += st[key] / scale
            bars_ax.bar(
                x,
                st["index_bytes"] / scale,
                bottom=bottom,
                color=INDEX_COLOURS[role],
                width=0.7,
                edgecolor="white",
                hatch="//" if state == "compressed" else None,
            )
            total = st["total_bytes"] / scale
            bars_ax.text(x, total + widest * 0.01, number(total, 1), ha="center", va="bottom", fontsize=8)
            chunks = f"{st['compressed_chunks']}/{st['chunks']} chunks compressed" if state == "compressed" else "plain"
            labels.append(f"{role}\n{chunks}")
            x += 1
        labels[-1] += (
            f"\n−{percent(reduction[role]['hypertable_pct'], 0)} whole table"
            f"\n−{percent(reduction[role]['compressed_chunks_pct'], 0)} compressed chunks"
        )
        x += 0.5
    bars_ax.set_xticks([0, 1, 2.5, 3.5], labels, fontsize=8)
    bars_ax.set_ylim(0, widest * 1.12)
    bars_ax.set_ylabel("size on disk (MiB)")
    grid(bars_ax, "y")
    bars_ax.set_title("hypertable size per index set, plain vs 7-day compression", fontsize=10)
    handles = [
        *(Patch(color=c, label=label) for _, label, c in SIZE_PARTS),
        Patch(color=INDEX_COLOURS["before"], label="indexes, before (old set)"),
        Patch(color=INDEX_COLOURS["after"], label="indexes, after (Phase 2 set)"),
        Patch(facecolor="white", edgecolor="#525252", hatch="//", label="indexes after compression"),
        Patch(color=BAND_COLOUR, alpha=0.25, label="claimed reduction"),
    ]
    claim_low, claim_high = 70.0, 90.0
    for v in verdicts.values():
        if v["kind"] == "range":
            claim_low, claim_high = v["expected_min"], v["expected_max"]
    pct_ax.axvspan(claim_low, claim_high, color=BAND_COLOUR, alpha=0.15, lw=0)
    pct_ax.text(
        (claim_low + claim_high) / 2,
        -0.9,
        f"claim: {claim_low:g}–{claim_high:g}% smaller",
        ha="center",
        fontsize=8,
        color="#006837",
    )
    y, ticks = 0.0, []
    for role in ("before", "after"):
        word = verdicts.get(f"compression_reduction/{role}", {}).get("verdict", "")
        for key, label in REDUCTION_READINGS:
            value = reduction[role][key]
            judged = key == "compressed_chunks_pct"
            colour = verdict_colour(word) if judged else "#bdbdbd"
            pct_ax.barh(y, value or 0, color=colour, height=0.7)
            text = MISSING if value is None else percent(value) + (f" {word}" if judged else "")
            pct_ax.text((value or 0) + 1, y, text, va="center", fontsize=8, fontweight="bold" if judged else None)
            ticks.append((y, f"{role}: {label}"))
            y += 1
        y += 0.6
    pct_ax.set_yticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=8)
    pct_ax.set_ylim(y - 0.4, -1.4)
    pct_ax.set_xlim(0, 115)
    pct_ax.set_xlabel("size reduction by compression (%)")
    grid(pct_ax, "x")
    pct_ax.set_title("reduction, four readings of the claim", fontsize=10)
    dataset = records["dataset"]
    subtitle = (
        f"{caption(doc)}\nrebuilt dataset of {dataset['rows']:,} rows; chunks older than "
        f"{records['compress_older_than'][:10]} (7 days before the reference instant) compressed"
    )
    legend_below(fig, handles, subtitle, ncol=6)
    fig.suptitle("TimescaleDB compression after 7 days: size per index set", fontsize=13, fontweight="bold")
    return fig


def compression_overhead(doc: Doc) -> Figure | None:
    records = suite_records(doc, "compression")
    if records is None:
        return None
    figures = records["overhead_vs_savings"]
    verdict = suite_verdicts(doc, "compression").get("compression_savings_vs_index_overhead", {})
    word = str(verdict.get("verdict", ""))
    bars = [
        ("Phase 2 index overhead,\nuncompressed", figures["index_overhead_bytes"], AFTER_COLOUR),
        ("Phase 2 index overhead,\nold chunks compressed", figures["index_overhead_bytes_once_compressed"], "#9ecae1"),
        ("compression savings\n(after instance)", figures["compression_savings_bytes"], verdict_colour(word)),
    ]
    fig = new_figure((10, 4.2))
    ax = fig.add_subplot()
    widest = max(b[1] for b in bars) / MIB
    for y, (_, size, colour) in enumerate(bars):
        ax.barh(y, size / MIB, color=colour, height=0.6)
        ax.text(size / MIB + widest * 0.01, y, mib(size), va="center", fontsize=9)
    ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontsize=9)
    ax.set_ylim(len(bars) - 0.4, -0.6)
    ax.set_xlim(0, widest * 1.25)
    ax.set_xlabel("bytes added by the Phase 2 indexes, or saved by compression (MiB)")
    grid(ax, "x")
    savings_ratio = figures["savings_to_overhead"]
    share = figures["overhead_pct_of_savings"]
    summary = (
        f"savings are {ratio(savings_ratio)} the overhead (overhead = {percent(share, 0)} of savings): {word.upper()}"
        if savings_ratio is not None and share is not None
        else f"no overhead or no savings to compare: {word.upper()}"
    )
    fig.suptitle("What the Phase 2 indexes add vs what compression saves", fontsize=13, fontweight="bold")
    ax.set_title(
        f'claim: "compression savings far exceed index overhead"; {summary}\n{caption(doc)}\n'
        f"rebuilt dataset of {records['dataset']['rows']:,} rows; chunks older than 7 days compressed",
        fontsize=9,
        color="#404040",
    )
    return fig


def compression_speedups(doc: Doc) -> Figure | None:
    records = suite_records(doc, "compression")
    if records is None:
        return None
    bands = {
        p["name"]: (p["expected_min"], p["expected_max"])
        for p in doc.get("targets", {}).get("promises", [])
        if p["kind"] == "speedup_range"
    }
    comparisons = records["comparisons"]
    rows: list[tuple[float, SpeedupRow, tuple[float, float] | None]] = []
    headings: list[tuple[float, str]] = []
    y = 0.0
    for comparison in comparisons:
        per_case = records["timings"].get(comparison["name"], {})
        headings.append(
            (
                y,
                f"{comparison['name']}: {comparison['before']} → {comparison['after']} "
                f"(right of 1x: {comparison['ratio_above_1_means']})",
            )
        )
        y += 1
        phase2 = comparison["name"].startswith("phase2/")
        for case, timing in per_case.items():
            est = timing.get("speedup") or {}
            band = bands.get(timing.get("promise") or "") if phase2 else None
            word = judge_speedup_range(est.get("low"), est.get("high"), *band) if band else ""
            if not est:
                word = VerdictWord.FAILED
            rows.append((y, SpeedupRow(case, est.get("point"), est.get("low"), est.get("high"), word), band))
            y += 1
        y += 0.4
    fig = new_figure((11, 1.8 + 0.36 * y))
    ax = fig.add_subplot()
    for row_y, row, band in rows:
        if band:
            ax.fill_betweenx([row_y - 0.4, row_y + 0.4], *band, color=BAND_COLOUR, alpha=0.15, lw=0)
        colour = verdict_colour(row.verdict) if row.verdict else NEUTRAL
        draw_interval(ax, row_y, row, colour, "o", 7)
        right = max(v for v in (row.high, row.point, 1.0) if v)
        text = f"{ratio(row.point)} {row.verdict}" if row.point is not None else VerdictWord.FAILED
        ax.text(right * 1.12, row_y, text, va="center", fontsize=8, color=colour)
    for head_y, text in headings:
        ax.text(0.005, head_y, text, transform=ax.get_yaxis_transform(), fontsize=9, fontweight="bold", va="center")
    ax.axvline(1.0, color="black", lw=0.8, ls=":")
    ax.set_yticks([r[0] for r in rows], [r[1].label for r in rows], fontsize=8)
    ax.set_ylim(y - 0.2, -0.8)
    ax.set_xscale("log")
    lo, hi = log_limits([1.0, *(v for _, r, b in rows for v in (r.low, r.high, *(b or ())))], 1.5)
    hi *= 2.5
    ax.set_xlim(lo, hi)
    log_ticks(ax, "x", lo, hi, "x")
    ax.set_xlabel("speedup = median latency on the database left of → / right of → (log scale), point and 95% CI")
    handles = [
        *verdict_handles(r.verdict for _, r, _ in rows),
        Line2D([], [], marker="o", color=NEUTRAL, ls="-", label="no promise for this comparison"),
        Patch(color=BAND_COLOUR, alpha=0.25, label="promised range of the case's promise"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.07), ncol=4, fontsize=8, frameon=False)
    fig.suptitle("Queries over compressed chunks: speedup per comparison and case", fontsize=13, fontweight="bold")
    ax.set_title(
        f"{caption(doc)}\nrebuilt dataset of {records['dataset']['rows']:,} rows; plain: uncompressed, packed: chunks "
        "older than 7 days compressed; /before, /after: the index set",
        fontsize=9,
        color="#404040",
    )
    return fig
