"""The migration suite's figures: every write and read while each variant of the migration runs, and the
longest write stall per variant against the non-blocking bound.

Drawn from doc["suites"]["migration"] alone; None when the suite did not run (absent, skipped or failed).
"""

from __future__ import annotations

import math
import re
import textwrap
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from bench.core.formatting import milliseconds, seconds
from bench.core.verdict_words import VerdictWord
from bench.judge.verdicts import judge_blocking
from bench.report.figure_style import (
    AFTER_COLOUR,
    LIMIT_COLOUR,
    READ_COLOUR,
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
)


def _variants(records: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [(k, v) for k, v in records["scenarios"].items() if isinstance(v, dict) and "probe" in v]


def _blocking_word(key: str, scenario: dict[str, Any], verdicts: dict[str, dict[str, Any]]) -> str:
    """The suite's verdict for the variants it judged; the same rule, unjudged, for the others."""
    judged = verdicts.get("migration_non_blocking" if key == "as_written_one_transaction" else f"{key}_non_blocking")
    if judged:
        return str(judged["verdict"])
    if scenario["first_error"]:
        return VerdictWord.FAILED
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
    log_ticks(ax, "y", *ylim, " ms")
    ax.tick_params(labelsize=8)
    grid(ax, "y")
    writes = probe["writes"]
    status = (
        f"failed: {scenario['first_error']}" if scenario["first_error"] else f"ran {seconds(scenario['duration_s'], 2)}"
    )
    ax.set_title(
        f"{key}: max write stall {milliseconds(writes['max_gap_ms'], 0)}, {word.upper()}\n"
        + textwrap.shorten(status, 90, placeholder="…"),
        fontsize=9,
        loc="left",
        color=verdict_colour(word),
    )


def migration_probe(doc: Doc) -> Figure | None:
    records = suite_records(doc, "migration")
    if records is None:
        return None
    variants = _variants(records)
    if not variants:
        return None
    verdicts = suite_verdicts(doc, "migration")
    latencies = [p[1] for _, s in variants for t in ("write_timeline", "read_timeline") for p in s["probe"][t]]
    bound = variants[0][1]["probe"]["settings"]["stall_ms"]
    low, high = log_limits([*latencies, bound], 1.6)
    ylim = (max(low, 0.05), high * 1.6)
    rows = math.ceil(len(variants) / 2)
    fig = new_figure((12, 1.6 + 3.3 * rows))
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
    legend_below(fig, handles, subtitle, ncol=4)
    fig.suptitle("Migration under load: every write and read while each variant runs", fontsize=13, fontweight="bold")
    return fig


def migration_stalls(doc: Doc) -> Figure | None:
    records = suite_records(doc, "migration")
    if records is None:
        return None
    variants = _variants(records)
    if not variants:
        return None
    verdicts = suite_verdicts(doc, "migration")
    fig = new_figure((10, 1.9 + 0.55 * len(variants)))
    ax = fig.add_subplot()
    bound = variants[0][1]["probe"]["settings"]["stall_ms"]
    gaps = [s["probe"]["writes"]["max_gap_ms"] for _, s in variants]
    low, high = log_limits([*gaps, bound], 2.0)
    high *= 8  # room for the words right of the bars
    words = []
    for y, (key, scenario) in enumerate(variants):
        word = _blocking_word(key, scenario, verdicts)
        words.append(word)
        gap = scenario["probe"]["writes"]["max_gap_ms"]
        reads = scenario["probe"]["reads"]["max_gap_ms"]
        ax.barh(y, gap - low, left=low, height=0.55, color=verdict_colour(word))
        text = f"{milliseconds(gap, 0)}, {word}; reads {milliseconds(reads, 0)}"
        if scenario["first_error"]:
            text += "\n" + textwrap.shorten(f"failed: {scenario['first_error']}", 90, placeholder="…")
        ax.text(gap * 1.1, y, text, va="center", fontsize=8, color=verdict_colour(word))
    ax.axvline(bound, color=LIMIT_COLOUR, ls="--", lw=1)
    ax.text(bound, len(variants) - 0.45, f" {bound:.0f} ms: non-blocking bound", color=LIMIT_COLOUR, fontsize=8)
    ax.set_yticks(range(len(variants)), [k for k, _ in variants], fontsize=9)
    ax.set_ylim(len(variants) - 0.3, -0.6)
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    log_ticks(ax, "x", low, high, " ms")
    grid(ax, "x")
    ax.set_xlabel("longest time without a completed write (ms, log scale); text: the same for reads")
    fig.suptitle("Migration: longest write stall per variant", fontsize=13, fontweight="bold")
    ax.set_title(
        f"{caption(doc)}\nscratch copy of {records['copy_rows']:,} rows; colour: the non-blocking verdict",
        fontsize=9,
        color="#404040",
    )
    return fig
