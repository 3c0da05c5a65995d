"""``gridcc simulators``: the department feed simulators of the demo."""

from __future__ import annotations

import json
import logging
import os
import secrets
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from data import text
from data.db import make_engine
from data.settings import Settings
from simulators import SPECS, Config, District, NoDistrict, SimulatorSet
from simulators.faults import parse_faults
from simulators.feedsfile import secret_env


def loop_secrets_from_env() -> dict[str, str]:
    """Each simulated department's loop secret, from ``GRIDCC_LOOP_SECRET_<DEPARTMENT>`` when set: those
    departments get an instruction desk that answers gridcc's instructions."""
    found = {spec.department: os.environ.get(secret_env(spec.department), "") for spec in SPECS}
    return {code: secret for code, secret in found.items() if secret}


def demo_loop_secrets(data_dir: Path) -> dict[str, str]:
    """The demo's loop secrets as environment variables (made once, kept in ``<data_dir>/loop-secrets.json``
    readable only by you), so that the simulators' desks, the workers and the web server share them."""
    path = data_dir / "loop-secrets.json"
    known: dict[str, str] = {}
    if path.exists():
        known = json.loads(path.read_text(encoding="utf-8"))
    wanted = {secret_env(spec.department) for spec in SPECS}
    if not wanted <= set(known):
        known = {name: known.get(name) or secrets.token_urlsafe(32) for name in sorted(wanted)}
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(known, fh, indent=1)
    return known


@click.command()
@click.option("--port", type=int, default=None)
@click.option(
    "--faults",
    "faults_spec",
    is_flag=False,
    flag_value="random",
    default=None,
    metavar="[NAME=MODE,...]",
)
@click.option(
    "--feeds-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
)
@click.option(
    "--case-every",
    type=click.FloatRange(min=0.1),
    default=20.0,
    show_default=True,
)
@click.option(
    "--speed",
    type=click.FloatRange(min=1.0),
    default=60.0,
    show_default=True,
)
@click.option("--seed", type=int, default=None)
@click.option(
    "--answer-url",
    default=None,
)
@click.option(
    "--answer-scale",
    type=click.FloatRange(min=0.0001, max=1.0),
    default=0.05,
    show_default=True,
)
@click.pass_obj
def simulators(
    settings: Settings,
    port: int | None,
    faults_spec: str | None,
    feeds_file: Path | None,
    case_every: float,
    speed: float,
    seed: int | None,
    answer_url: str | None,
    answer_scale: float,
) -> None:
    """Serve the department feed simulators on 127.0.0.1 until SIGTERM or Ctrl-C.

    Writes the feeds file pointing at them before saying it is ready. Needs the district's units in
    the database (`gridcc geo generate`).
    """
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        faults = parse_faults(faults_spec, [s.name for s in SPECS])
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--faults") from None
    settings.ensure_data_dir()
    engine = make_engine(settings)
    try:
        district = District.load(engine, settings.default_district)
    except NoDistrict as exc:
        click.echo(text.t("cli_sim_no_district", settings.language, error=exc), err=True)
        sys.exit(1)
    finally:
        engine.dispose()
    config = Config(
        state_path=settings.data_dir / "simulators.sqlite",
        port_base=settings.simulator_port if port is None else port,
        faults=faults,
        case_every=case_every,
        speed=speed,
        seed=seed,
        timezone=settings.timezone,
        loop_secrets=loop_secrets_from_env(),
        answer_url=answer_url or f"http://{settings.host}:{settings.port}/api/loop/answers",
        answer_scale=answer_scale,
    )
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    sims = SimulatorSet(district, config)
    try:
        sims.start()
    except OSError as exc:
        click.echo(text.t("cli_error", settings.language, error=exc), err=True)
        sys.exit(1)
    try:
        path = feeds_file or settings.effective_feeds_file
        sims.write_feeds_file(path)
        for spec in SPECS:
            mode = faults.get(spec.name, "none")
            click.echo(
                f"{spec.name:<18} {spec.protocol:<8} {sims.urls[spec.name]}"
                + (f"  faults={mode}" if mode != "none" else "")
            )
        click.echo(f"simulators ready: {len(sims.urls)} feeds, feeds file {path}", nl=True)
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        sims.stop()
    click.echo("simulators stopped")
