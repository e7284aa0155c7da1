"""Candidate migrations (schema/migrations/*.sql): their header lines, their steps, and the index changes in them.

A candidate's first line is read by the migration-under-test reader (`-- promises: none` where the design
document's promises do not apply). A second line `-- transaction: none` says the file must run one statement per
transaction (CONCURRENTLY, TimescaleDB's transaction_per_chunk). A query ending in psql's `\\gexec` instead of `;`
is a generator: each cell of its result is run as a statement, in order, as `psql -f` would. What-if screening
reads the CREATE INDEX and DROP INDEX statements of a file (generators excluded) as its index delta.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bench.core.config import SCHEMA_DIR
from bench.core.errors import HarnessError
from bench.core.sql_files import split_statements

CANDIDATES_DIR = SCHEMA_DIR / "migrations"
NO_TRANSACTION_HEADER = "-- transaction: none"
GEXEC = "\\gexec"
_GEXEC_MARK = "/*\\gexec*/"

_CREATE_INDEX = re.compile(r"^\s*CREATE\s+(UNIQUE\s+)?INDEX\b", re.IGNORECASE)
_DROP_INDEX = re.compile(
    r"^\s*DROP\s+INDEX\s+(?:CONCURRENTLY\s+)?(?:IF\s+EXISTS\s+)?((?:\"[^\"]+\"|\w+)(?:\.(?:\"[^\"]+\"|\w+))?)\s*$",
    re.IGNORECASE,
)
# What hypopg_create_index does not take: it builds nothing, so how the build would lock or batch is moot.
_HYPOTHETICAL_NOISE = [
    (re.compile(r"\bCONCURRENTLY\s+", re.IGNORECASE), ""),
    (re.compile(r"\bIF\s+NOT\s+EXISTS\s+", re.IGNORECASE), ""),
    (re.compile(r"\bON\s+ONLY\s+", re.IGNORECASE), "ON "),
    (re.compile(r"\s+WITH\s*\(\s*timescaledb\.[^)]*\)", re.IGNORECASE), ""),
]


@dataclass(frozen=True)
class Step:
    sql: str
    generator: bool  # a `\gexec` query: its result cells are the statements to run


@dataclass(frozen=True)
class Candidate:
    name: str  # the file name without .sql
    path: Path
    makes_promises: bool
    one_transaction: bool  # False: `-- transaction: none`, each statement on its own
    steps: tuple[Step, ...]

    @property
    def creates(self) -> tuple[str, ...]:
        """The CREATE INDEX statements, as hypopg_create_index takes them."""
        return tuple(hypothetical_definition(s.sql) for s in self.steps if not s.generator and is_create_index(s.sql))

    @property
    def drops(self) -> tuple[str, ...]:
        """The names of the indexes the file drops, unquoted and without schema."""
        names = []
        for step in self.steps:
            match = None if step.generator else _DROP_INDEX.match(step.sql)
            if match:
                names.append(match.group(1).split(".")[-1].strip('"'))
        return tuple(names)


def is_create_index(statement: str) -> bool:
    return bool(_CREATE_INDEX.match(statement))


def hypothetical_definition(statement: str) -> str:
    text = statement.strip().rstrip(";")
    for pattern, replacement in _HYPOTHETICAL_NOISE:
        text = pattern.sub(replacement, text)
    return text


def parse_steps(text: str) -> tuple[Step, ...]:
    # A `\gexec` ends its query like a semicolon; the mark stays in the statement so it can be told apart.
    marked = re.sub(r"\\gexec[ \t]*$", lambda _: _GEXEC_MARK + ";", text, flags=re.MULTILINE)
    steps = []
    for statement in split_statements(marked):
        body = statement.strip()
        generator = body.endswith(_GEXEC_MARK)
        if generator:
            body = body[: -len(_GEXEC_MARK)].rstrip()
        steps.append(Step(body, generator))
    return tuple(steps)


def shipped_candidates() -> list[str]:
    return sorted(p.stem for p in CANDIDATES_DIR.glob("*.sql"))


def candidate_path(spec: str | Path) -> Path:
    """A path, or the name of a file in schema/migrations/ (with or without .sql)."""
    text = str(spec).strip()
    shipped = CANDIDATES_DIR / (text if text.endswith(".sql") else f"{text}.sql")
    if text and "/" not in text and shipped.is_file():
        return shipped
    path = Path(text).expanduser()
    if not text or not path.is_file():
        raise HarnessError(
            f"candidate {text!r}: no such file, and no shipped candidate of that name; give the path of a SQL file "
            f"or one of {', '.join(shipped_candidates())}"
        )
    return path


def read_candidate(spec: str | Path) -> Candidate:
    path = candidate_path(spec)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as e:
        raise HarnessError(f"candidate {path}: cannot read it as text ({e}); give a UTF-8 SQL file") from None
    steps = parse_steps(text)
    if not steps:
        raise HarnessError(f"candidate {path}: holds no SQL statement; write the migration's SQL into it")
    lines = [line.strip().lower() for line in text.lstrip().splitlines()[:2]]
    return Candidate(
        name=path.stem,
        path=path,
        makes_promises=lines[0] != "-- promises: none",
        one_transaction=NO_TRANSACTION_HEADER not in lines,
        steps=steps,
    )
