"""Where webhooks may go: public https hosts only, unless WEBHOOK_ALLOW_PRIVATE.

A receiver's host is resolved and every address it resolves to must be public:
not loopback, private, link-local (cloud metadata at 169.254.169.254), shared,
reserved, multicast or unspecified. Checked when an endpoint is registered and
before each attempt (DNS can change); the transport checks the address it
really connected to as well, so a rebinding resolver cannot slip past.
"""
import ipaddress
import socket
from urllib.parse import urlsplit


class Refused(Exception):
    """The URL may not receive webhooks; the message says why."""


def address_refusal(address):
    """Why an IP address may not receive webhooks (`10.0.0.1, a private address`),
    or None if it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    for kind, test in (("loopback", ip.is_loopback), ("link-local", ip.is_link_local),
                       ("private", ip.is_private), ("multicast", ip.is_multicast),
                       ("non-public", not ip.is_global or ip.is_reserved or ip.is_unspecified)):
        if test:
            return f"{address}, a {kind} address"
    return None


def resolve(host, port):
    """Every address `host` resolves to (getaddrinfo); raises Refused if none."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise Refused(f"the host {host} does not resolve ({error})") from None
    return sorted({info[4][0] for info in infos})


def check_url(url, allow_private):
    """Raise Refused unless `url` may receive webhooks now.

    With `allow_private` (development, tests) plain http and any address pass.
    """
    parts = urlsplit(url)
    if allow_private:
        return
    if parts.scheme != "https":
        raise Refused("must use https")
    addresses = resolve(parts.hostname, parts.port or 443)
    for address in addresses:
        problem = address_refusal(address)
        if problem:
            raise Refused(f"the host {parts.hostname} resolves to {problem}")
