"""How big a CEL condition may be, measured before anything hands it to the CEL parser.

The parser and evaluator of the CEL library recurse once per level of the syntax tree
with no bound of their own: a chain of 20,000 ``.a`` selections (or ``==``, ``<``,
``+`` or method calls) overflows the native stack and kills the process, and some
deep nestings make it panic. A small linear scanner of our own measures an expression
first so that nothing over the limits is ever compiled; its measure of depth errs on
the deep side (every selection, call, index and non-logical operator of an operand
chain counts a level, every bracket another).

Comprehension macros (``all``, ``exists``, ``exists_one``, ``map``, ``filter``) are
the only loops CEL has; nesting them multiplies the work, so their nesting is bounded
too, and a condition using any of them is what the runtime evaluates under a time
budget (see :mod:`aisle.runtime.condition_workers`).

The limits are process-wide (every compile site must apply them, including read
paths); :func:`configure` sets them from the operator's settings at start-up.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping

import msgspec

from aisle.env import env_number

__all__ = [
    "DEFAULT_LIMITS",
    "ConditionLimits",
    "ConditionShape",
    "configure",
    "current_limits",
    "limit_violation",
    "measure",
]

COMPREHENSIONS = frozenset({"all", "exists", "exists_one", "map", "filter"})


class ConditionLimits(msgspec.Struct, frozen=True, kw_only=True):
    """Bounds every CEL condition is checked against before it is compiled."""

    max_length: int = 4096
    """Bytes (UTF-8) of one expression."""
    max_depth: int = 32
    """Nesting levels as :func:`measure` counts them."""
    max_comprehension_depth: int = 2
    """Comprehension macros nested inside each other (``a.exists(x, b.all(y, …))`` is 2)."""

    @classmethod
    def from_environ(cls, env: Mapping[str, str]) -> ConditionLimits:
        """The limits an operator set (``AISLE_CEL_MAX_LENGTH``, ``AISLE_CEL_MAX_DEPTH``,
        ``AISLE_CEL_MAX_COMPREHENSION_DEPTH``), defaults for the rest.

        :raises aisle.env.SettingsError: naming a setting that is not a positive integer.
        """
        return cls(
            max_length=env_number(env, "AISLE_CEL_MAX_LENGTH", DEFAULT_LIMITS.max_length),
            max_depth=env_number(env, "AISLE_CEL_MAX_DEPTH", DEFAULT_LIMITS.max_depth),
            max_comprehension_depth=env_number(
                env, "AISLE_CEL_MAX_COMPREHENSION_DEPTH", DEFAULT_LIMITS.max_comprehension_depth
            ),
        )


DEFAULT_LIMITS = ConditionLimits()

_limits = DEFAULT_LIMITS


def configure(limits: ConditionLimits) -> None:
    """Make ``limits`` the ones every later check uses (called once at start-up)."""
    global _limits
    _limits = limits


def current_limits() -> ConditionLimits:
    return _limits


class ConditionShape(msgspec.Struct, frozen=True, kw_only=True):
    """What :func:`measure` found: size, nesting and loops of one expression."""

    length: int
    depth: int
    comprehension_depth: int
    comprehensions: int


# One alternation, tried at each position; every branch consumes at least one character,
# so a pass is linear in the expression. String bodies are skipped: their brackets and
# dots are text. Triple-quoted strings come before the one-quote forms.
_TOKEN = re.compile(
    r"""
      (?P<string>[rRbB]{0,2}(?:'''(?:[^\\]|\\.)*?'''|\"\"\"(?:[^\\]|\\.)*?\"\"\"
                 |'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"))
    | (?P<number>\d[\w.]*(?:[eE][+-]?\d+)?)
    | (?P<select>\.\s*[A-Za-z_]\w*)
    | (?P<name>[A-Za-z_]\w*)
    | (?P<open>[(\[{])
    | (?P<close>[)\]}])
    | (?P<logical>&&|\|\|)
    | (?P<comma>,)
    | (?P<operator>==|!=|<=|>=|[-+*/%<>!?:])
    | (?P<space>\s+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_IN = "in"


class _Frame:
    """One bracket level: where it starts and how deep its current operand chain is."""

    __slots__ = ("base", "comprehension", "operators", "postfix")

    def __init__(self, base: int, comprehension: int) -> None:
        self.base = base
        self.comprehension = comprehension
        self.operators = 0
        self.postfix = 0

    @property
    def depth(self) -> int:
        return self.base + self.operators + self.postfix


@functools.lru_cache(maxsize=4096)
def measure(expression: str) -> ConditionShape:
    """Measure ``expression`` in one pass (call only on expressions within the length limit:
    the pass is linear but runs in Python)."""
    stack = [_Frame(0, 0)]
    deepest = comprehension_depth = comprehensions = 0
    previous = ""  # kind of the last significant token
    last_select = ""
    for match in _TOKEN.finditer(expression):
        kind = match.lastgroup or "other"
        if kind == "space":
            continue
        frame = stack[-1]
        if kind == "select":
            frame.postfix += 1
            last_select = match.group().lstrip(".").strip()
        elif kind == "name" and match.group() == _IN:
            kind = "operator"
        if kind == "operator":
            frame.operators += 1
            frame.postfix = 0
        elif kind == "logical":
            # The parser folds && and || chains without recursing per operand.
            frame.operators = 1
            frame.postfix = 0
        elif kind == "comma":
            frame.operators = frame.postfix = 0
        elif kind == "open":
            suffix = previous in ("name", "select", "close", "string", "number")
            if suffix:  # a call or an index continues the operand chain
                frame.postfix += 1
            looping = (
                match.group() == "(" and previous == "select" and last_select in COMPREHENSIONS
            )
            inner = _Frame(frame.depth + 1, frame.comprehension + int(looping))
            if looping:
                comprehensions += 1
                comprehension_depth = max(comprehension_depth, inner.comprehension)
            stack.append(inner)
            frame = inner
        elif kind == "close" and len(stack) > 1:
            stack.pop()
            frame = stack[-1]
        deepest = max(deepest, frame.depth)
        previous = kind
    return ConditionShape(
        length=len(expression.encode()),
        depth=deepest,
        comprehension_depth=comprehension_depth,
        comprehensions=comprehensions,
    )


def limit_violation(expression: str, limits: ConditionLimits | None = None) -> str | None:
    """Why ``expression`` may not be compiled, or ``None`` when it is within the limits."""
    limits = limits or _limits
    # Characters never outnumber bytes: a huge text is refused before it is encoded.
    if len(expression) > limits.max_length:
        return f"the expression is longer than {limits.max_length} bytes ({len(expression)}+)"
    shape = measure(expression)
    if shape.length > limits.max_length:
        return f"the expression is longer than {limits.max_length} bytes ({shape.length})"
    if shape.depth > limits.max_depth:
        return (
            f"the expression nests deeper than {limits.max_depth} levels ({shape.depth}); "
            "split long chains of selections or operators"
        )
    if shape.comprehension_depth > limits.max_comprehension_depth:
        return (
            f"the expression nests more than {limits.max_comprehension_depth} comprehensions "
            f"(all, exists, exists_one, map, filter) inside each other "
            f"({shape.comprehension_depth})"
        )
    return None
