"""``gridcc web|worker|cron|demo``: the processes."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
import httpx

from data import migrate as migrations
from data import text
from data.db import make_engine, make_sessionmaker, transaction
from data.push.queue import PUSH_QUEUE
from data.redis_server import CONNECTION_CLASS, EmbeddedRedis
from data.settings import Settings

from ..supervisor import Child, Supervisor, die_with_parent
from .demo_accounts import ensure_demo_accounts
from .demo_keys import ensure_demo_keys
from .simulate import demo_loop_secrets


def _error(settings: Settings, key: str, **values: object) -> click.ClickException:
    """An error for the console, in the configured language."""
    return click.ClickException(text.t(key, settings.language, **values))


def _bin(name: str) -> str:
    """An executable installed beside this interpreter (the venv's ``rq``, ``gunicorn``...)."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        raise click.ClickException(f"cannot find the {name!r} command; is gridcc installed?")
    return found


def _redis_url(settings: Settings) -> tuple[str, EmbeddedRedis | None]:
    """The configured Redis URL, or the embedded server's (started when not already running)."""
    if settings.redis_url:
        return settings.redis_url, None
    server = EmbeddedRedis.for_settings(settings)
    url = server.start(preexec_fn=die_with_parent)
    return url, server if server.process else None


def _supervised_redis(settings: Settings, sup: Supervisor, logs: Path) -> str:
    """The configured Redis URL, or the embedded server's, started as a supervised child (restarted
    when it dies, stopped after the others) unless one already answers on its socket."""
    if settings.redis_url:
        click.echo(text.t("cli_demo_redis", settings.language, url=settings.redis_url))
        return settings.redis_url
    server = EmbeddedRedis.for_settings(settings)
    if not server.answers():
        server.adopt_snapshot()
        child = sup.add(Child("redis", server.argv(), logs / "redis.log", stop_last=True))
        try:
            server.wait_ready(child.alive)
        except RuntimeError as exc:
            raise _error(settings, "cli_see_log", error=exc, log=child.log_path) from exc
    click.echo(text.t("cli_demo_redis_embedded", settings.language, url=server.url))
    return server.url


# ``gridcc demo`` starts this many workers beside ``GRIDCC_WORKERS`` that serve the push queue alone: a
# push has a client waiting for its answer, and the others are often in the middle of a poll (every
# worker serves the push queue first, but only once its current job is done: 0.1–0.6 s on the demo).
DEMO_PUSH_WORKERS = 1


def _fresh_worker_argv(
    redis_url: str, prefix: str, queues: tuple[str, ...] | None = None
) -> Callable[[], list[str]]:
    """The command line of a supervised worker, made again at every start: a fresh name (RQ refuses a
    name whose registration a killed worker left behind), after marking dead this host's workers of the
    prefix whose process is gone (what ``gridcc worker --name-prefix`` does, without a second Python
    start-up: a restarted worker is back sooner)."""

    def argv() -> list[str]:
        from workers.worker_names import forget_dead_workers, fresh_name

        forget_dead_workers(redis_url, prefix)
        return _worker_argv(redis_url, fresh_name(prefix), queues=queues)

    return argv


def _rq_connection(redis_url: str) -> list[str]:
    """RQ's options for gridcc's Redis: the URL, read by gridcc's client class, which also takes a
    ``redis+sentinel://`` URL (RQ's own reads only one server's)."""
    return ["--url", redis_url, "--connection-class", CONNECTION_CLASS]


def _worker_argv(
    redis_url: str, name: str | None = None, burst: bool = False, queues: tuple[str, ...] | None = None
) -> list[str]:
    """``rq worker`` on gridcc's queues (or ``queues``), with the scheduler (for retries) and gridcc's
    worker class."""
    from workers.queues import QUEUES, WORKER_CLASS

    argv = [
        _bin("rq"),
        "worker",
        *_rq_connection(redis_url),
        "--with-scheduler",
        "--worker-class",
        WORKER_CLASS,
    ]
    if burst:
        argv.append("--burst")
    if name:
        argv += ["--name", name]
    return [*argv, *(queues or QUEUES)]


@click.command()
@click.option("--host", default=None)
@click.option("--port", default=None, type=int)
@click.option("--processes", default=2, show_default=True)
@click.option("--threads", default=None, type=int)
@click.option("--dev", is_flag=True)
@click.pass_obj
def web(
    settings: Settings, host: str | None, port: int | None, processes: int, threads: int | None, dev: bool
) -> None:
    """Serve the dashboard (gunicorn; no state in process memory, so any number of processes)."""
    if threads is not None and threads != settings.web_threads:
        # the gunicorn processes build their own Settings from the environment: one pool per thread
        settings = settings.model_copy(update={"web_threads": threads})
        os.environ["GRIDCC_WEB_THREADS"] = str(threads)
    threads = settings.web_threads
    host = host or settings.host
    port = port or settings.port
    # sign-in off, or no account to sign in with: said here, on the console, and again in the server's
    # log (dashboard.wsgi logs the same notes; so does the sign-in page, for the first admin)
    from dashboard.auth.setup import startup_notes

    for note in startup_notes(settings):
        click.echo(f"gridcc web: {note}", err=True)
    redis_url, embedded = _redis_url(settings)
    os.environ["GRIDCC_REDIS_URL"] = redis_url
    # the walls' long polls each hold a thread (waiting on Redis, never on the database): gunicorn gets
    # the page threads (GRIDCC_WEB_THREADS, one pooled connection each) plus one per long-poll slot
    slots = settings.long_poll_slots
    os.environ["GRIDCC_LONG_POLL_SLOTS"] = str(slots)
    try:
        if dev:
            from dashboard.app import create_app

            app = create_app(settings.model_copy(update={"redis_url": redis_url}))
            app.run(host=host, port=port, debug=False)
            return
        argv = [
            _bin("gunicorn"),
            "--bind", f"{host}:{port}",
            "--workers", str(processes),
            "--threads", str(threads + slots),
            "--worker-class", "gthread",
            "--timeout", "120",
            "--graceful-timeout", "5",
            "--access-logfile", "-",
            "dashboard.wsgi:create_wsgi()",
        ]  # fmt: skip
        if embedded is None:
            os.execv(argv[0], argv)  # hand the process over to gunicorn
        import subprocess

        proc = subprocess.Popen(argv)
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        proc.wait()
    finally:
        if embedded is not None:
            embedded.stop()


@click.command()
@click.option("--burst", is_flag=True)
@click.option("--name", default=None)
@click.option(
    "--name-prefix",
    default=None,
)
@click.option("--push-only", is_flag=True)
@click.pass_obj
def worker(
    settings: Settings, burst: bool, name: str | None, name_prefix: str | None, push_only: bool
) -> None:
    """Run one ``rq worker`` on gridcc's queues (start as many as the feeds need); ``--push-only``: on
    the push queue alone, so that a push never waits for a poll to end."""
    if not settings.redis_url:
        raise _error(settings, "cli_need_redis_url")
    if name_prefix and not name:
        from workers.worker_names import forget_dead_workers, fresh_name

        name = fresh_name(name_prefix)
        forget_dead_workers(settings.redis_url, name_prefix)
    argv = _worker_argv(settings.redis_url, name, burst, queues=(PUSH_QUEUE,) if push_only else None)
    os.execv(argv[0], argv)  # the same process (pid) becomes the worker


@click.command()
@click.pass_obj
def cron(settings: Settings) -> None:
    """Run ``rq cron`` with one registration per enabled feed (run exactly one of these)."""
    if not settings.redis_url:
        raise _error(settings, "cli_need_redis_url")
    argv = [_bin("rq"), "cron", *_rq_connection(settings.redis_url), "workers.cron_config"]
    os.execv(argv[0], argv)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _wait_http(url: str, timeout: float, alive: Child) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive.alive():
            return False
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    return False


def prepare_database(settings: Settings, echo: bool = True) -> None:
    """Migrate, seed the catalogue, generate the default district when the database has no units and
    seed a synthetic risk ledger when it has no risks."""
    from sqlalchemy import func, select

    from data.geo.generate import ensure_default
    from data.models import Risk, utcnow
    from data.sample import demo_ledger
    from data.seed import seed_catalogue

    engine = make_engine(settings)
    migrations.upgrade(engine, phone_search_key=settings.phone_search_key_bytes())
    factory = make_sessionmaker(engine)
    with transaction(factory) as session:
        seed_catalogue(session)
    with transaction(factory) as session:
        if ensure_default(session, settings.default_district) and echo:
            click.echo(text.t("cli_demo_generated", settings.language, code=settings.default_district))
    # a ledger to show (挂图作战, 限期销号): synthetic, on the first start only
    with transaction(factory) as session:
        if session.scalar(select(func.count()).select_from(Risk)) == 0:
            n = demo_ledger(session, settings.default_district, utcnow())
            if echo:
                click.echo(text.t("cli_demo_seeded_risks", settings.language, n=n))
    engine.dispose()


@click.command()
@click.option("--faults", default="")
@click.pass_obj
def demo(settings: Settings, faults: str) -> None:
    """Start everything on the embedded defaults: database, Redis, workers, cron, simulators, web.

    Sign-in is required (unless GRIDCC_AUTH_REQUIRED says otherwise): the first start makes the accounts
    admin, leader, duty and wall, prints their passwords once (kept in <data_dir>/demo-accounts.json)
    and prints the wall's sign-in link as the URL to open. Ctrl-C or SIGTERM stops all of it; a second
    start reuses the data and the accounts in GRIDCC_DATA_DIR.
    """
    data_dir = settings.ensure_data_dir().resolve()
    settings = settings.model_copy(update={"data_dir": data_dir})
    if not _port_free(settings.host, settings.port):
        raise _error(settings, "cli_port_in_use", port=settings.port, host=settings.host)
    click.echo(text.t("cli_demo_data_in", settings.language, path=data_dir))
    prepare_database(settings)
    # sign-in is required (the default, as in production) unless GRIDCC_AUTH_REQUIRED=false; the demo
    # makes one account per role on its first start and prints them
    auth = settings.auth_required  # on unless GRIDCC_AUTH_REQUIRED=false
    base_url = f"http://{settings.host}:{settings.port}/"
    accounts = ensure_demo_accounts(settings, base_url)
    for line in accounts.lines(settings.language):
        click.echo(line)
    for line in ensure_demo_keys(settings).lines(settings.language):  # push keys (Open311, CAP, sensors)
        click.echo(line)
    logs = data_dir / "logs"
    gridcc_cmd = [sys.executable, "-m", "gridcc"]
    sup = Supervisor(dict(os.environ), echo=click.echo, lang=settings.language)
    signal.signal(signal.SIGTERM, sup.request_stop)
    signal.signal(signal.SIGINT, sup.request_stop)
    try:
        redis_url = _supervised_redis(settings, sup, logs)
        env = sup.env
        env.update(
            GRIDCC_AUTH_REQUIRED="true" if auth else "false",
            GRIDCC_DATA_DIR=str(data_dir),
            GRIDCC_DATABASE_URL=settings.effective_database_url,
            GRIDCC_REDIS_URL=redis_url,
            GRIDCC_FEEDS_FILE=str(settings.effective_feeds_file.resolve()),
            PYTHONUNBUFFERED="1",
        )
        env.update(demo_loop_secrets(data_dir))  # the departments' desks, the workers and the web share them
        feeds_file = settings.effective_feeds_file.resolve()
        feeds_file.unlink(missing_ok=True)
        sim_argv = [*gridcc_cmd, "simulators"] + (["--faults", faults] if faults else [])
        sims = sup.add(Child("simulators", sim_argv, logs / "simulators.log"))
        # the web server and the workers start while the simulators fill their history
        web_child = sup.add(Child("web", [*gridcc_cmd, "web"], logs / "web.log"))
        for i in range(settings.workers):
            argv = _fresh_worker_argv(redis_url, f"gridcc-worker-{i + 1}")
            sup.add(Child(f"worker-{i + 1}", argv, logs / f"worker-{i + 1}.log"))
        for i in range(DEMO_PUSH_WORKERS):
            argv = _fresh_worker_argv(redis_url, f"gridcc-push-worker-{i + 1}", queues=(PUSH_QUEUE,))
            sup.add(Child(f"push-worker-{i + 1}", argv, logs / f"push-worker-{i + 1}.log"))
        deadline = time.monotonic() + 120
        while not feeds_file.exists() and sims.alive() and time.monotonic() < deadline and not sup.stopping:
            time.sleep(0.2)
        if not feeds_file.exists():
            raise _error(settings, "cli_sims_not_started", log=logs / "simulators.log")
        # rq cron reads the feeds file the simulators wrote
        cron_argv = [_bin("rq"), "cron", *_rq_connection(redis_url), "workers.cron_config"]
        sup.add(Child("cron", cron_argv, logs / "cron.log"))
        if not _wait_http(base_url, 120, web_child):
            raise _error(settings, "cli_web_no_answer", log=logs / "web.log")
        # with sign-in, the URL to open is the wall's sign-in link: it lands on the wall, signed in
        url = accounts.wall_link if auth and accounts.wall_link else base_url
        lang = settings.language
        others = (
            text.t("cli_demo_others_sign_in", lang, url=accounts.signin_url)
            if auth
            else text.t("cli_demo_sign_in_off", lang)
        )
        click.echo("\n" + text.t("cli_demo_up", lang, url=url))
        click.echo(text.t("cli_demo_up_note", lang, others=others, redis=redis_url))
        sup.run_until_stopped()
        click.echo(text.t("cli_demo_stopping", settings.language))
    finally:
        sup.stop_all()
        click.echo(text.t("cli_demo_stopped", settings.language))
