"""TechBridge marketplace: the Flask application."""
from __future__ import annotations

from flask import Flask

from marketplace.config import PROJECT_ROOT, load_config


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Application factory: configure, bind extensions, register blueprints, error pages and commands."""
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                instance_path=str(PROJECT_ROOT / "instance"), instance_relative_config=False)
    app.config.update(load_config(config_name, overrides))
    if int(app.config.get("TRUSTED_PROXIES") or 0):  # behind nginx & co: the client's address and scheme
        from werkzeug.middleware.proxy_fix import ProxyFix
        hops = int(app.config["TRUSTED_PROXIES"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from marketplace import cli, i18n, security
    from marketplace.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate
    from marketplace.views import register_blueprints
    from marketplace.views.errors import register_error_handlers

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone,
                   default_translation_directories=str(PROJECT_ROOT / "marketplace" / "translations"))
    security.init_login(app, login_manager)
    security.init_headers(app)
    from marketplace.database import install_engine_hooks
    from marketplace.search_index import install_outbox_listener
    install_engine_hooks()
    install_outbox_listener()
    i18n.init_template_helpers(app)
    register_blueprints(app)
    from marketplace.api import init_api
    init_api(app)
    register_error_handlers(app)
    cli.register(app)
    return app
