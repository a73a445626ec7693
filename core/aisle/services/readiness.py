"""Whether a journey can run here: each action a step would request, checked by its executor.

Validation says whether a graph is well formed; this says whether this deployment and
this studio can carry it out (an SMTP host, a sender, a signing secret). Every step is
entered as an enrollment arriving there would (:func:`step_actions`, for the sample
couple of :func:`sample_couple`), each action it requests is decoded into its
executor's config, and the executor's ``check`` lists what is missing. Each problem
becomes a validation :class:`Issue` naming the step and ``config.<field>``, so the
canvas highlights it like any other error. Previews render the same planned actions.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

import msgspec

from aisle.contracts.actions import CheckConnection, CheckContext
from aisle.contracts.registry import Registry
from aisle.domain.contact import Contact, Partner
from aisle.domain.crm_connection import CRMConnection
from aisle.domain.organization import Organization, studio_view
from aisle.engine.compiled import CompiledJourney
from aisle.engine.core import start
from aisle.engine.effects import PlannedAction
from aisle.engine.validation import Issue
from aisle.services.errors import FieldError, Refused, config_error
from aisle.settings import Settings

__all__ = [
    "SECRET_NAME",
    "action_issues",
    "check_context",
    "sample_couple",
    "step_actions",
]

log = logging.getLogger(__name__)

SECRET_NAME = re.compile(r"pass|token|secret|key|auth|credential", re.IGNORECASE)
"""A studio setting whose name matches holds a secret: a check sees only whether it is set."""


def _conceal(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            str(k): bool(v) if SECRET_NAME.search(str(k)) else _conceal(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_conceal(v) for v in value]
    return value


_ENROLLMENT = "preview"


def sample_couple(today: date) -> Contact:
    """The couple a preview renders for when none is named: both partners with an
    address and a phone, marrying on a Saturday about six months after ``today``, in
    the studio's timezone."""
    day = today + timedelta(days=182)
    day += timedelta(days=(5 - day.weekday()) % 7)
    return Contact(
        id="sample",
        partners=(
            Partner(
                first_name="Alex",
                last_name="Morgan",
                email="alex@example.com",
                phone="+12025550142",
            ),
            Partner(
                first_name="Sam", last_name="Rivera", email="sam@example.com", phone="+12025550173"
            ),
        ),
        email="alex@example.com",
        phone="+12025550142",
        wedding_date=day,
        venue="The Old Barn",
    )


def step_actions(
    compiled: CompiledJourney, step_id: str, contact: Contact, now: datetime
) -> list[tuple[str, PlannedAction]]:
    """The actions entering ``step_id`` would plan for ``contact`` at ``now``, each with
    the key the node type gave it.

    The engine enters the step exactly as an enrollment arriving there would (its node
    type's ``on_enter``, the config it maps into each action); steps the enrollment
    would move on to at once are not included.

    :raises Refused: 422 naming the step when entering it fails.
    """
    entered = dataclasses.replace(compiled, start_step=step_id)
    transition = start(entered, _ENROLLMENT, contact, now)
    state = transition.state
    if state.status == "failed" and state.step_id == step_id and state.visit == 1:
        reason = state.error or "the step failed"
        raise Refused(
            422,
            f"step {step_id!r} cannot be previewed: {reason}",
            slug="preview-failed",
            title="Preview failed",
            errors=[FieldError(message=reason, node_id=step_id)],
        )
    # Action runs are keyed {enrollment}:{visit}:{step}:{key}; this visit is the first.
    prefix = f"{_ENROLLMENT}:1:{step_id}:"
    return [
        (a.idempotency_key.removeprefix(prefix), a)
        for a in transition.actions
        if a.idempotency_key.startswith(prefix)
    ]


def check_context(
    settings: Settings,
    org: Organization,
    *,
    registry: Registry | None = None,
    connections: Sequence[CRMConnection] = (),
) -> CheckContext:
    """What executors' checks see for ``org`` under ``settings``: secret-named studio
    settings (a webhook secret's fingerprint) only as set or not, and the studio's
    enabled CRM connections with what their providers (in ``registry``) can do."""
    studio = _conceal(studio_view(org))
    providers = registry.crm_providers if registry is not None else {}
    crm = tuple(
        CheckConnection(
            provider=c.provider,
            direction=c.direction,
            capabilities=frozenset(providers[c.provider].capabilities),
            push_kinds=tuple(providers[c.provider].push_kinds),
        )
        if c.provider in providers
        else CheckConnection(provider=c.provider, direction=c.direction)
        for c in connections
        if c.enabled
    )
    return CheckContext(
        production=not settings.embedded,
        studio=studio,
        environ=dict(settings.environ),
        crm_connections=crm,
    )


def action_issues(
    compiled: CompiledJourney, registry: Registry, context: CheckContext, now: datetime
) -> list[Issue]:
    """Every reason an action of ``compiled`` could not run under ``context``."""
    couple = sample_couple(now.date())
    issues: list[Issue] = []
    for step_id in compiled.steps:
        try:
            planned = step_actions(compiled, step_id, couple, now)
        except Refused:
            # A step that fails on entry for the sample couple depends on the contact,
            # not on the deployment: previews report it, publishing does not.
            continue
        for _key, action in planned:
            issues.extend(_check(registry, step_id, action.executor, action.config, context))
    return issues


def _check(
    registry: Registry,
    step_id: str,
    name: str,
    raw: Mapping[str, Any],
    context: CheckContext,
) -> list[Issue]:
    executor = registry.action_executors.get(name)
    if executor is None:
        return [
            Issue(
                code="unknown_executor",
                severity="error",
                message=f"no action executor named {name!r} is installed; every run of "
                "this step would fail",
                node_id=step_id,
            )
        ]
    try:
        config = msgspec.convert(raw, executor.config, strict=False)
    except msgspec.ValidationError as exc:
        error = config_error(exc, "config", node_id=step_id)
        return [
            Issue(
                code="invalid_config",
                severity="error",
                message=f"{name} action: {error.message}",
                node_id=step_id,
                field=error.field,
            )
        ]
    if executor.check is None:
        return []
    try:
        problems = list(executor.check(config, context))
    except Exception as exc:
        # A faulty check must not hide the journey's other issues or block publishing
        # by itself: it is reported as a warning and logged for the plugin's author.
        log.warning("check of action executor %r failed", name, exc_info=True)
        return [
            Issue(
                code="check_failed",
                severity="warning",
                message=f"the {name} executor's check failed: {type(exc).__name__}",
                node_id=step_id,
            )
        ]
    return [
        Issue(
            code=problem.code,
            severity="error",
            message=f"{name} action: {problem.message}",
            node_id=step_id,
            field=f"config.{problem.field}" if problem.field else None,
        )
        for problem in problems
    ]
