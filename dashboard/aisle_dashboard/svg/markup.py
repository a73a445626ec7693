"""Small helpers for writing SVG markup by hand: escaping and fitting text.

Labels are user text, so every text and attribute value goes through :func:`text` or
:func:`attr`; numbers go through :func:`num` so output is stable and short.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["CHAR_WIDTH", "attr", "attrs", "clip", "num", "text", "text_width"]

CHAR_WIDTH = 0.58
"""Average glyph width of the sans-serif font, as a fraction of the font size."""


def text(value: str) -> str:
    """``value`` escaped for element content."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def attr(value: str) -> str:
    """``value`` escaped for a double-quoted attribute."""
    return text(value).replace('"', "&quot;").replace("'", "&#39;")


def num(value: float) -> str:
    """A coordinate with at most one decimal (``12``, ``12.5``)."""
    rounded = round(value, 1)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.1f}"


def attrs(values: Mapping[str, str | float]) -> str:
    """``values`` as ` name="value"` pairs, escaped; names are the caller's own."""
    parts = []
    for name, value in values.items():
        shown = num(value) if isinstance(value, int | float) else attr(value)
        parts.append(f' {name}="{shown}"')
    return "".join(parts)


def text_width(value: str, size: float) -> float:
    """The approximate width of ``value`` at font ``size``."""
    return len(value) * size * CHAR_WIDTH


def clip(value: str, limit: int) -> str:
    """``value`` on one line, shortened to ``limit`` characters with an ellipsis."""
    flat = " ".join(value.split())
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 0)].rstrip() + "…"
