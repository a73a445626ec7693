"""Dubsado's side of the bridge for tests: Zapier's catch hooks and the studio's Zaps."""

from __future__ import annotations

from typing import Literal

from aisle.testing.zapier import FakeZapier, ZapSender
from aisle_crm_dubsado.provider import BRIDGE

__all__ = ["FakeDubsadoZapier", "dubsado_zaps"]


class FakeDubsadoZapier(FakeZapier):
    """Catch hooks for "create client" and "create project", verifying Aisle's
    signatures with the connection's ``secret``."""

    def __init__(self, secret: str) -> None:
        super().__init__(BRIDGE, secret)


def dubsado_zaps(
    secret: str, signing: Literal["standard_webhooks", "secret_header"] = "standard_webhooks"
) -> ZapSender:
    """The studio's Dubsado Zaps, posting to Aisle the way the connection says."""
    return ZapSender(secret, signing)
