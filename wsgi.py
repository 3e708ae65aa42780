"""WSGI entry point: `gunicorn -c gunicorn.conf.py wsgi:app`, `flask --app wsgi ...`."""
import sys

from marketplace import create_app
from marketplace.config import ConfigError

try:
    app = create_app()
except ConfigError as exc:  # say what is wrong in one line instead of a traceback
    sys.exit(f"TechBridge configuration error: {exc}")
