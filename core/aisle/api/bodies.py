"""JSON request bodies checked at the door: valid UTF-8, nested at most
:data:`MAX_JSON_DEPTH` levels, and no NUL character in any string or key.

Each is refused with a 400 problem before any handler, store or engine sees the body:
msgspec gives up past Python's recursion limit (and a body nested nearly that deep would
crash whatever walks it next), PostgreSQL ``text`` and ``jsonb`` cannot hold U+0000, and
refusing NUL here keeps SQLite answering exactly as PostgreSQL does. NUL in a path or
query parameter is refused the same way by :func:`refuse_nul_in_url`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_to_bytes

from litestar import Request

from aisle.api.problems import FieldError, Problem

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
            raise Problem(
                400,
                f"the request body is not valid UTF-8 (byte {exc.start}); JSON must be UTF-8",
                slug="invalid-json",
                title="Invalid JSON",
            ) from None
        except RecursionError:
            raise Problem(
                400,
                f"the request body is nested more than {MAX_JSON_DEPTH} levels deep",
                slug="too-deep",
                title="Request body too deeply nested",
            ) from None
        check_json(value, body)
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
                raise Problem(
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


def _nul(field: str) -> Problem:
    shown = field.replace("\x00", "\\u0000")
    return Problem(
        400,
        f"{shown}: contains a NUL character (\\u0000), which Aisle does not store",
        slug="validation",
        title="Invalid request",
        errors=[FieldError(message="contains a NUL character", field=shown, code="nul")],
    )


def refuse_nul_in_url(request: Request[Any, Any, Any]) -> None:
    """A ``before_request`` hook: a NUL in the path or the query string is a 400."""
    query: bytes = request.scope.get("query_string", b"")
    if "\x00" in request.scope["path"] or (b"%00" in query and b"\x00" in unquote_to_bytes(query)):
        raise Problem(
            400,
            "the URL contains a NUL character (%00), which Aisle does not accept",
            slug="validation",
            title="Invalid request",
        )
