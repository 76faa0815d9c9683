"""No SSRF: receivers must be public https hosts, at registration and at every attempt.

No traffic leaves the machine: names resolve through a stand-in resolver (or to
localhost), and the connections made go to a local receiver or to a stand-in for
the internet's sockets.
"""
import socket
import time

import pytest
import urllib3.util.connection

from photoservice.webhooks import ssrf

REFUSED = ["10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.8.9.10", "169.254.169.254",
           "0.0.0.0", "100.64.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::",
           "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fe80::1%eth0",
           "192.0.2.7", "198.18.0.1", "203.0.113.9", "192.88.99.1"]
# IPv6 forms that carry an IPv4 address, judged by it, with the address they carry.
CARRIED = [
    ("::ffff:169.254.169.254", "169.254.169.254, a link-local"),   # IPv4-mapped
    ("2002:a9fe:a9fe::", "169.254.169.254, a link-local"),         # 6to4
    ("2002:7f00:1::1", "127.0.0.1, a loopback"),
    ("2002:c0a8:101:5::9", "192.168.1.1, a private"),
    # Teredo: server 65.54.227.120, client 169.254.169.254 XOR-ed (56a9:5601 ^ ffff:ffff)
    ("2001:0:4136:e378:8000:63bf:5601:5601", "169.254.169.254, a link-local"),
    ("2001:0:a00:1:8000:63bf:a201:57f5", "10.0.0.1, a private"),   # a private Teredo server
    ("64:ff9b::a9fe:a9fe", "169.254.169.254, a link-local"),       # NAT64, well-known prefix
    ("64:ff9b::10.1.2.3", "10.1.2.3, a private"),
]
# IPv6 that is not the public internet, carried IPv4 or not.
NOT_GLOBAL = ["fec0::1", "feff::1", "64:ff9b:1::5db8:d822", "::7f00:1", "::ffff:0:7f00:1",
              "100::1", "2001:db8::1", "2001:2::1", "2001:10::1", "3fff::1", "5f00::1",
              "4000::1", "ff02::1", "fd12:3456::1"]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:93.184.216.34",
          "2002:5db8:d822::1", "2001:0:4136:e378:8000:63bf:a201:57f5", "64:ff9b::5db8:d822"]


@pytest.mark.parametrize("address", REFUSED + NOT_GLOBAL)
def test_internal_addresses_are_refused(address):
    assert ssrf.address_refusal(address)


@pytest.mark.parametrize("address, carried", CARRIED)
def test_ipv6_forms_are_judged_by_the_ipv4_they_carry(address, carried):
    assert ssrf.address_refusal(address) == f"{address}, which carries {carried} address"


def test_site_local_is_named():
    assert ssrf.address_refusal("fec0::1") == "fec0::1, a site-local address"


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert ssrf.address_refusal(address) is None


