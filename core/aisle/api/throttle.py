"""Failed sign-ins and bad tokens, counted per client address (and per account).

After ``limit`` failures in a window, every further attempt from that address — right
or wrong — gets 429 with ``Retry-After`` until the window ends, so guessing gains
nothing by continuing. The counters live in the rate-limit store
(:mod:`aisle.api.ratelimit`): Redis when configured, so every API process sees the
same count, and this process's memory otherwise. The API's bearer tokens and the
dashboard's sign-in form count against the same per-address budget.
"""

from __future__ import annotations

import hashlib
import ipaddress

from aisle.api.ratelimit import RateLimiter

__all__ = ["AuthThrottle", "address_key"]


def address_key(host: str | None) -> str:
    """The unit an address is counted in: an IPv4 address, or an IPv6 /64 (one
    subscriber usually holds a whole /64, so counting single addresses would be moot)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:100]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class AuthThrottle:
    """Counts authentication failures; ``limit`` 0 turns the throttle off."""

    def __init__(self, limiter: RateLimiter, limit: int, window: int) -> None:
        self._limiter = limiter
        self.limit = limit
        self.window = window

    def _keys(self, address: str | None, account: str | None) -> list[str]:
        keys = [f"authfail:addr:{address_key(address)}"]
        if account:
            # Hashed: an email address has no business in the rate-limit store.
            digest = hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]
            keys.append(f"authfail:account:{digest}")
        return keys

    async def retry_after(self, address: str | None, account: str | None = None) -> int | None:
        """Seconds until an attempt from ``address`` (for ``account``) is heard again, or
        ``None`` when it may be tried now."""
        if self.limit <= 0:
            return None
        waits = []
        for key in self._keys(address, account):
            decision = await self._limiter.peek(key, self.limit, self.window)
            if decision.remaining == 0:
                waits.append(decision.reset_seconds)
        return max(waits) if waits else None

    async def failed(self, address: str | None, account: str | None = None) -> None:
        """Count one failed attempt."""
        if self.limit <= 0:
            return
        for key in self._keys(address, account):
            await self._limiter.hit(key, self.limit, self.window)

    def detail(self, retry_after: int) -> str:
        return (
            f"too many failed sign-ins from this address ({self.limit} per {self.window} s); "
            f"retry in {retry_after} s"
        )
