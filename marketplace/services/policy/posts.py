"""The park posts a user holds (sub-park staff) and the visibility viewer that carries them, so the policy desk
asks ``visibility.py``'s rules rather than repeating who may see a report or a supply chain."""
from __future__ import annotations

from sqlalchemy import select

from marketplace import visibility
from marketplace.extensions import db
from marketplace.models import SubParkStaff


def sub_parks_of(user) -> set[str]:
    """The sub-parks whose firms ``user`` serves (empty for visitors and people without a post)."""
    if isinstance(user, visibility.Viewer):
        return set(user.sub_parks)
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(db.session.scalars(select(SubParkStaff.sub_park).where(SubParkStaff.user_id == user.id)))


def viewer(user) -> visibility.Viewer:
    """``user`` as the policy rules see it: memberships, roles and sub-park posts."""
    if isinstance(user, visibility.Viewer):
        return user
    return visibility.with_sub_parks(user, sub_parks_of(user))
