"""What loket may fetch when it harvests (catalogue pages, MAGDA responses): safe to put on a schedule.

A harvest follows URLs that come from the content itself (an LDES page names the next one), so it
fetches only from hosts the operator allowed (LOKET_HARVEST_HOSTS; by default the first URL's host),
never from a private, loopback or link-local address unless that host is allowed by name, through at
most a few redirects, each checked alike, and reads at most `max_bytes` of a response. Every refusal
says which rule refused what.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, replace
from ipaddress import ip_address
from urllib.parse import urlsplit

import httpx

MAX_REDIRECTS = 5


class Refused(Exception):
    pass


@dataclass(frozen=True)
class HarvestPolicy:
    hosts: tuple[str, ...] = ()  # `host` or `host:port`, as the operator named them
    named: bool = True  # the operator named them, so a private address among them is meant
    max_bytes: int = 20 * 1024 * 1024

    def starting_at(self, url: str) -> HarvestPolicy:
        """Without hosts named, the first URL's host is the one allowed (and it must be public)."""
        if self.hosts:
            return self
        return replace(self, hosts=(urlsplit(url).netloc.lower(),), named=False)

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Refused(f"{url}: only http and https addresses are harvested")
        host, netloc = parts.hostname.lower(), parts.netloc.lower()
        if host not in self.hosts and netloc not in self.hosts:
            raise Refused(f"{netloc}: not a host this harvest may fetch from (LOKET_HARVEST_HOSTS)")
        if not self.named and (private := _private_address(host)):
            raise Refused(f"{host}: private or loopback ({private}); name it in LOKET_HARVEST_HOSTS")

    def client(self, headers: dict[str, str], timeout: float) -> httpx.Client:
        """An HTTP client that checks every request against this policy, redirects included."""
        return httpx.Client(
            timeout=timeout,
            headers=headers,
            follow_redirects=True,
            max_redirects=MAX_REDIRECTS,
            event_hooks={"request": [lambda request: self.check(str(request.url))]},
        )

    def get(self, client: httpx.Client, url: str) -> tuple[httpx.Response, bytes]:
        """The response and at most `max_bytes` of its body; Refused past that, without reading on."""
        with client.stream("GET", url) as response:
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_bytes:
                raise Refused(f"{url}: {int(declared):,} bytes, more than the {self.max_bytes:,} allowed")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise Refused(f"{url}: more than the {self.max_bytes:,} bytes allowed")
            return response, bytes(body)


def _private_address(host: str) -> str | None:
    """The first address of `host` that is not public, if any (an unresolvable host is left to fail)."""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return None
    for address in sorted(addresses):
        ip = ip_address(address.split("%")[0])
        if not ip.is_global:
            return address
    return None
