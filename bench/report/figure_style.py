"""The look every figure shares: colours (instances, runs, bands, verdict words), resolution, the caption, titles,
legends and axis helpers, and the lookup of the suite section a suite figure draws.

Figures are built with matplotlib's object API on the Agg canvas: no pyplot state to leak or close, and the
notebook draws the very same functions. A verdict word keeps one colour in every figure and in report.html:
green when the statement holds, blue when it holds with room to spare, red when it does not, orange when the
interval cannot tell, grey when nothing was measured.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator

from bench.core.formatting import number
from bench.core.verdict_words import VerdictWord, verdict_word

Doc = dict[str, Any]

DPI = 120
BEFORE_COLOUR = "#8c8c8c"
AFTER_COLOUR = "#2c7fb8"
RUN_COLOURS = ("#2c7fb8", "#e6550d")  # run A, run B in comparisons
BAND_COLOUR = "#1a9850"
TOLERANCE_COLOUR = "#969696"
NEUTRAL = "#636363"
LIMIT_COLOUR = "#d73027"  # a line the figure must stay under (or, for rates, above)
READ_COLOUR = "#e6550d"
NO_VERDICT_COLOUR = "#4d4d4d"
VERDICT_COLOURS: dict[VerdictWord, str] = {
    VerdictWord.WITHIN: "#1a9850",
    VerdictWord.OK: "#1a9850",
    VerdictWord.MET: "#1a9850",
    VerdictWord.HELD: "#1a9850",
    VerdictWord.ABOVE: "#2166ac",
    VerdictWord.IMPROVED: "#2166ac",
    VerdictWord.INCONCLUSIVE: "#e08214",
    VerdictWord.BELOW: "#d73027",
    VerdictWord.REGRESSION: "#d73027",
    VerdictWord.NOT_MET: "#d73027",
    VerdictWord.NOT_HELD: "#d73027",
    VerdictWord.FAILED: NO_VERDICT_COLOUR,
    VerdictWord.NOT_MEASURED: NO_VERDICT_COLOUR,
    VerdictWord.REPORTED: NEUTRAL,
}


def verdict_colour(word: str | None, default: str = NO_VERDICT_COLOUR) -> str:
    """The colour of a verdict word in any case (tables print them upper-case); an empty word is "failed"."""
    known = verdict_word(word or VerdictWord.FAILED)
    return VERDICT_COLOURS[known] if known is not None else default


def verdict_label(word: str) -> str:
    """A legend entry: the word and what it says ("within: interval inside the promise")."""
    known = verdict_word(word)
    return f"{word}: {known.description}" if known is not None else word


def verdict_handles(words: Iterable[str]) -> list[Any]:
    """One legend dot per distinct word, in order of first appearance, labelled with the bare word."""
    return [Line2D([], [], marker="o", color=verdict_colour(w), ls="none", label=w) for w in dict.fromkeys(words) if w]


# --- captions, titles and legends -------------------------------------------------------------------------


def caption(doc: Doc) -> str:
    """Engine, dataset size and cache state: what a reader needs to know before trusting a figure."""
    cache = str(doc.get("measurement", {}).get("cache_state", "")).split(":", 1)[0] or "unknown"
    return f"{doc['engine']['label']} · {int(doc['dataset']['rows']):,} rows · {cache} cache · run {doc['run_id']}"


def new_figure(size: tuple[float, float]) -> Figure:
    fig = Figure(figsize=size, dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def figure_axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes, bool]:
    """The caller's axes and its figure, or a new figure of `size` with one axes; True when the figure is new."""
    if ax is not None:
        fig = ax.get_figure()
        assert isinstance(fig, Figure)
        return fig, ax, False
    fig = new_figure(size)
    return fig, fig.add_subplot(), True


