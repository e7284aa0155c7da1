"""The migration under test: which SQL file turns `before` into `after`, read once and identified by its hash.

The default is the design document's Phase 2 file (schema/migration_phase2.sql). Any other file, or one of the
migrations shipped in schema/migrations/ by name (`noop`, `regress_drop_timestamp_index`, ...), can stand in its
place. A file whose first line is `-- promises: none` says the design document's speedup promises do not apply.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from bench.core.config import ENV_MIGRATION, SCHEMA_DIR
from bench.core.errors import UsageError
from bench.core.sql_files import split_statements

PHASE2_FILE = SCHEMA_DIR / "migration_phase2.sql"
SHIPPED_DIR = SCHEMA_DIR / "migrations"
PHASE2_LABEL = "phase2"
NO_PROMISES_HEADER = "-- promises: none"


@dataclass(frozen=True)
class Migration:
    path: Path
    text: str
    sha256: str
    statements: tuple[str, ...]
    label: str  # "phase2", a shipped name such as "noop", or the file's stem
    is_phase2: bool
    makes_promises: bool  # False: the design document's speedup promises do not apply to this file

    @property
    def short_sha(self) -> str:
        return self.sha256[:12]

    @property
    def cli_name(self) -> str:
        """How --migration names it: the label of Phase 2 and the shipped files, else the path."""
        return self.label if self.is_phase2 or self.path.parent == SHIPPED_DIR else str(self.path)

    def describe(self) -> str:
        return f"{self.label} ({self.path.name}, sha256 {self.short_sha})"

    def to_dict(self) -> dict[str, object]:
        """What a results document and a loaded instance record about it."""
        return {
            "path": str(self.path),
            "label": self.label,
            "sha256": self.sha256,
            "statements": len(self.statements),
            "is_phase2": self.is_phase2,
            "makes_promises": self.makes_promises,
        }


def shipped_names() -> list[str]:
    return sorted(p.stem for p in SHIPPED_DIR.glob("*.sql"))


def _resolve(spec: str | Path) -> tuple[Path, str]:
    """A path, or the name of a shipped migration (with or without .sql); (path, label)."""
    text = str(spec).strip()
    if not text:
        raise UsageError(f"--migration is empty: give a SQL file or one of {', '.join(shipped_names())}")
    if text == PHASE2_LABEL:
        return PHASE2_FILE, PHASE2_LABEL
    shipped = SHIPPED_DIR / (text if text.endswith(".sql") else f"{text}.sql")
    if "/" not in text and shipped.is_file():
        return shipped, shipped.stem
    path = Path(text).expanduser()
    if not path.exists():
        raise UsageError(
            f"--migration {text!r}: no such file, and no shipped migration of that name. Give the path of a SQL "
            f"file, or one of {', '.join([PHASE2_LABEL, *shipped_names()])} (or set {ENV_MIGRATION})"
        )
    label = PHASE2_LABEL if path.resolve() == PHASE2_FILE.resolve() else path.stem
    return path, label


def _has_sql(statement: str) -> bool:
    """Anything left once block and line comments are gone (split_statements keeps a lone /* ... */)."""
    without_blocks = re.sub(r"/\*.*?\*/", "", statement, flags=re.DOTALL)
    return any(line.strip() and not line.strip().startswith("--") for line in without_blocks.splitlines())


def read_migration(spec: str | Path | None = None) -> Migration:
    """The migration under test: None is Phase 2; otherwise a file path or a shipped name."""
    path, label = (PHASE2_FILE, PHASE2_LABEL) if spec is None else _resolve(spec)
    if path.is_dir():
        raise UsageError(f"--migration {path}: is a directory; give one SQL file")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise UsageError(
            f"--migration {path}: cannot read it ({e.strerror or e}); check the path and permissions"
        ) from None
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise UsageError(f"--migration {path}: not UTF-8 text; give a SQL file") from None
    if not text.strip():
        raise UsageError(f"--migration {path}: the file is empty; write the migration's SQL into it")
    statements = tuple(st for st in split_statements(text) if _has_sql(st))
    if not statements:
        raise UsageError(
            f"--migration {path}: holds only comments, no SQL statement; for a migration that changes nothing use "
            "`--migration noop`"
        )
    first_line = text.lstrip().splitlines()[0].strip().lower()
    is_phase2 = label == PHASE2_LABEL
    return Migration(
        path=path,
        text=text,
        sha256=hashlib.sha256(raw).hexdigest(),
        statements=statements,
        label=label,
        is_phase2=is_phase2,
        makes_promises=first_line != NO_PROMISES_HEADER,
    )
