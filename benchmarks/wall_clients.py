"""Simulated walls over HTTP, for the benchmarks: what ``gridcc_map.js``'s tick and ``wall.js`` ask of the
web tier (the versions each second, or held in a long poll; on a change the new cases layer, the counts
of three levels and ``POST /api/wall``), timed per request kind. Shared by ``bench_wall_push.py`` and
``bench_push_load.py``; no timing is asserted anywhere.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
import psutil

from layers import versions

LEVELS_WHOLE = ("district", "street", "community")  # counts a district-sized wall loads whole


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


@dataclass
class Stats:
    times: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    why: dict[str, int] = field(default_factory=dict)  # "kind status" or "kind ExceptionName" → count

    def add(self, kind: str, ms: float) -> None:
        self.times.setdefault(kind, []).append(ms)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1


def token(v: dict[str, int]) -> str:
    return versions.token(v)


def wall_keys(v: dict[str, int]) -> dict[str, Any]:
    loop = v.get("loop", 0)
    return {
        "stats": f"{v.get('cases', 0)}.{v.get('kpis', 0)}.{loop}",
        "ticker": f"{v.get('alerts', 0)}.{loop}",
        "feeds": str(v.get("feeds", 0)),
        "minute": int(time.time() // 60),
        "scale": 1.0,
    }


RACE = (httpx.RemoteProtocolError, httpx.ReadError)  # a kept-alive connection the server closed just then


async def timed(stats: Stats, kind: str, send: Any) -> httpx.Response | None:
    """``await send()`` timed; a request that met a kept-alive connection closing under it is sent
    again once (as a browser does), and counted apart ("retried")."""
    t = time.perf_counter()
    try:
        try:
            r: httpx.Response = await send()
        except RACE:
            stats.why[f"{kind} retried"] = stats.why.get(f"{kind} retried", 0) + 1
            t = time.perf_counter()
            r = await send()
    except httpx.HTTPError as exc:
        stats.error(kind)
        stats.why[f"{kind} {type(exc).__name__}"] = stats.why.get(f"{kind} {type(exc).__name__}", 0) + 1
        return None
    stats.add(kind, (time.perf_counter() - t) * 1000)
    if r.status_code >= 400:
        stats.error(kind)
        stats.why[f"{kind} {r.status_code}"] = stats.why.get(f"{kind} {r.status_code}", 0) + 1
    return r


async def changed(
    client: httpx.AsyncClient, stats: Stats, new: dict[str, int], have: dict[str, Any]
) -> dict[str, Any]:
    """What a wall fetches when the versions moved: the new cases layer, the counts, the wall's parts."""
    v = new.get("cases", 0)
    want = wall_keys(new)
    await asyncio.gather(
        timed(stats, "cases layer", lambda: client.get(f"/layers/cases.pbf?v={v}")),
        *(
            timed(stats, "counts", lambda lv=lv: client.get(f"/layers/counts/{lv}.json?v={v}"))
            for lv in LEVELS_WHOLE
        ),
        timed(
            stats,
            "api/wall",
            lambda: client.post("/api/wall", json={"want": want, "have": have, "lang": "zh-CN"}),
        ),
    )
    return want


def note(stats: Stats, what: str) -> None:
    stats.why[what] = stats.why.get(what, 0) + 1


async def wall(
    client: httpx.AsyncClient,
    have_v: dict[str, int],
    long_poll: bool,
    stop: float,
    stats: Stats,
    bumped: dict[str, float],
) -> None:
    """One wall from ``have_v`` on until ``stop``: what ``gridcc_map.js``'s tick and ``wall.js`` ask."""
    have = wall_keys(have_v)
    await asyncio.sleep(random.uniform(0, 1))  # walls opened at different moments
    while time.monotonic() < stop:
        started = time.monotonic()
        if long_poll:
            held = time.perf_counter()
            r: httpx.Response | None = None
            try:
                r = await client.get(f"/api/versions?wait=25&since={token(have_v)}")
                stats.add("held", (time.perf_counter() - held) * 1000)
            except RACE:
                note(stats, "held retried")
            except httpx.HTTPError as exc:
                stats.error("held")
                note(stats, f"held {type(exc).__name__}")
            new = have_v
            if r is not None and r.status_code == 200:
                new = r.json()
                if new != have_v:
                    at = bumped.get(token(new))
                    if at is not None:
                        stats.add("versions", (time.time() - at) * 1000)
            elif r is not None:
                stats.error("held")
                note(stats, f"held {r.status_code}")
        else:
            got = await timed(stats, "versions", lambda: client.get("/api/versions"))
            new = got.json() if got is not None and got.status_code == 200 else have_v
        if new != have_v:
            have = await changed(client, stats, new, have)
            have_v = new
        # the next ask on the wall's next 1 s tick
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started) % 1.0))


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            t = psutil.Process(pid).cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def table(stats: Stats, kinds: tuple[str, ...], indent: str = "    ") -> list[str]:
    """Per request kind: n, p50, p95, p99 (ms) and errors; then what the errors were."""
    lines = [f"{indent}{'request':16}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"]
    for kind in kinds:
        if kind == "held" and kind not in stats.times and kind not in stats.errors:
            continue
        t = stats.times.get(kind, [])
        lines.append(
            f"{indent}{kind:16}{len(t):>7}{percentile(t, 50):>9.1f}{percentile(t, 95):>9.1f}"
            f"{percentile(t, 99):>9.1f}{stats.errors.get(kind, 0):>8}"
        )
    if stats.why:
        lines.append(f"{indent}errors: " + ", ".join(f"{k} ×{n}" for k, n in sorted(stats.why.items())))
    return lines