@pytest.fixture
def strict(app, monkeypatch):
    """WEBHOOK_ALLOW_PRIVATE off, and `strict[name] = [addresses]` is what DNS answers;
    `strict.lookups` lists the names asked."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    answers = Answers()

    def resolve(host, port, timeout):
        answers.lookups.append(host)
        if host == "localhost":
            return real_resolve(host, port, timeout)  # /etc/hosts: no network either
        if host not in answers:
            raise ssrf.Refused(f"the host {host} does not resolve", ssrf.NO_ADDRESS)
        found = answers[host]
        if isinstance(found, tuple):  # successive answers
            found, answers[host] = found[0], found[1:]
        return found

    real_resolve = ssrf.resolve
    monkeypatch.setattr(ssrf, "resolve", resolve)
    return answers


class Answers(dict):
    """name → addresses, or a tuple of successive answers."""

    def __init__(self):
        super().__init__()
        self.lookups = []


def test_localhost_really_resolves_to_loopback():
    assert set(ssrf.resolve("localhost", 443, 5)) & {"127.0.0.1", "::1"}


@pytest.mark.parametrize("url, reason", [
    ("http://crm.example.com/hooks", "must use https"),
    ("https://10.0.0.1/hooks", "10.0.0.1, a private address"),
    ("https://127.0.0.1:8443/hooks", "127.0.0.1, a loopback address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
    ("https://[::1]/hooks", "::1, a loopback address"),
    ("https://[2002:a9fe:a9fe::]/hooks", "which carries 169.254.169.254, a link-local address"),
    ("https://[fec0::1]/hooks", "fec0::1, a site-local address"),
    ("https://localhost/hooks", "a loopback address"),
    ("https://intranet.example.com/hooks", "10.1.2.3, a private address"),
    ("https://split.example.com/hooks", "192.168.0.7, a private address"),
    ("https://nowhere.example.com/hooks", "does not resolve"),
])
def test_registration_refuses_internal_receivers(strict, register, url, reason):
    strict.update({"10.0.0.1": ["10.0.0.1"], "127.0.0.1": ["127.0.0.1"], "::1": ["::1"],
                   "2002:a9fe:a9fe::": ["2002:a9fe:a9fe::"], "fec0::1": ["fec0::1"],
                   "169.254.169.254": ["169.254.169.254"], "intranet.example.com": ["10.1.2.3"],
                   "split.example.com": ["93.184.216.34", "192.168.0.7"]})
    body = register(url, status=400)
    assert list(body["errors"]) == ["url"]
    assert reason in body["errors"]["url"][0]


def test_registration_accepts_a_public_https_receiver(strict, register):
    strict["crm.example.com"] = ["93.184.216.34"]
    assert register("https://crm.example.com/hooks")["enabled"] is True


def test_patch_checks_a_new_url_too(strict, owner, register):
    strict["crm.example.com"] = ["93.184.216.34"]
    endpoint = register("https://crm.example.com/hooks")
    response = owner.client.patch(f"/light/webhooks/{endpoint['id']}/", headers=owner.headers,
                                  json={"url": "https://169.254.169.254/"})
    assert response.status_code == 400 and list(response.get_json()["errors"]) == ["url"]


def test_delivery_refuses_a_host_that_now_resolves_inside(strict, owner, register, receiver,
                                                          deliveries, attempt):
    port = receiver.server.server_port
    strict["crm.example.com"] = ["93.184.216.34"]
    register(f"https://crm.example.com:{port}/hooks", ["photo.uploaded"])
    strict["crm.example.com"] = ["127.0.0.1"]  # DNS changed since registration
    owner.upload_and_finalize()
    attempt(deliveries()[0].id)
    [row] = deliveries()
    assert row.status == "pending" and row.attempts == 1 and row.last_status_code is None
    assert row.last_error == "Refused: the host resolves to a private address"
    assert receiver.requests == []


def test_delivery_refuses_plain_http_once_private_receivers_are_off(app, owner, register, receiver,
                                                                    deliveries, attempt, monkeypatch):
    register(receiver.url, ["photo.uploaded"])  # allowed when registered
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    owner.upload_and_finalize()
    attempt(deliveries()[0].id)
    assert deliveries()[0].last_error == "Refused: must use https"
    assert receiver.requests == []


def test_the_connection_goes_to_the_address_checked(strict, owner, register, deliveries, attempt,
                                                    monkeypatch):
    """A resolver that answers a public address once and loopback afterwards (DNS
    rebinding) gains nothing: a connection resolves once, checks, and connects to
    exactly what it checked. (The internet's sockets are a stand-in here.)"""
    dialled = []

    def connect(address, *args, **kwargs):
        dialled.append(address)
        raise ConnectionRefusedError(111, "Connection refused")

    strict["crm.example.com"] = ["93.184.216.34"]
    register("https://crm.example.com:8443/hooks", ["photo.uploaded"])
    owner.upload_and_finalize()
    strict["crm.example.com"] = (["93.184.216.34", "2606:4700::1111"], ["127.0.0.1"], ["127.0.0.1"])
    strict.lookups.clear()
    monkeypatch.setattr(urllib3.util.connection, "create_connection", connect)  # after the upload
    attempt(deliveries()[0].id)
    assert strict.lookups == ["crm.example.com"]
    assert dialled == [("93.184.216.34", 8443), ("2606:4700::1111", 8443)]  # each, in order
    assert deliveries()[0].last_error == "Could not connect"


def test_a_name_server_that_never_answers_costs_only_the_timeout(monkeypatch):
    def stuck(*args, **kwargs):  # a receiver's name server that never answers
        time.sleep(3)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr(socket, "getaddrinfo", stuck)
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        ssrf.resolve("slow.example.com", 443, 0.5)
    assert time.monotonic() - started < 1
