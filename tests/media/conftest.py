"""The real worker of the pipeline tests, for the media tests that run one, and uploads."""
import pytest

from tests.processing.conftest import start_worker, wait_processed  # noqa: F401 (fixtures)
from tests.support import upload


@pytest.fixture
def uploaded(app, as_user):
    """`uploaded(content, **create_body)` → the id of a finalized photo holding `content`."""
    def make(content, content_type="image/jpeg", **body):
        crew = as_user("crew")
        photo = crew.create(**body)
        assert upload(photo["upload_url"], content, fields={"Content-Type": content_type}).status_code == 204
        response = crew.finalize(photo["id"])
        assert response.status_code == 200, response.get_json()
        return photo["id"]
    return make
