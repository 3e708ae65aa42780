"""Blueprints. Views stay thin: parse the request, call a service, map domain errors to responses."""


def register_blueprints(app) -> None:
    from marketplace.views import account, auth, catalogue, main, needs, organizations

    for module in (main, auth, account, catalogue, needs, organizations):
        app.register_blueprint(module.bp)
