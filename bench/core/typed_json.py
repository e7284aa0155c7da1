"""JSON to frozen dataclasses and back, with errors that name the bad field (`cases[2].samples[0].label`).

The results model (bench.core.results_model) declares its shape once, as dataclasses with type hints; this
module reads a parsed JSON value into them and writes them out again. Supported hints: dataclasses, `list[X]`,
`dict[str, X]`, `X | None`, StrEnum subclasses, `float` (whole numbers are accepted and kept as they are),
`int`, `str`, `bool` and `Any`.
A dataclass with a field named `other` (a `dict[str, Any]`) keeps the keys it does not declare there, so a
document written by a newer harness, or a key only one figure reads, survives a round trip unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union

T = TypeVar("T")
OTHER = "other"  # the field that keeps undeclared keys


class ShapeError(ValueError):
    """A value does not have the declared shape; `where` names the field (`cases[0].speedup.low`)."""

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where or 'the document'} {problem}")
        self.where = where
        self.problem = problem


def from_json(cls: type[T], value: Any, where: str = "") -> T:
    """Read `value` (parsed JSON) as the dataclass `cls`; raises ShapeError naming the first bad field."""
    return typing.cast(T, _read(cls, value, where))


def to_json(value: Any) -> Any:
    """A dataclass (and everything in it) as plain JSON values; `other` keys are merged back in."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name == OTHER and _has_other(type(value)):
                out.update({k: to_json(v) for k, v in item.items()})
            else:
                out[f.name] = to_json(item)
        return out
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    return value


def describe(value: Any) -> str:
    """A JSON value as an error message names it: null, a list, the string "abc", the number 3."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {json.dumps(value[:40])}"
    if isinstance(value, list):
        return "a list"
    return "an object"


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@cache
def _has_other(cls: type) -> bool:
    return any(f.name == OTHER for f in dataclasses.fields(cls))


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _read(hint: Any, value: Any, where: str) -> Any:
    if hint is Any:
        return value
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = typing.get_args(hint)
        if value is None:
            if type(None) in options:
                return None
            raise ShapeError(where, "must not be null")
        real = [o for o in options if o is not type(None)]
        if len(real) == 1:
            return _read(real[0], value, where)
        for option in real:  # e.g. float | str: the first that reads
            try:
                return _read(option, value, where)
            except ShapeError:
                continue
        raise ShapeError(where, f"must be {' or '.join(_name(o) for o in real)}, got {describe(value)}")
    if origin is list:
        if not isinstance(value, list):
            raise ShapeError(where, f"must be a list, got {describe(value)}")
        (item,) = typing.get_args(hint)
        return [_read(item, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ShapeError(where, f"must be an object, got {describe(value)}")
        _, item = typing.get_args(hint)
        return {k: _read(item, v, _join(where, str(k))) for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return _read_dataclass(typing.cast(type, hint), value, where)
    if isinstance(hint, type) and issubclass(hint, Enum):
        try:
            return hint(value.lower() if isinstance(value, str) else value)
        except ValueError:
            words = ", ".join(repr(m.value) for m in hint)
            raise ShapeError(where, f"must be one of {words}, got {describe(value)}") from None
    return _read_plain(hint, value, where)


def _read_plain(hint: Any, value: Any, where: str) -> Any:
    if isinstance(value, bool) != (hint is bool):  # JSON true is not the number 1, nor 1 a boolean
        raise ShapeError(where, f"must be {_name(hint)}, got {describe(value)}")
    if hint is float:
        if isinstance(value, int | float):
            return value  # a whole number stays one: 12345 bytes is written back as 12345
    elif isinstance(value, hint):
        return value
    raise ShapeError(where, f"must be {_name(hint)}, got {describe(value)}")


def _read_dataclass(cls: type, value: Any, where: str) -> Any:
    if not isinstance(value, dict):
        raise ShapeError(where, f"must be an object, got {describe(value)}")
    hints = _hints(cls)
    kwargs: dict[str, Any] = {}
    declared = set()
    for f in dataclasses.fields(cls):
        if f.name == OTHER and _has_other(cls):
            continue
        declared.add(f.name)
        if f.name not in value:
            if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:
                continue
            raise ShapeError(_join(where, f.name), "is missing")
        kwargs[f.name] = _read(hints[f.name], value[f.name], _join(where, f.name))
    if _has_other(cls):
        kwargs[OTHER] = {k: v for k, v in value.items() if k not in declared}
    return cls(**kwargs)


_NAMES: dict[Any, str] = {
    float: "a number",
    int: "a whole number",
    str: "a string",
    bool: "true or false",
}


def _name(hint: Any) -> str:
    if dataclasses.is_dataclass(hint) or typing.get_origin(hint) is dict:
        return "an object"
    if typing.get_origin(hint) is list:
        return "a list"
    return _NAMES.get(hint, getattr(hint, "__name__", str(hint)))
