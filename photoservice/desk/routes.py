"""Serves the photo desk page and its files, each with a strict Content-Security-Policy."""
from urllib.parse import urlsplit

from flask import Blueprint, current_app

blp = Blueprint("desk", __name__, url_prefix="/app", static_folder="static", static_url_path="")


def origin_of(url):
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(store_url):
    """Scripts and styles from the app only, no inline code; images, videos and uploads
    may also reach the store (its presigned links and POSTs); no forms, frames or base."""
    store = origin_of(store_url)
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src 'self' {store} blob: data:",
        f"media-src {store}",
        f"connect-src 'self' {store}",
        "form-action 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])


@blp.route("/")
def page():
    """The desk itself."""
    return blp.send_static_file("app.html")


@blp.after_request
def lock_down(response):
    response.headers["Content-Security-Policy"] = content_security_policy(
        current_app.config["S3_PUBLIC_ENDPOINT_URL"])
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"  # presigned links stay out of Referer
    return response
