"""Access: API tokens (stored hashed), users with organization roles, journey
collaborators, and ``/me``.

A token of a user acts no higher than that user's current role, so demoting a user
demotes their tokens, and disabling a user revokes them; a token made by a user's
token belongs to that user unless another user is named, so no token outlives the
standing of whoever made it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from litestar import Controller, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import Meta

from aisle.api.context import ApiCall
from aisle.api.deps import Call
from aisle.domain.api_token import ApiToken
from aisle.domain.user import Role, User
from aisle.services.access import Access
from aisle.services.roles import ensure_role
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


def access_for(call: ApiCall) -> Access:
    """Managing the caller's studio's access, as the caller."""
    return Access(call.store, call.scope, call.caller, token_id=call.caller.token_id)


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
        token, plaintext = await access_for(call).create_token(
            name=data.name,
            role=data.role,
            user_id=data.user_id,
            expires_in_days=data.expires_in_days,
        )
        return TokenCreated(**msgspec.structs.asdict(token_out(token)), token=plaintext)

    @delete(
        "/tokens/{token_id:str}", summary="Revoke an API token", status_code=HTTP_204_NO_CONTENT
    )
    async def revoke_token(self, call: Call, token_id: FromPath[str]) -> None:
        await access_for(call).revoke_token(token_id)

    @get("/users", summary="List users")
    async def list_users(self, call: Call) -> UserList:
        ensure_role(call.caller, "admin", "listing users")
        return UserList(items=[user_out(u) for u in await call.scope.users.list()])

    @post("/users", summary="Add a user", status_code=HTTP_201_CREATED)
    async def create_user(self, call: Call, data: JSONBody[UserIn]) -> UserOut:
        user = await access_for(call).create_user(email=data.email, role=data.role, name=data.name)
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
        return user_out(await access_for(call).set_role(user_id, data.role))

    @delete("/users/{user_id:str}", summary="Disable a user", status_code=HTTP_204_NO_CONTENT)
    async def disable_user(self, call: Call, user_id: FromPath[str]) -> None:
        await access_for(call).disable_user(user_id)

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
        return await access_for(call).set_collaborator(journey_id, user_id, data.role)

    @delete(
        "/journeys/{journey_id:str}/collaborators/{user_id:str}",
        summary="Remove a journey collaborator",
        status_code=HTTP_204_NO_CONTENT,
    )
    async def remove_collaborator(
        self, call: Call, journey_id: FromPath[str], user_id: FromPath[str]
    ) -> None:
        await access_for(call).remove_collaborator(journey_id, user_id)
