"""The demo's push keys: one per department feed of the simulators and one for a demo reporting app,
made on the first start of ``gridcc demo``, printed once and kept in ``<data_dir>/demo-keys.json``
(mode 600, ``{"<key name>": "<key>"}``; a department feed's key is named after the feed — its
department's code, but for ``sensors``, the 应急管理局's alarms — and the app's after the app), as the
demo accounts are (:mod:`.demo_accounts`). A later start makes only the keys missing from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from data import text
from data.db import make_engine, make_sessionmaker, transaction
from data.push.keys import create_key, get_key
from data.settings import Settings

from .demo_accounts import _read, _write

FILE_NAME = "demo-keys.json"
ACTOR = "demo"
DEMO_APP = "demo_app"  # a citizen-reporting app (随手拍), filing into the 12345 hotline's feed
DEMO_APP_FEED = "hotline12345"


@dataclass
class DemoKeys:
    path: Path
    keys: dict[str, str] = field(default_factory=dict)
    feeds: dict[str, str] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)

    def lines(self, lang: str = text.DEFAULT) -> list[str]:
        if not self.created:
            return [text.t("push_demo_exist", lang, path=self.path)]
        out = [text.t("push_demo_made", lang, path=self.path)]
        for name in self.created:
            out.append(text.t("push_demo_line", lang, name=f"{name:<18}", feed=f"{self.feeds[name]:<18}",
                              token=self.keys[name]))  # fmt: skip
        return out


def plan() -> list[tuple[str, str, str, str, str]]:
    """(key name, kind, owner, feed, protocol) of the demo's keys."""
    from simulators import SPECS

    keys = [(s.name, "department", s.department, s.name, s.protocol) for s in SPECS]
    return [*keys, (DEMO_APP, "app", DEMO_APP, DEMO_APP_FEED, "open311")]


def ensure_demo_keys(settings: Settings) -> DemoKeys:
    """Make the keys that do not exist yet and write the file (the new ones with the stored ones)."""
    path = (settings.ensure_data_dir() / FILE_NAME).resolve()
    stored = {k: v for k, v in _read(path).items() if isinstance(v, str)}
    result = DemoKeys(path=path)
    engine = make_engine(settings)
    try:
        with transaction(make_sessionmaker(engine)) as session:
            for name, kind, owner, feed, protocol in plan():
                result.feeds[name] = feed
                if get_key(session, name) is not None:
                    if name in stored:
                        result.keys[name] = stored[name]
                    continue
                made = create_key(session, name, kind, owner, feed, (protocol,), actor=ACTOR)
                result.keys[name] = made.token
                result.created.append(name)
    finally:
        engine.dispose()
    _write(path, dict(result.keys))
    return result
