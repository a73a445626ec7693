"""SMS length: GSM-7 or UCS-2 encoding, and how many segments a message is billed as.

A message of only GSM 03.38 characters is sent as GSM-7: 160 septets in one segment,
153 per segment when concatenated; characters of the extension table (``€``, ``[``,
``{`` …) take two septets and never straddle two segments. Any other character makes
the whole message UCS-2: 70 UTF-16 units in one segment, 67 when concatenated, and a
character outside the Basic Multilingual Plane (most emoji) takes two units that stay
together.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = ["GSM7_BASIC", "GSM7_EXTENSION", "SmsLength", "measure"]

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]


class SmsLength(msgspec.Struct, frozen=True, kw_only=True):
    """``units`` are septets (GSM-7) or UTF-16 code units (UCS-2)."""

    encoding: Encoding
    characters: int
    units: int
    segments: int
    per_segment: int


def _split(weights: list[int], single: int, multi: int) -> int:
    total = sum(weights)
    if total <= single:
        return 1 if total else 0
    segments, used = 1, 0
    for weight in weights:
        if used + weight > multi:
            segments += 1
            used = 0
        used += weight
    return segments


def measure(text: str) -> SmsLength:
    """The encoding, length and segment count of ``text``."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        weights = [2 if ch in GSM7_EXTENSION else 1 for ch in text]
        segments = _split(weights, 160, 153)
        return SmsLength(
            encoding="GSM-7",
            characters=len(text),
            units=sum(weights),
            segments=segments,
            per_segment=160 if segments <= 1 else 153,
        )
    weights = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    segments = _split(weights, 70, 67)
    return SmsLength(
        encoding="UCS-2",
        characters=len(text),
        units=sum(weights),
        segments=segments,
        per_segment=70 if segments <= 1 else 67,
    )
