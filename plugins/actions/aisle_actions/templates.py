"""Rendering user-authored message templates in a sandboxed, strict Jinja environment.

Templates are written by studio staff, so they run in Jinja's immutable sandbox: no
attribute starting with ``_``, no mutation of what they are given, no huge ranges, and
(added here) nothing that builds an enormous value before it is built: ``*`` and ``**``
on numbers, strings and lists, ``+`` on strings, ``%``/``format`` widths, and the
padding, joining and replacing methods and filters are refused when their result would
be too large. What the sandbox cannot foresee (nested loops, doubling in a chain of
``set``) is bounded by where templates run: executors and previews render through
:func:`aisle.run_bounded`, in a worker process with a time and memory bound, and
:func:`render` tells that worker which field it is on so an overrun names it.
Undefined names fail instead of rendering as blanks, so "Dear ," never reaches a
couple. Every failure is a :class:`~aisle.PermanentError` naming the template field.
"""

from __future__ import annotations

import functools
import operator
import re
import string
from collections.abc import Callable, Mapping, Sized
from datetime import date, datetime
from typing import Any

from jinja2 import (
    StrictUndefined,
    TemplateError,
    TemplateSyntaxError,
    UndefinedError,
    pass_eval_context,
)
from jinja2.exceptions import SecurityError
from jinja2.filters import do_center, do_format, do_indent, do_join, do_replace, do_tojson
from jinja2.nodes import EvalContext
from jinja2.sandbox import ImmutableSandboxedEnvironment

from aisle import PermanentError, working_on
from aisle_actions.wedding_context import CONTEXT_NAMES, format_date

__all__ = ["MAX_OUTPUT", "check_template", "render", "render_fields"]

MAX_OUTPUT = 512 * 1024
"""Characters one rendered field may have; a message larger than this is a mistake."""

