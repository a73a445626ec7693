"""The one logging set-up of every process kind (serve, worker, scheduler, the CLI).

:func:`configure` installs one handler on the root logger and routes uvicorn's loggers
through it, so every line has the same shape and a timestamp: JSON lines with
``AISLE_LOG_FORMAT=json``, human lines otherwise. Each record carries the ids of what
is being worked on (:func:`bind`: request, organization, journey, enrollment, event,
run), and a filter masks secrets (bearer tokens, passwords, API keys, Authorization
headers) in the message and its arguments before any handler formats it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

__all__ = ["CONTEXT_KEYS", "RedactSecrets", "bind", "configure", "current", "redact"]

CONTEXT_KEYS = ("request_id", "organization", "journey", "enrollment", "event", "run")

ContextValue = str | Callable[[], str | None] | None
"""An id, or a function giving it when a line is logged (an organization known only
once the request has been authenticated)."""

_context: ContextVar[Mapping[str, ContextValue] | None] = ContextVar(
    "aisle_log_context", default=None
)

_MASK = "[redacted]"
_SECRET_PATTERNS = (
    # Authorization: Bearer abc / Basic abc, as a header line or a repr'd pair.
    re.compile(r"(?i)\b(bearer|basic|token)(\s+)[A-Za-z0-9._~+/=-]{6,}"),
    # key=value, key: value, "key": "value" for credential-like names.
    re.compile(
        r"(?i)([\"']?[\w-]*(?:password|passwd|secret|token|api[_-]?key|apikey|authorization|"
        r"cookie|credential)s?[\w-]*[\"']?\s*[:=]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&}]+)"
    ),
    # Aisle's own token and secret formats wherever they appear.
    re.compile(r"\b(ais_|whsec_)[A-Za-z0-9+/=_-]{8,}"),
)


def redact(text: str) -> str:
    """``text`` with every secret-looking value replaced by ``[redacted]``."""
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)}{m.group(2)}{_MASK}", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{_MASK}", text)
    return _SECRET_PATTERNS[2].sub(_MASK, text)


def bind(**ids: ContextValue) -> None:
    """Set the ids of what this task works on from here (an API call, a run, an event).

    The ids not named are cleared except the request id, so one run's ids never stay
    on the next run's lines; a new task starts from a copy of its parent's ids.
    """
    unknown = set(ids) - set(CONTEXT_KEYS)
    if unknown:
        raise ValueError(f"unknown log context keys: {sorted(unknown)}")
    request_id = (_context.get() or {}).get("request_id")
    _context.set({"request_id": request_id, **ids})


def current() -> dict[str, str]:
    """The ids bound now, resolved (empty ones left out)."""
    resolved: dict[str, str] = {}
    for key, value in (_context.get() or {}).items():
        if callable(value):
            try:
                value = value()
            except Exception:  # a context function must never break logging
                value = None
        if value:
            resolved[key] = value
    return resolved


class RedactSecrets(logging.Filter):
    """Masks secrets in the message (formatted with its arguments) and the traceback,
    and adds the bound ids as attributes of the record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        record.aisle_context = current()
        return True


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **getattr(record, "aisle_context", {}),
        }
        if record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class _HumanFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        ids = getattr(record, "aisle_context", {})
        suffix = "".join(f" {key}={value}" for key, value in ids.items())
        line = f"{_timestamp(record)} {record.levelname:<7} {record.name}: "
        line += record.getMessage() + suffix
        if record.exc_text:
            line += "\n" + record.exc_text
        return line


def _timestamp(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


_UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access")


def configure(environ: Mapping[str, str] | None = None, *, stream: Any = None) -> None:
    """Log every process's lines one way (``AISLE_LOG_FORMAT``: ``json`` or ``text``,
    ``AISLE_LOG_LEVEL``: ``info`` by default) to ``stream`` (stderr)."""
    env = os.environ if environ is None else environ
    shape = (env.get("AISLE_LOG_FORMAT") or "text").strip().lower()
    if shape not in ("json", "text"):
        raise ValueError(f"AISLE_LOG_FORMAT must be json or text, got {shape!r}")
    level = (env.get("AISLE_LOG_LEVEL") or "info").strip().upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError(f"AISLE_LOG_LEVEL must be a logging level name, got {level.lower()!r}")
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(_JsonFormatter() if shape == "json" else _HumanFormatter())
    # On the handler, not a logger: records of every logger pass it, propagated or not.
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "aisle", False):
            root.removeHandler(old)
    handler.aisle = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    for name in _UVICORN:
        # uvicorn's own handlers print without timestamps in their own format.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
        # uvicorn's dictConfig (an earlier server in this process) may have disabled or
        # raised them; the root's level decides.
        uvicorn_logger.disabled = False
        uvicorn_logger.setLevel(logging.NOTSET)
