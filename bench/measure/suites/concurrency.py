"""Under load: the application's reads and the collector's ingest driven by pgbench, before vs after.

Every other figure comes from one client running one query at a time. Here pgbench (bench.measure.pgbench_run)
runs the application's reads in its mix (bench/workloads/devlog.toml, scripts from bench/queries/app by
bench.measure.pgbench_scripts) from several clients, and the collector's batches into a scratch copy of
agent_events, on one instance at a time, before and after alternating in rounds of equal length (ABBA):

- open loop: reads offered at a fixed rate (--rate), so queueing shows as latency (no coordinated omission);
  schedule lag is reported apart from execution, and transactions over the 100 ms limit are counted; once
  with prepared statements (as the ORM sends them) and once with the extended protocol;
- closed loop: reads as fast as --clients clients go (throughput), and a saturation curve at 1-32 clients;
- mixed: reads at the offered rate plus ingest at a target rate, side by side;
- ingest search: the highest ingest rate each instance sustains (pgbench keeps its schedule) while the
  reads' P95 stays under 100 ms, doubling from the target rate, then halving the interval;
- cold: the open loop again, each round right after a cold restart (bench.db.cache_state), nothing discarded.

Each round records the server's counters and the CPU pgbench and the server used. The measured agent_events is
only read; the harness's small parameter tables and scratch database are dropped at the end.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from bench.core.cases import Case
from bench.core.workload import Workload
from bench.db.cache_state import CacheController, cold_unavailable
from bench.db.instances import InstancePair
from bench.judge.load_verdicts import SPEC_READ_P95_MS, load_verdicts, phase_summary
from bench.judge.pgbench_log import percentile_curve
from bench.measure.load_rounds import ROLES, IngestLoad, Load, ReaderLoad, RoundData, Target, abba, run_round
from bench.measure.pgbench_run import Pgbench, find_pgbench
from bench.measure.pgbench_scripts import (
    Script,
    drop_param_tables,
    ingest_script,
    install_param_table,
    param_rows,
    read_script,
    reader_mix,
    write_scripts,
)
from bench.measure.server_evidence import prepare_extensions
from bench.measure.suites import SuiteContext, section, skipped
from bench.measure.suites.app import app_cases
from bench.measure.suites.app_params import AppDraw, SamplerContext, draw_params
from bench.measure.suites.scratch import (
    ScratchUnavailable,
    before_after_copies,
    insert_rows,
)

NAME = "concurrency"
TITLE = "under load: the application's reads and the collector's ingest driven by pgbench, before vs after"


@dataclass(frozen=True)
class LoadSettings:
    duration_s: int = 5  # measured seconds per round (--duration)
    warmup_s: int = 1  # run before each warm round, discarded
    rounds: int = 3  # per instance and phase, ABBA
    clients: int = 4  # --clients
    rate: float = 200.0  # offered reads per second in the open loop (--rate)
    latency_limit_ms: float = SPEC_READ_P95_MS
    protocols: tuple[str, ...] = ("prepared", "extended")
    saturation_clients: tuple[int, ...] = (1, 2, 4, 8, 16, 32)
    saturation_s: int | None = None  # per point; None: half of duration_s, at least 2
    ingest_rate: float = 2_000.0  # events per second in the mixed phase, and where the search starts
    ingest_batch: int = 100  # the collector's default batch
    ingest_variants: int = 4  # distinct batches (scripts), so executions do not repeat one batch
    ingest_clients: int = 4
    search_steps: int = 6  # per instance
    search_s: int | None = None  # per step; None: half of duration_s, at least 3
    ingest_lag_ms: float = 250.0  # an ingest schedule lag P95 beyond this is a queue: the rate is not sustained
    sustained_share: float = 0.8  # a sanity floor on achieved / offered (a short round's count is noisy)
    dashboard_open_minutes: float = 1.0  # how long a loaded dashboard keeps polling (an assumption; see docs)
    prefill_cap: int = 200_000  # rows in each scratch copy before the ingest writes
    cache: str = "warm"
    tolerance_pct: float = 10.0
    seed: int = 20251101

    @property
    def saturation_seconds(self) -> int:
        return self.saturation_s or max(2, self.duration_s // 2)

    @property
    def search_seconds(self) -> int:
        return self.search_s or max(3, self.duration_s // 2)

    @property
    def threads(self) -> int:
        return threads_for(self.clients)

    @property
    def sampling_rate(self) -> float:
        # Per-transaction logs of long runs are sampled: a tenth of the transactions still gives deep tails.
        return 1.0 if self.duration_s <= 60 else 0.1

    @property
    def warm(self) -> bool:
        return self.cache in ("warm", "both")

    @property
    def cold(self) -> bool:
        return self.cache in ("cold", "both")

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "saturation_s": self.saturation_seconds,
            "search_s": self.search_seconds,
            "threads": self.threads,
            "sampling_rate": self.sampling_rate,
        }


def threads_for(clients: int) -> int:
    # pgbench threads beyond half the cores would take CPU from the server it is measuring.
    return max(1, min(clients, (os.cpu_count() or 2) // 2))


def settings_from(ctx: SuiteContext) -> LoadSettings:
    base = LoadSettings(
        cache=ctx.settings.cache, tolerance_pct=ctx.targets.control_tolerance_pct, seed=ctx.settings.seed
    )
    options = ctx.load
    if options is None:
        return base
    chosen = {
        "duration_s": options.duration_s,
        "clients": options.clients,
        "rate": options.rate,
        "ingest_rate": options.ingest_rate,
    }
    return replace(base, **{k: v for k, v in chosen.items() if v is not None})  # type: ignore[arg-type]


def run(ctx: SuiteContext) -> dict[str, Any]:
    settings = settings_from(ctx)
    pgbench = find_pgbench(ctx.config.pg_bin)
    try:
        return measure_concurrency(ctx.pair, ctx.dataset, ctx.run_dir, settings, pgbench, ctx.progress)
    except ScratchUnavailable as e:
        return skipped(NAME, TITLE, str(e))


@dataclass
class Workbench:
    """What every phase needs: pgbench, the scripts, the targets, and where the logs go."""

    pgbench: Pgbench
    settings: LoadSettings
    readers: list[Script]
    ingest: list[Script]
    targets: dict[str, Target]
    directory: Path
    echo: bool

    def say(self, text: str) -> None:
        if self.echo:
            print(f"  concurrency: {text}", flush=True)


def _draws(
    pair: InstancePair, dataset: dict[str, Any], cases: list[Case], workload: Workload, seed: int
) -> dict[str, list[AppDraw]]:
    """The access model's draws, from the before instance (both hold the same rows), as the app suite draws them."""
    now = datetime.fromisoformat(dataset["spec"]["reference_instant"])
    with pair.before.connect() as conn:
        sampler = SamplerContext(conn, now, workload.access, seed)
        return {c.name: draw_params(sampler, c, workload.access.samples) for c in cases}