def titles(fig: Figure, ax: Axes, owned: bool, title: str, subtitle: str) -> None:
    # On a figure of its own the title goes above everything and the caption under it; on a caller's axes
    # both go into that axes' title, so a grid of figures in the notebook stays readable.
    if owned:
        fig.suptitle(title, fontsize=13, fontweight="bold")
        ax.set_title(subtitle, fontsize=9, color="#404040")
    else:
        ax.set_title(f"{title}\n{subtitle}", fontsize=9)


def legend_below(fig: Figure, handles: Sequence[Any], subtitle: str, ncol: int = 3) -> None:
    # The caption is the legend's title: two "outside" elements on one edge would overlap.
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncol=ncol,
        fontsize=8,
        frameon=False,
        title=subtitle,
        title_fontsize=9,
    )


def boxplot(ax: Axes, data: list[float], position: float, colour: str, flier_size: float = 3.5) -> None:
    """One horizontal box of executions at `position`: quartiles, 1.5-IQR whiskers, the executions beyond as dots."""
    horizontal: dict[str, Any] = (
        {"orientation": "horizontal"}
        if tuple(int(p) for p in matplotlib.__version__.split(".")[:2]) >= (3, 10)
        else {"vert": False}
    )
    ax.boxplot(
        [data],
        positions=[position],
        widths=0.34,
        patch_artist=True,
        manage_ticks=False,
        boxprops={"facecolor": colour, "edgecolor": "#252525", "lw": 0.7},
        medianprops={"color": "black", "lw": 1.3},
        whiskerprops={"color": "#252525", "lw": 0.7},
        capprops={"color": "#252525", "lw": 0.7},
        flierprops={"marker": ".", "ms": flier_size, "mfc": colour, "mec": colour},
        **horizontal,
    )


# --- axes -------------------------------------------------------------------------------------------------


def log_ticks(ax: Axes, axis: str, low: float, high: float, unit: str) -> None:
    """Plain labels (0.5x, 2x, 10 ms) on a log axis: readers should not have to decode 10^-1."""
    decades = math.log10(high / low)
    mantissas = (1, 2, 5) if decades <= 4 else (1,)
    ticks = [
        m * 10.0**e
        for e in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)
        for m in mantissas
        if low <= m * 10.0**e <= high
    ]
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_ticklabels([f"{t:g}{unit}" for t in ticks])
    target.set_minor_locator(NullLocator())
    target.set_minor_formatter(NullFormatter())


def log_limits(values: Iterable[float | None], pad: float = 1.5) -> tuple[float, float]:
    finite = [v for v in values if v is not None and v > 0 and math.isfinite(v)]
    return (min(finite) / pad, max(finite) * pad) if finite else (0.5, 2.0)


def thousands(ax: Axes, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(lambda v, _: number(v, 0)))


def grid(ax: Axes, axis: str = "both") -> None:
    ax.grid(axis=axis, color="#ececec", lw=0.6)  # type: ignore[arg-type]
    ax.set_axisbelow(True)


def or_nan(value: float | None) -> float:
    return math.nan if value is None else value  # a failed point breaks the connecting line instead of the plot


def failed_mark(ax: Axes, x: float, colour: str) -> None:
    """A point without an estimate: a cross on the x axis, never a value on the y axis."""
    ax.plot([x], [0.03], marker="x", color=colour, transform=ax.get_xaxis_transform(), ls="none")
    ax.text(x, 0.06, VerdictWord.FAILED, transform=ax.get_xaxis_transform(), fontsize=7, color=colour, ha="center")


# --- what a suite figure reads ----------------------------------------------------------------------------


def suite_records(doc: Doc, suite: str) -> dict[str, Any] | None:
    """The suite's records when it ran; None when it is absent, skipped or failed (the figure is then left out)."""
    section = (doc.get("suites") or {}).get(suite)
    if not section or section.get("skipped") or section.get("failed") or not section.get("records"):
        return None
    records: dict[str, Any] = section["records"]
    return records


def suite_verdicts(doc: Doc, suite: str) -> dict[str, dict[str, Any]]:
    return {v["promise"]: v for v in doc["suites"][suite].get("verdicts") or []}
