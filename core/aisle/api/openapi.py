"""The OpenAPI document tells the truth: which problems each operation can answer, and
request schemas that refuse what the server refuses.

:func:`declare_problems` is the one place that knows which problems each kind of
operation answers (every ``/api/v1`` call can meet a bad token or the rate limit; one
with a path parameter, an unknown id; one with a body, a body too large or not
acceptable; a write, a conflict with what is stored). A handler's own ``responses=``
(a 409 with a richer body, the 412/428 of ``If-Match``, a lock's 423) add to these and
win where both name a status. :class:`StrictStructSchemaPlugin` writes struct schemas
with what the server checks: ``additionalProperties: false`` where unknown fields are
refused, and the constraints Litestar drops inside containers (a list item's length, a
dict key's pattern). :func:`answer_options_truthfully` makes ``OPTIONS`` list every
method of a path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec.inspect as mi
from litestar import Litestar
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Schema
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from aisle.api.problems import ProblemBody, problem_spec

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

__all__ = [
    "StrictStructSchemaPlugin",
    "answer_options_truthfully",
    "declare_problems",
    "optional_header",
    "problems_for",
]


def optional_header(**schema: Any) -> dict[str, Any]:
    """``schema_extra`` for an optional header (``str | None = None``): a string when
    sent. Litestar would document ``null`` too, which a header cannot carry, so a
    client (or a fuzzer) sends the text "null"."""
    return {"oneOf": None, "type": "string", **schema}


def _spec(description: str) -> ResponseSpec:
    return problem_spec(description, ProblemBody)


_EVERY_CALL: Mapping[int, ResponseSpec] = {
    400: _spec(
        "The request is malformed: a parameter or the body does not match this "
        "operation's schema, an unknown query parameter, JSON that is not UTF-8, nested "
        "too deeply or holding a NUL character (`errors` names each field)"
    ),
    401: _spec("No API token, or one that is unknown, revoked or expired"),
    403: _spec("The token's role (or journey role) does not allow this"),
    429: _spec("Too many requests for this token or address: retry after `Retry-After` seconds"),
}
_NAMES_AN_ID: Mapping[int, ResponseSpec] = {
    404: _spec("Nothing with this id (in the path or the body) in the caller's organization"),
}
_WITH_BODY: Mapping[int, ResponseSpec] = {
    413: _spec("The body is larger than the server accepts (`AISLE_MAX_BODY_BYTES`)"),
}
_WITH_INPUT: Mapping[int, ResponseSpec] = {
    422: _spec(
        "The request is well formed but its values cannot be used here: an unknown "
        "timezone, a graph that does not validate, a version that does not exist yet "
        "(`errors` names each field)"
    ),
}
_IF_MATCH: Mapping[int, ResponseSpec] = {
    412: _spec("`If-Match` names a revision that is no longer current (`etag` is the current)"),
}
_WRITE: Mapping[int, ResponseSpec] = {
    409: _spec("The change conflicts with what is stored; read it again and retry"),
}


def problems_for(route: HTTPRoute, handler: HTTPRouteHandler) -> dict[int, ResponseSpec]:
    """The problem responses an operation of this kind can answer (before its own)."""
    problems = dict(_EVERY_CALL)
    has_body = "data" in handler.parsed_fn_signature.parameters
    # What Litestar itself reads from the request for this handler (dependencies too).
    inputs = handler.create_kwargs_model(path_parameters=route.path_parameters)
    kinds = {"query" for _ in inputs.expected_query_params} | {
        f"header:{p.field_alias.lower()}" for p in inputs.expected_header_params
    }
    if route.path_parameters or has_body:
        problems.update(_NAMES_AN_ID)
    if has_body:
        problems.update(_WITH_BODY)
    if has_body or "query" in kinds:
        problems.update(_WITH_INPUT)
    if "header:if-match" in kinds:
        problems.update(_IF_MATCH)
    if "header:if-none-match" in kinds:
        problems[304] = ResponseSpec(
            data_container=None, description="`If-None-Match` names the current ETag: no body"
        )
    if handler.http_methods - {"GET", "HEAD"}:
        problems.update(_WRITE)
    return problems


def declare_problems(app: Litestar, prefix: str) -> None:
    """Add :func:`problems_for` to the ``responses`` of every operation under ``prefix``
    (a handler's own declaration wins), before the OpenAPI document is first built."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or not route.path.startswith(prefix):
            continue
        for handler in route.route_handlers:
            handler.responses = {**problems_for(route, handler), **(handler.responses or {})}


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Struct schemas as Litestar writes them, plus ``additionalProperties: false`` for
    structs with ``forbid_unknown_fields`` (which the server refuses with a 400)."""

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        info: Any = mi.type_info(field_definition.type_)
        if not isinstance(info, mi.StructType):
            return schema
        if info.forbid_unknown_fields:
            schema.additional_properties = False
        for field in info.fields:
            _restore((schema.properties or {}).get(field.encode_name), field.type)
        return schema


def _restore(schema: Any, info: mi.Type) -> None:
    """Add to ``schema`` the constraints of ``info`` it lacks (Litestar keeps those of a
    field itself, not of what a list, a dict or an optional value holds)."""
    if not isinstance(schema, Schema):
        return  # a reference: that struct's own schema is restored on its own
    if isinstance(info, mi.Metadata):
        info = info.type
    options = [s for s in schema.one_of or [] if getattr(s, "type", None) != OpenAPIType.NULL]
    if isinstance(info, mi.UnionType):
        members = [t for t in info.types if not isinstance(t, mi.NoneType)]
        if len(members) == 1:
            _restore(options[0] if len(options) == 1 else schema, members[0])
            return
        for member in members:  # each member into the option of its JSON type
            same = [o for o in options if getattr(o, "type", None) == _KINDS.get(type(member))]
            if len(same) == 1:
                _restore(same[0], member)
        return
    if len(options) == 1:  # Litestar wrote ``X | UNSET`` as a one-member oneOf
        _restore(options[0], info)
    elif isinstance(info, mi.StrType):
        _fill(schema, min_length=info.min_length, max_length=info.max_length)
        _fill(schema, pattern=info.pattern)
    elif isinstance(info, mi.IntType | mi.FloatType):
        _fill(schema, minimum=info.ge, exclusive_minimum=info.gt)
        _fill(schema, maximum=info.le, exclusive_maximum=info.lt)
    elif isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
        _fill(schema, min_items=info.min_length, max_items=info.max_length)
        _restore(schema.items, info.item_type)
    elif isinstance(info, mi.DictType):
        _fill(schema, min_properties=info.min_length, max_properties=info.max_length)
        key = info.key_type.type if isinstance(info.key_type, mi.Metadata) else info.key_type
        if isinstance(key, mi.StrType) and schema.property_names is None:
            names = Schema(type=OpenAPIType.STRING)
            _restore(names, key)
            if names.pattern or names.min_length is not None or names.max_length is not None:
                schema.property_names = names
        _restore(schema.additional_properties, info.value_type)


_KINDS: Mapping[type[mi.Type], OpenAPIType] = {
    mi.StrType: OpenAPIType.STRING,
    mi.IntType: OpenAPIType.INTEGER,
    mi.FloatType: OpenAPIType.NUMBER,
    mi.ListType: OpenAPIType.ARRAY,
    mi.VarTupleType: OpenAPIType.ARRAY,
    mi.SetType: OpenAPIType.ARRAY,
    mi.FrozenSetType: OpenAPIType.ARRAY,
    mi.DictType: OpenAPIType.OBJECT,
}


def _fill(schema: Schema, **constraints: Any) -> None:
    for name, value in constraints.items():
        if value is not None and getattr(schema, name) is None:
            setattr(schema, name, value)


def answer_options_truthfully(app: Litestar) -> None:
    """Make each path's ``OPTIONS`` answer list all its methods.

    Litestar 2 builds the ``OPTIONS`` handler of a path when its first handler is
    registered and keeps it as later ones join (litestar-org/litestar#4169, fixed in
    3.0): ``Allow`` then lists only the first methods. Its response reads the methods
    of the route it was made for, so that route is swapped for the complete one.
    """
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            fn = getattr(handler.fn, "__closure__", None)
            if "OPTIONS" not in handler.http_methods or not fn:
                continue
            for cell in fn:
                if isinstance(cell.cell_contents, HTTPRoute):
                    cell.cell_contents = route
