"""What one wall costs the web tier, in CPU per request, whatever else the machine is doing.

    python benchmarks/bench_wall_cost.py [--folder DIR] [--code PATH] [--walls 100]

Latency under load (``bench_walls100.py``) depends on how much CPU the web processes get; on a shared
machine that is their share of it, not what they need. This measures what they need: the CPU time
(``time.process_time``, this process only, one thread) of each request a wall makes, served by the real
app (sign-in off, as ``bench_walls100.py``) over the demo district's database (500151, a year of sample
cases, as ``bench_wall.py``) and a private Redis, from the cache as a wall finds it after the first
wall built it; and the builds one version change costs (once, whatever the number of walls). From
these: the cores ``--walls`` walls need with a case every 2 s.

``--code PATH``: import gridcc from another checkout (e.g. ``git archive main | tar -x -C /tmp/main``),
so that two versions are measured on the same database one after the other. ``--folder``: keep the
database there and reuse it on the next run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
LEVELS_WHOLE = ("district", "street", "community")
CASE_EVERY_S = 2.0


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--folder", type=Path, default=None)
    parser.add_argument("--code", type=Path, default=HERE.parent)
    parser.add_argument("--walls", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve() / "benchmarks"))
    sys.path.insert(0, str(args.code.resolve()))
    # an editable install finds this checkout's packages before sys.path: not when --code says another
    sys.meta_path = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    folder = args.folder or Path(tempfile.mkdtemp(prefix="gridcc-bench-cost-"))
    folder.mkdir(parents=True, exist_ok=True)
    measure(folder, args.code.resolve(), args.walls, args.repeat)


def measure(folder: Path, code: Path, walls: int, repeat: int) -> None:
    import dashboard  # noqa: F401 - from --code
    from data.redis_server import EmbeddedRedis, connect
    from data.settings import Settings
    from layers import versions

    assert Path(dashboard.__file__).resolve().is_relative_to(code), dashboard.__file__
    db = folder / "district.db"
    if db.exists():
        url = f"sqlite:///{db}"
    else:
        from bench_wall_push import build_database

        url = build_database(folder, False)[0]
    redis_server = EmbeddedRedis(folder / "cost-redis.sock", folder)
    redis_server.start(appendonly=False)
    try:
        from dashboard.app import create_app

        settings = Settings(
            data_dir=folder, database_url=url, redis_url=redis_server.url, auth_required=False
        )
        app = create_app(settings)
        client = app.server.test_client()
        client.get("/")  # the session and CSRF cookies
        csrf = client.get_cookie("_csrf_token")
        headers = {"Accept-Encoding": "gzip, deflate, br", "X-CSRFToken": csrf.value if csrf else ""}
        conn = connect(redis_server.url)

        def requests() -> dict[str, Any]:
            v = client.get("/api/versions").get_json()
            c = v.get("cases", 0)
            loop = v.get("loop", 0)
            want = {
                "stats": f"{c}.{v.get('kpis', 0)}.{loop}",
                "ticker": f"{v.get('alerts', 0)}.{loop}",
                "feeds": str(v.get("feeds", 0)),
                "minute": int(time.time() // 60),
                "scale": 1.0,
            }
            asks: dict[str, Any] = {
                "versions (tick)": lambda: client.get("/api/versions"),
                "cases layer": lambda: client.get(f"/layers/cases.pbf?v={c}", headers=headers),
                "hotspots": lambda: client.get(f"/layers/hotspots.json?v={c}", headers=headers),
            }
            for level in LEVELS_WHOLE:
                asks[f"counts {level}"] = lambda level=level: client.get(
                    f"/layers/counts/{level}.json?v={c}", headers=headers
                )
            asks["api/wall"] = lambda: client.post(
                "/api/wall", json={"want": want, "have": {}, "lang": "zh-CN"}, headers=headers
            )
            return asks

        def change() -> float:
            """Bump, then one wall's fetches: the builds (CPU s)."""
            versions.bump(conn, ["cases", "kpis"])
            t = time.process_time()
            for ask in requests().values():
                assert ask().status_code == 200
            return time.process_time() - t

        change()
        change()  # warm: imports, first builds
        builds = sorted(change() for _ in range(5))[2]  # the median of five changes
        cost: dict[str, float] = {}
        for kind, ask in requests().items():
            ask()
            t = time.process_time()
            for _ in range(repeat):
                ask()
            cost[kind] = (time.process_time() - t) / repeat * 1000
        print(f"# bench_wall_cost — code {code}; CPU ms per request (from the cache), {repeat} each")
        for kind, ms in cost.items():
            print(f"  {kind:18}{ms:8.2f} ms")
        per_change = sum(ms for kind, ms in cost.items() if kind != "versions (tick)")
        print(f"  one wall's fetches after a change: {per_change:.1f} ms")
        print(f"  the builds of one change (once for every wall): {builds * 1000:.0f} ms")
        cores = (walls * cost["versions (tick)"] + (walls * per_change + builds * 1000) / CASE_EVERY_S) / 1000
        print(
            f"  {walls} walls ticking each second, a case every {CASE_EVERY_S:g} s: "
            f"{cores:.2f} cores of web CPU ({cores / walls * 1000:.2f} ms CPU per wall per second)"
        )
        conn.close()
    finally:
        redis_server.stop()


if __name__ == "__main__":
    main()
