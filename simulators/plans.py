"""A case's life, drawn when it is filed: the states it will pass through and when.

The shape follows DESIGN §3's real district: nearly every case closed, most well within the time
limit of its category and priority, a few late, a very few left open and overdue, a small share
returned once after a failed verification, and a return visit rating almost always "satisfied".
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

# Shares of the outcomes (history and live alike).
P_LATE = 0.025  # resolved after the deadline
P_STUCK = 0.0015  # never resolved: runs overdue
P_RETURNED = 0.02  # resolved, returned after verification, handled again
SATISFACTION = (("satisfied", 0.991), ("basic", 0.005), ("unsatisfied", 0.004))
PRIORITY_MIX = (("urgent", 0.08), ("normal", 0.80), ("complex", 0.12))


@dataclass(frozen=True)
class Step:
    state: str
    at: datetime
    satisfaction: str | None = None

    def to_json(self) -> list[str | None]:
        return [self.state, self.at.isoformat(), self.satisfaction]

    @classmethod
    def from_json(cls, row: list[str | None]) -> Step:
        state, at, sat = row
        return cls(str(state), datetime.fromisoformat(str(at)), sat)


def pick(rng: random.Random, weighted: tuple[tuple[str, float], ...]) -> str:
    x = rng.random() * sum(w for _, w in weighted)
    for value, w in weighted:
        x -= w
        if x <= 0:
            return value
    return weighted[-1][0]


def draw_outcome(rng: random.Random) -> str:
    x = rng.random()
    if x < P_STUCK:
        return "stuck"
    if x < P_STUCK + P_LATE:
        return "late"
    return "on_time"


def make_plan(
    requested_at: datetime,
    limit_hours: float,
    rng: random.Random,
    *,
    outcome: str = "on_time",
    returned: bool = False,
    speed: float = 1.0,
) -> list[Step]:
    """The steps from ``reported`` (at ``requested_at``) on.

    ``speed`` > 1 compresses the handling of on-time cases (for a lively demo); deadlines are not
    compressed, and late or stuck cases run at real speed so they do become overdue.
    """
    limit = timedelta(hours=limit_hours)
    fast = speed if outcome == "on_time" else 1.0

    def gap(lo: float, hi: float, floor_minutes: float = 2.0) -> timedelta:
        return max(limit * rng.uniform(lo, hi), timedelta(minutes=floor_minutes)) / fast

    steps = [Step("reported", requested_at)]
    accepted = requested_at + gap(0.003, 0.02)
    steps.append(Step("accepted", accepted))
    t = accepted + gap(0.005, 0.03)
    steps.append(Step("assigned", t))
    t = t + gap(0.01, 0.08)
    steps.append(Step("in_progress", t))
    if outcome == "stuck":
        return steps
    if outcome == "late":
        resolved = accepted + limit * rng.uniform(1.05, 1.8)
    else:
        spent = (t - accepted) / limit
        resolved = accepted + limit * max(min(rng.betavariate(2.2, 3.0), 0.95), spent + 0.02) / fast
    resolved = max(resolved, t + timedelta(minutes=1))
    steps.append(Step("resolved", resolved))
    t = resolved
    if returned:
        t = t + timedelta(hours=rng.uniform(6, 36)) / fast
        steps.append(Step("returned", t))
        t = t + timedelta(hours=rng.uniform(0.5, 3)) / fast
        steps.append(Step("in_progress", t))
        t = t + max(limit * rng.uniform(0.02, 0.2), timedelta(hours=2)) / fast
        steps.append(Step("resolved", t))
    rating = pick(rng, SATISFACTION)
    if outcome == "late" and rng.random() < 0.1:
        rating = "unsatisfied"
    steps.append(Step("closed", t + timedelta(hours=rng.uniform(12, 72)) / fast, rating))
    return steps


def state_at(plan: list[Step], now: datetime) -> int:
    """How many steps of the plan have happened by ``now`` (at least the first)."""
    n = 1
    while n < len(plan) and plan[n].at <= now:
        n += 1
    return n
