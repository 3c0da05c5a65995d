"""The baseline's server: a plain Flask app beside the wall, against the same database.

Endpoints (all uncompressed, like the app's):

* ``/`` — ``index.html`` (plain Leaflet, see there), ``/leaflet.js``, ``/leaflet.css``;
* ``/config.js`` — the map's initial bounds (the scope's bbox, as the wall fits it);
* ``/units.geojson`` — every unit of every level as one GeoJSON FeatureCollection, exported once by the
  benchmark (:func:`export_units`) to a file and served as a static file;
* ``/cases.geojson`` — every open, placed case, queried from the database on each request (the same
  features and properties as the app's cases layer, ``layers.cases.case_features``), as plain GeoJSON.

Run under gunicorn as ``baseline.server:create_app()`` with ``BASELINE_DATABASE_URL`` and
``BASELINE_UNITS_FILE`` set (``--pythonpath benchmarks``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import shapely
from flask import Flask, Response, send_file, send_from_directory
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from data.db import make_engine, make_sessionmaker
from data.models import AdminUnit
from data.scope import AreaScope
from layers.cases import case_features

HERE = Path(__file__).resolve().parent
CHUNK = 5000


def district_scope(session: Session) -> AreaScope:
    """Every district stored: the wall's scope when no access rule narrows it."""
    return AreaScope.of(session.scalars(select(AdminUnit.code).where(AdminUnit.level == "district")).all())


def export_units(session: Session, path: Path) -> int:
    """Write every unit (all levels) as one GeoJSON FeatureCollection, coordinates at 6 decimals (the
    precision the app's geobuf uses), no simplification. Returns the number of features."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('{"type":"FeatureCollection","features":[')
        query = select(
            AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code, AdminUnit.geometry
        )
        rows = session.execute(query.order_by(AdminUnit.code)).all()
        for start in range(0, len(rows), CHUNK):
            part = rows[start : start + CHUNK]
            geoms = shapely.from_wkb([r.geometry for r in part])
            geoms = shapely.transform(geoms, lambda xy: np.round(xy, 6))
            texts = shapely.to_geojson(geoms)
            for row, text in zip(part, texts, strict=True):
                if text is None:
                    continue
                props = {
                    "code": row.code,
                    "name": row.name,
                    "level": row.level,
                    "parent_code": row.parent_code,
                }
                out.write("," if count else "")
                out.write('{"type":"Feature","geometry":' + str(text) + ',"properties":')
                out.write(json.dumps(props, ensure_ascii=False, separators=(",", ":")) + "}")
                count += 1
        out.write("]}")
    return count


def create_app() -> Flask:
    """The baseline app (connections made here, at the entry point, never at import time)."""
    engine = make_engine(os.environ["BASELINE_DATABASE_URL"])
    sessions = make_sessionmaker(engine)
    units_file = Path(os.environ["BASELINE_UNITS_FILE"])
    app = Flask(__name__)

    with sessions() as session:
        scope = district_scope(session)
        west, south, east, north = session.execute(
            select(
                func.min(AdminUnit.min_lon), func.min(AdminUnit.min_lat),
                func.max(AdminUnit.max_lon), func.max(AdminUnit.max_lat),
            ).where(AdminUnit.level == "district")
        ).one()  # fmt: skip
    config = f"window.BASELINE_BOUNDS = [[{south}, {west}], [{north}, {east}]];\n"

    @app.get("/")
    def index() -> Response:
        return send_from_directory(HERE, "index.html", max_age=0)

    @app.get("/leaflet.js")
    def leaflet_js() -> Response:
        return send_from_directory(HERE / "leaflet", "leaflet.js", max_age=3600)

    @app.get("/leaflet.css")
    def leaflet_css() -> Response:
        return send_from_directory(HERE / "leaflet", "leaflet.css", max_age=3600)

    @app.get("/config.js")
    def config_js() -> Response:
        return Response(config, mimetype="text/javascript")

    @app.get("/units.geojson")
    def units() -> Response:
        return send_file(units_file, mimetype="application/geo+json", max_age=3600)

    @app.get("/cases.geojson")
    def cases() -> Response:
        with sessions() as session:
            features = case_features(session, scope)
        body = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
        response = Response(body.encode("utf-8"), mimetype="application/geo+json")
        response.headers["Cache-Control"] = "no-store"
        return response

    return app
