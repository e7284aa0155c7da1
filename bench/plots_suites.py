"""Figures of the extra suites (doc["suites"]), drawn from the results document alone, like bench.plots.

Each function returns None when its suite did not run (absent, skipped or failed), so a report draws only what
the run measured. Verdict words keep the colours of bench.plots (green: the statement holds, red: it does not,
orange: the interval cannot tell), with the words only suites use added. `SUITE_FIGURES` says which figures
belong to which suite, so a report can show them under that suite's verdicts.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from bench.plots import (
    AFTER_COLOUR,
    BAND_COLOUR,
    BEFORE_COLOUR,
    DPI,
    VERDICT_COLOURS,
    F,
    SpeedupRow,
    _fmt_x,
    _interval,
    _log_ticks,
    caption,
    register_figure,
)
from bench.suites.migration import judge_blocking
from bench.verdicts import judge_speedup_range

Doc = dict[str, Any]
SUITE_VERDICT_COLOURS = {**VERDICT_COLOURS, "held": "#1a9850", "not held": "#d73027", "reported": "#636363"}
NEUTRAL = "#636363"
LIMIT_COLOUR = "#d73027"  # a line the figure must stay under (or, for rates, above)
READ_COLOUR = "#e6550d"
SUITE_FIGURES: dict[str, list[str]] = {}  # suite name -> its figure names, in drawing order


def verdict_colour(word: str | None) -> str:
    return SUITE_VERDICT_COLOURS.get((word or "failed").lower(), "#4d4d4d")


def suite_figure(suite: str, name: str, title: str) -> Callable[[F], F]:
    """register_figure, remembering the suite the figure belongs to."""
    SUITE_FIGURES.setdefault(suite, []).append(name)
    return register_figure(name, title)


def ran(doc: Doc, suite: str) -> dict[str, Any] | None:
    """The suite's records when it ran; None when it is absent, skipped or failed."""
    section = (doc.get("suites") or {}).get(suite)
    if not section or section.get("skipped") or section.get("failed") or not section.get("records"):
        return None
    records: dict[str, Any] = section["records"]
    return records


def _verdicts(doc: Doc, suite: str) -> dict[str, dict[str, Any]]:
    return {v["promise"]: v for v in doc["suites"][suite].get("verdicts") or []}


def _figure(size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _legend_below(fig: Figure, handles: Sequence[Any], subtitle: str, ncol: int = 3) -> None:
    # The caption is the legend's title: two "outside" elements on one edge would overlap (as in bench.plots).
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=ncol,
        fontsize=8,
        frameon=False,
        title=subtitle,
        title_fontsize=9,
    )


def _thousands(ax: Axes, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))


def _grid(ax: Axes, axis: str = "both") -> None:
    ax.grid(axis=axis, color="#ececec", lw=0.6)  # type: ignore[arg-type]
    ax.set_axisbelow(True)


def _verdict_handles(words: Iterable[str]) -> list[Any]:
    return [Line2D([], [], marker="o", color=verdict_colour(w), ls="none", label=w) for w in dict.fromkeys(words) if w]


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value  # a failed point breaks the connecting line instead of the plot


def _failed_mark(ax: Axes, x: float, colour: str) -> None:
    """A point without an estimate: a cross on the x axis, never a value on the y axis."""
    ax.plot([x], [0.03], marker="x", color=colour, transform=ax.get_xaxis_transform(), ls="none")
    ax.text(x, 0.06, "failed", transform=ax.get_xaxis_transform(), fontsize=7, color=colour, ha="center")


def _log_limits(values: Iterable[float | None], pad: float = 1.5) -> tuple[float, float]:
    finite = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    return (min(finite) / pad, max(finite) * pad) if finite else (0.5, 2.0)


# --- write cost -------------------------------------------------------------------------------------------

METHOD_LABELS = {"insert": "batched INSERT", "copy": "COPY"}


