"""Where a webhook may go. Checked twice: when the run or cron is created, for a clear 422,
and before every delivery on the addresses the host resolves to at that moment. The
delivery then connects to an address that passed (`Target.pinned`), so a DNS answer that
changes between the check and the connection (rebinding) cannot turn a webhook against this
machine or its network."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from graphport.server.graphs.webhooks import UrlPolicy

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the IP addresses it resolves to, as strings.
Resolver = Callable[[str, int], Awaitable[list[str]]]
RESOLVE_TIMEOUT_SECONDS = 5.0
# Cloud metadata services outside the link-local range, refused whatever the policy
# (169.254.169.254 is link-local, always refused).
METADATA = frozenset(ipaddress.ip_address(a) for a in ("fd00:ec2::254", "100.100.100.200"))


class WebhookRefused(ValueError):
    """The policy forbids this webhook URL; the message says why."""


@dataclass(frozen=True)
class Target:
    """A checked webhook destination: the URL as given and the addresses it may use."""

    url: httpx.URL
    addresses: tuple[IPAddress, ...]

    def pinned(self) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
        """(URL, headers, request extensions) that connect to the first checked address
        while the server still sees the original host in `Host` and, over TLS, in SNI (the
        certificate is verified against that name)."""
        url = self.url.copy_with(host=str(self.addresses[0]))
        extensions = {"sni_hostname": self.url.host} if self.url.scheme == "https" else {}
        return url, {"Host": self.url.netloc.decode("ascii")}, extensions


async def system_resolver(host: str, port: int) -> list[str]:
    """The event loop's getaddrinfo (runs in a thread, never blocks the loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def parse(url: str, policy: UrlPolicy) -> httpx.URL:
    """Checks that need no network: length, scheme, host, domain and port."""
    if len(url) > policy.max_url_length:
        raise WebhookRefused(f"URL longer than {policy.max_url_length} characters")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as e:
        raise WebhookRefused(f"invalid URL: {e}") from None
    schemes = ("https",) if policy.require_https else ("http", "https")
    if parsed.scheme not in schemes:
        raise WebhookRefused(f"the scheme must be {' or '.join(schemes)}, got {url!r}")
    if not parsed.host:
        raise WebhookRefused("the URL has no host")
    if not policy.allows_host(host_of(parsed)):
        raise WebhookRefused(f"host {parsed.host!r} is not in webhooks.url.allowed_domains")
    if policy.allowed_ports and port_of(parsed) not in policy.allowed_ports:
        raise WebhookRefused(f"port {port_of(parsed)} is not in webhooks.url.allowed_ports")
    return parsed


def host_of(url: httpx.URL) -> str:
    """The host as compared with allowed_domains: ASCII (xn--), lower case, no final dot."""
    return url.raw_host.decode("ascii").lower().rstrip(".")


def port_of(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def refusal(address: IPAddress, policy: UrlPolicy) -> str | None:
    """What makes `address` forbidden under `policy` ("a loopback address"), or None."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if address.is_link_local or address in METADATA:
        return "a link-local or cloud metadata address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_loopback or address.is_unspecified:  # 0.0.0.0 reaches this machine too
        return "a loopback address" if policy.disable_loopback else None
    if not address.is_global and policy.disable_private_ips:
        return "a private or reserved address"
    return None


async def resolve(url: str, policy: UrlPolicy, resolver: Resolver) -> Target:
    """Check `url` and every address its host resolves to now. Raises `WebhookRefused`;
    resolver failures (OSError, TimeoutError) pass through, as they may be transient."""
    parsed = parse(url, policy)
    try:
        addresses: tuple[IPAddress, ...] = (ipaddress.ip_address(parsed.host),)
    except ValueError:
        async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
            answer = await resolver(parsed.host, port_of(parsed))
        addresses = tuple(dict.fromkeys(ipaddress.ip_address(a) for a in answer))
        if not addresses:
            raise OSError(f"{parsed.host} resolved to no address") from None
    for address in addresses:  # one bad answer taints the name: the next lookup may pick it
        kind = refusal(address, policy)
        if kind is not None:
            said = (
                f"{address} is {kind}"
                if str(address) == parsed.host
                else f"{parsed.host} resolves to {address}, {kind}"
            )
            raise WebhookRefused(f"{said} (webhooks.url policy)")
    return Target(parsed, addresses)
