"""What a studio enters to connect Tave: its API key, and where the API lives."""

from __future__ import annotations

import msgspec

__all__ = ["DEFAULT_BASE_URL", "Credentials"]

DEFAULT_BASE_URL = "https://workspace.vsco.co/api/v2"
"""The Workspace API's production server (``https://tave.io/v2`` is its legacy name)."""


class Credentials(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The studio's API key (Settings → API in VSCO Workspace) and the API's address."""

    api_key: str
    base_url: str = DEFAULT_BASE_URL

    def __repr__(self) -> str:
        return f"Credentials(base_url={self.base_url!r}, api_key=<hidden>)"
