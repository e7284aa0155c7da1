"""Session planning: every session of a dataset drawn up front (length, project, start, active time, pauses),
and, per block of sessions, the timeline of its events (which type happens when).

The plan comes from one random stream (Stream.SESSION_PLAN) and depends on the spec only; a block's timeline
draws from the block's own stream, handed in by generators.events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from generators.event_mix import COMMIT_CREATED, LLM_REQUEST, LLM_RESPONSE, SESSION_END, SESSION_START, draw, zipf_cdf
from generators.shape import DatasetSpec, Stream

# Share of the events right after an llm_request that are turned into its llm_response.
RESPONSE_AFTER_REQUEST = 0.9
# UTC session-start activity per hour of day: European and American working hours overlap in the middle.
HOURLY_ACTIVITY: tuple[float, ...] = (
    0.30, 0.25, 0.22, 0.22, 0.25, 0.30, 0.45, 0.65, 0.85, 1.0, 1.0, 0.95,
    0.90, 1.0, 1.0, 1.0, 0.95, 0.85, 0.75, 0.65, 0.55, 0.50, 0.42, 0.35,
)  # fmt: skip
MIN_RESUMED_LENGTH = 8  # a resumed session needs enough events to split over several days

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


@dataclass(frozen=True, eq=False)
class SessionPlan:
    """Every session of the dataset, sorted by start time; arrays of length spec.sessions."""

    length: np.ndarray  # int64 events, >= 2
    project_id: np.ndarray  # int32, 1-based
    start_us: np.ndarray  # int64 microseconds since the epoch: the session_start timestamp
    active_us: np.ndarray  # int64 time between first and last event, pauses excluded
    pause_us: np.ndarray  # int64 total of the multi-hour pauses of a resumed session, else 0
    segments: np.ndarray  # int64 1, or 2-5 for a session resumed across days


def plan_sessions(spec: DatasetSpec) -> SessionPlan:
    spec.validate()
    rng = spec.rng(Stream.SESSION_PLAN)
    n = spec.sessions
    length = _session_lengths(rng, spec.rows, n, spec.session_length_sigma)
    project_id = _session_projects(rng, n, spec.project_count, spec.project_zipf_s)
    start = _session_starts(rng, spec, n)
    # Mean gap between events is mean_event_gap_s; the lognormal noise has mean 1.
    noise = rng.lognormal(-0.18, 0.6, n)
    active = np.maximum((length * noise * spec.mean_event_gap_s * 1e6).astype(np.int64), length * 1000)
    segments = np.ones(n, dtype=np.int64)
    pause = np.zeros(n, dtype=np.int64)
    eligible = np.flatnonzero(length >= MIN_RESUMED_LENGTH)
    resumed = rng.permutation(eligible)[: round(spec.resumed_session_fraction * n)]
    segments[resumed] = rng.integers(2, 6, len(resumed))
    # Each break between working segments lasts 8-40 hours: the developer comes back the next day(s).
    breaks = rng.uniform(8, 40, (len(resumed), 4)) * HOUR_US
    pause[resumed] = (breaks * (np.arange(4) < segments[resumed, None] - 1)).sum(axis=1).astype(np.int64)

    window_us = spec.window_days * DAY_US
    total = active + pause
    too_long = total > window_us - 1
    if too_long.any():
        scale = (window_us - 1) / total[too_long]
        active[too_long] = np.maximum((active[too_long] * scale).astype(np.int64), length[too_long])
        pause[too_long] = np.maximum(window_us - 1 - active[too_long], 0)
        total = active + pause
    # Sessions that would run past the reference instant end a little before it instead.
    end_us = epoch_us(spec.reference_instant)
    slack = np.minimum(2 * HOUR_US, window_us - total)
    latest_start = end_us - total - (rng.random(n) * slack).astype(np.int64)
    start = np.maximum(np.minimum(start, latest_start), epoch_us(spec.window_start))

    order = np.argsort(start, kind="stable")
    return SessionPlan(
        length=length[order],
        project_id=project_id[order],
        start_us=start[order],
        active_us=active[order],
        pause_us=pause[order],
        segments=segments[order],
    )


def _session_lengths(rng: np.random.Generator, rows: int, sessions: int, sigma: float) -> np.ndarray:
    """Heavy-tailed (lognormal) lengths summing to exactly `rows`, each >= 2."""
    middle_total = rows - 2 * sessions
    raw = rng.lognormal(0.0, sigma, sessions)
    # fsum is exact, so the scale does not depend on summation order or SIMD width.
    ideal = raw * (middle_total / math.fsum(raw.tolist()))
    middle = np.floor(ideal).astype(np.int64)
    missing = middle_total - int(middle.sum())
    middle[np.argsort(middle - ideal, kind="stable")[:missing]] += 1
    assert int(middle.sum()) == middle_total
    return middle + 2


def _session_projects(rng: np.random.Generator, sessions: int, projects: int, s: float) -> np.ndarray:
    rank = draw(zipf_cdf(projects, s), rng.random(sessions))
    # Every project gets at least one session, so project ids 1..projects all exist.
    rank[rng.permutation(sessions)[:projects]] = np.arange(projects)
    project_of_rank = rng.permutation(projects).astype(np.int32) + 1
    return project_of_rank[rank]


def _session_starts(rng: np.random.Generator, spec: DatasetSpec, sessions: int) -> np.ndarray:
    """Start instants with a daily rhythm (working hours, UTC) and a weekly one (quieter weekends)."""
    slot_start = epoch_us(spec.window_start) + np.arange(spec.window_days * 24, dtype=np.int64) * HOUR_US
    hour_of_day = (slot_start // HOUR_US) % 24
    weekday = (slot_start // DAY_US + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    weight = np.asarray(HOURLY_ACTIVITY)[hour_of_day] * np.where(weekday >= 5, spec.weekend_activity, 1.0)
    slot = draw(np.cumsum(weight) / weight.sum(), rng.random(sessions))
    return slot_start[slot] + (rng.random(sessions) * HOUR_US).astype(np.int64)


def epoch_us(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True, eq=False)
class Timeline:
    """The rows of a block in (session, position) order: what happens when."""

    session: np.ndarray  # block-local session per row
    position: np.ndarray  # 0 for session_start
    codes: np.ndarray  # event type per row
    timestamp_us: np.ndarray  # strictly increasing within a session
    commits_before: np.ndarray  # commit_created events earlier in the same session
    last_us: np.ndarray  # per session: timestamp of session_end


def session_timeline(
    rng: np.random.Generator, plan: SessionPlan, first: int, last: int, middle_event_cdf: np.ndarray
) -> Timeline:
    lengths = plan.length[first:last]
    rows = int(lengths.sum())
    session_first_row = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    session = np.repeat(np.arange(last - first), lengths)
    position = np.arange(rows) - session_first_row[session]
    is_last = position == lengths[session] - 1

    codes = draw(middle_event_cdf, rng.random(rows))
    codes[position == 0] = SESSION_START
    codes[is_last] = SESSION_END
    # An llm_request is usually answered by the very next event; requests themselves stay requests.
    after_request = np.zeros(rows, dtype=bool)
    after_request[1:] = codes[:-1] == LLM_REQUEST
    answered = after_request & (codes != LLM_REQUEST) & (codes != SESSION_END)
    codes[answered & (rng.random(rows) < RESPONSE_AFTER_REQUEST)] = LLM_RESPONSE
    is_commit = codes == COMMIT_CREATED
    commits_before = np.cumsum(is_commit) - is_commit
    commits_before -= commits_before[session_first_row][session]

    # Agents act within seconds; now and then a person thinks for minutes.
    gaps = rng.standard_exponential(rows) * np.where(rng.random(rows) < 0.08, 12.0, 1.0)
    gaps[position == 0] = 0.0
    elapsed = np.cumsum(gaps)
    elapsed -= elapsed[session_first_row][session]
    fraction = elapsed / np.maximum(elapsed[is_last], 1e-12)[session]
    spread = plan.active_us[first:last] - lengths
    offset = np.floor(fraction * spread[session]).astype(np.int64) + position
    # Resumed sessions: the developer stops for 8-40 hours at a few random points.
    pause_at = np.zeros(rows, dtype=np.int64)
    for s in np.flatnonzero(plan.segments[first:last] > 1).tolist():
        breaks = int(plan.segments[first + s]) - 1
        cut = 1 + rng.choice(int(lengths[s]) - 1, size=breaks, replace=False)
        shares = rng.random(breaks) + 0.5
        pause_at[session_first_row[s] + cut] = (shares / shares.sum() * plan.pause_us[first + s]).astype(np.int64)
    paused = np.cumsum(pause_at)
    paused -= paused[session_first_row][session]
    timestamp = plan.start_us[first:last][session] + offset + paused
    return Timeline(session, position, codes, timestamp, commits_before, timestamp[is_last])
