"""The application's writes in the section that opens the report: the workload's ingest units, with verdicts.

doc["suites"]["app_writes"] holds them (bench.measure.suites.app_writes); bench.report.app_section adds one row
per ingest unit to its table of weighted database time, and one clause to its headline.
"""

from __future__ import annotations

from typing import Any

SUITE = "app_writes"


def ingest_units(doc: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
    """(unit row, verdict word) per ingest unit of a run whose app_writes suite ran; [] otherwise."""
    section = (doc.get("suites") or {}).get(SUITE)
    if not section or section.get("failed") or section.get("skipped"):
        return []
    words = {v["promise"]: v["verdict"] for v in section.get("verdicts") or []}
    units = (section.get("records") or {}).get("units") or {}
    return [({"name": name, **row}, words.get(name, "failed")) for name, row in units.items()]


def batch_words(row: dict[str, Any]) -> str:
    return f"in batches of {row['batch_rows']:,}"
