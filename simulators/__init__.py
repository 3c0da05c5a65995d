"""The department feed simulators of the demo (issue 3, item 4).

HTTP servers on 127.0.0.1, one port per department, speaking Open311 GeoReport v2 (cases), CAP 1.2
(weather warnings) and the sensor alarm JSON, with this year's history, cases moving through their
states, occasional alerts, a 12345 ``POST requests.json`` and switchable fault modes.

Public API: :class:`SimulatorSet` (start/stop everything in-process), :class:`Config`,
:class:`District` (the district's units, read from the database), :func:`write_feeds_file`.
"""

from __future__ import annotations

from .engine import Config, Simulation
from .feedsfile import write_feeds_file
from .places import District, NoDistrict
from .runner import SimulatorSet
from .specs import SPECS, SimSpec

__all__ = [
    "SPECS",
    "Config",
    "District",
    "NoDistrict",
    "SimSpec",
    "Simulation",
    "SimulatorSet",
    "write_feeds_file",
]
