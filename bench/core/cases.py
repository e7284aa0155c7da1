"""Query cases: one SQL file per case in bench/queries/, its header comments say what it is."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.core.config import PACKAGE_DIR
from bench.core.errors import HarnessError

QUERIES_DIR = PACKAGE_DIR / "queries"
KINDS = ("promise", "control")


@dataclass(frozen=True)
class Case:
    name: str  # the file name without .sql: the stable id used in results
    kind: str  # "promise" or "control"
    sampler: str  # file in queries/params/ that supplies its parameters, or "none"
    sql: str
    promise: str | None = None
    after_uses: str | None = None  # the index the after instance must use for the promise to count

    @property
    def path(self) -> Path:
        return QUERIES_DIR / f"{self.name}.sql"


def parse_case(path: Path) -> Case:
    header: dict[str, str] = {}
    body: list[str] = []
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("--") and ":" in stripped and not body:
            key, _, value = stripped[2:].partition(":")
            if key.strip() in ("kind", "promise", "params", "after_uses"):
                header[key.strip()] = value.strip()
                continue
        if stripped.startswith("--") and not body:
            continue
        body.append(line)
    kind = header.get("kind")
    if kind not in KINDS:
        raise HarnessError(f"{path}: header `-- kind:` must be one of {KINDS}, found {kind!r}")
    if "params" not in header:
        raise HarnessError(f"{path}: header `-- params:` is missing (a file in queries/params/, or `none`)")
    if kind == "promise" and not header.get("promise"):
        raise HarnessError(f"{path}: a promise case needs a `-- promise:` header naming its target")
    return Case(
        name=path.stem,
        kind=kind,
        sampler=header["params"],
        sql="\n".join(body).strip().rstrip(";"),
        promise=header.get("promise"),
        after_uses=header.get("after_uses"),
    )


def load_cases(directory: Path = QUERIES_DIR) -> list[Case]:
    cases = [parse_case(p) for p in sorted(directory.glob("*.sql"))]
    # promises first, in file order, then controls
    return sorted(cases, key=lambda c: (c.kind != "promise", c.name))
