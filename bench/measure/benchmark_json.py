"""The run folder's pytest-benchmark.json: the timed rounds in pytest-benchmark's JSON format, so
`pytest-benchmark compare` reads a `python -m bench run` as it reads a `pytest bench --benchmark-json` run.

A round is what pytest-benchmark timed under `pytest bench`: one execution on each instance (order alternating),
in seconds. The statistics the harness judges are per instance, in the results document; here they ride along
in each benchmark's extra_info. Statistics follow pytest_benchmark.stats.Stats (Tukey fences, quartiles by
methods 2 and 3), computed here so the runner needs neither pytest nor pytest-benchmark at run time.
"""

from __future__ import annotations

import json
import platform
import statistics
from bisect import bisect_left, bisect_right
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.measure.selection import slot_id

FILE_NAME = "pytest-benchmark.json"
FULLNAME_PREFIX = "bench/test_query_cases.py::test_case"


def _quartiles(data: list[float]) -> tuple[float, float]:
    n = len(data)
    if n == 1:
        return data[0], data[0]
    if n % 2:  # method 3
        k, q = n // 4, n % 4
        if q == 1:
            return 0.25 * data[k - 1] + 0.75 * data[k], 0.75 * data[3 * k] + 0.25 * data[3 * k + 1]
        return 0.75 * data[k] + 0.25 * data[k + 1], 0.25 * data[3 * k + 1] + 0.75 * data[3 * k + 2]
    return statistics.median(data[: n // 2]), statistics.median(data[n // 2 :])  # method 2


def round_stats(round_s: list[float]) -> dict[str, Any]:
    """pytest-benchmark's `stats` object of one benchmark (its data included, as --benchmark-json writes)."""
    if not round_s:
        raise ValueError("a benchmark without timed rounds has no statistics")
    data = sorted(round_s)
    mean = statistics.mean(round_s)  # in timing order, as pytest-benchmark sums them (the same float)
    stddev = statistics.stdev(round_s) if len(round_s) > 1 else 0.0
    q1, q3 = _quartiles(data)
    iqr = q3 - q1
    if len(data) == 1:
        ld15iqr = hd15iqr = data[0]
    else:
        ld15iqr = data[bisect_left(data, q1 - 1.5 * iqr)]
        hd15iqr = data[bisect_right(data, q3 + 1.5 * iqr) - 1]
    iqr_outliers = sum(1 for v in data if v < q1 - 1.5 * iqr or v > q3 + 1.5 * iqr)
    stddev_outliers = sum(1 for v in data if v < mean - stddev or v > mean + stddev)
    return {
        "min": data[0],
        "max": data[-1],
        "mean": mean,
        "stddev": stddev,
        "rounds": len(data),
        "median": statistics.median(data),
        "iqr": iqr,
        "q1": q1,
        "q3": q3,
        "iqr_outliers": iqr_outliers,
        "stddev_outliers": stddev_outliers,
        "outliers": f"{stddev_outliers};{iqr_outliers}",
        "ld15iqr": ld15iqr,
        "hd15iqr": hd15iqr,
        "ops": len(round_s) / sum(round_s) if sum(round_s) else 0,
        "total": sum(round_s),
        "data": list(round_s),
        "iterations": 1,
    }


def benchmark_entry(record: dict[str, Any], round_s: list[float], repeat: int) -> dict[str, Any]:
    """One timed (case, slot) as pytest-benchmark writes a test; later measurement rounds get their own name."""
    param = slot_id(record["case"], record["label"])
    round_index = int(record.get("round", 0))
    if repeat > 1:
        param += f"-round{round_index}"
    return {
        "group": None,
        "name": f"test_case[{param}]",
        "fullname": f"{FULLNAME_PREFIX}[{param}]",
        "params": {"case_slot": param},
        "param": param,
        "extra_info": {
            "case": record["case"],
            "label": record["label"],
            "round": round_index,
            "matched_rows": record["matched_rows"],
            "errors": record["errors"],
            "latencies_ms": record["latencies_ms"],
            "round_order": "before,after then after,before alternating",
        },
        "options": {
            "disable_gc": True,
            "timer": "perf_counter",
            "min_rounds": record["rounds"],
            "max_time": None,
            "min_time": None,
            "precision": None,
            "confidence": None,
            "warmup": False,
        },
        "stats": round_stats(round_s),
    }


def _version() -> str:
    try:
        return metadata.version("pytest-benchmark")
    except metadata.PackageNotFoundError:
        return "5.0.0"  # the format the file follows when pytest-benchmark is not installed beside the harness


def benchmark_document(
    timed: list[tuple[dict[str, Any], list[float]]], environment: dict[str, Any], repeat: int = 1
) -> dict[str, Any]:
    machine = platform.uname()
    return {
        "machine_info": {
            "node": machine.node,
            "processor": machine.processor,
            "machine": machine.machine,
            "python_compiler": platform.python_compiler(),
            "python_implementation": platform.python_implementation(),
            "python_implementation_version": platform.python_version(),
            "python_version": platform.python_version(),
            "python_build": list(platform.python_build()),
            "release": machine.release,
            "system": machine.system,
            "cpu": {"brand_raw": environment.get("cpu_model"), "count": environment.get("cpu_count")},
        },
        "commit_info": {
            "id": environment.get("commit"),
            "time": None,
            "author_time": None,
            "dirty": environment.get("dirty"),
            "project": "phase2-bench",
            "branch": None,
        },
        "benchmarks": [benchmark_entry(record, round_s, repeat) for record, round_s in timed if round_s],
        "datetime": datetime.now(UTC).isoformat(),
        "version": _version(),
    }


def write_benchmark_json(
    run_dir: Path, timed: list[tuple[dict[str, Any], list[float]]], environment: dict[str, Any], repeat: int = 1
) -> Path:
    path = run_dir / FILE_NAME
    path.write_text(json.dumps(benchmark_document(timed, environment, repeat), indent=4, default=str))
    return path
