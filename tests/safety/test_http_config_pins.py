"""Pins on how ``aisle.http`` builds clients and resolves names: TLS verification on by
default, no environment settings trusted, no redirects followed unless asked, bounded
pools, literal addresses never resolved, resolution bounded by the timeout, and refusal
messages that name each address and why (found by scripts/mutation)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Iterator

import httpx
import pytest

from aisle import http
from aisle.http import DestinationRefused, EgressPolicy, HostsResolver, address_refusal
from aisle.testing.http_server import HTTPReceiver


class Recording:
    """A resolver that records what it is asked and answers from a table."""

    def __init__(self, answers: dict[str, list[str]] | None = None) -> None:
        self.answers = answers or {}
        self.asked: list[tuple[str, int]] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.asked.append((host, port))
        return self.answers.get(host, [])


class Hanging:
    async def resolve(self, host: str, port: int) -> list[str]:
        await asyncio.sleep(3600)
        return []


@pytest.fixture
def receiver() -> Iterator[HTTPReceiver]:
    with HTTPReceiver() as server:
        yield server


def _pool(client: httpx.AsyncClient) -> object:
    return client._transport._pool  # type: ignore[attr-defined]


async def test_the_default_client_is_strict() -> None:
    async with http.client(allow="", hosts="") as client:
        assert client.timeout == httpx.Timeout(10.0)
        assert client.follow_redirects is False
        assert client.max_redirects == 5
        assert client.base_url == httpx.URL("")
        assert client.trust_env is False
        assert client.auth is None
        assert "authorization" not in client.headers
        pool = _pool(client)
        context = pool._ssl_context  # type: ignore[attr-defined]
        assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
        assert pool._max_connections == 100  # type: ignore[attr-defined]
        assert pool._max_keepalive_connections == 20  # type: ignore[attr-defined]
        assert pool._keepalive_expiry == 5.0  # type: ignore[attr-defined]
        assert http.uses_guard(client._transport)


async def test_what_the_caller_asks_for_is_passed_on() -> None:
    custom = ssl.create_default_context()
    limits = httpx.Limits(max_connections=3, max_keepalive_connections=2, keepalive_expiry=9.0)
    async with http.client(
        allow="",
        hosts="",
        timeout=2.5,
        follow_redirects=True,
        max_redirects=2,
        headers={"X-Studio": "rose"},
        base_url="https://crm.example",
        auth=("user", "pass"),
        verify=custom,
        limits=limits,
    ) as client:
        assert client.timeout == httpx.Timeout(2.5)
        assert client.follow_redirects is True and client.max_redirects == 2
        assert client.headers["x-studio"] == "rose"
        assert client.base_url == httpx.URL("https://crm.example")
        assert isinstance(client.auth, httpx.BasicAuth)
        pool = _pool(client)
        assert pool._ssl_context is custom  # type: ignore[attr-defined]
        assert pool._max_connections == 3  # type: ignore[attr-defined]
        assert pool._max_keepalive_connections == 2  # type: ignore[attr-defined]
        assert pool._keepalive_expiry == 9.0  # type: ignore[attr-defined]


async def test_verification_is_off_only_when_asked() -> None:
    async with http.client(allow="", hosts="", verify=False) as client:
        context = _pool(client)._ssl_context  # type: ignore[attr-defined]
        assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname


async def test_a_literal_address_is_never_resolved(receiver: HTTPReceiver) -> None:
    resolver = Recording()
    async with http.client(allow="127.0.0.1/32", hosts="", resolver=resolver) as client:
        assert (await client.get(receiver.url)).status_code == 200
    assert resolver.asked == []


async def test_names_go_to_the_resolver_with_their_port(receiver: HTTPReceiver) -> None:
    port = httpx.URL(receiver.url).port or 0
    resolver = Recording({"named.test": ["127.0.0.1"]})
    # The hosts override answers for its own names and hands the others on.
    hosts = {"pinned.test": ["127.0.0.1"]}
    async with http.client(allow="127.0.0.1/32", hosts=hosts, resolver=resolver) as client:
        assert (await client.get(f"http://named.test:{port}/")).status_code == 200
        assert (await client.get(f"http://pinned.test:{port}/")).status_code == 200
    assert resolver.asked == [("named.test", port)]


async def test_resolution_is_bounded_by_the_timeout() -> None:
    async with http.client(allow="", hosts="", resolver=Hanging(), timeout=0.2) as client:
        async with asyncio.timeout(10):
            with pytest.raises(httpx.ConnectError, match=r"cannot resolve slow\.test"):
                await client.get("http://slow.test/")


async def test_connecting_is_bounded_by_the_timeout() -> None:
    # A listener whose backlog is full drops new SYNs: connecting hangs until timed out.
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(0)
        port = server.getsockname()[1]
        fillers = []
        try:
            for _ in range(8):
                filler = socket.socket()
                filler.setblocking(False)
                filler.connect_ex(("127.0.0.1", port))
                fillers.append(filler)
            await asyncio.sleep(0.2)
            async with http.client(allow="127.0.0.1/32", hosts="", timeout=0.5) as client:
                async with asyncio.timeout(10):
                    with pytest.raises(httpx.ConnectTimeout):
                        await client.get(f"http://127.0.0.1:{port}/")
        finally:
            for filler in fillers:
                filler.close()


async def test_a_refusal_names_the_host_and_each_address() -> None:
    resolver = Recording({"inside.test": ["10.0.0.1", "169.254.169.254"], "void.test": []})
    async with http.client(allow="", hosts="", resolver=resolver) as client:
        with pytest.raises(DestinationRefused) as refused:
            await client.get("http://inside.test/")
        assert refused.value.host == "inside.test"
        assert refused.value.reason == (
            "10.0.0.1 is a private address; 169.254.169.254 is a cloud metadata address"
        )
        assert str(refused.value) == (
            f"refused to connect to inside.test: {refused.value.reason}; an operator may "
            "permit it with AISLE_HTTP_ALLOW"
        )
        with pytest.raises(DestinationRefused) as empty:
            await client.get("http://void.test/")
        assert empty.value.reason == "it has no address"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("169.254.169.254", "a cloud metadata address"),
        ("127.0.0.1", "a loopback address"),
        ("0.0.0.0", "an unspecified address"),
        ("169.254.10.10", "a link-local address"),
        ("224.0.0.1", "a multicast address"),
        ("100.64.0.1", "a CGNAT (shared) address"),
        ("240.0.0.1", "a reserved address"),
        ("10.0.0.1", "a private address"),
        # Teredo: the client's IPv4 address (192.168.0.1, obfuscated) decides.
        ("2001:0:4136:e378:8000:63bf:3f57:fffe", "a private address"),
    ],
)
def test_each_refusal_says_exactly_why(address: str, reason: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) == reason


def test_allow_lists_given_as_lists_bracketed_or_with_host_bits() -> None:
    policy = EgressPolicy.parse(["", "10.1.2.3/8", "[fd00::1]", "relay.box"])
    assert policy.refusal("x", ipaddress.ip_address("10.200.0.1")) is None
    assert policy.refusal("x", ipaddress.ip_address("fd00::1")) is None
    assert policy.host_allowed("RELAY.BOX") and policy.host_allowed("relay.box.")
    assert EgressPolicy.parse("10.1.2.3/8").refusal("x", ipaddress.ip_address("10.9.9.9")) is None


def test_hosts_overrides_keep_every_entry_and_refuse_a_double_equals() -> None:
    assert http.parse_hosts("a.test=10.0.0.1,,b.test=10.0.0.2") == {
        "a.test": ["10.0.0.1"],
        "b.test": ["10.0.0.2"],
    }
    with pytest.raises(ValueError, match="not an address"):
        http.parse_hosts("a.test==10.0.0.1")


async def test_a_hosts_resolver_hands_unknown_names_to_its_fallback() -> None:
    fallback = Recording({"other.test": ["192.0.2.7"]})
    resolver = HostsResolver({"pinned.test": ["10.0.0.1"]}, fallback)
    assert await resolver.resolve("PINNED.test.", 443) == ["10.0.0.1"]
    assert await resolver.resolve("other.test", 8443) == ["192.0.2.7"]
    assert fallback.asked == [("other.test", 8443)]


async def test_the_guarded_backend_refuses_unix_sockets_and_sleeps_as_asked() -> None:
    async with http.client(allow="", hosts="") as client:
        backend = _pool(client)._network_backend  # type: ignore[attr-defined]
        with pytest.raises(DestinationRefused) as refused:
            await backend.connect_unix_socket("/run/docker.sock")
        assert refused.value.host == "/run/docker.sock"
        assert refused.value.reason == "unix sockets are not an outbound destination"
        loop = asyncio.get_running_loop()
        began = loop.time()
        await backend.sleep(0.05)
        assert loop.time() - began >= 0.04
