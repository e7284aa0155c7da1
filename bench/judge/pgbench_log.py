"""pgbench's per-transaction log, read into per-script latency distributions and throughput (pure, no database).

pgbench 15 writes one line per transaction (`--log`; https://www.postgresql.org/docs/15/pgbench.html,
"Per-Transaction Logging"):

    client_id transaction_no time script_no time_epoch time_us [schedule_lag] [retries]

`time` is the latency in microseconds, or `skipped` (with --rate and --latency-limit, a transaction that
would have started too late to finish in time is not sent), or `failed` (`serialization`/`deadlock` with
--failures-detailed). time_epoch.time_us is when the transaction ended. schedule_lag is present only with
--rate, retries only with --max-tries other than 1. Under --rate the latency is counted from the scheduled
start, so it holds the schedule lag: time - schedule_lag is the execution itself. Each pgbench thread writes
its own file (prefix.pid, prefix.pid.1, ...); they are read together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

OK, SKIPPED, FAILED = 0, 1, 2
FAILED_WORDS = frozenset({"failed", "serialization", "deadlock"})
# The percentiles every summary reports, and the denser spectrum the HDR-style curves are drawn from.
REPORTED_PERCENTILES = (50.0, 95.0, 99.0, 99.9)
CURVE_PERCENTILES = (0.0, 25.0, 50.0, 75.0, 90.0, 95.0, 97.5, 99.0, 99.5, 99.9, 99.95, 99.99, 100.0)


class LogFormatError(ValueError):
    """A line that is not a pgbench 15 per-transaction log line of the expected shape."""


@dataclass(frozen=True)
class TransactionLog:
    """One array per column; latency and lag in microseconds (NaN where the transaction was not run)."""

    client: npt.NDArray[np.int64]
    script: npt.NDArray[np.int64]
    status: npt.NDArray[np.int8]  # OK, SKIPPED or FAILED
    latency_us: npt.NDArray[np.float64]
    end_us: npt.NDArray[np.int64]  # completion time, microseconds since the epoch
    lag_us: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.script.size)

    @property
    def first_start_us(self) -> float:
        """When the earliest transaction began (its end minus its latency): the run's start, as logged."""
        ran = self.status == OK
        if not ran.any():
            return float(self.end_us.min()) if len(self) else 0.0
        return float((self.end_us[ran] - self.latency_us[ran]).min())

    def where(self, keep: npt.NDArray[np.bool_]) -> TransactionLog:
        return TransactionLog(
            self.client[keep],
            self.script[keep],
            self.status[keep],
            self.latency_us[keep],
            self.end_us[keep],
            self.lag_us[keep],
        )

    def between(self, start_us: float, end_us: float) -> TransactionLog:
        """The transactions that ended inside [start_us, end_us]: a warm-up is cut off this way."""
        return self.where((self.end_us >= start_us) & (self.end_us <= end_us))


