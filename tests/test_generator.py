"""The synthetic data generator: exact row counts, identical bytes for any batch size, a realistic shape,
and dataset specs that reject bad input with a message saying how to fix it."""

from __future__ import annotations

import collections
import hashlib
import json
import math
import re
import uuid
import zlib
from dataclasses import fields, replace
from datetime import datetime, timedelta, timezone

import numpy as np
import pytest

from generators.categories import AGENTS, EVENT_TYPES, TAGS
from generators.copy_format import generate_copy_chunks
from generators.events import EventBatch, generate_batches
from generators.payloads import LARGE_PAYLOAD_BYTES
from generators.sessions import plan_sessions
from generators.shape import PRESETS, DatasetSpec, SpecError, spec_from_args

# ~1000 sessions over 40 projects: enough for the distributions to show, small enough to stay fast.
SHAPE = DatasetSpec(rows=60_000, projects=40, seed=11)
HOUR_US = 3_600_000_000

# Keys of `data` per event type: (always present, sometimes present).
DATA_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "session_start": ({"trigger", "model", "openFiles"}, set()),
    "session_end": ({"reason", "eventCount", "durationSeconds"}, set()),
    "file_read": ({"filePath", "language", "lineCount"}, set()),
    "file_write": ({"filePath", "language", "linesChanged"}, {"diff"}),
    "file_create": ({"filePath", "language", "lineCount"}, {"content"}),
    "file_delete": ({"filePath", "language"}, set()),
    "command_execute": ({"command", "exitCode"}, {"output"}),
    "test_run": ({"command", "exitCode", "testsPassed", "testsFailed"}, {"output"}),
    "build_trigger": ({"command", "exitCode", "target"}, set()),
    "search_performed": ({"query", "resultCount", "scope"}, set()),
    "llm_request": ({"model", "promptTokens", "messageCount"}, set()),
    "llm_response": ({"model", "completionTokens", "finishReason", "content"}, set()),
    "error_encountered": ({"errorType", "errorMessage"}, {"filePath", "stackTrace"}),
    "rollback_performed": ({"reason", "targetCommit", "filesAffected"}, set()),
    "commit_created": ({"commitHash", "message", "filesChanged"}, set()),
    "tool_invocation": ({"toolName", "success"}, {"filePath"}),
    "user_interaction": ({"interactionType"}, set()),
    "context_switch": ({"filePath", "previousFilePath"}, set()),
}


def collect(spec: DatasetSpec, batch_rows: int = 50_000) -> EventBatch:
    return EventBatch.concat(list(generate_batches(spec, batch_rows)))


@pytest.fixture(scope="module")
def events() -> EventBatch:
    return collect(SHAPE)


