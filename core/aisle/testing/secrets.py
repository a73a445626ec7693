"""Finding secrets where they must never be: log records, results, errors, reprs."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping, Sequence

__all__ = ["SECRET_NAME", "leaks", "secret_values", "texts_of"]

SECRET_NAME = re.compile(r"pass|token|secret|key|auth|credential", re.IGNORECASE)
"""Setting or field names whose values are treated as secret."""

_MIN_LENGTH = 4  # shorter values would match by accident


def secret_values(named: Mapping[str, object]) -> list[str]:
    """The string values in ``named`` whose names say they are secret."""
    return [
        value
        for name, value in named.items()
        if SECRET_NAME.search(name) and isinstance(value, str) and len(value) >= _MIN_LENGTH
    ]


def texts_of(item: object) -> list[str]:
    """Every text a reader could see of ``item``.

    A log record: its formatted message and traceback text. An exception: ``str`` and
    ``repr`` of it and of every exception it was raised from. Anything else: ``str``
    and ``repr``.
    """
    if isinstance(item, logging.LogRecord):
        texts = [item.getMessage()]
        if item.exc_info and item.exc_info[1] is not None:
            texts.extend(texts_of(item.exc_info[1]))
        return texts
    if isinstance(item, BaseException):
        texts = []
        seen: set[int] = set()
        current: BaseException | None = item
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            texts.extend((str(current), repr(current)))
            current = current.__cause__ or current.__context__
        return texts
    return [str(item), repr(item)]


def leaks(secrets: Sequence[str], places: Iterable[tuple[str, object]]) -> list[str]:
    """The names of the ``places`` (name, item) in which one of ``secrets`` appears."""
    found = []
    for where, item in places:
        if any(secret in text for text in texts_of(item) for secret in secrets):
            found.append(where)
    return sorted(set(found))
