"""The tenancy matrix: broken object-level authorization (OWASP API #1).

Spec, "Tenancy and auth": an id from another company behaves exactly like an id
that does not exist (same status, same message), and nothing in a response
reveals another company's data. "Reading photos" adds the rules inside a company:
a pending photo is visible to its creator only; crew see only their own photos.

The matrix is generated from the app, so a new endpoint or field joins it, or
fails it loudly, without anyone having to remember this file:

1. References in bodies. Every /light/ endpoint that reads a JSON body is found
   in the url_map; every integer field of its marshmallow schema is a reference
   to a company-owned object (checked against `REFERENCES`). For each
   field, another company's id of that kind and an id that does not exist get
   the same 400, byte for byte, naming only that field.
2. Ids in paths. Every /light/ route with a path argument, with every method it
   allows, is asked for photos the caller may not see: another company's,
   another user's pending one, someone else's uploaded one asked by crew. Each
   gets exactly the 404 a missing id gets. Afterwards each photo's creator makes
   the same requests and gets a 2xx (or the refusal its state calls for, such as
   the 409 of an upload URL for an uploaded photo), so the 404s cannot come from
   a broken route. Webhook routes the same way, in tests/webhooks/test_tenancy.py:
   another company's endpoint or delivery is a missing one to an owner, and
   employees and crew get the same 403 for any id.
3. The list. Another company's photos never show in GET /light/photos/, for any
   role, whatever filter points at the other company's jobs and line items.
"""
import re

from photoservice.photos.models import REFERENCES
from tests.tenancy import (  # noqa: F401  (people, photos: fixtures)
    MISSING_ID, OURS, PAGING_FIELDS, PHOTO_ARGUMENTS, WEBHOOK_ARGUMENTS, api_endpoints, body_endpoints,
    company_ids, describe, details_of, hidden_photo_cases, id_endpoints, integer_fields, leaked,
    minimal_body, path_for, people, photos, reference_id, references_of, sample_body, schemas_read, send)

# Endpoints with a body whose generated cases have been reviewed. A new one
# joins part 1 by itself; add it here once its cases pass, so none can slip in
# unnoticed.
PHOTO = "/light/photos/<int:photo_id>/"
MULTIPART = PHOTO + "multipart/"
REVIEWED_BODY_ENDPOINTS = {("POST", "/light/photos/"), ("PATCH", "/light/photos/<int:photo_id>/"),
                           ("POST", "/light/webhooks/"), ("PATCH", "/light/webhooks/<int:webhook_id>/"),
                           ("POST", MULTIPART), ("POST", MULTIPART + "parts/")}
# Routes with an id in the path today: part 2 must cover at least these.
KNOWN_ID_ENDPOINTS = {("GET", "/light/photos/<int:photo_id>/"),
                      ("PATCH", "/light/photos/<int:photo_id>/"),
                      ("DELETE", "/light/photos/<int:photo_id>/"),
                      ("PUT", "/light/photos/<int:photo_id>/uploaded/"),
                      ("POST", "/light/photos/<int:photo_id>/upload-url/"),
                      ("GET", MULTIPART), ("POST", MULTIPART), ("DELETE", MULTIPART),
                      ("POST", MULTIPART + "parts/")}
# What a photo's creator gets instead of a 2xx, by (method, route, state): the
# route works, the photo's state refuses.
CREATOR_REFUSALS = {("POST", "/light/photos/<int:photo_id>/upload-url/", "uploaded"): 409,
                    **{(method, route, "uploaded"): 409 for method, route in (
                        ("GET", MULTIPART), ("POST", MULTIPART), ("DELETE", MULTIPART),
                        ("POST", MULTIPART + "parts/"))}}
# The fewest cases each part generates for today's app (printed when run with -s).
MIN_CASES = {"bodies": 60, "paths": 130, "list": 32}


# --- 1. References in bodies ----------------------------------------------

def test_every_body_endpoint_is_reviewed(app):
    """Today the create and the update read a body; a new one must join part 1 knowingly."""
    found = {(method, rule.rule) for method, rule, _ in body_endpoints(app)}
    assert found == REVIEWED_BODY_ENDPOINTS, (
        "endpoints with a body changed: check test_foreign_and_missing_references_are_"
        "indistinguishable covers them, then update REVIEWED_BODY_ENDPOINTS")