@contextlib.contextmanager
def param_tables(pair: InstancePair, tables: list[tuple[Case, list[list[str | None]]]]) -> Iterator[None]:
    """The parameter tables in both measured databases, dropped again whatever happens."""
    try:
        for inst in pair:
            with inst.connect() as conn:
                for case, rows in tables:
                    install_param_table(conn, case, rows)
        yield
    finally:
        for inst in pair:
            with contextlib.suppress(Exception), inst.connect() as conn:
                drop_param_tables(conn, [c.name for c, _ in tables])


def measure_concurrency(
    pair: InstancePair,
    dataset: dict[str, Any],
    run_dir: Path,
    settings: LoadSettings,
    pgbench: Pgbench,
    progress: bool = False,
) -> dict[str, Any]:
    cases, workload = app_cases()
    mix = reader_mix(workload, settings.dashboard_open_minutes)
    notes: list[str] = []
    chosen = [c for c in cases if c.name in mix and pair.engine.name in c.engines]
    draws = _draws(pair, dataset, chosen, workload, settings.seed)
    empty = [c.name for c in chosen if not draws[c.name]]
    notes += [f"{name}: the access model drew no parameter from this dataset; left out of the mix" for name in empty]
    chosen = [c for c in chosen if draws[c.name]]
    tables = [(c, param_rows(c, [(d.param_sample(c), d.draws) for d in draws[c.name]])) for c in chosen]
    directory = run_dir / "pgbench"
    readers = write_scripts(
        directory / "scripts",
        {c.name: read_script(c, len(rows)) for c, rows in tables},
        {c.name: mix[c.name] for c in chosen},
    )
    started = time.perf_counter()
    phases: dict[str, Any] = {}
    records: dict[str, Any] = {
        "settings": settings.to_dict(),
        "pgbench": {"path": str(pgbench.path), "version": pgbench.version},
        "mix": {s.name: s.weight for s in readers},
        "parameter_rows": {c.name: len(rows) for c, rows in tables},
        "phases": phases,
    }
    with param_tables(pair, tables):
        extensions = {inst.role: prepare_extensions(inst) for inst in pair}
        records["extensions"] = extensions
        if settings.warm:
            _warm_phases(pair, dataset, settings, pgbench, readers, directory, progress, records, extensions)
        if settings.cold:
            reason = next((r for r in (cold_unavailable(i) for i in pair) if r), None)
            if reason:
                records["cold_skipped"] = reason
                notes.append(f"cold-cache rounds not run: {reason}")
            else:
                targets = {r: Target(r, pair.by_role(r), None, {"readers": extensions[r]}) for r in ROLES}
                bench = Workbench(pgbench, settings, readers, [], targets, directory, progress)
                with CacheController(list(pair)) as controller:
                    phases["cold_open_loop"] = cold_phase(bench, controller)
    records["cpu"] = overall_cpu(records)
    records["seconds"] = time.perf_counter() - started
    notes += section_notes(records, settings, os.cpu_count() or 1)
    verdicts = load_verdicts(records, settings.tolerance_pct)
    return section(
        NAME,
        TITLE,
        verdicts,
        records,
        notes,
    )


