"""A fake Zapier for bridge providers' tests: catch hooks on a real socket, and Zaps.

:class:`FakeZapier` serves one catch hook per :class:`~aisle.CatchHook` of a bridge. Like
Zapier it accepts every post to a hook it knows (``{"status": "success", …}``); it also
checks each post's Standard Webhooks signature against the connection's secret, as a
Zap's code step would, and only verified posts create or update its records. It keeps
the :class:`~aisle.testing.FakeRemote` members the conformance suite drives (``seed``,
``stored``, ``rate_limit``). :class:`ZapSender` builds what a studio's Zap posts to
Aisle for a trigger, signed or with the secret header, as the connection says.
"""

from __future__ import annotations

import hmac
import itertools
import json
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from aisle.bridges import SECRET_HEADER, ZapierBridge, sign_delivery
from aisle.testing.http_server import LocalHTTPServer, ReceivedRequest, Reply

__all__ = ["Catch", "FakeZapier", "ZapSender"]

_JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Catch:
    """One post a catch hook received, and whether its signature verified."""

    kind: str
    payload: Mapping[str, Any]
    headers: Mapping[str, str]
    verified: bool


class FakeZapier(LocalHTTPServer):
    """Zapier's catch hooks for ``bridge``, verifying posts signed with ``secret``."""

    page_size = 100  # the suite's FakeRemote asks; catch hooks never list

    def __init__(self, bridge: ZapierBridge, secret: str) -> None:
        super().__init__()
        self.bridge = bridge
        self.secret = secret
        self.catches: list[Catch] = []
        self._paths = {
            f"/hooks/catch/1234567/{secrets.token_hex(4)}/": hook.kind
            for hook in bridge.catch_hooks
        }
        self._records: dict[str, dict[str, dict[str, Any]]] = {}
        self._limited: list[int] = []
        self._ids = itertools.count(1)

    def hook_urls(self) -> dict[str, str]:
        """The credentials fields of the bridge's catch hooks, pointing here."""
        by_kind = {kind: path for path, kind in self._paths.items()}
        return {hook.url_field: self.url + by_kind[hook.kind] for hook in self.bridge.catch_hooks}

    def seed(self, kind: str, records: Sequence[Mapping[str, Any]]) -> list[str]:
        with self.lock:
            ids = [f"zap_{next(self._ids)}" for _ in records]
            for external_id, record in zip(ids, records, strict=True):
                self._records.setdefault(kind, {})[external_id] = dict(record)
        return ids

    def stored(self, kind: str, external_id: str) -> Mapping[str, Any] | None:
        with self.lock:
            record = self._records.get(kind, {}).get(external_id)
            return dict(record) if record is not None else None

    def rate_limit(self, times: int = 1, retry_after: int = 7) -> None:
        with self.lock:
            self._limited.extend([retry_after] * times)

    def respond(self, request: ReceivedRequest) -> Reply:
        kind = self._paths.get(request.path)
        if kind is None or request.method != "POST":
            return Reply(404, _JSON, b'{"status": "error", "message": "no such hook"}')
        if self._limited:
            return Reply(429, {**_JSON, "Retry-After": str(self._limited.pop(0))}, b"{}")
        verified = self._verifies(request)
        payload = json.loads(request.body)
        self.catches.append(Catch(kind, payload, request.headers, verified))
        if verified:
            fields = {k: v for k, v in payload.items() if k not in ("action", "record_id")}
            self._records.setdefault(kind, {}).setdefault(payload["record_id"], {}).update(fields)
        request_id = secrets.token_hex(8)
        answer = {"attempt": request_id, "id": request_id, "request_id": request_id}
        return Reply(200, _JSON, json.dumps({**answer, "status": "success"}).encode())

    def _verifies(self, request: ReceivedRequest) -> bool:
        headers = request.headers
        message_id, timestamp = headers.get("webhook-id"), headers.get("webhook-timestamp")
        presented = headers.get("webhook-signature", "")
        if not message_id or not timestamp or not timestamp.isdigit():
            return False
        if abs(time.time() - int(timestamp)) > 300:
            return False
        expected = sign_delivery(self.secret, request.body, message_id, at=int(timestamp))
        return any(
            hmac.compare_digest(expected["webhook-signature"], signature)
            for signature in presented.split(" ")
        )


class ZapSender:
    """What a studio's Zaps post to Aisle: one trigger's fields as JSON, authenticated
    the connection's way (``standard_webhooks`` signs, ``secret_header`` sends the secret).
    """

    def __init__(self, secret: str, signing: Literal["standard_webhooks", "secret_header"]) -> None:
        self.secret = secret
        self.signing = signing

    def delivery(
        self,
        trigger: str,
        fields: Mapping[str, Any],
        *,
        message_id: str | None = None,
        at: float | None = None,
    ) -> tuple[dict[str, str], bytes]:
        """``(headers, body)`` of one delivery; ``at`` backdates a signed one."""
        body = json.dumps({"trigger": trigger, **fields}).encode()
        headers = {"content-type": "application/json"}
        if self.signing == "secret_header":
            headers[SECRET_HEADER.lower()] = self.secret
        else:
            message = message_id or f"msg_{secrets.token_hex(12)}"
            headers.update(sign_delivery(self.secret, body, message, at=at))
        return headers, body
