"""Organisation jobs: the e-mail that carries an invitation link (sent after the invitation is committed)."""
from __future__ import annotations

import logging

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from marketplace import mail
from marketplace.extensions import db
from marketplace.links import path_for
from marketplace.models import OrganizationInvitation, User
from marketplace.services.invitations import INVITATION_EMAIL_JOB
from marketplace.settings import current_settings
from marketplace.tasks.base import task

log = logging.getLogger(__name__)


@task(INVITATION_EMAIL_JOB)
def send_invitation(invitation_id: int, token: str, lang: str = "zh") -> bool:
    """E-mail the invitation link to the invited address (only while the invitation is still open)."""
    invitation = db.session.get(OrganizationInvitation, invitation_id)
    if invitation is None or not invitation.is_open:
        return False
    settings = current_settings()
    inviter = db.session.get(User, invitation.invited_by_id or 0)
    org = invitation.organization
    with force_locale(lang if lang in settings.languages else settings.default_locale):
        name = org.name("en" if lang == "en" else "zh")
        subject = _("Invitation to join %(org)s on TechBridge", org=name)
        text = render_template("organizations/invitation_email.txt", org_name=name, invitation=invitation,
                               inviter=inviter.display_name if inviter else "",
                               link=settings.site_url + path_for("memberships.invitation", token=token),
                               expires=invitation.expires_at.date().isoformat())
    mail.send(invitation.email, subject, text)
    return True
