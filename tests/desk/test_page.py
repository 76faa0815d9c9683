"""The photo desk's files: served under a strict CSP, with no inline code, nothing from
elsewhere, and a label for every control. (In a real browser: tests/browser/.)"""
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "photoservice" / "desk" / "static"


class Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def parsed():
    page = Page()
    page.feed((STATIC / "app.html").read_text())
    return page.tags


@pytest.mark.parametrize("path, content_type", [
    ("/app/", "text/html"), ("/app/app.js", "text/javascript"), ("/app/app.css", "text/css")])
def test_each_file_is_served_with_the_policy(app, client, path, content_type):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == content_type
    policy = dict(part.split(" ", 1) for part in response.headers["Content-Security-Policy"].split("; "))
    store = app.config["S3_PUBLIC_ENDPOINT_URL"]
    assert policy == {
        "default-src": "'none'", "script-src": "'self'", "style-src": "'self'",
        "img-src": f"'self' {store} blob: data:", "media-src": store, "connect-src": f"'self' {store}",
        "form-action": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_the_policy_names_the_stores_origin_only(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "S3_PUBLIC_ENDPOINT_URL", "https://files.example:8443/some/prefix")
    policy = client.get("/app/").headers["Content-Security-Policy"]
    assert "connect-src 'self' https://files.example:8443;" in policy and "prefix" not in policy


def test_app_without_a_slash_leads_to_the_page(client):
    response = client.get("/app")
    assert response.status_code == 308 and response.headers["Location"].endswith("/app/")


def test_no_inline_code_and_nothing_from_elsewhere():
    tags = parsed()
    assert all(attrs.get("src") for tag, attrs in tags if tag == "script")
    assert not [tag for tag, attrs in tags if tag == "style" or "style" in attrs
                or any(name.startswith("on") for name in attrs)]
    for name in ("app.html", "app.js", "app.css"):
        text = (STATIC / name).read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text), name
        assert "localStorage" not in text and "document.cookie" not in text, name


def test_every_control_has_a_label_and_the_page_fits_a_phone():
    tags = parsed()
    labelled = {attrs["for"] for tag, attrs in tags if tag == "label"}
    controls = [attrs["id"] for tag, attrs in tags if tag == "input"]
    assert controls and set(controls) <= labelled
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in tags
    assert any(attrs.get("aria-live") == "polite" for _, attrs in tags)
    camera = next(attrs for tag, attrs in tags if tag == "input" and "capture" in attrs)
    assert camera["accept"] == "image/*,video/*"
