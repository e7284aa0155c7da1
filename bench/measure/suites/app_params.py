"""The application's access model: which parameters its pages send, drawn from the loaded data with a fixed seed.

Unlike the design document's cases, which sample parameters across the range of selectivity, these draws
follow how the application is used (docs/app-workload.md): session pages mostly for sessions active in the
last day with a tail older than the compression horizon, dashboard projects in proportion to their activity,
"today" from local midnight to the next midnight, the stream poll from the newest event on. Each sampler
returns draws; a value drawn twice is timed once and counts twice (`draws`), so a case's mean over draws
estimates its expected time under the model.
"""

from __future__ import annotations

import json
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from psycopg.types.numeric import Int4, Int8

from bench.core.cases import APP_QUERIES_DIR, QUERIES_DIR, Case
from bench.core.workload import AccessModel
from bench.measure.params import ParamSample

APP_PARAMS_DIR = APP_QUERIES_DIR / "params"
FILE_PATHS_SQL = QUERIES_DIR / "params" / "file_path_any.sql"  # the same candidates as the design document's


@dataclass(frozen=True)
class AppDraw:
    label: str
    params: dict[str, Any]  # the sampled bind parameters, typed as the server infers them for Prisma
    value: Any  # what was drawn, for the record
    draws: int  # how many of the case's draws fell on this value
    matched: int  # what the sampler counted for it (events in the window, events of the session)

    def param_sample(self, case: Case) -> ParamSample:
        return ParamSample(self.label, {**bind_constants(case), **self.params}, self.value, self.matched)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "value": self.value, "draws": self.draws, "matched": self.matched}


def bind_constants(case: Case) -> dict[str, Any]:
    # Prisma lets the server infer parameter types: LIMIT and OFFSET are bigint, text stays untyped.
    return {k: Int8(v) if isinstance(v, int) else v for k, v in case.binds.items()}


