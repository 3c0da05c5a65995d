"""Departments and reporting apps push to gridcc: machines' endpoints, not a screen.

- ``/open311/v2/…``: gridcc as an Open311 GeoReport v2 server (:mod:`.open311`);
- ``POST /api/push/cap`` and ``POST /api/push/sensor``: CAP and sensor push (:mod:`.documents`).

Each is authenticated by a push key (``gridcc keys``, :mod:`data.push.keys`) alone: no sign-in, no
CSRF token (``dashboard.auth.csrf.KEY_PREFIXES``; a browser's cookies carry no key). Each key has its
own rate and size limits (:mod:`.gate`). What a push carries is stored by the workers
(``workers.jobs.push``, enqueued by name on the ``gridcc-push`` queue): the web tier never imports them
and never parses XML.
"""

from __future__ import annotations

from flask import Blueprint

from data.settings import Settings

from . import documents, open311


def make_push_blueprint(settings: Settings) -> Blueprint:
    blueprint = Blueprint("gridcc_push", __name__)
    open311.register(blueprint, settings)
    documents.register(blueprint)
    return blueprint