def _warm_phases(
    pair: InstancePair,
    dataset: dict[str, Any],
    settings: LoadSettings,
    pgbench: Pgbench,
    readers: list[Script],
    directory: Path,
    progress: bool,
    records: dict[str, Any],
    extensions: dict[str, dict[str, str | None]],
) -> None:
    phases = records["phases"]
    prefill = min(int(dataset["rows"]), settings.prefill_cap)
    batch_rows = settings.ingest_batch * settings.ingest_variants
    if progress:
        print(f"  concurrency: scratch copies with {prefill:,} rows for the ingest ...", flush=True)
    with before_after_copies(pair, dataset, NAME, prefill, batch_rows, progress) as loaded:
        copies, spec, stream = loaded.pair, loaded.spec, loaded.stream
        rows = insert_rows(stream.take(batch_rows))
        texts = {
            f"ingest_{i + 1}": ingest_script(
                rows[i * settings.ingest_batch : (i + 1) * settings.ingest_batch], spec.window_start, f"ingest_{i + 1}"
            )
            for i in range(settings.ingest_variants)
        }
        ingest = write_scripts(directory / "scripts", texts, dict.fromkeys(texts, 1))
        targets = {
            role: Target(
                role,
                pair.by_role(role),
                copies.by_role(role),
                {"readers": extensions[role], "ingest": prepare_extensions(copies.by_role(role))},
            )
            for role in ROLES
        }
        records["scratch"] = {
            "prefill_rows": prefill,
            "engine": pair.engine.name,
            "ingest_batch": settings.ingest_batch,
        }
        bench = Workbench(pgbench, settings, readers, ingest, targets, directory, progress)
        for protocol in settings.protocols:
            phases[f"open_loop_{protocol}"] = run_phase(bench, f"open_loop_{protocol}", open_loop(bench, protocol))
        phases["closed_loop"] = run_phase(bench, "closed_loop", closed_loop(bench, settings.clients))
        records["saturation"] = saturation(bench)
        phases["mixed"] = run_phase(bench, "mixed", mixed(bench, settings.ingest_rate))
        records["ingest_search"] = ingest_search(bench)


