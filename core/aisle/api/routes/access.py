"""Access: API tokens (stored hashed), users with organization roles, journey
collaborators, and ``/me``.

A token of a user acts no higher than that user's current role, so demoting a user
demotes their tokens, and disabling a user revokes them; a token made by a user's
token belongs to that user unless another user is named, so no token outlives the
standing of whoever made it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import Meta

from aisle.api.deps import Call
from aisle.api.problems import FieldError, Problem
from aisle.api.roles import ensure_journey_role, ensure_may_manage, ensure_role, grantable
from aisle.contracts.log import LogKind
from aisle.domain.api_token import ApiToken
from aisle.domain.user import ROLES, Role, User
from aisle.storage.flow_log import Collaborator

__all__ = ["AccessController"]

Name = Annotated[str, Meta(min_length=1, max_length=200)]
# Spelled so Python and ECMA regexes (the OpenAPI document's) agree: their \s differ
# on \x1c-\x1f, \x85 and \ufeff.
Email = Annotated[
    str,
    Meta(
        max_length=320,
        pattern=r"^[^@\s\x00-\x1f\x7f-\x9f\ufeff]+@[^@\s\x00-\x1f\x7f-\x9f\ufeff]+$",
    ),
]


class TokenOut(msgspec.Struct, kw_only=True):
    id: str
    name: str
    role: Role
    prefix: str
    """The first characters of the token, to recognise it in lists."""
    user_id: str | None
    created_at: datetime | None
    last_used_at: datetime | None
    expires_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(TokenOut, kw_only=True):
    token: str
    """The token itself: shown once, stored only as a hash."""


class TokenIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Name
    role: Role
    """At most the caller's role, and at most the role of the user it belongs to."""
    user_id: Annotated[str, Meta(min_length=1, max_length=200)] | None = None
    """The user it belongs to; by default the caller's own user (if the caller is one)."""
    expires_in_days: Annotated[int, Meta(ge=1, le=3650)] | None = None


class TokenList(msgspec.Struct, kw_only=True):
    items: list[TokenOut]


class UserOut(msgspec.Struct, kw_only=True):
    id: str
    email: str
    name: str
    role: Role
    created_at: datetime | None
    disabled_at: datetime | None


class UserIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    email: Email
    role: Role
    name: Annotated[str, Meta(max_length=200)] = ""


class UserPatch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Role


class UserList(msgspec.Struct, kw_only=True):
    items: list[UserOut]


class CollaboratorIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Role


class CollaboratorList(msgspec.Struct, kw_only=True):
    items: list[Collaborator]


class MeOut(msgspec.Struct, kw_only=True):
    organization_id: str
    organization_slug: str
    role: Role
    token_id: str
    user_id: str | None


def token_out(token: ApiToken) -> TokenOut:
    return TokenOut(**{f: getattr(token, f) for f in TokenOut.__struct_fields__})


def user_out(user: User) -> UserOut:
    return UserOut(**{f: getattr(user, f) for f in UserOut.__struct_fields__})


