"""Who may do what: organization roles, and journey collaborator roles on top.

``viewer`` reads; ``editor`` edits drafts, contacts and the runtime; ``admin``
publishes, rolls back, migrates enrollments, manages tokens, users and collaborators;
``owner`` may also grant ``owner``. A user's collaborator role on one journey raises
(never lowers) what they may do on that journey.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from aisle.api.context import ApiCall, Caller
from aisle.api.problems import Problem
from aisle.domain.user import ROLES, Role, role_at_least

__all__ = ["ensure_journey_role", "ensure_may_manage", "ensure_role", "grantable", "requires"]


def _forbidden(caller: Caller, needed: Role, what: str) -> Problem:
    return Problem(
        403,
        f"{what} needs the {needed!r} role; this token has {caller.role!r}",
        extra={"required_role": needed},
    )


def ensure_role(caller: Caller, needed: Role, what: str = "this request") -> None:
    if not role_at_least(caller.role, needed):
        raise _forbidden(caller, needed, what)


def requires(needed: Role) -> Any:
    """A Litestar guard: the caller's organization role is at least ``needed``."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        caller: Caller = connection.user
        ensure_role(caller, needed)

    guard.__name__ = f"requires_{needed}"
    return guard


async def ensure_journey_role(
    call: ApiCall, journey_id: str, needed: Role, what: str = "this request"
) -> None:
    """The caller may act as ``needed`` on this journey (org role or collaborator role).

    Call after the journey was found in the caller's organization.
    """
    caller = call.caller
    if role_at_least(caller.role, needed):
        return
    if caller.user_id is not None:
        extra = await call.collaborators.role(journey_id, caller.user_id)
        if extra is not None and role_at_least(extra, needed):
            return
    raise _forbidden(caller, needed, what)


def ensure_may_manage(caller: Caller, role: Role, what: str) -> None:
    """Creating, changing or revoking a token or user of ``role``: an admin's act, and
    only for roles up to the caller's own."""
    ensure_role(caller, "admin", what)
    grantable(caller, role)


def grantable(caller: Caller, role: Role) -> None:
    """A caller may hand out roles up to their own (admins cannot create owners)."""
    if ROLES.index(role) > ROLES.index(caller.role):
        raise Problem(
            403,
            f"a {caller.role!r} cannot grant the {role!r} role",
            extra={"required_role": role},
        )