# ---- loads ---------------------------------------------------------------------------------------------------


def open_loop(bench: Workbench, protocol: str, warmup_s: int | None = None) -> Load:
    s = bench.settings
    readers = ReaderLoad(bench.readers, protocol, s.clients, s.threads, s.rate, s.latency_limit_ms)
    return Load(readers, None, s.duration_s, s.warmup_s if warmup_s is None else warmup_s, s.sampling_rate)


def closed_loop(bench: Workbench, clients: int, duration_s: int | None = None) -> Load:
    s = bench.settings
    readers = ReaderLoad(bench.readers, "prepared", clients, threads_for(clients), None, None)
    return Load(readers, None, duration_s or s.duration_s, s.warmup_s, s.sampling_rate)


def mixed(bench: Workbench, events_per_s: float, duration_s: int | None = None) -> Load:
    s = bench.settings
    readers = ReaderLoad(bench.readers, "prepared", s.clients, s.threads, s.rate, s.latency_limit_ms)
    ingest = IngestLoad(bench.ingest, s.ingest_clients, events_per_s / s.ingest_batch, s.ingest_batch)
    return Load(readers, ingest, duration_s or s.duration_s, s.warmup_s, s.sampling_rate)


def describe(load: Load) -> dict[str, Any]:
    out: dict[str, Any] = {
        "duration_s": load.duration_s,
        "warmup_s": load.warmup_s,
        "sampling_rate": load.sampling_rate,
    }
    if load.readers:
        r = load.readers
        out |= {"protocol": r.protocol, "clients": r.clients, "threads": r.threads, "rate": r.rate}
        out["latency_limit_ms"] = r.latency_limit_ms
    if load.ingest:
        out["ingest_events_per_s"] = load.ingest.rate * load.ingest.batch_rows
        out["ingest_clients"] = load.ingest.clients
    return out


# ---- phases --------------------------------------------------------------------------------------------------


def _round(bench: Workbench, phase: str, number: int, role: str, load: Load) -> RoundData:
    log_dir = bench.directory / phase / f"{role}_{number + 1}"
    data = run_round(bench.pgbench, bench.targets[role], load, log_dir, f"{phase} #{number + 1}", bench.echo)
    data.record["round"] = number + 1
    return data


def _curves(data: list[RoundData], names: list[str]) -> dict[str, dict[str, list[list[float]]]]:
    """Latencies pooled over an instance's rounds, as percentile spectra per script."""
    curves: dict[str, dict[str, list[list[float]]]] = {}
    for role in ROLES:
        mine = [d for d in data if d.record["role"] == role and not d.record["aborted"]]
        curves[role] = {
            name: percentile_curve(np.concatenate([d.latencies.get(name, np.empty(0)) for d in mine] or [np.empty(0)]))
            for name in ["all", *names]
        }
    return curves


def run_phase(
    bench: Workbench, name: str, load: Load, before_round: Callable[[str], dict[str, Any]] | None = None
) -> dict[str, Any]:
    bench.say(f"{name}: {bench.settings.rounds} rounds per instance of {load.run_s} s ...")
    data = []
    for number, role in abba(bench.settings.rounds):
        prepared = before_round(role) if before_round else None
        round_data = _round(bench, name, number, role, load)
        if prepared is not None:
            round_data.record["cold_state"] = prepared
        data.append(round_data)
    names = [s.name for s in bench.readers]
    records = [d.record for d in data]
    return {
        "load": describe(load),
        "rounds": records,
        "summary": phase_summary(records, names, bench.settings.seed),
        "curves": _curves(data, names) if load.readers else {},
    }