@dataclass
class SamplerContext:
    conn: psycopg.Connection[Any]
    now: datetime  # the end of the loaded data, which the access model takes as "now"
    access: AccessModel
    seed: int
    cache: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)

    def rows(self, sql_name: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        if sql_name not in self.cache:
            path = FILE_PATHS_SQL if sql_name == "file_paths" else APP_PARAMS_DIR / f"{sql_name}.sql"
            self.cache[sql_name] = list(self.conn.execute(path.read_text(), params or {}).fetchall())
        return self.cache[sql_name]

    def rng(self, population: str) -> np.random.Generator:
        # Seeded by population, not by case: sibling cases (the three JSON forms, both session reads) get the
        # same values, so their figures compare like for like.
        return np.random.default_rng([self.seed, zlib.crc32(population.encode())])


Sampler = Callable[[SamplerContext, int], list[AppDraw]]


def _merge(draws: list[AppDraw]) -> list[AppDraw]:
    """Equal values are timed once and weighted by how often they were drawn."""
    merged: dict[str, AppDraw] = {}
    for d in draws:
        key = json.dumps(d.value, default=str, sort_keys=True)
        if key in merged:
            old = merged[key]
            merged[key] = AppDraw(old.label, old.params, old.value, old.draws + d.draws, old.matched)
        else:
            merged[key] = d
    return list(merged.values())


def constants_only(ctx: SamplerContext, n: int) -> list[AppDraw]:
    return [AppDraw("all", {}, None, 1, 0)]


def session_viewed(ctx: SamplerContext, n: int) -> list[AppDraw]:
    rows = ctx.rows("session_viewed")
    recent_after = ctx.now - timedelta(days=ctx.access.recent_session_days)
    old_before = ctx.now - timedelta(days=ctx.access.old_session_after_days)
    recent = [r for r in rows if r[1] > recent_after]
    old = [r for r in rows if r[1] < old_before]
    n_old = round(n * ctx.access.old_session_share) if old else 0
    n_old = n if not recent else n_old
    rng = ctx.rng("sessions")
    draws = []
    for group, rows_of_group, count in (("recent", recent, n - n_old), ("old", old, n_old)):
        if not rows_of_group or count <= 0:
            continue
        picks = rng.choice(len(rows_of_group), size=min(count, len(rows_of_group)), replace=False)
        for i, index in enumerate(sorted(int(p) for p in picks), start=1):
            session, _, matched = rows_of_group[index]
            draws.append(AppDraw(f"{group}{i}", {"session_id": session}, session, 1, int(matched)))
    return draws


def _project_draws(ctx: SamplerContext, n: int) -> list[tuple[int, int, int, datetime]]:
    """(project, draws, events in the activity window, newest event), drawn in proportion to activity."""
    since = ctx.now - timedelta(days=ctx.access.activity_window_days)
    rows = ctx.rows("project_activity", {"since": since})
    if not rows:
        return []
    weights = np.array([float(r[1]) for r in rows])
    weights = weights if weights.sum() > 0 else np.ones(len(rows))
    picks = ctx.rng("projects").choice(len(rows), size=n, replace=True, p=weights / weights.sum())
    counted = Counter(int(p) for p in picks)
    return [(int(rows[i][0]), counted[i], int(rows[i][1]), rows[i][2]) for i in sorted(counted)]


def project_by_activity(ctx: SamplerContext, n: int) -> list[AppDraw]:
    return [AppDraw(f"p{p}", {"project_id": Int4(p)}, p, k, m) for p, k, m, _ in _project_draws(ctx, n)]


def _today(ctx: SamplerContext, hour: float) -> tuple[datetime, datetime]:
    start = ctx.now - timedelta(minutes=round(hour * 60))
    return start, start + timedelta(days=1)


def _hours(ctx: SamplerContext, n: int) -> list[float]:
    first, last = ctx.access.dashboard_hours
    return [float(h) for h in ctx.rng("hours").uniform(first, last, size=n)]


def _hour_label(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def dashboard_today(ctx: SamplerContext, n: int) -> list[AppDraw]:
    draws = []
    for hour in _hours(ctx, n):
        start, end = _today(ctx, hour)
        params = {"today_start": start, "today_end": end}
        draws.append(AppDraw(f"at {_hour_label(hour)}", params, start.isoformat(), 1, 0))
    return _merge(draws)


def dashboard_today_project(ctx: SamplerContext, n: int) -> list[AppDraw]:
    projects = [p for p, k, _, _ in _project_draws(ctx, n) for _ in range(k)]
    draws = []
    for project, hour in zip(projects, _hours(ctx, len(projects)), strict=True):
        start, end = _today(ctx, hour)
        params = {"project_id": Int4(project), "today_start": start, "today_end": end}
        draws.append(AppDraw(f"p{project} at {_hour_label(hour)}", params, [project, start.isoformat()], 1, 0))
    return _merge(draws)


def last_hour(ctx: SamplerContext, n: int) -> list[AppDraw]:
    since = ctx.now - timedelta(hours=1)
    return [AppDraw("now-1h", {"since": since}, since.isoformat(), 1, 0)]


def last_hour_project(ctx: SamplerContext, n: int) -> list[AppDraw]:
    since = ctx.now - timedelta(hours=1)
    return [AppDraw(f"p{p}", {"project_id": Int4(p), "since": since}, p, k, m) for p, k, m, _ in _project_draws(ctx, n)]


def stream_poll(ctx: SamplerContext, n: int) -> list[AppDraw]:
    (newest,) = ctx.rows("newest_event")[0]
    return [AppDraw("newest event", {"since": newest}, newest.isoformat() if newest else None, 1, 0)]


def stream_poll_project(ctx: SamplerContext, n: int) -> list[AppDraw]:
    return [
        AppDraw(f"p{p}", {"since": newest, "project_id": Int4(p)}, p, k, m)
        for p, k, m, newest in _project_draws(ctx, n)
    ]


def project_events_window(ctx: SamplerContext, n: int) -> list[AppDraw]:
    window = {"from": ctx.now - timedelta(days=ctx.access.project_events_days), "to": ctx.now}
    return [AppDraw(f"p{p}", {"project_id": Int4(p), **window}, p, k, m) for p, k, m, _ in _project_draws(ctx, n)]


def time_bucket_project(ctx: SamplerContext, n: int) -> list[AppDraw]:
    window = {"from": ctx.now - timedelta(days=ctx.access.time_bucket_days), "to": ctx.now}
    return [AppDraw(f"p{p}", {"project_id": Int4(p), **window}, p, k, m) for p, k, m, _ in _project_draws(ctx, n)]


def _file_paths(ctx: SamplerContext, n: int) -> list[tuple[str, int]]:
    # A what-if filter: any file a user might look up, every distinct path equally likely.
    rows = ctx.rows("file_paths")
    if not rows:
        return []
    picks = ctx.rng("file_paths").choice(len(rows), size=min(n, len(rows)), replace=False)
    return [(str(rows[int(i)][0]), int(rows[int(i)][1])) for i in sorted(int(p) for p in picks)]


def file_path_equals(ctx: SamplerContext, n: int) -> list[AppDraw]:
    # Prisma binds the JSON value of `equals` as JSON text.
    return [
        AppDraw(f"path{i}", {"json_value": json.dumps(path)}, path, 1, m)
        for i, (path, m) in enumerate(_file_paths(ctx, n), 1)
    ]


def file_path_array(ctx: SamplerContext, n: int) -> list[AppDraw]:
    return [
        AppDraw(f"path{i}", {"json_value": json.dumps([path])}, path, 1, m)
        for i, (path, m) in enumerate(_file_paths(ctx, n), 1)
    ]


def file_path_document(ctx: SamplerContext, n: int) -> list[AppDraw]:
    return [
        AppDraw(f"path{i}", {"data_contains": json.dumps({"filePath": path})}, path, 1, m)
        for i, (path, m) in enumerate(_file_paths(ctx, n), 1)
    ]


# The `-- params:` header of an application case names one of these.
SAMPLERS: dict[str, Sampler] = {
    "none": constants_only,
    "session_viewed": session_viewed,
    "project_by_activity": project_by_activity,
    "dashboard_today": dashboard_today,
    "dashboard_today_project": dashboard_today_project,
    "last_hour": last_hour,
    "last_hour_project": last_hour_project,
    "stream_poll": stream_poll,
    "stream_poll_project": stream_poll_project,
    "project_events_window": project_events_window,
    "time_bucket_project": time_bucket_project,
    "file_path_equals": file_path_equals,
    "file_path_array": file_path_array,
    "file_path_document": file_path_document,
}


def draw_params(ctx: SamplerContext, case: Case, n: int) -> list[AppDraw]:
    return SAMPLERS[case.sampler](ctx, n)
