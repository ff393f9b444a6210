"""Frozen records that read and write themselves as JSON: the base of the summary's records.

``to_dict`` gives the JSON object (keys in the order of the dataclass fields; a field whose JSON
name differs says so in its metadata, ``json_key``); ``from_dict`` checks every value against the
field's annotation (records, mappings, tuples, optionals, int, float, str) and raises DataError
naming the first bad one by its path.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from robostress.errors import DataError

R = TypeVar("R", bound="Record")


def json_key(name: str) -> dict[str, str]:
    """Field metadata: the field's name in JSON when it is not a Python identifier's style."""
    return {"json": name}


class Record:
    """Base of the summary's records: generic JSON (de)serialisation over the dataclass fields."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of this record (tuples become lists; an optional section that is None
        and marked ``omit_none`` is left out)."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.metadata.get("json", f.name)] = _dump(value)
        return out

    @classmethod
    def from_dict(cls: type[R], data: Any, where: str = "") -> R:
        """Read a record from its JSON object.

        Raises:
            DataError: a missing, unknown or mistyped key (named with its path).
        """
        where = where or cls.__name__
        if not isinstance(data, Mapping):
            raise DataError(f"{where}: expected an object, got {type(data).__name__}")
        hints = _hints(cls)
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        names = {f.metadata.get("json", f.name): f for f in fields}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise DataError(f"{where}: unknown key {unknown[0]!r}")
        values: dict[str, Any] = {}
        for key, f in names.items():
            if key not in data:
                if f.metadata.get("omit_none"):
                    values[f.name] = None
                    continue
                raise DataError(f"{where}: missing key {key!r}")
            values[f.name] = _load(hints[f.name], data[key], f"{where}.{key}")
        return cls(**values)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """The resolved field annotations of a record class (resolved once per class)."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _dump(value: Any) -> Any:
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, tuple):
        return [_dump(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _dump(v) for k, v in value.items()}
    return value


def _load(tp: Any, value: Any, where: str) -> Any:
    """``value`` checked against the annotation ``tp`` (records, mappings, tuples, optionals, scalars)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        rest = [a for a in args if a is not type(None)]
        return _load(rest[0], value, where)
    if isinstance(tp, type) and issubclass(tp, Record):
        return tp.from_dict(value, where)
    if origin is Mapping or origin is dict:
        if not isinstance(value, Mapping):
            raise DataError(f"{where}: expected an object, got {type(value).__name__}")
        return {str(k): _load(args[1], v, f"{where}.{k}") for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise DataError(f"{where}: expected a list, got {type(value).__name__}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_load(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise DataError(f"{where}: expected {len(args)} values, got {len(value)}")
        return tuple(_load(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True)))
    ok = {float: (int, float), int: (int,), str: (str,)}.get(tp)
    if ok is None:
        raise TypeError(f"unsupported annotation {tp!r} at {where}")
    if isinstance(value, bool) or not isinstance(value, ok):
        raise DataError(f"{where}: expected {tp.__name__}, got {type(value).__name__} {str(value)[:40]!r}")
    return value
