"""Rendering actions without sending them: executor previews in bounded worker
processes, and their failures as problems.

Nothing here sends, stores or schedules anything: a preview runs the executor's
``preview`` (the same rendering its ``execute`` does) for the actions
:func:`aisle.services.readiness.step_actions` plans, so what is shown is what a run
would carry.
"""

from __future__ import annotations

import asyncio
import functools
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec

from aisle.bounded import BoundExceeded, run_bounded
from aisle.contracts.actions import ActionError, ActionExecutor
from aisle.services.errors import FieldError, Refused, config_error

__all__ = [
    "PREVIEW_SECONDS",
    "decode_action_config",
    "render_preview",
    "unsupported",
]

PREVIEW_SECONDS = 10.0
"""How long one preview may wait for a template worker and render before the API gives
up on it (each render is also bounded by ``AISLE_TEMPLATE_TIMEOUT_SECONDS``)."""

# A preview callable that cannot be pickled (a closure, in a test or a third-party
# plugin) cannot run in a worker process; it renders on a thread of its own instead,
# bounded in how long the request waits but not killed when it is given up on.
_IN_PROCESS = ThreadPoolExecutor(max_workers=4, thread_name_prefix="aisle-preview")

# Executors name the field at fault as "<executor> config field 'to'" or
# "template field 'subject'" (aisle_actions' convention; a plugin that does not follow
# it is reported against the whole config).
_FIELD = re.compile(r"\b(?P<kind>template|config) field '?(?P<field>[A-Za-z_][\w.\[\]]*)'?")


def decode_action_config(
    executor: ActionExecutor, raw: Mapping[str, Any], *, node_id: str | None = None
) -> Any:
    """``raw`` decoded into the executor's config schema, as the worker decodes a run's.

    :raises Refused: 422 naming the field (``config.<path>``) that does not decode.
    """
    try:
        return msgspec.convert(raw, executor.config, strict=False)
    except msgspec.ValidationError as exc:
        error = config_error(exc, "config", node_id=node_id)
        raise Refused(
            422,
            f"{executor.name} action, {error.field}: {error.message}",
            slug="invalid-config",
            title="Invalid action config",
            errors=[error],
            extra={"executor": executor.name},
        ) from None


def _failed(executor: str, exc: ActionError, node_id: str | None) -> Refused:
    message = str(exc)
    found = _FIELD.search(message)
    template = found is not None and found.group("kind") == "template"
    return Refused(
        422,
        message,
        slug="template-error" if template else "invalid-config",
        title="Template error" if template else "Invalid action config",
        errors=[
            FieldError(
                message=message,
                field=f"config.{found.group('field')}" if found else "config",
                node_id=node_id,
                code="template_error" if template else "invalid_config",
            )
        ],
        extra={"executor": executor},
    )


def unsupported(executor: ActionExecutor) -> Refused:
    """The executor cannot render what it would do (409: nothing in the request can fix it)."""
    return Refused(
        409,
        f"action executor {executor.name!r} has no preview: it does not render a message "
        "(only executors that implement ActionExecutor.preview, such as email and sms, do)",
        slug="preview-unsupported",
        title="Preview not supported",
        extra={"executor": executor.name},
    )


def _exceeded(executor: str, exc: BoundExceeded, node_id: str | None) -> Refused:
    message = str(exc)
    found = _FIELD.search(exc.where or "")
    return Refused(
        422,
        message,
        slug="template-error",
        title="Template error",
        errors=[
            FieldError(
                message=message,
                field=f"config.{found.group('field')}" if found else "config",
                node_id=node_id,
                code="template_timeout" if exc.bound == "time" else "template_too_large",
            )
        ],
        extra={"executor": executor},
    )


async def _render(
    executor: ActionExecutor,
    config: Any,
    contact: Mapping[str, Any],
    studio: Mapping[str, Any],
    organization: str,
) -> Mapping[str, Any]:
    assert executor.preview is not None
    try:
        shown: Mapping[str, Any] = await run_bounded(
            executor.preview, config, contact, studio, organization=organization
        )
    except TypeError:
        call = functools.partial(executor.preview, config, contact, studio)
        shown = await asyncio.get_running_loop().run_in_executor(_IN_PROCESS, call)
    return shown


async def render_preview(
    executor: ActionExecutor,
    config: Any,
    contact: Mapping[str, Any],
    studio: Mapping[str, Any],
    *,
    organization: str,
    node_id: str | None = None,
) -> dict[str, Any]:
    """What ``executor`` would send for ``config`` (already decoded), as JSON values.

    The preview runs in a bounded template worker, waiting in ``organization``'s queue
    (:func:`aisle.run_bounded`); given up on, it is withdrawn and its worker killed.

    :raises Refused: 409 when the executor has no preview; 422 naming the config or
        template field at fault, or when rendering overruns a template bound or takes
        longer than :data:`PREVIEW_SECONDS`.
    """
    if executor.preview is None:
        raise unsupported(executor)
    try:
        shown = await asyncio.wait_for(
            _render(executor, config, contact, studio, organization), timeout=PREVIEW_SECONDS
        )
    except BoundExceeded as exc:
        raise _exceeded(executor.name, exc, node_id) from None
    except ActionError as exc:
        raise _failed(executor.name, exc, node_id) from None
    except TimeoutError:
        raise Refused(
            422,
            f"rendering the {executor.name} action took longer than {PREVIEW_SECONDS:g} s; "
            "simplify its templates (loops over large ranges)",
            slug="template-error",
            title="Template error",
            errors=[
                FieldError(
                    message="rendering took too long",
                    field="config",
                    node_id=node_id,
                    code="template_timeout",
                )
            ],
            extra={"executor": executor.name},
        ) from None
    rendered: dict[str, Any] = msgspec.to_builtins(dict(shown))
    return rendered
