"""Pins on the SSRF guard (``aisle.http``): a refused address is never connected to,
even when a permitted one is tried after it, and allow-list patterns match only what
they say.

A decoy listens on a refused loopback address (127.0.0.2, outside the allow-list
``127.0.0.1/32``) on the same port as the real receiver; whatever the guard lets
through would reach it, so it must see no connection at all.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from aisle import http
from aisle.http import DestinationRefused, EgressPolicy
from aisle.testing.http_server import HTTPReceiver

REFUSED = "127.0.0.2"
ALLOW = "127.0.0.1/32"


class Decoy:
    """Counts TCP connections on ``(REFUSED, port)`` and answers each with a 200, so a
    request the guard wrongly lets through succeeds instead of hanging."""

    def __init__(self, port: int) -> None:
        self.connections = 0
        self._socket = socket.create_server((REFUSED, port))
        self._socket.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            self.connections += 1
            with connection:
                connection.settimeout(1.0)
                try:
                    connection.recv(65536)
                    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\ndecoy")
                except OSError:
                    pass

    def __enter__(self) -> Decoy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._socket.close()


@pytest.fixture
def receiver() -> Iterator[HTTPReceiver]:
    with HTTPReceiver() as server:
        yield server


@pytest.fixture
def decoy(receiver: HTTPReceiver) -> Iterator[Decoy]:
    with Decoy(httpx.URL(receiver.url).port or 0) as listening:
        yield listening


def _port(receiver: HTTPReceiver) -> int:
    return httpx.URL(receiver.url).port or 0


@pytest.mark.parametrize(
    "addresses",
    [f"{REFUSED},127.0.0.1", f"127.0.0.1,{REFUSED}"],
    ids=["refused first", "refused last"],
)
async def test_a_name_with_a_refused_address_connects_only_to_the_permitted_one(
    receiver: HTTPReceiver, decoy: Decoy, addresses: str
) -> None:
    hosts = ",".join(f"mixed.test={a}" for a in addresses.split(","))
    async with http.client(allow=ALLOW, hosts=hosts, timeout=5.0) as client:
        response = await client.get(f"http://mixed.test:{_port(receiver)}/hook")
    assert response.status_code == 200 and response.text != "decoy"
    assert [r.path for r in receiver.requests] == ["/hook"]
    assert decoy.connections == 0


async def test_when_the_permitted_address_is_down_the_refused_one_is_not_tried(
    receiver: HTTPReceiver, decoy: Decoy
) -> None:
    # Falling back is for permitted addresses only: with the permitted one closed,
    # the request fails rather than going to the refused address that answers.
    # Nothing listens on 127.0.0.3; it is the only permitted address.
    hosts = f"down.test={REFUSED},down.test=127.0.0.3"
    async with http.client(allow="127.0.0.3/32", hosts=hosts, timeout=5.0) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"http://down.test:{_port(receiver)}/hook")
    assert decoy.connections == 0


async def test_a_name_with_only_refused_addresses_is_refused_naming_each(
    receiver: HTTPReceiver, decoy: Decoy
) -> None:
    hosts = f"inside.test={REFUSED},inside.test=169.254.169.254"
    async with http.client(allow=ALLOW, hosts=hosts) as client:
        with pytest.raises(DestinationRefused) as refused:
            await client.get(f"http://inside.test:{_port(receiver)}/")
    assert f"{REFUSED} is a loopback address" in str(refused.value)
    assert "169.254.169.254 is a cloud metadata address" in str(refused.value)
    assert decoy.connections == 0 and receiver.requests == []


async def test_a_refused_literal_address_is_not_connected_to(decoy: Decoy) -> None:
    port = decoy._socket.getsockname()[1]
    async with http.client(allow=ALLOW, hosts="") as client:
        with pytest.raises(DestinationRefused, match="loopback"):
            await client.get(f"http://{REFUSED}:{port}/")
    assert decoy.connections == 0


async def test_a_redirect_to_a_refused_address_is_not_followed(
    receiver: HTTPReceiver, decoy: Decoy
) -> None:
    from aisle.testing.http_server import Reply

    receiver.reply(Reply(302, {"Location": f"http://{REFUSED}:{_port(receiver)}/inside"}))
    async with http.client(allow=ALLOW, hosts="", follow_redirects=True) as client:
        with pytest.raises(DestinationRefused):
            await client.get(f"{receiver.url}/start")
    assert decoy.connections == 0


def _allowed(policy: EgressPolicy, host: str) -> bool:
    return policy.refusal(host, ipaddress.ip_address("10.9.9.9")) is None


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("a.corp.test", True),
        ("deep.a.corp.test", True),
        ("A.Corp.Test.", True),
        ("evilcorp.test", False),
        ("corp.test", False),  # the pattern names subdomains, not the domain itself
        ("corp.test.evil", False),
        ("a.corp.test.evil", False),
        ("acorp.test", False),
    ],
)
def test_a_wildcard_entry_matches_subdomains_only(host: str, allowed: bool) -> None:
    assert _allowed(EgressPolicy.parse("*.corp.test"), host) is allowed


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("hooks.internal", True),
        ("hooks.internal.", True),
        ("x.hooks.internal", False),
        ("evilhooks.internal", False),
        ("hooks.internal.evil", False),
    ],
)
def test_a_name_entry_matches_that_name_only(host: str, allowed: bool) -> None:
    assert _allowed(EgressPolicy.parse("hooks.internal"), host) is allowed


@pytest.mark.parametrize(
    ("address", "allowed"),
    [
        ("10.1.2.3", True),
        ("::ffff:10.1.2.3", True),  # the same address, IPv4-mapped
        ("10.1.2.4", False),
        ("10.1.2.2", False),
        ("172.16.0.1", True),
        ("172.31.255.255", True),
        ("192.168.0.1", False),  # private, outside both entries
    ],
)
def test_network_entries_match_their_addresses_only(address: str, allowed: bool) -> None:
    policy = EgressPolicy.parse("10.1.2.3, 172.16.0.0/12")
    assert (policy.refusal("x.test", ipaddress.ip_address(address)) is None) is allowed
