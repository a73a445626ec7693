"""RFC 9457 problem details: the one error shape every API response uses.

Every error leaving the API is ``application/problem+json`` with ``type``, ``title``,
``status`` and ``detail``; validation errors add ``errors`` (each naming the field path,
node or edge at fault). Unexpected exceptions become a 500 problem without internals.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

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
from litestar.types import ExceptionHandlersMap

from aisle.runtime.errors import DateChangeNotConfirmed, RuntimeRefusal
from aisle.services.errors import (
    NAMED_FIELD,
    FieldError,
    Refused,
    config_error,
    field_from_key,
    located,
)
from aisle.storage.errors import Conflict, NotFound, RevisionConflict

__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "FieldError",
    "Problem",
    "ProblemBody",
    "body_error",
    "config_error",
    "exception_handlers",
    "problem_response",
    "problem_spec",
]

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
_TYPE_BASE = "https://aisle.dev/problems/"

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


class Problem(HTTPException):
    """An error a handler raises on purpose; rendered as a problem details document.

    ``slug`` names the problem type (``https://aisle.dev/problems/<slug>``); ``extra``
    adds members (a conflict's both values, a lock holder, …).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: Sequence[FieldError] = (),
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail=detail, status_code=status, headers=dict(headers or {}))
        self.slug = slug or _SLUGS.get(status, "error")
        self.title = title or _TITLES.get(status, "Error")
        self.errors = list(errors)
        self.members = dict(extra or {})


def problem_response(
    request: Request[Any, Any, Any] | None, problem: Problem
) -> Response[dict[str, Any]]:
    """The ``application/problem+json`` response for ``problem`` (the handler of a
    raised one; ``request`` names the ``instance``)."""
    body: dict[str, Any] = {
        "type": _TYPE_BASE + problem.slug,
        "title": problem.title,
        "status": problem.status_code,
        "detail": problem.detail,
    }
    if request is not None:
        body["instance"] = request.url.path
    if problem.errors:
        body["errors"] = [msgspec.to_builtins(e) for e in problem.errors]
    for key, value in problem.members.items():
        body.setdefault(key, value)
    return Response(
        content=body,
        status_code=problem.status_code,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=dict(problem.headers or {}),
    )


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


def _validation_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = _validation_errors(exc.extra)
    detail = exc.detail or "the request is not valid"
    if errors and detail.startswith("Validation failed for"):
        detail = "; ".join(f"{e.field}: {e.message}" if e.field else e.message for e in errors)
    return problem_response(
        request, Problem(400, detail, slug="validation", title="Invalid request", errors=errors)
    )


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
    return problem_response(request, Problem(status, detail, headers=headers))


def _unexpected_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request, Problem(500, "an unexpected error occurred; it has been logged", slug="internal")
    )


def _not_found_handler(request: Request[Any, Any, Any], exc: NotFound) -> Response[Any]:
    # Rows of other organizations do not exist for the caller: same answer as absent.
    return problem_response(request, Problem(404, str(exc), extra={"resource": exc.kind}))


def _revision_handler(request: Request[Any, Any, Any], exc: RevisionConflict) -> Response[Any]:
    return problem_response(
        request,
        Problem(412, str(exc), extra={"revision": exc.current}, slug="precondition-failed"),
    )


def _about(exc: Conflict | RuntimeRefusal) -> list[FieldError]:
    return [FieldError(message=str(exc), field=exc.field)] if exc.field else []


def _conflict_handler(request: Request[Any, Any, Any], exc: Conflict) -> Response[Any]:
    return problem_response(request, Problem(409, str(exc), errors=_about(exc)))


def body_error(exc: msgspec.ValidationError) -> Problem:
    """The 400 for a JSON body that does not match its operation's schema, naming the
    field (the same document Litestar's own validation answers with)."""
    message, field = located(str(exc))
    named = NAMED_FIELD.match(message)
    if named:  # an unknown or missing key of the object at ``field``
        field = f"{field}.{named.group(1)}" if field else named.group(1)
    return Problem(
        400,
        f"{field}: {message}" if field else message,
        slug="validation",
        title="Invalid request",
        errors=[FieldError(message=message, field=field)],
    )


def _msgspec_handler(
    request: Request[Any, Any, Any], exc: msgspec.ValidationError
) -> Response[Any]:
    message, field = located(str(exc))
    return problem_response(
        request,
        Problem(
            422,
            f"{field}: {message}" if field else message,
            slug="validation",
            title="Invalid request",
            errors=[FieldError(message=message, field=field)],
        ),
    )


def _date_change_handler(
    request: Request[Any, Any, Any], exc: DateChangeNotConfirmed
) -> Response[Any]:
    return problem_response(
        request,
        Problem(
            409,
            str(exc),
            slug="confirmation-required",
            title="Confirmation required",
            errors=[FieldError(message="needs confirm_date_change: true", field=exc.field)],
            extra={
                "requires_confirmation": "confirm_date_change",
                "old": exc.old.isoformat() if exc.old else None,
                "new": exc.new.isoformat() if exc.new else None,
            },
        ),
    )


def _refusal_handler(request: Request[Any, Any, Any], exc: RuntimeRefusal) -> Response[Any]:
    return problem_response(request, Problem(409, str(exc), errors=_about(exc), slug="refused"))


def _refused_handler(request: Request[Any, Any, Any], exc: Refused) -> Response[Any]:
    return problem_response(
        request,
        Problem(
            exc.status,
            exc.detail,
            slug=exc.slug,
            title=exc.title,
            errors=exc.errors,
            extra=exc.extra,
            headers=exc.headers,
        ),
    )


def _integrity_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    # A unique constraint caught a race the checks before it could not see.
    log.info("integrity error on %s %s: %s", request.method, request.url.path, exc)
    return problem_response(
        request, Problem(409, "the change conflicts with an existing record; read it and retry")
    )


exception_handlers: ExceptionHandlersMap = {
    Problem: problem_response,
    Refused: _refused_handler,
    NotFound: _not_found_handler,
    RevisionConflict: _revision_handler,
    Conflict: _conflict_handler,
    msgspec.ValidationError: _msgspec_handler,
    DateChangeNotConfirmed: _date_change_handler,
    RuntimeRefusal: _refusal_handler,
    sqlite3.IntegrityError: _integrity_handler,
    asyncpg.exceptions.IntegrityConstraintViolationError: _integrity_handler,
    ValidationException: _validation_handler,
    HTTPException: _http_handler,
    Exception: _unexpected_handler,
}
"""Handlers for every exception an API request can raise (most specific wins)."""
