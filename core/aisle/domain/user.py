"""People who sign in to a studio's workspace, and their roles."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

__all__ = ["ROLES", "Role", "User", "role_at_least"]

Role = Literal["owner", "admin", "editor", "viewer"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "admin", "owner")
"""Roles from least to most powerful."""


def role_at_least(role: str, required: Role) -> bool:
    """Whether ``role`` grants at least what ``required`` grants."""
    if role not in ROLES:
        return False
    return ROLES.index(role) >= ROLES.index(required)  # type: ignore[arg-type]


class User(msgspec.Struct, frozen=True, kw_only=True):
    """A member of one organization (the password hash never leaves storage)."""

    id: str
    organization_id: str
    email: str
    name: str = ""
    role: Role = "viewer"
    created_at: datetime | None = None
    disabled_at: datetime | None = None
