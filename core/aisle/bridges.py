"""Zapier bridges: CRMs without a public API (HoneyBook, Dubsado…) reached through Zaps.

A studio makes one Zap per trigger of its CRM's Zapier app; each Zap posts the trigger's
fields as JSON to the connection's inbound URL (``POST /api/v1/inbound/crm/<id>``) with
``"trigger"`` naming which one. Aisle pushes the other way by posting to the studio's
Zap catch hooks ("create client", "create project"). A :class:`ZapierBridge` declares
the triggers, the payload's contact fields and the catch hooks once; :meth:`ZapierBridge.
provider` builds the :class:`~aisle.CRMProvider` from it.

Deliveries are authenticated one of two ways, which the connection's ``signing`` says:

``standard_webhooks``
    the Zap signs like `Standard Webhooks <https://www.standardwebhooks.com>`_
    (``webhook-id``, ``webhook-timestamp``, ``webhook-signature``: an HMAC-SHA256 of
    ``id.timestamp.body`` keyed with a ``whsec_`` secret); a timestamp more than five
    minutes away from now is refused, so a captured delivery cannot be replayed later.
``secret_header``
    for a Zap without a code step, which cannot sign: the secret itself travels in
    ``X-Aisle-Bridge-Secret`` (over TLS) and is compared in constant time.

The contract hands ``verify_webhook`` only the secret, so the secret's form carries the
mode: :class:`BridgeCredentials` holds a ``whsec_`` secret exactly when ``signing`` is
``standard_webhooks``. A replay within the tolerance is a no-op because each parsed event's
idempotency key names the trigger and the Zap's record (or the ``webhook-id``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Annotated, Any, Literal

import httpx
import msgspec
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from aisle.contracts.actions import PermanentError
from aisle.contracts.crm import (
    CRMProvider,
    ExternalRecord,
    InboundEvent,
    Page,
    RateLimited,
    WebhookRefused,
)

__all__ = [
    "CLIENT_AND_PROJECT_HOOKS",
    "SECRET_HEADER",
    "SIGNING_MODES",
    "TOLERANCE_SECONDS",
    "ZAP_CONTACT_FIELDS",
    "BridgeClient",
    "BridgeCredentials",
    "CatchHook",
    "ZapTrigger",
    "ZapierBridge",
    "sign_delivery",
]

SECRET_HEADER = "X-Aisle-Bridge-Secret"  # noqa: S105 (a header name)
"""The header a Zap that cannot sign sends the connection's secret in."""

SIGNING_MODES: Mapping[str, str] = {
    "standard_webhooks": "the Zap signs each delivery (Standard Webhooks, a whsec_ secret)",
    "secret_header": f"the Zap sends the secret in {SECRET_HEADER} (no code step needed)",
}

TOLERANCE_SECONDS = 300
"""How far a signed delivery's ``webhook-timestamp`` may be from now."""

_WHSEC = "whsec_"
_MIN_HEADER_SECRET = 24  # a shared secret sent as is must not be guessable
_RESERVED = frozenset({"action", "record_id"})
_DEFAULT_RETRY_AFTER = 60.0  # Zapier's 429s do not always say how long to wait


def _whsec_key(secret: str) -> bytes | None:
    """The HMAC key of a ``whsec_`` secret, ``None`` when ``secret`` is not one."""
    if not secret.startswith(_WHSEC):
        return None
    encoded = secret[len(_WHSEC) :]
    try:
        # Some senders strip base64's padding; put it back before decoding strictly.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    return key or None


def _signing_key(secret: str) -> bytes:
    """What outbound posts are signed with: a ``whsec_`` secret's key, else its bytes."""
    return _whsec_key(secret) or secret.encode()


