"""Vectorised generation of agent_events rows, streamed in timestamp order.

The output depends on the spec only, never on batch_rows:
- a session plan (lengths, projects, start times, durations) is drawn up front from one random stream;
- sessions sorted by start are cut into blocks of SESSIONS_PER_BLOCK, and each block draws its events from
  its own stream (Stream.SESSION_BLOCK, block index);
- blocks are merged into (timestamp, session, position) order, as a live table would receive them, and
  re-chunked into batches of batch_rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime

import numpy as np

from generators.categories import AGENTS, EVENT_TYPES, FILE_TOOLS, SEVERITIES, TAG_WEIGHTS, TAGS, TOOLS
from generators.shape import DatasetSpec, Stream
from generators.vocabulary import Vocabulary, build_vocabulary

(
    SESSION_START, SESSION_END, FILE_READ, FILE_WRITE, FILE_CREATE, FILE_DELETE, COMMAND_EXECUTE, TEST_RUN,
    BUILD_TRIGGER, SEARCH_PERFORMED, LLM_REQUEST, LLM_RESPONSE, ERROR_ENCOUNTERED, ROLLBACK_PERFORMED,
    COMMIT_CREATED, TOOL_INVOCATION, USER_INTERACTION, CONTEXT_SWITCH,
) = range(len(EVENT_TYPES))  # fmt: skip

# Share of each type among the events between session_start and session_end, before 90% of the events
# right after an llm_request are turned into its llm_response (so llm_response ends up ~ as common).
MIDDLE_EVENT_WEIGHTS: dict[int, float] = {
    FILE_READ: 0.20, LLM_REQUEST: 0.14, LLM_RESPONSE: 0.01, TOOL_INVOCATION: 0.14, FILE_WRITE: 0.08,
    SEARCH_PERFORMED: 0.07, COMMAND_EXECUTE: 0.07, USER_INTERACTION: 0.04, TEST_RUN: 0.03,
    ERROR_ENCOUNTERED: 0.025, FILE_CREATE: 0.02, CONTEXT_SWITCH: 0.02, BUILD_TRIGGER: 0.015,
    COMMIT_CREATED: 0.01, FILE_DELETE: 0.005, ROLLBACK_PERFORMED: 0.002,
}  # fmt: skip
RESPONSE_AFTER_REQUEST = 0.9
# (median ms, lognormal sigma) of metrics.duration per event type.
DURATION_MS: dict[int, tuple[float, float]] = {
    SESSION_START: (50, 0.5), SESSION_END: (20, 0.5), FILE_READ: (15, 0.8), FILE_WRITE: (40, 0.8),
    FILE_CREATE: (35, 0.8), FILE_DELETE: (10, 0.5), COMMAND_EXECUTE: (1500, 1.5), TEST_RUN: (12000, 1.0),
    BUILD_TRIGGER: (25000, 0.9), SEARCH_PERFORMED: (250, 0.9), LLM_REQUEST: (80, 0.5),
    LLM_RESPONSE: (6000, 0.8), ERROR_ENCOUNTERED: (5, 0.5), ROLLBACK_PERFORMED: (400, 0.7),
    COMMIT_CREATED: (300, 0.6), TOOL_INVOCATION: (600, 1.3), USER_INTERACTION: (9000, 1.2),
    CONTEXT_SWITCH: (30, 0.6),
}  # fmt: skip
DEBUG, INFO, WARNING, ERROR, CRITICAL = range(len(SEVERITIES))
TAG_COUNT_CDF = np.array([0.40, 0.75, 0.93, 1.0])  # 0, 1, 2 or 3 tags drawn per event
# UTC session-start activity per hour of day: European and American working hours overlap in the middle.
HOURLY_ACTIVITY: tuple[float, ...] = (
    0.30, 0.25, 0.22, 0.22, 0.25, 0.30, 0.45, 0.65, 0.85, 1.0, 1.0, 0.95,
    0.90, 1.0, 1.0, 1.0, 0.95, 0.85, 0.75, 0.65, 0.55, 0.50, 0.42, 0.35,
)  # fmt: skip
SESSIONS_PER_BLOCK = 256
MIN_RESUMED_LENGTH = 8  # a resumed session needs enough events to split over several days
LARGE_PAYLOAD_BYTES = (6_000, 12_000, 64_000)  # min, median, max characters of a large text field

# Lookup tables indexed by event type code (session_start and session_end never occur in the middle).
MIDDLE_EVENT_CDF = np.cumsum([MIDDLE_EVENT_WEIGHTS.get(code, 0.0) for code in range(len(EVENT_TYPES))])
MIDDLE_EVENT_CDF /= MIDDLE_EVENT_CDF[-1]
DURATION_MU = np.log([DURATION_MS[code][0] for code in range(len(EVENT_TYPES))])
DURATION_SIGMA = np.array([DURATION_MS[code][1] for code in range(len(EVENT_TYPES))])
AGENT_CDF = np.cumsum([agent.share for agent in AGENTS]) / sum(agent.share for agent in AGENTS)
TAG_CDF = np.cumsum(TAG_WEIGHTS) / sum(TAG_WEIGHTS)
EVENT_TYPE_NAMES = np.array(EVENT_TYPES, dtype=object)
SEVERITY_NAMES = np.array(SEVERITIES, dtype=object)


@dataclass(frozen=True, eq=False)
class CategoryMixes:
    """The CDFs categories are drawn from: the built-in mixes unless the spec sets *_weights knobs."""

    middle_event: np.ndarray
    agent: np.ndarray
    base_severity: np.ndarray | None  # None: the built-in base severities of _base_severity
    tag: np.ndarray


def category_mixes(spec: DatasetSpec) -> CategoryMixes:
    def cdf(mix: tuple[tuple[str, float], ...], names: Sequence[str]) -> np.ndarray:
        weights = dict(mix)
        cumulative = np.cumsum([float(weights.get(name, 0.0)) for name in names])
        return cumulative / cumulative[-1]

    return CategoryMixes(
        middle_event=MIDDLE_EVENT_CDF if spec.event_type_weights is None else cdf(spec.event_type_weights, EVENT_TYPES),
        agent=AGENT_CDF if spec.agent_weights is None else cdf(spec.agent_weights, [a.name for a in AGENTS]),
        base_severity=None if spec.severity_weights is None else cdf(spec.severity_weights, SEVERITIES),
        tag=TAG_CDF if spec.tag_weights is None else cdf(spec.tag_weights, TAGS),
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR_US = 3_600_000_000
DAY_US = 24 * HOUR_US


@dataclass(frozen=True, eq=False)
class EventBatch:
    """Rows of agent_events, one numpy array per column, in COPY column order."""

    id: np.ndarray  # object: str, uuid v4 text
    timestamp: np.ndarray  # datetime64[us], UTC
    event_type: np.ndarray  # object: str
    agent_id: np.ndarray  # object: str
    agent_version: np.ndarray  # object: str
    session_id: np.ndarray  # object: str, uuid v4 text
    project_id: np.ndarray  # int32
    context: np.ndarray  # object: str, JSON text
    data: np.ndarray  # object: str, JSON text
    metrics: np.ndarray  # object: str (JSON text) or None
    parent_event_id: np.ndarray  # object: str or None
    related_event_ids: np.ndarray  # object: tuple[str, ...] or None
    tags: np.ndarray  # object: tuple[str, ...], possibly empty
    severity: np.ndarray  # object: str

    def __len__(self) -> int:
        return len(self.id)

    def take(self, rows: np.ndarray | slice) -> EventBatch:
        return EventBatch(*(getattr(self, name)[rows] for name in _COLUMN_NAMES))

    @staticmethod
    def concat(batches: Sequence[EventBatch]) -> EventBatch:
        if len(batches) == 1:
            return batches[0]
        return EventBatch(*(np.concatenate([getattr(b, name) for b in batches]) for name in _COLUMN_NAMES))


_COLUMN_NAMES = tuple(field.name for field in fields(EventBatch))


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
    end_us = _epoch_us(spec.reference_instant)
    slack = np.minimum(2 * HOUR_US, window_us - total)
    latest_start = end_us - total - (rng.random(n) * slack).astype(np.int64)
    start = np.maximum(np.minimum(start, latest_start), _epoch_us(spec.window_start))

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


def _zipf_cdf(n: int, s: float) -> np.ndarray:
    weights = np.arange(1, n + 1, dtype=np.float64) ** -s
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def _draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indexes drawn from a discrete distribution given by its CDF, one per uniform in u."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)


def _session_projects(rng: np.random.Generator, sessions: int, projects: int, s: float) -> np.ndarray:
    rank = _draw(_zipf_cdf(projects, s), rng.random(sessions))
    # Every project gets at least one session, so project ids 1..projects all exist.
    rank[rng.permutation(sessions)[:projects]] = np.arange(projects)
    project_of_rank = rng.permutation(projects).astype(np.int32) + 1
    return project_of_rank[rank]


def _session_starts(rng: np.random.Generator, spec: DatasetSpec, sessions: int) -> np.ndarray:
    """Start instants with a daily rhythm (working hours, UTC) and a weekly one (quieter weekends)."""
    slot_start = _epoch_us(spec.window_start) + np.arange(spec.window_days * 24, dtype=np.int64) * HOUR_US
    hour_of_day = (slot_start // HOUR_US) % 24
    weekday = (slot_start // DAY_US + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    weight = np.asarray(HOURLY_ACTIVITY)[hour_of_day] * np.where(weekday >= 5, spec.weekend_activity, 1.0)
    slot = _draw(np.cumsum(weight) / weight.sum(), rng.random(sessions))
    return slot_start[slot] + (rng.random(sessions) * HOUR_US).astype(np.int64)


def _epoch_us(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def generate_batches(spec: DatasetSpec, batch_rows: int = 50_000) -> Iterator[EventBatch]:
    """Exactly spec.rows rows in timestamp order, as batches of batch_rows (the last may be shorter).

    Memory holds one block, the batch being filled, and the rows of sessions still running at the
    current point in time."""
    if batch_rows < 1:
        raise ValueError(f"batch_rows={batch_rows} must be at least 1")
    plan = plan_sessions(spec)
    vocabulary = build_vocabulary(spec)
    return _rechunk(_time_ordered(spec, plan, vocabulary), batch_rows)


def _time_ordered(spec: DatasetSpec, plan: SessionPlan, vocabulary: Vocabulary) -> Iterator[EventBatch]:
    merger = _TimeOrderMerger()
    sessions = len(plan.length)
    for block in range(math.ceil(sessions / SESSIONS_PER_BLOCK)):
        merger.add(_generate_block(spec, plan, vocabulary, block))
        next_first = (block + 1) * SESSIONS_PER_BLOCK
        # No later block has a row before the start of its first session.
        watermark = int(plan.start_us[next_first]) if next_first < sessions else np.iinfo(np.int64).max
        released = merger.release_before(watermark)
        if released is not None:
            yield released


def _rechunk(pieces: Iterator[EventBatch], batch_rows: int) -> Iterator[EventBatch]:
    held: list[EventBatch] = []
    count = 0
    for piece in pieces:
        held.append(piece)
        count += len(piece)
        if count < batch_rows:
            continue
        joined = EventBatch.concat(held)
        cut = count - count % batch_rows
        for start in range(0, cut, batch_rows):
            yield joined.take(slice(start, start + batch_rows))
        held = [joined.take(slice(cut, count))] if cut < count else []
        count -= cut
    if count:
        yield EventBatch.concat(held)


@dataclass(eq=False)
class _PendingBlock:
    batch: EventBatch  # sorted by time
    released: int  # leading rows already released


class _TimeOrderMerger:
    """Holds time-sorted blocks until every row before a watermark is known, then releases those rows in
    (timestamp, session, position) order."""

    def __init__(self) -> None:
        self._pending: list[_PendingBlock] = []

    def add(self, batch: EventBatch) -> None:
        self._pending.append(_PendingBlock(batch, 0))

    def release_before(self, watermark_us: int) -> EventBatch | None:
        pieces = []
        for pending in self._pending:
            batch = pending.batch
            stop = int(np.searchsorted(batch.timestamp.view(np.int64), watermark_us, side="left"))
            if stop > pending.released:
                pieces.append(batch.take(slice(pending.released, stop)))
            pending.released = stop
            if stop * 2 > len(batch):
                # Copy out the unreleased rows, so a long session does not pin its whole block in memory.
                pending.batch, pending.released = batch.take(np.arange(stop, len(batch))), 0
        self._pending = [pending for pending in self._pending if pending.released < len(pending.batch)]
        if not pieces:
            return None
        merged = EventBatch.concat(pieces)
        if len(pieces) > 1:
            # Pieces are sorted runs in block (= session) order: a stable sort keeps the session tie-break.
            merged = merged.take(np.argsort(merged.timestamp.view(np.int64), kind="stable"))
        return merged


def _generate_block(spec: DatasetSpec, plan: SessionPlan, vocabulary: Vocabulary, block: int) -> EventBatch:
    """The events of one block of sessions, sorted by (timestamp, session, position)."""
    rng = spec.rng(Stream.SESSION_BLOCK, block)
    first, last = block * SESSIONS_PER_BLOCK, min((block + 1) * SESSIONS_PER_BLOCK, len(plan.length))
    lengths = plan.length[first:last]
    sessions = last - first
    mixes = category_mixes(spec)
    timeline = _session_timeline(rng, plan, first, last, mixes.middle_event)
    rows = len(timeline.session)
    # From here on rows are in time order; `previous` is the preceding event of the same session.
    order = np.argsort(timeline.timestamp_us, kind="stable")
    rank = np.empty(rows, dtype=np.int64)
    rank[order] = np.arange(rows)
    session, position, codes = timeline.session[order], timeline.position[order], timeline.codes[order]
    previous = np.where(position > 0, rank[np.maximum(order - 1, 0)], -1)

    agent = _draw(mixes.agent, rng.random(sessions))
    window_fraction = (plan.start_us[first:last] - _epoch_us(spec.window_start)) / (spec.window_days * DAY_US)
    version_count = vocabulary.agent_versions.count[agent]
    # Newer agent versions roll out over the window.
    version = np.clip(
        (window_fraction * version_count + rng.normal(0, 0.8, sessions)).astype(np.int64),
        0,
        version_count - 1,
    )
    session_version = vocabulary.agent_versions.values[vocabulary.agent_versions.start[agent] + version]
    session_model = np.empty(sessions, dtype=object)
    model_u = rng.random(sessions)
    for a, (models, cdf) in enumerate(vocabulary.agent_models):
        session_model[agent == a] = models[_draw(cdf, model_u[agent == a])]
    project_index = plan.project_id[first:last].astype(np.int64) - 1

    # HEAD moves on after each commit_created: one hash per session plus one per commit.
    commits = np.bincount(session[codes == COMMIT_CREATED], minlength=sessions)
    session_first_hash = np.concatenate([[0], np.cumsum(commits + 1)[:-1]])
    commit_index = session_first_hash[session] + timeline.commits_before[order]
    hash_session = np.repeat(np.arange(sessions), commits + 1)
    hashes = _sha_strings(rng, len(hash_session))
    prefixes = _context_prefixes(rng, vocabulary, project_index)
    # Rows with the same HEAD share one context string.
    context_of_hash = np.array(
        [f'{prefix}{sha}"}}' for prefix, sha in zip(prefixes[hash_session].tolist(), hashes.tolist(), strict=True)],
        dtype=object,
    )

    ids = _uuid_strings(rng, rows)
    severity = _base_severity(rng, rows, mixes.base_severity)
    duration = np.exp(DURATION_MU[codes] + DURATION_SIGMA[codes] * rng.standard_normal(rows))
    large_candidates = int(np.isin(codes, LARGE_PAYLOAD_TYPES).sum())
    payload = _Block(
        spec=spec,
        vocabulary=vocabulary,
        rng=rng,
        session=session,
        project_index=project_index[session],
        duration_ms=duration.astype(np.int64),
        severity=severity,
        commit_index=commit_index,
        hashes=hashes,
        session_model=session_model,
        session_length=lengths,
        session_span_s=(timeline.last_us - plan.start_us[first:last]) // 1_000_000,
        file_rank_cdf=_zipf_cdf(spec.files_per_project, spec.file_zipf_s),
        large_probability=min(1.0, spec.large_payload_fraction * rows / max(large_candidates, 1)),
    )
    data = np.empty(rows, dtype=object)
    metrics = np.empty(rows, dtype=object)
    by_type = np.argsort(codes, kind="stable")
    type_end = np.cumsum(np.bincount(codes, minlength=len(EVENT_TYPES)))
    for code, builder in enumerate(PAYLOAD_BUILDERS):
        typed = by_type[type_end[code - 1] if code else 0 : type_end[code]]
        if len(typed):
            data[typed], metrics[typed] = builder(payload, typed)
    metrics[rng.random(rows) < spec.null_metrics_fraction] = None

    return EventBatch(
        id=ids,
        timestamp=timeline.timestamp_us[order].view("datetime64[us]"),
        event_type=EVENT_TYPE_NAMES[codes],
        agent_id=vocabulary.agent_names[agent][session],
        agent_version=session_version[session],
        session_id=_uuid_strings(rng, sessions)[session],
        project_id=plan.project_id[first:last][session],
        context=context_of_hash[commit_index],
        data=data,
        metrics=metrics,
        parent_event_id=_parents(rng, codes, previous, ids),
        related_event_ids=_related(rng, spec, codes, position, order, rank, ids),
        tags=vocabulary.tag_sets[_tag_masks(rng, rows, mixes.tag)],
        severity=SEVERITY_NAMES[severity],
    )


@dataclass(frozen=True, eq=False)
class _Timeline:
    """The rows of a block in (session, position) order: what happens when."""

    session: np.ndarray  # block-local session per row
    position: np.ndarray  # 0 for session_start
    codes: np.ndarray  # event type per row
    timestamp_us: np.ndarray  # strictly increasing within a session
    commits_before: np.ndarray  # commit_created events earlier in the same session
    last_us: np.ndarray  # per session: timestamp of session_end


def _session_timeline(
    rng: np.random.Generator, plan: SessionPlan, first: int, last: int, middle_event_cdf: np.ndarray
) -> _Timeline:
    lengths = plan.length[first:last]
    rows = int(lengths.sum())
    session_first_row = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    session = np.repeat(np.arange(last - first), lengths)
    position = np.arange(rows) - session_first_row[session]
    is_last = position == lengths[session] - 1

    codes = _draw(middle_event_cdf, rng.random(rows))
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
    return _Timeline(session, position, codes, timestamp, commits_before, timestamp[is_last])


def _context_prefixes(rng: np.random.Generator, vocabulary: Vocabulary, project_index: np.ndarray) -> np.ndarray:
    """'{"workingDirectory": ..., "branch": ..., "commit": "' per session; rows add their HEAD hash."""
    catalog, pools = vocabulary.catalog, vocabulary.pools
    sessions = len(project_index)
    member = catalog.team[project_index, rng.integers(0, catalog.team.shape[1], sessions)]
    machine = rng.random(sessions)
    on_main = rng.random(sessions) < 0.35
    branch_pick = rng.integers(1, len(pools.branches), sessions)
    prefixes = []
    for p, user_index, m, main, b in zip(
        project_index.tolist(),
        member.tolist(),
        machine.tolist(),
        on_main.tolist(),
        branch_pick.tolist(),
        strict=True,
    ):
        user, repo = pools.users[user_index], catalog.repo[p]
        if m < 0.45:
            directory = f"/Users/{user}/code/{repo}"
        elif m < 0.9:
            directory = f"/home/{user}/src/{repo}"
        else:
            directory = f"C:\\Users\\{user}\\source\\repos\\{repo}"
        branch = pools.branches[0 if main else b]
        prefixes.append(f'{{"workingDirectory": {json.dumps(directory)}, "branch": {json.dumps(branch)}, "commit": "')
    return np.array(prefixes, dtype=object)


def _uuid_strings(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random version-4 UUIDs as text, built column-wise rather than one uuid.UUID per row."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexdigits = np.frombuffer(raw.tobytes().hex().encode(), dtype=np.uint8).reshape(n, 32)
    text = np.empty((n, 37), dtype=np.uint8)
    for start, stop, target in ((0, 8, 0), (8, 12, 9), (12, 16, 14), (16, 20, 19), (20, 32, 24)):
        text[:, target : target + stop - start] = hexdigits[:, start:stop]
    text[:, [8, 13, 18, 23]] = ord("-")
    text[:, 36] = ord("\n")
    return np.array(text.tobytes().decode("ascii").split("\n")[:n], dtype=object)


def _sha_strings(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random 40-digit git commit hashes."""
    return np.array(rng.bytes(20 * n).hex("\n", 20).split("\n")[:n] if n else [], dtype=object)


