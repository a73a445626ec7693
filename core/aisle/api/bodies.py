"""JSON request bodies checked at the door: valid UTF-8, nested at most
:data:`MAX_JSON_DEPTH` levels, no NUL character in any string or key, and of the very
types the operation's schema names.

Each is refused with a 400 problem before any handler, store or engine sees the body:
msgspec gives up past Python's recursion limit (and a body nested nearly that deep would
crash whatever walks it next), PostgreSQL ``text`` and ``jsonb`` cannot hold U+0000, and
refusing NUL here keeps SQLite answering exactly as PostgreSQL does. NUL in a path or
query parameter is refused the same way by :func:`refuse_nul_in_url`.

Litestar converts bodies leniently (``0`` for ``false``, a number of seconds for a
date-time), which the OpenAPI document does not admit; the body is first converted
strictly, so what the document refuses the server refuses too.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

import msgspec
import msgspec.inspect as mi
from litestar import Request

from aisle.api.problems import body_error
from aisle.services.errors import FieldError, Refused

__all__ = ["MAX_JSON_DEPTH", "ApiRequest", "check_json", "refuse_nul_in_url"]

MAX_JSON_DEPTH = 64
"""The deepest nesting of arrays and objects a JSON body may have (a journey's flow
needs about ten)."""


class ApiRequest(Request[Any, Any, Any]):
    """The request class of the app: its JSON body passes :func:`check_json` first."""

    async def json(self) -> Any:
        body = await self.body()
        try:
            value = await super().json()
        except UnicodeDecodeError as exc:
            raise Refused(
                400,
                f"the request body is not valid UTF-8 (byte {exc.start}); JSON must be UTF-8",
                slug="invalid-json",
                title="Invalid JSON",
            ) from None
        except RecursionError:
            raise Refused(
                400,
                f"the request body is nested more than {MAX_JSON_DEPTH} levels deep",
                slug="too-deep",
                title="Request body too deeply nested",
            ) from None
        check_json(value, body)
        data = self.route_handler.parsed_fn_signature.parameters.get("data")
        if data is not None and value is not None:
            _convert_strictly(value, data.annotation)
        return value


def _convert_strictly(value: Any, annotation: Any) -> None:
    try:
        msgspec.convert(value, type=annotation, strict=True, str_keys=True)
    except msgspec.ValidationError:
        # JSON Schema counts 2.0 as an integer; msgspec's strict mode does not.
        try:
            msgspec.convert(_whole_floats_as_ints(value), annotation, strict=True, str_keys=True)
        except msgspec.ValidationError as exc:
            raise body_error(exc) from None
    except TypeError:
        pass  # a type msgspec cannot convert alone: Litestar's own conversion judges it


def _whole_floats_as_ints(value: Any) -> Any:
    # check_json has bounded the depth, so recursion is safe here.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _whole_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_ints(item) for item in value]
    return value


def check_json(value: Any, raw: bytes | None = None) -> None:
    """Refuse ``value`` (decoded from ``raw``) when it nests too deeply or holds a NUL.

    ``raw`` lets the common case skip most of the work: a body with fewer brackets than
    the limit cannot nest past it, and a NUL can only arrive as the escape ``\\u0000``.
    """
    may_nest = raw is None or raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH
    may_hold_nul = raw is None or b"\\u0000" in raw
    if may_hold_nul or (may_nest and _too_deep(value)):
        _find_fault(value)


def _too_deep(value: Any) -> bool:
    # Containers only, no paths: a 500 KB flow is walked in a few milliseconds.
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_JSON_DEPTH:
            return True
        for child in item.values() if isinstance(item, dict) else item:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _find_fault(value: Any) -> None:
    """Raise the problem for the first fault found, naming its field path."""
    # Iterative, so a deep value cannot exhaust the stack that is checking it.
    stack: list[tuple[Any, str, int]] = [(value, "", 0)]
    while stack:
        item, path, depth = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                raise _nul(path or "(body)")
        elif isinstance(item, dict | list):
            if depth >= MAX_JSON_DEPTH:
                raise Refused(
                    400,
                    f"{path or '(body)'}: nested more than {MAX_JSON_DEPTH} levels deep",
                    slug="too-deep",
                    title="Request body too deeply nested",
                    errors=[FieldError(message="nested too deeply", field=path or None)],
                )
            if isinstance(item, dict):
                for key, child in reversed(item.items()):
                    where = f"{path}.{key}" if path else str(key)
                    if "\x00" in key:
                        raise _nul(where)
                    stack.append((child, where, depth + 1))
            else:
                indexed = reversed(list(enumerate(item)))
                stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in indexed)


def _nul(field: str) -> Refused:
    shown = field.replace("\x00", "\\u0000")
    return Refused(
        400,
        f"{shown}: contains a NUL character (\\u0000), which Aisle does not store",
        slug="validation",
        title="Invalid request",
        errors=[FieldError(message="contains a NUL character", field=shown, code="nul")],
    )


def refuse_nul_in_url(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: a NUL in the path or the query string is a 400, and
    so are a number for a date-time query parameter and a repeated single one."""
    query: bytes = request.scope.get("query_string", b"")
    if "\x00" in request.scope["path"] or (b"%00" in query and b"\x00" in unquote_to_bytes(query)):
        raise Refused(
            400,
            "the URL contains a NUL character (%00), which Aisle does not accept",
            slug="validation",
            title="Invalid request",
        )
    if query:
        declared = _query_types(request.route_handler)
        for name in request.query_params:
            values = request.query_params.getall(name)
            info = declared.get(name)
            if len(values) > 1 and not _is_list(info):
                raise _query_problem(name, f"given {len(values)} times; it takes one value")
            if _is_date(info) and any(_NUMBER.match(value) for value in values):
                raise _query_problem(name, "not an ISO 8601 date-time (e.g. 2026-01-05T09:00:00Z)")


def _query_problem(name: str, message: str) -> Refused:
    return Refused(
        400,
        f"{name}: {message}",
        slug="validation",
        title="Invalid request",
        errors=[FieldError(message=message, field=name)],
    )


# Litestar reads query values leniently (a number passes as seconds since 1970, the
# last of repeated values wins), where the OpenAPI document admits neither.
_NUMBER = re.compile(r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$")
_LISTS = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType, mi.TupleType)
_declared: dict[int, tuple[Any, dict[str, mi.Type | None]]] = {}


def _query_types(handler: Any) -> dict[str, mi.Type | None]:
    """Each query parameter ``handler`` takes, by the name it has in the URL."""
    cached = _declared.get(id(handler))
    if cached is not None and cached[0] is handler:
        return cached[1]
    types: dict[str, mi.Type | None] = {}
    for name, field in handler.parsed_fn_signature.parameters.items():
        alias = getattr(field.kwarg_definition, "query", None) or name
        try:
            types[alias] = mi.type_info(field.annotation)
        except TypeError:
            types[alias] = None  # not a msgspec type: Litestar's conversion judges it
    _declared[id(handler)] = (handler, types)
    return types


def _members(info: mi.Type | None) -> tuple[mi.Type | None, ...]:
    if isinstance(info, mi.Metadata):
        info = info.type
    return info.types if isinstance(info, mi.UnionType) else (info,)


def _is_list(info: mi.Type | None) -> bool:
    return info is None or any(isinstance(m, _LISTS) for m in _members(info))


def _is_date(info: mi.Type | None) -> bool:
    return any(isinstance(m, mi.DateTimeType | mi.DateType) for m in _members(info))