def test_body_references_are_the_reference_fields(app):
    """Each photo body's integer fields are exactly what the service resolves as
    references; a webhook body has none."""
    for method, rule, schema in body_endpoints(app):
        expected = [] if rule.rule.startswith(("/light/webhooks/", MULTIPART)) else sorted(REFERENCES)
        assert integer_fields(schema) == expected, (
            f"{method} {rule.rule}: an integer field of the body is not a reference (or a "
            "reference is not an integer): the tenancy matrix does not know what it points at")


def reference_cases(app, company, other_company):
    """(endpoint, field, role, other body fields, foreign id) for every body reference."""
    ours = references_of(company)
    for method, rule, schema in body_endpoints(app):
        references = integer_fields(schema)
        unknown = set(references) - set(REFERENCES)
        assert not unknown, f"{method} {rule.rule}: {sorted(unknown)} are no known reference"
        for field in references:
            others_valid = {f: ours[f] for f in references if f != field}
            for role in ("owner", "employee", "crew"):
                for context in ({}, others_valid):
                    yield (method, rule, schema), field, role, context, reference_id(other_company, field)


def test_foreign_and_missing_references_are_indistinguishable(app, people, company, other_company):
    cases = list(reference_cases(app, company, other_company))
    print(f"\ntenancy part 1: {len(cases)} body-reference cases")
    assert len(cases) >= MIN_CASES["bodies"]

    ours = references_of(company)
    failures = []
    for (method, rule, schema), field, role, context, foreign_id in cases:
        caller = people[role]
        path = path_for(app, method, rule, {"photo_id": caller.create()["id"]}) if rule.arguments else rule.rule
        base = dict(minimal_body(schema), **context)
        foreign = send(caller, method, path, dict(base, **{field: foreign_id}))
        missing = send(caller, method, path, dict(base, **{field: MISSING_ID}))
        where = f"{method} {rule.rule} {field} by {role}" + (" beside the others" if context else "")
        body = foreign.get_json(silent=True) or {}
        named = set(re.findall(r"\w+", body.get("message", ""))) & set(REFERENCES)
        if foreign.status_code != 400 or foreign.data != missing.data:
            failures.append(f"{where}: foreign {describe(foreign)} vs missing {describe(missing)}")
        elif set(body.get("errors", {})) != {field} or named != {field}:
            failures.append(f"{where}: names more than {field}: {describe(foreign)}")
        elif leaked(foreign, [], [foreign_id]):
            failures.append(f"{where}: shows the foreign id: {describe(foreign)}")
        # Positive control: the caller's own id of that kind is accepted.
        own = send(caller, method, path, dict(base, **{field: ours[field]}))
        if not 200 <= own.status_code < 300:
            failures.append(f"{where}: own id refused: {describe(own)}")
    assert not failures, "\n".join(failures)


# --- 2. Ids in paths --------------------------------------------------------

def test_every_id_route_is_in_the_matrix(app):
    unknown = [(m, r.rule) for m, r in id_endpoints(app)
               if set(r.arguments) not in (PHOTO_ARGUMENTS, {"webhook_id"}, WEBHOOK_ARGUMENTS)]
    assert not unknown, f"teach part 2 of the tenancy matrix about {unknown}"


def photo_routes(app):
    return [(m, r) for m, r in id_endpoints(app) if set(r.arguments) == PHOTO_ARGUMENTS]


