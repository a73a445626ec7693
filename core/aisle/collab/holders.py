"""Who acts on locks and presence: the acting user (or token) as a lock holder."""

from __future__ import annotations

from typing import Protocol

import msgspec

from aisle.services.roles import Actor
from aisle.storage.store import OrgScope

__all__ = ["Holder", "Participant", "holder_id", "holder_of"]


class Participant(Actor, Protocol):
    """An :class:`~aisle.services.roles.Actor` that came in with an API token (the API's
    caller is one): a token without a user holds locks in the token's name."""

    @property
    def token_id(self) -> str: ...


class Holder(msgspec.Struct, frozen=True, kw_only=True):
    """Who holds (or asks for) a lease: a user id (or ``token:<id>`` for a token with
    no user), the name others see, and the presence session it comes from."""

    id: str
    name: str = ""
    session_id: str | None = None


def holder_id(actor: Participant) -> str:
    """How locks name an actor: the user id, or ``token:<id>`` for a token with no user."""
    return actor.user_id or f"token:{actor.token_id}"


async def holder_of(scope: OrgScope, actor: Participant, session_id: str | None = None) -> Holder:
    """The actor as a lock holder, with the name other people will see."""
    if actor.user_id is not None:
        user = await scope.users.get(actor.user_id)
        return Holder(id=user.id, name=user.name or user.email, session_id=session_id)
    token = await scope.tokens.get(actor.token_id)
    return Holder(
        id=holder_id(actor), name=f"API token {token.name}".strip(), session_id=session_id
    )
