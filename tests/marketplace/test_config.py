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
