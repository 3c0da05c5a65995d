"""Split a polygon into ``n`` compact cells that tile it: Voronoi cells of well-spread seed points.

Seeds are drawn uniformly inside the parent (area-weighted triangles of its constrained Delaunay
triangulation, so slivers and multi-part parents work), then moved a few times to the centroids of
their cells (Lloyd relaxation), which makes cells of similar size and shape. Each Voronoi cell is
clipped to the parent; since the cells tile the plane, the clipped cells tile the parent exactly (up to
floating point) and share their edges.
"""

from __future__ import annotations

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

LLOYD_ITERATIONS = 4
_POLYGONAL = ("Polygon", "MultiPolygon")


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygonal parts of ``geom`` (an overlay can leave stray lines or points)."""
    if geom.geom_type in _POLYGONAL:
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in _POLYGONAL and not p.is_empty]
    if not parts:
        return shapely.Polygon()
    polygons = [q for p in parts for q in shapely.get_parts(p)]
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _triangles(parent: BaseGeometry) -> NDArray[np.float64]:
    """The parent's triangles as an array of shape (k, 3, 2)."""
    parts = shapely.get_parts(parent)
    triangulated = [shapely.get_parts(shapely.constrained_delaunay_triangles(p)) for p in parts]
    triangles = np.concatenate(triangulated) if triangulated else np.empty(0, dtype=object)
    if len(triangles) == 0:
        return np.empty((0, 3, 2))
    coords = shapely.get_coordinates(triangles).reshape(len(triangles), 4, 2)
    return coords[:, :3, :]


def sample_points(parent: BaseGeometry, n: int, rng: np.random.Generator) -> NDArray[np.float64]:
    """``n`` points drawn uniformly inside ``parent`` (shape (n, 2))."""
    tri = _triangles(parent)
    if len(tri) == 0:
        point = shapely.point_on_surface(parent)
        return np.repeat([[point.x, point.y]], n, axis=0)
    a, b, c = tri[:, 0], tri[:, 1], tri[:, 2]
    ab, ac = b - a, c - a
    areas = np.abs(ab[:, 0] * ac[:, 1] - ab[:, 1] * ac[:, 0]) / 2
    weights = areas / areas.sum() if areas.sum() > 0 else None
    pick = rng.choice(len(tri), size=n, p=weights)
    r1, r2 = rng.random(n), rng.random(n)
    flip = r1 + r2 > 1
    r1[flip], r2[flip] = 1 - r1[flip], 1 - r2[flip]
    return a[pick] + r1[:, None] * (b[pick] - a[pick]) + r2[:, None] * (c[pick] - a[pick])


def _distinct(points: NDArray[np.float64]) -> bool:
    return len(np.unique(points, axis=0)) == len(points)


def voronoi_cells(points: NDArray[np.float64], parent: BaseGeometry) -> list[BaseGeometry] | None:
    """The Voronoi cell of each point (in order) clipped to ``parent``; None if GEOS merged points."""
    diagram = shapely.voronoi_polygons(shapely.multipoints(points), extend_to=parent, ordered=True)
    cells = shapely.get_parts(diagram)
    if len(cells) != len(points):
        return None
    clipped = shapely.intersection(cells, parent)
    return [polygonal(cell) for cell in clipped]


def split(
    parent: BaseGeometry, n: int, rng: np.random.Generator, iterations: int = LLOYD_ITERATIONS
) -> list[BaseGeometry]:
    """``n`` non-empty polygonal cells tiling ``parent``, in a deterministic order for a given rng."""
    if n <= 0:
        return []
    if n == 1:
        return [parent]
    shapely.prepare(parent)
    cells: list[BaseGeometry] | None = None
    for _attempt in range(5):
        points = sample_points(parent, n, rng)
        if _distinct(points):
            cells = voronoi_cells(points, parent)
            if cells is not None and not any(c.is_empty for c in cells):
                break
        cells = None
    if cells is None:
        raise ValueError(f"cannot split a unit of area {parent.area:.3g} into {n} cells")
    for _ in range(iterations):
        centroids = shapely.get_coordinates(shapely.centroid(np.array(cells, dtype=object)))
        outside = ~shapely.contains_xy(parent, centroids[:, 0], centroids[:, 1])
        for i in np.flatnonzero(outside):
            surface = shapely.point_on_surface(cells[i])
            centroids[i] = (surface.x, surface.y)
        if not _distinct(centroids):
            break
        moved = voronoi_cells(centroids, parent)
        if moved is None or any(c.is_empty for c in moved):
            break
        cells = moved
    return cells