@suite_figure("write_cost", "write_cost", "Write cost: ingest rate before vs after")
def write_cost(doc: Doc) -> Figure | None:
    records = ran(doc, "write_cost")
    if records is None:
        return None
    methods, spec, settings = records["methods"], records["spec_rows_per_s"], records["settings"]
    verdicts = _verdicts(doc, "write_cost")
    fig = _figure((10, 6.2))
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
                f"{median:,.0f}\n{word}",
                ha="center",
                va="bottom",
                fontsize=8,
                color=verdict_colour(word),
                fontweight="bold",
            )
        ratio = summary["ratio_after_before"]
        ax.annotate(
            f"after/before {ratio['point']:.2f}x (95% CI {ratio['low']:.2f}–{ratio['high']:.2f}x)\n"
            f"each write {summary['write_time_increase_pct']:+.0f}% time",
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
        f"specification\n> {spec:,.0f} rows/s",
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
    _thousands(ax)
    _grid(ax, "y")
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
        *_verdict_handles(v["verdict"] for v in verdicts.values()),
    ]
    _legend_below(fig, handles, subtitle, ncol=4)
    fig.suptitle("Write cost: rows/s before vs after the migration (higher is better)", fontsize=13, fontweight="bold")
    return fig


# --- migration --------------------------------------------------------------------------------------------


def _variants(records: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in records["scenarios"].items() if isinstance(v, dict) and "probe" in v]


def _blocking_word(key: str, scenario: dict[str, Any], verdicts: dict[str, dict[str, Any]]) -> str:
    """The suite's verdict for the variants it judged; the same rule, unjudged, for the others."""
    judged = verdicts.get("migration_non_blocking" if key == "as_written_one_transaction" else f"{key}_non_blocking")
    if judged:
        return str(judged["verdict"])
    if scenario["first_error"]:
        return "failed"
    probe = scenario["probe"]
    lock_wait = probe["lock_waits"]["writer"]["samples"] > 0
    return judge_blocking(probe["writes"]["max_gap_ms"], lock_wait, probe["settings"]["stall_ms"])


def _short_sql(text: str) -> str:
    """`CREATE INDEX "agent_events_data_idx" ON ...` -> `CREATE INDEX data_idx`: enough to tell statements apart."""
    match = re.match(r'\s*(\w+ INDEX(?: CONCURRENTLY)?)(?: IF (?:NOT )?EXISTS)?\s+(?:"?\w+"?\.)?"?(\w+)"?', text)
    if not match:
        return text[:40]
    return f"{match.group(1)} {match.group(2).removeprefix('agent_events_')}"


def _statement_key(scenario: dict[str, Any], marks: int) -> str:
    """The x label: seconds, and which statement each number is (or how many there were)."""
    if marks > 8:
        return f"seconds since the probe started; {marks} statements, ticks at the top"
    outcomes = [o for o in scenario["statements"] if "statement" in o]
    key = " · ".join(f"#{o['statement']} {_short_sql(o['sql'])}" for o in outcomes)
    return "seconds since the probe started\n" + textwrap.fill(key, 85)


def _migration_panel(ax: Axes, key: str, scenario: dict[str, Any], word: str, ylim: tuple[float, float]) -> None:
    probe = scenario["probe"]
    bound = probe["settings"]["stall_ms"]
    action = next(m for m in probe["statements"] if m["label"] == "action")
    ax.axvspan(action["start_s"], action["end_s"], color="#fff2cc", lw=0)
    marks = [m for m in probe["statements"] if m["label"] != "action"]
    ax.set_xlabel(_statement_key(scenario, len(marks)), fontsize=7.5)
    if len(marks) <= 8:
        span = action["end_s"] - action["start_s"] + 2 * probe["settings"]["settle_s"]
        last_label = -math.inf
        for m in marks:
            ax.axvline(m["start_s"], color="#bdbdbd", lw=0.7, ls="--")
            if m["start_s"] - last_label >= 0.03 * span:  # numbers closer than this would overprint
                ax.text(
                    m["start_s"],
                    1.0,
                    f"#{m['label'].split()[-1]}",
                    transform=ax.get_xaxis_transform(),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color="#525252",
                )
                last_label = m["start_s"]
    else:
        starts = [m["start_s"] for m in marks]
        ax.plot(starts, [0.985] * len(starts), "|", color="#969696", ms=6, transform=ax.get_xaxis_transform())
    for timeline, colour, marker in (("read_timeline", READ_COLOUR, "^"), ("write_timeline", AFTER_COLOUR, "o")):
        points = probe[timeline]
        xs, ys = [p[0] for p in points], [max(p[1], ylim[0]) for p in points]
        ax.plot(xs, ys, ls="none", marker=marker, ms=3, color=colour, alpha=0.7)
        for start, ms in points:
            if ms > bound:  # a blocked operation: a bar from when it started to when it completed
                ax.plot([start, start + ms / 1000], [ms, ms], color=colour, lw=1.5, alpha=0.8)
    ax.axhline(bound, color=LIMIT_COLOUR, ls="--", lw=1)
    ax.set_yscale("log")
    ax.set_ylim(*ylim)
    _log_ticks(ax, "y", *ylim, " ms")
    ax.tick_params(labelsize=8)
    _grid(ax, "y")
    writes = probe["writes"]
    status = f"failed: {scenario['first_error']}" if scenario["first_error"] else f"ran {scenario['duration_s']:.2f} s"
    ax.set_title(
        f"{key}: max write stall {writes['max_gap_ms']:,.0f} ms, {word.upper()}\n"
        + textwrap.shorten(status, 90, placeholder="…"),
        fontsize=9,
        loc="left",
        color=verdict_colour(word),
    )


