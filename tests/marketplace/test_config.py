"""Configuration classes with environment overrides."""
import pytest

from marketplace.config import ConfigError, load_config


def test_production_refuses_to_start_without_secret_key():
    with pytest.raises(ConfigError):
        load_config("production", environ={"DATABASE_URL": "postgresql://x@localhost/db"})


def test_production_with_secret_uses_secure_cookies_and_postgres_driver():
    settings = load_config("production", environ={"SECRET_KEY": "s" * 40, "DATABASE_URL": "postgres://u@h/db"})
    assert settings["SESSION_COOKIE_SECURE"] and settings["REMEMBER_COOKIE_SECURE"]
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_defaults_are_sqlite_and_embedded_search(tmp_path):
    settings = load_config("development", overrides={"INSTANCE_DIR": str(tmp_path)}, environ={})
    assert settings["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")
    assert settings["MEILI_URL"] is None and settings["REDIS_URL"] is None
    assert settings["BABEL_DEFAULT_LOCALE"] == "zh"


def test_environment_overrides(tmp_path):
    settings = load_config("development", overrides={"INSTANCE_DIR": str(tmp_path)},
                           environ={"MEILI_URL": "http://127.0.0.1:7700", "REDIS_URL": "redis://127.0.0.1:6379/0"})
    assert settings["MEILI_URL"] == "http://127.0.0.1:7700" and settings["REDIS_URL"].startswith("redis://")


def test_unknown_environment_name():
    with pytest.raises(ConfigError):
        load_config("staging", environ={})


# --- the secret key: refuse to serve without a strong one ----------------------------------------------

def _context(command: str, **params):
    """A click context as the flask command line has it while loading the app for ``command``."""
    import click
    ctx = click.Context(click.Command(command), info_name=command)
    ctx.params.update(params)
    return ctx


def test_a_deployment_without_techbridge_env_refuses_the_public_development_key(tmp_path, monkeypatch):
    from marketplace import create_app
    monkeypatch.delenv("TECHBRIDGE_ENV", raising=False)
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(ConfigError, match="SECRET_KEY") as refused:  # a WSGI server imports the app
        create_app(overrides={"INSTANCE_DIR": str(tmp_path)})
    assert "well-known placeholder" in str(refused.value) and "TECHBRIDGE_ENV=production" in str(refused.value)


def test_production_refuses_a_short_or_placeholder_key_at_app_creation(tmp_path):
    from marketplace import create_app
    for key in ("x", "change-me", "k" * 31):
        with pytest.raises(ConfigError, match="SECRET_KEY"):
            create_app("production", overrides={"SECRET_KEY": key, "INSTANCE_DIR": str(tmp_path)})


def test_only_the_development_server_on_loopback_may_use_the_development_key(tmp_path):
    from marketplace import serving_context
    from marketplace.config import require_serving_key
    development = load_config("development", environ={}, overrides={"INSTANCE_DIR": str(tmp_path)})
    for host in ("127.0.0.1", "localhost", "::1"):
        with _context("run", host=host):
            serves, bound = serving_context()
            assert serves and bound == host
            require_serving_key(development, serves=serves, host=bound)  # make run
    with _context("run", host="0.0.0.0"), pytest.raises(ConfigError, match="on 0.0.0.0"):
        require_serving_key(development, serves=True, host=serving_context()[1])
    with _context("flask"):  # flask db upgrade, demo load, check: nothing is served
        assert serving_context() == (False, None)
        require_serving_key(development, serves=False)
    assert serving_context() == (True, None)  # no command line: a WSGI server
    with pytest.raises(ConfigError):
        require_serving_key(development)
    production = load_config("production", environ={"SECRET_KEY": "x"})
    with _context("run", host="127.0.0.1"), pytest.raises(ConfigError):
        require_serving_key(production, serves=True, host="127.0.0.1")  # the loopback pass is development's only
    require_serving_key(load_config("testing", environ={}))  # the test suite
    strong = load_config("development", environ={"SECRET_KEY": "a" * 16 + "b" * 16},
                         overrides={"INSTANCE_DIR": str(tmp_path)})
    require_serving_key(strong)


def test_flask_check_and_the_app_factory_share_one_rule_for_a_strong_key():
    from marketplace import health_checks
    from marketplace.config import secret_key_problem
    for key in ("", "short", "dev-only-not-secret", "CHANGE-ME", "k" * 31, "k" * 32):
        check = health_checks.check_secret_key({"ENV_NAME": "production", "SECRET_KEY": key,
                                                "SESSION_COOKIE_SECURE": True})
        assert (check.status == "FAIL") == (secret_key_problem(key) is not None), key


def test_gunicorn_refuses_to_start_with_a_weak_key(monkeypatch):
    import runpy

    from marketplace.config import PROJECT_ROOT
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))

    class Log:
        def error(self, *args):
            self.said = args[0] % args[1:]

    server = type("Server", (), {"log": Log()})()
    monkeypatch.setenv("TECHBRIDGE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "1")
    with pytest.raises(SystemExit):
        settings["on_starting"](server)
    assert "SECRET_KEY has 1 characters" in server.log.said


def test_rate_limits_and_the_remember_duration_come_from_the_environment(tmp_path):
    from datetime import timedelta
    environ = {"LOGIN_RATE_LIMIT": "3 per minute", "REGISTER_RATE_LIMIT": "2 per minute",
               "SEARCH_RATE_LIMIT": "7 per minute", "SUGGEST_RATE_LIMIT": "8 per minute",
               "API_RATE_LIMIT": "50 per minute", "UPLOAD_RATE_LIMIT": "4 per minute", "REMEMBER_COOKIE_DAYS": "7"}
    settings = load_config("development", environ=environ, overrides={"INSTANCE_DIR": str(tmp_path)})
    for key in ("LOGIN", "REGISTER", "SEARCH", "SUGGEST", "API", "UPLOAD"):
        assert settings[f"{key}_RATE_LIMIT"] == environ[f"{key}_RATE_LIMIT"]
    assert settings["REMEMBER_COOKIE_DURATION"] == timedelta(days=7)
    assert load_config("production", environ={"SECRET_KEY": "s" * 40})["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)


def test_gunicorn_workers_collect_garbage_less_often(monkeypatch):
    import gc
    import runpy

    from marketplace.config import PROJECT_ROOT
    monkeypatch.setenv("GUNICORN_PRELOAD", "0")  # post_fork then has no inherited connections to drop
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    saved = gc.get_threshold()
    try:
        settings["pre_fork"](None, None)
        assert gc.get_freeze_count() > 0  # the master's objects are left out of the workers' collections
        settings["post_fork"](None, None)
        assert gc.get_threshold() == (settings["GC_THRESHOLD_0"], *saved[1:])
    finally:
        gc.unfreeze()
        gc.set_threshold(*saved)
