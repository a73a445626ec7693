"""Checks on a config Struct: its JSON Schema is valid and agrees with what msgspec accepts.

The canvas renders a settings form from the JSON Schema and validates with it before
saving; the engine validates the same config with the msgspec Struct. The two must
agree, and a rejected config must name the field at fault so the canvas can point at
it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = [
    "WRONG_VALUE_CANDIDATES",
    "action_config",
    "json_schema",
    "parse_config",
    "schema_errors",
    "schema_is_valid",
    "wrong_values",
]

WRONG_VALUE_CANDIDATES: tuple[Any, ...] = (
    {"aisle_conformance": "an object where a value belongs"},
    [["a nested list where a value belongs"]],
    "\x00 not a valid value \x00",
    -987654321.5,
    True,
)
"""Values tried, in order, as a wrong value for a field: the first one the field's JSON
Schema rejects is used."""


def json_schema(config: type[msgspec.Struct]) -> dict[str, Any]:
    """The JSON Schema (Draft 2020-12) of ``config`` as the canvas receives it."""
    return msgspec.json.schema(config)


def _validator(schema: Mapping[str, Any]) -> Any:
    try:
        from jsonschema import Draft202012Validator
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError(
            "the conformance suite validates config schemas with jsonschema: "
            "install 'aisle-journeys[testing]'"
        ) from exc
    return Draft202012Validator(schema)


def schema_is_valid(schema: Mapping[str, Any]) -> str | None:
    """``None`` when ``schema`` is a valid Draft 2020-12 schema, else why it is not."""
    from jsonschema.exceptions import SchemaError

    try:
        type(_validator(schema)).check_schema(schema)
    except SchemaError as exc:
        return exc.message
    return None


def schema_errors(schema: Mapping[str, Any], instance: Any) -> list[str]:
    """What the JSON Schema finds wrong with ``instance`` (empty when it is valid)."""
    return [
        f"{error.json_path}: {error.message}" for error in _validator(schema).iter_errors(instance)
    ]


def parse_config(config: type[msgspec.Struct], data: Any) -> msgspec.Struct:
    """Parse ``data`` (JSON-shaped, as stored on a step or edge) into ``config``.

    The engine's own decoding, so the suite accepts and rejects exactly what a journey
    does.
    """
    from aisle.engine.validation import decode_config

    if not isinstance(data, Mapping):
        raise msgspec.ValidationError(f"Expected `object`, got `{type(data).__name__}`")
    parsed: msgspec.Struct = decode_config(config, data)
    return parsed


def action_config(config: type[msgspec.Struct], data: Any) -> msgspec.Struct:
    """Decode an action run's config snapshot as the worker does before ``execute``.

    Laxer than :func:`parse_config` (``strict=False``): the snapshot went through JSON
    storage, so ``"3"`` may stand for ``3``.
    """
    decoded: msgspec.Struct = msgspec.convert(data, config, strict=False)
    return decoded


def wrong_values(
    config: type[msgspec.Struct], schema: Mapping[str, Any], valid: Mapping[str, Any]
) -> list[tuple[str, Mapping[str, Any]]]:
    """For each field, ``valid`` with that field set to a value the JSON Schema rejects.

    Fields whose schema accepts every candidate (typed ``Any``) are left out: there is
    no wrong value to try.
    """
    cases: list[tuple[str, Mapping[str, Any]]] = []
    for field in msgspec.structs.fields(config):
        for candidate in WRONG_VALUE_CANDIDATES:
            instance = {**valid, field.encode_name: candidate}
            if schema_errors(schema, instance):
                cases.append((field.encode_name, instance))
                break
    return cases
