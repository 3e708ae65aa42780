"""Command-line groups, one module per group (``flask --app wsgi <group> <command>``), registered here."""
from __future__ import annotations

from flask import Flask


def register_commands(app: Flask) -> None:
    """Add every command group and the operations commands to ``app``'s CLI."""
    from marketplace.commands import brokering, demo, events, jobs, matching, notifications, ops, policy, search
    from marketplace.commands import challenges
    for group in (demo.demo_cli, demo.taxonomy_cli, search.search_cli, matching.matching_cli, jobs.worker,
                  brokering.brokering_cli, events.events_cli, notifications.notifications_cli, policy.policy_cli,
                  challenges.challenges_cli, *ops.COMMANDS):
        app.cli.add_command(group)
    from marketplace.commands.event_feedback import event_feedback_cli
    app.cli.add_command(event_feedback_cli)
    from marketplace.commands.imports import imports_cli
    app.cli.add_command(imports_cli)