def cold_phase(bench: Workbench, controller: CacheController) -> dict[str, Any]:
    # Nothing is discarded: the first seconds after a cold start are what this phase is about.
    return run_phase(
        bench,
        "cold_open_loop",
        open_loop(bench, "prepared", warmup_s=0),
        before_round=lambda role: controller.make_cold(role).to_dict(),
    )


def saturation(bench: Workbench) -> dict[str, Any]:
    s = bench.settings
    bench.say(
        f"saturation: {len(s.saturation_clients)} client counts, {s.saturation_seconds + s.warmup_s} s per instance ..."
    )
    points = []
    for i, clients in enumerate(s.saturation_clients):
        point: dict[str, Any] = {"clients": clients}
        for role in ROLES if i % 2 == 0 else ROLES[::-1]:
            data = _round(bench, f"saturation_{clients}", 0, role, closed_loop(bench, clients, s.saturation_seconds))
            figures = data.record.get("readers", {}).get("all", {})
            point[role] = {
                "tps": figures.get("tps"),
                "p95_ms": (figures.get("latency_ms") or {}).get("p95"),
                "p99_ms": (figures.get("latency_ms") or {}).get("p99"),
                "aborted": data.record["aborted"],
                "cpu": data.record["cpu"],
            }
        points.append(point)
    return {"duration_s": s.saturation_seconds, "protocol": "prepared", "points": points}


def _passes(record: dict[str, Any], settings: LoadSettings, bound_ms: float) -> tuple[bool, str]:
    """Sustained: pgbench kept the ingest schedule (its lag stayed short) and the reads stayed under the bound.

    The lag decides, not the count: at a few dozen batches a second the count of one short round varies by a
    tenth by chance (Poisson), while a server that falls behind lets the lag grow through the whole round.
    """
    ingest = record.get("ingest") or {}
    p95 = (record.get("readers", {}).get("all", {}).get("latency_ms") or {}).get("p95")
    lag = ((ingest.get("batches") or {}).get("lag_ms") or {}).get("p95")
    achieved, offered = ingest.get("events_per_s") or 0.0, ingest.get("offered_events_per_s") or 0.0
    if record["aborted"]:
        return False, "pgbench clients aborted"
    if lag is None or lag > settings.ingest_lag_ms or achieved < settings.sustained_share * offered:
        return False, f"ingest fell behind ({achieved:,.0f} of {offered:,.0f} events/s, schedule lag P95 {lag} ms)"
    if p95 is None or p95 >= bound_ms:
        return False, f"read P95 {p95 if p95 is None else round(p95, 1)} ms"
    return True, ""


def next_rate(low: float | None, high: float | None, current: float) -> float:
    """Doubling until a rate fails, then the geometric middle of the last pass and the first failure."""
    if high is None:
        return current * 2
    if low is None:
        return current / 2
    return math.sqrt(low * high)


@dataclass
class SearchState:
    rate: float
    low: float | None = None  # highest rate that passed
    high: float | None = None  # lowest rate that failed
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def narrowed(self) -> bool:
        return self.low is not None and self.high is not None and self.high / self.low < 1.2

    def record(self, rate: float, passed: bool) -> None:
        if passed:
            self.low = rate if self.low is None else max(self.low, rate)
        else:
            self.high = rate if self.high is None else min(self.high, rate)
        self.rate = next_rate(self.low, self.high, rate)


