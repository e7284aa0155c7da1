"""Reading the harness's TOML input files (targets, workloads): one message for a file that is missing or broken."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from bench.core.errors import HarnessError


def read_toml(path: Path, what: str, default: Path, error: type[HarnessError]) -> dict[str, Any]:
    """The document at `path`, or `error` naming the file and the fix (`what`: "targets", "workload")."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise error(
            f"{path}: cannot read the {what} file ({err.strerror}); pass an existing file, or none to use {default}"
        ) from err
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        # tomllib's message ends with "(at line L, column C)", which is where to look.
        raise error(f"{path}: not valid TOML: {err}; fix the syntax there (see https://toml.io)") from err
