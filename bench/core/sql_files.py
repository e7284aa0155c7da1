"""Reading SQL files into statements (the schema and the migration are run statement by statement)."""

from __future__ import annotations

from pathlib import Path


def split_statements(text: str) -> list[str]:
    """Split on top-level semicolons, honouring quotes, dollar quotes and comments.

    Statement by statement, so a failing one can be named with its position and text.
    """
    statements: list[str] = []
    current: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end == -1 else end
            current.append(text[i:end])
            i = end
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end == -1 else end + 2
            current.append(text[i:end])
            i = end
            continue
        if ch in ("'", '"'):
            end = i + 1
            while end < n:
                if text[end] == ch:
                    if end + 1 < n and text[end + 1] == ch:  # doubled quote inside the literal
                        end += 2
                        continue
                    break
                end += 1
            current.append(text[i : end + 1])
            i = end + 1
            continue
        if ch == "$":
            close = text.find("$", i + 1)
            tag = text[i : close + 1] if close != -1 else ""
            if tag and (tag == "$$" or tag[1:-1].replace("_", "").isalnum()):
                end = text.find(tag, close + 1)
                end = n if end == -1 else end + len(tag)
                current.append(text[i:end])
                i = end
                continue
        if ch == ";":
            statements.append("".join(current))
            current = []
            i += 1
            continue
        current.append(ch)
        i += 1
    statements.append("".join(current))
    return [_strip_leading_comments(s) for s in statements if _has_code(s)]


def _strip_leading_comments(statement: str) -> str:
    lines = statement.strip().splitlines()
    while lines and (not lines[0].strip() or lines[0].strip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines).strip()


def _has_code(statement: str) -> bool:
    for line in statement.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("--"):
            return True
    return False


def read_statements(path: Path) -> list[str]:
    return split_statements(path.read_text())
