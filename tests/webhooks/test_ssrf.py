"""No SSRF: receivers must be public https hosts, at registration and at every attempt.

No traffic leaves the machine: names resolve through a stand-in resolver (or to
localhost), and the one connection made goes to a local receiver.
"""
import pytest

from photoservice.webhooks import ssrf

REFUSED = ["10.0.0.1", "172.16.5.4", "192.168.1.1", "127.0.0.1", "127.8.9.10", "169.254.169.254",
           "0.0.0.0", "100.64.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "::1", "::",
           "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "fe80::1%eth0"]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"]


@pytest.mark.parametrize("address", REFUSED)
def test_internal_addresses_are_refused(address):
    assert ssrf.address_refusal(address)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address):
    assert ssrf.address_refusal(address) is None


@pytest.fixture
def strict(app, monkeypatch):
    """WEBHOOK_ALLOW_PRIVATE off, and `strict[name] = [addresses]` is what DNS answers."""
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    answers = {}

    def resolve(host, port):
        if host == "localhost":
            return real_resolve(host, port)  # /etc/hosts: no network either
        if host not in answers:
            raise ssrf.Refused(f"the host {host} does not resolve")
        return answers[host]

    real_resolve = ssrf.resolve
    monkeypatch.setattr(ssrf, "resolve", resolve)
    return answers


def test_localhost_really_resolves_to_loopback():
    assert set(ssrf.resolve("localhost", 443)) & {"127.0.0.1", "::1"}


@pytest.mark.parametrize("url, reason", [
    ("http://crm.example.com/hooks", "must use https"),
    ("https://10.0.0.1/hooks", "10.0.0.1, a private address"),
    ("https://127.0.0.1:8443/hooks", "127.0.0.1, a loopback address"),
    ("https://169.254.169.254/latest/meta-data/", "169.254.169.254, a link-local address"),
    ("https://[::1]/hooks", "::1, a loopback address"),
    ("https://localhost/hooks", "a loopback address"),
    ("https://intranet.example.com/hooks", "10.1.2.3, a private address"),
    ("https://split.example.com/hooks", "192.168.0.7, a private address"),
    ("https://nowhere.example.com/hooks", "does not resolve"),
])
def test_registration_refuses_internal_receivers(strict, register, url, reason):
    strict.update({"10.0.0.1": ["10.0.0.1"], "127.0.0.1": ["127.0.0.1"], "::1": ["::1"],
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
    assert row.last_error == "Refused: the host crm.example.com resolves to 127.0.0.1, a loopback address"
    assert receiver.requests == []


def test_delivery_refuses_plain_http_once_private_receivers_are_off(app, owner, register, receiver,
                                                                    deliveries, attempt, monkeypatch):
    register(receiver.url, ["photo.uploaded"])  # allowed when registered
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOW_PRIVATE", False)
    owner.upload_and_finalize()
    attempt(deliveries()[0].id)
    assert deliveries()[0].last_error == "Refused: must use https"
    assert receiver.requests == []


def test_the_address_connected_to_is_checked_too(strict, owner, register, receiver, deliveries, attempt):
    """A resolver that answers one thing to the check and another to the connection
    (DNS rebinding) is caught when the socket connects, before a byte is sent."""
    strict["127.0.0.1"] = ["93.184.216.34"]  # the check is told a public address...
    register(f"https://127.0.0.1:{receiver.server.server_port}/hooks", ["photo.uploaded"])
    owner.upload_and_finalize()
    attempt(deliveries()[0].id)  # ... the connection reaches loopback
    [row] = deliveries()
    assert row.last_error == "Refused: connected to 127.0.0.1, a loopback address"
    assert receiver.requests == []
