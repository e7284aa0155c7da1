"""The write_cost suite's figure: rows/s before vs after per way of writing, against the specification's rate.

Drawn from doc["suites"]["write_cost"] alone; None when the suite did not run (absent, skipped or failed).
"""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.core.formatting import number, percent_change, rate, ratio
from bench.report.figure_style import (
    AFTER_COLOUR,
    BEFORE_COLOUR,
    LIMIT_COLOUR,
    Doc,
    caption,
    grid,
    legend_below,
    new_figure,
    suite_records,
    suite_verdicts,
    thousands,
    verdict_colour,
    verdict_handles,
)

METHOD_LABELS = {"insert": "batched INSERT", "copy": "COPY"}


def write_cost(doc: Doc) -> Figure | None:
    records = suite_records(doc, "write_cost")
    if records is None:
        return None
    methods, spec, settings = records["methods"], records["spec_rows_per_s"], records["settings"]
    verdicts = suite_verdicts(doc, "write_cost")
    fig = new_figure((10, 6.2))
    ax = fig.add_subplot()
    top = max(
        [spec, *(v for m in methods.values() for r in ("before", "after") for v in (m[r]["high"], *m[r]["rows_per_s"]))]
    )
    for i, method in enumerate(m for m in ("insert", "copy") if m in methods):
        summary = methods[method]
        for role, offset, colour in (("before", -0.2, BEFORE_COLOUR), ("after", 0.2, AFTER_COLOUR)):
            figures = summary[role]
            x, median = i + offset, figures["median_rows_per_s"]
            ax.bar(x, median, width=0.36, color=colour, alpha=0.85)
            ax.plot([x, x], [figures["low"], figures["high"]], color="#252525", lw=1.6)
            for end in (figures["low"], figures["high"]):
                ax.plot([x - 0.05, x + 0.05], [end, end], color="#252525", lw=1.2)
            rates = figures["rows_per_s"]
            jitter = [((k % 7) - 3) * 0.018 for k in range(len(rates))]
            ax.plot([x + j for j in jitter], rates, ls="none", marker=".", ms=4, color="#252525", alpha=0.45)
            word = verdicts.get(f"ingest_rate_{method}_{role}", {}).get("verdict", "")
            high = max([figures["high"], *rates])
            ax.text(
                x,
                high * 1.03,
                f"{number(median, 0)}\n{word}",
                ha="center",
                va="bottom",
                fontsize=8,
                color=verdict_colour(word),
                fontweight="bold",
            )
        after_before = summary["ratio_after_before"]
        ax.annotate(
            f"after/before {ratio(after_before['point'])} "
            f"(95% CI {number(after_before['low'])}–{ratio(after_before['high'])})\n"
            f"each write {percent_change(summary['write_time_increase_pct'], 0)} time",
            xy=(i, 0),
            xytext=(i, top * 1.3),
            ha="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.3", "fc": "white", "ec": "#bdbdbd"},
        )
    ax.axhline(spec, color=LIMIT_COLOUR, ls="--", lw=1.1)
    ax.text(
        1.02,
        spec,
        f"specification\n> {rate(spec)}",
        transform=ax.get_yaxis_transform(),
        va="center",
        fontsize=8,
        color=LIMIT_COLOUR,
    )
    ax.set_ylim(0, top * 1.55)
    ax.set_xlim(-0.6, 1.6)
    batches = {"insert": settings["insert_batch"], "copy": settings["copy_batch"]}
    ax.set_xticks(
        [0, 1], [f"{METHOD_LABELS[m]}\n({batches[m]:,} rows per statement)" for m in ("insert", "copy")], fontsize=9
    )
    thousands(ax)
    grid(ax, "y")
    ax.set_ylabel("rows written per second (median of the repetitions; 95% CI)")
    scratch = records["scratch"]
    subtitle = (
        f"{caption(doc)}\nscratch copies pre-filled with {scratch['prefill_rows']:,} rows; "
        f"{settings['repetitions']} repetitions per method and instance, one connection, one transaction per statement"
    )
    handles = [
        Patch(color=BEFORE_COLOUR, label="before (old indexes)"),
        Patch(color=AFTER_COLOUR, label="after (Phase 2 indexes)"),
        Line2D([], [], marker=".", color="#252525", ls="none", alpha=0.6, label="one repetition"),
        Line2D([], [], color="#252525", lw=1.6, label="95% CI of the median"),
        *verdict_handles(v["verdict"] for v in verdicts.values()),
    ]
    legend_below(fig, handles, subtitle, ncol=4)
    fig.suptitle("Write cost: rows/s before vs after the migration (higher is better)", fontsize=13, fontweight="bold")
    return fig
