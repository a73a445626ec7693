"""CEL conditions: compiled once per journey, evaluated safely against an enrollment.

The activation every condition sees is ``{"contact": ..., "event": ..., "vars": ...,
"now": ...}``. Evaluation never raises: an error (a missing key, a type mismatch, a
result that is not a bool, a budget exceeded) counts as ``False`` and is recorded so
the engine can log it.

Nothing reaches the CEL parser without passing :mod:`aisle.engine.condition_limits`
first: :func:`compile_condition` is the only place that compiles.
"""

from __future__ import annotations

import abc
import functools
import re
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import cel
import msgspec
import msgspec.inspect as mi

from aisle.contracts.cel import CEL_MARKER
from aisle.contracts.events import EventView
from aisle.engine.condition_limits import limit_violation

__all__ = [
    "ROOT_VARIABLES",
    "ConditionError",
    "ConditionScope",
    "ConditionSyntaxError",
    "ConditionTooComplex",
    "ExternalProgram",
    "cel_fields",
    "compile_condition",
    "event_activation",
    "unknown_variables",
]

ROOT_VARIABLES = frozenset({"contact", "event", "vars", "now"})
"""The names a condition may start from."""

# Comprehension macros bind a variable of their own (``exists(p, p.email != null)``);
# the CEL library reports those among the referenced variables.
_BOUND = re.compile(r"\b(?:all|exists|exists_one|map|filter)\s*\(\s*([A-Za-z_]\w*)\s*,")


class ConditionSyntaxError(ValueError):
    """A condition that does not compile; the message is the parser's, made readable."""


class ConditionTooComplex(ConditionSyntaxError):
    """A condition over the limits of :mod:`~aisle.engine.condition_limits` (never parsed)."""


class ExternalProgram(abc.ABC):
    """A compiled condition that runs somewhere else (another process, under a budget).

    The runtime puts these among a journey's programs for conditions too costly to run
    where the engine runs; the engine hands them the plain activation instead of a CEL
    context and treats what they raise as it treats any evaluation error.
    """

    @abc.abstractmethod
    def run(self, activation: Mapping[str, Any]) -> Any:
        """The condition's value for ``activation`` (raises when it cannot tell)."""


class ConditionError(msgspec.Struct, frozen=True, kw_only=True):
    """A condition that failed at run time (counted as false)."""

    expression: str
    error: str


@functools.lru_cache(maxsize=4096)
def _compile(expression: str) -> Any:
    return cel.compile(expression)


def compile_condition(expression: str) -> Any:
    """Compile ``expression`` (cached by its text); raises :class:`ConditionSyntaxError`
    (:class:`ConditionTooComplex` when it is over the limits and was not parsed)."""
    violation = limit_violation(expression)
    if violation is not None:
        raise ConditionTooComplex(violation)
    if not expression.strip():
        raise ConditionSyntaxError("the expression is empty")
    try:
        return _compile(expression)
    except (ValueError, RuntimeError, TypeError) as exc:
        message = str(exc).removeprefix(f"Failed to parse expression '{expression}': ")
        raise ConditionSyntaxError(message) from exc
    except BaseException as exc:
        # A panic inside the library surfaces as pyo3's PanicException, a BaseException.
        if type(exc).__name__ != "PanicException":
            raise
        raise ConditionSyntaxError(f"the CEL parser gave up: {exc}") from None


def unknown_variables(program: Any, expression: str) -> list[str]:
    """Root names ``expression`` uses that are not in :data:`ROOT_VARIABLES`."""
    bound = set(_BOUND.findall(expression))
    names: list[str] = list(program.variables())
    return sorted(n for n in names if n not in ROOT_VARIABLES and n not in bound)


def event_activation(event: EventView | None) -> dict[str, Any] | None:
    """The event as CEL sees it (``event.type``, ``event.payload``, …), or null."""
    if event is None:
        return None
    return {
        "id": event.id,
        "type": event.type,
        "payload": msgspec.to_builtins(event.payload),
        "occurred_at": event.occurred_at,
    }


