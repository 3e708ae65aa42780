"""The browsable API reference: Swagger UI served from the swagger-ui-bundle package (works offline)."""
from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, render_template, send_from_directory

bp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs")
ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "favicon-32x32.png")


@bp.route("/")
def index():
    """Swagger UI over /api/v1/openapi.json."""
    return render_template("api/docs.html")


@bp.route("/assets/<path:name>")
def asset(name: str):
    """Swagger UI's own files; only the few the page uses."""
    if name not in ASSETS:
        from flask import abort
        abort(404)
    return send_from_directory(Path(swagger_ui_bundle.swagger_ui_path), name, max_age=86400)
