"""What the extra indexes cost each write: sustained ingest rate before vs after, as an application writes.

Each instance gets a scratch copy of agent_events (its engine, schema and own index set) in a scratch database,
pre-filled with the dataset generator's first rows so the indexes the writes meet have a realistic depth.
With daily partitions or 1-day chunks every index is per partition, so the depth a write meets depends on the
rows per day, which a pre-fill of a day or more already reproduces. The rows written next are the generator's
following ones (the newest events, as a live table receives them); the same rows go to both instances.

Two ways of writing, each on one connection, one transaction per statement:
- batched multi-row INSERT (500 rows per statement), the way an ORM's createMany writes;
- COPY FROM STDIN (5,000 rows per statement), the fastest path PostgreSQL offers a client.
Repetitions interleave before and after (before first, then after first, ...) so drift hits both alike. An
INSERT's time includes psycopg turning Python values into parameters, which is what an application waits
for; the client CPU share is recorded so a client-bound figure can be recognised as such.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any

import numpy as np
import psycopg
from tqdm import tqdm

from bench.db.instances import InstancePair
from bench.judge.stats import bootstrap_speedup_interval, median_interval, summarize_latencies
from bench.judge.verdicts import Verdict, judge_min
from bench.measure.suites import SuiteContext, section, skipped
from bench.measure.suites.scratch import (
    COPY_SQL,
    RowStream,
    ScratchUnavailable,
    before_after_copies,
    expected_differences,
    insert_rows,
    insert_statement,
)
from bench.measure.timing import gc_paused
from generators.copy_format import encode_copy_text

NAME = "write_cost"
TITLE = "write cost of the Phase 2 indexes: sustained ingest rate before vs after (batched INSERT and COPY)"
ROLES = ("before", "after")
METHODS = ("insert", "copy")
SPEC_ROWS_PER_S = 50_000.0
SPEC_SOURCE = "specs/20251031/001-database-architecture: > 50,000 event writes per second"
NOT_GATED = (
    "reported, not gated: the specification's rate is for the production deployment, measured here on one "
    "client connection sharing this machine with both servers"
)


@dataclass(frozen=True)
class WriteCostSettings:
    prefill_cap: int = 200_000  # rows in each scratch copy before timing: the dataset's, up to this many
    repetitions: int = 12
    warmup_repetitions: int = 1  # untimed: the first statements on a fresh connection pay for cold caches
    insert_rows: int = 5_000  # per repetition and instance
    insert_batch: int = 500  # rows per INSERT statement
    copy_rows: int = 10_000
    copy_batch: int = 5_000  # rows per COPY statement
    confidence: float = 0.95
    seed: int = 20251101

    @property
    def rows_written(self) -> int:
        return (self.warmup_repetitions + self.repetitions) * (self.insert_rows + self.copy_rows)


def run(ctx: SuiteContext) -> dict[str, Any]:
    settings = WriteCostSettings(seed=ctx.settings.seed)
    try:
        return measure_write_cost(ctx.pair, ctx.dataset, settings, ctx.progress)
    except ScratchUnavailable as e:
        return skipped(NAME, TITLE, str(e))


def measure_write_cost(
    pair: InstancePair, dataset: dict[str, Any], settings: WriteCostSettings, progress: bool = False
) -> dict[str, Any]:
    prefill = min(int(dataset["rows"]), settings.prefill_cap)
    _say(progress, f"  write_cost: scratch copies with {prefill:,} rows, before and after index sets ...")
    with before_after_copies(pair, dataset, NAME, prefill, settings.rows_written, progress) as loaded:
        copies, spec, stream, migration = loaded.pair, loaded.spec, loaded.stream, loaded.migration
        index_check, commit = {}, {}
        for inst in (copies.before, copies.after):
            with inst.connect() as conn:
                index_check[inst.role] = expected_differences(conn, inst.role, migration)
                commit[inst.role] = _setting(conn, "synchronous_commit")
        total = settings.warmup_repetitions + settings.repetitions
        workloads = [_workload(stream, settings) for _ in range(total)]
        samples = _time_repetitions(copies, workloads, settings, progress)
    methods = {m: summarize_method(samples[m], _rows_per_rep(m, settings), settings) for m in METHODS}
    source = (
        f"the dataset's first {prefill:,} generated rows"
        if spec.rows == int(dataset["rows"])
        else f"the first {prefill:,} rows of the dataset's generator lengthened to {spec.rows:,} rows (same knobs)"
    )
    records = {
        "scratch": {
            "prefill_rows": prefill,
            "prefill_source": source,
            "rows_written_per_instance": settings.rows_written,
            "engine": pair.engine.name,
            "index_set_differences": index_check,
            "synchronous_commit": commit,
        },
        "settings": asdict(settings),
        "spec_rows_per_s": SPEC_ROWS_PER_S,
        "spec_source": SPEC_SOURCE,
        "methods": methods,
    }
    notes = [
        f"Scratch copies hold {source}; the timed writes are the generator's next rows, the same ones on both "
        "instances, interleaved repetition by repetition. The measured agent_events tables are not touched.",
        f"One client connection, autocommit (one transaction per statement), synchronous_commit "
        f"{commit['after']}. The INSERT figure includes psycopg's parameter conversion on the client; see "
        "client_cpu_share.",
    ]
    for method in METHODS:
        for role in ROLES:
            if methods[method][role]["unstable"]:
                notes.append(f"{method} on {role}: unstable rates (cv {methods[method][role]['cv']:.0%})")
    verdicts = [rate_verdict(method, role, methods[method]) for method in METHODS for role in ROLES]
    return section(
        NAME,
        TITLE,
        verdicts,
        records,
        notes,
    )


@dataclass
class _Workload:
    insert_params: list[list[Any]]  # one flat parameter list per INSERT statement
    copy_payloads: list[bytes]  # COPY text per COPY statement


def _workload(stream: RowStream, settings: WriteCostSettings) -> _Workload:
    """One repetition's rows, prepared before timing (the generator is not what is measured)."""
    rows = insert_rows(stream.take(settings.insert_rows))
    params = [
        [value for row in rows[start : start + settings.insert_batch] for value in row]
        for start in range(0, len(rows), settings.insert_batch)
    ]
    batch = stream.take(settings.copy_rows)
    payloads = [
        encode_copy_text(batch.take(slice(start, start + settings.copy_batch)))
        for start in range(0, settings.copy_rows, settings.copy_batch)
    ]
    return _Workload(params, payloads)


