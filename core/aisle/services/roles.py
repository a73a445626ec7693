"""Who may do what, the one rule every entry point and service applies: organization
roles, and journey collaborator roles on top (a user's role on one journey raises, never
lowers, theirs).

``viewer`` reads; ``editor`` edits drafts, contacts and the runtime; ``admin``
publishes, rolls back, migrates enrollments, manages tokens, users and collaborators;
``owner`` may also grant ``owner``. A refusal is a 403 :class:`Refused` naming the
``required_role``.
"""

from __future__ import annotations

from typing import Protocol

import msgspec

from aisle.domain.user import ROLES, Role, role_at_least
from aisle.services.errors import Refused
from aisle.storage.flow_log import CollaboratorRepository

__all__ = [
    "Actor",
    "Operator",
    "ensure_journey_role",
    "ensure_may_manage",
    "ensure_role",
    "grantable",
]


class Actor(Protocol):
    """Who acts: their organization role, their user (if any) and how the log names them."""

    @property
    def role(self) -> Role: ...

    @property
    def user_id(self) -> str | None: ...

    @property
    def actor(self) -> str: ...


def _forbidden(actor: Actor, needed: Role, what: str) -> Refused:
    return Refused(
        403,
        f"{what} needs the {needed!r} role; this token has {actor.role!r}",
        extra={"required_role": needed},
    )


def ensure_role(actor: Actor, needed: Role, what: str = "this request") -> None:
    """Refuse (403) unless the actor's organization role is at least ``needed``."""
    if not role_at_least(actor.role, needed):
        raise _forbidden(actor, needed, what)


async def ensure_journey_role(
    actor: Actor,
    collaborators: CollaboratorRepository,
    journey_id: str,
    needed: Role,
    what: str = "this request",
) -> None:
    """Refuse (403) unless the actor may act as ``needed`` on this journey (organization
    role or collaborator role). Call after the journey was found in the organization."""
    if role_at_least(actor.role, needed):
        return
    if actor.user_id is not None:
        extra = await collaborators.role(journey_id, actor.user_id)
        if extra is not None and role_at_least(extra, needed):
            return
    raise _forbidden(actor, needed, what)


def ensure_may_manage(actor: Actor, role: Role, what: str) -> None:
    """Creating, changing or revoking a token or user of ``role``: an admin's act, and
    only for roles up to the actor's own."""
    ensure_role(actor, "admin", what)
    grantable(actor, role)


def grantable(actor: Actor, role: Role) -> None:
    """Refuse (403) a role above the actor's own (admins cannot create owners)."""
    if ROLES.index(role) > ROLES.index(actor.role):
        raise Refused(
            403,
            f"a {actor.role!r} cannot grant the {role!r} role",
            extra={"required_role": role},
        )


class Operator(msgspec.Struct, frozen=True, kw_only=True):
    """Someone acting from the command line or a seed, with the organization's full
    rights; the log names them ``actor``."""

    actor: str
    role: Role = "owner"
    user_id: str | None = None
