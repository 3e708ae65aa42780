"""TechBridge marketplace: the Flask application."""
from __future__ import annotations

from flask import Flask

from marketplace.config import PROJECT_ROOT, load_config, require_serving_key


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Application factory: configure, then register each part in turn.

    Raises ConfigError when the app would serve requests with a weak SECRET_KEY (see ``require_serving_key``).
    """
    settings = load_config(config_name, overrides)
    serves, host = serving_context()
    require_serving_key(settings, serves=serves, host=host)
    app = Flask(__name__, template_folder=str(PROJECT_ROOT / "templates"),
                instance_path=str(PROJECT_ROOT / "instance"), instance_relative_config=False)
    app.config.update(settings)
    register_proxy_fix(app)
    register_extensions(app)
    register_data_hooks()
    register_jobs()
    register_views(app)
    register_cli(app)
    return app


def serving_context() -> tuple[bool, str | None]:
    """(serves requests, bound host) for the process creating the app.

    ``flask run`` serves on its ``--host``; the other flask commands (``db upgrade``, ``check``, ``worker``)
    serve nothing; anything else (gunicorn importing ``wsgi``, a script) may serve on an address unknown here.
    """
    import click
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True, None
    if ctx.info_name == "run" and "host" in ctx.params:
        return True, str(ctx.params.get("host") or "127.0.0.1")
    return False, None


def register_proxy_fix(app: Flask) -> None:
    """Behind nginx & co: take the client's address and scheme from the trusted proxies' headers."""
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops:
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_extensions(app: Flask) -> None:
    """Bind the extensions (created unbound in ``marketplace.extensions``), login, headers, template helpers."""
    from marketplace import charts, i18n, page_cache, search_counts, security
    from marketplace.extensions import babel, bootstrap, csrf, db, limiter, login_manager, migrate
    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    bootstrap.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone,
                   default_translation_directories=str(PROJECT_ROOT / "marketplace" / "translations"))
    security.init_login(app, login_manager)
    security.init_headers(app)
    i18n.init_template_helpers(app)
    charts.init_app(app)
    page_cache.init_app(app)
    search_counts.init_app(app)


def register_data_hooks() -> None:
    """Engine hooks (SQLite pragmas and the like), the search outbox and funnel count listeners (idempotent)."""
    from marketplace.database import install_engine_hooks
    from marketplace.search_outbox import install_outbox_listener
    from marketplace.services.funnel_counts import install_funnel_count_listener
    install_engine_hooks()
    install_outbox_listener()
    install_funnel_count_listener()


def register_jobs() -> None:
    """Register every background job (``marketplace.tasks``)."""
    from marketplace.tasks import register_tasks
    register_tasks()


def register_views(app: Flask) -> None:
    """Site blueprints, the API and the error pages."""
    from marketplace.api import init_api
    from marketplace.views import register_blueprints
    from marketplace.views.converters import DatabaseIdConverter
    from marketplace.views.errors import register_error_handlers
    app.url_map.converters["int"] = DatabaseIdConverter  # before any rule is added
    register_blueprints(app)
    init_api(app)
    register_error_handlers(app)


def register_cli(app: Flask) -> None:
    """Command groups, one module each in ``marketplace.commands``."""
    from marketplace.commands import register_commands
    register_commands(app)
