"""The WSGI entry for gunicorn: ``gunicorn "dashboard.wsgi:create_wsgi()"`` (settings from GRIDCC_*)."""

from __future__ import annotations

from typing import Any

from flask import Flask

from data.settings import Settings

from .app import create_app


def create_wsgi() -> Flask:
    """A Flask app (the Dash server) built from the environment's settings."""
    from_environment: dict[str, Any] = {}  # every field from GRIDCC_* variables
    return create_app(Settings(**from_environment)).server
