"""The edit form of a versioned record: one flow for every page that edits a row carrying a ``version``.

The form carries the version it was opened on as a hidden field; saving it goes through the service with that
version (``services.versions.claim``). A save that started from an older version is refused and the form comes
back with the user's input and the version now stored, so saving again is a deliberate replacement.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import flash, redirect, request

from marketplace.services.errors import DomainError
from marketplace.services.unit_of_work import unit_of_work
from marketplace.services.versions import StaleEdit
from marketplace.views.helpers import flash_domain_error, flash_stale_edit


def versioned_edit(current_version, *, form_values: Callable[[], dict], read_form: Callable[[], dict],
                   save: Callable[[dict, object], object], saved: str, next_url: str,
                   render: Callable[[dict, dict, int], object], error_status: int | None = 400,
                   refused: tuple[int, ...] = ()):
    """Show the edit form (GET) or save it (POST), and answer.

    - GET: ``form_values()`` with ``current_version`` as the form's ``version``.
    - POST: ``read_form()`` is the input; its ``version`` is taken out and passed, with a copy of the rest, to
      ``save(data, version)`` inside one unit of work (committed on success).
      Saved: ``saved`` is flashed and the answer is a redirect to ``next_url``.
      Stale (``StaleEdit``): the refusal and "your input is kept" are flashed; the input is shown again with
      the version now stored, with the error's status (409).
      Another domain error: flashed, the input is shown again with the field errors and the version it was
      opened on, with ``error_status`` (None: the error's own status). A status in ``refused`` (such as 403 or
      404) is not a form error: the error goes on to the app's error page.

    ``render(data, errors, status)`` builds the form page; its result is returned as the response.
    """
    errors: dict = {}
    status = 200
    version = current_version
    if request.method == "POST":
        data = read_form()
        version = data.pop("version", None)
        try:
            with unit_of_work():
                save(dict(data), version)
        except StaleEdit as exc:  # keep the input; saving again replaces the other person's version
            errors, status, version = flash_stale_edit(exc), exc.http_status, exc.current_version
        except DomainError as exc:
            if exc.http_status in refused:
                raise
            errors, status = flash_domain_error(exc), error_status or exc.http_status
        else:
            flash(saved, "success")
            return redirect(next_url)
    else:
        data = form_values()
    data["version"] = version
    return render(data, errors, status)
