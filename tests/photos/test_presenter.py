"""photos.presenter: the response built from the stored row, plus what only the request adds."""
from urllib.parse import urlsplit

import pytest

from photoservice import storage
from photoservice.database import stored_row
from photoservice.photos import presenter
from photoservice.photos.models import Photo

KEY = "ridge_a1b2c3d4.jpg"


def stored(**values):
    """A photo's row as services hand it on: a mapping of its stored columns."""
    return dict(stored_row(Photo.__table__, dict(
        {"name": "Ridge", "key": KEY, "is_video": False, "status": "pending_upload"}, **values)), id=7)


@pytest.fixture
def request_context(app):
    with app.test_request_context("/light/photos/"):
        yield


@pytest.fixture
def signers(monkeypatch):
    """How many download signers were made."""
    made = []
    real = storage.download_signer

    def counted():
        made.append(1)
        return real()
    monkeypatch.setattr(storage, "download_signer", counted)
    return made


def test_a_pending_photo_is_created_with_a_policy_for_its_key(request_context):
    row = stored()
    created = presenter.created(row)
    assert created["upload_url"]["fields"]["key"] == KEY
    assert created["upload_url"]["fields"]["Content-Type"] == "image/jpeg"
    assert created["variants"] is None and created["name"] == "Ridge"
    assert "upload_url" not in row  # the row is not changed


def test_an_uploaded_photo_repeated_has_no_policy(request_context):
    variants = {"web": {"key": f"{KEY}.web.jpg", "width": 800, "height": 600}}
    created = presenter.created(stored(status="uploaded", variants=variants))
    assert created["upload_url"] is None and created["variants"] is None


def test_detailed_links_the_original_and_each_derivative(request_context):
    variants = {"web": {"key": f"{KEY}.web.jpg", "width": 800, "height": 600}}
    row = stored(status="uploaded", original_key=f"{KEY}.original.jpg", content_type="image/png",
                 variants=variants)
    shown = presenter.detailed(row)
    assert urlsplit(shown["download_url"]).path.endswith(f"/{KEY}.original.jpg")
    assert "response-content-type=image%2Fpng" in shown["download_url"]
    assert urlsplit(shown["variants"]["web"]["url"]).path.endswith(f"/{KEY}.web.jpg")
    assert (shown["variants"]["web"]["width"], shown["variants"]["web"]["height"]) == (800, 600)
    assert row["variants"] == variants  # the stored keys stay on the row


def test_detailed_serves_the_upload_without_an_original_and_nothing_while_pending(request_context):
    uploaded = presenter.detailed(stored(status="uploaded", content_type="image/jpeg"))
    assert urlsplit(uploaded["download_url"]).path.endswith(f"/{KEY}")
    pending = presenter.detailed(stored())
    assert pending["download_url"] is None and pending["variants"] is None


def test_a_page_is_signed_with_one_signer(request_context, signers):
    rows = [stored(status="uploaded", variants={
        name: {"key": f"{KEY}.{i}.{name}.jpg", "width": 1, "height": 1} for name in ("thumbnail", "web")})
        for i in range(3)]
    listed = presenter.listed(rows)
    assert len(signers) == 1
    assert [urlsplit(p["variants"]["thumbnail"]["url"]).path.rsplit("/", 1)[1] for p in listed] == \
        [f"{KEY}.{i}.thumbnail.jpg" for i in range(3)]
    assert presenter.listed([]) == [] and len(signers) == 1
