"""`python -m bench profile`: the shape of an existing agent_events table as a small JSON profile.

The profiler reads in one REPEATABLE READ, READ ONLY transaction (default_transaction_read_only too), with a
statement_timeout, and samples tables larger than `sample_above_rows` with TABLESAMPLE SYSTEM. Only counts,
shares, quantiles and fitted exponents come out of the database, plus the category names the user allows
(`--allow-values`): the SQL in bench/queries/profile/ groups file paths, commands, messages and ids inside the
server and returns how many there are, never what they are.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from bench.core.cases import QUERIES_DIR
from bench.core.errors import HarnessError
from bench.db.database import connect, redact_dsn
from generators.profile import (
    MIN_FILE_EVENTS_FOR_CONCENTRATION,
    PROFILE_KIND,
    PROFILE_SCHEMA_VERSION,
    ProfileError,
    compare_profiles,
    fidelity_passed,
    fit_file_popularity,
    fit_session_sigma,
    fit_spec,
    fit_zipf_exponent,
    format_fidelity,
    read_profile,
    weighted_quantiles,
)
from generators.shape import DatasetSpec, SpecError, spec_from_args

PROFILE_SQL_DIR = QUERIES_DIR / "profile"
# Columns whose values (category names) may be written to the profile; data_keys: the top-level keys of data.
ALLOWABLE_VALUES = ("event_type", "agent_id", "severity", "tags", "data_keys")
FILE_PATH_KEY = "filePath"
# Stored size of `data` above which PostgreSQL keeps the value out of line (TOAST_TUPLE_THRESHOLD, ~2 kB).
LARGE_PAYLOAD_BYTES = 2_000
# A session whose events pause this long somewhere was resumed later (the generator pauses 8-40 hours).
RESUMED_PAUSE_HOURS = 6
SIGMA_FIT_QUANTILES = (0.25, 0.5, 0.75, 0.9)  # session length quantiles the lognormal sigma is fitted to
MAX_CATEGORIES = 50  # more distinct values than this are summed up as "(other)"
# Columns the profile reads, and the types it needs where the SQL depends on them (None: any type).
REQUIRED_COLUMNS: dict[str, tuple[str, ...] | None] = {
    "timestamp": ("timestamp with time zone", "timestamp without time zone"),
    "event_type": None,
    "agent_id": None,
    "session_id": None,
    "project_id": None,
    "data": ("jsonb",),
    "metrics": None,
    "parent_event_id": None,
    "related_event_ids": None,
    "tags": ("text[]", "character varying[]"),
    "severity": None,
}


@dataclass(frozen=True)
class ProfileOptions:
    table: str = "agent_events"
    allow_values: tuple[str, ...] = ALLOWABLE_VALUES
    sample_above_rows: int = 2_000_000  # larger tables are sampled
    sample_rows: int = 500_000  # rows aimed at when sampling
    max_sessions: int = 10_000  # sessions whose events are all read for the per-session statistics
    sample_percent: float | None = None  # sample exactly this share of pages (fidelity: as the source was)
    statement_timeout_ms: int = 120_000
    seed: int = 42  # TABLESAMPLE ... REPEATABLE (seed): the same pages for every query of the profile

    def validate(self) -> None:
        unknown = sorted(set(self.allow_values) - set(ALLOWABLE_VALUES))
        if unknown:
            raise HarnessError(
                f"--allow-values {','.join(unknown)}: only category names of {', '.join(ALLOWABLE_VALUES)} can be "
                "written to a profile; file paths, commands, messages and ids never are"
            )
        if self.sample_rows < 1_000 or self.sample_above_rows < 1 or self.max_sessions < 10:
            raise HarnessError("need --sample-rows >= 1000, --sample-above-rows >= 1 and at least 10 sessions")
        if self.sample_percent is not None and not 0 < self.sample_percent <= 100:
            raise HarnessError(f"sample percent {self.sample_percent} must be in (0, 100]")
        if self.statement_timeout_ms < 1:
            raise HarnessError("--statement-timeout-ms must be positive")


@contextlib.contextmanager
def read_only_transaction(dsn: str, statement_timeout_ms: int) -> Iterator[psycopg.Connection[Any]]:
    """One REPEATABLE READ, READ ONLY transaction (rolled back at the end) on a session whose
    default_transaction_read_only is on: every statement sees the same snapshot and none can write."""
    conn = connect(dsn, "profiled", autocommit=True, user_search_path=True)
    try:
        conn.execute("SET default_transaction_read_only = on")
        conn.autocommit = False
        conn.read_only = True
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.execute("SET TRANSACTION READ ONLY")
        row = conn.execute("SHOW transaction_read_only").fetchone()
        if not row or row[0] != "on":
            raise HarnessError("the profiler's transaction is not read-only; refusing to profile")
        conn.execute("SET LOCAL lock_timeout = '10s'")
        conn.execute("SET LOCAL TimeZone = 'UTC'")
        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(sql.Literal(statement_timeout_ms)))
        yield conn
    finally:
        with contextlib.suppress(psycopg.Error):
            conn.rollback()
        conn.close()


class _Reader:
    """Runs the profile's SQL files against one relation, turning server errors into messages that say what
    to fix."""

    def __init__(self, conn: psycopg.Connection[Any], options: ProfileOptions) -> None:
        self.conn = conn
        self.options = options
        self.table: sql.Composable = sql.SQL("")
        self.source: sql.Composable = sql.SQL("")
        self.name = options.table

    def rows(self, name: str, params: dict[str, Any] | None = None, **parts: sql.Composable) -> list[Any]:
        text = (PROFILE_SQL_DIR / f"{name}.sql").read_text()
        query = sql.SQL(text).format(table=self.table, source=self.source, **parts)
        try:
            return self.conn.execute(query, params or {}).fetchall()
        except psycopg.errors.QueryCanceled:
            raise HarnessError(
                f"profiling {self.name}: {name}.sql ran longer than the statement timeout "
                f"({self.options.statement_timeout_ms} ms). Sample less (--sample-rows, --sample-above-rows) or "
                "allow more time (--statement-timeout-ms)."
            ) from None
        except psycopg.errors.InsufficientPrivilege as e:
            raise HarnessError(
                f"profiling {self.name}: {str(e).strip()}. The profiler needs SELECT on the table: "
                f"GRANT SELECT ON {self.name} TO <role>"
            ) from None
        except psycopg.errors.LockNotAvailable:
            raise HarnessError(
                f"profiling {self.name}: waited 10 s for a lock another session holds (a migration?); retry later"
            ) from None
        except psycopg.Error as e:
            raise HarnessError(f"profiling {self.name}: {name}.sql failed: {str(e).strip()}") from None

    def one(self, name: str, params: dict[str, Any] | None = None, **parts: sql.Composable) -> Any:
        rows = self.rows(name, params, **parts)
        return rows[0] if rows else None


def profile_database(dsn: str, options: ProfileOptions | None = None) -> dict[str, Any]:
    """The profile of the agent_events table behind dsn; never writes to that database."""
    options = options or ProfileOptions()
    options.validate()
    with read_only_transaction(dsn, options.statement_timeout_ms) as conn:
        reader = _Reader(conn, options)
        oid, table_sql, settings = _check_table(reader, redact_dsn(dsn))
        reader.table = sql.SQL(table_sql)
        sampling = _plan_sampling(reader, oid)
        reader.source = (
            reader.table
            if sampling["percent"] >= 100
            else sql.SQL("{} TABLESAMPLE SYSTEM ({}) REPEATABLE ({})").format(
                reader.table, sql.Literal(sampling["percent"]), sql.Literal(options.seed)
            )
        )
        profile = _profile(reader, sampling)
        profile["source"] = {"table": table_sql, **settings, "statement_timeout_ms": options.statement_timeout_ms}
        return profile


def _check_table(reader: _Reader, where: str) -> tuple[int, str, dict[str, str]]:
    """The table's oid, quoted name and the server settings the profile records, after checking the table
    exists, may be read and has the columns the profile reads."""
    name = reader.name
    found = reader.one("relation", {"table": name})
    if found is None:
        raise HarnessError(
            f"there is no table {name!r} in the database {where} (search_path: {reader.one('search_path')[0]}). "
            "Check the DSN's dbname, or name the table with --table schema.table"
        )
    oid, kind, quoted, may_select, role, server_version, read_only = found
    if not may_select:
        raise HarnessError(
            f"role {role!r} may not read {name}: the profiler needs SELECT on it (and CONNECT on the database); "
            f"GRANT SELECT ON {name} TO {role}, or profile as a role that has it"
        )
    if kind == "v":
        raise HarnessError(f"{name} is a view: profile the table it reads from (--table)")
    columns = dict(reader.rows("columns", {"oid": oid}))
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    wrong = [
        f"{c} is {columns[c]} (needs {' or '.join(types)})"
        for c, types in REQUIRED_COLUMNS.items()
        if c in columns and types is not None and columns[c] not in types
    ]
    if missing or wrong:
        problems = ([f"missing column(s) {', '.join(missing)}"] if missing else []) + wrong
        raise HarnessError(
            f"{name} does not look like agent_events: {'; '.join(problems)}. The profile reads "
            f"{', '.join(REQUIRED_COLUMNS)} (schema/agent_events.sql); point --table at such a table"
        )
    return oid, quoted, {"server_version": server_version, "transaction_read_only": read_only}


def _plan_sampling(reader: _Reader, oid: int) -> dict[str, Any]:
    """Whole table when small, else TABLESAMPLE SYSTEM aiming at sample_rows rows (or sample_percent when
    given). Size comes from pg_class, as the planner estimates it, for the table and its partitions or chunks,
    or from a bounded count when a part of it was never vacuumed or analyzed."""
    options = reader.options
    estimated, unknown, _ = reader.one("table_size", {"oid": oid})
    how: str | None = None if unknown else "pg_class (rows per page x pages)"
    if options.sample_percent is not None:
        percent = options.sample_percent
    else:
        if unknown:
            head = reader.one("bounded_count", {"limit": options.sample_above_rows + 1})[0]
            if head > options.sample_above_rows:
                raise HarnessError(
                    f"{reader.name} has more than {options.sample_above_rows:,} rows but no planner statistics "
                    "(never vacuumed or analyzed since it filled), so the profiler cannot size a sample: run ANALYZE "
                    "on it (or ask its owner to), or raise --sample-above-rows to read it whole"
                )
            estimated, how = float(head), "count"
        percent = 100.0
        if estimated > options.sample_above_rows:
            percent = max(0.0001, min(100.0, round(100.0 * options.sample_rows / estimated, 4)))
    return {
        "method": "whole table" if percent >= 100 else "TABLESAMPLE SYSTEM",
        "percent": percent,
        "estimated_rows": round(estimated) if how else None,
        "estimated_by": how,
    }


def _profile(reader: _Reader, sampling: dict[str, Any]) -> dict[str, Any]:
    options = reader.options
    sampled = sampling["percent"] < 100
    p = sampling["percent"] / 100
    rows, first, last, projects, sessions_seen, metrics_null, parents, related, large, data_bytes = reader.one(
        "overview", {"large_bytes": LARGE_PAYLOAD_BYTES}
    )
    if rows == 0:
        if sampled:
            raise HarnessError(
                f"the {sampling['percent']}% sample of {reader.name} is empty: raise --sample-rows or "
                "--sample-above-rows"
            )
        raise HarnessError(f"{reader.name} is empty: there is nothing to profile; load or point at a table with rows")
    total_rows = int(rows)
    if sampled:
        # The planner's estimate when there is one: a sample's own scale-up varies with its pages' fill.
        total_rows = sampling["estimated_rows"] or round(rows / p)
        sampling.update(sampled_rows=int(rows), scaled_up_rows=round(rows / p), seed=options.seed)
    first, last = _utc(first), _utc(last)
    project_rows = np.array([r[0] for r in reader.rows("project_rows")], dtype=np.float64)
    sessions = _sessions(reader, p, int(rows), int(sessions_seen), sampled)
    sampling["sessions_profiled"] = sessions.pop("profiled")
    return {
        "schema_version": PROFILE_SCHEMA_VERSION,
        "kind": PROFILE_KIND,
        "profiled_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "privacy": {
            "values_written": sorted(options.allow_values),
            "never_written": "ids, file paths, commands, queries, messages and other payload values",
        },
        "sampling": sampling,
        "rows": {"count": total_rows, "exact": not sampled},
        "time": _time(first, last, sessions.pop("starts")),
        "projects": {
            "count": int(projects),
            "exact": not sampled,
            "top_share": round(float(project_rows[0] / project_rows.sum()), 5),
            "zipf_s": fit_zipf_exponent(project_rows.tolist()),
            "rows_per_project": _quantiles(project_rows / p, (0.5, 0.9, 1.0), ("p50", "p90", "max")),
        },
        "sessions": sessions,
        "event_types": _mix(reader, "event_type", "shares", _categories(reader, "event_type", int(rows))),
        "agents": _mix(reader, "agent_id", "session_shares", sessions.pop("agent_shares")),
        "severity": _mix(reader, "severity", "shares", _categories(reader, "severity", int(rows))),
        "tags": _tags(reader, int(rows)),
        "payload": {
            "data_bytes": dict(zip(("p50", "p90", "p99", "max"), map(int, data_bytes), strict=True)),
            "large_bytes": LARGE_PAYLOAD_BYTES,
            "large_fraction": round(large / rows, 6),
            "metrics_null_fraction": round(metrics_null / rows, 5),
            "parent_fraction": round(parents / rows, 5),
            "related_fraction": round(related / rows, 5),
            "data_keys_named": "data_keys" in options.allow_values,
            "data_keys": _categories(reader, "data_keys", int(rows)),
        },
        "file_paths": _file_paths(reader, int(rows), sampled),
    }


def _utc(value: datetime) -> datetime:
    # timestamp without time zone is read as UTC
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _quantiles(values: np.ndarray, qs: Sequence[float], names: Sequence[str]) -> dict[str, float]:
    found = weighted_quantiles(values, np.ones(len(values)), qs)
    return {n: round(v, 3) for n, v in zip(names, found, strict=True)}


def _time(first: datetime, last: datetime, starts: dict[str, np.ndarray]) -> dict[str, Any]:
    # Session starts per calendar day of each kind in the window (ISO weekdays 6 and 7 are the weekend), and
    # per hour: the generator draws session starts from such a rhythm, and whole sessions are far less noisy
    # than their rows (one long session can fill an hour).
    days = np.zeros(8)
    day = first.date()
    while day <= last.date():
        days[day.isoweekday()] += 1
        day += timedelta(days=1)
    by_weekday, by_hour = starts["weekday"], starts["hour"]
    weekday_rate = by_weekday[1:6].sum() / max(1, days[1:6].sum())
    weekend_rate = by_weekday[6:].sum() / max(1, days[6:].sum())
    return {
        "first": first.isoformat(),
        "last": last.isoformat(),
        "span_days": round((last - first) / timedelta(days=1), 4),
        "weekend_activity": round(float(weekend_rate / weekday_rate), 4) if weekday_rate and days[6:].sum() else 1.0,
        "session_start_hour_shares": [round(float(h), 5) for h in by_hour / by_hour.sum()],
    }


def _sessions(reader: _Reader, p: float, rows: int, seen: int, sampled: bool) -> dict[str, Any]:
    """Per-session statistics from up to max_sessions sessions, all of whose events are read."""
    allowed = "agent_id" in reader.options.allow_values
    agent = sql.SQL("agent" if allowed else "(dense_rank() OVER (ORDER BY agent))::text")
    found = reader.rows("sessions", {"max_sessions": reader.options.max_sessions}, agent=agent)
    events, pages, duration, pause = (np.array([r[i] for r in found], dtype=np.float64) for i in range(4))
    start_weekday, start_hour = (np.array([r[i] for r in found], dtype=np.int64) for i in (4, 5))
    # TABLESAMPLE SYSTEM keeps each page with probability p, so a session on k pages is seen with probability
    # 1 - (1 - p)^k; weighting each by the inverse makes the sessions seen stand for all of them.
    weights = 1 / (1 - (1 - p) ** pages) if sampled else np.ones(len(events))
    if sampled:
        count = round(float(weights.sum()) * seen / len(found))
        mean = float(np.average(events, weights=weights))
    else:
        count, mean = seen, rows / seen
    names = ("p10", "p25", "p50", "p75", "p90", "p99", "max")
    quantiles = dict(
        zip(names, weighted_quantiles(events, weights, (0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 1.0)), strict=True)
    )
    resumed = pause >= RESUMED_PAUSE_HOURS * 3600
    steady = ~resumed & (events >= 2)
    timed = events >= 2
    log_duration = np.log(np.maximum(duration[timed], 1e-3))
    log_mu = float(np.average(log_duration, weights=weights[timed])) if timed.any() else 0.0
    agent_weight: dict[str, float] = {}
    for name, w in zip((r[6] for r in found), weights.tolist(), strict=True):
        agent_weight[str(name)] = agent_weight.get(str(name), 0.0) + w
    return {
        "count": count,
        "exact": not sampled,
        "profiled": len(found),
        "events": {"mean": round(mean, 4), **{k: round(v, 3) for k, v in quantiles.items()}},
        "events_lognormal_sigma": fit_session_sigma(
            mean, {q: quantiles[f"p{round(q * 100)}"] for q in SIGMA_FIT_QUANTILES}
        ),
        "duration_s": {
            k: round(v, 1)
            for k, v in zip(("p50", "p90", "p99"), weighted_quantiles(duration, weights, (0.5, 0.9, 0.99)), strict=True)
        },
        "duration_lognormal": {
            "mu": round(log_mu, 4),
            "sigma": round(float(np.sqrt(np.average((log_duration - log_mu) ** 2, weights=weights[timed]))), 4)
            if timed.any()
            else 0.0,
        },
        "resumed_fraction": round(float(weights[resumed].sum() / weights.sum()), 5),
        "resumed_pause_hours": RESUMED_PAUSE_HOURS,
        # The generator spaces a session's events mean_event_gap_s apart on average (pauses aside).
        "mean_event_gap_s": round(float(np.average(duration[steady] / events[steady], weights=weights[steady])), 4)
        if steady.any()
        else None,
        "agent_shares": _ranked_shares(agent_weight, allowed, "agent_id"),
        "starts": {
            "weekday": np.bincount(start_weekday, weights=weights, minlength=8),
            "hour": np.bincount(start_hour, weights=weights, minlength=24),
        },
    }


def _categories(reader: _Reader, column: str, rows: int) -> dict[str, float]:
    """{value: share of rows}, names only for allowed columns (else "<column> #rank")."""
    allowed = column in reader.options.allow_values
    if column == "data_keys":
        found = reader.rows("data_keys", label=sql.SQL("key" if allowed else "NULL::text"))
    else:
        ident = sql.Identifier(column)
        found = reader.rows("category_rows", column=ident, label=ident if allowed else sql.SQL("NULL::text"))
    counts = {(str(v) if v is not None else "(null)") if allowed else str(i): c for i, (v, c) in enumerate(found)}
    return _ranked_shares({k: float(v) for k, v in counts.items()}, allowed, column, total=rows)


def _ranked_shares(counts: dict[str, float], named: bool, column: str, total: float | None = None) -> dict[str, float]:
    """Shares, most common first, the tail beyond MAX_CATEGORIES summed up as "(other)"; unnamed values are
    called by rank."""
    total = total or sum(counts.values()) or 1.0
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    head, tail = ranked[: MAX_CATEGORIES - 1], ranked[MAX_CATEGORIES - 1 :]
    if len(tail) == 1:
        head, tail = ranked, []
    shares = {(name if named else f"{column} #{i + 1}"): round(c / total, 6) for i, (name, c) in enumerate(head)}
    if tail:
        shares["(other)"] = round(sum(c for _, c in tail) / total, 6)
    return shares


def _mix(reader: _Reader, column: str, key: str, shares: dict[str, float]) -> dict[str, Any]:
    return {key: shares, "distinct": len(shares), "named": column in reader.options.allow_values}


def _tags(reader: _Reader, rows: int) -> dict[str, Any]:
    allowed = "tags" in reader.options.allow_values
    found = reader.rows("tag_rows", label=sql.SQL("tag" if allowed else "NULL::text"))
    counts = {(str(v) if allowed else str(i)): float(c) for i, (v, c) in enumerate(found)}
    per_row = {str(k): round(c / rows, 6) for k, c in sorted(reader.rows("tags_per_row"))}
    return {"row_shares": _ranked_shares(counts, allowed, "tags", total=rows), "per_row": per_row, "named": allowed}


def _file_paths(reader: _Reader, rows: int, sampled: bool) -> dict[str, Any] | None:
    found = reader.rows("file_paths", {"key": FILE_PATH_KEY})
    if not found:
        return None
    events, distinct, top1, top10, singletons = (
        np.array(column, dtype=np.float64) for column in zip(*found, strict=True)
    )
    big = events >= MIN_FILE_EVENTS_FOR_CONCENTRATION
    big = big if big.any() else events > 0
    fit = fit_file_popularity(events.tolist(), distinct.tolist(), top10.tolist())
    return {
        "key": FILE_PATH_KEY,
        "rows_fraction": round(float(events.sum() / rows), 5),
        "projects": len(found),
        "distinct_per_project": _quantiles(distinct, (0.5, 0.9, 1.0), ("p50", "p90", "max")),
        "distinct_total": int(distinct.sum()),
        "exact": not sampled,  # else the counts are of the sample
        "concentration_min_events": MIN_FILE_EVENTS_FOR_CONCENTRATION,
        "top1_share": round(float(top1[big].sum() / events[big].sum()), 5),
        "top10_share": round(float(top10[big].sum() / events[big].sum()), 5),
        "singleton_fraction": round(float(singletons.sum() / distinct.sum()), 5),
        "files_per_project_fit": fit[0] if fit else None,
        "zipf_s": fit[1] if fit else None,
    }


# ---- command-line helpers -------------------------------------------------------------------------------------


def write_profile(profile: dict[str, Any], out: Path | None) -> str:
    text = json.dumps(profile, indent=2) + "\n"
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
    return text


def summary(profile: dict[str, Any]) -> str:
    s = profile["sampling"]
    how = "whole table" if s["percent"] >= 100 else f"{s['percent']}% TABLESAMPLE SYSTEM ({s['sampled_rows']:,} rows)"
    return (
        f"profiled {profile['source']['table']}: {profile['rows']['count']:,} rows ({how}), "
        f"{profile['projects']['count']:,} projects, {profile['sessions']['count']:,} sessions, "
        f"{profile['time']['span_days']:.1f} days; transaction_read_only={profile['source']['transaction_read_only']}"
    )


def load_profile(path: str | Path) -> dict[str, Any]:
    try:
        return read_profile(path)
    except SpecError as e:
        raise HarnessError(str(e)) from None


def spec_for_load(
    path: str | Path, rows: str | None, preset: str | None, seed: int | None, knobs: dict[str, Any]
) -> DatasetSpec:
    """`load --profile`: the profile's shape at --rows/--preset rows (default: the profiled count), --knob on top."""
    profile = load_profile(path)
    try:
        count = spec_from_args(rows, preset, None).rows if rows is not None or preset is not None else None
        fit = fit_spec(profile, count, seed)
        valid = {f.name for f in fields(DatasetSpec)} - {"rows", "seed"}
        if set(knobs) - valid:
            raise SpecError(
                f"unknown knob(s) {', '.join(sorted(set(knobs) - valid))}; valid: {', '.join(sorted(valid))}"
            )
        spec = replace(fit.spec, **knobs)
        spec.validate()
    except SpecError as e:
        raise HarnessError(f"--profile {path}: {e}") from None
    for note in fit.notes:
        print(f"profile note: {note}")
    return spec


def fidelity_report(dsn: str, source: dict[str, Any], generated_rows: int) -> tuple[str, bool]:
    """The generated data behind dsn profiled as the source was (same values allowed, a sample as large as
    the source's), beside the source profile."""
    options = ProfileOptions(allow_values=tuple(source["privacy"]["values_written"]))
    if source["sampling"]["percent"] < 100:
        # As many rows as the source's sample, so the counts "in the sample" compare.
        percent = min(100.0, 100.0 * source["sampling"]["sampled_rows"] / generated_rows)
        options = replace(options, sample_percent=round(percent, 4))
    generated = profile_database(dsn, options)
    lines = compare_profiles(source, generated)
    return format_fidelity(lines), fidelity_passed(lines)


def compare_files(source: str | Path, generated: str | Path) -> tuple[str, bool]:
    try:
        lines = compare_profiles(load_profile(source), load_profile(generated))
    except ProfileError as e:
        raise HarnessError(str(e)) from None
    return format_fidelity(lines), fidelity_passed(lines)
