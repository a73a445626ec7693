"""RFC 9457 problem details: the one error shape every API response uses.

Every error leaving the API is ``application/problem+json`` with ``type``, ``title``,
``status``, ``detail`` and ``instance``; validation errors add ``errors`` (each naming
the field path, node or edge at fault). Unexpected exceptions become a 500 problem
without internals. Litestar's problem-details plugin renders them; this module holds
what is Aisle's: the problem types, and which of our errors is which problem. Handlers
and services alike raise :class:`~aisle.services.errors.Refused` for a refusal on
purpose; it is rendered here.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import asyncpg  # type: ignore[import-untyped]
import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    SerializationException,
    ValidationException,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins.problem_details import (
    ProblemDetailsConfig,
    ProblemDetailsException,
    ProblemDetailsPlugin,
)
from litestar.types import ExceptionHandlersMap

from aisle.runtime.errors import DateChangeNotConfirmed, RuntimeRefusal
from aisle.services.errors import (
    NAMED_FIELD,
    FieldError,
    Refused,
    date_change_refused,
    field_from_key,
    located,
)
from aisle.storage.errors import Conflict, NotFound, RevisionConflict

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ProblemBody",
    "body_error",
    "exception_handlers",
    "problem_body",
    "problem_details",
    "problem_response",
    "problem_spec",
]

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Exception)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_BASE = "https://aisle.dev/problems/"
_RFC_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})

_TITLES: Mapping[int, str] = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}

_SLUGS: Mapping[int, str] = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation",
    428: "precondition-required",
    429: "rate-limited",
    500: "internal",
    503: "unavailable",
}


class ProblemBody(msgspec.Struct, kw_only=True, omit_defaults=True):
    """The RFC 9457 document (with Aisle's ``errors`` extension) as OpenAPI shows it."""

    type: str
    title: str
    status: int
    detail: str = ""
    instance: str | None = None
    errors: list[FieldError] = []


def problem_spec(description: str, body: type[ProblemBody] = ProblemBody) -> ResponseSpec:
    """An error response for a handler's OpenAPI ``responses``: a problem document."""
    # Generated examples would land on every component the body refers to (a lock,
    # a field error), request components included: random values, not documentation.
    return ResponseSpec(
        data_container=body,
        description=description,
        media_type=PROBLEM_MEDIA_TYPE,
        generate_examples=False,
    )


class _Rendered(ProblemDetailsException):
    """A :class:`Refused` as a problem details document; ``instance`` is the request's
    path (none for a problem returned rather than raised)."""

    def to_response(self, request: Request[Any, Any, Any] | None) -> Response[dict[str, Any]]:
        self.instance = request.url.path if request is not None else None
        return super().to_response(request)  # type: ignore[arg-type]


def _render(refused: Refused) -> ProblemDetailsException:
    # ``slug`` names the problem type (https://aisle.dev/problems/<slug>); ``extra`` adds
    # members (a conflict's both values, a lock holder, …) but never replaces an RFC
    # 9457 one.
    slug = refused.slug or _SLUGS.get(refused.status, "error")
    body: dict[str, Any] = {}
    if refused.errors:
        body["errors"] = [msgspec.to_builtins(e) for e in refused.errors]
    for key, value in refused.extra.items():
        if key not in _RFC_MEMBERS:
            body.setdefault(key, value)
    return _Rendered(
        detail=refused.detail,
        status_code=refused.status,
        headers=dict(refused.headers),
        extra=body,
        type_=_TYPE_BASE + slug,
        title=refused.title or _TITLES.get(refused.status, "Error"),
    )


def problem_body(refused: Refused) -> ProblemBody:
    """The document of ``refused`` as a value (an entry of a batch answer), without
    ``instance`` or extension members other than ``errors``."""
    return ProblemBody(
        type=_TYPE_BASE + (refused.slug or _SLUGS.get(refused.status, "error")),
        title=refused.title or _TITLES.get(refused.status, "Error"),
        status=refused.status,
        detail=refused.detail,
        errors=refused.errors,
    )


def problem_response(
    request: Request[Any, Any, Any] | None, refused: Refused
) -> Response[dict[str, Any]]:
    """The response for ``refused`` (for a handler that returns one with its headers)."""
    return _render(refused).to_response(request)  # type: ignore[arg-type]


def _validation_errors(extra: Any) -> list[FieldError]:
    errors: list[FieldError] = []
    if isinstance(extra, list):
        for item in extra:
            if isinstance(item, Mapping):
                message = str(item.get("message", "invalid value"))
                key = item.get("key")
                source = item.get("source")
                if source is not None:
                    source = str(getattr(source, "value", source))
                field = field_from_key(str(key)) if key else None
                if source == "body" and field == "data":
                    # Litestar names the body parameter itself ("data"), not a field in it.
                    field = None
                    if message == "'data'":  # the KeyError of a body never sent
                        message = "a JSON body is required"
                if field is None:
                    message, field = located(message)
                named = NAMED_FIELD.match(message)
                if named and source == "body":
                    # msgspec names an unknown or missing key in the message, not the path.
                    field = f"{field}.{named.group(1)}" if field else named.group(1)
                if source and source != "body" and field:
                    message = f"{source} parameter: {message}"
                errors.append(FieldError(message=message, field=field))
    return errors


# -- our errors as problems: what the plugin's handlers render ------------------------


def _invalid_request(exc: ValidationException) -> Refused:
    errors = _validation_errors(exc.extra)
    detail = exc.detail or "the request is not valid"
    if errors and detail.startswith("Validation failed for"):
        detail = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
    return Refused(400, detail, slug="validation", title="Invalid request", errors=errors)


def _not_found(exc: NotFound) -> Refused:
    # Rows of other organizations do not exist for the caller: same answer as absent.
    return Refused(404, str(exc), extra={"resource": exc.kind})


def _stale_revision(exc: RevisionConflict) -> Refused:
    return Refused(412, str(exc), extra={"revision": exc.current}, slug="precondition-failed")


def _about(exc: Conflict | RuntimeRefusal) -> list[FieldError]:
    return [FieldError(message=str(exc), field=exc.field)] if exc.field else []


def _conflict(exc: Conflict) -> Refused:
    return Refused(409, str(exc), errors=_about(exc))


def body_error(exc: msgspec.ValidationError) -> Refused:
    """The 400 for a JSON body that does not match its operation's schema, naming the
    field (the same document Litestar's own validation answers with)."""
    message, field = located(str(exc))
    named = NAMED_FIELD.match(message)
    if named:  # an unknown or missing key of the object at ``field``
        field = f"{field}.{named.group(1)}" if field else named.group(1)
    return Refused(
        400,
        f"{field}: {message}" if field else message,
        slug="validation",
        title="Invalid request",
        errors=[FieldError(message=message, field=field)],
    )


def _invalid_value(exc: msgspec.ValidationError) -> Refused:
    # A value a handler converted (not the request body, which gets a 400) did not fit.
    message, field = located(str(exc))
    return Refused(
        422,
        f"{field}: {message}" if field else message,
        slug="validation",
        title="Invalid request",
        errors=[FieldError(message=message, field=field)],
    )


def _runtime_refusal(exc: RuntimeRefusal) -> Refused:
    return Refused(409, str(exc), errors=_about(exc), slug="refused")


def _rendering(refusal: Callable[[E], Refused]) -> Callable[[E], ProblemDetailsException]:
    return lambda exc: _render(refusal(exc))


problem_details = ProblemDetailsPlugin(
    ProblemDetailsConfig(
        exception_to_problem_detail_map={
            Refused: _render,
            NotFound: _rendering(_not_found),
            RevisionConflict: _rendering(_stale_revision),
            Conflict: _rendering(_conflict),
            msgspec.ValidationError: _rendering(_invalid_value),
            DateChangeNotConfirmed: _rendering(date_change_refused),
            RuntimeRefusal: _rendering(_runtime_refusal),
            ValidationException: _rendering(_invalid_request),
        },
    )
)
"""Litestar's problem-details plugin with Aisle's errors mapped onto it (list it in the
app's ``plugins``); a raised :class:`Refused` is rendered as it says."""


# -- what needs the request: Litestar's own HTTP errors, races, the unexpected --------


def _caused_by_bad_json(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return False
        if isinstance(seen, msgspec.DecodeError | SerializationException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _http_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    detail = exc.detail or _TITLES.get(status, "Error")
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", 'Bearer realm="aisle"')
    if status == 400 and _caused_by_bad_json(exc):
        detail = f"the request body is not valid JSON: {detail}"
    if status == 413:
        limit = getattr(getattr(request.app.state, "aisle", None), "config", None)
        size = getattr(limit, "max_body_bytes", None)
        detail = f"the request body is larger than the {size}-byte limit" if size else detail
    if status >= 500:
        log.error("HTTP %s on %s %s: %s", status, request.method, request.url.path, detail)
        detail = _TITLES.get(status, "Error")
    return problem_response(request, Refused(status, detail, headers=headers))


def _integrity_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # A unique constraint caught a race the checks before it could not see.
    log.info("integrity error on %s %s: %s", request.method, request.url.path, exc)
    refused = Refused(409, "the change conflicts with an existing record; read it and retry")
    return problem_response(request, refused)


def _unavailable_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # The database (or the connection to it) is gone or not answering within its bounded
    # timeouts: the client may retry shortly, and the pool reconnects by itself.
    if isinstance(exc, sqlite3.OperationalError) and "locked" not in str(exc):
        return _unexpected_handler(request, exc)
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    refused = Refused(
        503,
        "the database is not answering; retry in a moment",
        errors=[FieldError(field="database", message=type(exc).__name__)],
        headers={"Retry-After": "1"},
    )
    return problem_response(request, refused)


def _unexpected_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    refused = Refused(500, "an unexpected error occurred; it has been logged", slug="internal")
    return problem_response(request, refused)


exception_handlers: ExceptionHandlersMap = {
    sqlite3.IntegrityError: _integrity_handler,
    asyncpg.exceptions.IntegrityConstraintViolationError: _integrity_handler,
    HTTPException: _http_handler,
    # A lost or refused connection, or a bounded wait (connect, pool acquire, statement,
    # SQLite's busy timeout) running out.
    asyncpg.exceptions.PostgresConnectionError: _unavailable_handler,
    asyncpg.exceptions.InterfaceError: _unavailable_handler,
    asyncpg.exceptions.QueryCanceledError: _unavailable_handler,
    ConnectionError: _unavailable_handler,
    TimeoutError: _unavailable_handler,
    sqlite3.OperationalError: _unavailable_handler,
    Exception: _unexpected_handler,
}
"""The handlers that need the request, beside :data:`problem_details` (most specific
exception wins)."""
