"""Blueprints. Views stay thin: parse the request, call a service, map domain errors to responses."""


def register_blueprints(app) -> None:
    from marketplace.views import (account, auth, brokering, catalogue, event_reports, events, main, matches, needs,
                                   operator, organizations, patents, search, transfer)
    from marketplace.views import confidentiality, docking, memberships, notifications, uploads

    for module in (main, auth, account, catalogue, needs, organizations, operator, patents, transfer, search, matches,
                   brokering, event_reports, events):  # event_reports first: it answers /events/<id>/report
        app.register_blueprint(module.bp)
    app.register_blueprint(notifications.bp)
    app.register_blueprint(notifications.funnel_bp)
    app.register_blueprint(confidentiality.bp)
    from marketplace.views.helpers import refuse_nul_bytes
    app.before_request(refuse_nul_bytes)
    app.register_blueprint(uploads.bp)
    app.register_blueprint(docking.bp)
    app.register_blueprint(memberships.bp)
    from marketplace.views import liaison, policy
    app.register_blueprint(policy.bp)
    app.register_blueprint(liaison.bp)
    from marketplace.views import supply_chains, surveys
    app.register_blueprint(supply_chains.bp)
    app.register_blueprint(surveys.bp)
    from marketplace.views import challenges
    app.register_blueprint(challenges.bp)
    from marketplace.views import challenge_evaluation
    app.register_blueprint(challenge_evaluation.bp)
    from marketplace.views.submissions import init_submissions
    init_submissions(app)
