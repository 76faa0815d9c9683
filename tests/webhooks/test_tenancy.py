"""The tenancy matrix, part 2, for webhook routes: another company's endpoint or
delivery is a missing one to an owner, and employees and crew get the same 403
for any id (see tests/test_tenancy.py for the whole matrix)."""
import secrets

import pytest

from tests.tenancy import (  # noqa: F401  (people: a fixture)
    MISSING_ID, WEBHOOK_ARGUMENTS, company_ids, describe, id_endpoints, leaked, path_for, people,
    sample_body, send, uploaded)

WEBHOOK = "/light/webhooks/<int:webhook_id>/"
KNOWN_WEBHOOK_ENDPOINTS = {("GET", WEBHOOK), ("PATCH", WEBHOOK), ("DELETE", WEBHOOK),
                           ("POST", WEBHOOK + "rotate-secret/"), ("GET", WEBHOOK + "deliveries/"),
                           ("POST", WEBHOOK + "deliveries/<int:delivery_id>/redeliver/")}


@pytest.fixture
def webhooks(people):
    """label -> {webhook_id, delivery_id, url, message_id}: each company's endpoint with a
    delivery of its own, and ids that exist nowhere."""
    made = {}
    for label in ("ours", "theirs"):
        owner = people["owner" if label == "ours" else "their owner"]
        url = f"https://hooks.example.com/{secrets.token_hex(4)}"
        response = send(owner, "POST", "/light/webhooks/",
                        {"url": url, "events": ["photo.uploaded"], "description": f"Secret {url}"})
        assert response.status_code == 201, describe(response)
        webhook_id = response.get_json()["id"]
        uploaded(owner)
        log = owner.get(f"/light/webhooks/{webhook_id}/deliveries/").get_json()
        [delivery] = log["results"]
        made[label] = {"webhook_id": webhook_id, "delivery_id": delivery["id"], "url": url,
                       "message_id": delivery["message_id"]}
    made["missing"] = {"webhook_id": MISSING_ID, "delivery_id": MISSING_ID}
    # Our endpoint with their delivery: a delivery is found only under its own endpoint.
    made["ours, their delivery"] = dict(made["ours"], delivery_id=made["theirs"]["delivery_id"])
    made["ours, missing delivery"] = dict(made["ours"], delivery_id=MISSING_ID)
    return made


# What each hidden target must be indistinguishable from.
LOOKS_LIKE = {"theirs": "missing", "ours": "missing", "ours, their delivery": "ours, missing delivery"}


def webhook_routes(app):
    return [(m, r) for m, r in id_endpoints(app) if set(r.arguments) <= WEBHOOK_ARGUMENTS]


def hidden_webhook_cases(endpoints):
    """(route, asker, hidden ids, expected status): owners get 404, others 403, whatever the id."""
    for method, rule in endpoints:
        hidden = ["theirs"] + (["ours, their delivery"] if "delivery_id" in rule.arguments else [])
        for target in hidden:
            yield (method, rule), "owner", target, 404
        for asker in ("employee", "crew"):
            for target in ("ours", "theirs"):
                yield (method, rule), asker, target, 403


def test_hidden_webhooks_get_the_missing_id_response_on_every_route(app, people, webhooks,
                                                                    other_company):
    endpoints = webhook_routes(app)
    assert KNOWN_WEBHOOK_ENDPOINTS <= {(m, r.rule) for m, r in endpoints}
    cases = list(hidden_webhook_cases(endpoints))
    print(f"\ntenancy part 2 (webhooks): {len(endpoints)} routes, {len(cases)} cases")
    theirs = webhooks["theirs"]
    failures = []
    for (method, rule), asker, target, status in cases:
        caller, body = people[asker], sample_body(app, method, rule)
        hidden = send(caller, method, path_for(app, method, rule, webhooks[target]), body)
        missing = send(caller, method, path_for(app, method, rule, webhooks[LOOKS_LIKE[target]]), body)
        where = f"{method} {rule.rule}: {target} asked by {asker}"
        if hidden.status_code != status or hidden.data != missing.data:
            failures.append(f"{where}: {describe(hidden)} vs missing {describe(missing)}")
        elif shown := leaked(hidden, [theirs["url"], theirs["message_id"]],
                             [theirs["webhook_id"], *company_ids(other_company)]):
            failures.append(f"{where}: shows {shown}")
    # Positive controls, after every refusal: each owner reaches their own endpoint.
    for method, rule in endpoints:
        for owner, label in (("owner", "ours"), ("their owner", "theirs")):
            response = send(people[owner], method, path_for(app, method, rule, webhooks[label]),
                            sample_body(app, method, rule))
            if not 200 <= response.status_code < 300:
                failures.append(f"{method} {rule.rule}: {owner} on their own: {describe(response)}")
    assert not failures, "\n".join(failures)
