"""What the tenancy matrices (tests/test_tenancy.py, tests/webhooks/test_tenancy.py) share:
the routes read from the app, the people and photos they ask about, and how a
response is compared and searched for another company's data.
"""
import re
import secrets

import pytest
from marshmallow import fields

from photoservice.photos.models import REFERENCES
from tests.support import JPEG_STUB, upload

API_PREFIX = "/light/"
MISSING_ID = 2_000_000_000  # a valid id that a test database never reaches
BODY_LOCATIONS = {"json", "form", "files", "json_or_form"}
# Safe methods first and destructive ones last, so positive controls cannot
# remove a photo another control still needs.
METHOD_ORDER = ["GET", "POST", "PUT", "PATCH", "DELETE"]
# Values for required body fields that are not references.
SAMPLE_VALUES = {"name": "Tenancy probe", "url": "https://hooks.example.com/photos",
                 "events": ["photo.uploaded"], "size": 1000, "part_numbers": [1]}
# Integer body fields that count rather than point at an object (a resumable upload's).
COUNTS = {"size", "part_numbers"}
# Integer query parameters that page the list rather than point at an object.
PAGING_FIELDS = {"page", "page_size"}

# Path arguments of each family of routes part 2 covers.
PHOTO_ARGUMENTS, WEBHOOK_ARGUMENTS = {"photo_id"}, {"webhook_id", "delivery_id"}

OURS = ("owner", "employee", "crew", "second crew")
CREW = ("crew", "second crew")


# --- What the app exposes -------------------------------------------------

def api_endpoints(app):
    """(method, rule) for every method of every /light/ route, HEAD and OPTIONS aside."""
    found = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(API_PREFIX):
            found += [(method, rule) for method in rule.methods - {"HEAD", "OPTIONS"}]
    return sorted(found, key=lambda e: (_method_rank(e[0]), e[1].rule))


def _method_rank(method):
    return METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER)


