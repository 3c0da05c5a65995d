"""``gridcc simulators``: the department feed simulators of the demo."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from data.db import make_engine
from data.settings import Settings
from simulators import SPECS, Config, District, NoDistrict, SimulatorSet
from simulators.faults import parse_faults


@click.command()
@click.option(
    "--port", type=int, default=None, help="First port, counting up (default: GRIDCC_SIMULATOR_PORT)."
)
@click.option(
    "--faults",
    "faults_spec",
    is_flag=False,
    flag_value="random",
    default=None,
    metavar="[NAME=MODE,...]",
    help="Make feeds misbehave: alone, at random; or NAME=MODE pairs (all=MODE for every feed). "
    "Modes: none, slow, error500, malformed, repeat, out_of_order, random.",
)
@click.option(
    "--feeds-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the feeds file (default: the settings' feeds file).",
)
@click.option(
    "--case-every",
    type=click.FloatRange(min=0.1),
    default=20.0,
    show_default=True,
    help="Mean seconds between new cases, across all departments.",
)
@click.option(
    "--speed",
    type=click.FloatRange(min=1.0),
    default=60.0,
    show_default=True,
    help="How much faster than real time live cases are handled (deadlines stay real).",
)
@click.option("--seed", type=int, default=None, help="Random seed (for a reproducible run).")
@click.pass_obj
def simulators(
    settings: Settings,
    port: int | None,
    faults_spec: str | None,
    feeds_file: Path | None,
    case_every: float,
    speed: float,
    seed: int | None,
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
        click.echo(f"error: {exc}; run `gridcc geo generate` first", err=True)
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
        click.echo(f"error: {exc}", err=True)
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
