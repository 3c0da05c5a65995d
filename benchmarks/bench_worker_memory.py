"""A worker's memory over one large poll: peak and after, before (no poll budget, no stop at a repeated
page, nothing given back) and after (the default budget, the stop, ``GridccWorker``'s release), in the
same run, for a server that ignores ``page`` and for an honest large feed.

    python benchmarks/bench_worker_memory.py [--page-size 100] [--attack-pages 1000] [--records 30000]

Each measurement runs in a fresh Python process (so one's heap does not colour the next): a local
Open311 server in a thread, then the poll's in-memory part as ``workers.jobs.poll`` runs it — the fetch
(``workers.feeds.fetch``) with every page parsed into the poll's ``Batch`` as it arrives — then the
poll's objects dropped, as when a job returns. *peak* is the process's high-water RSS (``VmHWM``),
*after* its RSS once the job's objects are gone: as ``rq``'s ``SimpleWorker`` leaves it (before) and
after ``workers.worker.release_memory`` (gc + ``malloc_trim``, what ``GridccWorker`` runs after each
job). *Before* reads at most ``--attack-pages`` pages (the old safety cap was 1,000).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

CST = timezone(timedelta(hours=8))
MIB = 1024 * 1024


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(field)


def _records(n: int) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(days=3)
    return [
        {
            "service_request_id": f"M{i:07d}",
            "status": "accepted",
            "service_code": "city.clutter",
            "service_name": "乱堆乱放",
            "description": f"楼道堆放杂物，影响通行，请尽快处理 {i}",
            "address": "铜梁区巴川街道玄天湖社区",
            "requested_datetime": (start + timedelta(seconds=i))
            .astimezone(CST)
            .isoformat(timespec="seconds"),
            "updated_datetime": (start + timedelta(seconds=i)).astimezone(CST).isoformat(timespec="seconds"),
            "long": 106.05,
            "lat": 29.85,
        }
        for i in range(n)
    ]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, *_args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        query = parse_qs(urlsplit(self.path).query)
        page = 1 if self.server.ignore_page else int(query.get("page", ["1"])[0])
        size = int(query.get("page_size", ["100"])[0])
        body = json.dumps(self.server.rows[(page - 1) * size : page * size], ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, rows: list[dict[str, Any]], ignore_page: bool) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.rows, self.ignore_page = rows, ignore_page


def _poll(config: Any, budget: Any, max_bytes: int) -> dict[str, Any]:
    """The poll's in-memory part, as ``workers.jobs.poll`` runs it: each page parsed into the batch as
    it comes."""
    from workers.feeds.fetch import Cursor, Page, fetch
    from workers.ingest.batch import Batch

    batch = Batch()

    def count(page: Page) -> int:
        return batch.add_open311_page(page, config.page_size, None, lambda _p: False)

    result = fetch(config, Cursor(), count, max_bytes=max_bytes, budget=budget)
    return {"pages": len(result.pages), "records": batch.records, "short": result.short}


def child(scenario: str, mode: str, page_size: int, attack_pages: int, records: int) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    import threading

    from data.settings import Settings
    from workers.feeds.config import FeedConfig
    from workers.feeds.fetch import Budget
    from workers.worker import release_memory

    rows = _records(page_size if scenario == "attacker" else records)
    server = _Server(rows, ignore_page=scenario == "attacker")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings = Settings()
    if mode == "before":
        budget = Budget(attack_pages, 1 << 62, 1 << 62, stop_at_repeat=False)
    else:
        budget = Budget.of(settings)
    config = FeedConfig.model_validate(
        {
            "name": "bench", "department": "hotline12345", "protocol": "open311", "interval": 5,
            "url": f"http://127.0.0.1:{server.server_address[1]}/requests.json", "page_size": page_size,
        }
    )  # fmt: skip
    import workers.feeds.open311  # noqa: F401 - imported before "start": the modules a poll loads
    import workers.feeds.parsers  # noqa: F401
    import workers.ingest.batch  # noqa: F401

    rss_start = _status("VmRSS")
    out = _poll(config, budget, settings.feed_max_bytes)  # returns: the poll's objects are garbage
    if mode == "after":
        release_memory()
    server.shutdown()
    out.update(start=rss_start, peak=_status("VmHWM"), after=_status("VmRSS"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--attack-pages", type=int, default=1000)
    parser.add_argument("--records", type=int, default=30_000, help="records of the honest feed")
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "MODE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        scenario, mode = args.child
        print(json.dumps(child(scenario, mode, args.page_size, args.attack_pages, args.records)))
        return
    results: dict[tuple[str, str], dict[str, Any]] = {}
    for scenario in ("attacker", "honest"):
        for mode in ("before", "after"):
            argv = [sys.executable, __file__, "--child", scenario, mode]
            argv += ["--page-size", str(args.page_size), "--attack-pages", str(args.attack_pages)]
            argv += ["--records", str(args.records)]
            done = subprocess.run(argv, check=True, capture_output=True, text=True)  # noqa: S603
            results[scenario, mode] = json.loads(done.stdout.strip().splitlines()[-1])
    head = ("scenario", "mode", "pages", "records", "start MiB", "peak MiB", "after MiB")
    print("{:<10} {:<7} {:>6} {:>8} {:>10} {:>9} {:>10}".format(*head))
    for (scenario, mode), r in results.items():
        print(
            f"{scenario:<10} {mode:<7} {r['pages']:>6} {r['records']:>8} {r['start'] / MIB:>10.0f} "
            f"{r['peak'] / MIB:>9.0f} {r['after'] / MIB:>10.0f}   {r['short'] or ''}"
        )
    print()
    for scenario in ("attacker", "honest"):
        b, a = results[scenario, "before"], results[scenario, "after"]
        print(
            f"{scenario}: peak before/after {b['peak'] / a['peak']:.1f}x, "
            f"after-poll RSS before/after {b['after'] / a['after']:.1f}x, "
            f"growth kept (after − start) {(b['after'] - b['start']) / MIB:.0f} MiB → "
            f"{(a['after'] - a['start']) / MIB:.0f} MiB"
        )


if __name__ == "__main__":
    main()