def parse_log(lines: Iterable[str], rate_limited: bool, with_retries: bool = False) -> TransactionLog:
    """Parse log lines; `rate_limited` says the run used --rate (the schedule_lag column is there)."""
    expected = 6 + int(rate_limited) + int(with_retries)
    clients, scripts, statuses, latencies, ends, lags = [], [], [], [], [], []
    for number, line in enumerate(lines, start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != expected:
            raise LogFormatError(
                f"line {number}: {len(fields)} fields, expected {expected} "
                f"(rate_limited={rate_limited}, with_retries={with_retries}): {line.strip()!r}"
            )
        try:
            clients.append(int(fields[0]))
            scripts.append(int(fields[3]))
            ends.append(int(fields[4]) * 1_000_000 + int(fields[5]))
            lags.append(float(fields[6]) if rate_limited else np.nan)
        except ValueError as err:
            raise LogFormatError(f"line {number}: {err}: {line.strip()!r}") from None
        time_field = fields[2]
        if time_field == "skipped":
            statuses.append(SKIPPED)
            latencies.append(np.nan)
        elif time_field in FAILED_WORDS:
            statuses.append(FAILED)
            latencies.append(np.nan)
        else:
            try:
                latencies.append(float(time_field))
            except ValueError:
                raise LogFormatError(f"line {number}: time {time_field!r} is not a number: {line.strip()!r}") from None
            statuses.append(OK)
    return TransactionLog(
        np.asarray(clients, dtype=np.int64),
        np.asarray(scripts, dtype=np.int64),
        np.asarray(statuses, dtype=np.int8),
        np.asarray(latencies, dtype=np.float64),
        np.asarray(ends, dtype=np.int64),
        np.asarray(lags, dtype=np.float64),
    )


def read_logs(paths: Sequence[Path], rate_limited: bool, with_retries: bool = False) -> TransactionLog:
    """The files of one run (one per pgbench thread) as one log."""
    lines: list[str] = []
    for path in sorted(paths):
        lines.extend(path.read_text().splitlines())
    return parse_log(lines, rate_limited, with_retries)


def percentiles_ms(values_us: npt.NDArray[np.float64]) -> dict[str, float | None]:
    """P50/P95/P99/P99.9 and max in milliseconds (numpy's linear percentiles, as bench.judge.stats)."""
    keys = [f"p{p:g}" for p in REPORTED_PERCENTILES] + ["max"]
    if values_us.size == 0:
        return dict.fromkeys(keys)
    quantiles = np.percentile(values_us, [*REPORTED_PERCENTILES, 100.0]) / 1000.0
    return {k: float(q) for k, q in zip(keys, quantiles, strict=True)}


def percentile_curve(values_us: npt.NDArray[np.float64]) -> list[list[float]]:
    """[percentile, ms] pairs of the HDR-style spectrum, only as deep into the tail as the count supports."""
    if values_us.size == 0:
        return []
    # A percentile beyond 1 - 1/n is only the maximum again.
    deepest = 100.0 * (1.0 - 1.0 / values_us.size) if values_us.size > 1 else 0.0
    chosen = [p for p in CURVE_PERCENTILES if p <= deepest or p in (0.0, 100.0)]
    return [[p, float(v) / 1000.0] for p, v in zip(chosen, np.percentile(values_us, chosen), strict=True)]


def summarize(
    log: TransactionLog, window_s: float, sampling_rate: float, latency_limit_ms: float | None
) -> dict[str, Any]:
    """Counts, throughput and latency figures of one log (already cut to its measured window).

    `latency_ms` is what a user waits for (from the scheduled start under --rate), `exec_ms` the execution
    alone, `lag_ms` the schedule lag; `late` counts transactions that ran but took longer than the limit.
    A sampled log (--sampling-rate) is scaled back to whole counts for throughput.
    """
    ran = log.status == OK
    latency = log.latency_us[ran]
    lag = np.nan_to_num(log.lag_us[ran], nan=0.0)
    limit_us = latency_limit_ms * 1000.0 if latency_limit_ms is not None else None
    completed = int(ran.sum())
    return {
        "transactions": completed,
        "skipped": int((log.status == SKIPPED).sum()),
        "failed": int((log.status == FAILED).sum()),
        "late": int((latency > limit_us).sum()) if limit_us is not None else None,
        "tps": completed / sampling_rate / window_s if window_s > 0 else None,
        "latency_ms": percentiles_ms(latency),
        "exec_ms": percentiles_ms(latency - lag),
        "lag_ms": percentiles_ms(lag) if not np.all(np.isnan(log.lag_us)) else None,
        "mean_ms": float(latency.mean()) / 1000.0 if completed else None,
    }


def summarize_by_script(
    log: TransactionLog,
    scripts: Mapping[int, str],
    window_s: float,
    sampling_rate: float,
    latency_limit_ms: float | None = None,
) -> dict[str, dict[str, Any]]:
    """summarize() per script (named by `scripts`: script_no -> name) and for all of them together ("all")."""
    out = {"all": summarize(log, window_s, sampling_rate, latency_limit_ms)}
    for number, name in scripts.items():
        out[name] = summarize(log.where(log.script == number), window_s, sampling_rate, latency_limit_ms)
    return out


def latencies_us(log: TransactionLog, script: int | None = None) -> npt.NDArray[np.float64]:
    """Latencies of the transactions that ran, of one script or all."""
    keep = log.status == OK
    if script is not None:
        keep &= log.script == script
    return log.latency_us[keep]
