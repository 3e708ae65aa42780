"""Blueprints. Views stay thin: parse the request, call a service, map domain errors to responses."""


def register_blueprints(app) -> None:
    from marketplace.views import (account, auth, brokering, catalogue, main, matches, needs, operator, organizations,
                                   patents, search, transfer)

    for module in (main, auth, account, catalogue, needs, organizations, operator, patents, transfer, search, matches,
                   brokering):
        app.register_blueprint(module.bp)
