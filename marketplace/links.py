"""Site paths for links stored in notifications and e-mails, built from the running app's URL map.

The one place below the views that knows the URL map: it works outside requests (jobs), so services can
say where a notification leads without knowing the routes' shapes.
"""
from __future__ import annotations

from flask import current_app


def path_for(endpoint: str, **values) -> str:
    """A site path (``/needs/7``) for ``endpoint``, also outside requests."""
    return current_app.url_map.bind("localhost").build(endpoint, values)


def site_url(endpoint: str, **values) -> str:
    """An absolute link on the configured ``SITE_URL`` (API documents, calendar feeds, e-mails).

    Never built from the request's Host header: a caller choosing the host would otherwise choose where
    the links in our answers (and in any cache in front of us) point.
    """
    return current_app.config["SITE_URL"].rstrip("/") + path_for(endpoint, **values)