@suite_figure("migration", "migration_probe", "Migration: write and read latency while each variant runs")
def migration_probe(doc: Doc) -> Figure | None:
    records = ran(doc, "migration")
    if records is None:
        return None
    variants = _variants(records)
    if not variants:
        return None
    verdicts = _verdicts(doc, "migration")
    latencies = [p[1] for _, s in variants for t in ("write_timeline", "read_timeline") for p in s["probe"][t]]
    bound = variants[0][1]["probe"]["settings"]["stall_ms"]
    low, high = _log_limits([*latencies, bound], 1.6)
    ylim = (max(low, 0.05), high * 1.6)
    rows = math.ceil(len(variants) / 2)
    fig = _figure((12, 1.6 + 3.3 * rows))
    axes = fig.subplots(rows, 2, squeeze=False, sharey=True)
    for ax, (key, scenario) in zip(axes.flat, variants, strict=False):
        _migration_panel(ax, key, scenario, _blocking_word(key, scenario, verdicts), ylim)
    for ax in axes.flat[len(variants) :]:
        ax.set_visible(False)
    for ax in axes[:, 0]:
        ax.set_ylabel("latency of one operation (ms, log)", fontsize=9)
    settings = variants[0][1]["probe"]["settings"]
    handles = [
        Line2D(
            [],
            [],
            marker="o",
            ms=4,
            color=AFTER_COLOUR,
            ls="none",
            label=f"INSERT of one event (every {settings['write_interval_s'] * 1000:.0f} ms)",
        ),
        Line2D(
            [],
            [],
            marker="^",
            ms=4,
            color=READ_COLOUR,
            ls="none",
            label=f"session timeline read (every {settings['read_interval_s'] * 1000:.0f} ms)",
        ),
        Line2D([], [], color=LIMIT_COLOUR, ls="--", label=f"{bound:.0f} ms: non-blocking bound"),
        Line2D([], [], color="#525252", lw=1.5, label="blocked operation: from its start to its completion"),
        Patch(color="#fff2cc", label="migration running (dashed: statement starts)"),
    ]
    subtitle = (
        f"{caption(doc)}\nscratch copy of {records['copy_rows']:,} rows with the pre-Phase-2 indexes, "
        "put back between variants; panel title: the longest time without a completed write"
    )
    _legend_below(fig, handles, subtitle, ncol=4)
    fig.suptitle("Migration under load: every write and read while each variant runs", fontsize=13, fontweight="bold")
    return fig


