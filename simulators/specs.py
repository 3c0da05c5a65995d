"""Which simulators exist, what each files, and the case categories they draw from.

The department codes and categories are those of ``data/resources/catalogue.toml``; each department
files mostly the categories it leads or receives, the 12345 hotline and the grid patrol app file all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from data.seed import CATALOGUE, load_catalogue

PROTOCOLS = ("open311", "cap", "sensor")
PRIORITIES = ("urgent", "normal", "complex")


@dataclass(frozen=True)
class SimSpec:
    """One simulator: a feed name, its department, its protocol and (Open311) what it files."""

    name: str
    department: str
    protocol: str
    interval: int  # seconds between polls, written into the feeds file
    prefix: str = ""  # external id prefix (Open311): PREFIX-YYYY-NNNNNN
    categories: tuple[str, ...] = ()  # () = every leaf category
    weight: float = 0.0  # share of the district's cases this department files
    fmt: str = "xml"  # the format the feeds file points at: xml | json
    utc: bool = False  # render times in UTC ("Z") instead of +08:00, as some real systems do


SPECS: tuple[SimSpec, ...] = (
    SimSpec("hotline12345", "hotline12345", "open311", 5, "TL12345", (), 0.44),
    SimSpec("grid_patrol", "grid_patrol", "open311", 5, "WGXC", (), 0.28, fmt="json"),
    SimSpec(
        "police",
        "police",
        "open311",
        10,
        "GA",
        ("public_order", "dispute.neighbour", "dispute.family"),
        0.04,
        utc=True,
    ),
    SimSpec(
        "petitions",
        "petitions",
        "open311",
        20,
        "XF",
        (
            "dispute.land",
            "dispute.labour",
            "dispute.property",
            "livelihood.relief",
            "safety.dangerous_building",
        ),
        0.03,
    ),
    SimSpec(
        "city_management",
        "city_management",
        "open311",
        10,
        "CG",
        (
            "city.street_vending",
            "city.clutter",
            "city.manhole",
            "city.illegal_building",
            "environment.garbage",
        ),
        0.05,
    ),
    SimSpec(
        "emergency",
        "emergency",
        "open311",
        15,
        "YJ",
        ("safety.fire_lane", "safety.gas", "safety.geohazard"),
        0.02,
    ),
    SimSpec(
        "civil_affairs",
        "civil_affairs",
        "open311",
        20,
        "MZ",
        ("livelihood.relief", "livelihood.elderly"),
        0.02,
    ),
    SimSpec(
        "housing",
        "housing",
        "open311",
        20,
        "ZJ",
        ("dispute.property", "safety.dangerous_building", "city.illegal_building"),
        0.02,
    ),
    SimSpec("ecology", "ecology", "open311", 15, "STHJ", ("environment.noise", "environment.sewage"), 0.03),
    SimSpec(
        "natural_resources",
        "natural_resources",
        "open311",
        30,
        "GHZY",
        ("dispute.land", "safety.geohazard", "city.illegal_building"),
        0.02,
    ),
    SimSpec(
        "market_regulation", "market_regulation", "open311", 20, "SCJG", ("food_drug",), 0.03, fmt="json"
    ),
    SimSpec(
        "justice",
        "justice",
        "open311",
        30,
        "SF",
        ("dispute.neighbour", "dispute.family", "dispute.labour"),
        0.02,
    ),
    SimSpec("weather", "weather", "cap", 15),
    SimSpec("sensors", "emergency", "sensor", 10),
)


def spec(name: str) -> SimSpec:
    for s in SPECS:
        if s.name == name:
            return s
    raise KeyError(name)


@dataclass(frozen=True)
class Category:
    code: str
    name: str
    name_en: str
    limits: tuple[int, int, int]  # hours: urgent, normal, complex

    def limit_hours(self, priority: str) -> int:
        return self.limits[PRIORITIES.index(priority)]


@dataclass(frozen=True)
class Catalogue:
    departments: dict[str, str]  # code -> Chinese name
    categories: dict[str, Category]  # leaf categories only (the ones a case is filed under)

    def for_spec(self, s: SimSpec) -> list[Category]:
        codes = s.categories or tuple(self.categories)
        return [self.categories[c] for c in codes if c in self.categories]


def load(path: Path = CATALOGUE) -> Catalogue:
    """The leaf categories and department names of the catalogue file."""
    doc = load_catalogue(path)
    parents = {row.get("parent") for row in doc["category"]}
    leaves = {
        row["code"]: Category(row["code"], row["name"], row.get("name_en", ""), tuple(row["limits"]))
        for row in doc["category"]
        if row["code"] not in parents
    }
    return Catalogue({row["code"]: row["name"] for row in doc["department"]}, leaves)
