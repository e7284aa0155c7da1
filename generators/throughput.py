"""Generator throughput on one core: rows/s for generation alone and for generation plus COPY encoding.

    python -m generators.throughput [--preset default] [--rows 300000] [--repeat 3]

The dataset shape comes from the preset (its row count sets sessions and projects); only the first --rows
rows are produced, so a large preset is measured without generating all of it. The first batch, which pays
for the session plan and vocabularies, is timed separately as set-up. Each figure is the median of
--repeat runs, with the range, because a shared machine makes single runs vary by tens of percent; the
rate per CPU-second of this process is printed too, as it depends less on what else the machine runs.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from dataclasses import dataclass

import numpy as np

from generators.copy_format import encode_copy_text
from generators.events import generate_batches
from generators.shape import GENERATOR_VERSION, PRESETS, DatasetSpec, spec_from_args


@dataclass(frozen=True)
class Run:
    rows: int
    setup_s: float  # session plan, vocabularies and the first batch
    seconds: float  # wall time of the rows after the first batch
    cpu_seconds: float  # CPU time of this process for the same rows
    copy_bytes: int  # 0 when the rows were not encoded

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds

    @property
    def rows_per_cpu_s(self) -> float:
        return self.rows / self.cpu_seconds


def measure(spec: DatasetSpec, rows: int, batch_rows: int, encode: bool) -> Run:
    started = time.perf_counter()
    batches = generate_batches(spec, batch_rows)
    next(batches)
    setup_s = time.perf_counter() - started
    produced, copy_bytes = 0, 0
    started, started_cpu = time.perf_counter(), time.process_time()
    for batch in batches:
        if encode:
            copy_bytes += len(encode_copy_text(batch))
        produced += len(batch)
        if produced >= rows:
            break
    return Run(produced, setup_s, time.perf_counter() - started, time.process_time() - started_cpu, copy_bytes)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m generators.throughput", description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="default", choices=list(PRESETS))
    parser.add_argument("--rows", type=int, default=300_000, help="rows to time per run, after the first batch")
    parser.add_argument("--batch-rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    spec = spec_from_args(None, args.preset, args.seed)

    generation, encoding = [], []
    for _ in range(args.repeat):
        generation.append(measure(spec, args.rows, args.batch_rows, encode=False))
        encoding.append(measure(spec, args.rows, args.batch_rows, encode=True))

    print(
        f"preset={args.preset} ({spec.rows:,} rows, {spec.sessions:,} sessions, {spec.project_count} projects), "
        f"{generation[0].rows:,} rows x {args.repeat} runs; generator={GENERATOR_VERSION} "
        f"numpy={np.__version__} python={platform.python_version()} cpu={platform.processor() or platform.machine()}"
    )
    print(f"set-up and first batch:  {statistics.median(run.setup_s for run in generation):8.2f} s")
    print(f"generation only:         {_rates(generation)}")
    print(f"generation + COPY text:  {_rates(encoding)}")
    copy_bytes, rows = sum(run.copy_bytes for run in encoding), sum(run.rows for run in encoding)
    print(f"COPY text size:          {copy_bytes / rows:8.0f} bytes/row")


def _rates(runs: list[Run]) -> str:
    rates = [run.rows_per_s for run in runs]
    cpu_rate = statistics.median(run.rows_per_cpu_s for run in runs)
    return (
        f"{statistics.median(rates):9,.0f} rows/s  (runs {min(rates):,.0f} to {max(rates):,.0f}); "
        f"{cpu_rate:,.0f} rows per CPU-second"
    )


if __name__ == "__main__":
    main()
