"""The `data` and `metrics` JSON of each event, one builder per event type, written as text column-wise.

Builders draw from the block's random stream in event type order, so the payloads depend on the spec only.
A few event types sometimes carry a large text field (a diff, a file, command output, a stack trace).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from generators.categories import EVENT_TYPES, FILE_TOOLS, TOOLS
from generators.event_mix import (
    COMMAND_EXECUTE,
    CRITICAL,
    ERROR,
    ERROR_ENCOUNTERED,
    FILE_CREATE,
    FILE_WRITE,
    LLM_RESPONSE,
    TEST_RUN,
    WARNING,
    draw,
)
from generators.shape import DatasetSpec
from generators.vocabulary import Vocabulary

LARGE_PAYLOAD_BYTES = (6_000, 12_000, 64_000)  # min, median, max characters of a large text field


def _lognormal_ints(rng: np.random.Generator, n: int, median: float, sigma: float) -> np.ndarray:
    return np.maximum(rng.lognormal(math.log(median), sigma, n), 1).astype(np.int64)


@dataclass(frozen=True, eq=False)
class PayloadBlock:
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
        rank = draw(self.file_rank_cdf, self.rng.random(len(rows)))
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


def _session_start(b: PayloadBlock, rows: np.ndarray) -> Payload:
    open_files = b.rng.integers(0, 12, len(rows)).tolist()
    data = [
        f'{{"trigger": {t}, "model": {m}, "openFiles": {n}}}'
        for t, m, n in zip(
            b.word("trigger", len(rows)), b.session_model[b.session[rows]].tolist(), open_files, strict=True
        )
    ]
    return data, b.duration_metrics(rows)


def _session_end(b: PayloadBlock, rows: np.ndarray) -> Payload:
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


def _file_read(b: PayloadBlock, rows: np.ndarray) -> Payload:
    paths, languages = b.files(rows)
    lines = _lognormal_ints(b.rng, len(rows), 180, 1.0)
    sizes = (lines * b.rng.uniform(25, 50, len(rows))).astype(np.int64).tolist()
    data = [
        f'{{"filePath": {p}, "language": {g}, "lineCount": {n}}}'
        for p, g, n in zip(paths, languages, lines.tolist(), strict=True)
    ]
    metrics = [f'{{"duration": {d}, "fileSize": {s}}}' for d, s in zip(b.durations(rows), sizes, strict=True)]
    return data, metrics


def _file_write(b: PayloadBlock, rows: np.ndarray) -> Payload:
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


def _file_create(b: PayloadBlock, rows: np.ndarray) -> Payload:
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


def _file_delete(b: PayloadBlock, rows: np.ndarray) -> Payload:
    paths, languages = b.files(rows)
    data = [f'{{"filePath": {p}, "language": {g}}}' for p, g in zip(paths, languages, strict=True)]
    return data, b.duration_metrics(rows)


def _exit_codes(b: PayloadBlock, n: int, success: float) -> np.ndarray:
    failure_codes = np.array([1, 1, 1, 1, 2, 127, 130])
    return np.where(b.rng.random(n) < success, 0, failure_codes[b.rng.integers(0, len(failure_codes), n)])


def _command_execute(b: PayloadBlock, rows: np.ndarray) -> Payload:
    commands = b.vocabulary.commands.pick(b.language(rows), b.rng.random(len(rows))).tolist()
    exits = _exit_codes(b, len(rows), 0.88)
    b.fail(rows, exits != 0)
    outputs = b.large_fields(rows, "output")
    data = [
        f'{{"command": {c}, "exitCode": {e}{x}}}' for c, e, x in zip(commands, exits.tolist(), outputs, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _test_run(b: PayloadBlock, rows: np.ndarray) -> Payload:
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


def _build_trigger(b: PayloadBlock, rows: np.ndarray) -> Payload:
    commands = b.vocabulary.build_commands.pick(b.language(rows), b.rng.random(len(rows))).tolist()
    exits = _exit_codes(b, len(rows), 0.9)
    b.fail(rows, exits != 0)
    data = [
        f'{{"command": {c}, "exitCode": {e}, "target": {t}}}'
        for c, e, t in zip(commands, exits.tolist(), b.word("target", len(rows)), strict=True)
    ]
    return data, b.duration_metrics(rows)


def _search_performed(b: PayloadBlock, rows: np.ndarray) -> Payload:
    counts = np.where(b.rng.random(len(rows)) < 0.15, 0, _lognormal_ints(b.rng, len(rows), 14, 1.3)).tolist()
    data = [
        f'{{"query": {q}, "resultCount": {n}, "scope": {s}}}'
        for q, n, s in zip(b.word("query", len(rows)), counts, b.word("scope", len(rows)), strict=True)
    ]
    return data, b.duration_metrics(rows)


def _llm_request(b: PayloadBlock, rows: np.ndarray) -> Payload:
    tokens = _lognormal_ints(b.rng, len(rows), 9000, 0.9).tolist()
    messages = b.rng.integers(2, 80, len(rows)).tolist()
    data = [
        f'{{"model": {m}, "promptTokens": {t}, "messageCount": {c}}}'
        for m, t, c in zip(b.session_model[b.session[rows]].tolist(), tokens, messages, strict=True)
    ]
    metrics = [f'{{"duration": {d}, "tokenCount": {t}}}' for d, t in zip(b.durations(rows), tokens, strict=True)]
    return data, metrics


def _llm_response(b: PayloadBlock, rows: np.ndarray) -> Payload:
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


def _error_encountered(b: PayloadBlock, rows: np.ndarray) -> Payload:
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


def _rollback_performed(b: PayloadBlock, rows: np.ndarray) -> Payload:
    b.severity[rows] = np.where(b.rng.random(len(rows)) < 0.2, ERROR, WARNING)
    targets = b.hashes[b.commit_index[rows]].tolist()
    files = b.rng.integers(1, 9, len(rows)).tolist()
    data = [
        f'{{"reason": {r}, "targetCommit": "{t}", "filesAffected": {f}}}'
        for r, t, f in zip(b.word("rollback_reason", len(rows)), targets, files, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _commit_created(b: PayloadBlock, rows: np.ndarray) -> Payload:
    # The new commit is the next hash of the session; later events see it as HEAD in their context.
    hashes = b.hashes[b.commit_index[rows] + 1].tolist()
    files = _lognormal_ints(b.rng, len(rows), 3, 0.8).tolist()
    data = [
        f'{{"commitHash": "{h}", "message": {m}, "filesChanged": {f}}}'
        for h, m, f in zip(hashes, b.word("commit_message", len(rows)), files, strict=True)
    ]
    return data, b.duration_metrics(rows)


def _tool_invocation(b: PayloadBlock, rows: np.ndarray) -> Payload:
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


def _user_interaction(b: PayloadBlock, rows: np.ndarray) -> Payload:
    data = [f'{{"interactionType": {t}}}' for t in b.word("interaction", len(rows))]
    return data, b.duration_metrics(rows)


def _context_switch(b: PayloadBlock, rows: np.ndarray) -> Payload:
    paths, _ = b.files(rows)
    previous, _ = b.files(rows)
    data = [f'{{"filePath": {p}, "previousFilePath": {q}}}' for p, q in zip(paths, previous, strict=True)]
    return data, b.duration_metrics(rows)


# Indexed by event type code.
PAYLOAD_BUILDERS: tuple[Callable[[PayloadBlock, np.ndarray], Payload], ...] = (
    _session_start, _session_end, _file_read, _file_write, _file_create, _file_delete, _command_execute,
    _test_run, _build_trigger, _search_performed, _llm_request, _llm_response, _error_encountered,
    _rollback_performed, _commit_created, _tool_invocation, _user_interaction, _context_switch,
)  # fmt: skip
# Event types that can carry a large text field (see LARGE_PAYLOAD_BYTES).
LARGE_PAYLOAD_TYPES = (FILE_WRITE, FILE_CREATE, COMMAND_EXECUTE, TEST_RUN, LLM_RESPONSE, ERROR_ENCOUNTERED)


def build_payloads(block: PayloadBlock, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(data, metrics) per row: each event type's rows go to its builder, in event type order."""
    data = np.empty(len(codes), dtype=object)
    metrics = np.empty(len(codes), dtype=object)
    by_type = np.argsort(codes, kind="stable")
    type_end = np.cumsum(np.bincount(codes, minlength=len(EVENT_TYPES)))
    for code, builder in enumerate(PAYLOAD_BUILDERS):
        typed = by_type[type_end[code - 1] if code else 0 : type_end[code]]
        if len(typed):
            data[typed], metrics[typed] = builder(block, typed)
    return data, metrics