class AccessController(Controller):
    path = "/"
    tags = ["access"]

    @get("/me", summary="Who this token is")
    async def me(self, call: Call) -> MeOut:
        org = await call.store.organizations.get(call.caller.organization_id)
        return MeOut(
            organization_id=org.id,
            organization_slug=org.slug,
            role=call.caller.role,
            token_id=call.caller.token_id,
            user_id=call.caller.user_id,
        )

    @get("/tokens", summary="List API tokens (not revoked)")
    async def list_tokens(self, call: Call) -> TokenList:
        ensure_role(call.caller, "admin", "listing tokens")
        return TokenList(items=[token_out(t) for t in await call.scope.tokens.list()])

    @post("/tokens", summary="Create an API token (shown once)", status_code=HTTP_201_CREATED)
    async def create_token(self, call: Call, data: JSONBody[TokenIn]) -> TokenCreated:
        ensure_may_manage(call.caller, data.role, "creating tokens")
        user_id = data.user_id if data.user_id is not None else call.caller.user_id
        if user_id is not None:
            owner = await call.scope.users.get(user_id)
            if owner.disabled_at is not None or ROLES.index(data.role) > ROLES.index(owner.role):
                reason = "is disabled" if owner.disabled_at else f"is {owner.role!r}"
                raise Problem(
                    422,
                    f"a token of user {owner.email} cannot have the {data.role!r} role: "
                    f"the user {reason}",
                    errors=[FieldError(field="role", message=f"the user {reason}")],
                )
        expires = (
            call.store.clock.now() + timedelta(days=data.expires_in_days)
            if data.expires_in_days
            else None
        )
        async with call.store.transaction():
            token, plaintext = await call.scope.tokens.create(
                name=data.name, role=data.role, user_id=user_id, expires_at=expires
            )
            await call.scope.log.append(
                LogKind.TOKEN_CREATED,
                actor=call.caller.actor,
                message=f"API token {token.prefix}… ({token.role}) created",
                data={"token_id": token.id, "role": token.role},
            )
        return TokenCreated(**msgspec.structs.asdict(token_out(token)), token=plaintext)

    @delete(
        "/tokens/{token_id:str}", summary="Revoke an API token", status_code=HTTP_204_NO_CONTENT
    )
    async def revoke_token(self, call: Call, token_id: FromPath[str]) -> None:
        token = await call.scope.tokens.get(token_id)
        if token.id != call.caller.token_id:
            ensure_may_manage(call.caller, token.role, "revoking another token")
        async with call.store.transaction():
            await call.scope.tokens.revoke(token.id)
            await call.scope.log.append(
                LogKind.TOKEN_REVOKED,
                actor=call.caller.actor,
                message=f"API token {token.prefix}… revoked",
                data={"token_id": token.id},
            )

    @get("/users", summary="List users")
    async def list_users(self, call: Call) -> UserList:
        ensure_role(call.caller, "admin", "listing users")
        return UserList(items=[user_out(u) for u in await call.scope.users.list()])

    @post("/users", summary="Add a user", status_code=HTTP_201_CREATED)
    async def create_user(self, call: Call, data: JSONBody[UserIn]) -> UserOut:
        ensure_may_manage(call.caller, data.role, "adding users")
        async with call.store.transaction():
            user = await call.scope.users.create(email=data.email, role=data.role, name=data.name)
            await call.scope.log.append(
                LogKind.USER_CREATED,
                actor=call.caller.actor,
                message=f"user {user.email} added as {user.role}",
                data={"user_id": user.id, "role": user.role},
            )
        return user_out(user)

    @get("/users/{user_id:str}", summary="Read a user")
    async def get_user(self, call: Call, user_id: FromPath[str]) -> UserOut:
        user = await call.scope.users.get(user_id)
        if user.id != call.caller.user_id:
            ensure_role(call.caller, "admin", "reading other users")
        return user_out(user)

    @patch("/users/{user_id:str}", summary="Change a user's role")
    async def patch_user(
        self, call: Call, user_id: FromPath[str], data: JSONBody[UserPatch]
    ) -> UserOut:
        user = await call.scope.users.get(user_id)
        ensure_may_manage(call.caller, user.role, "changing roles")
        grantable(call.caller, data.role)
        async with call.store.transaction():
            changed = await call.scope.users.set_role(user.id, data.role)
            await call.scope.log.append(
                LogKind.USER_ROLE_CHANGED,
                actor=call.caller.actor,
                message=f"user {user.email}: {user.role} → {data.role}",
                data={"user_id": user.id, "old": user.role, "new": data.role},
            )
        return user_out(changed)

    @delete("/users/{user_id:str}", summary="Disable a user", status_code=HTTP_204_NO_CONTENT)
    async def disable_user(self, call: Call, user_id: FromPath[str]) -> None:
        user = await call.scope.users.get(user_id)
        ensure_may_manage(call.caller, user.role, "disabling users")
        if user.id == call.caller.user_id:
            raise Problem(409, "you cannot disable yourself")
        async with call.store.transaction():
            # Their tokens are revoked and their sessions end in the same transaction.
            await call.scope.users.disable(user.id)
            await call.scope.log.append(
                LogKind.USER_DISABLED,
                actor=call.caller.actor,
                message=f"user {user.email} disabled; their tokens revoked, sessions ended",
                data={"user_id": user.id},
            )

    @get("/journeys/{journey_id:str}/collaborators", summary="A journey's collaborators")
    async def list_collaborators(self, call: Call, journey_id: FromPath[str]) -> CollaboratorList:
        journey = await call.scope.journeys.get(journey_id)
        return CollaboratorList(items=await call.collaborators.list(journey.id))

    @put(
        "/journeys/{journey_id:str}/collaborators/{user_id:str}",
        summary="Give a user a role on one journey",
    )
    async def set_collaborator(
        self,
        call: Call,
        journey_id: FromPath[str],
        user_id: FromPath[str],
        data: JSONBody[CollaboratorIn],
    ) -> Collaborator:
        journey = await call.scope.journeys.get(journey_id)
        user = await call.scope.users.get(user_id)
        await ensure_journey_role(call, journey.id, "admin", "managing collaborators")
        grantable(call.caller, data.role)
        async with call.store.transaction():
            collaborator = await call.collaborators.set(journey.id, user.id, data.role)
            await call.scope.log.append(
                LogKind.JOURNEY_COLLABORATOR_SET,
                actor=call.caller.actor,
                journey_id=journey.id,
                message=f"{user.email} is {data.role} on this journey",
                data={"user_id": user.id, "role": data.role},
            )
        return collaborator

    @delete(
        "/journeys/{journey_id:str}/collaborators/{user_id:str}",
        summary="Remove a journey collaborator",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def remove_collaborator(
        self, call: Call, journey_id: FromPath[str], user_id: FromPath[str]
    ) -> None:
        journey = await call.scope.journeys.get(journey_id)
        await ensure_journey_role(call, journey.id, "admin", "managing collaborators")
        async with call.store.transaction():
            await call.collaborators.remove(journey.id, user_id)
            await call.scope.log.append(
                LogKind.JOURNEY_COLLABORATOR_REMOVED,
                actor=call.caller.actor,
                journey_id=journey.id,
                message=f"user {user_id} removed from this journey's collaborators",
                data={"user_id": user_id},
            )
