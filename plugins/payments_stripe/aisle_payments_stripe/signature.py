"""The studio's endpoint signing secret, and checking a delivery's ``Stripe-Signature``
with the ``stripe`` package (the signature scheme is Stripe's to define, so its own
code checks it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

import msgspec
import stripe

from aisle import WebhookRefused

__all__ = ["TOLERANCE_SECONDS", "StripeSecret", "verify"]

TOLERANCE_SECONDS = 300
"""How old a signature's timestamp may be (Stripe's own default): an older delivery is a
replay, or a clock too far off to trust."""


class StripeSecret(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a studio pastes from Stripe: the webhook endpoint's signing secret."""

    signing_secret: Annotated[
        str,
        msgspec.Meta(
            pattern=r"^whsec_[A-Za-z0-9+/=_-]{8,200}$",
            description="The endpoint's signing secret in Stripe (whsec_…), shown under "
            "Developers → Webhooks → your endpoint → Signing secret.",
        ),
    ]

    def __repr__(self) -> str:  # the secret never reaches a log line or an error
        return "StripeSecret(signing_secret=<hidden>)"


def verify(headers: Mapping[str, str], body: bytes, secret: StripeSecret) -> None:
    """Accept a genuine, recent delivery; raise :class:`~aisle.WebhookRefused` otherwise."""
    header = headers.get("stripe-signature")
    if not header:
        raise WebhookRefused("no Stripe-Signature header")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise WebhookRefused("the body is not UTF-8 (Stripe signs JSON text)") from None
    try:
        stripe.WebhookSignature.verify_header(
            text, header, secret.signing_secret, tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError as exc:
        # Our own words: the library's error carries the header and the body.
        raise WebhookRefused(_reason(str(exc))) from None


def _reason(message: str) -> str:
    if "tolerance" in message:
        return (
            f"the signature's timestamp is more than {TOLERANCE_SECONDS} s old "
            "(a replayed delivery, or a clock far off)"
        )
    if "matching the expected signature" in message:
        return (
            "the signature does not match the body (another endpoint's signing secret, "
            "or a changed body)"
        )
    return "the Stripe-Signature header is malformed or carries no v1 signature"
