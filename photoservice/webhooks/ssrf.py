"""Where webhooks may go: public https hosts only, unless WEBHOOK_ALLOW_PRIVATE.

A receiver's host is resolved and every address it resolves to must be public:
not loopback, private, link-local (cloud metadata at 169.254.169.254), shared,
reserved, documentation, multicast or unspecified. An IPv6 address that carries
an IPv4 one (IPv4-mapped, 6to4, Teredo, NAT64) is judged by the IPv4 it carries,
since that is where its packets end up; any other IPv6 address must be global
unicast (2000::/3) outside the blocks set aside from it. Checked when an endpoint
is registered; each connection of a delivery resolves its host once more and
connects to exactly the addresses checked (see transport), so DNS that changes
between the check and the connection (rebinding) cannot slip past.
"""
import ipaddress
import socket
import threading
from ipaddress import IPv4Network as V4
from ipaddress import IPv6Network as V6
from urllib.parse import urlsplit

#: IPv4 outside the public internet, by kind (IANA's special-purpose registry).
IPV4_NOT_PUBLIC = [
    (V4("127.0.0.0/8"), "loopback"), (V4("169.254.0.0/16"), "link-local"),
    (V4("10.0.0.0/8"), "private"), (V4("172.16.0.0/12"), "private"), (V4("192.168.0.0/16"), "private"),
    (V4("100.64.0.0/10"), "shared"), (V4("224.0.0.0/4"), "multicast"),
    *((V4(block), "non-public") for block in (
        "0.0.0.0/8", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "240.0.0.0/4")),
]
#: IPv6 outside the public internet, by kind; anything outside GLOBAL_UNICAST is too.
IPV6_NOT_PUBLIC = [
    (V6("::1/128"), "loopback"), (V6("fe80::/10"), "link-local"), (V6("fec0::/10"), "site-local"),
    (V6("fc00::/7"), "private"), (V6("ff00::/8"), "multicast"),
    # Carved out of 2000::/3: IETF protocol assignments (Teredo, read below, aside),
    # documentation.
    *((V6(block), "non-public") for block in ("2001::/23", "2001:db8::/32", "3fff::/20")),
]
GLOBAL_UNICAST = V6("2000::/3")
IPV4_MAPPED, SIX_TO_FOUR, TEREDO = V6("::ffff:0:0/96"), V6("2002::/16"), V6("2001::/32")
NAT64 = V6("64:ff9b::/96")  # the well-known prefix: the IPv4 address is the last 32 bits
# The local-use NAT64 prefix (64:ff9b:1::/48) puts the IPv4 address where the network
# chooses: never a public receiver, refused with everything else outside 2000::/3.


class Refused(Exception):
    """The URL may not receive webhooks: `str()` says why in detail (for the owner who
    registers it), `summary` in a stable short sentence (for a delivery's log)."""

    def __init__(self, detail, summary):
        super().__init__(detail)
        self.summary = summary


NOT_PUBLIC = "the host resolves to a private address"
NO_ADDRESS = "the host does not resolve"


def carried_ipv4(ip):
    """The IPv4 addresses an IPv6 address carries (where its packets go), or []."""
    if ip in IPV4_MAPPED:
        return [ip.ipv4_mapped]
    if ip in SIX_TO_FOUR:
        return [ip.sixtofour]
    if ip in TEREDO:
        return list(ip.teredo)  # the Teredo server and the client (un-XOR-ed)
    if ip in NAT64:
        return [ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)]
    return []


def _kind(ip):
    """The kind of a non-public address (`private`, `loopback`, ...), or None."""
    if ip.version == 4:
        return next((kind for network, kind in IPV4_NOT_PUBLIC if ip in network), None)
    kind = next((kind for network, kind in IPV6_NOT_PUBLIC if ip in network), None)
    if kind is None and ip not in GLOBAL_UNICAST:
        kind = "non-public"
    return kind


def address_refusal(address):
    """Why an IP address may not receive webhooks (`10.0.0.1, a private address`),
    or None if it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    carried = carried_ipv4(ip) if ip.version == 6 else []
    for inner in carried:
        kind = _kind(inner)
        if kind:
            return f"{address}, which carries {inner}, a {kind} address"
    kind = None if carried else _kind(ip)
    return f"{address}, a {kind} address" if kind else None


def resolve(host, port, timeout):
    """Every address `host` resolves to, in the resolver's order; raises Refused if
    none, TimeoutError if the resolver has not answered within `timeout` seconds.

    The lookup runs in a thread of its own because getaddrinfo cannot be
    interrupted: a receiver's name server that never answers costs that thread
    the resolver's own timeout, and the caller only `timeout`.
    """
    answer = {}

    def lookup():
        try:
            answer["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as error:
            answer["error"] = error

    thread = threading.Thread(target=lookup, name="webhook-resolve", daemon=True)
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        raise TimeoutError(f"the host {host} did not resolve within {timeout:g} s")
    if "error" in answer:
        raise Refused(f"the host {host} does not resolve ({answer['error']})", NO_ADDRESS)
    return list(dict.fromkeys(info[4][0] for info in answer["infos"]))


def public_addresses(host, port, timeout):
    """The addresses of `host`, all public; raises Refused if any is not."""
    addresses = resolve(host, port, timeout)
    for address in addresses:
        problem = address_refusal(address)
        if problem:
            raise Refused(f"the host {host} resolves to {problem}", NOT_PUBLIC)
    return addresses


def check_scheme(url, allow_private):
    """Raise Refused unless `url` is https (or anything goes: `allow_private`)."""
    if not allow_private and urlsplit(url).scheme != "https":
        raise Refused("must use https", "must use https")


def check_url(url, allow_private, timeout):
    """Raise Refused unless `url` may receive webhooks now.

    With `allow_private` (development, tests) plain http and any address pass.
    """
    check_scheme(url, allow_private)
    if allow_private:
        return
    parts = urlsplit(url)
    try:
        public_addresses(parts.hostname, parts.port or 443, timeout)
    except TimeoutError as error:
        raise Refused(str(error), NO_ADDRESS) from None