def _base_severity(rng: np.random.Generator, rows: int, cdf: np.ndarray | None) -> np.ndarray:
    u = rng.random(rows)
    if cdf is not None:
        return _draw(cdf, u).astype(np.int8)
    return np.select([u < 0.10, u < 0.96, u < 0.99], [DEBUG, INFO, WARNING], ERROR).astype(np.int8)


def _parents(rng: np.random.Generator, codes: np.ndarray, previous: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """parent_event_id: the previous event of the session when it caused this one."""
    previous_code = np.where(previous >= 0, codes[previous], -1)
    u = rng.random(len(codes))
    caused = (
        ((codes == LLM_RESPONSE) & (previous_code == LLM_REQUEST))
        | ((codes == TOOL_INVOCATION) & (previous_code == LLM_RESPONSE) & (u < 0.8))
        | ((codes == USER_INTERACTION) & (previous_code == LLM_RESPONSE) & (u < 0.5))
        | (np.isin(codes, (TEST_RUN, BUILD_TRIGGER)) & (previous_code == FILE_WRITE) & (u < 0.6))
        | ((codes == ERROR_ENCOUNTERED) & (u < 0.7))
        | (codes == ROLLBACK_PERFORMED)
    ) & (previous >= 0)
    parents = np.full(len(codes), None, dtype=object)
    parents[caused] = ids[previous[caused]]
    return parents


def _related(
    rng: np.random.Generator,
    spec: DatasetSpec,
    codes: np.ndarray,
    position: np.ndarray,
    order: np.ndarray,
    rank: np.ndarray,
    ids: np.ndarray,
) -> np.ndarray:
    """related_event_ids: 1-3 earlier events of the session, for commits, rollbacks and a few others."""
    related = np.full(len(codes), None, dtype=object)
    chosen = np.isin(codes, (COMMIT_CREATED, ROLLBACK_PERFORMED)) | (
        rng.random(len(codes)) < spec.related_events_fraction
    )
    rows = np.flatnonzero(chosen & (position >= 2) & (codes != SESSION_END))
    counts = rng.integers(1, 4, len(rows)).tolist()
    # Earlier events of the same session, by position (session order), mapped back to time order.
    steps_back = 1 + (rng.random((len(rows), 3)) * (position[rows, None] - 1)).astype(np.int64)
    candidates = ids[rank[order[rows, None] - steps_back]].tolist()
    for row, earlier, count in zip(rows.tolist(), candidates, counts, strict=True):
        related[row] = tuple(dict.fromkeys(earlier[:count]))
    return related


def _tag_masks(rng: np.random.Generator, rows: int, tag_cdf: np.ndarray) -> np.ndarray:
    """0-3 tags per event as a bit mask over TAGS (duplicates merge, so some events get fewer)."""
    count = _draw(TAG_COUNT_CDF, rng.random(rows))
    picks = _draw(tag_cdf, rng.random((rows, 3)))
    bits = np.left_shift(1, picks) * (np.arange(3) < count[:, None])
    return np.bitwise_or.reduce(bits, axis=1)


def _lognormal_ints(rng: np.random.Generator, n: int, median: float, sigma: float) -> np.ndarray:
    return np.maximum(rng.lognormal(math.log(median), sigma, n), 1).astype(np.int64)


@dataclass(frozen=True, eq=False)
class _Block:
    """One block of sessions while its payloads are built; row arrays are in time order."""

    spec: DatasetSpec
    vocabulary: Vocabulary
    rng: np.random.Generator
    session: np.ndarray  # block-local session per row
    project_index: np.ndarray  # 0-based project per row
    duration_ms: np.ndarray  # per row
    severity: np.ndarray  # per row; builders raise it for failures
    commit_index: np.ndarray  # per row: index into hashes of HEAD when the event happened
    hashes: np.ndarray
    session_model: np.ndarray  # JSON model name per session
    session_length: np.ndarray
    session_span_s: np.ndarray  # seconds from first to last event, per session
    file_rank_cdf: np.ndarray
    large_probability: float

    def durations(self, rows: np.ndarray) -> list[int]:
        return self.duration_ms[rows].tolist()

    def duration_metrics(self, rows: np.ndarray) -> list[str]:
        """metrics JSON for event types that only measure their duration."""
        return [f'{{"duration": {d}}}' for d in self.duration_ms[rows].tolist()]

    def language(self, rows: np.ndarray) -> np.ndarray:
        return self.vocabulary.catalog.language[self.project_index[rows]]

    def files(self, rows: np.ndarray) -> tuple[list[str], list[str]]:
        """(JSON path, JSON language) per row: a Zipf-popular file of the row's project."""
        rank = _draw(self.file_rank_cdf, self.rng.random(len(rows)))
        flat = self.project_index[rows] * self.spec.files_per_project + rank
        return self.vocabulary.path_json[flat].tolist(), self.vocabulary.path_language_json[flat].tolist()

    def word(self, name: str, n: int) -> list[str]:
        vocabulary = self.vocabulary.words[name]
        return vocabulary[self.rng.integers(0, len(vocabulary), n)].tolist()

    def large_texts(self, rows: np.ndarray) -> dict[int, str]:
        """{i: JSON string of several kB} for the rows[i] chosen to carry a large payload."""
        chosen = np.flatnonzero(self.rng.random(len(rows)) < self.large_probability).tolist()
        return {i: self.large_text() for i in chosen}

    def large_fields(self, rows: np.ndarray, key: str) -> list[str]:
        """', "key": <several kB>' for the rows chosen to carry a large payload, else ''."""
        extras = [""] * len(rows)
        for i, text in self.large_texts(rows).items():
            extras[i] = f', "{key}": {text}'
        return extras

    def large_text(self) -> str:
        """A JSON string of code lines, assembled from pre-escaped lines rather than json.dumps per payload."""
        low, median, high = LARGE_PAYLOAD_BYTES
        size = min(high, max(low, self.rng.lognormal(math.log(median), 0.6)))
        lines = self.vocabulary.code_lines_escaped
        # Code lines average ~60 characters.
        picks = self.rng.integers(0, len(lines), int(size / 60) + 1).tolist()
        return '"' + "\\n".join([lines[i] for i in picks]) + '"'

    def fail(self, rows: np.ndarray, failed: np.ndarray) -> None:
        """Failed commands are warnings, some errors."""
        worst = np.where(self.rng.random(len(rows)) < 0.3, ERROR, WARNING)
        self.severity[rows[failed]] = worst[failed]


Payload = tuple[list[str], list[str]]  # (data JSON, metrics JSON) per row


def _session_start(b: _Block, rows: np.ndarray) -> Payload:
    open_files = b.rng.integers(0, 12, len(rows)).tolist()
    data = [
        f'{{"trigger": {t}, "model": {m}, "openFiles": {n}}}'
        for t, m, n in zip(
            b.word("trigger", len(rows)), b.session_model[b.session[rows]].tolist(), open_files, strict=True
        )
    ]
    return data, b.duration_metrics(rows)


def _session_end(b: _Block, rows: np.ndarray) -> Payload:
    session = b.session[rows]
    data = [
        f'{{"reason": {r}, "eventCount": {n}, "durationSeconds": {s}}}'
        for r, n, s in zip(
            b.word("end_reason", len(rows)),
            b.session_length[session].tolist(),
            b.session_span_s[session].tolist(),
            strict=True,
        )
    ]
    return data, b.duration_metrics(rows)


def _file_read(b: _Block, rows: np.ndarray) -> Payload:
    paths, languages = b.files(rows)
    lines = _lognormal_ints(b.rng, len(rows), 180, 1.0)
    sizes = (lines * b.rng.uniform(25, 50, len(rows))).astype(np.int64).tolist()
    data = [
        f'{{"filePath": {p}, "language": {g}, "lineCount": {n}}}'
        for p, g, n in zip(paths, languages, lines.tolist(), strict=True)
    ]
    metrics = [f'{{"duration": {d}, "fileSize": {s}}}' for d, s in zip(b.durations(rows), sizes, strict=True)]
    return data, metrics


def _file_write(b: _Block, rows: np.ndarray) -> Payload:
    paths, languages = b.files(rows)
    changed = _lognormal_ints(b.rng, len(rows), 12, 1.2).tolist()
    sizes = _lognormal_ints(b.rng, len(rows), 6000, 1.0).tolist()
    diffs = b.large_fields(rows, "diff")
    data = [
        f'{{"filePath": {p}, "language": {g}, "linesChanged": {n}{x}}}'
        for p, g, n, x in zip(paths, languages, changed, diffs, strict=True)
    ]
    metrics = [
        f'{{"duration": {d}, "fileSize": {s}, "linesChanged": {n}}}'
        for d, s, n in zip(b.durations(rows), sizes, changed, strict=True)
    ]
    return data, metrics


def _file_create(b: _Block, rows: np.ndarray) -> Payload:
    paths, languages = b.files(rows)
    lines = _lognormal_ints(b.rng, len(rows), 60, 1.0).tolist()
    contents = b.large_fields(rows, "content")
    data = [
        f'{{"filePath": {p}, "language": {g}, "lineCount": {n}{x}}}'
        for p, g, n, x in zip(paths, languages, lines, contents, strict=True)
    ]
    metrics = [
        f'{{"duration": {d}, "fileSize": {n * 32}, "linesChanged": {n}}}'
        for d, n in zip(b.durations(rows), lines, strict=True)
    ]
    return data, metrics


def _file_delete(b: _Block, rows: np.ndarray) -> Payload:
    paths, languages = b.files(rows)
    data = [f'{{"filePath": {p}, "language": {g}}}' for p, g in zip(paths, languages, strict=True)]
    return data, b.duration_metrics(rows)


def _exit_codes(b: _Block, n: int, success: float) -> np.ndarray:
    failure_codes = np.array([1, 1, 1, 1, 2, 127, 130])
    return np.where(b.rng.random(n) < success, 0, failure_codes[b.rng.integers(0, len(failure_codes), n)])


def _command_execute(b: _Block, rows: np.ndarray) -> Payload:
    commands = b.vocabulary.commands.pick(b.language(rows), b.rng.random(len(rows))).tolist()
    exits = _exit_codes(b, len(rows), 0.88)
    b.fail(rows, exits != 0)
    outputs = b.large_fields(rows, "output")
    data = [
        f'{{"command": {c}, "exitCode": {e}{x}}}' for c, e, x in zip(commands, exits.tolist(), outputs, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _test_run(b: _Block, rows: np.ndarray) -> Payload:
    commands = b.vocabulary.test_commands.pick(b.language(rows), b.rng.random(len(rows))).tolist()
    exits = _exit_codes(b, len(rows), 0.75)
    b.fail(rows, exits != 0)
    passed = _lognormal_ints(b.rng, len(rows), 120, 1.2).tolist()
    failed = np.where(exits != 0, b.rng.integers(1, 13, len(rows)), 0).tolist()
    outputs = b.large_fields(rows, "output")
    data = [
        f'{{"command": {c}, "exitCode": {e}, "testsPassed": {p}, "testsFailed": {f}{x}}}'
        for c, e, p, f, x in zip(commands, exits.tolist(), passed, failed, outputs, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _build_trigger(b: _Block, rows: np.ndarray) -> Payload:
    commands = b.vocabulary.build_commands.pick(b.language(rows), b.rng.random(len(rows))).tolist()
    exits = _exit_codes(b, len(rows), 0.9)
    b.fail(rows, exits != 0)
    data = [
        f'{{"command": {c}, "exitCode": {e}, "target": {t}}}'
        for c, e, t in zip(commands, exits.tolist(), b.word("target", len(rows)), strict=True)
    ]
    return data, b.duration_metrics(rows)


def _search_performed(b: _Block, rows: np.ndarray) -> Payload:
    counts = np.where(b.rng.random(len(rows)) < 0.15, 0, _lognormal_ints(b.rng, len(rows), 14, 1.3)).tolist()
    data = [
        f'{{"query": {q}, "resultCount": {n}, "scope": {s}}}'
        for q, n, s in zip(b.word("query", len(rows)), counts, b.word("scope", len(rows)), strict=True)
    ]
    return data, b.duration_metrics(rows)


def _llm_request(b: _Block, rows: np.ndarray) -> Payload:
    tokens = _lognormal_ints(b.rng, len(rows), 9000, 0.9).tolist()
    messages = b.rng.integers(2, 80, len(rows)).tolist()
    data = [
        f'{{"model": {m}, "promptTokens": {t}, "messageCount": {c}}}'
        for m, t, c in zip(b.session_model[b.session[rows]].tolist(), tokens, messages, strict=True)
    ]
    metrics = [f'{{"duration": {d}, "tokenCount": {t}}}' for d, t in zip(b.durations(rows), tokens, strict=True)]
    return data, metrics


def _llm_response(b: _Block, rows: np.ndarray) -> Payload:
    tokens = _lognormal_ints(b.rng, len(rows), 350, 1.0).tolist()
    contents = b.word("snippet", len(rows))
    for i, text in b.large_texts(rows).items():
        contents[i] = text
    data = [
        f'{{"model": {m}, "completionTokens": {t}, "finishReason": {f}, "content": {c}}}'
        for m, t, f, c in zip(
            b.session_model[b.session[rows]].tolist(),
            tokens,
            b.word("finish_reason", len(rows)),
            contents,
            strict=True,
        )
    ]
    metrics = [f'{{"duration": {d}, "tokenCount": {t}}}' for d, t in zip(b.durations(rows), tokens, strict=True)]
    return data, metrics


def _error_encountered(b: _Block, rows: np.ndarray) -> Payload:
    u = b.rng.random(len(rows))
    b.severity[rows] = np.where(u < 0.17, WARNING, np.where(u < 0.92, ERROR, CRITICAL))
    pick = b.rng.random(len(rows))
    kinds = b.vocabulary.error_types.pick(b.language(rows), pick).tolist()
    messages = b.vocabulary.error_messages.pick(b.language(rows), pick).tolist()
    paths, _ = b.files(rows)
    with_path = (b.rng.random(len(rows)) < 0.6).tolist()
    locations = [f', "filePath": {p}' if w else "" for p, w in zip(paths, with_path, strict=True)]
    traces = b.large_fields(rows, "stackTrace")
    data = [
        f'{{"errorType": {k}, "errorMessage": {m}{at}{x}}}'
        for k, m, at, x in zip(kinds, messages, locations, traces, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _rollback_performed(b: _Block, rows: np.ndarray) -> Payload:
    b.severity[rows] = np.where(b.rng.random(len(rows)) < 0.2, ERROR, WARNING)
    targets = b.hashes[b.commit_index[rows]].tolist()
    files = b.rng.integers(1, 9, len(rows)).tolist()
    data = [
        f'{{"reason": {r}, "targetCommit": "{t}", "filesAffected": {f}}}'
        for r, t, f in zip(b.word("rollback_reason", len(rows)), targets, files, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _commit_created(b: _Block, rows: np.ndarray) -> Payload:
    # The new commit is the next hash of the session; later events see it as HEAD in their context.
    hashes = b.hashes[b.commit_index[rows] + 1].tolist()
    files = _lognormal_ints(b.rng, len(rows), 3, 0.8).tolist()
    data = [
        f'{{"commitHash": "{h}", "message": {m}, "filesChanged": {f}}}'
        for h, m, f in zip(hashes, b.word("commit_message", len(rows)), files, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _tool_invocation(b: _Block, rows: np.ndarray) -> Payload:
    tools = b.vocabulary.words["tool"]
    chosen = b.rng.integers(0, len(tools), len(rows))
    on_file = np.isin(chosen, [i for i, tool in enumerate(TOOLS) if tool in FILE_TOOLS]).tolist()
    paths, _ = b.files(rows)
    success = (b.rng.random(len(rows)) < 0.95).tolist()
    targets = [f', "filePath": {p}' if f else "" for p, f in zip(paths, on_file, strict=True)]
    data = [
        f'{{"toolName": {t}, "success": {"true" if s else "false"}{at}}}'
        for t, s, at in zip(tools[chosen].tolist(), success, targets, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _user_interaction(b: _Block, rows: np.ndarray) -> Payload:
    data = [f'{{"interactionType": {t}}}' for t in b.word("interaction", len(rows))]
    return data, b.duration_metrics(rows)


def _context_switch(b: _Block, rows: np.ndarray) -> Payload:
    paths, _ = b.files(rows)
    previous, _ = b.files(rows)
    data = [f'{{"filePath": {p}, "previousFilePath": {q}}}' for p, q in zip(paths, previous, strict=True)]
    return data, b.duration_metrics(rows)


# Indexed by event type code.
PAYLOAD_BUILDERS: tuple[Callable[[_Block, np.ndarray], Payload], ...] = (
    _session_start, _session_end, _file_read, _file_write, _file_create, _file_delete, _command_execute,
    _test_run, _build_trigger, _search_performed, _llm_request, _llm_response, _error_encountered,
    _rollback_performed, _commit_created, _tool_invocation, _user_interaction, _context_switch,
)  # fmt: skip
# Event types that can carry a large text field (see LARGE_PAYLOAD_BYTES).
LARGE_PAYLOAD_TYPES = (FILE_WRITE, FILE_CREATE, COMMAND_EXECUTE, TEST_RUN, LLM_RESPONSE, ERROR_ENCOUNTERED)
