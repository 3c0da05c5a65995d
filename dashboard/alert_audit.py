"""The audit of grid workers' phones sent in full in the alerts layer (``/layers/alerts.json``).

A duty officer's alerts layer carries the covered grids' workers' phones in full. Every body of it the
server actually sends to such a viewer — a 200 to a GET, with at least one phone in it — writes one
``personal_view`` audit row: who, when, from which address, the target :data:`TARGET` and how many
alerts and phones went (never the phones). A 304 (the browser's copy is still the current one), a HEAD,
a masked or phone-less body writes nothing. The row is written per delivery, after the body was taken
from the Redis layer cache or built, so a cached body is audited for each viewer that receives it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from flask import Response, request

from data.auth import audit
from data.db import transaction

from .auth import viewer_name
from .services import services

TARGET = "layer:alerts.json"


def phone_counts(collection: dict[str, Any]) -> tuple[int, int]:
    """(alerts, distinct grid worker phones) in an alerts layer feature collection."""
    features = collection.get("features", [])
    phones = {
        worker["phone"]
        for feature in features
        for grid in feature.get("properties", {}).get("grids", [])
        for worker in grid.get("workers", [])
        if worker.get("phone")
    }
    return len(features), len(phones)


def describe(alerts: int, phones: int) -> str:
    """The audit row's detail: ``"1 alert, 2 grid worker phones in full"``."""
    return (
        f"{alerts} alert{'' if alerts == 1 else 's'}, "
        f"{phones} grid worker phone{'' if phones == 1 else 's'} in full"
    )


def audit_full_phones(response: Response, view: str) -> Response:
    """Write the ``personal_view`` row for this response if it delivers full phones; return it as is.

    ``view`` is :func:`dashboard.auth.phone_view` of the request: any other view than ``"full"`` returns
    at once, without reading the body."""
    if view != "full" or request.method != "GET" or response.status_code != 200:
        return response
    alerts, phones = phone_counts(json.loads(response.get_data()))
    if phones:
        with transaction(services().sessions) as session:
            audit(
                session,
                viewer_name(),
                "personal_view",
                TARGET,
                describe(alerts, phones),
                request.remote_addr or "",
                datetime.now(UTC),
            )
    return response


__all__ = ["TARGET", "audit_full_phones", "describe", "phone_counts"]
