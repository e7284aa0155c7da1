"""What kinds of events a session holds and how often: event type and severity codes, the mix of event types
between a session's start and end, durations per type, tags per event, and the CDFs categories are drawn from
(the built-in mixes, or the spec's *_weights knobs). Plain tables and two sampling helpers; no generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from generators.categories import AGENTS, EVENT_TYPES, SEVERITIES, TAG_WEIGHTS, TAGS
from generators.shape import DatasetSpec

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
    base_severity: np.ndarray | None  # None: the built-in base severities (generators.events)
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


def zipf_cdf(n: int, s: float) -> np.ndarray:
    weights = np.arange(1, n + 1, dtype=np.float64) ** -s
    cdf = np.cumsum(weights)
    return cdf / cdf[-1]


def draw(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Indexes drawn from a discrete distribution given by its CDF, one per uniform in u."""
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1)
