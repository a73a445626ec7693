"""The ``Aisle-Fencing-Tokens`` header of whole-flow saves, parsed for the canvas
service (which checks the tokens against the edit locks)."""

from __future__ import annotations

from aisle.services.errors import Refused

__all__ = ["FENCING_TOKENS_PATTERN", "fences_from_header"]

FENCING_TOKENS_PATTERN = r"^\s*([^\s,][^,]*=\s*[0-9]+\s*)?(,\s*([^\s,][^,]*=\s*[0-9]+\s*)?)*$"
"""What :func:`fences_from_header` accepts, for the OpenAPI document."""


def fences_from_header(value: str | None) -> dict[str, int]:
    """Parse ``Aisle-Fencing-Tokens: node:n1=3, edge:e2=7`` (whole-flow saves carry
    tokens this way). Malformed parts are a 400 naming the part."""
    tokens: dict[str, int] = {}
    if not value:
        return tokens
    for part in value.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, raw = part.rpartition("=")
        # isdigit() alone admits "²", which int() refuses
        if not sep or not key.strip() or not (raw.strip().isascii() and raw.strip().isdigit()):
            raise Refused(
                400,
                f"Aisle-Fencing-Tokens: {part!r} is not <node|edge>:<id>=<token>",
            )
        tokens[key.strip()] = int(raw)
    return tokens
