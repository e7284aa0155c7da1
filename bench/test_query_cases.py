"""The timed query suite: one pytest-benchmark test per case and parameter slot, both instances interleaved."""

from __future__ import annotations

from typing import Any

import pytest

from bench.core.cases import Case
from bench.measure.timing import measure_sample


def test_case(case_slot: tuple[Case, str], run_context: Any, benchmark: Any) -> None:
    case, label = case_slot
    sample = run_context.sample_for(case.name, label)
    if sample is None:
        pytest.skip(f"{case.name}: the data has no candidate for parameter slot {label!r}")
    # pytest-benchmark times each round (one execution on each instance, order alternating); the
    # per-instance latencies the statistics use are in the record and in extra_info.
    record = measure_sample(
        run_context.conns, case, sample, run_context.settings, run_context.parents, pedantic=benchmark.pedantic
    )
    run_context.record(record)
    benchmark.extra_info.update(
        case=case.name,
        label=label,
        matched_rows=record["matched_rows"],
        errors=record["errors"],
        latencies_ms=record["latencies_ms"],
        round_order="before,after then after,before alternating",
    )
    assert len(record["latencies_ms"]["before"]) == record["rounds"] == len(record["latencies_ms"]["after"])
