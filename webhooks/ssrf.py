"""POSTs to merchant URLs that cannot be pointed at our own network (SSRF guard).

The check happens when connecting, not only when the URL is registered: the host name is
resolved, every address is checked, and the connection goes to the checked address (with
the name as Host header, TLS SNI and certificate name), so a DNS answer that changes between
registration and delivery (DNS rebinding) gets nowhere. Redirects are never followed.

Refused: loopback, private, link-local (cloud metadata 169.254.169.254 among them),
shared/CGNAT 100.64.0.0/10, unspecified, multicast, reserved and any other non-global
address, IPv6 unique-local (fd00:ec2::254), IPv4-mapped, 6to4 and Teredo IPv6 addresses,
and hosts written as numbers in decimal, octal or hex ("2130706433", "0177.0.0.1").
Test mode may target private addresses (GATEWAY_WEBHOOKS_ALLOW_PRIVATE_IN_TEST) so a
developer can run a receiver on their laptop; numeric forms are refused there too.
"""

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import urllib3
from django.conf import settings

RESPONSE_EXCERPT_BYTES = 1024
_DRAIN_LIMIT = 64 * 1024  # read at most this much of a response to reuse the connection

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_METADATA = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")


class UnsafeURLError(Exception):
    """The URL may not receive webhooks; the message says why (shown to the merchant)."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # the name as written (lowercase), without brackets
    port: int
    path: str  # path and query


def address_refusal(ip: IPAddress) -> str | None:
    """Why this address may not be the target of a live-mode webhook, or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        if ip.sixtofour is not None or ip.teredo is not None:
            return "a 6to4 or Teredo address"
    if ip in _METADATA:
        return "a cloud metadata address"
    checks = [
        ("loopback", ip.is_loopback),
        ("unspecified", ip.is_unspecified),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("shared (CGNAT)", isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT),
    ]
    for name, hit in checks:
        if hit:
            return f"a {name} address"
    if not ip.is_global:
        return "not a public address"
    return None


def _numeric_host_form(host: str) -> bool:
    """True for IPv4 written other than dotted decimal: 2130706433, 0177.0.0.1, 0x7f.1."""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    try:
        socket.inet_aton(host)
        return True
    except OSError:
        pass
    # inet_aton refuses some that resolvers still accept (e.g. "0x7f.0.0.0x1" variants).
    parts = host.split(".")
    return all(p and (p.isdigit() or p.lower().startswith("0x")) for p in parts)


def parse_target(url: str, *, livemode: bool) -> Target:
    """Check the shape of a webhook URL (scheme, host form). Raises UnsafeURLError."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeURLError(f"Invalid URL: {exc}.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeURLError("Invalid URL: the scheme must be https (or http in test mode).")
    if livemode and scheme != "https":
        raise UnsafeURLError("Invalid URL: live mode webhook endpoints must use https.")
    if parts.username or parts.password:
        raise UnsafeURLError("Invalid URL: credentials in the URL are not allowed.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURLError("Invalid URL: it has no host.")
    if _numeric_host_form(host):
        raise UnsafeURLError(
            f"Invalid URL: the host {host} is an IP address in a numeric form; "
            "write it as a name or a dotted-decimal address."
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80),
                  path=path)  # fmt: skip


def _allow_private(livemode: bool) -> bool:
    return not livemode and settings.GATEWAY_WEBHOOKS_ALLOW_PRIVATE_IN_TEST


def resolve(target: Target, *, livemode: bool) -> list[IPAddress]:
    """Every address of the target's host, each checked. Raises UnsafeURLError."""
    try:
        literal = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = socket.getaddrinfo(target.host, target.port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            raise UnsafeURLError(f"Could not resolve {target.host}: {exc}.") from None
        addresses = []
        for info in infos:
            ip = ipaddress.ip_address(info[4][0].split("%")[0])
            if ip not in addresses:
                addresses.append(ip)
    if not _allow_private(livemode):
        for ip in addresses:
            reason = address_refusal(ip)
            if reason:
                raise UnsafeURLError(
                    f"The host {target.host} resolves to {ip}, {reason}; webhooks go only to "
                    "public internet addresses."
                )
    if not addresses:
        raise UnsafeURLError(f"Could not resolve {target.host}.")
    return addresses


def validate_url(url: str, *, livemode: bool) -> None:
    """Registration-time check: the URL's shape, and its addresses when it resolves now
    (a name that does not resolve yet is accepted; every delivery checks again)."""
    target = parse_target(url, livemode=livemode)
    try:
        resolve(target, livemode=livemode)
    except UnsafeURLError as exc:
        if str(exc).startswith("Could not resolve"):
            return
        raise


@dataclass(frozen=True)
class PostResult:
    status_code: int | None
    duration_ms: int
    excerpt: str
    error: str


_pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
_pools_lock = threading.Lock()
_MAX_POOLS = 256


def _pool(target: Target, ip: IPAddress) -> urllib3.HTTPConnectionPool:
    # Keyed by the checked address: a pooled connection always goes where we checked.
    key = (target.scheme, str(ip), target.port, target.host)
    with _pools_lock:
        pool = _pools.get(key)
        if pool is None:
            if len(_pools) >= _MAX_POOLS:
                for old in list(_pools.values()):
                    old.close()
                _pools.clear()
            common = {"maxsize": 32, "block": False, "retries": False}
            if target.scheme == "https":
                pool = urllib3.HTTPSConnectionPool(
                    str(ip),
                    target.port,
                    server_hostname=target.host,
                    assert_hostname=target.host,
                    cert_reqs="CERT_REQUIRED",
                    **common,
                )
            else:
                pool = urllib3.HTTPConnectionPool(str(ip), target.port, **common)
            _pools[key] = pool
    return pool


def safe_post(
    url: str, *, body: bytes, headers: dict[str, str], livemode: bool, timeout: float
) -> PostResult:
    """POST `body` to `url` after the SSRF checks; never raises for network trouble."""
    started = time.monotonic()

    def done(status: int | None = None, excerpt: str = "", error: str = "") -> PostResult:
        duration = int((time.monotonic() - started) * 1000)
        return PostResult(status, duration, excerpt, error[:1000])

    try:
        target = parse_target(url, livemode=livemode)
        addresses = resolve(target, livemode=livemode)
    except UnsafeURLError as exc:
        return done(error=f"refused: {exc}")
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    request_headers = {**headers, "Host": host_header}
    deadline = started + timeout
    last_error = ""
    for ip in addresses:  # the first address that accepts a connection gets the POST
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            response = _pool(target, ip).urlopen(
                "POST",
                target.path,
                body=body,
                headers=request_headers,
                redirect=False,
                retries=False,
                assert_same_host=False,
                preload_content=False,
                timeout=urllib3.Timeout(connect=remaining, read=remaining),
            )
        except urllib3.exceptions.NewConnectionError as exc:
            last_error = f"connection failed: {exc}"
            continue
        except urllib3.exceptions.HTTPError as exc:
            return done(error=f"{type(exc).__name__}: {exc}")
        try:
            excerpt = response.read(RESPONSE_EXCERPT_BYTES)
            at_end = len(excerpt) < RESPONSE_EXCERPT_BYTES
            if not at_end:
                at_end = len(response.read(_DRAIN_LIMIT)) < _DRAIN_LIMIT
        except urllib3.exceptions.HTTPError as exc:
            response.close()
            return done(response.status, error=f"reading the response: {exc}")
        if at_end:
            response.release_conn()
        else:
            response.close()  # too long to read to the end: do not reuse this connection
        return done(response.status, excerpt.decode("utf-8", "replace"))
    return done(error=last_error or "timed out")
