"""The feeds file (TOML) pointing the workers at the simulators, in the agreed format."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Collection
from pathlib import Path

from .specs import SPECS, SimSpec


def feed_url(spec: SimSpec, base_url: str) -> str:
    if spec.protocol == "open311":
        return f"{base_url}/requests.{spec.fmt}"
    if spec.protocol == "cap":
        return f"{base_url}/cap/index.atom"
    return f"{base_url}/alarms.json"


def secret_env(department: str) -> str:
    """The environment variable holding a department's loop secret (the demo's convention)."""
    return "GRIDCC_LOOP_SECRET_" + department.upper()


def feeds_toml(base_urls: dict[str, str], desks: Collection[str] = ()) -> str:
    """One ``[[feed]]`` table per simulator, in the order of :data:`SPECS`; one ``[[endpoint]]`` table
    per simulator named in ``desks`` (its department's instruction desk, ``simulators.desk``)."""
    lines = [
        "# Department feeds of the gridcc demo: written by `gridcc simulators`, pointing at its",
        "# simulators on localhost. Edit freely for real feeds (see the README).",
        "",
    ]
    for spec in SPECS:
        if spec.name not in base_urls:
            continue
        lines += [
            "[[feed]]",
            f"name = {json.dumps(spec.name)}",
            f"department = {json.dumps(spec.department)}",
            f"protocol = {json.dumps(spec.protocol)}",
            f"url = {json.dumps(feed_url(spec, base_urls[spec.name]))}",
            f"interval = {spec.interval}",
            "enabled = true",
            "timeout = 10",
        ]
        if spec.protocol == "open311":
            lines.append("page_size = 200")
        lines.append("")
    seen: set[str] = set()
    for spec in SPECS:
        if spec.name not in base_urls or spec.name not in desks or spec.department in seen:
            continue
        seen.add(spec.department)
        lines += [
            "[[endpoint]]",
            f"department = {json.dumps(spec.department)}",
            f"url = {json.dumps(base_urls[spec.name] + '/loop/instructions')}",
            'signing = "signed-json"',
            f"secret_env = {json.dumps(secret_env(spec.department))}",
            "timeout = 10",
            "",
        ]
    return "\n".join(lines)


def base_urls(host: str, port_base: int) -> dict[str, str]:
    """Each simulator's base URL: one port each, counting up from ``port_base`` in SPECS order."""
    return {spec.name: f"http://{host}:{port_base + i}" for i, spec in enumerate(SPECS)}


def write_text_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_feeds_file(path: Path, host: str, port_base: int) -> None:
    """Write the feeds file for simulators on ``host`` at ports ``port_base``, ``port_base + 1``, …"""
    write_text_atomically(Path(path), feeds_toml(base_urls(host, port_base)))
