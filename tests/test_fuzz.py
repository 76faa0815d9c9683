"""Schemathesis fuzzes the live app from its own OpenAPI document.

Every operation gets schemathesis's coverage cases (each boundary, missing or
mistyped field, other media type and method once) and then generated requests,
valid (positive) and invalid (negative), through the real app on PostgreSQL and
SeaweedFS, authenticated with a seeded company's API keys. Every response must be
one the document describes (status, content type, headers, body); no 5xx; invalid
input is refused with a 4xx and valid input accepted. Derandomized, so CI sends the
same requests every run.
"""
import itertools
from collections import Counter, defaultdict

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.auths import AuthStorage
from schemathesis.checks import positive_data_acceptance
from schemathesis.generation.drivers import CoverageGenerator
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.generation.overrides import Override

from photoservice.photos.models import REFERENCES
from photoservice.web.fields import EXIF_MAX_DEPTH, EXIF_MAX_ITEMS
from photoservice.webhooks.schemas import url_problem

pytestmark = pytest.mark.slow

# Generated cases per operation and mode: 7 photo operations x 500 + 8 webhook and
# 4 resumable-upload operations x 160 = 5,420 requests, on top of the coverage cases.
EXAMPLES = {GenerationMode.POSITIVE: 250, GenerationMode.NEGATIVE: 250}
WEBHOOK_EXAMPLES = {GenerationMode.POSITIVE: 80, GenerationMode.NEGATIVE: 80}
OPERATIONS = 19
MIN_REQUESTS = 2000


@pytest.fixture
def fuzz_schema(app):
    # Values come from the document alone, not from literals in the app's code, so the
    # generated cases change only when the document does.
    config = schemathesis.Config.from_dict({"analysis": {"constants": {"enabled": False}}})
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=config)


@pytest.fixture
def known_photos(as_user, company, other_company):
    """Photo ids worth aiming at: uploaded, pending, crew's own, another company's."""
    owner, crew = as_user("owner"), as_user("crew")
    return {
        "ours": [owner.upload_and_finalize(name="Ridge.jpg")["id"], owner.create()["id"],
                 crew.upload_and_finalize(name="Crew shot.png")["id"]],
        "theirs": [as_user("owner", of=other_company).upload_and_finalize()["id"]],
    }


@pytest.fixture
def known_webhooks(as_user, company, other_company, known_photos):
    """Webhook endpoint and delivery ids worth aiming at: ours and another company's."""
    found = {"ours": [], "theirs": [], "our deliveries": [], "their deliveries": []}
    for label, owner in (("ours", as_user("owner")), ("theirs", as_user("owner", of=other_company))):
        response = owner.client.post("/light/webhooks/", headers=owner.headers, json={
            "url": "https://hooks.example.com/fuzz", "events": ["photo.uploaded"]})
        assert response.status_code == 201
        webhook_id = response.get_json()["id"]
        owner.upload_and_finalize()
        deliveries = owner.get(f"/light/webhooks/{webhook_id}/deliveries/").get_json()["results"]
        found[label].append(webhook_id)
        found["our deliveries" if label == "ours" else "their deliveries"] += [d["id"] for d in deliveries]
    return found


def key_rotation(company):
    """Schemathesis auth: the seeded users' keys in turn, by header and as a bearer token."""
    keys = {user["role"]: user["api_key"] for user in company["users"]}
    presented = itertools.cycle([{"X-API-KEY": keys["owner"]},
                                 {"Authorization": f"Bearer {keys['employee']}"},
                                 {"X-API-KEY": keys["crew"]}])

    class KeyRotation:
        def get(self, case, context):
            return next(presented)

        def set(self, case, headers, context):
            case.headers = {**(case.headers or {}), **headers}

    storage = AuthStorage()
    storage.auth(refresh_interval=None)(KeyRotation)
    return storage


def coverage_cases(operation, auth):
    """Schemathesis's coverage phase for one operation, both modes.

    Its pytest plugin (which runs this phase itself) does not load under pytest 9,
    so the generator it uses is called directly; the version is pinned.
    """
    generation = operation.schema.config.generation_for(operation=operation, phase="coverage")
    return CoverageGenerator(
        operation=operation, generation_modes=list(GenerationMode), generation_config=generation,
        auth_storage=auth, override=Override(), feedback=FeedbackSources())


def real_references(company):
    """The company's ids for each reference field, all on its first job."""
    return {"job": company["jobs"][0],
            **{field: company[field] for field in REFERENCES if field != "job"}}


def aimed(strategy, operation, mode, company, photos, webhooks):
    """Steer valid cases at rows that exist too, so success paths get exercised."""
    if mode is GenerationMode.NEGATIVE:
        return strategy
    if "webhook_id" in operation.path:
        def at_webhook(triple):
            case, webhook_id, delivery_id = triple
            case.path_parameters["webhook_id"] = webhook_id
            if "delivery_id" in case.path_parameters:
                case.path_parameters["delivery_id"] = delivery_id
            return case
        return st.one_of(strategy, st.tuples(
            strategy, st.sampled_from(webhooks["ours"] + webhooks["theirs"]),
            st.sampled_from(webhooks["our deliveries"] + webhooks["their deliveries"])).map(at_webhook))
    if "photo_id" in operation.path:
        def at_photo(pair):
            case, photo_id = pair
            case.path_parameters["photo_id"] = photo_id
            return case
        photo_ids = st.sampled_from(photos["ours"] + photos["theirs"])
        strategy = st.one_of(strategy, st.tuples(strategy, photo_ids).map(at_photo))
    if operation.method.upper() in ("POST", "PATCH") and operation.path.startswith("/light/photos/"):
        references = real_references(company)

        def with_real_references(case):
            if isinstance(case.body, dict):
                for field in REFERENCES:
                    if case.body.get(field) is not None:
                        case.body[field] = references[field]
            return case
        strategy = st.one_of(strategy.map(with_real_references), strategy)
    return strategy


