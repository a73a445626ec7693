"""Decoding an action run's config snapshot into an executor's schema, with clear errors."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from aisle import PermanentError

__all__ = ["decode_config"]

S = TypeVar("S", bound=msgspec.Struct)

_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def decode_config(raw: Any, schema: type[S], executor: str) -> S:
    """``raw`` (the run's config snapshot, or an already decoded struct) as ``schema``.

    :raises PermanentError: naming the executor and the field at fault; a config that
        does not decode will not decode on a retry either.
    """
    if isinstance(raw, schema):
        return raw
    try:
        return msgspec.convert(raw, schema, str_keys=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        match = _PATH.search(message)
        if match is not None:
            reason = message[: match.start()]
            raise PermanentError(
                f"{executor} config field {match.group('path')!r}: {reason}"
            ) from None
        raise PermanentError(f"{executor} config: {message}") from None
    except ValueError as exc:  # a struct's __post_init__ check
        raise PermanentError(f"{executor} config: {exc}") from None
