"""Geography: the real Chongqing reference data and the grid hierarchy built from it.

- ``reference``: district outlines (EPSG:4326), street and community names and codes.
- ``generate``: ``generate(session, district_codes, ...)`` and ``ensure_default(session, code)``.
- ``placement``: ``GridLocator`` (point in grid, unit lookup, address → unit, random points).
- ``load``: ``load_file(session, path, level)`` for a user's own polygons, all rows or none.
- ``export``: ``export_level(session, level, district=None)`` as a GeoJSON FeatureCollection.

Submodules are not imported here, so that ``import data`` stays light (geopandas is slow to import).
"""
