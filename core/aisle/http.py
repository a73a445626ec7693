"""Outbound HTTP: the one place httpx clients are created, behind an SSRF guard.

Every request Aisle sends on behalf of a studio (webhooks, SMS providers, CRM APIs)
goes through :func:`client`. Its transport resolves the host name itself and connects
only to addresses the :class:`EgressPolicy` allows, so the check holds after DNS
resolution, for every redirect hop and against DNS rebinding (the address checked is
the address connected to). Loopback, private, link-local, CGNAT, multicast, reserved
and cloud-metadata addresses are refused unless the operator's allowlist
(``AISLE_HTTP_ALLOW``: CIDRs, addresses or host names) permits them.

``AISLE_HTTP_HOSTS`` is a hosts-file style override of name resolution
(``name=address[,name=address…]``), for operators pinning a name and for tests
proving a name that resolves to a private address is refused, without DNS.

Keeping client construction here makes a swap of HTTP library a change to this module.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import logging
import os
import socket
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpcore
import httpx

# httpx logs every request's full URL at INFO, and the processes that send requests run
# with the root logger at INFO. Outbound URLs carry secrets (Zapier catch-hook paths,
# tokens in query strings), so its request lines must never reach the logs.
logging.getLogger("httpx").setLevel(logging.WARNING)

__all__ = [
    "ALLOW_SETTING",
    "HOSTS_SETTING",
    "DestinationRefused",
    "EgressPolicy",
    "HostsResolver",
    "Resolver",
    "SystemResolver",
    "address_refusal",
    "client",
    "parse_hosts",
    "uses_guard",
]

ALLOW_SETTING = "AISLE_HTTP_ALLOW"
HOSTS_SETTING = "AISLE_HTTP_HOSTS"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Instance-metadata endpoints of the major clouds; named separately so the refusal
# says why (most are link-local or private anyway, Alibaba's sits in CGNAT space).
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, OpenStack
        "169.254.170.2",  # AWS ECS task metadata
        "169.254.169.253",  # AWS DNS
        "100.100.100.200",  # Alibaba Cloud
        "192.0.0.192",  # Oracle Cloud
        "fd00:ec2::254",  # AWS IPv6
    )
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class DestinationRefused(Exception):
    """The SSRF guard refused to connect; retrying cannot help.

    Deliberately not an :class:`httpx.TransportError`, so job workers do not retry it.
    """

    def __init__(self, host: str, reason: str) -> None:
        super().__init__(
            f"refused to connect to {host}: {reason}; an operator may permit it with "
            f"{ALLOW_SETTING}"
        )
        self.host = host
        self.reason = reason


def _unwrap(ip: IPAddress) -> IPAddress:
    """The IPv4 address hidden in an IPv6 one (mapped, 6to4, Teredo), else ``ip``."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip.teredo is not None:
            return ip.teredo[1]
    return ip