class BridgeCredentials(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A bridge connection's secret and how its Zaps present it.

    A provider subclasses it to add its catch-hook URLs (``clients_hook_url``…). The
    catch-hook URLs are secrets too (anyone holding one runs the Zap), so the ``repr``
    shows neither them nor the secret.
    """

    webhook_secret: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            description=(
                "standard_webhooks: a whsec_ secret (whsec_ and base64); secret_header: "
                f"a random string of at least {_MIN_HEADER_SECRET} characters"
            ),
        ),
    ]
    signing: Literal["standard_webhooks", "secret_header"] = "standard_webhooks"

    def __post_init__(self) -> None:
        is_whsec = self.webhook_secret.startswith(_WHSEC)
        if self.signing == "standard_webhooks" and _whsec_key(self.webhook_secret) is None:
            raise ValueError(
                "webhook_secret: signing 'standard_webhooks' takes a whsec_ secret "
                "(whsec_ followed by base64)"
            )
        if self.signing == "secret_header" and (
            is_whsec or len(self.webhook_secret) < _MIN_HEADER_SECRET
        ):
            raise ValueError(
                "webhook_secret: signing 'secret_header' takes a random string of at least "
                f"{_MIN_HEADER_SECRET} characters, not a whsec_ secret"
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(signing={self.signing!r}, secrets hidden)"


@dataclass(frozen=True, kw_only=True)
class ZapTrigger:
    """One trigger of the CRM's Zapier app, as its Zap posts it.

    ``name`` is the ``"trigger"`` value the Zap sends; ``label`` the trigger as Zapier
    lists it; ``event_type`` the Aisle event it becomes. ``key_fields`` are the payload
    fields that identify one occurrence (the record's ``id``, plus what changed for a
    trigger that fires again on the same record), so a redelivery repeats the key.
    ``client_id_field`` holds the CRM's id of the couple.
    """

    name: str
    label: str
    event_type: str
    key_fields: tuple[str, ...] = ("id",)
    client_id_field: str = "client_id"


@dataclass(frozen=True, kw_only=True)
class CatchHook:
    """A Zap that catches Aisle's pushes of one kind of record.

    ``url_field`` names the credentials field holding the catch-hook URL; ``action`` is
    the ``"action"`` value of a create (an update sends ``update_`` instead of
    ``create_``), ``label`` what the Zap does in the CRM.
    """

    kind: str
    action: str
    label: str
    url_field: str


@dataclass(frozen=True, kw_only=True)
class ZapierBridge:
    """What a CRM's Zapier app offers: its triggers, contact fields and catch hooks.

    ``contact_fields`` maps Aisle contact fields to the payload field names the Zaps
    send (it becomes the provider's ``field_mapping``).
    """

    app: str
    triggers: tuple[ZapTrigger, ...]
    contact_fields: Mapping[str, str]
    catch_hooks: tuple[CatchHook, ...] = ()
    _by_name: Mapping[str, ZapTrigger] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = [t.name for t in self.triggers]
        if not names or len(names) != len(set(names)):
            raise ValueError(f"{self.app} bridge: name each trigger once (got {names})")
        kinds = [h.kind for h in self.catch_hooks]
        if len(kinds) != len(set(kinds)):
            raise ValueError(f"{self.app} bridge: one catch hook per kind (got {kinds})")
        clash = sorted(_RESERVED & set(self.contact_fields.values()))
        if clash:
            raise ValueError(f"{self.app} bridge: {clash} are reserved in pushed payloads")
        object.__setattr__(self, "_by_name", {t.name: t for t in self.triggers})

    def trigger(self, name: str) -> ZapTrigger:
        """:raises ValueError: the bridge has no trigger ``name``."""
        found = self._by_name.get(name)
        if found is None:
            raise ValueError(
                f"{self.app} bridge: unknown trigger {name!r}; expected one of "
                f"{', '.join(self._by_name)}"
            )
        return found

    def hook(self, kind: str) -> CatchHook:
        """:raises PermanentError: no catch hook takes ``kind``."""
        for hook in self.catch_hooks:
            if hook.kind == kind:
                return hook
        raise PermanentError(
            f"the {self.app} bridge pushes {', '.join(h.kind for h in self.catch_hooks)}, "
            f"not {kind!r}"
        )

    # -- inbound ----------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes, secret: str) -> bool:
        """Whether the delivery carries the connection's signature (or secret header).

        :raises WebhookRefused: a signed delivery's timestamp is missing its mark by more
            than :data:`TOLERANCE_SECONDS` (a replay or a stuck Zap), or no secret is set.
        """
        if not secret:
            raise WebhookRefused("the connection has no webhook secret")
        lowered = {k.lower(): v for k, v in headers.items()}
        key = _whsec_key(secret)
        if key is None:
            presented = lowered.get(SECRET_HEADER.lower())
            return presented is not None and hmac.compare_digest(
                presented.encode(), secret.encode()
            )
        wanted = ("webhook-id", "webhook-timestamp", "webhook-signature")
        if not all(lowered.get(name) for name in wanted):
            return False
        _check_timestamp(lowered["webhook-timestamp"])
        try:
            Webhook(key).verify(body, lowered, json_parse=False)
        except (WebhookVerificationError, ValueError, binascii.Error):
            # ValueError covers undecodable bodies and malformed signature lists.
            return False
        return True

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> list[InboundEvent]:
        """The one event a Zap's delivery stands for.

        :raises ValueError: the body is no JSON object, names an unknown trigger, or has
            neither the trigger's key fields nor a ``webhook-id``.
        """
        payload = msgspec.json.decode(body)
        if not isinstance(payload, dict):
            raise ValueError(f"{self.app} bridge: a Zap posts a JSON object")
        name = payload.get("trigger")
        if not isinstance(name, str):
            raise ValueError(f"{self.app} bridge: the payload names no 'trigger'")
        trigger = self.trigger(name)
        message_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id")
        identity = [_text(payload.get(f)) for f in trigger.key_fields]
        if identity and identity[0]:
            key = ":".join([trigger.name, *identity])
        elif message_id:
            key = f"{trigger.name}:webhook:{message_id}"
        else:
            raise ValueError(
                f"{self.app} bridge: trigger {name!r} needs its record's "
                f"{trigger.key_fields[0]!r} or a webhook-id header to be deduplicated"
            )
        contact = {
            remote: payload[remote]
            for remote in self.contact_fields.values()
            if payload.get(remote) not in (None, "")
        }
        client_id = _text(payload.get(trigger.client_id_field))
        return [
            InboundEvent(
                type=trigger.event_type,
                external_id=_text(payload.get(trigger.key_fields[0])) or str(message_id),
                payload=payload,
                idempotency_key=key,
                contact=contact,
                contact_external_id=client_id or None,
                occurred_at=_instant(payload.get("occurred_at")),
            )
        ]

    # -- outbound ---------------------------------------------------------------------

    def client(self, credentials: Any, http: httpx.AsyncClient) -> BridgeClient:
        """The push client for a connection's credentials (a :class:`BridgeCredentials`)."""
        return BridgeClient(self, credentials, http)

    def provider(
        self, *, name: str, label: str, credentials: type[BridgeCredentials], description: str = ""
    ) -> CRMProvider:
        """The CRM provider this bridge makes: webhooks in, pushes out when it has hooks."""
        return CRMProvider(
            name=name,
            label=label,
            description=description,
            credentials=credentials,
            capabilities=frozenset({"webhooks", "push"} if self.catch_hooks else {"webhooks"}),
            client=self.client if self.catch_hooks else None,
            field_mapping=dict(self.contact_fields),
            push_kinds=tuple(h.kind for h in self.catch_hooks) or ("contacts",),
            verify_webhook=self.verify_webhook,
            parse_webhook=self.parse_webhook,
        )


class BridgeClient:
    """Pushes records to the connection's Zap catch hooks, signed with its secret.

    Zaps cannot answer with the CRM's id of what they create, so a created record is
    known by the ``record_id`` Aisle sent (an update sends it again). The ids repeat
    when the request repeats (same ``Idempotency-Key``), so a retried push posts the
    same ``webhook-id`` and ``record_id``.
    """

    def __init__(self, bridge: ZapierBridge, credentials: Any, http: httpx.AsyncClient) -> None:
        self._bridge = bridge
        self._credentials = credentials
        self._http = http

    def __repr__(self) -> str:
        return f"BridgeClient({self._bridge.app})"

    async def push_record(
        self, kind: str, external_id: str | None, fields: Mapping[str, Any]
    ) -> str:
        bridge = self._bridge
        hook = bridge.hook(kind)
        url = getattr(self._credentials, hook.url_field, None)
        if not url:
            raise PermanentError(
                f"the {bridge.app} connection has no catch hook for {hook.label} "
                f"(set {hook.url_field})"
            )
        clash = sorted(_RESERVED & set(fields))
        if clash:
            raise PermanentError(f"{bridge.app} bridge: {clash} are reserved in pushed payloads")
        digest = self._digest(kind, external_id)
        record_id = external_id or f"aisle_{digest}"
        action = hook.action if external_id is None else hook.action.replace("create_", "update_")
        body = msgspec.json.encode({"action": action, "record_id": record_id, **fields})
        headers = {
            "Content-Type": "application/json",
            **sign_delivery(self._credentials.webhook_secret, body, f"msg_{digest}"),
        }
        response = await self._http.post(url, content=body, headers=headers)
        if response.status_code == 429:
            raise RateLimited(_retry_after(response.headers.get("Retry-After")))
        if response.is_error:
            # The catch-hook URL is a secret: the message names the hook, never the URL.
            raise httpx.HTTPStatusError(
                f"the {bridge.app} Zap catch hook for {hook.label} answered {response.status_code}",
                request=response.request,
                response=response,
            )
        return record_id

    def _digest(self, kind: str, external_id: str | None) -> str:
        repeat = self._http.headers.get("Idempotency-Key")
        if repeat is None:
            return uuid.uuid4().hex
        seed = f"{repeat}\0{kind}\0{external_id or ''}".encode()
        return hashlib.sha256(seed).hexdigest()[:32]

    async def list_records(self, kind: str, cursor: str | None) -> Page:
        raise self._cannot("list records")

    async def fetch_record(self, kind: str, external_id: str) -> ExternalRecord:
        raise self._cannot("fetch records")

    async def subscribe(self, target_url: str, events: Sequence[str]) -> list[str]:
        raise self._cannot("subscribe hooks (the studio makes a Zap per trigger)")

    async def unsubscribe(self, subscription_ids: Sequence[str]) -> None:
        raise self._cannot("unsubscribe hooks")

    def _cannot(self, what: str) -> PermanentError:
        return PermanentError(
            f"{self._bridge.app} has no public API: its Zapier bridge cannot {what}"
        )


ZAP_CONTACT_FIELDS: Mapping[str, str] = MappingProxyType(
    {
        "email": "email",
        "phone": "phone",
        "partners.0.first_name": "first_name",
        "partners.0.last_name": "last_name",
        "wedding_date": "event_date",
        "venue": "venue",
    }
)
"""The contact fields a wedding CRM's Zapier app sends, under the names its Zaps map."""

CLIENT_AND_PROJECT_HOOKS = (
    CatchHook(
        kind="contacts",
        action="create_client",
        label="create client",
        url_field="clients_hook_url",
    ),
    CatchHook(
        kind="projects",
        action="create_project",
        label="create project",
        url_field="projects_hook_url",
    ),
)
"""The catch hooks of a bridge that creates clients and projects, their URLs in the
credentials' ``clients_hook_url`` and ``projects_hook_url``."""


def sign_delivery(
    secret: str, body: bytes, message_id: str, at: float | None = None
) -> dict[str, str]:
    """Standard Webhooks headers for ``body``, signed with the connection's ``secret``.

    ``at`` is the Unix time to sign for (now by default).
    """
    timestamp = datetime.fromtimestamp(int(time.time() if at is None else at), tz=UTC)
    signature = Webhook(_signing_key(secret)).sign(message_id, timestamp, body.decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signature,
    }


def _check_timestamp(value: str) -> None:
    try:
        sent = float(value)
    except ValueError:
        raise WebhookRefused("the webhook-timestamp is not a Unix time") from None
    drift = time.time() - sent
    if drift > TOLERANCE_SECONDS:
        raise WebhookRefused(
            f"the webhook-timestamp is {int(drift)} s old (more than {TOLERANCE_SECONDS} s): "
            "a delayed or replayed delivery"
        )
    if -drift > TOLERANCE_SECONDS:
        raise WebhookRefused(
            f"the webhook-timestamp is {int(-drift)} s in the future "
            f"(more than {TOLERANCE_SECONDS} s)"
        )


def _retry_after(value: str | None) -> float:
    try:
        return max(float(value), 1.0) if value else _DEFAULT_RETRY_AFTER
    except ValueError:
        return _DEFAULT_RETRY_AFTER


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _instant(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
