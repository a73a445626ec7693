"""The SSRF guard of ``aisle.http``: refused by default, permitted by the allowlist.

No test sends a packet to a private range: names are pointed at private addresses
with the hosts-style override, and the guard refuses before connecting.
"""

from __future__ import annotations

import ipaddress
import logging

import httpx
import pytest

from aisle import http
from aisle.http import DestinationRefused, EgressPolicy, address_refusal
from aisle.testing.http_server import HTTPReceiver, Reply


def port(server: HTTPReceiver) -> str:
    return server.url.rsplit(":", 1)[1]


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.10.10", "link-local"),
        ("fe80::1", "link-local"),
        ("100.64.0.1", "CGNAT"),
        ("100.100.100.200", "metadata"),
        ("fd00:ec2::254", "metadata"),
        ("fc00::1", "private"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("2002:a00:1::", "private"),  # 6to4 wrapping 10.0.0.1
        ("192.0.2.10", "private"),  # TEST-NET-1 documentation range
    ],
)
def test_refused_addresses(address: str, reason: str) -> None:
    refusal = address_refusal(ipaddress.ip_address(address))
    assert refusal is not None
    assert reason in refusal


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


def test_allowlist_parses_networks_addresses_and_names() -> None:
    policy = EgressPolicy.parse("127.0.0.0/8, 10.1.2.3 hooks.internal,*.corp.test")
    assert policy.refusal("x", ipaddress.ip_address("127.5.5.5")) is None
    assert policy.refusal("x", ipaddress.ip_address("10.1.2.3")) is None
    assert policy.refusal("x", ipaddress.ip_address("10.1.2.4")) is not None
    assert policy.refusal("hooks.internal.", ipaddress.ip_address("10.9.9.9")) is None
    assert policy.refusal("a.corp.test", ipaddress.ip_address("10.9.9.9")) is None
    assert policy.refusal("corp.test.evil", ipaddress.ip_address("10.9.9.9")) is not None


def test_allowlist_rejects_garbage_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="AISLE_HTTP_ALLOW"):
        EgressPolicy.parse("http://example.com/")


def test_hosts_override_parses_and_rejects_bad_entries() -> None:
    assert http.parse_hosts("a.test=10.0.0.1, a.test=10.0.0.2;b.test=::1") == {
        "a.test": ["10.0.0.1", "10.0.0.2"],
        "b.test": ["::1"],
    }
    with pytest.raises(ValueError, match="AISLE_HTTP_HOSTS"):
        http.parse_hosts("a.test")
    with pytest.raises(ValueError, match="not an address"):
        http.parse_hosts("a.test=example.com")


async def test_loopback_is_refused_by_default_and_nothing_arrives() -> None:
    with HTTPReceiver() as server:
        async with http.client(allow="", hosts="") as client:
            with pytest.raises(DestinationRefused, match=r"127\.0\.0\.1 is a loopback"):
                await client.get(server.url)
        assert server.requests == []


async def test_localhost_name_is_refused_by_default() -> None:
    with HTTPReceiver() as server:
        async with http.client(allow="", hosts="") as client:
            with pytest.raises(DestinationRefused, match="loopback"):
                await client.get(f"http://localhost:{port(server)}/")
        assert server.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://private.test/hook",
        "http://metadata.test/computeMetadata/v1/",
    ],
)
async def test_private_and_metadata_destinations_are_refused(url: str) -> None:
    hosts = "private.test=10.0.0.1,metadata.test=169.254.169.254"
    async with http.client(allow="", hosts=hosts) as client:
        with pytest.raises(DestinationRefused):
            await client.post(url, json={"x": 1})


async def test_a_name_with_any_public_address_uses_only_that_one() -> None:
    # mixed.test resolves to a refused and a permitted address: only the permitted
    # one (the allowlisted receiver) is ever connected to.
    with HTTPReceiver() as server:
        hosts = "mixed.test=169.254.169.254,mixed.test=127.0.0.1"
        async with http.client(allow="127.0.0.1/32", hosts=hosts) as client:
            response = await client.get(f"http://mixed.test:{port(server)}/x")
        assert response.status_code == 200
        assert server.requests[0].headers["host"] == f"mixed.test:{port(server)}"


async def test_allowlisted_network_reaches_the_local_server() -> None:
    with HTTPReceiver() as server:
        async with http.client(allow="127.0.0.1/32", hosts="") as client:
            response = await client.post(f"{server.url}/hook", json={"ok": True})
        assert response.status_code == 200
        assert server.requests[0].body == b'{"ok":true}'


async def test_allowlisted_name_reaches_its_address() -> None:
    with HTTPReceiver() as server:
        async with http.client(allow="receiver.test", hosts="receiver.test=127.0.0.1") as c:
            response = await c.get(f"http://receiver.test:{port(server)}/")
        assert response.status_code == 200


async def test_allowlist_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with HTTPReceiver() as server:
        monkeypatch.setenv("AISLE_HTTP_ALLOW", "127.0.0.1")
        monkeypatch.setenv("AISLE_HTTP_HOSTS", "env.test=127.0.0.1")
        async with http.client() as client:
            response = await client.get(f"http://env.test:{port(server)}/")
        assert response.status_code == 200
        monkeypatch.setenv("AISLE_HTTP_ALLOW", "")
        async with http.client() as client:
            with pytest.raises(DestinationRefused):
                await client.get(server.url)


async def test_every_redirect_hop_is_checked() -> None:
    with HTTPReceiver() as server:
        server.reply(Reply(302, {"Location": "http://metadata.test/latest/meta-data/"}))
        hosts = "metadata.test=169.254.169.254"
        async with http.client(allow="127.0.0.1/32", hosts=hosts, follow_redirects=True) as client:
            with pytest.raises(DestinationRefused, match="metadata"):
                await client.get(f"{server.url}/start")
        assert [r.path for r in server.requests] == ["/start"]


async def test_redirects_within_the_allowlist_are_followed() -> None:
    with HTTPReceiver() as server:
        server.reply(Reply(307, {"Location": f"{server.url}/next"}))
        async with http.client(allow="127.0.0.1", hosts="", follow_redirects=True) as c:
            response = await c.post(f"{server.url}/start", content=b"x")
        assert response.status_code == 200
        assert [r.path for r in server.requests] == ["/start", "/next"]


async def test_environment_proxies_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy would connect on our behalf and bypass the guard.
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("ALL_PROXY", "http://127.0.0.1:9")
    with HTTPReceiver() as server:
        async with http.client(allow="127.0.0.1", hosts="") as client:
            assert (await client.get(server.url)).status_code == 200


async def test_refusal_is_not_a_transport_error() -> None:
    # Workers retry httpx transport errors; a refused destination must not be retried.
    async with http.client(allow="", hosts="") as client:
        with pytest.raises(DestinationRefused) as info:
            await client.get("http://127.0.0.1:9/")
    assert not isinstance(info.value, httpx.TransportError)


async def test_unresolvable_name_is_a_connect_error() -> None:
    async with http.client(allow="", hosts="") as client:
        with pytest.raises(httpx.ConnectError, match="cannot resolve"):
            await client.get("http://does-not-exist.invalid/")


async def test_outbound_urls_never_reach_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="")
    with HTTPReceiver() as server:
        async with http.client(allow="127.0.0.1/32", hosts="") as client:
            await client.post(f"{server.url}/hooks/catch/123/s3cr3t", json={})
    assert "s3cr3t" not in caplog.text
