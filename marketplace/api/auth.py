"""Who is calling the API: a bearer token or nobody. Session cookies are ignored here, so the API needs no CSRF."""
from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import lazy_gettext as _l

from marketplace.services import api_tokens
from marketplace.services.errors import AuthenticationFailed, PermissionDenied


def load_caller() -> None:
    """Before each API request: resolve ``Authorization: Bearer …`` into ``g.api_user`` / ``g.api_token``."""
    g.api_user = None
    g.api_token = None
    header = request.headers.get("Authorization", "")
    if not header:
        return
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        raise AuthenticationFailed(_l("Use 'Authorization: Bearer <token>' with a personal access token."))
    g.api_user, g.api_token = api_tokens.authenticate(secret.strip())


def caller():
    """The authenticated user of this API request, or None for an anonymous visitor."""
    return g.get("api_user")


def require_caller():
    """The authenticated user, or AuthenticationFailed (401)."""
    user = caller()
    if user is None:
        raise AuthenticationFailed(_l("This call needs a personal access token."))
    return user


def write_access(view):
    """Decorator: the call changes data, so it needs a token with the write scope."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        require_caller()
        if not g.api_token.allows_write:
            raise PermissionDenied(_l("This token may only read; create a token with the write scope."))
        return view(*args, **kwargs)
    return wrapper


def rate_limit_key() -> str:
    """Limit per token when there is one (several clients may share an address), else per address."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer ") and len(header) < 300:
        return "token:" + api_tokens.hash_secret(header[7:].strip())[:16]
    return "addr:" + (request.remote_addr or "")


def remote_addr() -> str:
    """The caller's address for the audit log (ProxyFix makes it the client's behind a proxy)."""
    return request.remote_addr or ""