def test_hidden_photos_get_the_missing_id_404_on_every_route(app, people, photos, other_company):
    endpoints = photo_routes(app)
    assert KNOWN_ID_ENDPOINTS <= {(m, r.rule) for m, r in endpoints}
    hidden = list(hidden_photo_cases(photos))
    cases = [(endpoint, *case) for endpoint in endpoints for case in hidden]
    print(f"\ntenancy part 2: {len(endpoints)} routes x {len(hidden)} hidden photos = "
          f"{len(cases)} cases, plus {len(endpoints) * len(photos)} positive controls")
    assert len(cases) >= MIN_CASES["paths"]

    foreign_ids = company_ids(other_company)
    failures = []
    for (method, rule), why, asker, photo in cases:
        caller, body = people[asker], sample_body(app, method, rule)
        hidden_response = send(caller, method, path_for(app, method, rule, {"photo_id": photo["id"]}), body)
        missing = send(caller, method, path_for(app, method, rule, {"photo_id": MISSING_ID}), body)
        where = f"{method} {rule.rule}: {why} asked by {asker}"
        if hidden_response.status_code != 404 or hidden_response.data != missing.data:
            failures.append(f"{where}: {describe(hidden_response)} vs missing {describe(missing)}")
        elif shown := leaked(hidden_response, details_of(photo), foreign_ids):
            failures.append(f"{where}: shows {shown}")

    # Positive controls, after every refusal: the creator reaches each photo on each route.
    # A pending photo's multipart/ routes act on an upload opened for the control and
    # aborted after it, so the finalize control still finds none open; they go first, while
    # the pending photos are pending (finalize's control uploads them), and the photo's own
    # DELETE last.
    def control_order(endpoint):
        method, rule = endpoint
        return not rule.rule.startswith(MULTIPART), (method, rule.rule) == ("DELETE", PHOTO)

    for method, rule in sorted(endpoints, key=control_order):
        body = sample_body(app, method, rule)
        for (creator, state), photo in photos.items():
            resumable = rule.rule.startswith(MULTIPART) and state == "pending"
            multipart = f"/light/photos/{photo['id']}/multipart/"
            if resumable and (method, rule.rule) != ("POST", MULTIPART):
                assert send(people[creator], "POST", multipart, {"size": 1000}).status_code == 201
            response = send(people[creator], method,
                            path_for(app, method, rule, {"photo_id": photo["id"]}), body)
            if resumable and (method, rule.rule) != ("DELETE", MULTIPART):
                assert send(people[creator], "DELETE", multipart).status_code == 204
            refusal = CREATOR_REFUSALS.get((method, rule.rule, state))
            answered = response.status_code == refusal if refusal else 200 <= response.status_code < 300
            if not answered:
                failures.append(f"{method} {rule.rule}: {creator} on their own {state} photo: "
                                f"{describe(response)}")
    assert not failures, "\n".join(failures)


# --- 3. The list --------------------------------------------------------------

def list_endpoints(app):
    """(rule, query schema) for every /light/ GET without path arguments that reads a query."""
    return [(rule, schema) for method, rule in api_endpoints(app)
            if method == "GET" and not rule.arguments
            for schema in schemas_read(app, method, rule, {"query"})]


def listed(caller, path, query):
    response = caller.get(path, query_string=dict(query, page_size=100))
    assert response.status_code == 200, f"{path} {query}: {describe(response)}"
    return response.get_json()


def narrows(query):
    """Whether a list query keeps only matching photos (`exclude_*` filters keep the rest)."""
    return bool(query) and not any(name.startswith("exclude_") for name in query)


def points_at_objects(query):
    """Whether a list query filters by ids (which must act like ids that do not exist)."""
    return bool(query) and all(isinstance(value, int) for value in query.values())


def test_other_companies_photos_never_listed(app, people, photos, other_company):
    endpoints = list_endpoints(app)
    assert [rule.rule for rule, _ in endpoints] == ["/light/photos/"]
    theirs = [photo for (creator, _), photo in photos.items() if creator.startswith("their")]
    their_uploaded = photos[("their owner", "uploaded")]

    cases = []
    for rule, schema in endpoints:
        filters = [f for f in integer_fields(schema) if f not in PAGING_FIELDS]
        queries = [{}, {"tags": their_uploaded["tags"][0]}]
        queries += [{f: reference_id(other_company, f)} for f in filters]
        cases += [(rule.rule, role, query) for role in OURS for query in queries]
    print(f"\ntenancy part 3: {len(cases)} list cases")
    assert len(cases) >= MIN_CASES["list"]

    failures = []
    for path, role, query in cases:
        page = listed(people[role], path, query)
        where = f"GET {path} {query} by {role}"
        text = str(page)
        shown = [p["id"] for p in theirs if p["id"] in {r["id"] for r in page["results"]}]
        shown += [d for p in theirs for d in details_of(p) if d in text]
        if shown:
            failures.append(f"{where}: shows the other company's {shown}")
        elif narrows(query) and (page["count"], page["results"]) != (0, []):
            failures.append(f"{where}: expected nothing, got {describe_page(page)}")
        elif points_at_objects(query) and page != listed(people[role], path, {
                name: MISSING_ID for name in query}):
            failures.append(f"{where}: differs from the same filter with a missing id")
        # Positive control: the filter does match the other company's photo, for them.
        if narrows(query) and their_uploaded["id"] not in {
                p["id"] for p in listed(people["their owner"], path, query)["results"]}:
            failures.append(f"{where}: control failed, the other company does not see its photo")
    # And the callers do have photos of their own to list.
    assert all(listed(people[role], "/light/photos/", {})["count"] >= 1 for role in OURS)
    assert not failures, "\n".join(failures)


def describe_page(page):
    return f"count {page['count']}, ids {[p['id'] for p in page['results']]}"
