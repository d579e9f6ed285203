"""Typed configuration: params sections parsed into frozen dataclasses.

:func:`parse` turns a plain mapping (a section of ``params.yaml``) into a dataclass,
recursing into nested dataclass fields and tuples of them. Unknown keys, missing keys and
values of the wrong type fail with a one-line error that names the full key path.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

T = TypeVar("T")


class ConfigError(ValueError):
    """A params value that is missing, unknown or of the wrong type."""


def parse(cls: type[T], data: Any, where: str) -> T:
    """Build dataclass ``cls`` from mapping ``data``; ``where`` is its key path for errors."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{where}: expected a mapping of {_field_names(cls)}, got {data!r}")
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(
            f"{where}.{unknown[0]}: unknown key; expected one of {', '.join(sorted(fields))}"
        )
    hints = typing.get_type_hints(cls)
    values = {}
    for name, field in fields.items():
        if name in data:
            values[name] = _convert(hints[name], data[name], f"{where}.{name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{where}.{name}: required key is missing")
    instance = cls(**values)
    check = getattr(instance, "validate", None)
    if check is not None:
        check(where)
    return instance


def _field_names(cls: type) -> str:
    return ", ".join(f.name for f in dataclasses.fields(cls))


def _convert(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(arg, value, where)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if len(errors) == 1 else f"{where}: unexpected value {value!r}")
    if dataclasses.is_dataclass(hint):
        return parse(hint, value, where)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        item_hint = args[0]
        return tuple(_convert(item_hint, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return types.MappingProxyType(
            {k: _convert(args[1], v, f"{where}.{k}") for k, v in value.items()}
        )
    if origin is typing.Literal:
        if value not in args:
            raise ConfigError(
                f"{where}: expected one of {', '.join(map(str, args))}, got {value!r}"
            )
        return value
    if hint is Any:
        return value
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads "2e-4" as a string
            return float(value)
        except ValueError:
            pass
    if (
        isinstance(hint, type)
        and isinstance(value, hint)
        and not (hint is int and isinstance(value, bool))
    ):
        return value
    raise ConfigError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def to_plain(value: Any) -> Any:
    """A parsed config as plain JSON-ready data: dataclasses and mappings -> dicts,
    tuples -> lists (``dataclasses.asdict`` cannot copy the read-only mappings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {key: to_plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_plain(item) for item in value]
    return value
