"""Edit forms generated from a node or trigger type's config schema (the JSON Schema
the API's ``/node-types`` and ``/trigger-types`` publish, from the same function), and
the submitted form read back into a config.

Scalars get their own inputs (a choice for an ``enum``, a checkbox for a boolean, a
number with its bounds, text with its length); nested objects and lists are edited as
JSON. Template and CEL fields are marked so the page checks them as they are typed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from aisle.api.context import ApiCall
from aisle.api.routes.types import node_type_out, trigger_type_out

__all__ = ["FormField", "config_fields", "node_schema", "read_config", "trigger_schema"]

# Fields whose value is a template or a CEL expression, by name (the built-in types'
# conventions: email subject/text/html, sms body, conditions' expression and filter).
_TEMPLATE_NAMES = frozenset({"subject", "text", "html", "body", "title", "instructions"})
_CEL_NAMES = frozenset({"expression", "filter", "condition"})
_LONG = 300
"""Strings allowed longer than this are edited in a text area."""


@dataclass(frozen=True)
class FormField:
    """One input of a generated form."""

    name: str
    label: str
    widget: str
    """``select``, ``checkbox``, ``number``, ``text``, ``textarea`` or ``json``."""
    value: str
    checked: bool = False
    required: bool = False
    optional: bool = False
    """May be left empty (the key is then removed from the config)."""
    help: str = ""
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    kind: str = ""
    """``template`` or ``cel`` for the fields checked as they are typed."""
    json_type: str = "string"
    extra: dict[str, Any] = field(default_factory=dict)


def node_schema(call: ApiCall, node_type: str) -> dict[str, Any]:
    """The config schema of a node type, as ``GET /node-types`` publishes it."""
    found = call.registry.node_types.get(node_type)
    if found is None:
        return {}
    return node_type_out(found, "").config_schema


def trigger_schema(call: ApiCall, trigger: str) -> dict[str, Any]:
    """The config schema of a trigger type, as ``GET /trigger-types`` publishes it."""
    found = call.registry.trigger_types.get(trigger)
    if found is None:
        return {}
    return trigger_type_out(found, "").config_schema


def _object(schema: Mapping[str, Any]) -> Mapping[str, Any]:
    """The object schema a ``$ref`` at the top names."""
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        found = schema.get("$defs", {}).get(ref.removeprefix("#/$defs/"), {})
        return found if isinstance(found, Mapping) else {}
    return schema


def _unwrap(prop: Mapping[str, Any]) -> tuple[Mapping[str, Any], bool]:
    """A property's schema without a ``null`` alternative, and whether it had one."""
    options = prop.get("anyOf")
    if isinstance(options, list):
        rest = [o for o in options if o.get("type") != "null"]
        if len(rest) == 1:
            return rest[0], len(rest) < len(options)
    return prop, False


def _label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value)


def config_fields(schema: Mapping[str, Any], config: Mapping[str, Any]) -> list[FormField]:
    """The inputs for ``config`` under ``schema``, in the schema's order."""
    obj = _object(schema)
    required = set(obj.get("required", ()))
    fields: list[FormField] = []
    for name, raw in obj.get("properties", {}).items():
        prop, nullable = _unwrap(raw)
        value = config.get(name, raw.get("default"))
        common: dict[str, Any] = {
            "name": name,
            "label": _label(name),
            "required": name in required,
            "optional": nullable or name not in required,
            "help": str(raw.get("description") or prop.get("description") or ""),
        }
        kind = "template" if name in _TEMPLATE_NAMES else "cel" if name in _CEL_NAMES else ""
        if "enum" in prop:
            fields.append(
                FormField(
                    widget="select",
                    value=_text(value),
                    options=tuple(str(o) for o in prop["enum"]),
                    **common,
                )
            )
        elif prop.get("type") == "boolean":
            fields.append(FormField(widget="checkbox", value="true", checked=bool(value), **common))
        elif prop.get("type") in ("integer", "number"):
            fields.append(
                FormField(
                    widget="number",
                    value=_text(value),
                    minimum=prop.get("minimum"),
                    maximum=prop.get("maximum"),
                    json_type=str(prop["type"]),
                    **common,
                )
            )
        elif prop.get("type") == "string":
            limit = prop.get("maxLength")
            long = limit is None or limit > _LONG or kind == "cel"
            fields.append(
                FormField(
                    widget="textarea" if long else "text",
                    value=_text(value),
                    max_length=limit,
                    kind=kind,
                    **common,
                )
            )
        else:
            fields.append(
                FormField(
                    widget="json",
                    value=json.dumps(value, indent=2) if value is not None else "",
                    json_type="json",
                    **common,
                )
            )
    return fields


def read_config(
    schema: Mapping[str, Any], form: Mapping[str, Any], prefix: str = "config."
) -> tuple[dict[str, Any], list[str]]:
    """The config the submitted ``form`` holds, as a merge patch (``None`` removes a key
    left empty), and what could not be read, naming the field."""
    obj = _object(schema)
    patch: dict[str, Any] = {}
    errors: list[str] = []
    for item in config_fields(schema, {}):
        key = f"{prefix}{item.name}"
        raw = form.get(key)
        text = "" if raw is None else str(raw)
        if item.widget == "checkbox":
            patch[item.name] = raw is not None
            continue
        if text.strip() == "":
            if item.widget in ("text", "textarea") and not item.optional:
                patch[item.name] = ""
            else:
                patch[item.name] = None
            continue
        if item.widget == "number":
            try:
                number: float = int(text) if item.json_type == "integer" else float(text)
            except ValueError:
                errors.append(f"{key}: {item.label} must be a {item.json_type}")
                continue
            patch[item.name] = number
        elif item.widget == "json":
            try:
                patch[item.name] = json.loads(text)
            except json.JSONDecodeError as exc:
                errors.append(f"{key}: {item.label} is not valid JSON ({exc.msg})")
        else:
            patch[item.name] = text
    known = set(obj.get("properties", {}))
    return {k: v for k, v in patch.items() if k in known}, errors
