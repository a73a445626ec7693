"""``EventSourceSuite``: what every event source keeps, checked with deliveries it signs.

Anyone who knows a studio's inbound URL can post to it, so the suite checks what
Aisle relies on before it ingests anything: a genuine delivery verifies; one signed
with another secret, one whose body changed after signing, an unsigned one and (where
signatures carry a time) an old one are refused with :class:`~aisle.WebhookRefused`;
parsing gives the same idempotency key for every delivery of one remote fact and
different keys for different facts; and the secret reaches no log line, error or
``repr``::

    class TestMySource(EventSourceSuite):
        @pytest.fixture
        def source(self):
            return MY_SOURCE

        @pytest.fixture
        def secret(self):
            return {"signing_secret": "sk_test_0123456789"}

        @pytest.fixture
        def wrong_secret(self):
            return {"signing_secret": "sk_test_9876543210"}

        @pytest.fixture
        def sign(self):
            return lambda body, secret, timestamp: {"x-signature": my_hmac(...)}

        @pytest.fixture
        def deliveries(self):
            return [payment_body("p_1"), payment_body("p_2")]
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import msgspec
import pytest

from aisle.contracts.crm import InboundEvent, WebhookRefused
from aisle.contracts.sources import SOURCE_CONTACT_FIELDS, EventSource
from aisle.testing.config_schema import parse_config
from aisle.testing.registration_suite import STRICT_CONFIG, RegistrationSuite
from aisle.testing.requirements import requires
from aisle.testing.secrets import leaks

__all__ = ["SOURCE_SUITE_CAPABILITIES", "EventSourceSuite", "Signer"]

Signer = Callable[[bytes, Mapping[str, Any], int], Mapping[str, str]]
"""``sign(body, secret, timestamp)``: the headers the source would send with ``body``,
signed with ``secret`` (JSON-shaped, as a studio enters it) at ``timestamp`` (Unix
seconds)."""

SOURCE_SUITE_CAPABILITIES: Mapping[str, str] = {
    "strict_config": STRICT_CONFIG,
    "timestamps": "signatures carry the time they were made and old ones are refused, so "
    "a captured delivery cannot be replayed later",
}


def _override(fixture: str, what: str) -> str:
    return f"override the `{fixture}` fixture in your test class to return {what}"


class EventSourceSuite(RegistrationSuite):
    """The contract of an :class:`~aisle.EventSource`, checked without a network."""

    kind = "event source"
    registry_table = "event_sources"
    capabilities = SOURCE_SUITE_CAPABILITIES

    max_age_seconds: ClassVar[int] = 300
    """The oldest signature the source accepts; the suite signs one older than that."""

    # -- fixtures a plugin's test class overrides -----------------------------------

    @pytest.fixture
    def source(self) -> EventSource:
        """The event source under test."""
        pytest.fail(_override("source", "your EventSource"))

    @pytest.fixture
    def secret(self) -> Mapping[str, Any]:
        """A secret as a studio enters it (JSON-shaped, for the source's secret Struct)."""
        pytest.fail(_override("secret", "a valid secret dict"))

    @pytest.fixture
    def wrong_secret(self) -> Mapping[str, Any]:
        """Another valid secret: what a forger (or another studio's endpoint) signs with."""
        pytest.fail(_override("wrong_secret", "another valid secret dict"))

    @pytest.fixture
    def sign(self) -> Signer:
        """Signs a body as the source does (see :data:`Signer`)."""
        pytest.fail(_override("sign", "a function (body, secret, timestamp) -> headers"))

    @pytest.fixture
    def deliveries(self) -> Sequence[bytes]:
        """Bodies of at least two different remote facts, each giving at least one event."""
        pytest.fail(_override("deliveries", "two or more bodies parse turns into events"))

    # -- the suite's plumbing -------------------------------------------------------

    @pytest.fixture
    def registration(self, source: EventSource) -> EventSource:
        return source

    @pytest.fixture
    def config_type(self, source: EventSource) -> type[msgspec.Struct]:
        secret: type[msgspec.Struct] = source.secret
        return secret

    @pytest.fixture
    def valid_config(self, secret: Mapping[str, Any]) -> Any:
        return dict(secret)

    @pytest.fixture
    def decoded(self, source: EventSource, secret: Mapping[str, Any]) -> Any:
        return parse_config(source.secret, secret)

    @pytest.fixture
    def decoded_wrong(self, source: EventSource, wrong_secret: Mapping[str, Any]) -> Any:
        return parse_config(source.secret, wrong_secret)

    def _refused(
        self, source: EventSource, headers: Mapping[str, str], body: bytes, secret: Any, what: str
    ) -> WebhookRefused:
        try:
            source.verify(_lower(headers), body, secret)
        except WebhookRefused as exc:
            assert str(exc).strip(), f"refusing {what}, say why in the WebhookRefused message"
            return exc
        pytest.fail(f"event source {source.name!r} accepted {what}")

    # -- checks ---------------------------------------------------------------------

    def test_declares_the_event_types_it_parses(
        self, source: EventSource, sign: Signer, secret: Mapping[str, Any], deliveries: Any
    ) -> None:
        """Each delivery gives events of the declared types, ready for Aisle."""
        assert len(deliveries) >= 2, _override("deliveries", "at least two different bodies")
        for body in deliveries:
            events = source.parse(_lower(sign(body, secret, int(time.time()))), body)
            assert events, f"parse gave no event for a delivery the test says carries one: {body!r}"
            for event in events:
                assert isinstance(event, InboundEvent), f"parse returned {event!r}"
                assert event.type in source.event_types, (
                    f"parse returned a {event.type!r} event; event_types declares "
                    f"{sorted(source.event_types)}"
                )
                unknown = set(event.contact) - set(SOURCE_CONTACT_FIELDS)
                assert not unknown, (
                    f"InboundEvent.contact may hold {sorted(SOURCE_CONTACT_FIELDS)}; "
                    f"got {sorted(unknown)}"
                )

    def test_a_genuine_delivery_is_accepted(
        self,
        source: EventSource,
        sign: Signer,
        secret: Mapping[str, Any],
        decoded: Any,
        deliveries: Any,
    ) -> None:
        """A delivery signed with the studio's secret just now verifies."""
        for body in deliveries:
            try:
                source.verify(_lower(sign(body, secret, int(time.time()))), body, decoded)
            except WebhookRefused as exc:
                pytest.fail(f"a genuine delivery was refused: {exc}")

    def test_a_forged_signature_is_refused(
        self,
        source: EventSource,
        sign: Signer,
        wrong_secret: Mapping[str, Any],
        decoded: Any,
        deliveries: Any,
    ) -> None:
        """A delivery signed with another secret is refused."""
        body = deliveries[0]
        headers = sign(body, wrong_secret, int(time.time()))
        self._refused(source, headers, body, decoded, "a delivery signed with another secret")

    def test_a_changed_body_is_refused(
        self,
        source: EventSource,
        sign: Signer,
        secret: Mapping[str, Any],
        decoded: Any,
        deliveries: Any,
    ) -> None:
        """The signature covers the exact bytes: one byte more is a different delivery."""
        body = deliveries[0]
        headers = sign(body, secret, int(time.time()))
        self._refused(source, headers, body + b" ", decoded, "a body changed after signing")
        other = deliveries[1]
        self._refused(source, headers, other, decoded, "another delivery's signature")

    def test_an_unsigned_delivery_is_refused(
        self, source: EventSource, decoded: Any, deliveries: Any
    ) -> None:
        """No signature headers: refused, not an error."""
        self._refused(
            source, {"content-type": "application/json"}, deliveries[0], decoded, "no signature"
        )

    @requires("timestamps")
    def test_an_old_signature_is_refused(
        self,
        source: EventSource,
        sign: Signer,
        secret: Mapping[str, Any],
        decoded: Any,
        deliveries: Any,
    ) -> None:
        """A genuine signature made longer ago than the source allows is a replay."""
        body = deliveries[0]
        then = int(time.time()) - self.max_age_seconds - 60
        self._refused(source, sign(body, secret, then), body, decoded, "a signature too old")

    def test_keys_name_the_remote_fact_not_the_delivery(
        self, source: EventSource, sign: Signer, secret: Mapping[str, Any], deliveries: Any
    ) -> None:
        """Redelivering a fact gives the same keys; different facts, different keys."""
        now = int(time.time())
        seen: dict[str, bytes] = {}
        for body in deliveries:
            first = [e.idempotency_key for e in source.parse(_lower(sign(body, secret, now)), body)]
            again = [
                e.idempotency_key for e in source.parse(_lower(sign(body, secret, now + 7)), body)
            ]
            assert first == again, f"a redelivery changed the keys: {first} then {again}"
            for key in first:
                assert key.strip(), "an idempotency key is empty"
                assert key not in seen or seen[key] == body, (
                    f"two different deliveries share the idempotency key {key!r}: the second "
                    "would be dropped as a replay"
                )
                seen[key] = body

    def test_an_unreadable_body_is_refused(self, source: EventSource) -> None:
        """A body parse cannot read raises WebhookRefused (answered 400), not a crash."""
        with pytest.raises(WebhookRefused):
            source.parse({"content-type": "application/json"}, b"\xff{not json")

    def test_the_secret_never_leaks(
        self,
        source: EventSource,
        sign: Signer,
        secret: Mapping[str, Any],
        wrong_secret: Mapping[str, Any],
        decoded: Any,
        decoded_wrong: Any,
        deliveries: Any,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """No secret in a refusal, a log line, a parsed event or the secret's ``repr``."""
        values = [v for v in (*secret.values(), *wrong_secret.values()) if isinstance(v, str)]
        places: list[tuple[str, object]] = [
            ("repr of the secret", decoded),
            ("repr of the other secret", decoded_wrong),
        ]
        body = deliveries[0]
        now = int(time.time())
        with caplog.at_level(logging.DEBUG):
            for what, headers, sent in (
                ("the refusal of a forged delivery", sign(body, wrong_secret, now), body),
                ("the refusal of a changed body", sign(body, secret, now), body + b" "),
                ("the refusal of an old delivery", sign(body, secret, now - 3600), body),
            ):
                try:
                    source.verify(_lower(headers), sent, decoded)
                except WebhookRefused as exc:
                    places.append((what, exc))
            for event in _parsed(source, sign, secret, deliveries):
                places.append(("a parsed event", event))
        places += [(f"log record {r.name}", r) for r in caplog.records]
        found = leaks(values, places)
        assert not found, f"the secret appears in: {', '.join(found)}"


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    # Aisle hands verify and parse lower-cased header names, as HTTP/2 sends them.
    return {k.lower(): v for k, v in headers.items()}


def _parsed(
    source: EventSource, sign: Signer, secret: Mapping[str, Any], deliveries: Sequence[bytes]
) -> Iterator[InboundEvent]:
    for body in deliveries:
        yield from source.parse(_lower(sign(body, secret, int(time.time()))), body)
