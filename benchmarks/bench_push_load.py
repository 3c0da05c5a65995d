"""Pushed cases under load beside ticking walls, on the whole ``gridcc demo`` stack (issue #12).

    python benchmarks/bench_push_load.py [--clients 50] [--seconds 60] [--walls 20]
                                         [--baseline-seconds 60] [--narrow-keys 2] [--keys 8]

``gridcc demo`` runs in a temporary folder (``tests.stack.Demo``: its web tier, its RQ workers, its
simulators polled as usual, its private Redis, SQLite), on 127.0.0.1 only. The script makes ``--keys``
push keys (Open311, feed ``hotline12345``): ``--narrow-keys`` of them with a rate limit of
:data:`NARROW_RATE` a minute, the others with :data:`WIDE_RATE` (which no client here reaches). Then:

1. **baseline**: ``--walls`` simulated walls (``wall_clients.wall``, what ``gridcc_map.js``'s 1 s tick
   and ``wall.js`` ask: ``/api/versions`` each second, and on a change the cases layer, the counts and
   ``POST /api/wall``), signed in through the demo's wall link, for ``--baseline-seconds``, no POSTs;
2. **load**: the same walls and ``--clients`` clients, each POSTing Open311 requests
   (``/open311/v2/requests.json``, a random grid's point, its own numbered description) one after another
   for ``--seconds`` (each client's keys round robin; a request is sent only before the deadline, at most
   ``--max-posts`` per client).

Then the checks, printed as counts (none is an assertion on time):

* every accepted request (200, a ``service_request_id``) is one case in the database, stored exactly once
  (by its external id), with the description that client sent; no case of the bench keys was stored
  that was not answered as accepted;
* every 429 came from a narrow key, in a minute in which that key had sent more than its limit (the
  server's window is the wall clock's minute; a request is put in the minute it was sent and the one it
  was answered in, the two differ only near the turn of a minute);
* the walls' request times (p50 / p95 / p99) and errors, beside the baseline of step 1; the POSTs'
  answer times by status.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from bench_latency import wait_ready  # noqa: E402
from wall_clients import Stats, cpu_seconds, percentile, table, wall  # noqa: E402

from data.db import make_engine, make_sessionmaker, transaction  # noqa: E402
from data.models import AdminUnit, Case, Category  # noqa: E402
from data.push.keys import create_key  # noqa: E402
from tests.stack import Demo  # noqa: E402

FEED = "hotline12345"  # the demo's 12345 hotline, where the demo's reporting app files too
WIDE_RATE = 1_000_000  # a minute: no client here reaches it
NARROW_RATE = 10  # a minute: the narrow keys pass it within seconds
WALL_KINDS = ("versions", "cases layer", "counts", "api/wall")


@dataclass
class Key:
    name: str
    id: int
    token: str
    rate: int


@dataclass
class Post:
    key: str
    tag: str
    sent: float  # wall clock, s
    answered: float
    status: int  # 0: no answer (a transport error)
    rid: str = ""
    error: str = ""


@dataclass
class Posts:
    done: list[Post] = field(default_factory=list)


def make_keys(engine: Engine, n: int, narrow: int) -> list[Key]:
    keys: list[Key] = []
    with transaction(make_sessionmaker(engine)) as session:
        for i in range(n):
            rate = NARROW_RATE if i < narrow else WIDE_RATE
            name = f"bench_{'narrow' if i < narrow else 'wide'}_{i}"
            made = create_key(
                session, name, "app", name, FEED, ("open311",), actor="bench", rate_per_minute=rate
            )
            keys.append(Key(name, made.key.id, made.token, rate))
    return keys


def places(engine: Engine) -> tuple[list[tuple[float, float]], list[str]]:
    """The demo district's grid points and the catalogue's leaf categories (Open311 service codes)."""
    with Session(engine) as session:
        points = session.execute(
            select(AdminUnit.label_lon, AdminUnit.label_lat).where(AdminUnit.level == "grid")
        ).all()
        codes = session.scalars(select(Category.code).where(Category.parent_code.is_not(None))).all()
    return [(float(lon), float(lat)) for lon, lat in points], list(codes)


async def client_loop(
    http: httpx.AsyncClient,
    n: int,
    keys: list[Key],
    points: list[tuple[float, float]],
    codes: list[str],
    stop: float,
    max_posts: int,
    out: Posts,
) -> None:
    """One reporting client: POST after POST until ``stop`` (monotonic) or ``max_posts``."""
    rng = random.Random(n)
    await asyncio.sleep(rng.uniform(0, 0.5))
    for seq in range(max_posts):
        if time.monotonic() >= stop:
            return
        key = keys[(n + seq) % len(keys)]
        lon, lat = rng.choice(points)
        tag = f"bench-{n}-{seq}"
        form = {
            "service_code": rng.choice(codes),
            "lat": f"{lat + rng.uniform(-0.0002, 0.0002):.6f}",
            "long": f"{lon + rng.uniform(-0.0002, 0.0002):.6f}",
            "description": f"压测 {tag}",
            "email": f"r{n}@example.org",
            "media_url": f"https://example.org/{tag}.jpg",
        }
        sent = time.time()
        try:
            r = await http.post("/open311/v2/requests.json", data=form, headers={"X-Api-Key": key.token})
        except httpx.HTTPError as exc:
            out.done.append(Post(key.name, tag, sent, time.time(), 0, error=type(exc).__name__))
            continue
        post = Post(key.name, tag, sent, time.time(), r.status_code)
        if r.status_code == 200:
            post.rid = str(r.json()[0]["service_request_id"])
        else:
            try:
                post.error = str(r.json()[0]["description"])[:80]
            except Exception:  # noqa: BLE001 - a body that is not the error document is itself the finding
                post.error = r.text[:80]
        out.done.append(post)


def run(
    demo: Demo,
    walls: int,
    seconds: float,
    clients: int,
    keys: list[Key],
    points: list[tuple[float, float]],
    codes: list[str],
    max_posts: int,
) -> tuple[Stats, Posts, float, float]:
    """Walls (and, with ``clients``, the posting clients) for ``seconds``: (wall stats, posts, the demo's
    CPU seconds, this script's CPU seconds)."""
    stats, posts = Stats(), Posts()
    pids = [p.pid for p in demo.descendants()]
    measured: dict[str, float] = {}

    async def main() -> None:
        limits = httpx.Limits(
            max_connections=walls * 3 + clients, max_keepalive_connections=walls * 3 + clients
        )
        timeout = httpx.Timeout(90.0)
        async with (
            httpx.AsyncClient(base_url=demo.url.rstrip("/"), timeout=timeout, limits=limits) as screen,
            httpx.AsyncClient(base_url=demo.url.rstrip("/"), timeout=timeout, limits=limits) as pusher,
        ):
            signed = await screen.get(demo.wall_link)  # the wall's session cookie (a 302 to the wall)
            if signed.status_code != 302:
                raise SystemExit(f"the wall link answered {signed.status_code}")
            page = await screen.get("/")  # the CSRF cookie the wall's page sets
            screen.headers["X-CSRFToken"] = (
                page.cookies.get("_csrf_token") or screen.cookies.get("_csrf_token") or ""
            )
            firsts = await asyncio.gather(*(screen.get("/api/versions") for _ in range(walls)))
            bad = [r.status_code for r in firsts if r.status_code != 200]
            if bad:
                raise SystemExit(f"/api/versions answered {bad[:3]} to the signed-in walls")
            measured["cpu0"], measured["me0"] = cpu_seconds(pids), cpu_seconds([os.getpid()])
            stop = time.monotonic() + seconds
            await asyncio.gather(
                *(wall(screen, r.json(), False, stop, stats, {}) for r in firsts),
                *(
                    client_loop(pusher, n, keys, points, codes, stop, max_posts, posts)
                    for n in range(clients)
                ),
            )
            measured["cpu1"], measured["me1"] = cpu_seconds(pids), cpu_seconds([os.getpid()])

    asyncio.run(main())
    return stats, posts, measured["cpu1"] - measured["cpu0"], measured["me1"] - measured["me0"]


def check_stored(engine: Engine, keys: list[Key], posts: Posts) -> list[str]:
    """Accepted ids against the stored cases, counted by external id."""
    accepted = {p.rid: p for p in posts.done if p.status == 200}
    prefixes = [f"push-{k.id}-" for k in keys]
    with Session(engine) as session:
        rows = session.execute(
            select(Case.id, Case.external_id, Case.description, Case.media_url, Case.reporter_email).where(
                Case.feed_name == FEED, Case.external_id.startswith("push-")
            )
        ).all()
        ours = [r for r in rows if r.external_id.startswith(tuple(prefixes))]
        per_external = Counter(r.external_id for r in ours)
        duplicates = sum(1 for n in per_external.values() if n > 1)
        total = session.scalar(select(func.count()).select_from(Case).where(Case.feed_name == FEED)) or 0
    by_id = {str(r.id): r for r in ours}
    missing = [rid for rid in accepted if rid not in by_id]
    unanswered = [rid for rid in by_id if rid not in accepted]
    by_tag = {p.tag: p for p in posts.done}
    told: Counter[str] = Counter()  # what the clients of the stored but unaccepted cases were told
    for rid in unanswered:
        post = by_tag.get(by_id[rid].description.rpartition(" ")[2])
        if post is None:
            told["(no such post)"] += 1
        elif not post.status:
            told[f"no answer ({post.error})"] += 1
        else:
            told[f"{post.status} {post.error!r}"] += 1
    wrong = [
        rid
        for rid, p in accepted.items()
        if rid in by_id
        and (
            not by_id[rid].description.endswith(p.tag)
            or by_id[rid].media_url != f"https://example.org/{p.tag}.jpg"
            or not by_id[rid].reporter_email
        )
    ]
    return [
        f"  accepted (200): {len(accepted)}; cases of the bench keys in the database: {len(ours)} "
        f"(feed {FEED} holds {total} in all)",
        f"  accepted but not stored: {len(missing)}; stored but not answered as accepted: {len(unanswered)}; "
        f"external ids stored more than once: {duplicates}; stored with another description, media_url "
        f"or no email: {len(wrong)}",
        *(f"    stored, its client told {what}: {n}" for what, n in told.most_common()),
        "    (a 503 'still storing' is stored by design, once; a 503 'nothing was stored' must never be)",
    ]


def check_refusals(keys: list[Key], posts: Posts) -> list[str]:
    """Each 429 against its key's limit in the minute it was sent (and the one it was answered in)."""
    rate = {k.name: k.rate for k in keys}
    sent: dict[tuple[str, int], int] = defaultdict(int)
    for p in posts.done:
        if p.status:  # answered: it reached the server's counter
            sent[(p.key, int(p.sent // 60))] += 1
    wrongful = 0
    by_key: dict[str, Counter[int]] = defaultdict(Counter)
    for p in posts.done:
        by_key[p.key][p.status] += 1
        if p.status != 429:
            continue
        windows = {int(p.sent // 60), int(p.answered // 60)}
        if not any(sent[(p.key, w)] > rate[p.key] for w in windows):
            wrongful += 1
    lines = [f"  {'key':18}{'limit/min':>10}{'posts':>8}{'200':>7}{'429':>7}{'other':>7}"]
    for k in keys:
        c = by_key[k.name]
        other = sum(n for s, n in c.items() if s not in (200, 429))
        limit = "—" if k.rate == WIDE_RATE else str(k.rate)
        lines.append(f"  {k.name:18}{limit:>10}{sum(c.values()):>8}{c[200]:>7}{c[429]:>7}{other:>7}")
    narrow_429 = sum(by_key[k.name][429] for k in keys if k.rate != WIDE_RATE)
    wide_429 = sum(by_key[k.name][429] for k in keys if k.rate == WIDE_RATE)
    lines.append(
        f"  429s: {narrow_429 + wide_429} (narrow keys {narrow_429}, wide keys {wide_429}); "
        f"429s in a minute in which the key had not passed its limit: {wrongful}"
    )
    errors = Counter((p.status, p.error) for p in posts.done if p.status not in (200, 429))
    if errors:
        lines.append(
            "  other answers: " + "; ".join(f"{s} {e!r} ×{n}" for (s, e), n in errors.most_common(6))
        )
    return lines


def post_times(posts: Posts) -> list[str]:
    lines = [f"    {'POST requests':16}{'n':>7}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
    for label, want in (("200", {200}), ("429", {429}), ("other", None)):
        t = [
            (p.answered - p.sent) * 1000
            for p in posts.done
            if (p.status in want if want is not None else p.status not in (200, 429))
        ]
        figures = "".join(f"{percentile(t, q):>9.1f}" for q in (50, 95, 99))
        lines.append(f"    {label:16}{len(t):>7}{figures}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--walls", type=int, default=20)
    parser.add_argument("--baseline-seconds", type=float, default=None, help="(default: --seconds)")
    parser.add_argument("--keys", type=int, default=8)
    parser.add_argument("--narrow-keys", type=int, default=2)
    parser.add_argument("--max-posts", type=int, default=5000, help="per client")
    args = parser.parse_args()
    if not 0 < args.narrow_keys < args.keys:
        parser.error("--narrow-keys must be at least 1 and fewer than --keys")
    print(
        f"# bench_push_load — {datetime.now(UTC).astimezone().strftime('%Y-%m-%d %H:%M %Z')}; "
        f"{platform.machine()}, {os.cpu_count()} cores; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="gridcc-bench-pushload-") as tmp:
        demo = Demo(Path(tmp) / "var")
        engine: Engine | None = None
        try:
            t = time.perf_counter()
            demo.start()
            engine = make_engine(demo.database_url)
            wait_ready(engine, [FEED])
            print(f"demo stack up and its 12345 feed polled in {time.perf_counter() - t:.0f} s", flush=True)
            keys = make_keys(engine, args.keys, args.narrow_keys)
            points, codes = places(engine)
            baseline_s = args.baseline_seconds if args.baseline_seconds is not None else args.seconds
            print(f"baseline: {args.walls} walls, no POSTs, {baseline_s:g} s …", flush=True)
            base, _, base_cpu, _ = run(demo, args.walls, baseline_s, 0, keys, points, codes, 0)
            print(
                f"load: {args.walls} walls and {args.clients} posting clients, {args.seconds:g} s …",
                flush=True,
            )
            loaded, posts, load_cpu, mine = run(
                demo, args.walls, args.seconds, args.clients, keys, points, codes, args.max_posts
            )
            time.sleep(1)  # (every answer was given after its commit; nothing is waited for)
            lines = [
                f"keys: {args.keys} ({args.narrow_keys} narrow at {NARROW_RATE}/min, the others unlimited "
                f"here); {args.clients} clients, keys round robin",
                f"1. walls ({args.walls}, 1 s tick) — baseline, no POSTs, {baseline_s:g} s "
                f"(demo CPU {base_cpu:.1f} s)",
                *table(base, WALL_KINDS),
                f"2. walls ({args.walls}, 1 s tick) while {args.clients} clients POST, {args.seconds:g} s "
                f"(demo CPU {load_cpu:.1f} s; this script's {mine:.1f} s)",
                *table(loaded, WALL_KINDS),
                *post_times(posts),
                f"   POSTs answered: {sum(1 for p in posts.done if p.status)}, "
                f"{sum(1 for p in posts.done if p.status == 200) / args.seconds:.1f} accepted a second; "
                f"no answer: {sum(1 for p in posts.done if not p.status)}",
                "3. stored exactly once",
                *check_stored(engine, keys, posts),
                "4. refusals",
                *check_refusals(keys, posts),
            ]
            print("\n".join(lines), flush=True)
        finally:
            if engine is not None:
                engine.dispose()
            try:
                if demo.proc is not None and demo.proc.poll() is None:
                    demo.stop()
            finally:
                demo.kill_all()


if __name__ == "__main__":
    main()
