"""Rendering user-authored message templates in a sandboxed, strict Jinja environment.

Templates are written by studio staff, so they run in Jinja's immutable sandbox: no
attribute starting with ``_``, no mutation of what they are given, no huge ranges, and
(added here) no operator that multiplies a string or number into something enormous.
Undefined names fail instead of rendering as blanks, so "Dear ," never reaches a
couple. Every failure is a :class:`~aisle.PermanentError` naming the template field.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from aisle import PermanentError
from aisle_actions.wedding_context import CONTEXT_NAMES, format_date

__all__ = ["MAX_OUTPUT", "check_template", "render"]

MAX_OUTPUT = 512 * 1024
"""Characters one rendered field may have; a message larger than this is a mistake."""

_MAX_PRODUCT = 100_000
_MAX_EXPONENT = 1_000


def _size(value: Any) -> int:
    if isinstance(value, str | bytes | list | tuple):
        return len(value)
    return 1


class _MessageSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus bounds on ``*`` and ``**``."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(times, int) and _size(seq) * abs(times) > _MAX_PRODUCT:
                    raise SecurityError("a '*' in the template would build a value too large")
            return operator.mul(left, right)
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > _MAX_EXPONENT:
                raise SecurityError("a '**' in the template has too large an exponent")
            return operator.pow(left, right)
        return super().call_binop(context, operator_name, left, right)


def _date_filter(value: date | datetime | None, style: str = "long") -> str:
    return format_date(value, style)


def _environment(html: bool) -> _MessageSandbox:
    env = _MessageSandbox(
        undefined=StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["date"] = _date_filter
    return env


_TEXT = _environment(html=False)
_HTML = _environment(html=True)


@functools.lru_cache(maxsize=512)
def _compile(source: str, html: bool) -> Any:
    return (_HTML if html else _TEXT).from_string(source)


def _where(field: str) -> str:
    return f"template field {field!r}"


def check_template(field: str, source: str, *, html: bool = False) -> None:
    """Raise :class:`PermanentError` if ``source`` does not parse (for validation)."""
    try:
        (_HTML if html else _TEXT).parse(source)
    except TemplateSyntaxError as exc:
        raise PermanentError(f"{_where(field)}, line {exc.lineno}: {exc.message}") from None


def render(field: str, source: str, context: Mapping[str, Any], *, html: bool = False) -> str:
    """Render ``source`` with ``context``; HTML fields autoescape what they insert.

    :raises PermanentError: naming ``field`` for a syntax error, an undefined name, an
        unsafe attribute or call, a too-large value, or any error inside the template.
    """
    if not source:
        return ""
    try:
        template = _compile(source, html)
        output: str = template.render(context)
    except SecurityError as exc:
        raise PermanentError(
            f"{_where(field)} uses something templates may not touch: {exc}"
        ) from None
    except TemplateSyntaxError as exc:
        raise PermanentError(f"{_where(field)}, line {exc.lineno}: {exc.message}") from None
    except UndefinedError as exc:
        raise PermanentError(
            f"{_where(field)}: {exc.message}; available names: {', '.join(CONTEXT_NAMES)}"
        ) from None
    except TemplateError as exc:
        raise PermanentError(f"{_where(field)}: {exc}") from None
    except Exception as exc:  # raised by an expression: 1/0, a bad filter argument
        raise PermanentError(f"{_where(field)}: {type(exc).__name__}: {exc}") from None
    if len(output) > MAX_OUTPUT:
        raise PermanentError(
            f"{_where(field)} rendered {len(output)} characters; the limit is {MAX_OUTPUT}"
        )
    return output