def ingest_search(bench: Workbench) -> dict[str, Any]:
    s = bench.settings
    bench.say(f"ingest search: up to {s.search_steps} steps per instance of {s.search_seconds + s.warmup_s} s ...")
    state = {role: SearchState(s.ingest_rate) for role in ROLES}
    for step in range(s.search_steps):
        for role in ROLES if step % 2 == 0 else ROLES[::-1]:
            st = state[role]
            if st.narrowed:
                continue  # found to within 20%
            rate = st.rate
            data = _round(bench, f"search_{step + 1}", 0, role, mixed(bench, rate, s.search_seconds))
            ok, why = _passes(data.record, s, SPEC_READ_P95_MS)
            readers = data.record.get("readers", {}).get("all", {})
            st.steps.append(
                {
                    "offered_events_per_s": rate,
                    "achieved_events_per_s": (data.record.get("ingest") or {}).get("events_per_s"),
                    "read_p95_ms": (readers.get("latency_ms") or {}).get("p95"),
                    "read_tps": readers.get("tps"),
                    "passed": ok,
                    "why": why,
                    "cpu": data.record["cpu"],
                    "evidence": data.record["evidence"],
                }
            )
            st.record(rate, ok)
    out: dict[str, Any] = {
        "read_p95_bound_ms": SPEC_READ_P95_MS,
        "sustained_share": s.sustained_share,
        "ingest_lag_ms": s.ingest_lag_ms,
        "reads_per_s": s.rate,
    }
    for role in ROLES:
        st = state[role]
        out[role] = {
            "highest_sustained_events_per_s": st.low,
            "lowest_failed_events_per_s": st.high,
            "limit_found": st.high is not None,
            "steps": st.steps,
        }
    return out


def overall_cpu(records: dict[str, Any]) -> dict[str, Any]:
    """The driver's share of all CPU time pgbench and the servers used, over every round of the suite."""
    cpus = [r["cpu"] for p in records["phases"].values() for r in p["rounds"]]
    cpus += [pt[role]["cpu"] for pt in (records.get("saturation") or {}).get("points", []) for role in ROLES]
    cpus += [st["cpu"] for role in ROLES for st in (records.get("ingest_search") or {}).get(role, {}).get("steps", [])]
    measured = [c for c in cpus if c["server_cpu_s"] is not None]
    driver = sum(c["driver_cpu_s"] for c in measured)
    server = sum(c["server_cpu_s"] for c in measured)
    wall = sum(c["wall_s"] for c in measured)
    cores = os.cpu_count() or 1
    return {
        "rounds": len(cpus),
        "driver_cpu_s": driver,
        "server_cpu_s": server if measured else None,
        "driver_share": driver / (driver + server) if measured and driver + server > 0 else None,
        "machine_busy": (driver + server) / (wall * cores) if measured and wall > 0 else None,
        "cores": cores,
    }


def section_notes(records: dict[str, Any], settings: LoadSettings, cores: int) -> list[str]:
    cpu = records["cpu"]
    notes = [
        f"pgbench {records['pgbench']['version']}; reads are the application's weighted cases in its mix "
        f"(weights per 1,000 page views: {', '.join(f'{k} {v}' for k, v in records['mix'].items())}), stream polls "
        f"assuming a dashboard stays open {settings.dashboard_open_minutes:g} min after it loads.",
        f"Rounds: {settings.rounds} per instance and phase, before and after alternating (ABBA), "
        f"{settings.duration_s} s measured after {settings.warmup_s} s discarded; an instance's figure is the median "
        "of its rounds with their range, a ratio's interval is the bootstrap over the rounds.",
        "Ingest writes the dataset generator's rows as multi-row INSERT ... ON CONFLICT DO NOTHING batches into a "
        "scratch copy with the instance's index set (the measured agent_events is only read); values are literals in "
        "a statement prepared once, where Prisma binds them as parameters; ids are new per execution, timestamps move.",
    ]
    if cpu.get("driver_share") is not None:
        notes.append(
            f"CPU: pgbench used {cpu['driver_share']:.0%} of the CPU time it and the server spent "
            f"({cpu['driver_cpu_s']:,.1f} s vs {cpu['server_cpu_s']:,.1f} s); machine {cpu['machine_busy']:.0%} busy "
            f"on {cores} cores during the rounds."
        )
    if cores <= 4:
        notes.append(
            f"On {cores} cores the driver, the measured server and the idle other server share the CPU: the figures "
            "compare before and after under the same load, they do not show what a production server sustains "
            "(the 50,000 events/s of the specification needs a server of its own; point --before-dsn/--after-dsn "
            "at one)."
        )
    for reason in (records.get("extensions") or {}).get("before", {}).values():
        if reason:
            notes.append(f"{reason}: skipped in the per-round evidence")
    return notes
