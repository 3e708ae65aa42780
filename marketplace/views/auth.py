"""Register, log in, log out."""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from marketplace.forms.auth import LoginForm, RegisterForm
from marketplace.security import client_details, limit_from_config, log_in, safe_next_url
from marketplace.services import accounts, sessions
from marketplace.services.errors import AddressTaken, DomainError, TooManyAttempts
from marketplace.services.unit_of_work import unit_of_work

bp = Blueprint("auth", __name__)


@bp.route("/register", methods=["GET", "POST"])
@limit_from_config("REGISTER_RATE_LIMIT", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = RegisterForm()
    if form.validate_on_submit():
        org = None
        if form.org_kind.data:
            org = accounts.NewOrganization(kind=form.org_kind.data, name_zh=form.org_name_zh.data or "",
                                           name_en=form.org_name_en.data or "", uscc=form.org_uscc.data or "",
                                           sub_park=form.org_sub_park.data or None,
                                           size_class=form.org_size_class.data or None,
                                           registered_in_park=bool(form.org_registered_in_park.data))
        try:
            with unit_of_work(commit_despite=(AddressTaken,)):  # keep the notice to the address's owner
                user = accounts.register_user(form.email.data, form.password.data, form.display_name.data, org,
                                              min_length=current_app.config["PASSWORD_MIN_LENGTH"])
                row, token = sessions.start(user, **client_details())
        except AddressTaken as exc:  # neutral: the same words whether or not the address has an account
            flash(str(exc.message), "info")
            return redirect(url_for("auth.login"))
        except DomainError as exc:
            flash(str(exc.message), "danger")
            for name, message in exc.field_errors.items():
                if hasattr(form, name):
                    getattr(form, name).errors = list(getattr(form, name).errors) + [str(message)]
        else:
            log_in(user, row, token)
            flash(_("Welcome to TechBridge, %(name)s.", name=user.display_name), "success")
            return redirect(safe_next_url(request.args.get("next"), url_for("account.dashboard")))
    elif request.method == "POST":
        flash(_("Please correct the highlighted fields."), "danger")
    return render_template("auth/register.html", form=form), (400 if request.method == "POST" else 200)


@bp.route("/login", methods=["GET", "POST"])
@limit_from_config("LOGIN_RATE_LIMIT", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    status, headers, lockout = 200, {}, None
    if form.validate_on_submit():
        try:
            with unit_of_work(commit_despite=(DomainError,)):
                user = accounts.authenticate(form.email.data, form.password.data, request.remote_addr or "",
                                             max_failures=current_app.config["LOGIN_MAX_FAILURES"],
                                             lockout_minutes=current_app.config["LOGIN_LOCKOUT_MINUTES"],
                                             site_timezone=current_app.config["BABEL_DEFAULT_TIMEZONE"])
                row, token = sessions.start(user, **client_details())
        except TooManyAttempts as exc:
            # Shown in its own notice on the page (not a flash) so it is there on this very response.
            lockout, status = str(exc.message), 429
            headers["Retry-After"] = str(exc.retry_after_seconds)
        except DomainError as exc:
            flash(str(exc.message), "danger")
            status = 401
        else:
            log_in(user, row, token, remember=bool(form.remember.data))
            flash(_("You are logged in."), "success")
            return redirect(safe_next_url(request.args.get("next"), url_for("account.dashboard")))
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form, lockout=lockout), status, headers


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    """End the server-side session too: a copied session or remember-me cookie stops working."""
    if current_user.current_session_id is not None:
        try:
            with unit_of_work():
                sessions.revoke(current_user, current_user.current_session_id)
        except DomainError:
            pass  # already ended elsewhere
    logout_user()
    flash(_("You are logged out."), "info")
    return redirect(url_for("main.home"))
