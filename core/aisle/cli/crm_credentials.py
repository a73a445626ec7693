"""A CRM connection's credentials as ``aisle crm connect`` takes them: from a JSON file,
from ``AISLE_CRM_CREDENTIALS``, or asked field by field (secret fields hidden).

Never from an option's value: the command line ends up in shell histories and process
listings. Nothing read here is echoed; the service checks what was given against the
provider's credentials struct.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click
import msgspec
import msgspec.inspect as mi

from aisle.contracts.crm import CRMProvider

__all__ = ["CREDENTIALS_ENV", "is_secret_field", "read_credentials"]

CREDENTIALS_ENV = "AISLE_CRM_CREDENTIALS"

_SECRET_WORDS = ("secret", "key", "token", "password", "hook", "auth")
"""A field whose name holds one of these is asked for without echo (catch-hook URLs
included: whoever holds one runs the Zap)."""


def is_secret_field(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS)


def _json_object(text: str, where: str) -> dict[str, Any]:
    try:
        value = msgspec.json.decode(text)
    except msgspec.DecodeError as exc:
        # msgspec's message gives the position, never the text.
        raise click.UsageError(f"{where}: not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise click.UsageError(f"{where}: give a JSON object of the provider's credential fields")
    return value


def _describe(info: Any) -> str:
    if isinstance(info, mi.Metadata):
        return str((info.extra_json_schema or {}).get("description") or "")
    if isinstance(info, mi.UnionType):
        return next((d for d in map(_describe, info.types) if d), "")
    if isinstance(info, mi.LiteralType):
        return "one of " + ", ".join(map(str, info.values))
    return ""


def _is_text(info: Any) -> bool:
    if isinstance(info, mi.Metadata):
        return _is_text(info.type)
    if isinstance(info, mi.UnionType):
        return all(_is_text(t) for t in info.types if not isinstance(t, mi.NoneType))
    if isinstance(info, mi.LiteralType):
        return all(isinstance(v, str) for v in info.values)
    return isinstance(info, mi.StrType)


def _ask(provider: CRMProvider) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    info = mi.type_info(provider.credentials)
    if not isinstance(info, mi.StructType):
        return answers
    for field in info.fields:
        hint = _describe(field.type)
        label = f"{provider.name} {field.name}" + (f" ({hint})" if hint else "")
        if not field.required:
            label += " [Enter: leave unset]"
        answer: str = click.prompt(
            label,
            default="" if not field.required else None,
            show_default=False,
            hide_input=is_secret_field(field.name),
            err=True,
        )
        if not answer:
            continue
        if _is_text(field.type):
            answers[field.name] = answer
        else:
            try:
                answers[field.name] = msgspec.json.decode(answer)
            except msgspec.DecodeError:
                answers[field.name] = answer
    return answers


def read_credentials(
    provider: CRMProvider, credentials_file: str | None, environ: Mapping[str, str]
) -> dict[str, Any]:
    """``credentials_file`` (``-``: standard input) first, then the environment, then
    a prompt per field of the provider's credentials struct."""
    if credentials_file is not None:
        where = "--credentials-file"
        try:
            text = (
                sys.stdin.read()
                if credentials_file == "-"
                else Path(credentials_file).read_text(encoding="utf-8")
            )
        except OSError as exc:
            raise click.UsageError(
                f"{where}: cannot read {credentials_file}: {exc.strerror}"
            ) from None
        return _json_object(text, where)
    from_env = environ.get(CREDENTIALS_ENV)
    if from_env:
        return _json_object(from_env, CREDENTIALS_ENV)
    try:
        return _ask(provider)
    except click.Abort:
        raise click.UsageError(
            f"no credentials given: pass --credentials-file FILE or set {CREDENTIALS_ENV} "
            "(a JSON object of the provider's fields), or run in a terminal to be asked"
        ) from None