def schemas_read(app, method, rule, locations):
    """The marshmallow schemas flask-smorest loads from `locations` for one endpoint."""
    view = app.view_functions[rule.endpoint]
    handler = getattr(getattr(view, "view_class", None), method.lower(), view)
    parameters = getattr(handler, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    return [p["schema"]() if isinstance(p["schema"], type) else p["schema"]
            for p in parameters if p["in"] in locations]


def body_endpoints(app):
    """(method, rule, schema) for every /light/ endpoint that reads a request body."""
    return [(method, rule, schema) for method, rule in api_endpoints(app)
            for schema in schemas_read(app, method, rule, BODY_LOCATIONS)]


def id_endpoints(app):
    """(method, rule) for every /light/ endpoint with an argument in its path."""
    return [(method, rule) for method, rule in api_endpoints(app) if rule.arguments]


def integer_fields(schema):
    """Names of the schema's integer fields, or lists of integers: ids, by this API's design
    (COUNTS aside)."""
    def holds_integers(field):
        if isinstance(field, fields.List):
            return holds_integers(field.inner)
        return isinstance(field, fields.Integer)
    return sorted(name for name, field in schema.fields.items()
                  if holds_integers(field) and name not in COUNTS)


def reference_id(company, field):
    """The seeded id of the object `field` (or `exclude_<field>`) points at; fails if unknown."""
    kind = field.removeprefix("exclude_")
    if kind == "job":
        return company["jobs"][0]
    if kind not in ("id", "users", "jobs") and isinstance(company.get(kind), int):
        return company[kind]
    pytest.fail(f"{field!r} is an integer field the tenancy matrix cannot fill from a seeded "
                "company: teach reference_id() (and seed_company) what it points at.")


def references_of(company):
    """Every reference a photo can carry, all to `company` (its line items share one job)."""
    return {field: reference_id(company, field) for field in REFERENCES}


def minimal_body(schema):
    """The required fields of a body schema, with sample values; fails on an unknown one."""
    required = [name for name, field in schema.fields.items() if field.required]
    unknown = [name for name in required if name not in SAMPLE_VALUES]
    assert not unknown, f"add sample values for the required body fields {unknown}"
    return {name: SAMPLE_VALUES[name] for name in required}


def sample_body(app, method, rule):
    """A minimal valid body for an endpoint that reads one, else None."""
    return next((minimal_body(s) for s in schemas_read(app, method, rule, BODY_LOCATIONS)), None)


def path_for(app, method, rule, ids):
    """The URL of `rule` with `ids` ({argument: id}); fails on an argument the matrix cannot fill."""
    unknown = set(rule.arguments) - set(ids)
    assert not unknown, f"{rule.rule}: teach the tenancy matrix to fill {sorted(unknown)}"
    values = {name: ids[name] for name in rule.arguments}
    return app.url_map.bind("localhost").build(rule.endpoint, values, method=method)


def send(caller, method, path, body=None):
    kwargs = {} if body is None else {"json": body}
    return caller.client.open(path, method=method, headers=caller.headers, **kwargs)


def describe(response, limit=300):
    """Status and the start of the body, for a failure message."""
    return f"{response.status_code} {response.get_data(as_text=True).strip()[:limit]}"


# --- Who and what the matrix is made of --------------------------------------

def secret_details():
    """A photo's name, client_id and tag, unique enough to spot in any response."""
    token = secrets.token_hex(4)
    return {"name": f"Secret {token} roof", "client_id": f"phone-{token}", "tags": [f"tag-{token}"]}


def uploaded(caller, **body):
    return caller.upload_and_finalize(**secret_details(), **body)


def stored_pending(caller, **body):
    """A pending photo whose file is already in the store: a wrongful finalize would work."""
    photo = caller.create(**secret_details(), **body)
    assert upload(photo["upload_url"], JPEG_STUB).status_code == 204
    return photo


@pytest.fixture
def people(as_user, other_company, second_crew):
    """Every caller of the matrix by label: four of `company`, two of `other_company`."""
    return {"owner": as_user("owner"), "employee": as_user("employee"), "crew": as_user("crew"),
            "second crew": second_crew,
            "their owner": as_user("owner", of=other_company),
            "their crew": as_user("crew", of=other_company)}


@pytest.fixture
def photos(people, other_company):
    """(creator, state) -> photo: one uploaded and one pending photo of each of our users,
    and the other company's, which point at every kind of object it has."""
    theirs = references_of(other_company)
    made = {("their owner", "uploaded"): uploaded(people["their owner"], **theirs),
            ("their crew", "pending"): stored_pending(people["their crew"], **theirs)}
    for who in OURS:
        made[(who, "uploaded")] = uploaded(people[who])
        made[(who, "pending")] = stored_pending(people[who])
    return made


def hidden_photo_cases(photos):
    """(why, asker, photo) for every photo the asker must not tell apart from a missing one."""
    for (creator, state), photo in photos.items():
        if creator.startswith("their"):
            askers, why = OURS, f"another company's {state} photo"
        elif state == "pending":
            askers, why = OURS, f"{creator}'s pending photo"
        else:
            askers, why = CREW, f"{creator}'s uploaded photo"
        for asker in askers:
            if asker != creator:
                yield why, asker, photo


def leaked(response, details, ids):
    """Which of `details` (strings) and `ids` the response body shows, its status aside."""
    body = response.get_json(silent=True) or {}
    text = str({k: v for k, v in body.items() if k not in ("code", "status")})
    shown = [d for d in details if d in text]
    return shown + [i for i in ids if re.search(rf"(?<!\d){i}(?!\d)", text)]


def details_of(photo):
    """What a photo's creator typed or the app derived: none of it may reach an outsider."""
    return [photo["name"], photo["key"], photo["client_id"], *photo["tags"]]


def company_ids(company):
    return {company["id"], *company["jobs"], *(u["id"] for u in company["users"]),
            *(reference_id(company, f) for f in REFERENCES)}
