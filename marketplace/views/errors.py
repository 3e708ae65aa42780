"""Error pages in the user's language, and JSON for API/health callers."""
from __future__ import annotations

from flask import flash, jsonify, redirect, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

from marketplace.api.problems import is_api_request, problem
from marketplace.extensions import db
from marketplace.services.errors import DomainError, ValidationFailed
from marketplace.services.idempotency import AlreadySubmitted

TITLES = {
    400: lambda: _("Bad request"),
    403: lambda: _("Access denied"),
    404: lambda: _("Page not found"),
    405: lambda: _("Method not allowed"),
    401: lambda: _("Authentication required"),
    409: lambda: _("Conflict"),
    413: lambda: _("Upload too large"),
    415: lambda: _("Unsupported media type"),
    422: lambda: _("Invalid input"),
    429: lambda: _("Too many requests"),
    500: lambda: _("Server error"),
    503: lambda: _("Service unavailable"),
}
DEFAULT_DESCRIPTIONS = {
    400: lambda: _("The request could not be understood. Please check what you entered."),
    403: lambda: _("You do not have permission to see this page."),
    404: lambda: _("The page you asked for does not exist or is not visible to you."),
    405: lambda: _("This action is not allowed here."),
    401: lambda: _("Send a valid personal access token as 'Authorization: Bearer <token>'."),
    409: lambda: _("The request conflicts with the current state of the record."),
    413: lambda: _("The file is larger than allowed."),
    415: lambda: _("Send the request body as JSON (Content-Type: application/json)."),
    422: lambda: _("Some values are not valid; see the errors."),
    429: lambda: _("Too many requests. Please wait a moment and try again."),
    500: lambda: _("Something went wrong on our side. Nothing you saved was lost; please try again."),
    503: lambda: _("The service is briefly unavailable. Please try again in a moment."),
}
DATABASE_RETRY_AFTER_SECONDS = 30


def is_database_outage(exc: BaseException) -> bool:
    """The database cannot be reached or dropped the connection (as opposed to a bad statement or data)."""
    return isinstance(exc, (OperationalError, InterfaceError)) or (
        isinstance(exc, DBAPIError) and bool(exc.connection_invalidated))


def _wants_json() -> bool:
    return request.path == "/healthz" or request.accept_mimetypes.best == "application/json"


def render_error(code: int, description: str | None = None, *, errors: dict | None = None,
                 headers: dict | None = None):
    title = TITLES.get(code, TITLES[500])()
    if description is None or description.startswith(("The browser (or proxy)", "The requested URL",
                                                      "You don't have the permission", "The server encountered")):
        description = DEFAULT_DESCRIPTIONS.get(code, DEFAULT_DESCRIPTIONS[500])()
    if is_api_request():
        if code == 404:
            title = _("Not found")
        return problem(code, title, description, errors=errors, headers=headers)
    if _wants_json():
        return jsonify(error=title, message=description, status=code), code, headers or {}
    return render_template("errors/error.html", code=code, title=title, description=description), code, headers or {}


def _input_errors(exc) -> dict | None:
    """webargs puts input errors in ``exc.data`` as {location: {field: messages}}; flatten to "location.field"."""
    data = getattr(exc, "data", None) or {}
    errors = data.get("messages") or data.get("errors")
    if not isinstance(errors, dict):
        return None
    flat = {}
    for location, fields in errors.items():
        if isinstance(fields, dict):
            flat.update({f"{location}.{name}": messages for name, messages in fields.items()})
        else:
            flat[location] = fields
    return flat


def register_error_handlers(app) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        from flask_wtf.csrf import CSRFError
        if isinstance(exc, CSRFError):
            return render_error(400, _("The form expired or was sent from elsewhere. Please reload and try again."))
        headers = dict((getattr(exc, "data", None) or {}).get("headers") or {})
        if getattr(exc, "valid_methods", None):
            headers["Allow"] = ", ".join(exc.valid_methods)
        errors = _input_errors(exc)
        if exc.code == 429:  # Flask-Limiter: its description is the limit ("10 per 1 minute"); say when to retry
            from marketplace.security import too_many_requests
            description, headers = too_many_requests(headers)
            return render_error(429, description, errors=errors, headers=headers)
        if exc.description == type(exc).description:
            return render_error(exc.code or 500, None, errors=errors, headers=headers)
        return render_error(exc.code or 500, exc.description, errors=errors, headers=headers)

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if isinstance(exc, AlreadySubmitted) and not is_api_request() and not _wants_json():
            # a copy of a form that lost the race to the first: back to what the first one created
            from marketplace.services import idempotency
            from marketplace.views.submissions import current_submission, earlier_location
            submission = current_submission()
            flash(str(exc.message), "info")
            return redirect(earlier_location(idempotency.find(submission) if submission else None))
        status = exc.http_status
        if is_api_request() and isinstance(exc, ValidationFailed):
            status = 422  # the API reports input that parses but breaks a business rule as 422
        headers = {}
        if getattr(exc, "retry_after_seconds", 0):
            headers["Retry-After"] = str(exc.retry_after_seconds)
        return render_error(status, str(exc.message), errors=exc.field_errors, headers=headers)

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        if isinstance(exc, IntegrityError):  # a race the unit of work did not see (a write outside it)
            from marketplace.services.unit_of_work import conflict_from
            return domain_error(conflict_from(exc))
        if not is_database_outage(exc):
            return unexpected_error(exc)
        try:
            db.session.rollback()
        except DBAPIError:  # the connection is gone: nothing to roll back
            pass
        app.logger.warning("database unavailable on %s: %s", request.path, exc.orig or exc)
        return render_error(503, _("The database is briefly unavailable. Nothing was saved; please try again in "
                                   "a moment."), headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s", request.path)
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        return render_error(500)
