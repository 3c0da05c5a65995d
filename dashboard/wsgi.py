"""The WSGI entry for gunicorn: ``gunicorn "dashboard.wsgi:create_wsgi()"`` (settings from GRIDCC_*)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from data.settings import Settings

from .app import create_app
from .auth.setup import log_startup_notes


def create_wsgi() -> Flask:
    """A Flask app (the Dash server) built from the environment's settings. Logs, as a warning, that
    sign-in is off, or how to add the first admin while no account exists."""
    from_environment: dict[str, Any] = {}  # every field from GRIDCC_* variables
    settings = Settings(**from_environment)
    log_startup_notes(settings)
    return create_app(settings).server
