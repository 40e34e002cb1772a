"""Who may reach the server from where: the names it answers to, which web pages may open a WebSocket
(`Origin`), TLS, and the addresses to print when it listens on every interface.

Browsers let any page open a WebSocket to any server, carrying the page's origin in `Origin`
(RFC 6455 section 10.2): the server must check it. A page served from a DNS name the attacker controls
can also make that name resolve to 127.0.0.1 (DNS rebinding): its requests then carry the attacker's
name in `Host`, which is why `Host` must be one of the server's own names (RFC 7230 section 5.4).
Clients that are not browsers send no `Origin` and are not affected by the origin check.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import SplitResult, urlsplit

# CPython 3.11+ keeps urlsplit's last 128 results in an lru_cache. Fed with what clients send (request
# targets, Origin headers), it keeps their strings alive, scattered over the allocator's arenas, which
# then cannot be given back after a flood of connections: server memory stayed up ~40 MB after 3,000
# connections had come and gone. The function under the cache does the same parsing without keeping.
_UNCACHED_URLSPLIT: Callable[[str], SplitResult] = getattr(urlsplit, "__wrapped__", urlsplit)


def split_url(url: str) -> SplitResult:
    """`urllib.parse.urlsplit`, without keeping the result in a cache."""
    return _UNCACHED_URLSPLIT(url)


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def _name(value: str) -> str:
    return value.strip().lower().rstrip(".").strip("[]")


def server_names(host: str, public_names: Iterable[str] = ()) -> frozenset[str]:
    """The names the server answers to: loopback, the listening address (unless a wildcard) and the
    public names it was given."""
    names = set(LOOPBACK_NAMES) | {_name(n) for n in public_names}
    if host not in WILDCARDS:
        names.add(_name(host))
    return frozenset(names)


def split_host(value: str) -> tuple[str, int | None]:
    """`Host` (or an origin's authority) as (name, port): `[::1]:8765` -> ('::1', 8765)."""
    value = value.strip()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, _, port = value.partition(":")
    else:  # no port, or a bare IPv6 address
        name, port = value, ""
    return _name(name), int(port) if port.isdigit() else None


def origin_parts(origin: str) -> tuple[str, str, int | None] | None:
    """(scheme, host name, port or None) of an origin, or None if it is not one urllib can read.

    `Origin` comes from the client: a bad port (`:99999`, `:xyz`) or a broken IPv6 literal makes
    urllib raise ValueError, which must end as a refusal, not as an error inside the handshake.
    """
    try:
        parts = split_url(origin.strip().lower().rstrip("/"))
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    return parts.scheme, parts.hostname, port


def normal_origin(origin: str) -> str:
    """An origin as compared: lower case, no trailing slash, the default port left out (an unreadable
    one is compared as it is, and so matches nothing but itself)."""
    parts = origin_parts(origin)
    if parts is None:
        return origin.strip().lower()
    scheme, hostname, port = parts
    default = {"http": 80, "https": 443, "ws": 80, "wss": 443}.get(scheme)
    shown = "" if port in (None, default) else f":{port}"
    host = f"[{hostname}]" if ":" in hostname else hostname
    return f"{scheme}://{host}{shown}"


def check_host_and_origin(
    host_header: str | None,
    origin: str | None,
    *,
    names: frozenset[str],
    local_address: str | None,
    port: int,
    allow_origins: Iterable[str],
) -> str | None:
    """Why a WebSocket upgrade is refused (403), or None if it may go on.

    `Host` must name the server: one of `names`, or the address the connection arrived at (an IP
    literal cannot be rebound). `Origin`, when sent, must be one of `allow_origins` or the server's
    own: http(s) on one of those names at the server's port.
    """
    known = set(names) | ({_name(local_address)} if local_address else set())
    name, _ = split_host(host_header or "")
    if name not in known:
        return (
            f"Host {name!r} is not a name of this server: connect to 127.0.0.1, localhost or the "
            f"address it listens on, or start it with --public-name {name or 'NAME'}"
        )
    if origin is None:
        return None
    normal = normal_origin(origin)
    if normal in {normal_origin(o) for o in allow_origins}:
        return None
    parts = origin_parts(normal)
    if parts is not None:
        scheme, hostname, origin_port = parts
        own_port = origin_port or {"http": 80, "https": 443}.get(scheme)
        if scheme in ("http", "https") and _name(hostname) in known and own_port == port:
            return None
    return (
        f"web pages from {normal} may not connect: start the server with --allow-origin {normal} "
        "to let them (clients that are not browsers send no Origin)"
    )


def tls_context(certfile: Path | str, keyfile: Path | str | None = None) -> ssl.SSLContext:
    """A server TLS context (TLS 1.2 at least) with this certificate chain and key (PEM files)."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile, keyfile)
    return context


def is_loopback(host: str) -> bool:
    """Whether listening on `host` keeps the server on this machine."""
    if _name(host) == "localhost":
        return True
    try:
        return ipaddress.ip_address(_name(host)).is_loopback
    except ValueError:
        return False


def machine_addresses() -> list[str]:
    """This machine's non-loopback IP addresses, best first (the one routing to the outside first)."""
    found: list[str] = []
    try:  # a UDP "connection" sends nothing: it only asks the kernel which source address it would use
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1 (RFC 5737): never routed anywhere real
            found.append(probe.getsockname()[0])
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, proto=socket.IPPROTO_TCP)
    except OSError:
        infos = []
    found += [str(info[4][0]) for info in infos]
    unique = dict.fromkeys(a for a in found if not is_loopback(a) and not a.startswith("fe80"))
    return list(unique)


def reachable_hosts(host: str) -> list[str]:
    """Where clients can reach a server listening on `host`: itself, or for a wildcard the machine's
    addresses then loopback (never 0.0.0.0, which no client can connect to)."""
    if host not in WILDCARDS:
        return [host]
    return [*machine_addresses(), "127.0.0.1"]


def url_host(host: str) -> str:
    """`host` as written in a URL (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host