_MAX_PRODUCT = 100_000
_MAX_INT_BITS = 100_000
"""About 30,000 decimal digits: more than any message needs, computed in microseconds."""
_MAX_WIDTH = 10_000
"""Largest field width or precision in a ``%`` or ``format`` spec."""
_MAX_INDENT = 100
_SPEC_NUMBER = re.compile(r"\d+")
_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[#0 +\-]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")


def _too_large(what: str) -> SecurityError:
    return SecurityError(f"{what} in the template would build a value too large")


def _check_width(what: str, width: Any) -> None:
    if isinstance(width, int) and width > MAX_OUTPUT:
        raise _too_large(what)


def _check_percent_format(fmt: str, args: Any) -> None:
    """``fmt % args`` would not pad or extend anything beyond :data:`_MAX_WIDTH`."""
    starred = False
    for spec in _PERCENT_SPEC.finditer(fmt):
        for number in spec.groups():
            if number == "*":
                starred = True
            elif number is not None and int(number) > _MAX_WIDTH:
                raise _too_large("a '%' format width")
    values = args if isinstance(args, tuple) else (args,)
    if starred and any(isinstance(v, int) and abs(v) > _MAX_WIDTH for v in values):
        raise _too_large("a '%*' format width")


def _check_brace_format(fmt: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """``fmt.format(...)`` would not pad beyond :data:`_MAX_WIDTH` (nested specs too)."""
    try:
        fields = list(string.Formatter().parse(fmt))
    except ValueError:
        return  # str.format raises the same error itself
    for _, _, spec, _ in fields:
        if not spec:
            continue
        if any(int(n) > _MAX_WIDTH for n in _SPEC_NUMBER.findall(spec)):
            raise _too_large("a format width")
        if "{" in spec and any(
            isinstance(v, int) and abs(v) > _MAX_WIDTH for v in (*args, *kwargs.values())
        ):
            raise _too_large("a nested format width")


def _replaced_size(text: str, old: str, new: str, count: int | None) -> int:
    found = len(text) + 1 if old == "" else text.count(old)
    if count is not None and count >= 0:
        found = min(found, count)
    return len(text) + found * (len(new) - len(old))


def _check_join(separator: str, parts: Any) -> None:
    if isinstance(parts, Sized) and len(separator) * len(parts) > MAX_OUTPUT:
        raise _too_large("a join")


def _bounded_str_method(text: str, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` (``text.<name>``), refusing arguments that would make it huge."""

    def checked(*args: Any, **kwargs: Any) -> Any:
        if name in ("center", "ljust", "rjust", "zfill") and args:
            _check_width(f"'{name}'", args[0])
        elif name == "expandtabs":
            size = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(size, int) and text.count("\t") * size > MAX_OUTPUT:
                raise _too_large("'expandtabs'")
        elif name == "replace" and len(args) >= 2:
            if all(isinstance(a, str) for a in args[:2]):
                count = args[2] if len(args) > 2 else kwargs.get("count")
                if _replaced_size(text, args[0], args[1], count) > MAX_OUTPUT:
                    raise _too_large("'replace'")
        elif name == "join" and args:
            _check_join(text, args[0])
        elif name == "format":
            _check_brace_format(text, args, kwargs)
        elif name == "format_map" and args and isinstance(args[0], Mapping):
            _check_brace_format(text, (), args[0])
        return method(*args, **kwargs)

    return checked


_GROWING_METHODS = frozenset(
    {"center", "ljust", "rjust", "zfill", "expandtabs", "replace", "join", "format", "format_map"}
)


class _MessageSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, plus bounds on what operators and string methods build."""

    intercepted_binops = frozenset({"*", "**", "+", "%"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "*":
            for seq, times in ((left, right), (right, left)):
                sequence = isinstance(seq, str | bytes | list | tuple)
                if sequence and isinstance(times, int) and len(seq) * abs(times) > _MAX_PRODUCT:
                    raise _too_large("a '*'")
            numbers = isinstance(left, int) and isinstance(right, int)
            if numbers and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
                raise _too_large("a '*'")
            return operator.mul(left, right)
        if operator_name == "**":
            numbers = isinstance(left, int) and isinstance(right, int) and right > 0
            if numbers and max(left.bit_length(), 1) * right > _MAX_INT_BITS:
                raise _too_large("a '**'")
            return operator.pow(left, right)
        if operator_name == "+":
            sized = isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple)
            if sized and len(left) + len(right) > MAX_OUTPUT:
                raise _too_large("a '+'")
            return operator.add(left, right)
        if operator_name == "%" and isinstance(left, str):
            _check_percent_format(left, right)
        return super().call_binop(context, operator_name, left, right)

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._bounded(obj, attribute, super().getattr(obj, attribute))

    def getitem(self, obj: Any, argument: Any) -> Any:
        return self._bounded(obj, argument, super().getitem(obj, argument))

    @staticmethod
    def _bounded(obj: Any, name: Any, value: Any) -> Any:
        if isinstance(obj, str) and name in _GROWING_METHODS and callable(value):
            return _bounded_str_method(obj, name, value)
        return value


def _center_filter(value: str, width: int = 80) -> str:
    _check_width("'center'", width)
    return do_center(value, width)


def _indent_filter(
    text: str, width: int | str = 4, first: bool = False, blank: bool = False
) -> str:
    if isinstance(width, int) and width > _MAX_INDENT:
        raise _too_large("an 'indent'")
    if isinstance(width, str) and len(width) * (str(text).count("\n") + 1) > MAX_OUTPUT:
        raise _too_large("an 'indent'")
    return do_indent(text, width, first, blank)


def _format_filter(value: str, *args: Any, **kwargs: Any) -> str:
    _check_percent_format(str(value), tuple(kwargs.values()) or args)
    return do_format(value, *args, **kwargs)


@pass_eval_context
def _replace_filter(
    eval_ctx: EvalContext, text: str, old: str, new: str, count: int | None = None
) -> str:
    if _replaced_size(str(text), str(old), str(new), count) > MAX_OUTPUT:
        raise _too_large("a 'replace'")
    return do_replace(eval_ctx, text, old, new, count)


@pass_eval_context
def _join_filter(
    eval_ctx: EvalContext, value: Any, d: str = "", attribute: str | int | None = None
) -> str:
    _check_join(str(d), value)
    return do_join(eval_ctx, value, d, attribute)


@pass_eval_context
def _tojson_filter(eval_ctx: EvalContext, value: Any, indent: int | None = None) -> Any:
    if indent is not None and indent > _MAX_INDENT:
        raise _too_large("a 'tojson' indent")
    return do_tojson(eval_ctx, value, indent)


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
    env.filters.update(
        date=_date_filter,
        center=_center_filter,
        indent=_indent_filter,
        format=_format_filter,
        replace=_replace_filter,
        join=_join_filter,
        tojson=_tojson_filter,
    )
    # Paragraphs of lorem ipsum, as many as asked for: nothing a message needs.
    del env.globals["lipsum"]
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
    working_on(_where(field))
    try:
        template = _compile(source, html)
        output: str = template.render(context)
    except MemoryError:
        raise PermanentError(f"{_where(field)} needs more memory than a template may use") from None
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


def render_fields(sources: Mapping[str, str], context: Mapping[str, Any]) -> dict[str, str]:
    """Render several text templates (field name → source) in one call, so executors
    pay one :func:`aisle.run_bounded` round trip for all of them."""
    return {field: render(field, source, context) for field, source in sources.items()}
