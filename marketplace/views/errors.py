"""Error pages in the user's language, and JSON for API/health callers."""
from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from marketplace.extensions import db
from marketplace.services.errors import DomainError

TITLES = {
    400: lambda: _("Bad request"),
    403: lambda: _("Access denied"),
    404: lambda: _("Page not found"),
    405: lambda: _("Method not allowed"),
    413: lambda: _("Upload too large"),
    429: lambda: _("Too many requests"),
    500: lambda: _("Server error"),
}
DEFAULT_DESCRIPTIONS = {
    400: lambda: _("The request could not be understood. Please check what you entered."),
    403: lambda: _("You do not have permission to see this page."),
    404: lambda: _("The page you asked for does not exist or is not visible to you."),
    405: lambda: _("This action is not allowed here."),
    413: lambda: _("The file is larger than allowed."),
    429: lambda: _("Too many requests. Please wait a moment and try again."),
    500: lambda: _("Something went wrong on our side. Nothing you saved was lost; please try again."),
}


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.path == "/healthz" or (
        request.accept_mimetypes.best == "application/json")


def render_error(code: int, description: str | None = None):
    title = TITLES.get(code, TITLES[500])()
    if description is None or description.startswith(("The browser (or proxy)", "The requested URL",
                                                      "You don't have the permission", "The server encountered")):
        description = DEFAULT_DESCRIPTIONS.get(code, DEFAULT_DESCRIPTIONS[500])()
    if _wants_json():
        return jsonify(error=title, message=description, status=code), code
    return render_template("errors/error.html", code=code, title=title, description=description), code


def register_error_handlers(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        from flask_wtf.csrf import CSRFError
        if isinstance(exc, CSRFError):
            return render_error(400, _("The form expired or was sent from elsewhere. Please reload and try again."))
        return render_error(exc.code or 500, exc.description)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        return render_error(exc.http_status, str(exc.message))

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        return render_error(500)
