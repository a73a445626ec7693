"""Deliveries as Stripe sends them, for tests: an event body and its signature header.

The signature is computed here from Stripe's published scheme (HMAC-SHA256 of
``"<timestamp>.<body>"`` keyed with the whole ``whsec_…`` secret, sent as
``t=<timestamp>,v1=<hex>``), independently of the ``stripe`` package that verifies it.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Any

import msgspec

__all__ = ["signed_headers", "stripe_event"]


def stripe_event(
    type: str,
    obj: Mapping[str, Any],
    *,
    event_id: str = "evt_1Test",
    created: int | None = None,
    livemode: bool = False,
) -> bytes:
    """The JSON body Stripe posts for event ``type`` about ``obj``."""
    event = {
        "id": event_id,
        "object": "event",
        "api_version": "2024-06-20",
        "created": int(time.time()) if created is None else created,
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type,
        "data": {"object": dict(obj)},
    }
    return msgspec.json.encode(event)


def signed_headers(body: bytes, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """The headers of a delivery of ``body`` signed with ``secret`` at ``timestamp``."""
    at = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return {"content-type": "application/json", "stripe-signature": f"t={at},v1={mac}"}
