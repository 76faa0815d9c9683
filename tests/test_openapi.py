"""The published OpenAPI document and the Swagger UI page."""
import re

import pytest

PATHS = {"/light/photos/", "/light/photos/{photo_id}/", "/light/photos/{photo_id}/uploaded/",
         "/light/photos/{photo_id}/upload-url/", "/light/photos/{photo_id}/multipart/",
         "/light/photos/{photo_id}/multipart/parts/"}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
REPRESENTATION = {
    "id", "name", "description", "job", "job_inspection_line_item", "estimate_line_item",
    "supplemental_line_item", "change_order_line_item", "tags", "related_to", "exif",
    "is_video", "client_id", "status", "created_by", "created_at", "updated_at", "uploaded_at",
    "captured_at", "latitude", "longitude", "location", "key", "content_type", "size",
    "media_warnings",
}


@pytest.fixture
def spec(client):
    response = client.get("/openapi.json")  # no API key: the docs are public
    assert response.status_code == 200
    assert response.is_json
    return response.get_json()


def operations(spec):
    """(path, method, operation) for every operation in the document."""
    return [(path, method, op) for path, item in spec["paths"].items()
            for method, op in item.items() if method in HTTP_METHODS]


def resolve(spec, node):
    """Follow a local `$ref` (one level is all this document uses)."""
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = spec["components"][section][name]
    return node


def response_schema(spec, response):
    return resolve(spec, resolve(spec, response)["content"]["application/json"]["schema"])


def test_document_lists_every_path(spec):
    assert spec["openapi"].startswith("3.")
    assert PATHS <= set(spec["paths"])
    assert set(spec["paths"]["/light/photos/"]) >= {"get", "post"}
    assert set(spec["paths"]["/light/photos/{photo_id}/"]) >= {"get", "patch", "delete"}
    assert "put" in spec["paths"]["/light/photos/{photo_id}/uploaded/"]
    assert "post" in spec["paths"]["/light/photos/{photo_id}/upload-url/"]


def test_no_operation_documents_a_422(spec):
    for path, method, op in operations(spec):
        assert "422" not in op["responses"], (path, method)
    assert "UNPROCESSABLE_ENTITY" not in spec["components"].get("responses", {})


def test_create_documents_400_201_and_200(spec):
    responses = spec["paths"]["/light/photos/"]["post"]["responses"]
    assert {"400", "201", "200"} <= set(responses)
    for status in ("201", "200"):
        properties = response_schema(spec, responses[status])["properties"]
        assert "upload_url" in properties and REPRESENTATION <= set(properties)


def test_list_documents_400_and_a_page(spec):
    responses = spec["paths"]["/light/photos/"]["get"]["responses"]
    assert "400" in responses
    page = response_schema(spec, responses["200"])
    assert {"count", "next", "previous", "results"} <= set(page["properties"])


def test_400_is_the_common_error_shape(spec):
    error = response_schema(spec, spec["paths"]["/light/photos/"]["post"]["responses"]["400"])
    assert {"code", "status", "message", "errors"} <= set(error["properties"])


def test_create_body_documents_the_rules(spec):
    body = spec["paths"]["/light/photos/"]["post"]["requestBody"]
    schema = resolve(spec, body["content"]["application/json"]["schema"])
    assert schema["required"] == ["name"]
    assert schema["properties"]["name"]["maxLength"] == 150
    assert schema["properties"]["related_to"]["maxItems"] == 25
    assert schema["properties"]["job"]["type"] == "integer"


def test_photo_id_is_an_integer_path_parameter(spec):
    for path in PATHS - {"/light/photos/"}:
        item = spec["paths"][path]
        parameters = item.get("parameters", []) + [
            p for method, op in item.items() if method in HTTP_METHODS
            for p in op.get("parameters", [])]
        photo_id = next(p for p in parameters if p["name"] == "photo_id")
        assert photo_id["in"] == "path" and photo_id["schema"]["type"] == "integer"


