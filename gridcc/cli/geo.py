"""``gridcc geo``: generate, load and export the grid hierarchy."""

from __future__ import annotations

import json
from pathlib import Path

import click
import redis
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from data import migrate as migrations
from data import text
from data.db import make_engine, make_sessionmaker, transaction
from data.geo.export import export_level
from data.geo.generate import generate as generate_units
from data.geo.load import load_file
from data.geo.reference import read_districts
from data.models.places import LEVELS
from data.redis_server import connect
from data.settings import Settings
from layers import versions


def announce_units_changed(settings: Settings, layers: tuple[str, ...] = ("units",)) -> None:
    """Bump the ``units`` (or the given) layer versions if a Redis is running, so workers' locators and
    the maps reload.

    Best effort: with no Redis configured and no embedded server answering there is nothing to tell.
    """
    if settings.redis_url:
        url = settings.redis_url
    elif settings.embedded_redis_socket.exists():
        url = f"unix://{settings.embedded_redis_socket}"
    else:
        return
    try:
        conn = connect(url, socket_timeout=2)
        try:
            versions.bump(conn, list(layers))
        finally:
            conn.close()
    except redis.RedisError as exc:
        click.echo(text.t("cli_geo_redis_note", settings.language, error=exc), err=True)


@click.group()
def geo() -> None:
    """Generate, load and export the grid hierarchy."""


@geo.command("generate")
@click.option("--district", "districts", multiple=True, metavar="CODE")
@click.option("--city", is_flag=True)
@click.option("--grids-per-community", default=7, show_default=True, type=click.IntRange(1, 999))
@click.option("--seed", default=0, show_default=True, type=int)
@click.pass_obj
def generate(
    settings: Settings, districts: tuple[str, ...], city: bool, grids_per_community: int, seed: int
) -> None:
    """Build districts with synthetic street, community and grid polygons (default: GRIDCC_DEFAULT_DISTRICT).

    Real outlines, names and codes; generated boundaries and grid staff. Replaces what the districts held.
    """
    if city and districts:
        raise click.UsageError("give --district or --city, not both")
    known = list(read_districts()["code"])
    codes = known if city else list(districts or [settings.default_district])
    unknown = sorted(set(codes) - set(known))
    if unknown:
        raise click.BadParameter(f"not a Chongqing district: {', '.join(unknown)}", param_hint="--district")
    engine = make_engine(settings)
    migrations.upgrade(engine)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("communities"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, transient=False) as bar:
        task = bar.add_task("generating", total=None)

        def progress(done: int, total: int, label: str) -> None:
            bar.update(task, completed=done, total=total, description=label or "writing")

        try:
            with transaction(make_sessionmaker(engine)) as session:
                stats = generate_units(session, codes, grids_per_community, seed, progress)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
    counts = {k: getattr(stats, k) for k in ("districts", "streets", "communities", "grids", "staff")}
    click.echo(text.t("cli_geo_generated", settings.language, seconds=f"{stats.seconds:.1f}", **counts))
    announce_units_changed(settings)
    if stats.skipped_communities:
        click.echo(text.t("cli_geo_skipped", settings.language, n=stats.skipped_communities), err=True)


@geo.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=True, path_type=Path))
@click.option("--level", required=True, type=click.Choice(LEVELS))
@click.pass_obj
def load(settings: Settings, file: Path, level: str) -> None:
    """Import your own units of one level (GeoJSON, GeoPackage, Shapefile): all rows or none.

    Needs columns code and name (parent_code optional) and a declared CRS. Exit status 1 when any row is bad.
    """
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with transaction(make_sessionmaker(engine)) as session:
        report = load_file(session, file, level)
    for line in report.lines(settings.language):
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
    announce_units_changed(settings)


@geo.command("export")
@click.option("--level", required=True, type=click.Choice(LEVELS))
@click.option("--district", default=None, metavar="CODE")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True))
@click.pass_obj
def export(settings: Settings, level: str, district: str | None, output: str) -> None:
    """Write one level as GeoJSON (properties code, name, level, parent_code); -o - for stdout."""
    engine = make_engine(settings)
    migrations.upgrade(engine)
    with make_sessionmaker(engine)() as session:
        collection = export_level(session, level, district)
    body = json.dumps(collection, ensure_ascii=False)
    if output == "-":
        click.echo(body)
    else:
        Path(output).write_text(body, encoding="utf-8")
        n, word = len(collection["features"]), text.label("level", level, settings.language)
        click.echo(text.t("cli_geo_written", settings.language, n=n, level=word, output=output), err=True)