@pytest.fixture(scope="module")
def sessions(events: EventBatch) -> dict[str, np.ndarray]:
    """Row indexes of each session, in output (time) order."""
    session_ids, inverse = np.unique(events.session_id, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(np.bincount(inverse))
    return dict(zip(session_ids.tolist(), np.split(order, bounds[:-1]), strict=True))


@pytest.fixture(scope="module")
def payloads(events: EventBatch) -> list[dict]:
    return [json.loads(text) for text in events.data]


def micros(instant: datetime) -> int:
    return int(np.datetime64(instant.replace(tzinfo=None), "us").astype(np.int64))


# Determinism and row counts


def test_copy_bytes_are_identical_for_any_batch_size() -> None:
    # Many resumed sessions and large payloads, so the time-order merge and the rare paths are exercised.
    spec = DatasetSpec(rows=20_000, seed=5, resumed_session_fraction=0.2, large_payload_fraction=0.01)
    outputs = {}
    for batch_rows in (1_000, 7_777, 50_000):
        chunks = list(generate_copy_chunks(spec, batch_rows))
        assert sum(rows for rows, _ in chunks) == spec.rows
        assert all(rows == batch_rows for rows, _ in chunks[:-1])
        outputs[batch_rows] = b"".join(chunk for _, chunk in chunks)
    digests = {hashlib.sha256(payload).hexdigest() for payload in outputs.values()}
    assert len(digests) == 1
    assert outputs[1_000] == outputs[50_000]
    assert outputs[1_000].count(b"\n") == spec.rows


def test_same_spec_gives_same_rows_and_another_seed_does_not() -> None:
    spec = DatasetSpec(rows=3_000, seed=1)
    first, again, other = collect(spec), collect(spec), collect(replace(spec, seed=2))
    assert first.id.tolist() == again.id.tolist()
    assert first.data.tolist() == again.data.tolist()
    assert not set(first.id.tolist()) & set(other.id.tolist())


@pytest.mark.parametrize("rows", [2, 3, 17, 1_001, 12_345])
def test_row_count_is_exact(rows: int) -> None:
    batches = list(generate_batches(DatasetSpec(rows=rows), batch_rows=1_000))
    assert sum(len(batch) for batch in batches) == rows
    assert len(batches) == math.ceil(rows / 1_000)
    assert all(len(batch) == 1_000 for batch in batches[:-1])


def test_session_lengths_sum_to_rows_and_are_sorted_by_start() -> None:
    plan = plan_sessions(SHAPE)
    assert int(plan.length.sum()) == SHAPE.rows
    assert len(plan.length) == SHAPE.sessions
    assert plan.length.min() >= 2
    assert np.all(np.diff(plan.start_us) >= 0)


def test_batch_rows_must_be_positive() -> None:
    with pytest.raises(ValueError, match="batch_rows"):
        generate_batches(SHAPE, batch_rows=0)


# Time


def test_rows_come_in_time_order_inside_the_window(events: EventBatch) -> None:
    times = events.timestamp.view(np.int64)
    assert np.all(np.diff(times) >= 0)
    assert times.min() >= micros(SHAPE.window_start)
    assert times.max() < micros(SHAPE.reference_instant)


def test_every_session_starts_with_session_start_and_ends_with_session_end(
    events: EventBatch, sessions: dict[str, np.ndarray]
) -> None:
    times = events.timestamp.view(np.int64)
    for rows in sessions.values():
        kinds = events.event_type[rows]
        assert kinds[0] == "session_start"
        assert kinds[-1] == "session_end"
        assert np.count_nonzero(kinds == "session_start") == 1
        assert np.count_nonzero(kinds == "session_end") == 1
        assert np.all(np.diff(times[rows]) > 0)


def test_session_starts_follow_working_hours_and_quieter_weekends(events: EventBatch) -> None:
    starts = events.timestamp[events.event_type == "session_start"].view(np.int64)
    hour = starts // HOUR_US % 24
    per_hour = np.bincount(hour, minlength=24)
    assert per_hour[9:17].mean() > 2 * per_hour[0:6].mean()
    weekday = (starts // (24 * HOUR_US) + 3) % 7
    days = np.arange(SHAPE.window_days) + micros(SHAPE.window_start) // (24 * HOUR_US)
    weekdays_in_window = np.bincount((days + 3) % 7, minlength=7)
    per_day = np.bincount(weekday, minlength=7) / weekdays_in_window
    assert per_day[5:].mean() < 0.6 * per_day[:5].mean()


def test_most_sessions_are_short_and_resumed_ones_span_days(
    events: EventBatch, sessions: dict[str, np.ndarray]
) -> None:
    times = events.timestamp.view(np.int64)
    span_hours = np.array([(times[rows[-1]] - times[rows[0]]) / HOUR_US for rows in sessions.values()])
    assert np.median(span_hours) < 1
    resumed = np.count_nonzero(span_hours > 20) / len(span_hours)
    assert 0.02 < resumed < 0.08  # resumed_session_fraction is 0.05


# Shape


def test_session_lengths_are_heavy_tailed(sessions: dict[str, np.ndarray]) -> None:
    lengths = np.array([len(rows) for rows in sessions.values()])
    assert len(lengths) == SHAPE.sessions
    assert lengths.mean() == pytest.approx(SHAPE.mean_events_per_session, rel=0.01)
    assert np.median(lengths) < SHAPE.mean_events_per_session / 2
    assert lengths.max() > 20 * np.median(lengths)


def test_project_popularity_is_skewed_with_a_long_tail(events: EventBatch) -> None:
    ids, counts = np.unique(events.project_id, return_counts=True)
    assert ids.tolist() == list(range(1, SHAPE.project_count + 1))
    assert counts.max() > 10 * np.median(counts)


def test_file_paths_repeat_with_zipf_frequency(events: EventBatch, payloads: list[dict]) -> None:
    busiest = collections.Counter(events.project_id.tolist()).most_common(1)[0][0]
    paths = collections.Counter(
        payload["filePath"]
        for payload, project in zip(payloads, events.project_id.tolist(), strict=True)
        if project == busiest and "filePath" in payload
    )
    counts = np.array(sorted(paths.values(), reverse=True))
    assert counts[0] > 20 * np.median(counts)
    assert np.count_nonzero(counts <= 3) > 0.2 * len(counts)  # many rare paths for containment queries
    assert len(counts) <= SHAPE.files_per_project
    assert all(re.fullmatch(r"[\w./-]+", path) for path in paths)


def test_event_mix_is_plausible(events: EventBatch) -> None:
    share = {kind: count / len(events) for kind, count in collections.Counter(events.event_type).items()}
    assert set(share) == set(EVENT_TYPES)
    for common in ("file_read", "llm_request", "llm_response", "tool_invocation"):
        assert share[common] > 0.08
    assert share["rollback_performed"] < 0.005
    assert share["session_start"] == pytest.approx(SHAPE.sessions / SHAPE.rows)


def test_agents_follow_the_market_mix_with_semantic_versions(events: EventBatch) -> None:
    per_session = set(zip(events.session_id, events.agent_id, events.agent_version, strict=True))
    assert len(per_session) == SHAPE.sessions  # one agent and one version per session
    agents = collections.Counter(agent for _, agent, _ in per_session)
    assert set(agents) == {agent.name for agent in AGENTS}
    assert agents.most_common(1)[0][0] == "github-copilot"
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for _, _, version in per_session)


def test_severity_is_mostly_info_and_errors_come_with_error_events(events: EventBatch) -> None:
    severity = collections.Counter(events.severity.tolist())
    assert severity["info"] > 0.7 * len(events)
    assert 0 < severity["critical"] < severity["error"] < severity["warning"] < severity["debug"]
    on_errors = collections.Counter(events.severity[events.event_type == "error_encountered"].tolist())
    assert on_errors["error"] + on_errors["critical"] > 0.7 * sum(on_errors.values())


def test_tags_are_zero_to_three_from_the_vocabulary(events: EventBatch) -> None:
    sizes = collections.Counter(len(tags) for tags in events.tags)
    assert set(sizes) == {0, 1, 2, 3}
    assert all(set(tags) <= set(TAGS) and len(set(tags)) == len(tags) for tags in set(events.tags.tolist()))


# Payloads


def test_data_keys_are_stable_per_event_type(events: EventBatch, payloads: list[dict]) -> None:
    for kind, payload in zip(events.event_type.tolist(), payloads, strict=True):
        required, optional = DATA_KEYS[kind]
        assert required <= payload.keys() <= required | optional, (kind, payload.keys())


def test_context_names_directory_branch_and_a_commit_hash(events: EventBatch) -> None:
    contexts = [json.loads(text) for text in set(events.context.tolist())]
    assert all(context.keys() == {"workingDirectory", "branch", "commit"} for context in contexts)
    assert all(re.fullmatch(r"[0-9a-f]{40}", context["commit"]) for context in contexts)
    assert any("\\" in context["workingDirectory"] for context in contexts)  # Windows paths need escaping


def test_commits_move_head_forward(events: EventBatch, sessions: dict[str, np.ndarray], payloads: list[dict]) -> None:
    checked = 0
    for rows in sessions.values():
        kinds = events.event_type[rows]
        for i in np.flatnonzero(kinds[:-1] == "commit_created").tolist():
            new_hash = payloads[rows[i]]["commitHash"]
            assert json.loads(events.context[rows[i + 1]])["commit"] == new_hash
            checked += 1
    assert checked > 0


def test_metrics_are_sometimes_null_and_always_have_a_duration(events: EventBatch) -> None:
    present = [json.loads(text) for text, kind in zip(events.metrics, events.event_type, strict=True) if text]
    null_share = 1 - len(present) / len(events)
    assert null_share == pytest.approx(SHAPE.null_metrics_fraction, abs=0.02)
    assert all(isinstance(metrics["duration"], int) and metrics["duration"] >= 0 for metrics in present)
    llm = [
        json.loads(text)
        for text, kind in zip(events.metrics, events.event_type, strict=True)
        if text and kind in ("llm_request", "llm_response")
    ]
    assert llm and all("tokenCount" in metrics for metrics in llm)


def test_large_payloads_are_rare_and_do_not_compress_below_toast_size(events: EventBatch) -> None:
    large = [text for text in events.data if len(text) > LARGE_PAYLOAD_BYTES[0]]
    expected = SHAPE.large_payload_fraction * SHAPE.rows
    assert 0.5 * expected < len(large) < 2 * expected
    # PostgreSQL moves a value out of line when it stays above ~2 kB after compression.
    assert min(len(zlib.compress(text.encode())) for text in large) > 2048
    typical = np.median([len(text) for text in events.data])
    assert typical < 200


# Identity and references


def test_ids_are_unique_version_4_uuids(events: EventBatch) -> None:
    ids = events.id.tolist()
    assert len(set(ids)) == len(ids)
    assert {uuid.UUID(value).version for value in ids[:: len(ids) // 500]} == {4}
    assert {uuid.UUID(value).version for value in set(events.session_id.tolist())} == {4}


def test_parents_and_related_events_are_earlier_events_of_the_same_session(events: EventBatch) -> None:
    row_of = {event_id: row for row, event_id in enumerate(events.id.tolist())}
    times = events.timestamp.view(np.int64)
    with_parent = np.flatnonzero([parent is not None for parent in events.parent_event_id])
    assert 0.05 * len(events) < len(with_parent) < 0.4 * len(events)
    for row in with_parent.tolist():
        parent = row_of[events.parent_event_id[row]]
        assert events.session_id[parent] == events.session_id[row]
        assert times[parent] < times[row]
    answered = [row_of[events.parent_event_id[row]] for row in with_parent if events.event_type[row] == "llm_response"]
    assert answered and all(events.event_type[row] == "llm_request" for row in answered)
    with_related = np.flatnonzero([related is not None for related in events.related_event_ids])
    assert len(with_related) > 0
    for row in with_related.tolist():
        for related in events.related_event_ids[row]:
            assert events.session_id[row_of[related]] == events.session_id[row]
            assert times[row_of[related]] < times[row]


# Specs


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ("2000000", 2_000_000),
        ("2M", 2_000_000),
        ("500k", 500_000),
        ("1.5M", 1_500_000),
        ("0.1k", 100),
        ("2_000_000", 2_000_000),
        (2_000_000, 2_000_000),
        ("ci", PRESETS["ci"]),
    ],
)
def test_spec_from_args_reads_counts_suffixes_and_preset_names(rows: int | str, expected: int) -> None:
    assert spec_from_args(rows, None, None).rows == expected


def test_spec_from_args_uses_presets_and_the_default() -> None:
    assert spec_from_args(None, "small", 7).rows == PRESETS["small"]
    assert spec_from_args(None, "small", 7).seed == 7
    assert spec_from_args(None, None, None).rows == PRESETS["default"]
    assert spec_from_args("50k", "ci", None).rows == PRESETS["ci"]


@pytest.mark.parametrize("rows", [0, "0", -5, "-5", "abc", "2X", "1.5", "", True])
def test_spec_from_args_rejects_bad_row_counts_with_examples(rows: int | str) -> None:
    with pytest.raises(SpecError) as raised:
        spec_from_args(rows, None, None)
    message = str(raised.value)
    assert "rows" in message
    assert re.search(r"2M|50k|500k|whole number|number", message)


def test_spec_from_args_rejects_unknown_presets_listing_the_valid_ones() -> None:
    with pytest.raises(SpecError) as raised:
        spec_from_args(None, "huge", None)
    assert all(name in str(raised.value) for name in PRESETS)


def test_spec_from_args_rejects_contradictions_and_unknown_knobs() -> None:
    with pytest.raises(SpecError, match="pass only one"):
        spec_from_args("2M", "ci", None)
    with pytest.raises(SpecError, match=r"valid knobs: .*files_per_project"):
        spec_from_args("50k", None, None, file_count=3)
    assert spec_from_args("50k", None, None, window_days=7).window_days == 7


@pytest.mark.parametrize(
    ("knobs", "complaint", "hint"),
    [
        ({"rows": 1}, "rows=1", "rows >= 2"),
        ({"rows": "100"}, "integer", "rows="),
        ({"seed": -1}, "seed=-1", "seed >= 0"),
        ({"window_days": 0}, "window_days=0", "window_days=30"),
        ({"window_days": 100_000}, "window_days=100000", "between 1 and 3650"),
        ({"resumed_session_fraction": 1.5}, "resumed_session_fraction=1.5", "between 0 and 1"),
        ({"large_payload_fraction": -0.1}, "large_payload_fraction", "between 0 and 1"),
        ({"projects": 5_000}, "projects=5000", "raise rows"),
        ({"projects": 0}, "projects=0", "between 1 and"),
        ({"mean_events_per_session": 1.0}, "mean_events_per_session=1.0", "session_start + session_end"),
        ({"files_per_project": 0}, "files_per_project=0", "between 1 and"),
        ({"rows": 10**6, "projects": 300, "files_per_project": 20_000}, "300 projects x 20000", "lower projects"),
        ({"reference_instant": datetime(2025, 11, 1)}, "no time zone", "tzinfo=UTC"),
        ({"project_zipf_s": 0.0}, "project_zipf_s", "(0, 5]"),
        ({"mean_event_gap_s": float("nan")}, "mean_event_gap_s", "number"),
    ],
)
def test_validate_says_what_is_wrong_and_how_to_fix_it(knobs: dict, complaint: str, hint: str) -> None:
    spec = replace(DatasetSpec(rows=10_000), **knobs)
    with pytest.raises(SpecError) as raised:
        spec.validate()
    assert complaint in str(raised.value)
    assert hint in str(raised.value)
    assert isinstance(raised.value, ValueError)


def test_derived_projects_scale_with_rows_within_bounds() -> None:
    assert DatasetSpec(rows=PRESETS["ci"]).project_count == 20
    assert DatasetSpec(rows=PRESETS["default"]).project_count == 200
    assert DatasetSpec(rows=PRESETS["xl"]).project_count == 2_000
    assert DatasetSpec(rows=100).project_count <= DatasetSpec(rows=100).sessions


def test_to_dict_has_every_knob_and_fingerprint_tracks_the_data() -> None:
    spec = DatasetSpec(rows=PRESETS["default"])
    knobs = spec.to_dict()
    assert set(knobs) == {field.name for field in fields(DatasetSpec)}
    assert json.loads(json.dumps(knobs)) == knobs
    assert knobs["reference_instant"] == "2025-11-01T00:00:00+00:00"
    assert re.fullmatch(r"[0-9a-f]{64}", spec.fingerprint())
    assert spec.fingerprint() == DatasetSpec(rows=PRESETS["default"]).fingerprint()
    # Leaving projects to be derived and naming the derived count produce the same data.
    assert spec.fingerprint() == replace(spec, projects=spec.project_count).fingerprint()
    assert spec.fingerprint() == replace(spec, mean_events_per_session=60).fingerprint()
    as_paris = spec.reference_instant.astimezone(timezone(timedelta(hours=1)))
    assert spec.fingerprint() == replace(spec, reference_instant=as_paris).fingerprint()
    assert spec.fingerprint() != replace(spec, file_zipf_s=1.3).fingerprint()
    assert spec.window_start.isoformat() == "2025-10-02T00:00:00+00:00"