def test_security_schemes(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKeyHeader"]["type"] == "apiKey"
    assert schemes["ApiKeyHeader"]["in"] == "header"
    assert schemes["ApiKeyHeader"]["name"] == "X-API-KEY"
    assert schemes["BearerKey"]["type"] == "http"
    assert schemes["BearerKey"]["scheme"].lower() == "bearer"


def test_every_operation_requires_a_key(spec):
    for path, method, op in operations(spec):
        security = op.get("security", spec.get("security"))
        assert {"ApiKeyHeader": []} in security and {"BearerKey": []} in security, (path, method)


def test_every_operation_has_a_summary(spec):
    for path, method, op in operations(spec):
        assert op.get("summary"), (path, method)


def test_every_operation_has_a_stable_name(spec):
    names = {(path, method): op.get("operationId") for path, method, op in operations(spec)}
    assert all(names.values()), names
    assert len(set(names.values())) == len(names)
    assert names[("/light/photos/", "post")] == "createPhoto"
    assert names[("/light/photos/", "get")] == "listPhotos"
    assert names[("/light/photos/{photo_id}/", "get")] == "getPhoto"
    assert names[("/light/photos/{photo_id}/uploaded/", "put")] == "finalizePhotoUpload"
    assert names[("/light/photos/{photo_id}/", "patch")] == "updatePhoto"
    assert names[("/light/photos/{photo_id}/", "delete")] == "deletePhoto"
    assert names[("/light/photos/{photo_id}/upload-url/", "post")] == "renewUploadUrl"
    assert names[("/light/webhooks/{webhook_id}/rotate-secret/", "post")] == "rotateWebhookSecret"


def test_exif_is_free_form_with_its_rules_in_words(spec):
    """No recursive any-JSON component: SDK generators skip the operations that use one."""
    assert "JSONValue" not in spec["components"]["schemas"]
    exif = spec["components"]["schemas"]["PhotoCreate"]["properties"]["exif"]
    assert exif["type"] == "object" and exif["additionalProperties"] is True
    assert "no NUL characters" in exif["description"] and "levels deep" in exif["description"]


def test_update_body_is_the_create_fields_all_optional(spec):
    paths = spec["paths"]
    schema_of = lambda op: resolve(spec, op["requestBody"]["content"]["application/json"]["schema"])  # noqa: E731
    update = schema_of(paths["/light/photos/{photo_id}/"]["patch"])
    create = schema_of(paths["/light/photos/"]["post"])
    assert "required" not in update and update["additionalProperties"] is False
    assert set(update["properties"]) == set(create["properties"]) - {"exif", "is_video", "client_id"}
    for name, field in update["properties"].items():
        rules = {k: v for k, v in field.items() if k not in ("nullable", "default")}
        assert rules == {k: v for k, v in create["properties"][name].items()
                         if k not in ("nullable", "default")}, name
    assert update["properties"]["tags"]["nullable"] is True  # null clears, as [] does
    assert "nullable" not in update["properties"]["name"]


def test_docs_page_is_html(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<html" in page.lower() and "openapi.json" in page


def test_docs_page_needs_no_internet(client):
    page = client.get("/docs").get_data(as_text=True)
    assert not re.findall(r"(?:https?:)?//[\w.-]+", page)  # no other host
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert {a.rsplit("/", 1)[1] for a in assets} >= {
        "swagger-ui.css", "swagger-ui-standalone-preset.js", "swagger-ui-bundle.js"}
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
        assert len(response.data) > 1000, asset


WEBHOOK = "/light/webhooks/{webhook_id}/"
ERROR_STATUSES = {
    ("/light/photos/", "get"): {"400", "401", "429", "503"},
    ("/light/photos/", "post"): {"400", "401", "413", "415", "429", "503"},
    ("/light/photos/{photo_id}/", "get"): {"401", "404", "429", "503"},
    ("/light/photos/{photo_id}/", "patch"): {"400", "401", "404", "413", "415", "429", "503"},
    ("/light/photos/{photo_id}/", "delete"): {"401", "404", "429", "503"},
    ("/light/photos/{photo_id}/uploaded/", "put"): {"401", "404", "409", "429", "503"},
    ("/light/photos/{photo_id}/upload-url/", "post"): {"401", "403", "404", "409", "429", "503"},
    ("/light/photos/{photo_id}/multipart/", "get"): {"401", "403", "404", "409", "429", "503"},
    ("/light/photos/{photo_id}/multipart/", "post"): {"400", "401", "403", "404", "409", "413", "415",
                                                      "429", "503"},
    ("/light/photos/{photo_id}/multipart/", "delete"): {"401", "403", "404", "409", "429", "503"},
    ("/light/photos/{photo_id}/multipart/parts/", "post"): {"400", "401", "403", "404", "409", "413",
                                                            "415", "429", "503"},
    ("/light/webhooks/", "get"): {"401", "403", "429", "503"},
    ("/light/webhooks/", "post"): {"400", "401", "403", "409", "413", "415", "429", "503"},
    (WEBHOOK, "get"): {"401", "403", "404", "429", "503"},
    (WEBHOOK, "patch"): {"400", "401", "403", "404", "413", "415", "429", "503"},
    (WEBHOOK, "delete"): {"401", "403", "404", "429", "503"},
    (WEBHOOK + "rotate-secret/", "post"): {"401", "403", "404", "429", "503"},
    (WEBHOOK + "deliveries/", "get"): {"400", "401", "403", "404", "429", "503"},
    (WEBHOOK + "deliveries/{delivery_id}/redeliver/", "post"): {"401", "403", "404", "409", "429", "503"},
}
# Success statuses other than a plain 200.
SUCCESS_STATUSES = {
    ("/light/photos/", "post"): {"200", "201"},
    ("/light/photos/{photo_id}/", "delete"): {"204"},
    ("/light/photos/{photo_id}/multipart/", "post"): {"200", "201"},
    ("/light/photos/{photo_id}/multipart/", "delete"): {"204"},
    ("/light/webhooks/", "post"): {"201"},
    (WEBHOOK, "delete"): {"204"},
    (WEBHOOK + "deliveries/{delivery_id}/redeliver/", "post"): {"202"},
}


def test_every_operation_lists_each_status_it_can_send(spec):
    for path, method, op in operations(spec):
        success = SUCCESS_STATUSES.get((path, method), {"200"})
        assert set(op["responses"]) == success | ERROR_STATUSES[(path, method)], (path, method)


def test_every_error_response_is_the_error_shape(spec):
    for path, method, op in operations(spec):
        for status in ERROR_STATUSES[(path, method)]:
            schema = response_schema(spec, op["responses"][status])
            assert schema == spec["components"]["schemas"]["Error"], (path, method, status)
            assert resolve(spec, op["responses"][status])["description"], (path, method, status)


def test_retry_after_and_www_authenticate_are_documented(spec):
    for path, method, op in operations(spec):
        for status, header in (("429", "Retry-After"), ("503", "Retry-After"),
                               ("401", "WWW-Authenticate")):
            documented = resolve(spec, op["responses"][status])["headers"][header]
            assert documented["required"] is True, (path, method, status)


def test_examples_show_the_create_body_and_every_representation(spec):
    create = spec["paths"]["/light/photos/"]["post"]
    body = create["requestBody"]["content"]["application/json"]
    assert set(body["example"]) <= set(resolve(spec, body["schema"])["properties"])
    paths = spec["paths"]
    for response in (create["responses"]["201"], create["responses"]["200"],
                     paths["/light/photos/{photo_id}/"]["get"]["responses"]["200"],
                     paths["/light/photos/{photo_id}/"]["patch"]["responses"]["200"],
                     paths["/light/photos/{photo_id}/uploaded/"]["put"]["responses"]["200"]):
        example = response["content"]["application/json"]["example"]
        assert set(example) == set(response_schema(spec, response)["properties"])
        assert REPRESENTATION <= set(example)
    update = paths["/light/photos/{photo_id}/"]["patch"]
    body = update["requestBody"]["content"]["application/json"]
    assert set(body["example"]) <= set(resolve(spec, body["schema"])["properties"])
    patched = update["responses"]["200"]["content"]["application/json"]["example"]
    assert {name: patched[name] for name in body["example"]} == body["example"]
    renewed = paths["/light/photos/{photo_id}/upload-url/"]["post"]["responses"]["200"]
    assert set(renewed["content"]["application/json"]["example"]) == {"url", "fields"}


def test_webhook_paths_and_secret_shown_only_on_create_and_rotate(spec):
    assert {"/light/webhooks/", WEBHOOK, WEBHOOK + "rotate-secret/", WEBHOOK + "deliveries/",
            WEBHOOK + "deliveries/{delivery_id}/redeliver/"} <= set(spec["paths"])
    with_secret = {(path, method) for path, method, op in operations(spec)
                   if path.startswith("/light/webhooks/")
                   for status, response in op["responses"].items() if status.startswith("2")
                   and "secret" in _properties(spec, response)}
    assert with_secret == {("/light/webhooks/", "post"), (WEBHOOK + "rotate-secret/", "post")}


def _properties(spec, response):
    content = resolve(spec, response).get("content")
    if not content:
        return {}
    schema = resolve(spec, content["application/json"]["schema"])
    return resolve(spec, schema.get("items", schema)).get("properties", {})


def test_representation_fields_are_always_sent(spec):
    for name in ("Photo", "PhotoCreated", "PhotoDetail", "WebhookEndpoint", "WebhookDelivery"):
        schema = spec["components"]["schemas"][name]
        assert set(schema["required"]) == set(schema["properties"]), name
