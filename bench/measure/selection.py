"""`-k EXPR` without pytest: which (case, parameter slot) ids an expression selects.

The subset of pytest's -k grammar the README documents: words matched as case-insensitive substrings of the
id `case[label]` (e.g. `session_timeline[q50]`), combined with `and`, `or`, `not` and parentheses, with
pytest's precedence (not > and > or). `pytest bench -k EXPR` gives the same selection for these expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bench.core.errors import HarnessError

# pytest's identifier characters (_pytest/mark/expression.py), so `q50]`, `a.b` or `x-y` are single words.
_TOKEN = re.compile(r"\s*(?:(?P<paren>[()])|(?P<word>(?:\w|:|\+|-|\.|\[|\]|\\|/)+)|(?P<bad>\S))")
KEYWORDS = ("and", "or", "not")

Matcher = Callable[[str], bool]


class SelectionError(HarnessError):
    """A -k expression the harness cannot parse."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "(", ")", "and", "or", "not", "word", "end"
    text: str
    pos: int


def _tokens(expr: str) -> list[_Token]:
    tokens = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if m is None:  # only trailing whitespace is left
            break
        start = m.start(m.lastgroup or 0)
        if m.group("bad"):
            raise _error(expr, start, f"unexpected character {m.group('bad')!r}")
        if m.group("paren"):
            tokens.append(_Token(m.group("paren"), m.group("paren"), start))
        else:
            word = m.group("word")
            tokens.append(_Token(word if word in KEYWORDS else "word", word, start))
        pos = m.end()
    tokens.append(_Token("end", "", len(expr)))
    return tokens


def _error(expr: str, pos: int, what: str) -> SelectionError:
    return SelectionError(
        f"-k {expr!r}: {what} at column {pos + 1}; write words matched against ids like "
        "'session_timeline[q50]', joined by and/or/not and parentheses, e.g. -k 'session and not q99'"
    )


class _Parser:
    def __init__(self, expr: str) -> None:
        self.expr = expr
        self.tokens = _tokens(expr)
        self.i = 0

    def peek(self) -> _Token:
        return self.tokens[self.i]

    def take(self, kind: str) -> _Token | None:
        if self.peek().kind == kind:
            self.i += 1
            return self.tokens[self.i - 1]
        return None

    def parse(self) -> Matcher:
        if self.peek().kind == "end":
            return lambda _id: True  # an empty -k selects everything, as in pytest
        matcher = self.or_expr()
        if self.peek().kind != "end":
            tok = self.peek()
            raise _error(self.expr, tok.pos, f"expected and/or/end of expression, got {tok.text!r}")
        return matcher

    def or_expr(self) -> Matcher:
        parts = [self.and_expr()]
        while self.take("or"):
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda i: any(p(i) for p in parts))

    def and_expr(self) -> Matcher:
        parts = [self.not_expr()]
        while self.take("and"):
            parts.append(self.not_expr())
        return parts[0] if len(parts) == 1 else (lambda i: all(p(i) for p in parts))

    def not_expr(self) -> Matcher:
        if self.take("not"):
            inner = self.not_expr()
            return lambda i: not inner(i)
        if self.take("("):
            inner = self.or_expr()
            if not self.take(")"):
                tok = self.peek()
                raise _error(self.expr, tok.pos, f"expected ')', got {tok.text or 'end of expression'!r}")
            return inner
        word = self.take("word")
        if word is None:
            got = self.peek()
            raise _error(self.expr, got.pos, f"expected a word, 'not' or '(', got {got.text or 'end of expression'!r}")
        needle = word.text.lower()
        return lambda i: needle in i.lower()


def compile_selection(expr: str) -> Matcher:
    """A predicate on ids `case[label]`; raises SelectionError naming the column and the fix."""
    return _Parser(expr).parse()


def slot_id(case: str, label: str) -> str:
    return f"{case}[{label}]"


def select_ids(expr: str | None, ids: Iterable[str]) -> list[str]:
    if not expr:
        return list(ids)
    matches = compile_selection(expr)
    return [i for i in ids if matches(i)]
