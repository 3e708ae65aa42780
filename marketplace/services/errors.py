"""Domain errors; views map them to flash messages or HTTP codes."""
from __future__ import annotations


class DomainError(Exception):
    """Base of every business-rule failure. ``message`` is a (lazy) translated string."""

    http_status = 400

    def __init__(self, message, *, field_errors: dict | None = None):
        super().__init__(str(message))
        self.message = message
        self.field_errors = field_errors or {}


class ValidationFailed(DomainError):
    http_status = 400


class NotFound(DomainError):
    http_status = 404


class PermissionDenied(DomainError):
    http_status = 403


class Conflict(DomainError):
    http_status = 409


class AuthenticationFailed(DomainError):
    http_status = 401


class TooManyAttempts(DomainError):
    http_status = 429

    def __init__(self, message, *, retry_after_seconds: int = 0):
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class AddressTaken(Conflict):
    """Registration with an address that has an account. The message is neutral (it does not say so: no one
    learns who is registered); the account's owner is told instead."""
