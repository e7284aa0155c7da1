"""Every figure a report draws, in one plain registry: name -> what it is titled and which function draws it.

The report, the notebook and the tests read FIGURES; SUITE_FIGURES says which figures belong to which suite,
so a report shows them under that suite's verdicts. Adding a figure means adding a line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from matplotlib.figure import Figure

from bench.report import (
    plots,
    plots_app,
    plots_app_writes,
    plots_compression,
    plots_load,
    plots_migration,
    plots_scaling,
    plots_sweep,
    plots_write_cost,
)

Doc = dict[str, Any]


@dataclass(frozen=True)
class FigureSpec:
    name: str  # file stem in the run folder: <name>.png
    title: str  # heading above the figure in report.md and report.html
    draw: Callable[[Doc], Figure | None]  # None when the document holds nothing for this figure


# The application's workload opens the report, so its figures are drawn there rather than under the suites.
APP_FIGURES = (
    FigureSpec("app_weighted_time", "Application workload: database time per page type", plots_app.weighted_time),
    FigureSpec("app_latency", "Application workload: latency per case", plots_app.case_latency),
)
APP_FIGURE_NAMES = tuple(spec.name for spec in APP_FIGURES)
# "Under load" (the concurrency suite and the cold-cache figures) has a section of its own, like the app's.
LOAD_FIGURES = (
    FigureSpec("load_latency", "Under load: latency by percentile per read", plots_load.latency_spectra),
    FigureSpec("load_saturation", "Under load: saturation curve", plots_load.saturation_curve),
    FigureSpec("load_mixed", "Under load: reads beside the ingest", plots_load.mixed_load),
    FigureSpec("cold_warm", "Cold vs warm cache: speedup per promise", plots_load.cold_warm),
)
LOAD_FIGURE_NAMES = tuple(spec.name for spec in LOAD_FIGURES)
_RUN_FIGURES = (
    *APP_FIGURES,
    *LOAD_FIGURES,
    FigureSpec("speedups", "Speedup per case", plots.speedups),
    FigureSpec("latency", "Latency distributions, before vs after", plots.latency),
    FigureSpec("speedup_vs_rows", "Speedup against rows matched, per parameter", plots.speedup_vs_rows),
    FigureSpec("storage", "Storage before and after", plots.storage),
)
# suite name -> its figures, in drawing order
SUITE_FIGURES_BY_SUITE: dict[str, tuple[FigureSpec, ...]] = {
    "app_writes": (
        FigureSpec(
            "app_writes", "Application writes: the ingest routes' statements, before vs after", plots_app_writes.ingest
        ),
    ),
    "write_cost": (FigureSpec("write_cost", "Write cost: ingest rate before vs after", plots_write_cost.write_cost),),
    "migration": (
        FigureSpec(
            "migration_probe",
            "Migration: write and read latency while each variant runs",
            plots_migration.migration_probe,
        ),
        FigureSpec("migration_stalls", "Migration: longest write stall per variant", plots_migration.migration_stalls),
    ),
    "compression": (
        FigureSpec("compression_sizes", "Compression: sizes and reduction", plots_compression.compression_sizes),
        FigureSpec(
            "compression_overhead",
            "Compression: index overhead vs compression savings",
            plots_compression.compression_overhead,
        ),
        FigureSpec(
            "compression_speedups", "Compression: query speedups per comparison", plots_compression.compression_speedups
        ),
    ),
    "sweep": (
        FigureSpec("sweep_curves", "Sweep: where the speedups hold", plots_sweep.sweep_curves),
        FigureSpec("sweep_p95", "Sweep: P95 latency against the query window", plots_sweep.sweep_p95),
    ),
    "scaling": (FigureSpec("scaling", "Scaling: speedups and storage against dataset size", plots_scaling.scaling),),
}
FIGURES: dict[str, FigureSpec] = {spec.name: spec for spec in _RUN_FIGURES}
FIGURES.update({spec.name: spec for specs in SUITE_FIGURES_BY_SUITE.values() for spec in specs})
SUITE_FIGURES: dict[str, list[str]] = {
    suite: [spec.name for spec in specs] for suite, specs in SUITE_FIGURES_BY_SUITE.items()
}