@suite_figure("migration", "migration_stalls", "Migration: longest write stall per variant")
def migration_stalls(doc: Doc) -> Figure | None:
    records = ran(doc, "migration")
    if records is None:
        return None
    variants = _variants(records)
    if not variants:
        return None
    verdicts = _verdicts(doc, "migration")
    fig = _figure((10, 1.9 + 0.55 * len(variants)))
    ax = fig.add_subplot()
    bound = variants[0][1]["probe"]["settings"]["stall_ms"]
    gaps = [s["probe"]["writes"]["max_gap_ms"] for _, s in variants]
    low, high = _log_limits([*gaps, bound], 2.0)
    high *= 8  # room for the words right of the bars
    words = []
    for y, (key, scenario) in enumerate(variants):
        word = _blocking_word(key, scenario, verdicts)
        words.append(word)
        gap = scenario["probe"]["writes"]["max_gap_ms"]
        reads = scenario["probe"]["reads"]["max_gap_ms"]
        ax.barh(y, gap - low, left=low, height=0.55, color=verdict_colour(word))
        text = f"{gap:,.0f} ms, {word}; reads {reads:,.0f} ms"
        if scenario["first_error"]:
            text += "\n" + textwrap.shorten(f"failed: {scenario['first_error']}", 90, placeholder="…")
        ax.text(gap * 1.1, y, text, va="center", fontsize=8, color=verdict_colour(word))
    ax.axvline(bound, color=LIMIT_COLOUR, ls="--", lw=1)
    ax.text(bound, len(variants) - 0.45, f" {bound:.0f} ms: non-blocking bound", color=LIMIT_COLOUR, fontsize=8)
    ax.set_yticks(range(len(variants)), [k for k, _ in variants], fontsize=9)
    ax.set_ylim(len(variants) - 0.3, -0.6)
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    _log_ticks(ax, "x", low, high, " ms")
    _grid(ax, "x")
    ax.set_xlabel("longest time without a completed write (ms, log scale); text: the same for reads")
    fig.suptitle("Migration: longest write stall per variant", fontsize=13, fontweight="bold")
    ax.set_title(
        f"{caption(doc)}\nscratch copy of {records['copy_rows']:,} rows; colour: the non-blocking verdict",
        fontsize=9,
        color="#404040",
    )
    return fig


# --- compression ------------------------------------------------------------------------------------------

SIZE_PARTS = (("table_bytes", "table (heap)", "#636363"), ("toast_bytes", "TOAST", "#bdbdbd"))
INDEX_COLOURS = {"before": "#9ecae1", "after": AFTER_COLOUR}
REDUCTION_READINGS = (
    ("compressed_chunks_pct", "compressed chunks, indexes included (judged)"),
    ("compressed_chunks_data_pct", "compressed chunks, heap + TOAST only"),
    ("hypertable_pct", "whole hypertable (recent week uncompressed)"),
    ("index_bytes_pct", "indexes of the whole hypertable"),
)


@suite_figure("compression", "compression_sizes", "Compression: sizes and reduction")
def compression_sizes(doc: Doc) -> Figure | None:
    records = ran(doc, "compression")
    if records is None:
        return None
    sizes, reduction = records["sizes"], records["reduction"]
    verdicts = _verdicts(doc, "compression")
    fig = _figure((13, 5.6))
    bars_ax, pct_ax = fig.subplots(1, 2, width_ratios=[1.25, 1])
    scale = 2**20
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
            bars_ax.text(x, total + widest * 0.01, f"{total:,.1f}", ha="center", va="bottom", fontsize=8)
            chunks = f"{st['compressed_chunks']}/{st['chunks']} chunks compressed" if state == "compressed" else "plain"
            labels.append(f"{role}\n{chunks}")
            x += 1
        labels[-1] += (
            f"\n−{reduction[role]['hypertable_pct']:.0f}% whole table"
            f"\n−{reduction[role]['compressed_chunks_pct']:.0f}% compressed chunks"
        )
        x += 0.5
    bars_ax.set_xticks([0, 1, 2.5, 3.5], labels, fontsize=8)
    bars_ax.set_ylim(0, widest * 1.12)
    bars_ax.set_ylabel("size on disk (MiB)")
    _grid(bars_ax, "y")
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
            text = "-" if value is None else f"{value:.1f}%" + (f" {word}" if judged else "")
            pct_ax.text((value or 0) + 1, y, text, va="center", fontsize=8, fontweight="bold" if judged else None)
            ticks.append((y, f"{role}: {label}"))
            y += 1
        y += 0.6
    pct_ax.set_yticks([t[0] for t in ticks], [t[1] for t in ticks], fontsize=8)
    pct_ax.set_ylim(y - 0.4, -1.4)
    pct_ax.set_xlim(0, 115)
    pct_ax.set_xlabel("size reduction by compression (%)")
    _grid(pct_ax, "x")
    pct_ax.set_title("reduction, four readings of the claim", fontsize=10)
    dataset = records["dataset"]
    subtitle = (
        f"{caption(doc)}\nrebuilt dataset of {dataset['rows']:,} rows; chunks older than "
        f"{records['compress_older_than'][:10]} (7 days before the reference instant) compressed"
    )
    _legend_below(fig, handles, subtitle, ncol=6)
    fig.suptitle("TimescaleDB compression after 7 days: size per index set", fontsize=13, fontweight="bold")
    return fig