class ConditionScope:
    """Evaluates conditions for one engine call and remembers what went wrong.

    ``programs`` are the journey's precompiled conditions; an expression not among them
    (a plugin node building one at run time) is compiled on first use and cached.
    """

    __slots__ = ("_activations", "_base", "_contexts", "_programs", "errors")

    def __init__(
        self,
        programs: Mapping[str, Any],
        contact: Mapping[str, Any],
        variables: Mapping[str, Any],
        now: datetime,
    ) -> None:
        self._programs = programs
        self._base: dict[str, Any] = {
            "contact": contact,
            "vars": msgspec.to_builtins(variables),
            "now": now,
        }
        # One CEL context per event seen in this call, built on first use: converting
        # the activation dominates evaluation (tens of microseconds for a contact), and
        # a context converts once however many conditions run against it. Keyed by
        # identity (payloads are dicts, so events are unhashable); the event is kept
        # alongside so its id cannot be reused while the scope lives.
        self._contexts: dict[int, tuple[EventView | None, Any]] = {}
        self._activations: dict[int, tuple[EventView | None, dict[str, Any]]] = {}
        self.errors: list[ConditionError] = []

    def _activation(self, event: EventView | None) -> dict[str, Any]:
        key = id(event)
        found = self._activations.get(key)
        if found is None:
            found = self._activations[key] = (
                event,
                {**self._base, "event": event_activation(event)},
            )
        return found[1]

    def _context(self, event: EventView | None) -> Any:
        key = id(event)
        found = self._contexts.get(key)
        if found is None:
            context = cel.Context()
            context.update(self._activation(event))
            found = self._contexts[key] = (event, context)
        return found[1]

    def _run(self, expression: str, event: EventView | None) -> Any:
        program = self._programs.get(expression) or compile_condition(expression)
        if isinstance(program, ExternalProgram):
            return program.run(self._activation(event))
        return program.execute(self._context(event))

    def evaluate(self, expression: str, event: EventView | None) -> bool:
        """Evaluate ``expression``; any error or non-bool result counts as ``False``."""
        try:
            result = self._run(expression, event)
        except Exception as exc:  # the CEL library raises several types; none may escape
            self.errors.append(ConditionError(expression=expression, error=_describe(exc)))
            return False
        if not isinstance(result, bool):
            self.errors.append(
                ConditionError(
                    expression=expression,
                    error=f"the result is {type(result).__name__} {result!r}, not a bool",
                )
            )
            return False
        return result

    def bind(self, event: EventView | None) -> _Bound:
        """A one-argument evaluator for a node or trigger context."""
        return _Bound(self, event)


class _Bound:
    __slots__ = ("_event", "_scope")

    def __init__(self, scope: ConditionScope, event: EventView | None) -> None:
        self._scope = scope
        self._event = event

    def __call__(self, expression: str) -> bool:
        return self._scope.evaluate(expression, self._event)


def _describe(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no such key: {exc}"
    return f"{type(exc).__name__}: {exc}"


_TYPE_INFO: dict[type, mi.Type] = {}


def _type_info(kind: type) -> mi.Type:
    # Inspecting a config schema evaluates its annotations: once per type, not per step.
    info = _TYPE_INFO.get(kind)
    if info is None:
        info = _TYPE_INFO[kind] = mi.type_info(kind)
    return info


def cel_fields(
    value: Any, info: mi.Type | None = None, path: str = ""
) -> Iterator[tuple[str, str]]:
    """Yield ``(field path, expression)`` for every CEL field in a decoded config."""
    if info is None:
        info = _type_info(type(value))
    if isinstance(info, mi.Metadata):
        if (info.extra or {}).get(CEL_MARKER) and isinstance(value, str):
            yield path, value
            return
        yield from cel_fields(value, info.type, path)
    elif isinstance(info, mi.StructType) and isinstance(value, msgspec.Struct):
        for field in info.fields:
            sub = f"{path}.{field.name}" if path else field.name
            yield from cel_fields(getattr(value, field.name), field.type, sub)
    elif isinstance(info, mi.UnionType):
        for option in info.types:
            if _matches(option, value):
                yield from cel_fields(value, option, path)
                return
    elif isinstance(info, mi.ListType | mi.TupleType | mi.VarTupleType | mi.SetType) and (
        isinstance(value, list | tuple | set | frozenset)
    ):
        items = info.item_types if isinstance(info, mi.TupleType) else None
        for index, item in enumerate(value):
            item_info = items[index] if items is not None else info.item_type  # type: ignore[union-attr]
            yield from cel_fields(item, item_info, f"{path}[{index}]")
    elif isinstance(info, mi.DictType) and isinstance(value, dict):
        for key, item in value.items():
            yield from cel_fields(item, info.value_type, f"{path}.{key}")


def _matches(info: mi.Type, value: Any) -> bool:
    base = info.type if isinstance(info, mi.Metadata) else info
    if isinstance(base, mi.NoneType):
        return value is None
    if isinstance(base, mi.StrType):
        return isinstance(value, str)
    if isinstance(base, mi.StructType):
        return isinstance(value, base.cls)
    if isinstance(base, mi.ListType | mi.TupleType | mi.VarTupleType | mi.SetType):
        return isinstance(value, list | tuple | set | frozenset)
    if isinstance(base, mi.DictType):
        return isinstance(value, dict)
    return False