def address_refusal(ip: IPAddress) -> str | None:
    """Why the guard refuses ``ip`` by default, or ``None`` when it is a public address."""
    ip = _unwrap(ip)
    checks: tuple[tuple[bool, str], ...] = (
        (ip in _METADATA, "a cloud metadata address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_multicast, "a multicast address"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT, "a CGNAT (shared) address"),
        (ip.is_reserved, "a reserved address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    )
    for refused, reason in checks:
        if refused:
            return reason
    return None


def _normalize_host(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


@dataclass(frozen=True)
class EgressPolicy:
    """Which destinations outbound requests may reach beyond the public internet.

    ``networks`` allow addresses; ``hosts`` allow a name whatever it resolves to
    (``*.example.com`` allows every subdomain).
    """

    networks: tuple[IPNetwork, ...] = ()
    hosts: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, allow: str | Iterable[str] | None) -> EgressPolicy:
        """Parse an allowlist: comma or whitespace separated CIDRs, addresses, names."""
        if allow is None:
            return cls()
        items = allow.replace(",", " ").split() if isinstance(allow, str) else list(allow)
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for raw in items:
            item = raw.strip()
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                if not all(part.isalnum() or part in "-.*_" for part in item):
                    raise ValueError(
                        f"{ALLOW_SETTING}: {item!r} is neither a CIDR, an address nor a host name"
                    ) from None
                hosts.add(_normalize_host(item))
        return cls(tuple(networks), frozenset(hosts))

    def host_allowed(self, host: str) -> bool:
        name = _normalize_host(host)
        if name in self.hosts:
            return True
        return any(
            pattern.startswith("*.") and name.endswith(pattern[1:]) for pattern in self.hosts
        )

    def refusal(self, host: str, ip: IPAddress) -> str | None:
        """Why connecting to ``ip`` (resolved from ``host``) is refused, or ``None``."""
        if self.host_allowed(host):
            return None
        if any(ip in net or _unwrap(ip) in net for net in self.networks):
            return None
        return address_refusal(ip)


class Resolver(Protocol):
    """Turns a host name into the addresses to try, in order."""

    async def resolve(self, host: str, port: int) -> list[str]: ...


class SystemResolver:
    """The operating system's resolver (``getaddrinfo``), run off the event loop."""

    async def resolve(self, host: str, port: int) -> list[str]:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
        seen: dict[str, None] = {}
        for _family, _type, _proto, _canon, sockaddr in infos:
            seen.setdefault(str(sockaddr[0]), None)
        return list(seen)


@dataclass(frozen=True)
class HostsResolver:
    """A hosts-file style override: listed names resolve to fixed addresses.

    Names not listed go to ``fallback`` (the system resolver by default).
    """

    entries: Mapping[str, Sequence[str]]
    fallback: Resolver = field(default_factory=SystemResolver)

    async def resolve(self, host: str, port: int) -> list[str]:
        addresses = self.entries.get(_normalize_host(host))
        if addresses is not None:
            return list(addresses)
        return await self.fallback.resolve(host, port)


def parse_hosts(text: str | None) -> dict[str, list[str]]:
    """Parse ``name=address[,name=address…]`` (repeat a name for several addresses)."""
    entries: dict[str, list[str]] = {}
    if not text:
        return entries
    for raw in text.replace(";", ",").split(","):
        item = raw.strip()
        if not item:
            continue
        name, sep, address = item.partition("=")
        if not sep:
            raise ValueError(f"{HOSTS_SETTING}: {item!r} is not name=address")
        try:
            ipaddress.ip_address(address.strip())
        except ValueError:
            raise ValueError(f"{HOSTS_SETTING}: {address.strip()!r} is not an address") from None
        entries.setdefault(_normalize_host(name), []).append(address.strip())
    return entries


def _literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks every candidate address, and connects only to permitted ones."""

    def __init__(self, policy: EgressPolicy, resolver: Resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        literal = _literal(host)
        if literal is not None:
            candidates = [str(literal)]
        else:
            try:
                async with asyncio.timeout(timeout):
                    candidates = await self._resolver.resolve(host, port)
            except (OSError, TimeoutError) as exc:
                raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        permitted: list[str] = []
        refusals: list[str] = []
        for candidate in candidates:
            reason = self._policy.refusal(host, ipaddress.ip_address(candidate))
            if reason is None:
                permitted.append(candidate)
            else:
                refusals.append(f"{candidate} is {reason}")
        if not permitted:
            raise DestinationRefused(host, "; ".join(refusals) or "it has no address")
        last: Exception | None = None
        for address in permitted:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's signature)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise DestinationRefused(path, "unix sockets are not an outbound destination")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@functools.cache
def _verifying_context() -> ssl.SSLContext:
    # Loading the CA bundle costs milliseconds; executors create a client per attempt.
    return httpx.create_ssl_context(verify=True, trust_env=False)


def _ssl_context(verify: ssl.SSLContext | bool) -> ssl.SSLContext:
    if verify is True:
        return _verifying_context()
    return httpx.create_ssl_context(verify=verify, trust_env=False)


class _GuardedTransport(httpx.AsyncHTTPTransport):
    def __init__(
        self,
        backend: _GuardedBackend,
        *,
        verify: ssl.SSLContext | bool,
        limits: httpx.Limits,
    ) -> None:
        context = _ssl_context(verify)
        super().__init__(verify=context, trust_env=False, limits=limits)
        # httpx offers no hook for the network backend, so the pool it built is
        # replaced by an identical one that connects through the guard; a test
        # checks the guard is in force, so an httpx change cannot disable it silently.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


def uses_guard(transport: httpx.AsyncBaseTransport | httpx.BaseTransport) -> bool:
    """Whether ``transport`` connects through the SSRF guard, i.e. came from :func:`client`
    (the conformance suites check every request a plugin sends with it)."""
    return isinstance(transport, _GuardedTransport)


def client(
    *,
    timeout: float | httpx.Timeout = 10.0,
    allow: str | Iterable[str] | None = None,
    hosts: str | Mapping[str, Sequence[str]] | None = None,
    resolver: Resolver | None = None,
    follow_redirects: bool = False,
    max_redirects: int = 5,
    headers: Mapping[str, str] | None = None,
    base_url: str = "",
    auth: httpx.Auth | tuple[str, str] | None = None,
    verify: ssl.SSLContext | bool = True,
    limits: httpx.Limits | None = None,
) -> httpx.AsyncClient:
    """Create an outbound :class:`httpx.AsyncClient` behind the SSRF guard.

    :param allow: the allowlist; ``None`` reads ``AISLE_HTTP_ALLOW``.
    :param hosts: name-resolution overrides (``name=address,…`` or a mapping);
        ``None`` reads ``AISLE_HTTP_HOSTS``.
    :param resolver: resolves names not in ``hosts`` (the system resolver by default).
    :param follow_redirects: every hop is checked by the guard before connecting.

    Environment proxies are ignored: a proxy would connect on our behalf, unchecked.
    """
    policy = EgressPolicy.parse(os.environ.get(ALLOW_SETTING) if allow is None else allow)
    if hosts is None:
        hosts = os.environ.get(HOSTS_SETTING)
    entries = parse_hosts(hosts) if isinstance(hosts, str) or hosts is None else hosts
    base: Resolver = resolver or SystemResolver()
    if entries:
        base = HostsResolver({_normalize_host(k): list(v) for k, v in entries.items()}, base)
    transport = _GuardedTransport(
        _GuardedBackend(policy, base),
        verify=verify,
        limits=limits or httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    return httpx.AsyncClient(
        transport=transport,
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        headers=dict(headers) if headers else None,
        base_url=base_url,
        auth=auth,
        trust_env=False,
    )
