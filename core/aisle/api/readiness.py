"""Whether a journey can run here: each action a step would request, checked by its executor.

Validation says whether a graph is well formed; this says whether this deployment and
this studio can carry it out (an SMTP host, a sender, a signing secret). Every step is
entered as an enrollment arriving there would (for the preview's sample couple), each
action it requests is decoded into its executor's config, and the executor's ``check``
lists what is missing. Each problem becomes a validation :class:`Issue` naming the step
and ``config.<field>``, so the canvas highlights it like any other error.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from aisle.api.previews import sample_couple, step_actions
from aisle.api.problems import Problem, config_error
from aisle.contracts.actions import CheckContext
from aisle.contracts.registry import Registry
from aisle.domain.organization import Organization
from aisle.engine.compiled import CompiledJourney
from aisle.engine.validation import Issue
from aisle.jobs.execute import studio_view
from aisle.settings import Settings

__all__ = ["SECRET_NAME", "action_issues", "check_context"]

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


def check_context(settings: Settings, org: Organization) -> CheckContext:
    """What executors' checks see for ``org`` under ``settings``: secret-named studio
    settings (a webhook secret's fingerprint) only as set or not."""
    studio = _conceal(studio_view(org))
    return CheckContext(
        production=not settings.embedded, studio=studio, environ=dict(settings.environ)
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
        except Problem:
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
