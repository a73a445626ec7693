"""API tokens: bearer credentials scoped to one organization and role."""

from __future__ import annotations

from datetime import datetime

import msgspec

from aisle.domain.user import Role

__all__ = ["ApiToken"]


class ApiToken(msgspec.Struct, frozen=True, kw_only=True):
    """A token as stored: only its hash is kept, ``prefix`` identifies it in lists."""

    id: str
    organization_id: str
    name: str
    role: Role
    prefix: str
    user_id: str | None = None
    created_at: datetime | None = None
    last_used_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None

    def usable(self, now: datetime) -> bool:
        """Not revoked and not expired at ``now``."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now
