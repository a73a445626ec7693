"""Access to a studio: API tokens, users and journey collaborators, managed as one acting
user (or operator) of one organization.

The API, the CLI and the demo seed create and revoke tokens through :class:`Access`
only, so every change is checked against the actor's role and logged the same way. A
token of a user acts no higher than that user's current role, so a token is never
given a role above its user's, and nobody grants a role above their own.
"""

from __future__ import annotations

from datetime import timedelta

from aisle.contracts.log import LogKind
from aisle.domain.api_token import ApiToken
from aisle.domain.user import ROLES, Role, User
from aisle.services.errors import FieldError, Refused
from aisle.services.roles import Actor, ensure_journey_role, ensure_may_manage, grantable
from aisle.storage.flow_log import Collaborator, CollaboratorRepository
from aisle.storage.store import OrgScope, Store

__all__ = ["Access"]


def _check_owner(owner: User, role: Role) -> None:
    """Refuse (422, naming ``role``) a token its user could not act as."""
    if owner.disabled_at is not None or ROLES.index(role) > ROLES.index(owner.role):
        reason = "is disabled" if owner.disabled_at else f"is {owner.role!r}"
        raise Refused(
            422,
            f"a token of user {owner.email} cannot have the {role!r} role: the user {reason}",
            errors=[FieldError(field="role", message=f"the user {reason}")],
        )


class Access:
    """The tokens, users and journey collaborators of ``scope``, managed as ``actor``.

    ``token_id`` is the token the actor calls with, if any: revoking it needs no role.
    """

    def __init__(
        self, store: Store, scope: OrgScope, actor: Actor, *, token_id: str | None = None
    ) -> None:
        self.store = store
        self.scope = scope
        self.actor = actor
        self.token_id = token_id
        self.collaborators = CollaboratorRepository(scope.org_id, store.db, store.clock)

    async def create_token(
        self,
        *,
        name: str,
        role: Role,
        user_id: str | None = None,
        expires_in_days: int | None = None,
    ) -> tuple[ApiToken, str]:
        """A new token and its plain text (stored only as a hash). It belongs to
        ``user_id``, else to the actor's own user (if the actor is one), and may not act
        above that user's role."""
        ensure_may_manage(self.actor, role, "creating tokens")
        owner_id = user_id if user_id is not None else self.actor.user_id
        if owner_id is not None:
            _check_owner(await self.scope.users.get(owner_id), role)
        expires = (
            self.store.clock.now() + timedelta(days=expires_in_days) if expires_in_days else None
        )
        async with self.store.transaction():
            token, plaintext = await self.scope.tokens.create(
                name=name, role=role, user_id=owner_id, expires_at=expires
            )
            await self.scope.log.append(
                LogKind.TOKEN_CREATED,
                actor=self.actor.actor,
                message=f"API token {token.prefix}… ({token.role}) created",
                data={"token_id": token.id, "role": token.role},
            )
        return token, plaintext

    async def revoke_token(self, token_id: str) -> ApiToken:
        """Revoke a token (its sessions end with it); the actor's own needs no role."""
        token = await self.scope.tokens.get(token_id)
        if token.id != self.token_id:
            ensure_may_manage(self.actor, token.role, "revoking another token")
        async with self.store.transaction():
            revoked = await self.scope.tokens.revoke(token.id)
            await self.scope.log.append(
                LogKind.TOKEN_REVOKED,
                actor=self.actor.actor,
                message=f"API token {token.prefix}… revoked",
                data={"token_id": token.id},
            )
        return revoked

    async def create_user(self, *, email: str, role: Role, name: str = "") -> User:
        ensure_may_manage(self.actor, role, "adding users")
        async with self.store.transaction():
            user = await self.scope.users.create(email=email, role=role, name=name)
            await self.scope.log.append(
                LogKind.USER_CREATED,
                actor=self.actor.actor,
                message=f"user {user.email} added as {user.role}",
                data={"user_id": user.id, "role": user.role},
            )
        return user

    async def set_role(self, user_id: str, role: Role) -> User:
        """Change a user's organization role (their tokens act no higher from now on)."""
        user = await self.scope.users.get(user_id)
        ensure_may_manage(self.actor, user.role, "changing roles")
        grantable(self.actor, role)
        async with self.store.transaction():
            changed = await self.scope.users.set_role(user.id, role)
            await self.scope.log.append(
                LogKind.USER_ROLE_CHANGED,
                actor=self.actor.actor,
                message=f"user {user.email}: {user.role} → {role}",
                data={"user_id": user.id, "old": user.role, "new": role},
            )
        return changed

    async def disable_user(self, user_id: str) -> None:
        """Disable a user: their tokens are revoked and their sessions end with them."""
        user = await self.scope.users.get(user_id)
        ensure_may_manage(self.actor, user.role, "disabling users")
        if user.id == self.actor.user_id:
            raise Refused(409, "you cannot disable yourself")
        async with self.store.transaction():
            await self.scope.users.disable(user.id)
            await self.scope.log.append(
                LogKind.USER_DISABLED,
                actor=self.actor.actor,
                message=f"user {user.email} disabled; their tokens revoked, sessions ended",
                data={"user_id": user.id},
            )

    async def set_collaborator(self, journey_id: str, user_id: str, role: Role) -> Collaborator:
        """Give a user ``role`` on one journey (``admin`` on that journey needed)."""
        journey = await self.scope.journeys.get(journey_id)
        user = await self.scope.users.get(user_id)
        await ensure_journey_role(
            self.actor, self.collaborators, journey.id, "admin", "managing collaborators"
        )
        grantable(self.actor, role)
        async with self.store.transaction():
            collaborator = await self.collaborators.set(journey.id, user.id, role)
            await self.scope.log.append(
                LogKind.JOURNEY_COLLABORATOR_SET,
                actor=self.actor.actor,
                journey_id=journey.id,
                message=f"{user.email} is {role} on this journey",
                data={"user_id": user.id, "role": role},
            )
        return collaborator

    async def remove_collaborator(self, journey_id: str, user_id: str) -> None:
        journey = await self.scope.journeys.get(journey_id)
        await ensure_journey_role(
            self.actor, self.collaborators, journey.id, "admin", "managing collaborators"
        )
        async with self.store.transaction():
            await self.collaborators.remove(journey.id, user_id)
            await self.scope.log.append(
                LogKind.JOURNEY_COLLABORATOR_REMOVED,
                actor=self.actor.actor,
                journey_id=journey.id,
                message=f"user {user_id} removed from this journey's collaborators",
                data={"user_id": user_id},
            )
