"""Submission jobs: forgetting the one-time keys of forms and API calls once nobody will resend them."""
from __future__ import annotations

from marketplace.services import idempotency
from marketplace.services.idempotency import PRUNE_JOB
from marketplace.settings import current_settings
from marketplace.tasks.base import task


@task(PRUNE_JOB)
def prune_keys(now=None) -> dict:
    """Delete submission keys older than ``SUBMISSION_KEY_DAYS``."""
    return {"submission_keys_pruned": idempotency.prune(current_settings().submission_key_days, now=now)}
