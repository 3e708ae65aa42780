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
        added = catalogue.load_reference(session, announce=True)
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


@policy_cli.command("escalate")
def escalate() -> None:
    """Flag liaison reports past their answer date (run from cron, e.g. hourly)."""
    from marketplace.tasks import policy as policy_tasks
    click.echo(f"{policy_tasks.escalate_overdue_reports()['escalated']} reports escalated")


@policy_cli.command("survey-reminders")
def survey_reminders() -> None:
    """Close surveys past their date and remind firms that have not answered (run daily from cron)."""
    from marketplace.tasks import policy as policy_tasks
    outcome = policy_tasks.remind_surveys()
    click.echo(f"{outcome['closed']} surveys closed, {outcome['reminded']} organisations reminded")


@policy_cli.command("assign-sub-park")
@click.argument("email")
@click.argument("sub_park")
def assign_sub_park(email: str, sub_park: str) -> None:
    """Let the user with EMAIL answer the liaison reports of SUB_PARK (haidian, changping, …)."""
    from marketplace.models import SubParkStaff
    from marketplace.models.organizations import SUB_PARKS
    if sub_park not in SUB_PARKS:
        raise click.ClickException(f"unknown sub-park; use one of {', '.join(SUB_PARKS)}")
    with unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise click.ClickException("no such user")
        if not session.scalar(select(SubParkStaff).where(SubParkStaff.user_id == user.id,
                                                         SubParkStaff.sub_park == sub_park)):
            session.add(SubParkStaff(user_id=user.id, sub_park=sub_park))
    click.echo(f"{email} serves {sub_park}")
