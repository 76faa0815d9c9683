"""Swagger UI's assets, served from the `flask-swagger-ui` package: `/docs` works offline.

flask-smorest's Swagger UI page loads `swagger-ui.css`,
`swagger-ui-standalone-preset.js` and `swagger-ui-bundle.js` from
OPENAPI_SWAGGER_UI_URL; the package carries exactly those files.
"""
from importlib.resources import files

from flask import Blueprint

ASSETS_URL = "/docs/assets/"

blp = Blueprint("swagger_ui_assets", __name__,
                static_folder=str(files("flask_swagger_ui") / "dist"),
                static_url_path=ASSETS_URL.rstrip("/"))
