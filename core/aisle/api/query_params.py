"""Unknown query parameters are refused: a mistyped filter must not return everything.

:func:`refuse_unknown_query` is a guard on the ``/api/v1`` router. It compares the
request's query parameter names with the ones its handler (and the handler's
dependencies) declares, as Litestar itself resolves them, and answers 400 naming each
parameter it does not know.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from aisle.services.errors import FieldError, Refused

__all__ = ["declared_query_params", "refuse_unknown_query"]

_ANY = frozenset({"*"})
_declared: dict[int, tuple[BaseRouteHandler, frozenset[str]]] = {}


def declared_query_params(handler: BaseRouteHandler, path_params: set[str]) -> frozenset[str]:
    """The query parameter names ``handler`` reads (``{"*"}``: it takes the whole query).

    Worked out once per handler, the way Litestar parses its signature.
    """
    cached = _declared.get(id(handler))
    if cached is not None and cached[0] is handler:
        return cached[1]
    model = handler.create_kwargs_model(path_parameters=dict.fromkeys(path_params))  # type: ignore[arg-type]
    names = (
        _ANY
        if "query" in model.expected_reserved_kwargs
        else frozenset(p.field_alias for p in model.expected_query_params)
    )
    _declared[id(handler)] = (handler, names)
    return names


async def refuse_unknown_query(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """A 400 problem naming every query parameter ``handler`` does not declare."""
    given = list(dict.fromkeys(connection.query_params.keys()))
    if not given:
        return
    known = declared_query_params(handler, set(connection.path_params))
    if known is _ANY:
        return
    unknown = [name for name in given if name not in known]
    if not unknown:
        return
    takes = ", ".join(sorted(known)) if known else "none"
    raise Refused(
        400,
        f"unknown query parameter{'s' if len(unknown) > 1 else ''} "
        + ", ".join(repr(n) for n in unknown)
        + f" (this endpoint takes: {takes})",
        slug="unknown-query-parameter",
        title="Unknown query parameter",
        errors=[
            FieldError(message="unknown query parameter", field=name, code="unknown_parameter")
            for name in unknown
        ],
    )
