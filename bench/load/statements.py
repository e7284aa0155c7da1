"""`python -m bench profile` also reads pg_stat_statements: the observed mix of statements on the profiled table.

Read-only like the rest of the profile (its own READ ONLY transaction, statement timeout), aggregates only: query
id, calls, mean execution time, rows and the normalised text pg_stat_statements keeps, for SELECT/INSERT/UPDATE/
DELETE/WITH statements whose text names the table. pg_stat_statements replaces the constants of those statements
with $n, and utility statements (which keep their literals) are filtered out inside the server, so no parameter
value is ever read. bench.core.observed_mix matches them to the application cases and writes the workload file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from bench.core.cases import QUERIES_DIR
from bench.core.errors import HarnessError
from bench.core.observed_mix import ObservedMix, observed_mix, workload_toml
from bench.db.database import redact_dsn
from bench.load.profile import read_only_transaction

STATEMENTS_DIR = QUERIES_DIR / "profile"


@dataclass(frozen=True)
class StatementsResult:
    """The observed mix, or why there is none (`absent`: one line for the terminal)."""

    mix: ObservedMix | None
    source: str
    absent: str | None = None


def table_pattern(table: str) -> str:
    """A case-insensitive ARE matching the table's name as a whole identifier, quoted or not."""
    name = table.rsplit(".", 1)[-1].strip('"')
    return rf'(^|[^[:alnum:]_$])"?{name}"?([^[:alnum:]_$]|$)'


def _sql(name: str) -> str:
    return (STATEMENTS_DIR / f"{name}.sql").read_text()


def read_observed_mix(dsn: str, table: str = "agent_events", statement_timeout_ms: int = 120_000) -> StatementsResult:
    """The statements on `table` pg_stat_statements counted in this database, matched to the application cases."""
    database = conninfo_to_dict(dsn).get("dbname") or "the database"
    with read_only_transaction(dsn, statement_timeout_ms) as conn:
        try:
            found = conn.execute(_sql("statements_extension"), prepare=False).fetchone()
        except psycopg.Error as e:
            raise HarnessError(f"reading pg_extension in {redact_dsn(dsn)}: {str(e).strip()}") from None
        if found is None:
            return StatementsResult(
                None, "", f"pg_stat_statements is not installed in {database}: no observed mix (profile only)"
            )
        schema, version, exec_time_columns, has_info = found
        view = sql.Identifier(schema, "pg_stat_statements")
        total = sql.Identifier("total_exec_time" if exec_time_columns else "total_time")
        query = sql.SQL(_sql("statements")).format(view=view, total=total)
        conn.execute("SAVEPOINT statements")
        try:
            rows = conn.execute(query, {"table_pattern": table_pattern(table)}).fetchall()
        except psycopg.errors.ObjectNotInPrerequisiteState as e:  # installed, but not in shared_preload_libraries
            conn.execute("ROLLBACK TO SAVEPOINT statements")
            reason = str(e).strip().splitlines()[0]
            return StatementsResult(
                None, "", f"pg_stat_statements is installed but not loaded ({reason}): no observed mix"
            )
        except psycopg.errors.InsufficientPrivilege as e:
            raise HarnessError(
                f"reading pg_stat_statements: {str(e).strip()}; grant pg_read_all_stats to the profiling role"
            ) from None
        since = None
        if has_info:
            info = sql.Identifier(schema, "pg_stat_statements_info")
            row = conn.execute(sql.SQL(_sql("statements_since")).format(info=info)).fetchone()
            since = row[0].isoformat(timespec="seconds") if row and row[0] else None
    hidden = [r for r in rows if r[1] == "<insufficient privilege>"]
    visible = [r for r in rows if r[1] != "<insufficient privilege>"]
    source = f"pg_stat_statements {version} of {database}" + (f", counting since {since}" if since else "")
    if hidden:
        source += f"; {len(hidden)} statements of other roles hidden (grant pg_read_all_stats to see them)"
    return StatementsResult(observed_mix([_row(r) for r in visible]), source)


def _row(row: Any) -> tuple[int, str, int, float, int]:
    queryid, text, calls, mean_ms, rows = row
    return int(queryid), str(text), int(calls), float(mean_ms or 0.0), int(rows or 0)


def write_observed_workload(result: StatementsResult, database: str, out: Path) -> str:
    """Write the workload file; returns the one line the terminal shows."""
    if result.mix is None:
        return result.absent or "no observed mix"
    matched = sum(1 for s in result.mix.statements if s.case)
    text = workload_toml(result.mix, database, result.source)
    if text is None:
        return (
            f"pg_stat_statements: {len(result.mix.statements)} statement(s) on the table, none with the form of an "
            "application read case (bench/queries/app/): no workload written"
        )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    return (
        f"observed mix: {matched} of {len(result.mix.statements)} statement(s) on the table matched application cases "
        f"({result.mix.matched_calls:,} read calls); workload: {out}"
    )
