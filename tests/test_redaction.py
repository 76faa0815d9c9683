"""Exception texts in the log carry no presigned query string and no coordinates."""
from photoservice.redaction import redact, redacted_error


def test_a_presigned_urls_query_is_taken_out_but_the_host_and_path_stay():
    text = ("Could not connect to the endpoint URL: \"http://127.0.0.1:8333/photos/roof_a1b2c3d4.jpg"
            "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=deadbeef\"")
    out = redact(text)
    assert "X-Amz" not in out and "deadbeef" not in out
    assert "http://127.0.0.1:8333/photos/roof_a1b2c3d4.jpg?[redacted]" in out


def test_coordinates_are_taken_out_but_plain_numbers_stay():
    out = redact("Nominatim failed for (40.712776, -74.005974) after 3 tries in 1.5 s, HTTP 503")
    assert "40.71" not in out and "74.00" not in out
    assert "after 3 tries in 1.5 s, HTTP 503" in out


def test_an_exception_is_named_and_redacted():
    error = ValueError("https://hooks.example/in?token=s3cret at 51.50735,-0.12776")
    assert redacted_error(error) == "ValueError: https://hooks.example/in?[redacted] at [redacted],[redacted]"


def test_a_bare_paths_query_is_taken_out_too():
    out = redact("HTTPSConnectionPool(host='hooks.example', port=443): Max retries exceeded with "
                 "url: /in/photos?token=s3cret&x=1 (Caused by ...) Is it up?")
    assert "s3cret" not in out
    assert "url: /in/photos?[redacted] (Caused by ...) Is it up?" in out
