"""Site paths for links stored in notifications and e-mails, built from the running app's URL map.

The one place below the views that knows the URL map: it works outside requests (jobs), so services can
say where a notification leads without knowing the routes' shapes.
"""
from __future__ import annotations

from flask import current_app


def path_for(endpoint: str, **values) -> str:
    """A site path (``/needs/7``) for ``endpoint``, also outside requests."""
    return current_app.url_map.bind("localhost").build(endpoint, values)