@suite_figure("compression", "compression_overhead", "Compression: index overhead vs compression savings")
def compression_overhead(doc: Doc) -> Figure | None:
    records = ran(doc, "compression")
    if records is None:
        return None
    figures = records["overhead_vs_savings"]
    verdict = _verdicts(doc, "compression").get("compression_savings_vs_index_overhead", {})
    word = str(verdict.get("verdict", ""))
    bars = [
        ("Phase 2 index overhead,\nuncompressed", figures["index_overhead_bytes"], AFTER_COLOUR),
        ("Phase 2 index overhead,\nold chunks compressed", figures["index_overhead_bytes_once_compressed"], "#9ecae1"),
        ("compression savings\n(after instance)", figures["compression_savings_bytes"], verdict_colour(word)),
    ]
    fig = _figure((10, 4.2))
    ax = fig.add_subplot()
    widest = max(b[1] for b in bars) / 2**20
    for y, (_, size, colour) in enumerate(bars):
        ax.barh(y, size / 2**20, color=colour, height=0.6)
        ax.text(size / 2**20 + widest * 0.01, y, f"{size / 2**20:,.1f} MiB", va="center", fontsize=9)
    ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontsize=9)
    ax.set_ylim(len(bars) - 0.4, -0.6)
    ax.set_xlim(0, widest * 1.25)
    ax.set_xlabel("bytes added by the Phase 2 indexes, or saved by compression (MiB)")
    _grid(ax, "x")
    ratio = figures["savings_to_overhead"]
    share = figures["overhead_pct_of_savings"]
    summary = (
        f"savings are {ratio:.3g}x the overhead (overhead = {share:.0f}% of savings): {word.upper()}"
        if ratio is not None and share is not None
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


@suite_figure("compression", "compression_speedups", "Compression: query speedups per comparison")
def compression_speedups(doc: Doc) -> Figure | None:
    records = ran(doc, "compression")
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
                word = "failed"
            rows.append((y, SpeedupRow(case, est.get("point"), est.get("low"), est.get("high"), word), band))
            y += 1
        y += 0.4
    fig = _figure((11, 1.8 + 0.36 * y))
    ax = fig.add_subplot()
    for row_y, row, band in rows:
        if band:
            ax.fill_betweenx([row_y - 0.4, row_y + 0.4], *band, color=BAND_COLOUR, alpha=0.15, lw=0)
        colour = verdict_colour(row.verdict) if row.verdict else NEUTRAL
        _interval(ax, row_y, row, colour, "o", 7)
        right = max(v for v in (row.high, row.point, 1.0) if v)
        text = f"{_fmt_x(row.point)} {row.verdict}" if row.point is not None else "failed"
        ax.text(right * 1.12, row_y, text, va="center", fontsize=8, color=colour)
    for head_y, text in headings:
        ax.text(0.005, head_y, text, transform=ax.get_yaxis_transform(), fontsize=9, fontweight="bold", va="center")
    ax.axvline(1.0, color="black", lw=0.8, ls=":")
    ax.set_yticks([r[0] for r in rows], [r[1].label for r in rows], fontsize=8)
    ax.set_ylim(y - 0.2, -0.8)
    ax.set_xscale("log")
    lo, hi = _log_limits([1.0, *(v for _, r, b in rows for v in (r.low, r.high, *(b or ())))], 1.5)
    hi *= 2.5
    ax.set_xlim(lo, hi)
    _log_ticks(ax, "x", lo, hi, "x")
    ax.set_xlabel("speedup = median latency on the database left of → / right of → (log scale), point and 95% CI")
    handles = [
        *_verdict_handles(r.verdict for _, r, _ in rows),
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


# --- sweep ------------------------------------------------------------------------------------------------

HOUR_LABELS = {1.0: "1 h", 24.0: "1 day", 168.0: "1 week", 720.0: "30 days"}


def _is_window(dimension: str) -> bool:
    return dimension.endswith("_query_window")


def _sweep_panel(ax: Axes, curve: dict[str, Any], word: str) -> list[str]:
    lo_band, hi_band = curve["expected_min"], curve["expected_max"]
    points = list(curve["points"])
    xs = [max(p["x"], 1.0) for p in points]  # a log axis has no 0
    ax.axhspan(lo_band, hi_band, color=BAND_COLOUR, alpha=0.13, lw=0)
    ax.axhline(1.0, color="black", lw=0.8, ls=":")
    ax.plot(xs, [_or_nan(p["speedup"]) for p in points], color="#bdbdbd", lw=0.8, zorder=1)
    judgements = []
    for x, p in zip(xs, points, strict=True):
        colour = verdict_colour(p["judgement"])
        judgements.append(p["judgement"])
        if p["speedup"] is None:
            _failed_mark(ax, x, colour)
            continue
        ax.plot([x, x], [p["low"], p["high"]], color=colour, lw=1.4)
        ax.plot([x], [p["speedup"]], marker="o", ms=5, color=colour, mec="white", mew=0.5, zorder=3)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ylo, yhi = _log_limits([*(v for p in points for v in (p["low"], p["high"])), lo_band, hi_band, 1.0], 1.4)
    ax.set_ylim(ylo, yhi)
    _log_ticks(ax, "y", ylo, yhi, "x")
    if _is_window(curve["dimension"]):
        hours = sorted(set(xs))
        ax.set_xlim(hours[0] / 2, hours[-1] * 2)
        ax.set_xticks(hours, [HOUR_LABELS.get(h, f"{h:g} h") for h in hours])
        ax.minorticks_off()
    else:
        xlo, xhi = min(xs) / 1.6, max(xs) * 1.6
        ax.set_xlim(xlo, xhi)
        _log_ticks(ax, "x", max(xlo, 0.9), xhi, "")
    ax.tick_params(labelsize=8)
    _grid(ax)
    ax.set_xlabel(f"{curve['x_label']} (log)", fontsize=8)
    ax.set_title(
        f"{curve['promise']} by {curve['x_label']}: {word.upper()} (promised {lo_band:g}–{hi_band:g}x)\n"
        + textwrap.fill(curve["statement"], 78),
        fontsize=8,
        loc="left",
        color=verdict_colour(word),
    )
    return judgements


@suite_figure("sweep", "sweep_curves", "Sweep: where the speedups hold")
def sweep_curves(doc: Doc) -> Figure | None:
    records = ran(doc, "sweep")
    if records is None or not records["curves"]:
        return None
    curves = records["curves"]
    verdicts = _verdicts(doc, "sweep")
    rows = math.ceil(len(curves) / 2)
    fig = _figure((13, 1.4 + 3.6 * rows))
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
        *_verdict_handles(seen),
        Line2D([], [], color="#636363", marker="o", label="point: geomean of its parameters, 95% CI"),
        Patch(color=BAND_COLOUR, alpha=0.25, label="promised range"),
    ]
    settings = records["settings"]
    subtitle = (
        f"{caption(doc)}\neach point timed on both instances interleaved, {settings['min_rounds']}-"
        f"{settings['max_rounds']} executions after {settings['warmup']} warm-up(s); panel title: the curve's verdict"
    )
    _legend_below(fig, handles, subtitle, ncol=5)
    fig.suptitle("Where the speedups hold: speedup against the shape of the data", fontsize=13, fontweight="bold")
    return fig


@suite_figure("sweep", "sweep_p95", "Sweep: P95 latency against the query window")
def sweep_p95(doc: Doc) -> Figure | None:
    records = ran(doc, "sweep")
    points = [p for p in (records or {}).get("points", []) if _is_window(p["dimension"])]
    if records is None or not points:
        return None
    verdicts = _verdicts(doc, "sweep")
    bound = next((v["bound"] for v in verdicts.values() if v["promise"].startswith("time_range_p95/")), 100.0)
    fig = _figure((10, 5.8))
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
                f"{v['verdict'].upper()}\nworst after\n{v['point']:.3g} ms" if v["point"] else v["verdict"].upper(),
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
    ylo, yhi = _log_limits([*values, bound], 1.5)
    yhi *= 6  # room for the verdicts at the top
    ax.set_ylim(ylo, yhi)
    _log_ticks(ax, "y", ylo, yhi, " ms")
    _grid(ax)
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


# --- scaling ----------------------------------------------------------------------------------------------


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


@suite_figure("scaling", "scaling", "Scaling: speedups and storage against dataset size")
def scaling(doc: Doc) -> Figure | None:
    records = ran(doc, "scaling")
    if records is None or not records["points"]:
        return None
    promises = {p["name"]: p for p in doc.get("targets", {}).get("promises", [])}
    curves = records["curves"]
    speedup_names = [n for n in curves if promises.get(n, {}).get("kind") == "speedup_range" and curves[n]]
    sizes = [p["rows"] for p in records["points"]]
    panels = len(speedup_names) + 1
    cols = 2 if panels > 1 else 1
    rows = math.ceil(panels / cols)
    fig = _figure((12, 1.6 + 3.4 * rows))
    axes = fig.subplots(rows, cols, squeeze=False)
    seen: list[str] = []
    for ax, name in zip(axes.flat, speedup_names, strict=False):
        lo, hi = promises[name]["expected_min"], promises[name]["expected_max"]
        curve = list(curves[name])
        ax.axhspan(lo, hi, color=BAND_COLOUR, alpha=0.13, lw=0)
        ax.axhline(1.0, color="black", lw=0.8, ls=":")
        ax.plot([c["rows"] for c in curve], [_or_nan(c["point"]) for c in curve], color="#bdbdbd", lw=0.9)
        for c in curve:
            colour = verdict_colour(c["verdict"])
            seen.append(c["verdict"])
            if c["point"] is None:
                _failed_mark(ax, c["rows"], colour)
                continue
            ax.plot([c["rows"]] * 2, [c["low"], c["high"]], color=colour, lw=1.6)
            ax.plot([c["rows"]], [c["point"]], marker="o", ms=6, color=colour, mec="white", mew=0.5)
            ax.annotate(
                f"{_fmt_x(c['point'])} {c['verdict']}",
                (c["rows"], c["point"]),
                xytext=(7, 4),
                textcoords="offset points",
                fontsize=7.5,
                color=colour,
            )
        _rows_axis(ax, sizes)
        ax.set_yscale("log")
        ylo, yhi = _log_limits([*(v for c in curve for v in (c["low"], c["high"])), lo, hi, 1.0], 1.4)
        ax.set_ylim(ylo, yhi)
        _log_ticks(ax, "y", ylo, yhi, "x")
        _grid(ax)
        ax.set_ylabel("speedup before/after (log)", fontsize=8)
        ax.set_title(f"{name}: promised {lo:g}–{hi:g}x", fontsize=9, loc="left")
    _storage_panel(axes.flat[len(speedup_names)], records, promises, sizes, seen)
    for ax in axes.flat[panels:]:
        ax.set_visible(False)
    handles = [
        *_verdict_handles(seen),
        Patch(color=BAND_COLOUR, alpha=0.25, label="promised range"),
        Line2D([], [], color=NEUTRAL, marker="s", label="index overhead (reported)"),
    ]
    settings = records["settings"]
    subtitle = (
        f"{caption(doc)}\neach size regenerated with the same knobs and loaded into its own scratch databases; "
        f"{settings['min_rounds']}-{settings['max_rounds']} executions per parameter"
    )
    _legend_below(fig, handles, subtitle, ncol=4)
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
            f"storage {value:+.1f}% {word}",
            (rows, value),
            xytext=(7, 4),
            textcoords="offset points",
            fontsize=7.5,
            color=verdict_colour(word),
        )
        ax.annotate(
            f"indexes {idx:+.0f}%", (rows, idx), xytext=(7, 4), textcoords="offset points", fontsize=7.5, color=NEUTRAL
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
    _grid(ax)
    ax.set_ylabel("after vs before (%)", fontsize=8)
    ax.set_title("storage overhead (judged) and index overhead", fontsize=9, loc="left")