def _rows_per_rep(method: str, settings: WriteCostSettings) -> int:
    return settings.insert_rows if method == "insert" else settings.copy_rows


def _timed(write: Callable[[], None]) -> dict[str, float]:
    started_cpu = time.thread_time()
    started = time.perf_counter()
    write()
    wall = time.perf_counter() - started
    return {"seconds": wall, "client_cpu_s": time.thread_time() - started_cpu}


def _time_repetitions(
    copies: InstancePair, workloads: list[_Workload], settings: WriteCostSettings, progress: bool
) -> dict[str, dict[str, list[dict[str, float]]]]:
    samples: dict[str, dict[str, list[dict[str, float]]]] = {m: {r: [] for r in ROLES} for m in METHODS}
    conns = {role: copies.by_role(role).connect() for role in ROLES}
    statement = insert_statement(settings.insert_batch)
    bar = tqdm(total=len(workloads), desc="write_cost", unit="rep", disable=not progress, leave=False)
    try:
        for rep, work in enumerate(workloads):
            order = ROLES if rep % 2 == 0 else ROLES[::-1]
            for method in METHODS:
                for role in order:
                    conn = conns[role]
                    with gc_paused():
                        if method == "insert":
                            sample = _timed(partial(_insert_all, conn, statement, work.insert_params))
                        else:
                            sample = _timed(partial(_copy_all, conn, work.copy_payloads))
                    if rep >= settings.warmup_repetitions:
                        samples[method][role].append(sample)
            bar.update(1)
    finally:
        bar.close()
        for conn in conns.values():
            conn.close()
    return samples


def _insert_all(conn: psycopg.Connection[Any], statement: Any, params: list[list[Any]]) -> None:
    for values in params:
        conn.execute(statement, values)


def _copy_all(conn: psycopg.Connection[Any], payloads: list[bytes]) -> None:
    for payload in payloads:
        with conn.cursor() as cur, cur.copy(COPY_SQL) as copy:
            copy.write(payload)


