"""The categories every event is drawn from: event types, severities, agents with their versions and models,
tags and tools. A leaf module: the shape (which validates mix knobs against these names), the vocabularies and
the event generator all read it, and it imports none of them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Agent:
    name: str
    share: float  # of sessions
    versions: tuple[str, ...]  # oldest first: sessions late in the window use newer versions
    models: tuple[tuple[str, float], ...]  # (model, share of the agent's sessions)


# The tables below are data: one line per record reads better than the formatter's one line per item.
# fmt: off
EVENT_TYPES: tuple[str, ...] = (
    "session_start", "session_end", "file_read", "file_write", "file_create", "file_delete",
    "command_execute", "test_run", "build_trigger", "search_performed", "llm_request", "llm_response",
    "error_encountered", "rollback_performed", "commit_created", "tool_invocation", "user_interaction",
    "context_switch",
)
SEVERITIES: tuple[str, ...] = ("debug", "info", "warning", "error", "critical")
# A late-2025 market mix; versions and models are plausible, not a survey.
AGENTS: tuple[Agent, ...] = (
    Agent("github-copilot", 0.30, ("1.370.0", "1.372.0", "1.376.1", "1.380.0", "1.384.2"),
          (("gpt-4.1", 0.35), ("claude-sonnet-4-5", 0.25), ("gpt-5-mini", 0.2), ("gpt-5", 0.12),
           ("gemini-2.5-pro", 0.08))),
    Agent("cursor", 0.22, ("1.6.45", "1.7.28", "1.7.44", "2.0.34", "2.0.43"),
          (("claude-sonnet-4-5", 0.35), ("gpt-5", 0.25), ("composer-1", 0.2), ("gemini-2.5-pro", 0.1),
           ("grok-code-fast-1", 0.1))),
    Agent("claude-code", 0.20, ("2.0.14", "2.0.22", "2.0.27", "2.0.31", "2.0.36"),
          (("claude-sonnet-4-5", 0.7), ("claude-opus-4-1", 0.15), ("claude-haiku-4-5", 0.15))),
    Agent("gemini-cli", 0.08, ("0.8.2", "0.9.0", "0.10.0", "0.11.3", "0.12.0"),
          (("gemini-2.5-pro", 0.6), ("gemini-2.5-flash", 0.4))),
    Agent("cline", 0.08, ("3.30.1", "3.32.5", "3.34.0", "3.35.1", "3.36.0"),
          (("claude-sonnet-4-5", 0.5), ("gpt-5", 0.15), ("gemini-2.5-pro", 0.15), ("deepseek-chat", 0.1),
           ("qwen3-coder", 0.1))),
    Agent("aider", 0.06, ("0.85.2", "0.86.0", "0.86.1", "0.86.2"),
          (("claude-sonnet-4-5", 0.35), ("gpt-5", 0.25), ("deepseek-chat", 0.2), ("gemini-2.5-pro", 0.2))),
    Agent("mcp-generic", 0.06, ("1.0.0", "1.1.2", "1.2.0", "1.3.1"),
          (("claude-sonnet-4-5", 0.4), ("gpt-4.1", 0.3), ("gpt-4o-mini", 0.3))),
)
TAGS: tuple[str, ...] = (
    "ai-generated", "refactor", "bugfix", "feature", "tests", "docs", "performance", "security",
    "dependencies", "ci", "experimental", "needs-review",
)
# Relative chance of each tag (same order as TAGS).
TAG_WEIGHTS: tuple[float, ...] = (6.0, 3.0, 3.0, 3.0, 2.0, 1.0, 1.0, 0.7, 0.7, 0.7, 0.5, 1.5)
TOOLS: tuple[str, ...] = (
    "read_file", "edit_file", "write_file", "apply_patch", "list_dir", "grep_search", "codebase_search",
    "run_terminal_cmd", "web_search", "fetch_url", "todo_write", "mcp__github__create_pull_request",
    "mcp__postgres__query", "mcp__playwright__browser_navigate",
)
FILE_TOOLS = frozenset({"read_file", "edit_file", "write_file", "apply_patch"})
# fmt: on
