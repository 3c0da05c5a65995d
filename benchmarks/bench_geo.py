"""Benchmark the geography: ``generate`` (one district, the whole city) and ``GridLocator.locate_many``.

    python benchmarks/bench_geo.py [--no-city] [--points 100000] [--sample 500]

Each generation goes into a fresh SQLite file (migrated first; migration time not counted) and prints
units per second. The locator is timed on random points over the district's bbox, beside its baseline
measured in the same run: a naive loop testing each point against each grid polygon in turn, on a
sample of points (extrapolated per 100,000 points).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from data import migrate
from data.db import make_engine, make_sessionmaker, transaction
from data.geo.generate import GenerateStats, generate
from data.geo.placement import GridLocator
from data.geo.reference import read_districts
from data.models import AdminUnit


def fresh_db(folder: Path, name: str) -> sessionmaker[Session]:
    engine = make_engine(f"sqlite:///{folder / name}")
    migrate.upgrade(engine)
    return make_sessionmaker(engine)


def bench_generate(factory: sessionmaker[Session], codes: list[str], label: str) -> GenerateStats:
    started = time.perf_counter()
    with transaction(factory) as session:
        stats = generate(session, codes)
    seconds = time.perf_counter() - started
    print(
        f"generate {label:<8} {stats.districts:>3} districts {stats.streets:>5} streets "
        f"{stats.communities:>6} communities {stats.grids:>6} grids {stats.staff:>7} staff: "
        f"{seconds:7.1f} s  {stats.units / seconds:9.0f} units/s  (geometry+rows {stats.seconds:.1f} s "
        "before commit)"
    )
    return stats


def bench_locate(factory: sessionmaker[Session], label: str, points: int, sample: int) -> None:
    with factory() as session:
        started = time.perf_counter()
        locator = GridLocator(session)
        built = time.perf_counter() - started
        rows = session.execute(
            select(AdminUnit.code, AdminUnit.geometry).where(AdminUnit.level == "grid")
        ).all()
        bounds = session.execute(
            select(AdminUnit.min_lon, AdminUnit.min_lat, AdminUnit.max_lon, AdminUnit.max_lat).where(
                AdminUnit.level == "district"
            )
        ).all()
    arr = np.array(bounds, dtype=float)
    min_x, min_y, max_x, max_y = arr[:, 0].min(), arr[:, 1].min(), arr[:, 2].max(), arr[:, 3].max()
    rng = np.random.default_rng(0)
    lons, lats = rng.uniform(min_x, max_x, points), rng.uniform(min_y, max_y, points)

    started = time.perf_counter()
    found = locator.locate_many(lons, lats)
    fast = time.perf_counter() - started
    placed = sum(code is not None for code in found)

    grids = [(code, shapely.from_wkb(wkb)) for code, wkb in rows]
    started = time.perf_counter()
    naive: list[str | None] = []
    for lon, lat in zip(lons[:sample], lats[:sample], strict=True):
        point = shapely.Point(lon, lat)
        naive.append(next((code for code, geom in grids if geom.covers(point)), None))
    slow = (time.perf_counter() - started) * points / sample
    agree = sum(a == b for a, b in zip(naive, found[:sample], strict=True))

    print(
        f"locate   {label:<8} {len(locator):>6} grids, tree built in {built:.2f} s; {points} points "
        f"({placed} inside a grid): locate_many {fast:.2f} s = {points / fast:,.0f} points/s | "
        f"baseline naive loop {slow:,.1f} s per {points} (from {sample} points) = "
        f"{points / slow:,.0f} points/s; speed-up x{slow / fast:,.0f}; agree on {agree}/{sample}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-city", action="store_true", help="Skip the 38-district run.")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=500, help="Points for the naive baseline.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        district = fresh_db(folder, "district.db")
        bench_generate(district, ["500151"], "500151")
        bench_locate(district, "500151", args.points, args.sample)
        if not args.no_city:
            city = fresh_db(folder, "city.db")
            bench_generate(city, list(read_districts()["code"]), "city")
            bench_locate(city, "city", args.points, max(args.sample // 10, 20))


if __name__ == "__main__":
    main()
