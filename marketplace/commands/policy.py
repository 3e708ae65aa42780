"""``flask policy``: load the reference support measures, assign office staff."""
from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import PolicyOffice, PolicyOfficeStaff, User
from marketplace.services.policy import catalogue
from marketplace.services.unit_of_work import unit_of_work

policy_cli = AppGroup("policy", help="Support measures and the offices that review filings.")


@policy_cli.command("load-measures")
def load_measures() -> None:
    """Add the reference measures and offices that are missing (operators' edits are kept)."""
    with unit_of_work() as session:
        added = catalogue.load_reference(session)
    click.echo(f"{added} measures added")


@policy_cli.command("assign-office")
@click.argument("email")
@click.argument("office_code")
def assign_office(email: str, office_code: str) -> None:
    """Let the user with EMAIL review filings for the office OFFICE_CODE (industry, finance, startup, …)."""
    with unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        office = session.scalar(select(PolicyOffice).where(PolicyOffice.code == office_code))
        if user is None or office is None:
            raise click.ClickException("no such user or office")
        if not session.scalar(select(PolicyOfficeStaff).where(PolicyOfficeStaff.user_id == user.id,
                                                              PolicyOfficeStaff.office_id == office.id)):
            session.add(PolicyOfficeStaff(user_id=user.id, office_id=office.id))
    click.echo(f"{email} reviews for {office.name_zh}")
