"""``gridcc feeds parse``: parse a saved feed payload offline and print the normalised records.

Registered on the ``feeds`` group by the entry point (``feeds.add_command(parse)``). Nothing is
fetched and nothing is stored: the file is read, parsed exactly as ``poll_feed`` would parse it, and
printed as JSON lines (``ensure_ascii=False``):

- stdout: one object per case or alert (times ISO-8601 UTC, geometry GeoJSON); for a CAP ATOM/RSS
  index, one ``{"index_link": …}`` per CAP document it names;
- stderr: one object per rejected record or document, with its ``reason`` (and an Open311 error
  document as ``{"feed_error": …}``); a record the poll would quarantine as unstorable
  (:mod:`workers.feeds.storable`, against the clock now) is among them.

Text that cannot be written as UTF-8 (a lone surrogate from a ``"\ud800"`` in a JSON feed) is printed
as its JSON escape, so every line stays valid JSON.

Exit status: 0 everything parsed; 1 something was rejected or the feed sent an error document;
2 the file could not be read at all.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from workers.feeds import registry, storable
from workers.feeds.parsers import parse as parse_document

EXIT_OK, EXIT_REJECTED, EXIT_UNREADABLE = 0, 1, 2


class ProtocolChoice(click.Choice[str]):
    """The registered feed protocols (:mod:`workers.feeds.registry`), as they are when it is asked."""

    def __init__(self) -> None:
        super().__init__(())

    @property
    def choices(self) -> tuple[str, ...]:
        return registry.names()

    @choices.setter
    def choices(self, _value: object) -> None:
        pass


class ProtocolOption(click.Option):
    """``--protocol``, its help naming each registered protocol with its summary: the help set on it (the
    catalogue's ``cli_help_feeds_parse__protocol``, by ``gridcc.cli.localise``) is a template whose
    ``{protocols}`` is filled when the help is shown."""

    template = "{protocols}"

    @property
    def help(self) -> str:
        lines = [f"{name}: {getattr(registry.get(name), 'summary', '')}" for name in registry.names()]
        return self.template.format(protocols="; ".join(lines))

    @help.setter
    def help(self, value: object) -> None:
        if isinstance(value, str) and "{protocols}" in value:
            self.template = value


@click.command("parse")
@click.option("--protocol", cls=ProtocolOption, required=True, type=ProtocolChoice())
@click.argument("file", type=click.Path(path_type=Path))
def parse(protocol: str, file: Path) -> None:
    """Parse a saved feed payload FILE and print its normalised records as JSON lines."""
    try:
        body = file.read_bytes()
    except OSError as exc:
        _err({"file": str(file), "reason": f"cannot read file: {exc.strerror or exc}"})
        raise SystemExit(EXIT_UNREADABLE) from None
    result = parse_document(protocol, body)
    storable.screen(result, datetime.now(UTC))
    for link in result.index_links:
        _out({"index_link": link})
    for case in result.cases:
        _out(case.to_json())
    for alert in result.alerts:
        _out(alert.to_json())
    if result.feed_error is not None:
        _err({"feed_error": result.feed_error})
    for rejection in result.rejections:
        _err(rejection.to_json())
    raise SystemExit(EXIT_REJECTED if result.rejections or result.feed_error is not None else EXIT_OK)


def _out(obj: dict[str, Any]) -> None:
    click.echo(_line(obj))


def _err(obj: dict[str, Any]) -> None:
    click.echo(_line(obj), err=True)


def _line(obj: dict[str, Any]) -> str:
    """One JSON line; a lone surrogate (only ever inside a JSON string) as its JSON escape."""
    text = json.dumps(obj, ensure_ascii=False)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")
