"""Vectorised generation of agent_events rows, streamed in timestamp order.

The output depends on the spec only, never on batch_rows:
- a session plan (lengths, projects, start times, durations) is drawn up front from one random stream;
- sessions sorted by start are cut into blocks of SESSIONS_PER_BLOCK, and each block draws its events from
  its own stream (Stream.SESSION_BLOCK, block index);
- blocks are merged into (timestamp, session, position) order, as a live table would receive them, and
  re-chunked into batches of batch_rows.

The session plan is generators.sessions, the category mixes generators.event_mix, and the `data` and
`metrics` JSON generators.payloads; this module draws the other columns and assembles the rows in order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np

from generators.event_mix import (
    BUILD_TRIGGER,
    COMMIT_CREATED,
    DEBUG,
    DURATION_MU,
    DURATION_SIGMA,
    ERROR,
    ERROR_ENCOUNTERED,
    EVENT_TYPE_NAMES,
    FILE_WRITE,
    INFO,
    LLM_REQUEST,
    LLM_RESPONSE,
    ROLLBACK_PERFORMED,
    SESSION_END,
    SEVERITY_NAMES,
    TAG_COUNT_CDF,
    TEST_RUN,
    TOOL_INVOCATION,
    USER_INTERACTION,
    WARNING,
    category_mixes,
    draw,
    zipf_cdf,
)
from generators.payloads import LARGE_PAYLOAD_TYPES, PayloadBlock, build_payloads
from generators.sessions import DAY_US, SessionPlan, epoch_us, plan_sessions, session_timeline
from generators.shape import DatasetSpec, Stream
from generators.vocabulary import Vocabulary, build_vocabulary

SESSIONS_PER_BLOCK = 256


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
    timeline = session_timeline(rng, plan, first, last, mixes.middle_event)
    rows = len(timeline.session)
    # From here on rows are in time order; `previous` is the preceding event of the same session.
    order = np.argsort(timeline.timestamp_us, kind="stable")
    rank = np.empty(rows, dtype=np.int64)
    rank[order] = np.arange(rows)
    session, position, codes = timeline.session[order], timeline.position[order], timeline.codes[order]
    previous = np.where(position > 0, rank[np.maximum(order - 1, 0)], -1)

    agent = draw(mixes.agent, rng.random(sessions))
    window_fraction = (plan.start_us[first:last] - epoch_us(spec.window_start)) / (spec.window_days * DAY_US)
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
        session_model[agent == a] = models[draw(cdf, model_u[agent == a])]
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
    payload = PayloadBlock(
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
        file_rank_cdf=zipf_cdf(spec.files_per_project, spec.file_zipf_s),
        large_probability=min(1.0, spec.large_payload_fraction * rows / max(large_candidates, 1)),
    )
    data, metrics = build_payloads(payload, codes)
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
        return draw(cdf, u).astype(np.int8)
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
    count = draw(TAG_COUNT_CDF, rng.random(rows))
    picks = draw(tag_cdf, rng.random((rows, 3)))
    bits = np.left_shift(1, picks) * (np.arange(3) < count[:, None])
    return np.bitwise_or.reduce(bits, axis=1)