def refused_beyond_the_document(case, company):
    """Whether a schema-valid create or update breaks a rule OpenAPI 3.0 cannot state.

    Ids of rows the company does not have (or of different jobs), and exif keys
    or text with NUL characters (PostgreSQL cannot store them) or exif nested or sized past
    its limits: the server refuses these with a 400 naming the field, by design.
    So are webhook URLs whose port is out of range or whose host is empty, and a resumable
    upload's size past the limit of the photo's kind or part numbers past its part count.
    A list `cursor` is opaque: any text but one the list gave (or "", the first page) is refused.
    """
    if case.meta.generation.mode.is_positive and case.operation.path == "/light/photos/" \
            and (case.query or {}).get("cursor") not in (None, ""):
        return True
    if not (case.meta.generation.mode.is_positive and isinstance(case.body, dict)):
        return False
    if "/multipart/" in case.operation.path:
        return True
    if case.operation.path.startswith("/light/webhooks/"):
        return isinstance(case.body.get("url"), str) and url_problem(case.body["url"]) is not None
    references = real_references(company)
    if any(case.body.get(field) not in (None, references[field]) for field in REFERENCES):
        return True
    return _exif_past_limits(case.body.get("exif"))


def _exif_past_limits(exif):
    count, pending = 0, [(exif, 1)] if isinstance(exif, dict) else []
    while pending:
        value, depth = pending.pop()
        count += 1
        if depth > EXIF_MAX_DEPTH or count > EXIF_MAX_ITEMS:
            return True
        if isinstance(value, str) and "\x00" in value:
            return True
        if isinstance(value, dict):
            if any("\x00" in key for key in value):
                return True
            pending.extend((item, depth + 1) for item in value.values())
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
    return False


def test_fuzz_every_operation(app, fuzz_schema, company, known_photos, known_webhooks, capsys):
    auth = key_rotation(company)
    statuses = defaultdict(Counter)
    failures = []

    def send(label, case):
        """One request, then every schemathesis check on its response."""
        response = case.call()
        statuses[label][response.status_code] += 1
        exempt = refused_beyond_the_document(case, company)
        case.validate_response(response,
                               excluded_checks=[positive_data_acceptance] if exempt else None)
        if exempt and response.status_code == 400:
            assert set(response.json()["errors"]) <= {*REFERENCES, "exif", "url", "size", "part_numbers",
                                                      "cursor"}
        if (case.path_parameters or {}).get("photo_id") in known_photos["theirs"]:
            assert response.status_code == 404, "another company's photo must not be found"
        if (case.path_parameters or {}).get("webhook_id") in known_webhooks["theirs"]:
            assert response.status_code in (403, 404), "another company's webhook must not be found"
        if (case.path_parameters or {}).get("delivery_id") in known_webhooks["their deliveries"] \
                and case.operation.method.upper() == "POST":
            assert response.status_code in (400, 401, 403, 404, 429), "nor its deliveries"

    def reported(label, run):
        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001  (report them all)
            failures.append(f"{label}:\n{error}")

    # Deletions last, so the other operations still find the rows they aim at.
    operations = sorted((result.ok() for result in fuzz_schema.get_all_operations()),
                        key=lambda operation: operation.method.upper() == "DELETE")
    assert len(operations) == OPERATIONS
    for operation in operations:
        label = f"{operation.label} [coverage]"
        for case in coverage_cases(operation, auth):
            reported(label, lambda: send(label, case))  # noqa: B023  (called at once)

        budget = WEBHOOK_EXAMPLES if operation.path.startswith("/light/webhooks") or \
            "/multipart/" in operation.path else EXAMPLES
        for mode, examples in budget.items():
            label = f"{operation.label} [{mode.value}]"
            strategy = aimed(operation.as_strategy(generation_mode=mode, auth_storage=auth),
                             operation, mode, company, known_photos, known_webhooks)

            @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
                      suppress_health_check=list(HealthCheck), print_blob=False)
            @given(case=strategy)
            def fuzz(case):
                send(label, case)  # noqa: B023  (run before `label` changes)

            reported(label, fuzz)

    total = sum(sum(counts.values()) for counts in statuses.values())
    with capsys.disabled():
        print(f"\nschemathesis: {total} requests")
        for label, counts in statuses.items():
            print(f"  {label}: {sum(counts.values())}  {dict(sorted(counts.items()))}")
    assert not failures, "\n\n".join(failures)
    assert total >= MIN_REQUESTS
    assert not any(status >= 500 for counts in statuses.values() for status in counts)
