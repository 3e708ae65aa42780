"""Small helpers shared by views."""
from __future__ import annotations

from flask import abort, flash, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from marketplace.services.errors import DomainError


def form_dict(form: MultiDict, list_keys: tuple[str, ...] = ()) -> dict:
    """Request form as a plain dict; ``list_keys`` keep every value (checkbox groups)."""
    data = {k: form.get(k) for k in form.keys()}
    for key in list_keys:
        data[key] = form.getlist(key)
    return data


def flash_domain_error(exc: DomainError) -> dict:
    """Show the error's message and return its field errors for the template."""
    flash(str(exc.message), "danger")
    return {k: str(v) for k, v in exc.field_errors.items()}


def flash_stale_edit(exc: DomainError) -> dict:
    """A save refused because someone else saved first: say so, and that the input is still on the form."""
    errors = flash_domain_error(exc)
    flash(_("Your input is kept below: check the current version (for example in another tab) and save "
            "again to replace it."), "warning")
    return errors


def abort_for(exc: DomainError):
    abort(exc.http_status, description=str(exc.message))


def page_arg() -> int:
    try:
        return max(1, min(int(request.args.get("page", 1)), 10_000))
    except ValueError:
        return 1


def refuse_nul_bytes() -> None:
    """Before each request: NUL never belongs in a query or form value and PostgreSQL refuses it, so such a
    request is a 400 rather than an error deep in a query."""
    for values in (request.args, request.form):
        for value in values.values():
            if "\x00" in value:
                abort(400)


def chosen_organization(user):
    """(the organisation the member acts for here, all of theirs): ``?org=`` among their own, else the first;
    404 for someone with none."""
    orgs = user.organizations
    wanted = request.values.get("org", type=int)
    chosen = next((o for o in orgs if o.id == wanted), orgs[0] if orgs else None)
    if chosen is None:
        abort(404)
    return chosen, orgs
