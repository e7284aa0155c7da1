"""Query cases: one SQL file per case in bench/queries/, its header comments say what it is.

A header line is `-- key: value`; a following line that starts with `--` and three or more spaces continues
the value. Comment lines with no known key are the case's description. The design document's cases say
`origin: design document`; the application's (bench/queries/app/, kind `app`) say `origin: application` and
cite their source file and commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bench.core.config import PACKAGE_DIR
from bench.core.errors import HarnessError

QUERIES_DIR = PACKAGE_DIR / "queries"
APP_QUERIES_DIR = QUERIES_DIR / "app"
KINDS = ("promise", "control", "app")
ORIGINS = ("design document", "application")
ENGINE_NAMES = ("postgres", "timescaledb")
HEADER_KEYS = (
    "kind",
    "promise",
    "params",
    "after_uses",
    "origin",
    "source",
    "does",
    "frequency",
    "bugs",
    "columns",
    "binds",
    "engines",
)
# Application cases must say where they come from and how often the application runs them.
APP_REQUIRED_KEYS = ("origin", "source", "does", "frequency")


@dataclass(frozen=True)
class Case:
    name: str  # the file name without .sql: the stable id used in results
    kind: str  # "promise", "control" or "app"
    sampler: str  # file in queries/params/ that supplies its parameters, or "none"
    sql: str
    promise: str | None = None
    after_uses: str | None = None  # the index the after instance must use for the promise to count
    origin: str | None = None  # "design document" or "application"
    description: str = ""
    source: str | None = None  # where the application issues it: path@commit:lines
    does: str | None = None  # what the route or page does with it
    frequency: str | None = None
    bugs: str | None = None
    columns: str | None = None  # how the selected columns differ from the application's, if they do
    binds: dict[str, int | str] = field(default_factory=dict)  # constant bind parameters the application sends
    engines: tuple[str, ...] = ENGINE_NAMES  # the engines the SQL can run on
    directory: Path = QUERIES_DIR

    @property
    def path(self) -> Path:
        return self.directory / f"{self.name}.sql"


def _read_header(path: Path) -> tuple[dict[str, str], list[str], list[str]]:
    header: dict[str, str] = {}
    description: list[str] = []
    body: list[str] = []
    last_key: str | None = None
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if body or not stripped.startswith("--"):
            if stripped or body:
                body.append(line)
            continue
        text = stripped[2:]
        if last_key and text.startswith("   ") and text.strip():
            header[last_key] += " " + text.strip()
            continue
        key, colon, value = text.partition(":")
        if colon and key.strip() in HEADER_KEYS:
            last_key = key.strip()
            if last_key in header:
                raise HarnessError(
                    f"{path}: header `-- {last_key}:` appears twice; keep one (continue a long "
                    "value on lines starting with `--` and three spaces)"
                )
            header[last_key] = value.strip()
            continue
        last_key = None
        if text.strip():
            description.append(text.strip())
    return header, description, body


def parse_binds(text: str, path: Path) -> dict[str, int | str]:
    """`limit=100, offset=0, json_path=filePath`: whole numbers become integers, anything else stays text."""
    binds: dict[str, int | str] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, equals, value = item.partition("=")
        if not equals or not name.strip().isidentifier() or not value.strip():
            raise HarnessError(
                f"{path}: `-- binds:` item {item!r} is not name=value; write e.g. `-- binds: limit=100, offset=0`"
            )
        value = value.strip()
        binds[name.strip()] = int(value) if value.lstrip("-").isdigit() else value
    return binds


def parse_case(path: Path) -> Case:
    header, description, body = _read_header(path)
    kind = header.get("kind")
    if kind not in KINDS:
        raise HarnessError(f"{path}: header `-- kind:` must be one of {KINDS}, found {kind!r}")
    if "params" not in header:
        raise HarnessError(f"{path}: header `-- params:` is missing (a file in queries/params/, or `none`)")
    if kind == "promise" and not header.get("promise"):
        raise HarnessError(f"{path}: a promise case needs a `-- promise:` header naming its target")
    origin = header.get("origin")
    if origin is not None and origin not in ORIGINS:
        raise HarnessError(f"{path}: header `-- origin:` must be one of {ORIGINS}, found {origin!r}")
    if kind == "app":
        missing = [k for k in APP_REQUIRED_KEYS if not header.get(k)]
        if missing:
            raise HarnessError(
                f"{path}: an application case needs the header(s) {', '.join(f'`-- {k}:`' for k in missing)}"
            )
        if origin != "application":
            raise HarnessError(f"{path}: an application case says `-- origin: application`, found {origin!r}")
    engines = tuple(e.strip() for e in header.get("engines", ",".join(ENGINE_NAMES)).split(",") if e.strip())
    unknown = [e for e in engines if e not in ENGINE_NAMES]
    if unknown or not engines:
        raise HarnessError(f"{path}: `-- engines:` lists {', '.join(unknown) or 'nothing'}; use {ENGINE_NAMES}")
    after_uses = header.get("after_uses")
    return Case(
        name=path.stem,
        kind=kind,
        sampler=header["params"],
        sql="\n".join(body).strip().rstrip(";"),
        promise=header.get("promise"),
        after_uses=None if after_uses in (None, "", "none") else after_uses,
        origin=origin,
        description=" ".join(description),
        source=header.get("source"),
        does=header.get("does"),
        frequency=header.get("frequency"),
        bugs=header.get("bugs"),
        columns=header.get("columns"),
        binds=parse_binds(header.get("binds", ""), path),
        engines=engines,
        directory=path.parent,
    )


def load_cases(directory: Path = QUERIES_DIR) -> list[Case]:
    cases = [parse_case(p) for p in sorted(directory.glob("*.sql"))]
    # promises first, in file order, then controls
    return sorted(cases, key=lambda c: (c.kind != "promise", c.name))
