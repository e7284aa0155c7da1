"""A team's own mix: the statements pg_stat_statements saw on agent_events, matched to the application cases and
written in the workload format (bench/workloads/devlog.toml), so `--workload FILE` replays it before and after.

A statement matches a case when their canonical forms agree: comments dropped, every bind parameter ($n, %(x)s)
and every literal turned into `?` (pg_stat_statements stores `WHERE 1=1` as `WHERE $3=$4`), identifiers unquoted,
`public.` dropped, lower case, no blanks around punctuation. Write cases are templates ({rows} tuples), so an
INSERT matches when it is the template with any number of row tuples. The mix is the calls of the matched read
statements, as shares of one unit ("1,000 observed statements"), plus an ingest unit when events were inserted;
unmatched statements are listed under [observed] with case = "" and do not count.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from bench.core.cases import APP_QUERIES_DIR, load_cases
from bench.core.workload import (
    MAX_BATCH_ROWS,
    PLAN_CACHE_MODES,
    WORKLOAD_SCHEMA,
    WRITE_CASES_DIR,
    AccessModel,
    ObservedStatement,
)

READ_UNIT = "observed_mix"
WRITE_UNIT = "observed_ingest"
BATCH_CASE = "app_ingest_batch"
SINGLE_CASE = "app_ingest_one"
_COMMENTS = re.compile(r"/\*.*?\*/|--[^\n]*", re.S)
_LITERALS = re.compile(r"'(?:[^']|'')*'")
_PARAMETERS = re.compile(r"%\(\w+\)s|%s|\$\d+")
_NUMBERS = re.compile(r"(?<![\w?])\d+(?:\.\d+)?(?![\w])")
_PUNCTUATION_BLANKS = re.compile(r"\s*([^\w\s])\s*")
_ROW_TUPLES = re.compile(r"\((?:\?)(?:,\?)*\)(?:,\((?:\?)(?:,\?)*\))*")
# Three or more VALUES tuples of parameters: a batch of 1,000 rows would otherwise be a 100 kB line.
_TUPLE = r"\(\s*\$\d+(?:\s*,\s*\$\d+)*\s*\)"
_TUPLE_RUN = re.compile(rf"{_TUPLE}(?:\s*,\s*{_TUPLE}){{2,}}")


def canonical_sql(text: str) -> str:
    text = _COMMENTS.sub(" ", text.replace("%%", "%"))
    text = _LITERALS.sub("?", text)
    text = _PARAMETERS.sub("?", text)
    text = text.replace('"', "").lower().replace("public.", "")
    text = _NUMBERS.sub("?", text)
    text = re.sub(r"\s+", " ", text).strip().rstrip(";").strip()
    return _PUNCTUATION_BLANKS.sub(r"\1", text)


def normalised_text(text: str) -> str:
    """What the workload file keeps of a statement: comments dropped, blanks collapsed (it is already normalised),
    a long run of VALUES tuples abbreviated to its first one and the count."""

    def abbreviate(run: re.Match[str]) -> str:
        tuples = re.findall(_TUPLE, run.group(0))
        return f"{tuples[0]}, ... ({len(tuples)} row tuples)"

    return _TUPLE_RUN.sub(abbreviate, re.sub(r"\s+", " ", _COMMENTS.sub(" ", text)).strip())


@dataclass(frozen=True)
class Matcher:
    reads: dict[str, str]  # canonical form -> read case
    writes: dict[str, tuple[str, str]]  # write case -> (canonical prefix, canonical suffix) around {rows}
    same_text: dict[str, list[str]]  # case a statement is counted as -> the other cases that send the same text

    @classmethod
    def from_cases(cls) -> Matcher:
        # Cases that differ only in their parameter values send one text (app_project_events "as fixed" and the
        # dashboard's today read with a project); pg_stat_statements keeps no values, so the first name counts.
        reads: dict[str, str] = {}
        same_text: dict[str, list[str]] = {}
        for case in load_cases(APP_QUERIES_DIR):
            first = reads.setdefault(canonical_sql(case.sql), case.name)
            if first != case.name:
                same_text.setdefault(first, []).append(case.name)
        writes = {}
        for path in sorted(WRITE_CASES_DIR.glob("*.sql")):
            body = "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("--"))
            prefix, _, suffix = body.partition("{rows}")
            writes[path.stem] = (canonical_sql(prefix), canonical_sql(suffix))
        return cls(reads, writes, same_text)

    def match(self, text: str) -> tuple[str, int]:
        """(case, rows per statement for a write, else 0); ("", 0) when no case has this form."""
        form = canonical_sql(text)
        if form in self.reads:
            return self.reads[form], 0
        for case, (prefix, suffix) in self.writes.items():
            if form.startswith(prefix) and form.endswith(suffix):
                middle = form[len(prefix) : len(form) - len(suffix)]
                if _ROW_TUPLES.fullmatch(middle):
                    return case, middle.count("(")
        return "", 0


@dataclass(frozen=True)
class ObservedMix:
    statements: tuple[ObservedStatement, ...]
    read_shares: dict[str, float]  # read case -> share of the matched read calls
    ingest: dict[str, float]  # write case -> executions per inserted event
    batch_rows: int | None
    unobserved: tuple[str, ...]  # read cases no statement matched
    same_text: dict[str, list[str]]  # matched case -> cases whose statements it cannot be told from

    @property
    def matched_calls(self) -> int:
        return sum(s.calls for s in self.statements if s.case in self.read_shares)


def observed_mix(rows: Sequence[tuple[int, str, int, float, int]], matcher: Matcher | None = None) -> ObservedMix:
    """rows: (queryid, text, calls, mean exec ms, rows) per pg_stat_statements entry on the table."""
    matcher = matcher or Matcher.from_cases()
    statements = []
    read_calls: dict[str, int] = {}
    write_calls: dict[str, int] = {}
    inserted = 0
    for queryid, text, calls, mean_ms, row_count in rows:
        case, _ = matcher.match(text)
        statements.append(
            ObservedStatement(
                int(queryid), case, int(calls), float(mean_ms or 0.0), int(row_count), normalised_text(text)
            )
        )
        if case in (BATCH_CASE, SINGLE_CASE):
            write_calls[case] = write_calls.get(case, 0) + int(calls)
            inserted += int(row_count)
        elif case in matcher.reads.values():
            read_calls[case] = read_calls.get(case, 0) + int(calls)
    total = sum(read_calls.values())
    shares = {case: calls / total for case, calls in sorted(read_calls.items())} if total else {}
    ingest: dict[str, float] = {}
    batch_rows = None
    if inserted:
        ingest = {case: calls / inserted for case, calls in sorted(write_calls.items())}
        batched = write_calls.get(BATCH_CASE, 0)
        batch_rows = 1
        if batched:
            batch_rows_inserted = inserted - write_calls.get(SINGLE_CASE, 0)
            batch_rows = min(MAX_BATCH_ROWS, max(1, round(batch_rows_inserted / batched)))
    every_read = {c for cases in [list(matcher.reads.values()), *matcher.same_text.values()] for c in cases}
    unobserved = tuple(sorted(every_read - set(shares)))
    same_text = {case: others for case, others in matcher.same_text.items() if case in shares}
    return ObservedMix(tuple(statements), shares, ingest, batch_rows, unobserved, same_text)


# --- the workload file --------------------------------------------------------------------------------------


def _string(value: str) -> str:
    # A JSON string is a TOML basic string once DEL is escaped too (TOML forbids it raw) and nothing is \u-paired.
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")


def _number(value: float) -> str:
    if not math.isfinite(value):
        raise ValueError(f"not a finite number: {value!r}")
    return repr(float(value))


def _inline(table: Mapping[str, float]) -> str:
    return "{ " + ", ".join(f"{k} = {_number(v)}" for k, v in table.items()) + " }"


def workload_toml(mix: ObservedMix, database: str, source: str) -> str | None:
    """The workload file of an observed mix; None when no statement matched a read case (it would have no unit)."""
    if not mix.read_shares:
        return None
    access = AccessModel()
    lines = [
        f"# The observed mix of {database}: statements on agent_events that pg_stat_statements counted ({source}),",
        "# matched to the application cases of bench/queries/app/ by their normalised text. Written by",
        "# `python -m bench profile`; replay it with `python -m bench bench --suites app,app_writes --workload FILE`.",
        "# Only aggregates and normalised statement text are written, never a parameter value.",
        f"schema = {WORKLOAD_SCHEMA}",
        f"application = {_string(f'observed mix of {database}')}",
        f"commit = {_string(source)}",
        "",
        "[run]",
        f"plan_cache_modes = {json.dumps(list(PLAN_CACHE_MODES))}",
        "",
        "[access]",
        "# The application's access model (docs/app-workload.md): replace the knobs with what your pages do.",
    ]
    for key, value in asdict(access).items():
        rendered = json.dumps(list(value)) if isinstance(value, tuple) else repr(value)
        lines.append(f"{key} = {rendered}")
    lines += [
        "",
        f"[units.{READ_UNIT}]",
        "# Executions per observed statement: each matched case's share of the matched calls.",
        *(
            f"# {case} also counts the calls of {', '.join(others)}: they send the same text"
            for case, others in mix.same_text.items()
        ),
        'title = "observed statement"',
        "per = 1000",
        f"source = {_string(f'{mix.matched_calls:,} matched calls of pg_stat_statements, {source}')}",
        f"cases = {_inline(mix.read_shares)}",
    ]
    if mix.ingest and mix.batch_rows:
        lines += [
            "",
            f"[units.{WRITE_UNIT}]",
            "# Executions per inserted event; batch_rows is the mean rows per batched INSERT.",
            'title = "ingested event"',
            "per = 1000000",
            f"batch_rows = {mix.batch_rows}",
            f"source = {_string('INSERTs into agent_events counted by pg_stat_statements')}",
            f"cases = {_inline(mix.ingest)}",
        ]
    lines += [
        "",
        "[page_views]",
        "per = 1000",
        f"mix = {{ {READ_UNIT} = 1.0 }}",
        'reason = "every matched statement, weighted by its calls (the headline counts statements, not page views)"',
    ]
    if mix.unobserved:
        lines += ["", "[what_if]"]
        counted_as = {other: case for case, others in mix.same_text.items() for other in others}
        for case in mix.unobserved:
            reason = (
                f"sends the same text as {counted_as[case]}: its calls, if any, are counted there"
                if case in counted_as
                else "not observed in pg_stat_statements"
            )
            lines.append(f"{case} = {_string(reason)}")
    lines += ["", "[observed]", f"source = {_string(source)}"]
    for s in mix.statements:
        lines += [
            "",
            "[[observed.statements]]",
            f"queryid = {s.queryid}",
            f"case = {_string(s.case)}",
            f"calls = {s.calls}",
            f"mean_exec_time_ms = {_number(s.mean_exec_time_ms)}",
            f"rows = {s.rows}",
            f"text = {_string(s.text)}",
        ]
    return "\n".join(lines) + "\n"
