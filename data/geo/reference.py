"""The real Chongqing reference geography shipped in ``data/resources/geo`` (see PROVENANCE.md).

District outlines are read with geopandas (pyogrio) and reprojected from EPSG:4490 (CGCS2000) to
EPSG:4326; streets and communities are read from CSV with every column as a string, so codes keep
their digits exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable

import geopandas as gpd
import pandas as pd

WGS84 = "EPSG:4326"
DISTRICTS_FILE = "chongqing_districts.geojson"
STREETS_FILE = "chongqing_streets.csv"
COMMUNITIES_FILE = "chongqing_communities.csv"


def resource(name: str) -> Traversable:
    """A file of ``data/resources/geo`` inside the installed package."""
    return resources.files("data").joinpath("resources", "geo", name)


def read_districts() -> gpd.GeoDataFrame:
    """The district outlines: columns ``code``, ``name``, ``geometry`` (EPSG:4326), indexed by row."""
    with resources.as_file(resource(DISTRICTS_FILE)) as path:
        frame = gpd.read_file(path)
    if frame.crs is None:
        raise ValueError(f"{DISTRICTS_FILE} declares no CRS")
    frame = frame.to_crs(WGS84)
    frame = frame.rename(columns={"adcode": "code"})
    frame["code"] = frame["code"].astype(str)
    return frame[["code", "name", "geometry"]].sort_values("code").reset_index(drop=True)


def _read_csv(name: str) -> pd.DataFrame:
    with resource(name).open("rb") as fh:
        frame = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return frame.apply(lambda column: column.str.strip())


def read_streets() -> pd.DataFrame:
    """Streets and towns (镇街): ``code`` (9 digits), ``name``, ``district_code``, ``district_name``."""
    return _read_csv(STREETS_FILE).sort_values("code").reset_index(drop=True)


def read_communities() -> pd.DataFrame:
    """Communities and villages (村/社区): ``code`` (12 digits), ``name``, ``street_code``,
    ``district_code``."""
    return _read_csv(COMMUNITIES_FILE).sort_values("code").reset_index(drop=True)


@dataclass(frozen=True)
class Reference:
    """All three files, read once."""

    districts: gpd.GeoDataFrame
    streets: pd.DataFrame
    communities: pd.DataFrame

    @classmethod
    def read(cls) -> Reference:
        return cls(read_districts(), read_streets(), read_communities())

    def district_codes(self) -> list[str]:
        return [str(code) for code in self.districts["code"]]
