"""Sampling query parameters from the loaded data across the range of selectivity, with a fixed seed."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg

from bench.core.cases import QUERIES_DIR, Case

PARAMS_DIR = QUERIES_DIR / "params"
# Where in the distribution of matched rows each parameter comes from: rare/small to common/large.
QUANTILE_SLOTS: tuple[tuple[str, float], ...] = (
    ("q05", 0.05),
    ("q25", 0.25),
    ("q50", 0.50),
    ("q75", 0.75),
    ("q95", 0.95),
    ("max", 1.0),
)
# Controls only need a common and a rare value to show they did not move.
CONTROL_SLOTS: tuple[tuple[str, float], ...] = (("rare", 0.0), ("common", 1.0))


@dataclass(frozen=True)
class ParamSample:
    label: str
    params: dict[str, Any]
    value: Any
    candidates_matched: int  # rows the sampler counted for this value

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "params": _jsonable(self.params),
            "value": _jsonable(self.value),
            "candidates_matched": self.candidates_matched,
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def slots_for(case: Case) -> tuple[tuple[str, float], ...]:
    if case.sampler == "none":
        return (("all", 1.0),)
    return QUANTILE_SLOTS if case.kind == "promise" else CONTROL_SLOTS


def params_for(sampler: str, value: Any, now: datetime) -> dict[str, Any]:
    params: dict[str, Any] = {"now": now}
    if sampler.startswith("session"):
        params["session_id"] = value
    elif sampler.startswith("project"):
        params["project_id"] = int(value)
    elif sampler.startswith("file_path"):
        params["file_path_doc"] = json.dumps({"filePath": value})
    elif sampler == "tags":
        params["tags"] = [value]
    elif sampler != "none":
        params[sampler] = value
    return params


def pick_quantile(
    rows: list[tuple[Any, int]], q: float, rng: np.random.Generator, used: set[Any] | None = None
) -> tuple[Any, int]:
    """The candidate at quantile q of matched rows; among ties, a seeded random one.

    A value already picked for another slot is skipped for its nearest unused neighbour in rank, so a
    parameter never counts twice in the bootstrap (with few projects, q95 and max are often the same one).
    """
    used = used or set()
    counts = np.array([r[1] for r in rows])
    target = counts[round(q * (len(rows) - 1))]
    tied = [int(i) for i in np.flatnonzero(counts == target) if rows[int(i)][0] not in used]
    if tied:
        return rows[int(rng.choice(tied))]
    centre = round(q * (len(rows) - 1))
    for distance in range(1, len(rows)):
        for index in (centre - distance, centre + distance):
            if 0 <= index < len(rows) and rows[index][0] not in used:
                return rows[index]
    return rows[centre]  # fewer candidates than slots: a repeat is unavoidable


def sample_params(
    conn: psycopg.Connection[Any],
    case: Case,
    now: datetime,
    seed: int,
    cache: dict[str, list[Any]],
    slots: tuple[tuple[str, float], ...] | None = None,
    params_dir: Path = PARAMS_DIR,
) -> list[ParamSample]:
    """One parameter per slot; suites pass finer `slots` or their own parameter queries in `params_dir`."""
    slots = slots or slots_for(case)
    if case.sampler == "none":
        return [ParamSample("all", params_for("none", None, now), None, 0)]
    if case.sampler not in cache:
        sql_text = (params_dir / f"{case.sampler}.sql").read_text()
        cache[case.sampler] = [(v, int(n)) for v, n in conn.execute(sql_text, {"now": now}).fetchall()]
    rows = cache[case.sampler]
    if not rows:
        return []
    rng = np.random.default_rng([seed, sum(map(ord, case.name))])
    samples = []
    used: set[Any] = set()
    for label, q in slots:
        value, matched = pick_quantile(rows, q, rng, used)
        if value in used:
            continue  # fewer distinct candidates than slots: measure each once
        used.add(value)
        samples.append(ParamSample(label, params_for(case.sampler, value, now), value, matched))
    return samples
