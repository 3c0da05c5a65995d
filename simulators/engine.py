"""The simulators' clockwork: history on first start, then new cases, state changes, weather
warnings and sensor alarms as time passes. ``step(now)`` is the only way time moves, so tests can
drive it with chosen times."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from .cases import CaseBook
from .places import District
from .sensors import SensorBoard
from .specs import Catalogue
from .store import Store
from .weather import WeatherOffice

MAX_CATCH_UP = 20  # new cases filed in one step at most (after a pause)


@dataclass
class Config:
    """How the simulators run. Times in seconds; ``port_base = 0`` gives every server a free port."""

    state_path: Path
    host: str = "127.0.0.1"
    port_base: int = 8600
    faults: dict[str, str] = field(default_factory=dict)
    case_every: float = 20.0  # mean seconds between new cases, across all departments
    weather_every: float = 900.0  # mean seconds between weather messages
    alarm_every: float = 180.0  # mean seconds between sensor alarms
    speed: float = 60.0  # how much faster than real time live cases are handled
    seed: int | None = None
    tick: float = 1.0
    slow_seconds: float = 30.0  # the delay of the ``slow`` fault (beyond a poll's timeout)
    backfill: bool = True
    live: bool = True  # run the clock thread (tests may drive ``step`` themselves)
    first_event_after: float = 3.0  # the first weather warning / alarm after start
    timezone: str = "Asia/Shanghai"
    # the loop: department → shared secret (each such department gets an instruction desk at /loop/…),
    # gridcc's inbound endpoint the desks answer to, and a factor on their on-time answers' delays
    loop_secrets: dict[str, str] = field(default_factory=dict)
    answer_url: str | None = None
    answer_scale: float = 1.0
    # department → the api key its Open311 simulator takes ``POST requests`` with (none: the hotline only)
    open311_keys: dict[str, str] = field(default_factory=dict)


class Simulation:
    def __init__(self, store: Store, district: District, catalogue: Catalogue, config: Config) -> None:
        self.config = config
        self.tz = ZoneInfo(config.timezone)
        self.rng = random.Random(config.seed)
        self.store = store
        self.book = CaseBook(store, district, catalogue, self.rng, speed=config.speed, tz=self.tz)
        self.office = WeatherOffice(store, district, self.rng, self.tz)
        self.board = SensorBoard(store, district, self.rng, self.tz)
        self.next_case: datetime | None = None
        self.next_weather: datetime | None = None
        self.next_alarm: datetime | None = None

    def _after(self, now: datetime, mean: float) -> datetime:
        return now + timedelta(seconds=self.rng.expovariate(1.0 / mean) if mean > 0 else 0)

    def start(self, now: datetime) -> int:
        """Backfill this year on the very first start; schedule what comes next. Returns cases backfilled."""
        filed = self.book.backfill(now) if self.config.backfill else 0
        self.book.step(now)  # whatever fell due while the simulators were down
        first = timedelta(seconds=self.config.first_event_after)
        self.next_case = self._after(now, self.config.case_every)
        self.next_weather = (
            now + first if not self.office.active(now) else self._after(now, self.config.weather_every)
        )
        self.next_alarm = now + 2 * first
        return filed

    def step(self, now: datetime) -> dict[str, int]:
        """Everything due by ``now``: new cases, state changes, weather messages, alarms."""
        if self.next_case is None:
            self.start(now)
        assert self.next_case is not None and self.next_weather is not None and self.next_alarm is not None
        counts = {"new": 0, "changed": 0, "weather": 0, "alarms": 0, "cleared": 0}
        while self.next_case <= now and counts["new"] < MAX_CATCH_UP:
            self.book.new_case(now)
            counts["new"] += 1
            self.next_case = self._after(self.next_case, self.config.case_every)
        if self.next_case <= now:
            self.next_case = self._after(now, self.config.case_every)
        counts["changed"] = self.book.step(now)
        if self.next_weather <= now:
            self.office.tick(now)
            counts["weather"] = 1
            self.next_weather = self._after(now, self.config.weather_every)
        counts["cleared"] = self.board.clear_due(now)
        if self.next_alarm <= now:
            self.board.raise_alarm(now)
            counts["alarms"] = 1
            self.next_alarm = self._after(now, self.config.alarm_every)
        return counts