def summarize_method(
    samples: dict[str, list[dict[str, float]]], rows_per_rep: int, settings: WriteCostSettings
) -> dict[str, Any]:
    """Rows/s per instance (median over repetitions, bootstrap interval) and the after/before rate ratio.

    The ratio is before seconds / after seconds for the same rows, so 0.8 means the after instance ingests
    at 80% of the before rate: each write takes 25% more time.
    """
    summary: dict[str, Any] = {"rows_per_repetition": rows_per_rep}
    for role in ROLES:
        seconds = [s["seconds"] for s in samples[role]]
        rates = [rows_per_rep / s for s in seconds]
        low, high = median_interval(rates, confidence=settings.confidence, seed=settings.seed)
        spread = summarize_latencies([s * 1000 for s in seconds])
        client_share = [s["client_cpu_s"] / s["seconds"] for s in samples[role]]
        server_rates = [
            rows_per_rep / (s["seconds"] - s["client_cpu_s"]) for s in samples[role] if s["seconds"] > s["client_cpu_s"]
        ]
        summary[role] = {
            "rows_per_s": rates,
            "median_rows_per_s": float(np.median(rates)),
            "low": low,
            "high": high,
            "cv": spread.cv,
            "unstable": spread.unstable,
            "client_cpu_share": float(np.median(client_share)),
            # Wall time minus the client's CPU time: roughly what the server alone sustains.
            "server_rows_per_s_approx": float(np.median(server_rates)) if server_rates else None,
        }
    # Paired by repetition (the same rows, written minutes apart at most): the geometric mean of the
    # per-repetition ratios, bootstrapped over repetitions, so slow drift of the machine cancels out.
    pairs = [([b["seconds"]], [a["seconds"]]) for b, a in zip(samples["before"], samples["after"], strict=True)]
    ratio = bootstrap_speedup_interval(pairs, confidence=settings.confidence, seed=settings.seed)
    summary["ratio_after_before"] = ratio.to_dict()
    summary["write_time_increase_pct"] = (1 / ratio.point - 1) * 100
    # The same with the client's CPU time taken out: the server's share, where the index cost lands.
    server_pairs = [
        ([b["seconds"] - b["client_cpu_s"]], [a["seconds"] - a["client_cpu_s"]])
        for b, a in zip(samples["before"], samples["after"], strict=True)
        if b["seconds"] > b["client_cpu_s"] and a["seconds"] > a["client_cpu_s"]
    ]
    server = (
        bootstrap_speedup_interval(server_pairs, confidence=settings.confidence, seed=settings.seed)
        if server_pairs
        else None
    )
    summary["server_ratio_after_before_approx"] = server.to_dict() if server else None
    return summary


METHOD_WORDS = {"insert": "batched INSERT", "copy": "COPY"}


def rate_verdict(method: str, role: str, summary: dict[str, Any]) -> Verdict:
    figures = summary[role]
    ratio = summary["ratio_after_before"]
    unit = f"{summary['rows_per_repetition']:,} rows per repetition"
    evidence = (
        f"{METHOD_WORDS[method]} on {role}: median {figures['median_rows_per_s']:,.0f} rows/s "
        f"(95% CI {figures['low']:,.0f}-{figures['high']:,.0f}) over {len(figures['rows_per_s'])} repetitions of "
        f"{unit}, one connection; client CPU {figures['client_cpu_share']:.0%} of the time"
    )
    if role == "after":
        evidence += (
            f"; after/before rate {ratio['point']:.2f}x (95% CI {ratio['low']:.2f}-{ratio['high']:.2f}x, paired by "
            "repetition), "
            f"each write {summary['write_time_increase_pct']:+.0f}% time"
        )
        server = summary["server_ratio_after_before_approx"]
        if server and figures["client_cpu_share"] >= 0.25:
            evidence += f" ({server['point']:.2f}x for the server's share alone, client CPU time taken out)"
    evidence += f"; the specification expects > {SPEC_ROWS_PER_S:,.0f} rows/s"
    return Verdict(
        promise=f"ingest_rate_{method}_{role}",
        kind="min",
        verdict=judge_min(figures["low"], figures["high"], SPEC_ROWS_PER_S),
        point=figures["median_rows_per_s"],
        low=figures["low"],
        high=figures["high"],
        expected_min=SPEC_ROWS_PER_S,
        expected_max=None,
        bound=SPEC_ROWS_PER_S,
        gated=False,
        reason=NOT_GATED,
        evidence=evidence,
    )


def _setting(conn: psycopg.Connection[Any], name: str) -> str:
    row = conn.execute("SELECT current_setting(%s)", [name]).fetchone()
    return str(row[0]) if row else "unknown"


def _say(progress: bool, message: str) -> None:
    if progress:
        print(message, flush=True)
